//! `clearway emv …`: EMV chip data (BER-TLV, as carried in ISO 8583 field 55).

use super::{Outcome, parse_hex, refused};

/// Arguments of `clearway emv`.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, clap::Subcommand)]
enum Command {
    /// Prints the TLV tree: tag, name, length, value, decoded value, children. Card data
    /// (PAN, track data) is masked unless --show-pan.
    Decode(DecodeArgs),
}

#[derive(Debug, clap::Args)]
struct DecodeArgs {
    /// The chip data in hex (whitespace ignored).
    #[arg(long)]
    hex: String,
    /// Print JSON: `{"tlvs": [{"tag", "name", "len", "offset", "value", "decoded", "children"}]}`.
    #[arg(long)]
    json: bool,
    /// Print PAN and track data in the clear.
    #[arg(long)]
    show_pan: bool,
}

pub(crate) fn run(args: Args) -> anyhow::Result<Outcome> {
    match args.command {
        Command::Decode(args) => decode(args),
    }
}

/// `clearway emv decode --hex HEX [--json] [--show-pan]`
fn decode(args: DecodeArgs) -> anyhow::Result<Outcome> {
    emv::tlv::dictionary::Dictionary::try_shipped()?;
    let bytes = parse_hex(&args.hex)?;
    // The error names tags and offsets only, never value bytes: safe to print as is.
    let nodes =
        emv::tlv::describe::tree(&bytes, args.show_pan).map_err(|e| refused(e.to_string()))?;
    if args.json {
        // A struct, not `json!`, so that each node keeps its field order (tag, name, len, …).
        #[derive(serde::Serialize)]
        struct Output<'a> {
            tlvs: &'a [emv::tlv::describe::Node],
        }
        outln!(
            "{}",
            serde_json::to_string_pretty(&Output { tlvs: &nodes })?
        )?;
    } else {
        out!("{}", emv::tlv::describe::to_text(&nodes))?;
    }
    Ok(Outcome::Clean)
}
