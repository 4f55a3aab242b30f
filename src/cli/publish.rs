//! `clearway publish EVENTS.jsonl`: wallet events, one JSON object a line, to the events
//! exchange with publisher confirms. It reads the file, calls `settlement::broker::publish_events`
//! and prints the counts; a line that is not an event envelope refuses the whole file (exit 3)
//! before anything is published.

use std::path::PathBuf;

use anyhow::Context;
use settlement::broker::{self, AmqpUrl, PublishError, Topology};

use super::{Outcome, refused};

/// Arguments of `clearway publish`.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// The events, one JSON object a line (`event_id` and `type` are required).
    #[arg(value_name = "EVENTS.jsonl")]
    events: PathBuf,
    /// The broker (default: `CLEARWAY_AMQP_URL`, else the local guest account).
    #[arg(long, value_name = "AMQP_URL")]
    url: Option<String>,
    /// Prefix of the topology's names (`<prefix>.events`, `<prefix>.dlx`, …).
    #[arg(long, value_name = "PREFIX", default_value = "clearway")]
    prefix: String,
}

pub(crate) fn run(args: Args) -> anyhow::Result<Outcome> {
    let url = match &args.url {
        Some(text) => AmqpUrl::parse(text),
        None => AmqpUrl::from_env(),
    }
    .map_err(|e| refused(e.to_string()))?;
    let topology = Topology::with_prefix(&args.prefix);
    let jsonl = std::fs::read(&args.events)
        .with_context(|| format!("reading {}", args.events.display()))?;
    let report = match broker::block_on(broker::publish_events(&url, &topology, &jsonl))? {
        Ok(report) => report,
        Err(error @ PublishError::Line { .. }) => {
            return Err(refused(format!("{}: {error}", args.events.display())));
        }
        Err(error) => return Err(anyhow::Error::new(error).context(format!("publishing to {url}"))),
    };
    outln!(
        "published {} events to {} at {url} ({} blank lines skipped)",
        report.published,
        topology.events_exchange,
        report.blank_lines
    )?;
    Ok(Outcome::Clean)
}
