//! The settings of `clearway run` and `clearway status`: a TOML file (every key optional,
//! unknown keys refused), values from the command line or the environment, and the defaults.
//! A value given on the command line or in the environment wins over the file's, which wins
//! over the default; the CLI (clap) reads the flags and environment variables and hands them
//! over as [`Overrides`]. Every value is checked once, here, with an error naming its key.
//! This module reads one file and no environment variable of its own.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;

use crate::broker::{AmqpUrl, BankId, DEFAULT_AMQP_URL, Topology, redact};
use crate::store;

/// Where the bank profiles are by default (relative to the working directory).
pub const DEFAULT_PROFILES: &str = "fixtures/profiles";
/// Where `/metrics` and `/health` listen by default.
pub const DEFAULT_METRICS_ADDR: &str = "127.0.0.1:9187";

/// The configuration file, as written. See `settlement/README.md` for each key.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileConfig {
    /// Names this instance in logs and broker connection names.
    pub name: Option<String>,
    /// The broker.
    pub amqp_url: Option<String>,
    /// `sqlite://…` or `postgres://…`.
    pub database_url: Option<String>,
    /// The folder of bank profiles (`*.toml`).
    pub profiles: Option<PathBuf>,
    /// Prefix of every exchange and queue name (`<prefix>.events`, `<prefix>.bank.<id>.in`, …).
    pub topology_prefix: Option<String>,
    /// `basic.qos` prefetch per consumed queue.
    pub prefetch: Option<u16>,
    /// Deliveries per batch (one transaction, one multiple-ack).
    pub batch_size_max: Option<usize>,
    /// How long a batch waits for more deliveries after its first, in milliseconds.
    pub batch_linger_ms: Option<u64>,
    /// Outbox rows the relay reads per round.
    pub relay_batch_size_max: Option<usize>,
    /// How often queue depths and the outbox are polled for the gauges and `/health`.
    pub lag_poll_ms: Option<u64>,
    /// `host:port` of `/metrics` and `/health`; port 0 picks a free one.
    pub metrics_addr: Option<String>,
    /// `text` or `json`.
    pub log_format: Option<LogFormat>,
}

/// How `clearway run` writes its logs (to standard error).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    /// One human-readable line per event.
    #[default]
    Text,
    /// One JSON object per line.
    Json,
}

/// What the command line and the environment say; `None` leaves the file's value or the default.
#[derive(Debug, Clone, Default)]
pub struct Overrides {
    pub amqp_url: Option<String>,
    pub database_url: Option<String>,
    pub profiles: Option<PathBuf>,
    pub metrics_addr: Option<String>,
    pub log_format: Option<LogFormat>,
}

/// Every setting, checked.
#[derive(Debug, Clone)]
pub struct Settings {
    pub name: String,
    pub amqp_url: AmqpUrl,
    /// Holds the password, if any: print [`Settings::database_url_redacted`] instead.
    pub database_url: String,
    pub profiles: PathBuf,
    pub topology: Topology,
    pub prefetch: u16,
    pub batch_size_max: usize,
    pub batch_linger: Duration,
    pub relay_batch_size_max: usize,
    pub lag_poll: Duration,
    pub metrics_addr: SocketAddr,
    pub log_format: LogFormat,
}

/// A configuration that cannot be used; each names the file or the key.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    #[error("config {path}: {message}")]
    Read { path: String, message: String },
    /// Bad TOML, an unknown key or a value of the wrong type (toml names the key and line).
    #[error("config {path}: {message}")]
    Syntax { path: String, message: String },
    /// A value of the right type that is out of range or inconsistent.
    #[error("config key {key}: {problem}")]
    Value { key: &'static str, problem: String },
}

impl FileConfig {
    /// Reads and parses `path`; unknown keys are refused.
    pub fn load(path: &Path) -> Result<FileConfig, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|e| ConfigError::Read {
            path: path.display().to_string(),
            message: e.to_string(),
        })?;
        FileConfig::parse(&path.display().to_string(), &text)
    }

    /// Parses the text of a configuration file named `name` (for messages).
    pub fn parse(name: &str, text: &str) -> Result<FileConfig, ConfigError> {
        toml::from_str(text).map_err(|e| ConfigError::Syntax {
            path: name.to_owned(),
            message: e.to_string().trim_end().replace('\n', " "),
        })
    }
}

fn value(key: &'static str, problem: impl Into<String>) -> ConfigError {
    ConfigError::Value {
        key,
        problem: problem.into(),
    }
}

