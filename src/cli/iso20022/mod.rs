//! `clearway iso20022 …`: one module per subcommand, each with its `Args` and `run`.

use clap::Subcommand;

use super::Outcome;

mod generate;
mod parse;
mod roundtrip;
mod validate;

/// Arguments of `clearway iso20022`.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Validate messages: schema, business rules and an optional market rule pack.
    Validate(validate::Args),
    /// Print the detected type, version and envelope, and the typed content.
    Parse(parse::Args),
    /// Parse a message and write it back to stdout, same envelope as given.
    Roundtrip(roundtrip::Args),
    /// Generate large, consistent test messages (camt.053 statements).
    Generate(generate::Args),
}

pub(crate) fn run(args: Args) -> anyhow::Result<Outcome> {
    match args.command {
        Command::Validate(a) => validate::run(a),
        Command::Parse(a) => parse::run(a),
        Command::Roundtrip(a) => roundtrip::run(a),
        Command::Generate(a) => generate::run(a),
    }
}
