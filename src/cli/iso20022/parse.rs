//! `clearway iso20022 parse FILE [--json]`: the detected type, version and envelope, and the
//! typed content.

use std::path::PathBuf;

use serde::Serialize;

use crate::cli::Outcome;

/// Arguments of `clearway iso20022 parse`.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// The message file (XML, UTF-8).
    file: PathBuf,
    /// Print JSON instead of text.
    #[arg(long)]
    json: bool,
}

#[derive(Serialize)]
struct Parsed<'a> {
    message_type: &'a str,
    version: &'a str,
    envelope: &'a str,
    header: Option<&'a iso20022::wire::Header>,
    document: &'a iso20022::wire::Body,
}

pub(crate) fn run(args: Args) -> anyhow::Result<Outcome> {
    let message = super::roundtrip::read_message(&args.file)?;
    let v = message.document.version;
    let parsed = Parsed {
        message_type: v.message_type(),
        version: v.id(),
        envelope: message.envelope.kind.name(),
        header: message.header.as_ref(),
        document: &message.document.body,
    };
    if args.json {
        outln!("{}", serde_json::to_string_pretty(&parsed)?)?;
    } else {
        outln!("type: {}", parsed.message_type)?;
        outln!("version: {}", parsed.version)?;
        outln!("envelope: {}", parsed.envelope)?;
        if let Some(h) = &message.header {
            outln!("header: {}", h.version.id())?;
        }
        outln!("{}", serde_json::to_string_pretty(parsed.document)?)?;
    }
    Ok(Outcome::Clean)
}
