//! Argument parsing, exit codes and the few helpers every command shares. One module per
//! command family; each owns its `Args` and its `run`.

use std::fmt;

use clap::{Parser, Subcommand};

/// `print!` that hands a failed write back instead of panicking: when the reader stops early
/// (`clearway … | head`), the command ends with the broken pipe and `main` exits quietly.
macro_rules! out {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        write!(std::io::stdout().lock(), $($arg)*)
    }};
}

/// `println!` that hands a failed write back instead of panicking (see `out!`).
macro_rules! outln {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        writeln!(std::io::stdout().lock(), $($arg)*)
    }};
}

mod adapt;
mod bank_sim;
mod demo;
pub(crate) mod emv;
mod generate_events;
pub(crate) mod iso20022;
pub(crate) mod iso8583;
mod items;
mod publish;
mod run;
mod status;

/// Clearway: translates wallet events into ISO 20022 and ISO 8583 messages, drives clearing with
/// banks and reconciles the ledger against their statements.
#[derive(Debug, Parser)]
#[command(name = "clearway", version, about, propagate_version = true)]
pub(crate) struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// ISO 8583 messages: decode, encode, list the shipped dialects.
    Iso8583(iso8583::Args),
    /// EMV chip data (BER-TLV, as carried in ISO 8583 field 55).
    Emv(emv::Args),
    /// ISO 20022 messages: validate, parse, roundtrip, generate.
    Iso20022(iso20022::Args),
    /// Wallet events to bank messages per profile, bank answers to status events.
    Adapt(adapt::Args),
    /// Seeded test data: wallet event streams with duplicates and conflicts.
    Generate(generate_events::Args),
    /// Wallet events (JSON lines) to the events exchange, with publisher confirms.
    Publish(publish::Args),
    /// Clearing items in the settlement store ($DATABASE_URL, default ./clearway.db).
    Items(items::Args),
    /// A simulated bank on RabbitMQ: answers the profile's outbound queue on its inbound one.
    BankSim(bank_sim::Args),
    /// The service: consumers, outbox relay, metrics; stops cleanly on SIGTERM.
    Run(run::Args),
    /// Queue depths, inbox, outbox pending, dead letters and items by state.
    Status(status::Args),
    /// The end-to-end clearing demo: service, bank simulators, events, and the lost/doubled check.
    Demo(demo::Args),
}

/// What a command that ran to its end found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Outcome {
    /// Everything was fine: exit 0.
    Clean,
    /// The command ran and reported invalid input on stdout (e.g. `validate`): exit 3.
    #[allow(dead_code)] // constructed by `iso20022 validate`, built on another branch
    Invalid,
}

pub(crate) fn run(cli: Cli) -> anyhow::Result<Outcome> {
    match cli.command {
        Command::Iso8583(args) => iso8583::run(args),
        Command::Emv(args) => emv::run(args),
        Command::Iso20022(args) => iso20022::run(args),
        Command::Adapt(args) => adapt::run(args),
        Command::Generate(args) => generate_events::run(args),
        Command::Publish(args) => publish::run(args),
        Command::Items(args) => items::run(args),
        Command::BankSim(args) => bank_sim::run(args),
        Command::Run(args) => run::run(args),
        Command::Status(args) => status::run(args),
        Command::Demo(args) => demo::run(args),
    }
}

/// Marks an error as "the input is wrong" (exit 3) rather than "the system failed" (exit 1).
#[derive(Debug)]
pub(crate) struct Refused(pub(crate) String);

impl fmt::Display for Refused {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Refused {}

/// An error for input we refuse; its message is printed as is (mask card data before!).
pub(crate) fn refused(message: impl Into<String>) -> anyhow::Error {
    anyhow::Error::new(Refused(message.into()))
}

/// Whether `err` is a write to stdout that failed because its reader went away.
pub(crate) fn is_broken_pipe(err: &anyhow::Error) -> bool {
    err.chain().any(|cause| {
        cause
            .downcast_ref::<std::io::Error>()
            .is_some_and(|e| e.kind() == std::io::ErrorKind::BrokenPipe)
    })
}

pub(crate) fn is_refused_input(err: &anyhow::Error) -> bool {
    err.chain().any(|e| e.is::<Refused>())
}

/// Parses hex text (whitespace ignored, either case) into bytes; a refused-input error names
/// the offending character's offset.
pub(crate) fn parse_hex(text: &str) -> anyhow::Result<Vec<u8>> {
    let digits: Vec<u8> = text.bytes().filter(|b| !b.is_ascii_whitespace()).collect();
    if !digits.len().is_multiple_of(2) {
        return Err(refused(format!(
            "hex input has an odd number of digits ({})",
            digits.len()
        )));
    }
    let nibble = |i: usize, b: u8| -> anyhow::Result<u8> {
        match b {
            b'0'..=b'9' => Ok(b - b'0'),
            b'a'..=b'f' => Ok(b - b'a' + 10),
            b'A'..=b'F' => Ok(b - b'A' + 10),
            _ => Err(refused(format!(
                "hex input: character {i} is not a hex digit"
            ))),
        }
    };
    digits
        .chunks_exact(2)
        .enumerate()
        .map(|(i, pair)| match pair {
            [hi, lo] => Ok((nibble(2 * i, *hi)? << 4) | nibble(2 * i + 1, *lo)?),
            _ => Err(refused("hex input: incomplete pair")),
        })
        .collect()
}

/// Uppercase hex of bytes.
pub(crate) fn to_hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789ABCDEF";
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        out.push(char::from(DIGITS[usize::from(b >> 4)]));
        out.push(char::from(DIGITS[usize::from(b & 0x0F)]));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hex_roundtrip_and_errors() {
        assert_eq!(parse_hex("0a FF").unwrap(), vec![0x0A, 0xFF]);
        assert_eq!(to_hex(&[0x0A, 0xFF]), "0AFF");
        assert!(is_refused_input(&parse_hex("0").unwrap_err()));
        assert!(is_refused_input(&parse_hex("0G").unwrap_err()));
        assert_eq!(parse_hex("").unwrap(), Vec::<u8>::new());
    }
}
