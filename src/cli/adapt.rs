//! `clearway adapt`: an event through a bank profile to the wire, a bank answer back to a
//! status event, and the conformance matrix. It parses arguments, calls `adapters` and prints;
//! every mapping decision lives in `adapters`.

use std::path::{Path, PathBuf};

use adapters::event::{Event, EventType};
use adapters::profile::Profile;
use anyhow::Context;

use super::{Outcome, refused, to_hex};

/// Arguments of `clearway adapt`.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// The bank profile (TOML).
    #[arg(long, value_name = "PROFILE.toml", required_unless_present = "list")]
    profile: Option<PathBuf>,
    /// The event (JSON), or with `--inbound` the bank message (XML file, or ISO 8583 hex).
    #[arg(value_name = "EVENT.json")]
    input: Option<PathBuf>,
    /// Read a bank message and print its status event.
    #[arg(long, value_name = "MESSAGE", conflicts_with = "input")]
    inbound: Option<PathBuf>,
    /// The inbound file holds hex text (assumed anyway when it is only hex digits and spaces;
    /// otherwise the file is the raw message bytes). ISO 20022 profiles read XML and ignore it.
    #[arg(long, requires = "inbound")]
    hex: bool,
    /// Print JSON instead of text (status events are always JSON).
    #[arg(long)]
    json: bool,
    /// Print card numbers in the clear in the hex line (the decoded form stays masked).
    #[arg(long)]
    show_pan: bool,
    /// Print the conformance matrix: event type × profile → message type and version.
    #[arg(long, conflicts_with_all = ["input", "inbound"])]
    list: bool,
    /// Profiles for `--list` (default: fixtures/profiles/*.toml under the current folder).
    #[arg(long, value_name = "DIR", requires = "list")]
    profiles: Option<PathBuf>,
}

pub(crate) fn run(args: Args) -> anyhow::Result<Outcome> {
    if args.list {
        let dir = args
            .profiles
            .clone()
            .unwrap_or_else(|| PathBuf::from("fixtures/profiles"));
        out!("{}", matrix(&dir)?)?;
        return Ok(Outcome::Clean);
    }
    let Some(profile_path) = &args.profile else {
        return Err(refused("--profile is required"));
    };
    let profile = Profile::load(profile_path).map_err(|e| refused(e.to_string()))?;
    if let Some(path) = &args.inbound {
        return inbound(&profile, path, args.hex);
    }
    let Some(path) = &args.input else {
        return Err(refused("give an EVENT.json, --inbound MESSAGE or --list"));
    };
    let text =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    let event = Event::from_json(&text).map_err(|e| refused(e.to_string()))?;
    if let Some(planned) = profile.planned_message(event.event_type)
        && !adapters::outbound::is_built(event.event_type, &profile)
    {
        // Not the event's fault: exit 1, not 3.
        anyhow::bail!(
            "{}: the mapping to {planned} is not built yet (pending the ISO 20022 model)",
            event.event_type
        );
    }
    let out = adapters::adapt(&event, &profile).map_err(|e| {
        refused(format!(
            "{} refused: {}",
            event.event_id,
            e.reasons.join("\n  ")
        ))
    })?;
    let hex = if args.show_pan {
        to_hex(&out.wire)
    } else {
        out.hex_masked.clone()
    };
    if args.json {
        let value = serde_json::json!({
            "event_id": event.event_id.as_str(),
            "profile": profile.id,
            "message_type": out.message_type,
            "message_key": out.message_key,
            "hex": hex,
            "decoded": out.described,
            "warnings": out.warnings,
        });
        outln!("{}", serde_json::to_string_pretty(&value)?)?;
    } else {
        if !hex.is_empty() {
            outln!("{hex}")?; // ISO 8583; ISO 20022 XML is printed as is below
        }
        out!("{}", out.described)?;
        for warning in &out.warnings {
            outln!("warning: {warning}")?;
        }
    }
    Ok(Outcome::Clean)
}

/// Prints the status events of a bank message: one event as a JSON object (as it always was
/// for ISO 8583 answers), several (an ISO 20022 message with several transactions) as one JSON
/// array of them, in message order.
fn inbound(profile: &Profile, path: &Path, hex: bool) -> anyhow::Result<Outcome> {
    let bytes = std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
    // as `iso8583 decode` does: a `.hex` file holds hex text
    let hex = hex
        || path
            .extension()
            .is_some_and(|e| e.eq_ignore_ascii_case("hex"));
    let events =
        adapters::inbound::read(profile, &bytes, hex).map_err(|e| refused(e.to_string()))?;
    let json = match events.as_slice() {
        [one] => serde_json::to_string_pretty(one)?,
        several => serde_json::to_string_pretty(several)?,
    };
    outln!("{json}")?;
    Ok(Outcome::Clean)
}

/// The matrix: one line per event type × profile, sorted by profile file name.
fn matrix(dir: &Path) -> anyhow::Result<String> {
    let mut paths: Vec<PathBuf> = std::fs::read_dir(dir)
        .with_context(|| format!("reading {}", dir.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "toml"))
        .collect();
    paths.sort();
    let mut out = String::new();
    for path in paths {
        let profile = Profile::load(&path).map_err(|e| refused(e.to_string()))?;
        for event_type in EventType::ALL {
            let message = match profile.planned_message(event_type) {
                Some(m) if adapters::outbound::is_built(event_type, &profile) => m,
                Some(m) => format!("{m} (pending)"),
                None => "-".to_owned(),
            };
            out.push_str(&format!(
                "{:<22} {:<30} {message}\n",
                profile.id,
                event_type.as_str()
            ));
        }
    }
    Ok(out)
}
