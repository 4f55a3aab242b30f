//! `clearway items [--state STATE] [--format csv|json]`: the clearing items in the settlement
//! store, one per line. The database is `$DATABASE_URL` (`sqlite://…` or `postgres://…`), by
//! default the SQLite file `clearway.db` in the current directory (created, empty, if absent).
//! It calls `settlement::store` and prints; amounts are decimal strings with the currency's
//! exponent, never floats.

use std::io::Write as _;

use settlement::lifecycle::State;
use settlement::store::{ITEMS_CSV_HEADER, ItemFilter, Store, database_url};

use super::Outcome;

/// Output formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum Format {
    /// A header line, then one line per item; message ids joined with `;`.
    Csv,
    /// One JSON array of objects.
    Json,
}

/// Arguments of `clearway items`.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// Only items in this state.
    #[arg(long, value_name = "STATE", value_parser = clap::builder::PossibleValuesParser::new(
        State::ALL.map(State::as_str)
    ))]
    state: Option<String>,
    /// Output format.
    #[arg(long, value_enum, default_value = "csv")]
    format: Format,
}

pub(crate) fn run(args: Args) -> anyhow::Result<Outcome> {
    let url = database_url();
    // clap admits only the lifecycle's state names
    let state = args.state.as_deref().and_then(State::parse);
    let items = Store::list_items_blocking(&url, ItemFilter { state })?;
    let mut text = String::new();
    match args.format {
        Format::Csv => {
            text.push_str(ITEMS_CSV_HEADER);
            text.push('\n');
            for item in &items {
                text.push_str(&item.csv_line());
                text.push('\n');
            }
        }
        Format::Json => {
            text = serde_json::to_string_pretty(&items)?;
            text.push('\n');
        }
    }
    // a reader that stops early (`| head`) is not an error, and never a panic
    match std::io::stdout().lock().write_all(text.as_bytes()) {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => return Err(e.into()),
        _ => {}
    }
    Ok(Outcome::Clean)
}
