//! The bank simulator on the real RabbitMQ (`CLEARWAY_AMQP_URL`), each test on queues of its own:
//! adapted requests of every profile go to `.out`, `run_bank_sim` answers on `.in`, and the tests
//! count what arrives against what the pure core (`answer` + `plan`) says for the same requests:
//! one journal line per message, a duplicate journaled and not answered twice, the planned fault
//! messages, end-of-day statements that pass xmllint, and two runs with one seed giving the same
//! answers.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod broker_common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use adapters::generate::{Spec, generate};
use adapters::{Event, Profile};
use broker_common::{Env, eventually};
use lapin::{
    BasicProperties,
    options::{BasicPublishOptions, ConfirmSelectOptions},
};
use settlement::banksim::run::{Settings, Simulator, day_start};
use settlement::banksim::{Faults, PerMille, PlannedKind, SimConfig, answer, plan};
use settlement::broker::{
    self, AmqpUrl, BankId, BankSimConfig, BankSimReport, CancellationToken, run_bank_sim,
};
use sha2::{Digest, Sha256};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn profiles() -> Vec<Profile> {
    let mut paths: Vec<PathBuf> = std::fs::read_dir(root().join("fixtures/profiles"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "toml"))
        .collect();
    paths.sort();
    paths.iter().map(|p| Profile::load(p).unwrap()).collect()
}

/// A copy of `profile` whose queues are the test's own.
fn on_prefix(profile: &Profile, prefix: &str) -> Profile {
    let mut p = profile.clone();
    p.queues.outbound = format!("{prefix}.bank.{}.out", p.id);
    p.queues.inbound = format!("{prefix}.bank.{}.in", p.id);
    p
}

/// One request: (message_id, wire).
type Request = (String, Vec<u8>);