impl Settings {
    /// The file's values under the overrides, over the defaults; checks every value.
    pub fn resolve(file: FileConfig, over: Overrides) -> Result<Settings, ConfigError> {
        let name = file.name.unwrap_or_else(|| "clearway".to_owned());
        if name.is_empty() || name.len() > 64 || name.chars().any(char::is_control) {
            return Err(value("name", "must be 1 to 64 printable characters"));
        }
        let amqp_text = over
            .amqp_url
            .or(file.amqp_url)
            .unwrap_or_else(|| DEFAULT_AMQP_URL.to_owned());
        let amqp_url =
            AmqpUrl::parse(amqp_text.trim()).map_err(|e| value("amqp_url", e.to_string()))?;
        let database_url = over
            .database_url
            .or(file.database_url)
            .unwrap_or_else(|| store::DEFAULT_URL.to_owned());
        if !(database_url.starts_with("sqlite:")
            || database_url.starts_with("postgres:")
            || database_url.starts_with("postgresql:"))
        {
            return Err(value(
                "database_url",
                format!(
                    "{}: expected sqlite://… or postgres://…",
                    redact(&database_url)
                ),
            ));
        }
        let profiles = over
            .profiles
            .or(file.profiles)
            .unwrap_or_else(|| PathBuf::from(DEFAULT_PROFILES));
        let prefix = file
            .topology_prefix
            .unwrap_or_else(|| "clearway".to_owned());
        // The prefix is part of queue names, under the same rules as a bank id.
        BankId::parse(&prefix).map_err(|e| value("topology_prefix", e.to_string()))?;
        let prefetch = file.prefetch.unwrap_or(300);
        if !(1..=2000).contains(&prefetch) {
            return Err(value(
                "prefetch",
                format!("{prefetch}: must be 1 to 2000 (quorum queues cap it at 2000)"),
            ));
        }
        let batch_size_max = file.batch_size_max.unwrap_or(200);
        if batch_size_max == 0 || batch_size_max > usize::from(prefetch) {
            return Err(value(
                "batch_size_max",
                format!(
                    "{batch_size_max}: must be 1 to prefetch ({prefetch}), or a batch could never fill"
                ),
            ));
        }
        let linger_ms = file.batch_linger_ms.unwrap_or(5);
        if linger_ms > 10_000 {
            return Err(value(
                "batch_linger_ms",
                format!("{linger_ms}: at most 10000"),
            ));
        }
        let relay_batch_size_max = file.relay_batch_size_max.unwrap_or(1000);
        if !(1..=10_000).contains(&relay_batch_size_max) {
            return Err(value(
                "relay_batch_size_max",
                format!("{relay_batch_size_max}: must be 1 to 10000"),
            ));
        }
        let lag_poll_ms = file.lag_poll_ms.unwrap_or(1000);
        if !(50..=60_000).contains(&lag_poll_ms) {
            return Err(value(
                "lag_poll_ms",
                format!("{lag_poll_ms}: must be 50 to 60000"),
            ));
        }
        let metrics_text = over
            .metrics_addr
            .or(file.metrics_addr)
            .unwrap_or_else(|| DEFAULT_METRICS_ADDR.to_owned());
        let metrics_addr: SocketAddr = metrics_text.trim().parse().map_err(|_| {
            value(
                "metrics_addr",
                format!("{metrics_text:?}: expected host:port, e.g. 127.0.0.1:9187"),
            )
        })?;
        Ok(Settings {
            name,
            amqp_url,
            database_url,
            profiles,
            topology: Topology::with_prefix(&prefix),
            prefetch,
            batch_size_max,
            batch_linger: Duration::from_millis(linger_ms),
            relay_batch_size_max,
            lag_poll: Duration::from_millis(lag_poll_ms),
            metrics_addr,
            log_format: over.log_format.or(file.log_format).unwrap_or_default(),
        })
    }

    /// The database URL without its password, for logs and messages.
    pub fn database_url_redacted(&self) -> String {
        redact(&self.database_url)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn resolve(text: &str) -> Result<Settings, ConfigError> {
        Settings::resolve(FileConfig::parse("t.toml", text)?, Overrides::default())
    }

    #[test]
    fn defaults() {
        let s = resolve("").unwrap();
        assert_eq!(s.topology, Topology::default());
        assert_eq!(s.database_url, store::DEFAULT_URL);
        assert_eq!(s.profiles, PathBuf::from("fixtures/profiles"));
        assert_eq!((s.prefetch, s.batch_size_max), (300, 200));
        assert_eq!(s.metrics_addr.to_string(), "127.0.0.1:9187");
        assert_eq!(s.log_format, LogFormat::Text);
        assert_eq!(
            s.amqp_url.to_string(),
            "amqp://guest:***@127.0.0.1:5672/%2f"
        );
    }

    #[test]
    fn overrides_win_over_the_file() {
        let file = FileConfig::parse(
            "t.toml",
            "topology_prefix = \"t1\"\ndatabase_url = \"sqlite://a.db\"\nlog_format = \"json\"\n",
        )
        .unwrap();
        let over = Overrides {
            database_url: Some("postgres://u:p@h/db".into()),
            metrics_addr: Some("127.0.0.1:0".into()),
            ..Overrides::default()
        };
        let s = Settings::resolve(file, over).unwrap();
        assert_eq!(s.topology.events_queue, "t1.events");
        assert_eq!(s.database_url_redacted(), "postgres://u:***@h/db");
        assert_eq!(s.metrics_addr.port(), 0);
        assert_eq!(s.log_format, LogFormat::Json);
    }

    #[test]
    fn refusals_name_the_key() {
        let cases = [
            ("prefetc = 3", "unknown field `prefetc`"),
            ("prefetch = 0", "config key prefetch: 0"),
            (
                "prefetch = 100\nbatch_size_max = 200",
                "config key batch_size_max: 200",
            ),
            ("topology_prefix = \"A B\"", "config key topology_prefix"),
            ("metrics_addr = \"localhost\"", "config key metrics_addr"),
            ("database_url = \"mysql://x\"", "config key database_url"),
            ("log_format = \"xml\"", "unknown variant `xml`"),
            ("lag_poll_ms = 1", "config key lag_poll_ms"),
        ];
        for (text, expected) in cases {
            let err = resolve(text).expect_err(text).to_string();
            assert!(err.contains(expected), "{text:?}: {err}");
        }
    }
}
