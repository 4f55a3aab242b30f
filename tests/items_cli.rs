//! `clearway items`: wiring, formats and exit codes on a fresh SQLite store. The rows
//! themselves are tested in `settlement/tests/store.rs` (`ItemRow::csv_line`), where the
//! ingest that fills the store runs.

mod common;

use common::clearway;

#[test]
fn items_on_an_empty_store() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}?mode=rwc", dir.path().join("c.db").display());
    let out = clearway()
        .args(["items"])
        .env("DATABASE_URL", &url)
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "event_id,payment_id,bank,state,amount,currency,message_ids,updated_at\n"
    );
    let out = clearway()
        .args(["items", "--state", "settled", "--format", "json"])
        .env("DATABASE_URL", &url)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(String::from_utf8_lossy(&out.stdout), "[]\n");
}

#[test]
fn items_default_store_and_errors() {
    // Without DATABASE_URL: clearway.db in the current directory.
    let dir = tempfile::tempdir().unwrap();
    let out = clearway()
        .args(["items"])
        .env_remove("DATABASE_URL")
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(dir.path().join("clearway.db").is_file());
    // An unknown state is a usage error.
    let out = clearway()
        .args(["items", "--state", "paid"])
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    // A URL that names no database we know: the system, not the input, exit 1.
    let out = clearway()
        .args(["items"])
        .env("DATABASE_URL", "mysql://nowhere/x")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("expected sqlite://"));
}
