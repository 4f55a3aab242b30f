//! `clearway iso20022 …`: not yet built.

use super::Outcome;

/// Arguments of `clearway iso20022`.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {}

pub(crate) fn run(_args: Args) -> anyhow::Result<Outcome> {
    Err(anyhow::anyhow!("clearway iso20022 is not built yet"))
}
