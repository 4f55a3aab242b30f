//! `clearway run [--config FILE] [--log-format text|json] [--metrics-addr ADDR]`: the service.
//! It resolves the settings (flag or environment variable, else the config file, else the
//! default), starts logging, and calls `settlement::service::run_blocking`, which returns on
//! SIGTERM or SIGINT once every batch under way is committed and acked (exit 0).
//!
//! The [`Sources`] are shared with `clearway status`, so both read the same database, broker,
//! profiles and topology.

use std::path::PathBuf;

use settlement::config::{FileConfig, LogFormat, Overrides, Settings};
use settlement::service;

use super::{Outcome, refused};

/// Where the settings come from: shared by `clearway run` and `clearway status`.
#[derive(Debug, clap::Args)]
pub(crate) struct Sources {
    /// A TOML file of settings (keys in settlement/README.md; unknown keys are refused).
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,
    /// The broker; wins over the file's `amqp_url`.
    #[arg(
        long,
        value_name = "URL",
        env = "CLEARWAY_AMQP_URL",
        hide_env_values = true
    )]
    amqp_url: Option<String>,
    /// The store (`sqlite://…` or `postgres://…`); wins over the file's `database_url`.
    /// Default: sqlite://clearway.db?mode=rwc, as `clearway items`.
    #[arg(long, value_name = "URL", env = "DATABASE_URL", hide_env_values = true)]
    database_url: Option<String>,
    /// The folder of bank profiles; wins over the file's `profiles`. Default: fixtures/profiles.
    #[arg(long, value_name = "DIR", env = "CLEARWAY_PROFILES")]
    profiles: Option<PathBuf>,
}

impl Sources {
    /// The file (if any) under the flags and environment, checked; a bad file or value is
    /// refused input (exit 3).
    pub(crate) fn settings(
        &self,
        metrics_addr: Option<String>,
        log_format: Option<LogFormat>,
    ) -> anyhow::Result<Settings> {
        let file = match &self.config {
            Some(path) => FileConfig::load(path).map_err(|e| refused(e.to_string()))?,
            None => FileConfig::default(),
        };
        let non_empty = |v: &Option<String>| v.clone().filter(|v| !v.trim().is_empty());
        let overrides = Overrides {
            amqp_url: non_empty(&self.amqp_url),
            database_url: non_empty(&self.database_url),
            profiles: self.profiles.clone().filter(|p| !p.as_os_str().is_empty()),
            metrics_addr,
            log_format,
        };
        Settings::resolve(file, overrides).map_err(|e| refused(e.to_string()))
    }
}

/// Log formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum Format {
    /// Human-readable lines.
    Text,
    /// One JSON object a line.
    Json,
}

/// Arguments of `clearway run`.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    #[command(flatten)]
    sources: Sources,
    /// Log format (standard error); wins over the file's `log_format`. Default: text.
    #[arg(long, value_enum, value_name = "FORMAT")]
    log_format: Option<Format>,
    /// Where `/metrics` and `/health` listen; port 0 picks a free one (the log names it).
    /// Wins over the file's `metrics_addr`. Default: 127.0.0.1:9187.
    #[arg(long, value_name = "ADDR")]
    metrics_addr: Option<String>,
}

pub(crate) fn run(args: Args) -> anyhow::Result<Outcome> {
    let log_format = args.log_format.map(|f| match f {
        Format::Text => LogFormat::Text,
        Format::Json => LogFormat::Json,
    });
    let settings = args.sources.settings(args.metrics_addr, log_format)?;
    init_logging(settings.log_format);
    match service::run_blocking(&settings) {
        Ok(_report) => Ok(Outcome::Clean),
        Err(error) if error.is_refused_input() => Err(refused(error.to_string())),
        Err(error) => Err(error.into()),
    }
}

/// Logs to standard error; `RUST_LOG` narrows or widens the default: `info`, sqlx at `warn`,
/// lapin off. lapin reports the clean close of a connection with open channels as an ERROR
/// (every consumer at every SIGTERM), and its debug lines may hold connection details; the
/// broker module logs every failure itself.
fn init_logging(format: LogFormat) {
    use tracing_subscriber::EnvFilter;
    let filter = EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| EnvFilter::new("info,lapin=off,sqlx=warn"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    let installed = match format {
        LogFormat::Text => builder.with_ansi(false).try_init(),
        LogFormat::Json => builder.json().try_init(),
    };
    if let Err(error) = installed {
        eprintln!("clearway: logging not set up: {error}");
    }
}
