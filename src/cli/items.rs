//! `clearway items [--state STATE] [--format csv|json]`: the clearing items in the settlement
//! store, one per line. The database is `$DATABASE_URL` (`sqlite://…` or `postgres://…`), by
//! default the SQLite file `clearway.db` in the current directory (created, empty, if absent).
//! It calls `settlement::store` and prints; amounts are decimal strings with the currency's
//! exponent, never floats.

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
    let filter = ItemFilter {
        state: args.state.as_deref().and_then(State::parse),
    };
    let items = Store::list_items_blocking(&url, filter)?;
    match args.format {
        Format::Csv => {
            println!("{ITEMS_CSV_HEADER}");
            for item in &items {
                println!("{}", item.csv_line());
            }
        }
        Format::Json => println!("{}", serde_json::to_string_pretty(&items)?),
    }
    Ok(Outcome::Clean)
}
