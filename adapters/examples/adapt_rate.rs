//! The ingest's per-event mapping work, before and after the lean path, in one run: over the
//! seeded `adapters::generate` stream (every event type, every shipped profile),
//!   - before: parse the JSON (the ingest does, to hash it), parse it again with
//!     `Event::from_json`, map it with `adapt` (description and masked hex included);
//!   - after: parse the JSON once, read it with `Event::from_value`, map it with `adapt_wire`.
//!
//! `cargo run --release -p clearway-adapters --example adapt_rate -- [N] [before|after|both]`
//! (default 20,000 events, both). Asserts that both paths send the same bytes; the figures are
//! wall time on a shared machine (compare within one run) — under `valgrind --tool=callgrind`
//! run one path at a time for instruction counts.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;
use std::time::Instant;

use adapters::{Event, Profile};

fn main() {
    let mut args = std::env::args().skip(1);
    let n: usize = args
        .next()
        .map_or(20_000, |a| a.parse().expect("N is a number"));
    let which = args.next().unwrap_or_else(|| "both".into());
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../fixtures/profiles");
    let mut paths: Vec<_> = std::fs::read_dir(&root)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "toml"))
        .collect();
    paths.sort();
    let profiles: Vec<Profile> = paths.iter().map(|p| Profile::load(p).unwrap()).collect();
    let lines = adapters::generate::generate(&adapters::generate::Spec::new(7, n), &profiles).lines;
    let profile_of = |e: &Event| profiles.iter().find(|p| p.id == e.bank).unwrap();

    let mut sent_before = Vec::new();
    if which == "before" || which == "both" {
        let started = Instant::now();
        for line in &lines {
            let value: serde_json::Value = serde_json::from_str(line).unwrap();
            std::hint::black_box(&value);
            let event = Event::from_json(line).unwrap();
            let out = adapters::adapt(&event, profile_of(&event)).ok();
            sent_before.push(out.map(|o| o.wire.len()));
        }
        report("before", lines.len(), started);
    }
    let mut sent_after = Vec::new();
    if which == "after" || which == "both" {
        let started = Instant::now();
        for line in &lines {
            let value: serde_json::Value = serde_json::from_str(line).unwrap();
            std::hint::black_box(&value);
            let event = Event::from_value(value).unwrap();
            let out = adapters::adapt_wire(&event, profile_of(&event)).ok();
            sent_after.push(out.map(|o| o.wire.len()));
        }
        report("after", lines.len(), started);
    }
    if which == "both" {
        assert_eq!(
            sent_before, sent_after,
            "the two paths send different messages"
        );
    }
}

fn report(label: &str, n: usize, started: Instant) {
    let us = started.elapsed().as_micros().max(1);
    println!(
        "{label:>7}: {n} events parsed and mapped: {} ms, {} events/s, {} ns/event",
        us / 1000,
        n as u128 * 1_000_000 / us,
        us * 1000 / n.max(1) as u128
    );
}
