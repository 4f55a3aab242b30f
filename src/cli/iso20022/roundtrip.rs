//! `clearway iso20022 roundtrip FILE`: parse a message into its typed model and write it back,
//! canonically, in the envelope it came in.

use std::io::Write as _;
use std::path::PathBuf;

use crate::cli::{Outcome, refused};

/// Arguments of `clearway iso20022 roundtrip`.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// The message file (XML, UTF-8).
    file: PathBuf,
}

/// Reads FILE and parses it, refusing (exit 3) input that is not a supported message.
pub(crate) fn read_message(file: &std::path::Path) -> anyhow::Result<iso20022::Message> {
    let bytes = std::fs::read(file).map_err(|e| anyhow::anyhow!("{}: {e}", file.display()))?;
    let text = std::str::from_utf8(&bytes).map_err(|e| {
        refused(format!(
            "{}: at byte {}: not UTF-8",
            file.display(),
            e.valid_up_to()
        ))
    })?;
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    iso20022::read(text).map_err(|e| refused(format!("{}: {e}", file.display())))
}

pub(crate) fn run(args: Args) -> anyhow::Result<Outcome> {
    let message = read_message(&args.file)?;
    let out = iso20022::write(&message);
    std::io::stdout().lock().write_all(out.as_bytes())?;
    Ok(Outcome::Clean)
}
