//! `clearway emv …`: not yet built.

use super::Outcome;

/// Arguments of `clearway emv`.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {}

pub(crate) fn run(_args: Args) -> anyhow::Result<Outcome> {
    Err(anyhow::anyhow!("clearway emv is not built yet"))
}
