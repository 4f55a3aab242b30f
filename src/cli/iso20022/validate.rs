//! `clearway iso20022 validate`: not yet built.

use crate::cli::Outcome;

/// Arguments of `clearway iso20022 validate`.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {}

pub(crate) fn run(_args: Args) -> anyhow::Result<Outcome> {
    Err(anyhow::anyhow!(
        "clearway iso20022 validate is not built yet"
    ))
}
