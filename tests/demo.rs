//! `clearway demo` end to end: the real binary starts `clearway run` and one `clearway
//! bank-sim` per profile against the real RabbitMQ (`CLEARWAY_AMQP_URL`, default local guest),
//! and the summary it writes must hold the generator's counts with nothing lost or doubled.
//!
//! The demo resets its queues first, so the tests here run one at a time (`DEMO`), under a
//! prefix of this process (`--topology-prefix t.demo.<pid>`), away from other users of the
//! broker. The PostgreSQL variant runs on a fresh database the demo makes on
//! the server of `CLEARWAY_TEST_PG_URL` (default the local `clearway` role, which has CREATEDB).
//! The chaos test kills and restarts processes, closes the demo's connections and restarts the
//! RabbitMQ application (`rabbitmqctl stop_app`/`start_app`) for about a minute: it is
//! `#[ignore]`d, to be run alone (`cargo test --test demo -- --ignored`), never beside other
//! broker tests.
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

fn pg_url() -> String {
    std::env::var("CLEARWAY_TEST_PG_URL")
        .ok()
        .filter(|u| !u.is_empty())
        .unwrap_or_else(|| "postgres://clearway:clearway@127.0.0.1:5432/clearway".into())
}

/// Runs the demo, asserts exit 0, and returns its summary.json.
fn run_demo(out: &Path, extra: &[&str]) -> Value {
    run_demo_of(1000, out, extra)
}

fn prefix() -> String {
    format!("t.demo.{}", std::process::id())
}

fn run_demo_of(events: usize, out: &Path, extra: &[&str]) -> Value {
    let output = Command::new(BIN)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .args([
            "demo",
            "--events",
            &events.to_string(),
            "--seed",
            "1",
            "--timeout",
            "240",
        ])
        .args(["--topology-prefix", &prefix()])
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

/// The same demo on PostgreSQL ends with the same figures as on SQLite, and its database is
/// dropped afterwards.
#[test]
fn a_short_demo_on_postgres_gives_the_figures_of_sqlite() {
    let _one_at_a_time = DEMO.lock().unwrap_or_else(|e| e.into_inner());
    let (lite, pg) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let url = pg_url();
    let on_pg = run_demo(pg.path(), &["--database-url", &url]);
    assert_eq!(count(&on_pg, "lost"), 0, "{on_pg:#}");
    assert_eq!(count(&on_pg, "doubled"), 0, "{on_pg:#}");
    assert_eq!(on_pg["run"]["database"], "postgres");
    assert!(!pg.path().join("clearway.db").exists());
    let config = std::fs::read_to_string(pg.path().join("run.toml")).unwrap();
    assert!(!config.contains("postgres://"), "{config}");
    let on_sqlite = run_demo(lite.path(), &[]);
    assert_eq!(without_run(on_pg), without_run(on_sqlite));
}

/// A `--database-url` that is not PostgreSQL is refused (exit 3) before anything starts.
#[test]
fn a_database_url_that_is_not_postgres_is_refused() {
    let out = tempfile::tempdir().unwrap();
    let output = Command::new(BIN)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .args(["demo", "--database-url", "mysql://x/y", "--out"])
        .arg(out.path())
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(3), "{stderr}");
    assert!(stderr.contains("--database-url"), "{stderr}");
}

fn without_run(mut summary: Value) -> Value {
    summary.as_object_mut().unwrap().remove("run");
    summary
}

// Ignored: it SIGKILLs and restarts the service, closes the demo's broker connections and
// restarts RabbitMQ (stop_app/start_app) for a minute or more on 2,000 events; run it alone with
// `cargo test --test demo -- --ignored`.
#[test]
#[ignore]
fn chaos_gives_the_same_figures() {
    let _one_at_a_time = DEMO.lock().unwrap_or_else(|e| e.into_inner());
    let (plain, chaotic) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let calm = run_demo_of(2000, plain.path(), &[]);
    let chaos = run_demo_of(2000, chaotic.path(), &["--chaos", "--broker-restarts"]);
    assert!(count(&chaos["run"], "service_kills") >= 3, "{chaos:#}");
    assert_eq!(count(&chaos["run"], "broker_restarts"), 2, "{chaos:#}");
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
        .args(["demo", "--events", "100", "--timeout", "1"])
        .args(["--topology-prefix", &prefix(), "--out"])
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
