//! `clearway iso20022 generate`: not yet built.

use crate::cli::Outcome;

/// Arguments of `clearway iso20022 generate`.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {}

pub(crate) fn run(_args: Args) -> anyhow::Result<Outcome> {
    Err(anyhow::anyhow!(
        "clearway iso20022 generate is not built yet"
    ))
}
