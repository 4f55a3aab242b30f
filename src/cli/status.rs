//! `clearway status [--json] [--config FILE]`: queue depths of every queue of the topology, the
//! inbox, outbox pending, dead letters by reason and items by state. It reads the same settings
//! as `clearway run` and calls `settlement::service::status_blocking`. An unreachable database
//! or broker exits 1 with a message saying which (both, if both are).

use settlement::service::{self, StatusError};

use super::run::Sources;
use super::{Outcome, refused};

/// Arguments of `clearway status`.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    #[command(flatten)]
    sources: Sources,
    /// One JSON object instead of text.
    #[arg(long)]
    json: bool,
}

pub(crate) fn run(args: Args) -> anyhow::Result<Outcome> {
    let settings = args.sources.settings(None, None)?;
    let status = match service::status_blocking(&settings) {
        Ok(status) => status,
        Err(StatusError::Service(error)) if error.is_refused_input() => {
            return Err(refused(error.to_string()));
        }
        Err(error) => return Err(error.into()),
    };
    if args.json {
        outln!("{}", serde_json::to_string_pretty(&status)?)?;
    } else {
        out!("{status}")?;
    }
    Ok(Outcome::Clean)
}
