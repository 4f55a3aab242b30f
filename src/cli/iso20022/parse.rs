//! `clearway iso20022 parse`: not yet built.

use crate::cli::Outcome;

/// Arguments of `clearway iso20022 parse`.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {}

pub(crate) fn run(_args: Args) -> anyhow::Result<Outcome> {
    Err(anyhow::anyhow!("clearway iso20022 parse is not built yet"))
}
