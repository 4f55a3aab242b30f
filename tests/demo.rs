//! `clearway demo` end to end: the real binary starts `clearway run` and one `clearway
//! bank-sim` per profile against the real RabbitMQ (`CLEARWAY_AMQP_URL`, default local guest),
//! and the summary it writes must hold the generator's counts with nothing lost or doubled.
//!
//! The demo uses the default `clearway.*` queue names (it resets them first), so the tests here
//! run one at a time (`DEMO`). The chaos test closes the demo's own broker connections only,
//! but kills and restarts processes for a minute or more: it is `#[ignore]`d, and the lead
//! decides how CI runs it (`cargo test --test demo -- --ignored`).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::Path;
use std::process::Command;
use std::sync::Mutex;

use adapters::generate::Spec;
use serde_json::Value;
use settlement::demo::{self, Expected};

static DEMO: Mutex<()> = Mutex::new(());

const BIN: &str = env!("CARGO_BIN_EXE_clearway");

fn expected(seed: u64, events: usize) -> Expected {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let profiles = settlement::ingest::load_profiles(&root.join("fixtures/profiles")).unwrap();
    demo::generate(&Spec::new(seed, events), &profiles)
        .unwrap()
        .1
}

/// Runs the demo, asserts exit 0, and returns its summary.json.
fn run_demo(out: &Path, extra: &[&str]) -> Value {
    let output = Command::new(BIN)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .args([
            "demo",
            "--events",
            "1000",
            "--seed",
            "1",
            "--timeout",
            "240",
        ])
        .arg("--out")
        .arg(out)
        .args(extra)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "clearway demo {extra:?} exited with {}\nstdout:\n{stdout}\nstderr:\n{stderr}",
        output.status
    );
    assert!(stdout.contains("lost              0"), "{stdout}");
    let text = std::fs::read_to_string(out.join("summary.json")).unwrap();
    serde_json::from_str(&text).unwrap()
}

fn count(v: &Value, key: &str) -> u64 {
    v[key]
        .as_u64()
        .unwrap_or_else(|| panic!("summary.{key} is not a count: {v}"))
}

#[test]
fn a_short_demo_loses_and_doubles_nothing() {
    let _one_at_a_time = DEMO.lock().unwrap_or_else(|e| e.into_inner());
    let out = tempfile::tempdir().unwrap();
    let summary = run_demo(out.path(), &[]);
    let want = expected(1, 1000);
    assert_eq!(count(&summary, "lost"), 0, "{summary:#}");
    assert_eq!(count(&summary, "doubled"), 0, "{summary:#}");
    assert_eq!(summary["mismatches"], Value::Array(vec![]));
    assert_eq!(count(&summary, "events"), want.lines as u64);
    assert_eq!(count(&summary, "unique_events"), want.unique as u64);
    assert_eq!(
        count(&summary, "duplicates_absorbed"),
        want.duplicates as u64
    );
    assert_eq!(
        count(&summary, "conflicts_dead_lettered"),
        want.conflicts as u64
    );
    assert_eq!(
        summary["messages_by_type"],
        serde_json::to_value(&want.messages).unwrap()
    );
    // Every message reached its bank, and every item left `requested`.
    let received: u64 = want.messages.values().map(|n| *n as u64).sum();
    assert_eq!(count(&summary, "bank_messages_received"), received);
    let states = summary["items_by_final_state"].as_object().unwrap();
    assert!(!states.contains_key("requested"), "{states:?}");
    let items: u64 = states.values().map(|n| n.as_u64().unwrap()).sum();
    assert_eq!(items, count(&summary, "items"));
    // A re-run in the same folder starts clean and ends the same.
    let again = run_demo(out.path(), &[]);
    assert_eq!(without_run(again), without_run(summary));
}

fn without_run(mut summary: Value) -> Value {
    summary.as_object_mut().unwrap().remove("run");
    summary
}

// Ignored: it SIGKILLs and restarts the service and closes the demo's broker connections for a
// minute or more; run it with `cargo test --test demo -- --ignored`.
#[test]
#[ignore]
fn chaos_gives_the_same_figures() {
    let _one_at_a_time = DEMO.lock().unwrap_or_else(|e| e.into_inner());
    let (plain, chaotic) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let calm = run_demo(plain.path(), &[]);
    let chaos = run_demo(chaotic.path(), &["--chaos"]);
    assert!(count(&chaos["run"], "service_kills") >= 3, "{chaos:#}");
    assert_eq!(count(&chaos, "lost"), 0);
    assert_eq!(count(&chaos, "doubled"), 0);
    assert_eq!(without_run(chaos), without_run(calm));
}

/// A demo that cannot finish in time exits 1 naming what it waited for, and still writes its
/// summary with the failure (it needs at least ten quiet polls, 5 s, so 1 s is never enough).
#[test]
fn a_demo_out_of_time_says_what_is_stuck() {
    let _one_at_a_time = DEMO.lock().unwrap_or_else(|e| e.into_inner());
    let out = tempfile::tempdir().unwrap();
    let output = Command::new(BIN)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .args(["demo", "--events", "100", "--timeout", "1", "--out"])
        .arg(out.path())
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("timed out: "), "{stderr}");
    let text = std::fs::read_to_string(out.path().join("summary.json")).unwrap();
    let summary: Value = serde_json::from_str(&text).unwrap();
    let failure = summary["run"]["failure"].as_str().unwrap_or_default();
    assert!(failure.starts_with("timed out: "), "{summary:#}");
}
