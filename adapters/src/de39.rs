//! The DE 39 table (`adapters/data/de39.toml`): ISO 8583 response codes, whether each approves,
//! and the ISO 20022 `ExternalStatusReason1Code` it maps to and back, with the source of each
//! row. Unmapped codes are rows with `unmapped = true`; a code missing from the table is
//! reported as unknown, never guessed.

use std::sync::OnceLock;

use serde::Deserialize;

/// The shipped table's text.
pub const DE39_TOML: &str = include_str!("../data/de39.toml");

/// Approved or declined.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Outcome {
    /// The transaction went through.
    Approved,
    /// It did not.
    Declined,
}

/// Which way a mapping may be used.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Direction {
    /// DE 39 → ISO and ISO → DE 39.
    Both,
    /// DE 39 → ISO only (another row is the way back).
    ToIso,
}

/// One row of the table.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Row {
    /// The two-character DE 39 code.
    pub de39: String,
    /// What ISO 8583 says it means.
    pub meaning: String,
    /// Approved or declined.
    pub outcome: Outcome,
    /// The ExternalStatusReason1Code, when one says the same thing.
    #[serde(default)]
    pub iso: Option<String>,
    /// Which way the mapping may be used.
    #[serde(default)]
    pub direction: Option<Direction>,
    /// True when no ISO code says the same thing.
    #[serde(default)]
    pub unmapped: bool,
    /// Where the row comes from.
    pub source: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    code: Vec<Row>,
}

/// A checked table.
#[derive(Debug, Clone)]
pub struct Table {
    rows: Vec<Row>,
}

/// What is wrong with a table: the row and the problem.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("de39.toml: {0}")]
pub struct TableError(pub String);

impl Table {
    /// Parses and checks a table: two-character codes, no duplicates, each row either mapped
    /// (with a direction) or `unmapped = true`, and exactly one `both` row per ISO code.
    pub fn from_toml(text: &str) -> Result<Table, TableError> {
        let file: File = toml::from_str(text).map_err(|e| TableError(e.to_string()))?;
        let mut problems = Vec::new();
        for (i, row) in file.code.iter().enumerate() {
            let at = format!("code[{i}] ({})", row.de39);
            if row.de39.len() != 2 || !row.de39.bytes().all(|b| b.is_ascii_alphanumeric()) {
                problems.push(format!("{at}: de39 is two letters or digits"));
            }
            if file.code.iter().filter(|r| r.de39 == row.de39).count() > 1 {
                problems.push(format!("{at}: duplicate"));
            }
            match (&row.iso, row.direction, row.unmapped) {
                (Some(iso), Some(_), false) => {
                    let ok = iso.len() == 4 && iso.bytes().all(|b| b.is_ascii_alphanumeric());
                    if !ok {
                        problems.push(format!("{at}: iso is a 4-character code"));
                    }
                    let both = file
                        .code
                        .iter()
                        .filter(|r| r.iso == row.iso && r.direction == Some(Direction::Both))
                        .count();
                    if both != 1 {
                        problems.push(format!("{at}: {iso} needs exactly one `both` row"));
                    }
                }
                (None, None, true) => {}
                _ => problems.push(format!(
                    "{at}: give `iso` and `direction`, or `unmapped = true`, not both"
                )),
            }
            if row.source.trim().is_empty() {
                problems.push(format!("{at}: source is required"));
            }
        }
        if problems.is_empty() {
            Ok(Table { rows: file.code })
        } else {
            Err(TableError(problems.join("; ")))
        }
    }

    /// The shipped table (checked by a test, so the fallback to empty never happens in use).
    pub fn shipped() -> &'static Table {
        static TABLE: OnceLock<Table> = OnceLock::new();
        TABLE.get_or_init(|| Table::from_toml(DE39_TOML).unwrap_or(Table { rows: Vec::new() }))
    }

    /// The row of a DE 39 code.
    pub fn lookup(&self, de39: &str) -> Option<&Row> {
        self.rows.iter().find(|r| r.de39 == de39)
    }

    /// The DE 39 code an ISO reason maps back to (the `both` row), if any.
    pub fn from_iso(&self, iso: &str) -> Option<&Row> {
        self.rows
            .iter()
            .find(|r| r.iso.as_deref() == Some(iso) && r.direction == Some(Direction::Both))
    }

    /// Every row, in file order.
    pub fn rows(&self) -> &[Row] {
        &self.rows
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shipped_table_loads_and_maps_both_ways() {
        let table = Table::from_toml(DE39_TOML).unwrap();
        assert_eq!(table.lookup("51").unwrap().iso.as_deref(), Some("AM04"));
        assert_eq!(table.lookup("57").unwrap().iso.as_deref(), Some("AG01"));
        assert_eq!(table.lookup("00").unwrap().outcome, Outcome::Approved);
        assert!(table.lookup("54").unwrap().unmapped);
        assert!(table.lookup("ZZ").is_none());
        assert_eq!(table.from_iso("AM04").unwrap().de39, "51");
        assert_eq!(table.from_iso("AC06").unwrap().de39, "62");
        assert!(table.from_iso("NARR").is_none());
        for row in table.rows() {
            if let Some(iso) = &row.iso {
                // every mapped code comes back to a row with the same ISO code
                assert_eq!(table.from_iso(iso).unwrap().iso.as_ref(), Some(iso));
            }
        }
    }

    #[test]
    fn guessing_is_refused() {
        let e = Table::from_toml(
            "[[code]]\nde39 = \"51\"\nmeaning = \"m\"\noutcome = \"declined\"\nsource = \"s\"\n",
        )
        .unwrap_err();
        assert!(e.0.contains("unmapped"), "{e}");
    }
}
