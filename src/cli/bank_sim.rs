//! `clearway bank-sim --profile PROFILE.toml [--journal FILE] [--reject-rate R] [--faults LIST]
//! [--seed S] [--statements DIR] [--amqp-url URL] [--day-close-after N]`: a simulated bank on
//! RabbitMQ. It consumes the profile's outbound queue, answers on its inbound queue as the rules
//! of `settlement::banksim` say, journals every message it receives, and at the end of each
//! simulated day (on SIGTERM or Ctrl-C, and after every N new requests with `--day-close-after`)
//! sends its end-of-day answers and writes one camt.053 per account to `--statements`. It calls
//! `settlement::broker::run_bank_sim` and prints what it did; SIGTERM exits 0 once everything
//! held was sent and acked.

use std::path::PathBuf;

use anyhow::Context;
use settlement::banksim::run::{Settings, Simulator, day_start};
use settlement::banksim::{Faults, PerMille, SimConfig};
use settlement::broker::{self, AmqpUrl, BankSimConfig, CancellationToken};

use super::{Outcome, refused};

/// Arguments of `clearway bank-sim`.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// The bank's profile (its `queues.outbound` is consumed, `queues.inbound` answered on).
    #[arg(long, value_name = "PROFILE.toml")]
    profile: PathBuf,
    /// The journal, one JSON line per message received; `FILE.ledger` and `FILE.state` beside
    /// it make a restart resume where the last run stopped. Without it, nothing survives.
    #[arg(long, value_name = "FILE")]
    journal: Option<PathBuf>,
    /// Fraction of authorizations declined and credit transfers rejected (0 to 1, e.g. 0.05).
    #[arg(long, value_name = "R", default_value = "0")]
    reject_rate: String,
    /// Fraction of settled credit transfers returned (pacs.004) at the end of the day.
    #[arg(long, value_name = "R", default_value = "0.01")]
    return_rate: String,
    /// Fraction of cancellation requests refused (camt.029 RJCR).
    #[arg(long, value_name = "R", default_value = "0")]
    cancel_reject_rate: String,
    /// Faults on demand, each at 5 %: any of `dup,reorder,delay,malformed`.
    #[arg(long, value_name = "LIST", default_value = "")]
    faults: String,
    /// Seeds every decision: the same seed and requests give the same answers.
    #[arg(long, value_name = "S", default_value_t = 1)]
    seed: u64,
    /// Where the end-of-day camt.053 files go (none written without it).
    #[arg(long, value_name = "DIR")]
    statements: Option<PathBuf>,
    /// The broker (default: `CLEARWAY_AMQP_URL`, else the local guest account).
    #[arg(long, value_name = "URL")]
    amqp_url: Option<String>,
    /// Close the simulated day after every N new requests (it always closes on SIGTERM).
    #[arg(long, value_name = "N")]
    day_close_after: Option<u64>,
    /// The length of a simulated tick in milliseconds (`Later` answers leave 2 ticks after their
    /// request, delayed ones up to 5 more).
    #[arg(long, value_name = "MS", default_value_t = 50)]
    tick_ms: u64,
    /// The first simulated day (default: today, UTC); a reopened journal keeps its own.
    #[arg(long, value_name = "YYYY-MM-DD")]
    date: Option<String>,
}

pub(crate) fn run(args: Args) -> anyhow::Result<Outcome> {
    let url = match &args.amqp_url {
        Some(text) => AmqpUrl::parse(text),
        None => AmqpUrl::from_env(),
    }
    .map_err(|e| refused(e.to_string()))?;
    let profile = adapters::Profile::load(&args.profile).map_err(|e| refused(e.to_string()))?;
    broker::bank_topology(&profile).map_err(|e| refused(e.to_string()))?;
    let rate = |name: &str, text: &str| {
        text.parse::<PerMille>()
            .map_err(|e| refused(format!("--{name}: {e}")))
    };
    let mut config = SimConfig::new(
        args.seed,
        day_start(args.date.as_deref()).map_err(|e| refused(e.to_string()))?,
    );
    config.reject_rate = rate("reject-rate", &args.reject_rate)?;
    config.return_rate = rate("return-rate", &args.return_rate)?;
    config.cancel_reject_rate = rate("cancel-reject-rate", &args.cancel_reject_rate)?;
    let faults: Faults = args
        .faults
        .parse()
        .map_err(|e| refused(format!("--faults: {e}")))?;
    if args.day_close_after == Some(0) {
        return Err(refused("--day-close-after: at least 1"));
    }
    let (inbound, outbound) = (
        profile.queues.inbound.clone(),
        profile.queues.outbound.clone(),
    );
    let id = profile.id.clone();
    let mut sim = Simulator::open(Settings {
        profile,
        config,
        faults,
        journal: args.journal.clone(),
        statements: args.statements.clone(),
        day_close_after: args.day_close_after,
    })
    .context("opening the simulator's files")?;
    eprintln!(
        "bank-sim {id}: consuming {outbound}, answering on {inbound} at {url} (day {}, {})",
        sim.day(),
        sim.date()
    );
    let report = broker::block_on(async {
        let stop = CancellationToken::new();
        broker::cancel_on_signals(&stop)?;
        let config = BankSimConfig {
            tick: std::time::Duration::from_millis(args.tick_ms),
            ..BankSimConfig::default()
        };
        broker::run_bank_sim(&url, &mut sim, &config, &stop)
            .await
            .map_err(anyhow::Error::new)
    })??;
    let statements: usize = report.days_closed.iter().map(|d| d.statements.len()).sum();
    outln!(
        "bank-sim {id}: received {} ({} duplicates, {} recovered, {} unanswered), sent {} \
         ({} faults), {} days closed, {statements} statements, {} reconnects",
        report.received,
        report.duplicates,
        report.recovered,
        report.unanswered,
        report.sent,
        report.faults_sent,
        report.days_closed.len(),
        report.reconnects
    )?;
    Ok(Outcome::Clean)
}
