//! The journal: one JSON line per message received,
//! `{"seq", "message_id", "message_type", "queue", "duplicate", "at"}`.
//!
//! A bank dedupes by `message_id`: a message whose id was seen before is journaled with
//! `duplicate: true` and not answered again. Reopening a journal after a restart rebuilds the
//! set of seen ids and continues the sequence, so a redelivery after a crash is still a
//! duplicate. A last line cut short by a crash (no newline) is dropped when reopening, as that
//! message was never acknowledged and will be delivered again; any other unreadable line is an
//! error naming the line.
//!
//! No card data: message types are MTIs or ISO 20022 ids, and a card-number-like digit run in a
//! `message_id` (13 to 19 digits passing the Luhn check) is masked before it is written.

use std::collections::HashSet;
use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::SimError;

/// One journal line.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct JournalEntry {
    /// 1, 2, 3, … across restarts.
    pub seq: u64,
    /// The AMQP `message_id` (card-number-like digits masked).
    pub message_id: String,
    /// `0100`, `pacs.008.001.08`, `unreadable`, …
    pub message_type: String,
    /// The queue it came from.
    pub queue: String,
    /// Seen before: journaled, not answered.
    pub duplicate: bool,
    /// When it was received (the simulated clock, RFC 3339).
    pub at: String,
}

/// The journal, in a file or in memory.
#[derive(Debug)]
pub struct Journal {
    file: Option<(PathBuf, File)>,
    seq: u64,
    seen: HashSet<String>,
    lines: Vec<JournalEntry>,
}

impl Journal {
    /// A journal kept in memory only (tests, dry runs).
    pub fn in_memory() -> Journal {
        Journal {
            file: None,
            seq: 0,
            seen: HashSet::new(),
            lines: Vec::new(),
        }
    }

    /// Opens (or creates) the journal at `path` and rebuilds its state from what it holds.
    pub fn open(path: &Path) -> Result<Journal, SimError> {
        let fail = |problem: String| SimError::Io {
            path: path.display().to_string(),
            problem,
        };
        let text = match std::fs::read(path) {
            Ok(bytes) => bytes,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Vec::new(),
            Err(e) => return Err(fail(e.to_string())),
        };
        // Keep whole lines only: a torn last line is cut away.
        let whole = text
            .iter()
            .rposition(|b| *b == b'\n')
            .map_or(0, |last| last + 1);
        let mut journal = Journal::in_memory();
        let body = text.get(..whole).unwrap_or_default();
        for (i, line) in body.split(|b| *b == b'\n').enumerate() {
            if line.is_empty() {
                continue;
            }
            let entry: JournalEntry =
                serde_json::from_slice(line).map_err(|e| fail(format!("line {}: {e}", i + 1)))?;
            journal.seq = journal.seq.max(entry.seq);
            journal.seen.insert(entry.message_id.clone());
            journal.lines.push(entry);
        }
        let file = OpenOptions::new()
            .create(true)
            .write(true)
            .truncate(false)
            .open(path)
            .map_err(|e| fail(e.to_string()))?;
        file.set_len(whole as u64)
            .map_err(|e| fail(e.to_string()))?;
        let mut file = file;
        use std::io::Seek;
        file.seek(std::io::SeekFrom::End(0))
            .map_err(|e| fail(e.to_string()))?;
        journal.file = Some((path.to_owned(), file));
        Ok(journal)
    }

    /// Records one message received; `duplicate` says whether its id was seen before.
    pub fn record(
        &mut self,
        message_id: &str,
        message_type: &str,
        queue: &str,
        at: &str,
    ) -> Result<JournalEntry, SimError> {
        let message_id = mask_card_numbers(message_id);
        let duplicate = !self.seen.insert(message_id.clone());
        self.seq += 1;
        let entry = JournalEntry {
            seq: self.seq,
            message_id,
            message_type: mask_card_numbers(message_type),
            queue: queue.to_owned(),
            duplicate,
            at: at.to_owned(),
        };
        if let Some((path, file)) = &mut self.file {
            let mut line = serde_json::to_vec(&entry).map_err(|e| SimError::Io {
                path: path.display().to_string(),
                problem: e.to_string(),
            })?;
            line.push(b'\n');
            file.write_all(&line).map_err(|e| SimError::Io {
                path: path.display().to_string(),
                problem: e.to_string(),
            })?;
        }
        self.lines.push(entry.clone());
        Ok(entry)
    }

    /// Every line, oldest first (including those read when reopened).
    pub fn entries(&self) -> &[JournalEntry] {
        &self.lines
    }

    /// Whether `message_id` was received before.
    pub fn seen(&self, message_id: &str) -> bool {
        self.seen.contains(&mask_card_numbers(message_id))
    }
}

/// Masks every run of 13 to 19 digits that passes the Luhn check (a card number) as
/// `emv::card::mask_pan` does; everything else is kept.
pub fn mask_card_numbers(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut run = String::new();
    let flush = |run: &mut String, out: &mut String| {
        if (13..=19).contains(&run.len()) && emv::card::luhn_valid(run) {
            out.push_str(&emv::card::mask_pan(run));
        } else {
            out.push_str(run);
        }
        run.clear();
    };
    for c in text.chars() {
        if c.is_ascii_digit() {
            run.push(c);
        } else {
            flush(&mut run, &mut out);
            out.push(c);
        }
    }
    flush(&mut run, &mut out);
    out
}
