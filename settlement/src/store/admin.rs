//! Creating and dropping a whole PostgreSQL database, for tools that want a fresh store per run
//! (`clearway demo --database-url postgres://…`). Not used by the service: it opens the
//! database it is given and never creates one.

use sqlx::AnyPool;

use super::Error;

/// Whether `name` is safe to splice into `CREATE DATABASE` (lower-case letters, digits and `_`,
/// starting with a letter, at most 63 bytes: PostgreSQL's identifier limit).
fn plain_identifier(name: &str) -> bool {
    name.len() <= 63
        && name.starts_with(|c: char| c.is_ascii_lowercase())
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
}

/// The URL of database `name` on the server of `server_url` (its path replaced, its query kept).
pub fn database_url_on(server_url: &str, name: &str) -> Result<String, Error> {
    let (base, query) = match server_url.split_once('?') {
        Some((b, q)) => (b, Some(q)),
        None => (server_url, None),
    };
    let Some(rest) = base
        .strip_prefix("postgres://")
        .or_else(|| base.strip_prefix("postgresql://"))
    else {
        return Err(Error::Url(server_url.to_owned()));
    };
    let scheme_len = base.len() - rest.len();
    let authority = rest.split('/').next().unwrap_or(rest);
    let mut url = format!("{}{authority}/{name}", &base[..scheme_len]);
    if let Some(q) = query {
        url.push('?');
        url.push_str(q);
    }
    Ok(url)
}

/// Drops (if it exists) and creates database `name` on the server of `server_url`, through a
/// connection to the database `server_url` names; returns the new database's URL. The role
/// needs `CREATEDB`.
pub async fn create_database(server_url: &str, name: &str) -> Result<String, Error> {
    if !plain_identifier(name) {
        return Err(Error::Url(format!("database name {name:?}")));
    }
    let url = database_url_on(server_url, name)?;
    sqlx::any::install_default_drivers();
    let admin = AnyPool::connect(server_url).await?;
    let created = async {
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "DROP DATABASE IF EXISTS {name} WITH (FORCE)"
        )))
        .execute(&admin)
        .await?;
        sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
            .execute(&admin)
            .await
    }
    .await;
    admin.close().await;
    created?;
    Ok(url)
}

/// Drops database `name` on the server of `server_url` (closing its sessions).
pub async fn drop_database(server_url: &str, name: &str) -> Result<(), Error> {
    if !plain_identifier(name) {
        return Err(Error::Url(format!("database name {name:?}")));
    }
    sqlx::any::install_default_drivers();
    let admin = AnyPool::connect(server_url).await?;
    let dropped = sqlx::query(sqlx::AssertSqlSafe(format!(
        "DROP DATABASE IF EXISTS {name} WITH (FORCE)"
    )))
    .execute(&admin)
    .await;
    admin.close().await;
    dropped?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_database_is_swapped_and_the_rest_kept() {
        let url = database_url_on("postgres://u:p@h:5432/clearway?sslmode=disable", "x_1");
        assert_eq!(url.unwrap(), "postgres://u:p@h:5432/x_1?sslmode=disable");
        let url = database_url_on("postgresql://h", "x").unwrap();
        assert_eq!(url, "postgresql://h/x");
        assert!(database_url_on("sqlite://a.db", "x").is_err());
        assert!(!plain_identifier("x; DROP TABLE y"));
        assert!(!plain_identifier("1x"));
        assert!(plain_identifier("clearway_demo_1_42"));
    }
}
