//! `clearway iso20022 roundtrip`: not yet built.

use crate::cli::Outcome;

/// Arguments of `clearway iso20022 roundtrip`.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {}

pub(crate) fn run(_args: Args) -> anyhow::Result<Outcome> {
    Err(anyhow::anyhow!(
        "clearway iso20022 roundtrip is not built yet"
    ))
}
