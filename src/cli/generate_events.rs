//! `clearway generate events [--seed S] [--events N] [--profiles DIR] [--out FILE]`: a seeded
//! stream of wallet events (one compact JSON event a line, the input of `clearway publish`) with
//! exact duplicates and conflicting reuses, for the demo, the chaos tests and the benchmarks.
//! The lines are the wire and hold card numbers; what is printed on stderr never does.

use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};

use adapters::Profile;
use adapters::generate::{Spec, default_conflicts, stream};
use anyhow::Context;

use crate::cli::{Outcome, refused};

/// Arguments of `clearway generate`.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, clap::Subcommand)]
enum Command {
    /// Wallet events (JSON lines) of every type the profiles carry, with 5% exact duplicates
    /// and a few conflicting reuses of an event id.
    Events(EventsArgs),
}

/// Arguments of `clearway generate events`.
#[derive(Debug, clap::Args)]
struct EventsArgs {
    /// Seed of every choice: the same seed and profiles give the same bytes.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Unique valid events (duplicates and conflicts come on top).
    #[arg(long, default_value_t = 10_000)]
    events: usize,
    /// Exact re-sends per thousand lines.
    #[arg(long, default_value_t = 50, value_parser = clap::value_parser!(u32).range(0..=900))]
    duplicate_per_mille: u32,
    /// Lines reusing an earlier event id with another payload (default: events / 2000, at
    /// least 1 from 100 events).
    #[arg(long)]
    conflicts: Option<usize>,
    /// The bank profiles (`*.toml`), read in file-name order.
    #[arg(long, default_value = "fixtures/profiles")]
    profiles: PathBuf,
    /// Where to write the events (default: stdout).
    #[arg(long)]
    out: Option<PathBuf>,
}

pub(crate) fn run(args: Args) -> anyhow::Result<Outcome> {
    match args.command {
        Command::Events(a) => events(a),
    }
}

fn load_profiles(dir: &Path) -> anyhow::Result<Vec<Profile>> {
    let entries = std::fs::read_dir(dir)
        .map_err(|e| refused(format!("--profiles {}: {e}", dir.display())))?;
    let mut paths = Vec::new();
    for entry in entries {
        let path = entry
            .with_context(|| format!("reading {}", dir.display()))?
            .path();
        if path.extension().is_some_and(|x| x == "toml") {
            paths.push(path);
        }
    }
    paths.sort();
    if paths.is_empty() {
        return Err(refused(format!(
            "--profiles {}: no *.toml profile",
            dir.display()
        )));
    }
    paths
        .iter()
        .map(|p| Profile::load(p).map_err(|e| refused(e.to_string())))
        .collect()
}

fn events(args: EventsArgs) -> anyhow::Result<Outcome> {
    let profiles = load_profiles(&args.profiles)?;
    let spec = Spec {
        seed: args.seed,
        events: args.events,
        duplicate_per_mille: args.duplicate_per_mille,
        conflicts: args
            .conflicts
            .unwrap_or_else(|| default_conflicts(args.events)),
    };
    let (sink, name): (Box<dyn Write>, String) = match &args.out {
        Some(path) => (
            Box::new(File::create(path).with_context(|| format!("creating {}", path.display()))?),
            path.display().to_string(),
        ),
        None => (Box::new(io::stdout().lock()), "stdout".to_owned()),
    };
    let mut out = BufWriter::with_capacity(256 * 1024, sink);
    let mut lines = stream(&spec, &profiles);
    let mut written = 0usize;
    for line in lines.by_ref() {
        out.write_all(line.text.as_bytes())
            .and_then(|()| out.write_all(b"\n"))
            .with_context(|| format!("writing {name}"))?;
        written += 1;
    }
    out.flush().with_context(|| format!("writing {name}"))?;
    let c = lines.counts();
    let join = |map: &std::collections::BTreeMap<String, usize>| {
        map.iter()
            .map(|(k, v)| format!("{k} {v}"))
            .collect::<Vec<_>>()
            .join(", ")
    };
    eprintln!(
        "generated {written} lines -> {name}: {} unique, {} duplicates, {} conflicts (seed {})",
        c.unique, c.duplicates, c.conflicts, args.seed
    );
    eprintln!("by type: {}", join(&c.by_type));
    eprintln!("expected messages: {}", join(&c.expected_messages));
    Ok(Outcome::Clean)
}
