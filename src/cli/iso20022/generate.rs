//! `clearway iso20022 generate camt.053 --entries N [--accounts K] [--seed S] --out FILE`:
//! streams a large, consistent, schema-valid statement for tests and benchmarks.

use std::fs::File;
use std::io::BufWriter;
use std::path::PathBuf;

use anyhow::Context;
use iso20022::generate::{Camt053Options, write_camt053};

use crate::cli::{Outcome, refused};

/// Arguments of `clearway iso20022 generate`.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// Message type to generate; only `camt.053` (written as camt.053.001.08) for now.
    message: String,
    /// Number of entries over all statements.
    #[arg(long)]
    entries: u64,
    /// Number of accounts, one statement (`Stmt`) each.
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..))]
    accounts: u32,
    /// Seed of every random choice: the same seed gives the same bytes.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Where to write the statement.
    #[arg(long)]
    out: PathBuf,
}

pub(crate) fn run(args: Args) -> anyhow::Result<Outcome> {
    if !matches!(args.message.as_str(), "camt.053" | "camt.053.001.08") {
        return Err(refused(format!(
            "cannot generate {:?}: only camt.053 (camt.053.001.08) is supported",
            args.message
        )));
    }
    let options = Camt053Options {
        entries: args.entries,
        accounts: args.accounts,
        seed: args.seed,
    };
    let file =
        File::create(&args.out).with_context(|| format!("creating {}", args.out.display()))?;
    let mut out = BufWriter::with_capacity(256 * 1024, file);
    let generated = write_camt053(&options, &mut out)
        .with_context(|| format!("writing {}", args.out.display()))?;
    let bytes = out.get_ref().metadata().map(|m| m.len()).unwrap_or(0);
    eprintln!(
        "generated camt.053.001.08: {} entries ({} transactions), {} accounts, {bytes} bytes -> {}",
        generated.entries,
        generated.transactions,
        generated.statements,
        args.out.display()
    );
    Ok(Outcome::Clean)
}
