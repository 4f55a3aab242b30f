//! `clearway iso8583 …`: not yet built.

use super::Outcome;

/// Arguments of `clearway iso8583`.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {}

pub(crate) fn run(_args: Args) -> anyhow::Result<Outcome> {
    Err(anyhow::anyhow!("clearway iso8583 is not built yet"))
}
