//! The ISO 20022 status code table (`adapters/data/iso20022_status.toml`): which
//! `clearway.status.v1` status each bank code means, per message. Loaded and checked once; a
//! code missing from the table is refused by the caller, never guessed.

use std::sync::OnceLock;

use serde::Deserialize;

use crate::status::Status;

/// The shipped table's text.
pub const ISO20022_STATUS_TOML: &str = include_str!("../../data/iso20022_status.toml");

/// The messages whose codes the table maps.
pub const MESSAGES: [&str; 3] = ["pacs.002", "camt.029", "camt.054"];

/// One row: a code in one message and the status it means.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Row {
    /// The message type without version (`pacs.002`).
    pub message: String,
    /// The ISO code (`ACSC`).
    pub code: String,
    /// What it means for Clearway.
    pub status: Status,
    /// What the standard says, in a few words.
    pub meaning: String,
    /// The code set it comes from.
    pub source: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    code: Vec<Row>,
}

/// A checked table.
#[derive(Debug, Clone)]
pub struct Codes {
    rows: Vec<Row>,
}

/// What is wrong with the table: the row and the problem.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("iso20022_status.toml: {0}")]
pub struct CodesError(pub String);

impl Codes {
    /// Parses and checks a table: known messages, four-character codes, no duplicates, and no
    /// card status (`approved`, `declined`) for an ISO code.
    pub fn from_toml(text: &str) -> Result<Codes, CodesError> {
        let file: File = toml::from_str(text).map_err(|e| CodesError(e.to_string()))?;
        let mut problems = Vec::new();
        for (i, row) in file.code.iter().enumerate() {
            let at = format!("code[{i}] ({} {})", row.message, row.code);
            if !MESSAGES.contains(&row.message.as_str()) {
                problems.push(format!(
                    "{at}: message must be one of {}",
                    MESSAGES.join(", ")
                ));
            }
            if row.code.len() != 4 || !row.code.bytes().all(|b| b.is_ascii_uppercase()) {
                problems.push(format!("{at}: a code is four capital letters"));
            }
            if matches!(row.status, Status::Approved | Status::Declined) {
                problems.push(format!("{at}: approved/declined are card outcomes (DE 39)"));
            }
            let first = file
                .code
                .iter()
                .position(|r| r.message == row.message && r.code == row.code);
            if first != Some(i) {
                problems.push(format!("{at}: duplicate"));
            }
        }
        if problems.is_empty() {
            Ok(Codes { rows: file.code })
        } else {
            Err(CodesError(problems.join("; ")))
        }
    }

    /// The shipped table. It is checked by a test, so a broken file fails `cargo test`; should
    /// it fail here anyway, the table is empty and every code is reported as unmapped.
    pub fn shipped() -> &'static Codes {
        static CODES: OnceLock<Codes> = OnceLock::new();
        CODES.get_or_init(|| {
            Codes::from_toml(ISO20022_STATUS_TOML).unwrap_or(Codes { rows: Vec::new() })
        })
    }

    /// The row for `code` in `message` (`pacs.002`), if mapped.
    pub fn lookup(&self, message: &str, code: &str) -> Option<&Row> {
        self.rows
            .iter()
            .find(|r| r.message == message && r.code == code)
    }

    /// The codes mapped for `message`, in table order.
    pub fn codes_of(&self, message: &str) -> Vec<&str> {
        self.rows
            .iter()
            .filter(|r| r.message == message)
            .map(|r| r.code.as_str())
            .collect()
    }

    /// Every row.
    pub fn rows(&self) -> &[Row] {
        &self.rows
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_shipped_table_loads() {
        let codes = Codes::from_toml(ISO20022_STATUS_TOML).unwrap();
        assert_eq!(
            codes.lookup("pacs.002", "ACSC").map(|r| r.status),
            Some(Status::Settled)
        );
        assert_eq!(
            codes.lookup("camt.029", "RJCR").map(|r| r.status),
            Some(Status::CancellationRejected)
        );
        assert!(codes.lookup("camt.054", "INFO").is_none());
    }

    #[test]
    fn bad_rows_are_named() {
        let text = r#"
[[code]]
message = "pacs.002"
code = "ACSC"
status = "approved"
meaning = "m"
source = "s"
[[code]]
message = "pacs.002"
code = "ACSC"
status = "settled"
meaning = "m"
source = "s"
[[code]]
message = "pacs.009"
code = "acsc"
status = "settled"
meaning = "m"
source = "s"
"#;
        let e = Codes::from_toml(text).unwrap_err().to_string();
        for part in [
            "code[0] (pacs.002 ACSC): approved/declined",
            "code[1] (pacs.002 ACSC): duplicate",
            "code[2] (pacs.009 acsc): message",
            "four capital letters",
        ] {
            assert!(e.contains(part), "{part} missing from {e}");
        }
        assert!(Codes::from_toml("[[code]]\nmessage = 1").is_err());
    }
}