/// `fixtures/events/*/typical.json` adapted for `profile` (those its channel carries).
fn typical_requests(profile: &Profile) -> Vec<Request> {
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(root().join("fixtures/events"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_dir())
        .collect();
    dirs.sort();
    let mut out = Vec::new();
    for dir in dirs {
        let text = std::fs::read_to_string(dir.join("typical.json")).unwrap();
        let mut event = Event::from_json(&text).unwrap();
        event.bank = profile.id.clone();
        if let Ok(msg) = adapters::adapt(&event, profile) {
            out.push((msg.message_key, msg.wire));
        }
    }
    out
}

/// `n` seeded events for `profile`, adapted, one per message key.
fn generated_requests(profile: &Profile, seed: u64, n: usize) -> Vec<Request> {
    let mut spec = Spec::new(seed, n);
    spec.duplicate_per_mille = 0;
    spec.conflicts = 0;
    let generated = generate(&spec, std::slice::from_ref(profile));
    let mut seen = std::collections::BTreeSet::new();
    let mut out = Vec::new();
    for line in generated.lines {
        let Ok(event) = Event::from_json(&line) else {
            continue;
        };
        if let Ok(msg) = adapters::adapt(&event, profile)
            && seen.insert(msg.message_key.clone())
        {
            out.push((msg.message_key, msg.wire));
        }
    }
    out
}

async fn publish(queue: &str, requests: &[Request]) {
    let url =
        std::env::var("CLEARWAY_AMQP_URL").unwrap_or_else(|_| broker::DEFAULT_AMQP_URL.to_owned());
    let conn = lapin::Connection::connect(&url, lapin::ConnectionProperties::default())
        .await
        .unwrap();
    let channel = conn.create_channel().await.unwrap();
    channel
        .confirm_select(ConfirmSelectOptions::default())
        .await
        .unwrap();
    for (id, body) in requests {
        channel
            .basic_publish(
                "".into(),
                queue.into(),
                BasicPublishOptions {
                    mandatory: true,
                    immediate: false,
                },
                body,
                BasicProperties::default()
                    .with_message_id(id.as_str().into())
                    .with_delivery_mode(2),
            )
            .await
            .unwrap();
    }
    assert!(channel.wait_for_confirms().await.unwrap().is_empty());
    let _ = conn.close(200, "done".into()).await;
}

/// (message_id, message type, fault, SHA-256 of the bytes) → how many times.
type Multiset = BTreeMap<(String, String, String, String), usize>;

fn digest(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// What the pure core says the bank sends for `requests`.
fn expected(
    profile: &Profile,
    config: &SimConfig,
    faults: &Faults,
    requests: &[Request],
) -> Multiset {
    let mut out = Multiset::new();
    for (_, wire) in requests {
        let answers = answer(profile, wire, config).unwrap_or_default();
        for p in plan(answers, faults, config.seed) {
            let fault = match p.kind {
                PlannedKind::Answer => "",
                PlannedKind::Duplicate => "duplicate",
                PlannedKind::Malformed => "malformed",
            };
            *out.entry((
                p.answer.message_id.clone(),
                p.answer.message_type.clone(),
                fault.to_owned(),
                digest(&p.answer.bytes),
            ))
            .or_default() += 1;
        }
    }
    out
}

fn received(messages: &[(String, BTreeMap<String, String>, Vec<u8>)]) -> Multiset {
    let mut out = Multiset::new();
    for (id, headers, body) in messages {
        let header = |k: &str| headers.get(k).cloned().unwrap_or_default();
        *out.entry((
            id.clone(),
            header("x-clearway-message-type"),
            header("x-clearway-fault"),
            digest(body),
        ))
        .or_default() += 1;
    }
    out
}

/// (lines, duplicates) of a journal file.
fn journal_counts(path: &Path) -> (usize, usize) {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let lines: Vec<serde_json::Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let duplicates = lines.iter().filter(|l| l["duplicate"] == true).count();
    (lines.len(), duplicates)
}

fn config(seed: u64) -> SimConfig {
    SimConfig::new(seed, day_start(Some("2026-11-25")).unwrap())
}

struct Run {
    report: BankSimReport,
    answers: Vec<(String, BTreeMap<String, String>, Vec<u8>)>,
}

/// Publishes `requests` (and the first one a second time) to the profile's `.out`, runs the
/// simulator until its journal holds a line for each, stops it (the day closes) and takes what
/// it sent.
async fn run_once(
    env: &Env,
    profile: &Profile,
    settings: Settings,
    requests: &[Request],
    dir: &Path,
) -> Run {
    let journal = settings.journal.clone().unwrap();
    let mut sim = Simulator::open(settings).unwrap();
    let mut published: Vec<Request> = requests.to_vec();
    published.push(requests[0].clone());
    let url = AmqpUrl::from_env().unwrap();
    let stop = CancellationToken::new();
    let config = BankSimConfig {
        tick: Duration::from_millis(10),
        connection_name: format!("{} bank-sim", env.prefix),
        ..BankSimConfig::default()
    };
    let want = published.len();
    let driver = async {
        // The simulator declares the queues; publish once it has.
        eventually(Duration::from_secs(15), || async {
            env.depth(&profile.queues.outbound).await.is_some()
        })
        .await;
        publish(&profile.queues.outbound, &published).await;
        eventually(Duration::from_secs(30), || async {
            journal_counts(&journal).0 >= want
        })
        .await;
        stop.cancel();
    };
    let (report, ()) = tokio::join!(run_bank_sim(&url, &mut sim, &config, &stop), driver);
    let report = report.unwrap();
    let answers = env.drain(&profile.queues.inbound).await;
    let _ = dir;
    Run { report, answers }
}

fn xmllint(file: &Path) -> Result<(), String> {
    let xsd = root().join("iso20022/schemas/camt.053.001.08.xsd");
    let out = Command::new("xmllint")
        .args(["--noout", "--nonet", "--schema"])
        .arg(&xsd)
        .arg(file)
        .output()
        .expect("xmllint is needed (Debian: apt-get install -y libxml2-utils)");
    if out.status.success() {
        Ok(())
    } else {
        Err(String::from_utf8_lossy(&out.stderr).into_owned())
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_profile_is_answered_as_the_core_says() {
    let env = Env::start().await;
    let tmp = tempfile::tempdir().unwrap();
    let mut banks = Vec::new();
    for shipped in profiles() {
        let profile = on_prefix(&shipped, &env.prefix);
        banks.push(BankId::parse(&profile.id).unwrap());
        let requests = typical_requests(&profile);
        assert!(!requests.is_empty(), "{}: no typical request", profile.id);
        let journal = tmp.path().join(format!("{}.jsonl", profile.id));
        let statements = tmp.path().join(format!("{}-statements", profile.id));
        let mut cfg = config(7);
        cfg.return_rate = PerMille::new(500).unwrap(); // some pacs.004 at the end of the day
        let settings = Settings {
            profile: profile.clone(),
            config: cfg.clone(),
            faults: Faults::none(),
            journal: Some(journal.clone()),
            statements: Some(statements.clone()),
            day_close_after: None,
        };
        let run = run_once(&env, &profile, settings, &requests, tmp.path()).await;
        let id = &profile.id;

        // One journal line per message; the repeated one is a duplicate and is not answered.
        assert_eq!(journal_counts(&journal), (requests.len() + 1, 1), "{id}");
        assert_eq!(run.report.received, requests.len() as u64 + 1, "{id}");
        assert_eq!(run.report.duplicates, 1, "{id}");
        let want = expected(&profile, &cfg, &Faults::none(), &requests);
        let got = received(&run.answers);
        assert_eq!(got, want, "{id}: answers on .in");
        assert_eq!(run.report.sent as usize, run.answers.len(), "{id}");

        // Per message type, as a bank answers.
        let mut by_type: BTreeMap<String, usize> = BTreeMap::new();
        for ((_, t, _, _), n) in &got {
            *by_type.entry(t.clone()).or_default() += n;
        }
        if profile.iso8583.is_some() {
            assert_eq!(run.answers.len(), requests.len(), "{id}: one response each");
            assert!(
                by_type.keys().all(|t| t.len() == 4 && t.starts_with('0')),
                "{id}: {by_type:?}"
            );
        } else {
            assert!(
                by_type.keys().any(|t| t.starts_with("pacs.002")),
                "{id}: {by_type:?}"
            );
            assert!(
                by_type.keys().any(|t| t.starts_with("camt.054")),
                "{id}: {by_type:?}"
            );
        }

        // The day closed on stop; its statements are schema-valid.
        assert_eq!(run.report.days_closed.len(), 1, "{id}");
        let files = &run.report.days_closed[0].statements;
        if profile.iso8583.is_none() {
            assert!(!files.is_empty(), "{id}: no statement");
        }
        for file in files {
            xmllint(file).unwrap_or_else(|e| panic!("{}: {e}", file.display()));
        }
    }
    env.cleanup(&banks).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn faults_are_sent_as_planned_and_a_seed_repeats() {
    let sepa = profiles()
        .into_iter()
        .find(|p| p.id == "sepa-bank")
        .unwrap();
    let requests = generated_requests(&sepa, 11, 40);
    assert!(requests.len() >= 20, "{} requests", requests.len());
    let faults = Faults {
        dup: PerMille::new(300).unwrap(),
        reorder: PerMille::new(300).unwrap(),
        delay: PerMille::new(300).unwrap(),
        max_delay_ticks: 3,
        malformed: PerMille::new(200).unwrap(),
    };
    let mut cfg = config(42);
    cfg.reject_rate = PerMille::new(100).unwrap();
    cfg.return_rate = PerMille::new(200).unwrap();
    let want = expected(&sepa, &cfg, &faults, &requests);
    let count = |m: &Multiset, fault: &str| -> usize {
        m.iter().filter(|(k, _)| k.2 == fault).map(|(_, n)| n).sum()
    };
    assert!(count(&want, "duplicate") > 0 && count(&want, "malformed") > 0);

    let mut runs = Vec::new();
    for _ in 0..2 {
        let env = Env::start().await;
        let tmp = tempfile::tempdir().unwrap();
        let profile = on_prefix(&sepa, &env.prefix);
        let settings = Settings {
            profile: profile.clone(),
            config: cfg.clone(),
            faults,
            journal: Some(tmp.path().join("journal.jsonl")),
            statements: Some(tmp.path().join("statements")),
            day_close_after: None,
        };
        let run = run_once(&env, &profile, settings, &requests, tmp.path()).await;
        let got = received(&run.answers);
        assert_eq!(got, want, "answers with faults");
        assert_eq!(
            run.report.faults_sent as usize,
            count(&want, "duplicate") + count(&want, "malformed")
        );
        runs.push(got);
        env.cleanup(&[BankId::parse(&profile.id).unwrap()]).await;
    }
    assert_eq!(runs[0], runs[1], "same seed, same answers");
}

/// Lines of the state file that record a request done.
fn done_lines(journal: &Path) -> usize {
    let mut state = journal.as_os_str().to_owned();
    state.push(".state");
    std::fs::read_to_string(PathBuf::from(state))
        .unwrap_or_default()
        .lines()
        .filter(|l| l.contains("\"t\":\"done\""))
        .count()
}

fn distinct(m: &Multiset) -> Vec<&(String, String, String, String)> {
    m.keys().collect()
}

fn statement_bytes(files: &[PathBuf]) -> BTreeMap<String, Vec<u8>> {
    files
        .iter()
        .map(|f| {
            let name = f.file_name().unwrap().to_string_lossy().into_owned();
            (name, std::fs::read(f).unwrap())
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_crash_loses_no_answer_and_changes_none() {
    let sepa = profiles()
        .into_iter()
        .find(|p| p.id == "sepa-bank")
        .unwrap();
    let requests = generated_requests(&sepa, 5, 30);
    let mut cfg = config(9);
    cfg.return_rate = PerMille::new(300).unwrap();
    let faults = Faults {
        dup: PerMille::new(200).unwrap(),
        malformed: PerMille::new(100).unwrap(),
        ..Faults::none()
    };
    let settings = |profile: &Profile, dir: &Path| Settings {
        profile: profile.clone(),
        config: cfg.clone(),
        faults,
        journal: Some(dir.join("journal.jsonl")),
        statements: Some(dir.join("statements")),
        day_close_after: None,
    };

    // Uninterrupted.
    let env = Env::start().await;
    let tmp = tempfile::tempdir().unwrap();
    let profile = on_prefix(&sepa, &env.prefix);
    let run = run_once(
        &env,
        &profile,
        settings(&profile, tmp.path()),
        &requests,
        tmp.path(),
    )
    .await;
    let whole = received(&run.answers);
    let whole_statements = statement_bytes(&run.report.days_closed[0].statements);
    assert!(!whole_statements.is_empty());
    env.cleanup(&[BankId::parse(&profile.id).unwrap()]).await;

    // Interrupted: long ticks hold the ACSCs, the process "dies" (future and simulator dropped,
    // connection closed, nothing flushed) once requests are journaled, and a new simulator
    // reopens the files.
    let env = Env::start().await;
    let tmp = tempfile::tempdir().unwrap();
    let profile = on_prefix(&sepa, &env.prefix);
    let bank = BankId::parse(&profile.id).unwrap();
    env.topology
        .declare(&env.conn, std::slice::from_ref(&bank))
        .await
        .unwrap();
    publish(&profile.queues.outbound, &requests).await;
    let journal = tmp.path().join("journal.jsonl");
    let url = AmqpUrl::from_env().unwrap();
    let slow = BankSimConfig {
        tick: Duration::from_millis(300),
        connection_name: format!("{} bank-sim", env.prefix),
        ..BankSimConfig::default()
    };
    {
        let mut sim = Simulator::open(settings(&profile, tmp.path())).unwrap();
        let stop = CancellationToken::new();
        tokio::select! {
            result = run_bank_sim(&url, &mut sim, &slow, &stop) => panic!("ended early: {result:?}"),
            () = eventually(Duration::from_secs(15), || async { journal_counts(&journal).0 >= 5 }) => {}
        }
    }
    let before = done_lines(&journal);
    assert!(
        before < requests.len(),
        "the crash came after everything was done"
    );
    let mut sim = Simulator::open(settings(&profile, tmp.path())).unwrap();
    let stop = CancellationToken::new();
    let fast = BankSimConfig {
        tick: Duration::from_millis(10),
        ..slow.clone()
    };
    let driver = async {
        eventually(Duration::from_secs(30), || async {
            done_lines(&journal) >= requests.len()
        })
        .await;
        stop.cancel();
    };
    let (report, ()) = tokio::join!(run_bank_sim(&url, &mut sim, &fast, &stop), driver);
    let report = report.unwrap();
    assert!(report.recovered >= 1, "{report:?}");
    assert_eq!(
        done_lines(&journal),
        requests.len(),
        "each request done once"
    );
    let (lines, duplicates) = journal_counts(&journal);
    assert_eq!(
        lines - duplicates,
        requests.len(),
        "one first line per request"
    );
    let answers = env.drain(&profile.queues.inbound).await;
    let resumed = received(&answers);
    assert_eq!(
        distinct(&resumed),
        distinct(&whole),
        "same answers, none lost"
    );
    let mut bytes_of: BTreeMap<&str, &str> = BTreeMap::new();
    for (id, _, _, sha) in resumed.keys() {
        assert_eq!(
            *bytes_of.entry(id).or_insert(sha),
            sha.as_str(),
            "{id}: two bodies"
        );
    }
    assert_eq!(report.days_closed.len(), 1);
    assert_eq!(
        statement_bytes(&report.days_closed[0].statements),
        whole_statements,
        "the same statements"
    );
    env.cleanup(&[bank]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_day_closes_every_n_requests() {
    let sepa = profiles()
        .into_iter()
        .find(|p| p.id == "sepa-bank")
        .unwrap();
    let requests = generated_requests(&sepa, 3, 25);
    let n = requests.len();
    let env = Env::start().await;
    let tmp = tempfile::tempdir().unwrap();
    let profile = on_prefix(&sepa, &env.prefix);
    let cfg = config(4);
    let settings = Settings {
        profile: profile.clone(),
        config: cfg.clone(),
        faults: Faults::none(),
        journal: Some(tmp.path().join("journal.jsonl")),
        statements: Some(tmp.path().join("statements")),
        day_close_after: Some(10),
    };
    let run = run_once(&env, &profile, settings, &requests, tmp.path()).await;
    // Days of 10 requests (the repeat is a duplicate and counts for none), the last closed on stop.
    let days: Vec<u32> = run.report.days_closed.iter().map(|d| d.day).collect();
    assert_eq!(days, (0..n.div_ceil(10) as u32).collect::<Vec<_>>());
    // Request i was answered with the clock of day i / 10.
    let mut want = Multiset::new();
    for (day, chunk) in requests.chunks(10).enumerate() {
        let mut c = cfg.clone();
        c.clock += chrono::Duration::days(day as i64);
        want.extend(expected(&profile, &c, &Faults::none(), chunk));
    }
    assert_eq!(received(&run.answers), want);
    for closed in &run.report.days_closed {
        for file in &closed.statements {
            xmllint(file).unwrap_or_else(|e| panic!("{}: {e}", file.display()));
        }
    }
    env.cleanup(&[BankId::parse(&profile.id).unwrap()]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_closed_connection_reconnects_and_loses_nothing() {
    let sepa = profiles()
        .into_iter()
        .find(|p| p.id == "sepa-bank")
        .unwrap();
    let requests = generated_requests(&sepa, 8, 30);
    let cfg = config(21);
    let env = Env::start().await;
    let tmp = tempfile::tempdir().unwrap();
    let profile = on_prefix(&sepa, &env.prefix);
    let bank = BankId::parse(&profile.id).unwrap();
    env.topology
        .declare(&env.conn, std::slice::from_ref(&bank))
        .await
        .unwrap();
    publish(&profile.queues.outbound, &requests).await;
    let journal = tmp.path().join("journal.jsonl");
    let mut sim = Simulator::open(Settings {
        profile: profile.clone(),
        config: cfg.clone(),
        faults: Faults::none(),
        journal: Some(journal.clone()),
        statements: None,
        day_close_after: None,
    })
    .unwrap();
    let name = format!("{} bank-sim", env.prefix);
    let config = BankSimConfig {
        tick: Duration::from_millis(300), // the ACSCs are still held when the connection goes
        connection_name: name.clone(),
        ..BankSimConfig::default()
    };
    let url = AmqpUrl::from_env().unwrap();
    let stop = CancellationToken::new();
    let driver = async {
        eventually(Duration::from_secs(15), || async {
            journal_counts(&journal).0 >= 5
        })
        .await;
        assert_eq!(broker_common::close_connections_named(&name), 1);
        eventually(Duration::from_secs(30), || async {
            done_lines(&journal) >= requests.len()
        })
        .await;
        stop.cancel();
    };
    let (report, ()) = tokio::join!(run_bank_sim(&url, &mut sim, &config, &stop), driver);
    let report = report.unwrap();
    assert!(report.reconnects >= 1, "{report:?}");
    assert!(report.recovered >= 1, "{report:?}");
    assert_eq!(
        done_lines(&journal),
        requests.len(),
        "each request done once"
    );
    let (lines, duplicates) = journal_counts(&journal);
    assert_eq!(lines - duplicates, requests.len());
    let want = expected(&profile, &cfg, &Faults::none(), &requests);
    let got = received(&env.drain(&profile.queues.inbound).await);
    assert_eq!(
        distinct(&got),
        distinct(&want),
        "every answer, none changed"
    );
    env.cleanup(&[bank]).await;
}
