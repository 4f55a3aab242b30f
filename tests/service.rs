//! `clearway run` and `clearway status` as an operator runs them: the real binary, the real
//! RabbitMQ, a SQLite file or a fresh PostgreSQL database. Each test has its own topology
//! (`topology_prefix = "t.svc.<pid>.<test>"`) and its own copy of the profiles with their queues
//! renamed to match, so parallel tests and other people's runs never share a queue. A seeded
//! stream (`adapters::generate`) is published with `clearway publish`; the service runs until
//! `clearway status` says it is quiescent; the assertions count: items, inbox rows, outbox rows
//! (pending, published, and messages in the banks' `.out` queues), dead letters by reason and
//! in the dead queue, and the service's own metrics. No assertion reads a timing.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::collections::{BTreeMap, HashSet};
use std::io::{BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use adapters::generate::{LineKind, Spec, stream};
use adapters::profile::Profile;
use serde_json::Value;
use settlement::broker::{self, AmqpUrl, BankId, Topology};

const QUIESCENT_WAIT: Duration = Duration::from_secs(50);

fn amqp_url() -> String {
    std::env::var("CLEARWAY_AMQP_URL")
        .ok()
        .filter(|u| !u.is_empty())
        .unwrap_or_else(|| broker::DEFAULT_AMQP_URL.to_owned())
}

fn pg_admin_url() -> String {
    std::env::var("CLEARWAY_TEST_PG_URL")
        .ok()
        .filter(|u| !u.is_empty())
        .unwrap_or_else(|| "postgres://clearway:clearway@127.0.0.1:5432/clearway".to_owned())
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Db {
    Sqlite,
    Postgres,
}

/// One test's world: a folder, its topology, profiles, database and event stream. Dropping it
/// deletes the queues and exchanges and drops the PostgreSQL database.
struct World {
    dir: tempfile::TempDir,
    prefix: String,
    banks: Vec<BankId>,
    database_url: String,
    pg_name: Option<String>,
    events: PathBuf,
    /// Lines published: unique + duplicates + conflicts.
    lines: usize,
    unique: usize,
    duplicates: usize,
    conflicts: usize,
    expected_messages: BTreeMap<String, usize>,
    expected_items: usize,
}

impl World {
    fn new(test: &str, db: Db, events: usize, seed: u64) -> World {
        let dir = tempfile::tempdir().unwrap();
        let prefix = format!("t.svc.{}.{test}", std::process::id());
        // The profiles, with their queues where this topology puts them.
        let profiles_dir = dir.path().join("profiles");
        std::fs::create_dir(&profiles_dir).unwrap();
        let mut names: Vec<PathBuf> = std::fs::read_dir(common::fixtures().join("profiles"))
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|x| x == "toml"))
            .collect();
        names.sort();
        let mut profiles = Vec::new();
        for path in &names {
            let text = std::fs::read_to_string(path).unwrap();
            let copy = profiles_dir.join(path.file_name().unwrap());
            std::fs::write(
                &copy,
                text.replace("\"clearway.bank.", &format!("\"{prefix}.bank.")),
            )
            .unwrap();
            profiles.push(Profile::load(&copy).unwrap());
        }
        let banks = profiles
            .iter()
            .map(|p| BankId::parse(&p.id).unwrap())
            .collect();

        let (database_url, pg_name) = match db {
            Db::Sqlite => (
                format!(
                    "sqlite://{}?mode=rwc",
                    dir.path().join("clearway.db").display()
                ),
                None,
            ),
            Db::Postgres => {
                drop_stale_databases();
                let name = format!("cw_svc_{}_{test}", std::process::id());
                psql(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"));
                // template0 takes no connections, so parallel tests can copy it at once
                psql(&format!("CREATE DATABASE {name} TEMPLATE template0"));
                let admin = pg_admin_url();
                let base = admin.rsplit_once('/').map_or(admin.as_str(), |(b, _)| b);
                (format!("{base}/{name}"), Some(name))
            }
        };

        // The stream, and what it must produce.
        let spec = Spec::new(seed, events);
        let mut s = stream(&spec, &profiles);
        let mut text = String::new();
        let mut items = HashSet::new();
        let mut lines = 0;
        for line in s.by_ref() {
            text.push_str(&line.text);
            text.push('\n');
            lines += 1;
            if matches!(line.kind, LineKind::Unique(_)) {
                new_items(&line.text, &mut items);
            }
        }
        let counts = s.counts().clone();
        let events = dir.path().join("events.jsonl");
        std::fs::write(&events, text).unwrap();
        let world = World {
            prefix,
            banks,
            database_url,
            pg_name,
            events,
            lines,
            unique: counts.unique,
            duplicates: counts.duplicates,
            conflicts: counts.conflicts,
            expected_messages: counts.expected_messages,
            expected_items: items.len(),
            dir,
        };
        world.write_config("config.toml", "clearway", "");
        world
    }

    /// A config file for one instance; `extra` adds keys.
    fn write_config(&self, file: &str, name: &str, extra: &str) -> PathBuf {
        let path = self.dir.path().join(file);
        let text = format!(
            "name = \"{name}\"\namqp_url = \"{}\"\ndatabase_url = \"{}\"\nprofiles = \"{}\"\n\
             topology_prefix = \"{}\"\nmetrics_addr = \"127.0.0.1:0\"\nlag_poll_ms = 200\n{extra}",
            amqp_url(),
            self.database_url,
            self.dir.path().join("profiles").display(),
            self.prefix,
        );
        std::fs::write(&path, text).unwrap();
        path
    }

    fn config(&self) -> PathBuf {
        self.dir.path().join("config.toml")
    }

    fn topology(&self) -> Topology {
        Topology::with_prefix(&self.prefix)
    }

    fn publish(&self) {
        let out = clearway()
            .args(["publish", "--prefix", &self.prefix])
            .arg(&self.events)
            .env("CLEARWAY_AMQP_URL", amqp_url())
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }

    fn start(&self, config: &Path) -> Service {
        let mut child = clearway()
            .args(["run", "--log-format", "json", "--config"])
            .arg(config)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let stderr = child.stderr.take().unwrap();
        let logs = Arc::new(Mutex::new(Vec::new()));
        let sink = Arc::clone(&logs);
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines() {
                let Ok(line) = line else { break };
                sink.lock().unwrap().push(line);
            }
        });
        let mut service = Service { child, logs };
        // Polling `clearway status` before the service has migrated a fresh database would
        // race it for the schema; wait until it consumes.
        service.log("consuming");
        service
    }

    fn status(&self) -> Value {
        let out = clearway()
            .args(["status", "--json", "--config"])
            .arg(self.config())
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "status: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        serde_json::from_slice(&out.stdout).unwrap()
    }

    /// Polls `clearway status` until `done` holds; the last status either way.
    fn wait_for(&self, what: &str, done: impl Fn(&Value) -> bool) -> Value {
        let start = Instant::now();
        loop {
            let status = self.status();
            if done(&status) {
                return status;
            }
            assert!(
                start.elapsed() < QUIESCENT_WAIT,
                "{what} not reached; last status: {status:#}"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// Every unique event recorded, its messages published, the events queue drained.
    fn wait_quiescent(&self) -> Value {
        let Topology {
            events_queue,
            dead_queue,
            ..
        } = self.topology();
        self.wait_for("quiescence", |s| {
            s["inbox"] == self.unique
                && s["outbox_pending"] == 0
                && items_total(s) == self.expected_items
                && queue(s, &events_queue) == 0
                && dead_letters(s, "conflict") >= self.conflicts
                // the dead letters of the last batch are published after its commit
                && queue(s, &dead_queue) >= dead_total(s)
        })
    }

    /// What every run of this stream ends with, however it was interrupted: the figures of a
    /// clean run. Every unique event recorded once, every item created once, every outbox
    /// message written and published once, nothing pending or parked, and the generator's
    /// conflicts as the only dead letters, each recorded once. After a restart RabbitMQ may
    /// redeliver returned messages behind later ones, and two instances interleave a payment's
    /// events: `ingest` parks a follow-up that overtook its original and applies it with the
    /// original, and absorbs a redelivered dead letter.
    ///
    /// `redelivered`: a batch may have been committed and not acked (SIGKILL, broker restart),
    /// so a published row may be in its `.out` queue twice (the bank dedupes by message_id).
    fn assert_conserved(&self, s: &Value, redelivered: bool) {
        assert_eq!(s["inbox"], self.unique, "inbox rows = unique events: {s:#}");
        assert_eq!(items_total(s), self.expected_items, "items, each once");
        assert_eq!(s["outbox_pending"], 0);
        assert_eq!(s["parked"], 0, "every parked follow-up applied: {s:#}");
        let messages: usize = self.expected_messages.values().sum();
        assert_eq!(
            s["outbox_published"], messages,
            "each unique event's message, once: {s:#}"
        );
        let dead = s["dead_letters_by_reason"].as_object().unwrap();
        assert!(
            dead.keys().all(|r| r == "conflict"),
            "only the generator's conflicts: {dead:?}"
        );
        assert_eq!(dead_letters(s, "conflict"), self.conflicts, "{dead:?}");
        let topology = self.topology();
        assert_eq!(queue(s, &topology.events_queue), 0);
        let out: usize = self
            .banks
            .iter()
            .map(|b| queue(s, &topology.bank_out(b)))
            .sum();
        if redelivered {
            assert!(
                out >= messages,
                "{out} messages in the .out queues, {messages} rows"
            );
        } else {
            assert_eq!(out, messages, "one message per outbox row");
        }
        // A dead letter redelivered after a crash is published again (its first publish may
        // have been cut off after the commit): at least once on the dead queue, once in the store.
        if redelivered {
            assert!(
                queue(s, &topology.dead_queue) >= self.conflicts,
                "{} dead-queue messages for {} conflicts",
                queue(s, &topology.dead_queue),
                self.conflicts
            );
        } else {
            assert_eq!(queue(s, &topology.dead_queue), self.conflicts);
        }
    }

    /// A run nothing interrupted: exactly the generator's counts, and no message twice.
    fn assert_exact(&self, s: &Value) {
        self.assert_conserved(s, false);
    }
}

impl Drop for World {
    fn drop(&mut self) {
        let topology = self.topology();
        let banks = self.banks.clone();
        let _ = broker::block_on(async move {
            let url = AmqpUrl::parse(&amqp_url()).unwrap();
            if let Ok(conn) = broker::connect(&url, "service test cleanup").await {
                let _ = topology.delete(&conn, &banks).await;
                conn.close().await;
            }
        });
        if let Some(name) = &self.pg_name {
            // best effort: a failure here must not hide the test's own
            let _ = Command::new("psql")
                .arg(pg_admin_url())
                .args([
                    "-q",
                    "-c",
                    &format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"),
                ])
                .output();
        }
    }
}

/// Items a unique event creates, as `settlement::ingest` plans them: one per payment, one per
/// payout, one per return, refund and batch; a capture creates one only when nothing
/// authorized its payment; cancels and reversals are inputs on existing items.
fn new_items(text: &str, items: &mut HashSet<String>) {
    let event: Value = serde_json::from_str(text).unwrap();
    let data = &event["data"];
    let id = |v: &Value| v.as_str().unwrap().to_owned();
    match event["type"].as_str().unwrap() {
        "transfer.requested" | "card.authorization_requested" | "card.capture" => {
            items.insert(id(&data["payment_id"]));
        }
        "payout.batch_requested" => {
            for p in data["payouts"].as_array().unwrap() {
                items.insert(id(&p["payment_id"]));
            }
        }
        "transfer.return_requested" => {
            items.insert(format!("{}:return", id(&data["payment_id"])));
        }
        "card.refund" => {
            let event_id = id(&event["event_id"]);
            items.insert(format!("{}:refund:{event_id}", id(&data["payment_id"])));
        }
        "card.batch_closed" => {
            items.insert(id(&data["batch_id"]));
        }
        _ => {}
    }
}

fn items_total(s: &Value) -> usize {
    s["items_by_state"]
        .as_object()
        .unwrap()
        .values()
        .map(|n| n.as_u64().unwrap() as usize)
        .sum()
}

fn dead_total(s: &Value) -> usize {
    s["dead_letters_by_reason"]
        .as_object()
        .unwrap()
        .values()
        .map(|n| n.as_u64().unwrap() as usize)
        .sum()
}

fn dead_letters(s: &Value, reason: &str) -> usize {
    s["dead_letters_by_reason"][reason].as_u64().unwrap_or(0) as usize
}

/// Ready messages in a queue of the status (panics if the queue is missing).
fn queue(s: &Value, name: &str) -> usize {
    let q = s["queues"]
        .as_array()
        .unwrap()
        .iter()
        .find(|q| q["queue"] == name)
        .unwrap_or_else(|| panic!("{name} not in status"));
    q["messages"]
        .as_u64()
        .unwrap_or_else(|| panic!("{name} missing")) as usize
}

fn clearway() -> Command {
    let mut command = common::clearway();
    // The config file says everything; the environment must not override it.
    for var in [
        "DATABASE_URL",
        "CLEARWAY_PROFILES",
        "CLEARWAY_AMQP_URL",
        "RUST_LOG",
    ] {
        command.env_remove(var);
    }
    command
}

/// Drops the `cw_svc_<pid>_…` databases of test processes that are gone (a run that was
/// killed never ran its `Drop`).
fn drop_stale_databases() {
    let out = Command::new("psql")
        .arg(pg_admin_url())
        .args([
            "-Atc",
            "SELECT datname FROM pg_database WHERE datname LIKE 'cw_svc_%'",
        ])
        .output()
        .expect("psql runs");
    for name in String::from_utf8_lossy(&out.stdout).lines() {
        let pid = name.trim_start_matches("cw_svc_").split('_').next();
        let alive = pid.is_some_and(|p| Path::new("/proc").join(p).exists());
        if !alive {
            let _ = Command::new("psql")
                .arg(pg_admin_url())
                .args([
                    "-q",
                    "-c",
                    &format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"),
                ])
                .output();
        }
    }
}

fn psql(sql: &str) {
    let out = Command::new("psql")
        .arg(pg_admin_url())
        .args(["-v", "ON_ERROR_STOP=1", "-q", "-c", sql])
        .output()
        .expect("psql runs");
    assert!(
        out.status.success(),
        "psql {sql}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A running `clearway run`; killed when dropped.
struct Service {
    child: Child,
    logs: Arc<Mutex<Vec<String>>>,
}

impl Service {
    /// The first JSON log line whose message is `message`, waiting for it.
    fn log(&mut self, message: &str) -> Value {
        let start = Instant::now();
        loop {
            let found = self.logs.lock().unwrap().iter().find_map(|line| {
                let v: Value = serde_json::from_str(line).ok()?;
                (v["fields"]["message"] == message).then_some(v)
            });
            if let Some(v) = found {
                return v;
            }
            if let Ok(Some(status)) = self.child.try_wait() {
                panic!(
                    "service exited {status} before logging {message:?}: {:#?}",
                    self.logs.lock().unwrap()
                );
            }
            assert!(start.elapsed() < QUIESCENT_WAIT, "no log {message:?}");
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    fn metrics_addr(&mut self) -> String {
        let line = self.log("serving /metrics and /health");
        line["fields"]["addr"].as_str().unwrap().to_owned()
    }

    fn signal(&self, signal: &str) {
        let ok = Command::new("kill")
            .args([signal, &self.child.id().to_string()])
            .status()
            .unwrap()
            .success();
        assert!(ok, "kill {signal}");
    }

    fn wait(&mut self) -> ExitStatus {
        let start = Instant::now();
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status;
            }
            assert!(start.elapsed() < QUIESCENT_WAIT, "the service did not exit");
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// SIGTERM, and the exit status.
    fn stop(&mut self) -> ExitStatus {
        self.signal("-TERM");
        self.wait()
    }

    /// SIGTERM, and exit 0; else the last log lines in the failure.
    fn stop_ok(&mut self) {
        let status = self.stop();
        let logs = self.logs.lock().unwrap();
        let tail = logs
            .iter()
            .rev()
            .take(15)
            .rev()
            .cloned()
            .collect::<Vec<_>>();
        assert_eq!(
            status.code(),
            Some(0),
            "exit after SIGTERM; logs:\n{}",
            tail.join("\n")
        );
    }

    fn kill(&mut self) {
        self.signal("-KILL");
        self.wait();
    }
}

impl Drop for Service {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `GET path` on the metrics server: (status code, body).
fn http_get(addr: &str, path: &str) -> (u16, String) {
    let mut stream = std::net::TcpStream::connect(addr).unwrap();
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).unwrap();
    let code = response
        .split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    let body = response
        .split_once("\r\n\r\n")
        .map_or("", |(_, b)| b)
        .to_owned();
    (code, body)
}

/// The value of one sample line, e.g. `clearway_duplicates_absorbed_total`.
fn sample(metrics: &str, name: &str) -> usize {
    metrics
        .lines()
        .find_map(|l| l.strip_prefix(name)?.strip_prefix(' '))
        .map_or(0, |v| v.trim().parse().unwrap())
}

/// (1) A clean run: every count is exact, in the store, on the broker and in `/metrics`.
fn clean_run(db: Db, test: &str) {
    let world = World::new(test, db, 300, 11);
    world.publish();
    let mut service = world.start(&world.config());
    let addr = service.metrics_addr();
    let s = world.wait_quiescent();
    world.assert_exact(&s);
    let text = clearway()
        .args(["status", "--config"])
        .arg(world.config())
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&text.stdout);
    assert!(
        text.contains(&format!("inbox: {} deliveries recorded", world.unique)),
        "{text}"
    );
    assert!(
        text.contains(&format!("dead letters: conflict {}", world.conflicts)),
        "{text}"
    );
    let topology = world.topology();
    let messages: usize = world.expected_messages.values().sum();

    // The service's own counters agree (the relay marks rows before it counts them).
    let start = Instant::now();
    let metrics = loop {
        let (code, body) = http_get(&addr, "/metrics");
        assert_eq!(code, 200);
        let out: usize = world
            .expected_messages
            .keys()
            .map(|t| {
                sample(
                    &body,
                    &format!("clearway_messages_out_total{{type=\"{t}\"}}"),
                )
            })
            .sum();
        if out == messages || start.elapsed() > QUIESCENT_WAIT {
            break body;
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    for (t, n) in &world.expected_messages {
        let name = format!("clearway_messages_out_total{{type=\"{t}\"}}");
        assert_eq!(sample(&metrics, &name), *n, "{name}");
    }
    assert_eq!(
        sample(&metrics, "clearway_duplicates_absorbed_total"),
        world.duplicates
    );
    assert_eq!(
        sample(&metrics, "clearway_conflicts_total"),
        world.conflicts
    );
    assert_eq!(
        sample(&metrics, "clearway_dead_letters_total{reason=\"conflict\"}"),
        world.conflicts
    );
    let events_in: usize = metrics
        .lines()
        .filter(|l| {
            l.starts_with("clearway_messages_in_total{")
                && l.contains(&format!("queue=\"{}\"", topology.events_queue))
        })
        .map(|l| l.rsplit(' ').next().unwrap().parse::<usize>().unwrap())
        .sum();
    assert_eq!(events_in, world.lines, "every line consumed once");
    assert!(metrics.contains("clearway_batch_size_count"));
    assert!(metrics.contains("clearway_commit_seconds_count"));
    let health = (0..100)
        .map(|_| {
            std::thread::sleep(Duration::from_millis(100));
            http_get(&addr, "/health")
        })
        .find(|(code, _)| *code == 200);
    assert!(
        health.is_some(),
        "/health never 200: {:?}",
        http_get(&addr, "/health")
    );

    service.stop_ok();
    let logs = service.logs.lock().unwrap().join("\n");
    assert!(!logs.contains(":guest@"), "a password in the logs");
}

#[test]
fn a_clean_run_counts_exactly_on_sqlite() {
    clean_run(Db::Sqlite, "clean_sqlite");
}

#[test]
fn a_clean_run_counts_exactly_on_postgres() {
    clean_run(Db::Postgres, "clean_pg");
}

/// (2) SIGKILL after some batches, restart: the same final counts (no loss, no doubling).
fn killed_and_restarted(db: Db, test: &str) {
    let world = World::new(test, db, 1500, 12);
    // Small batches, so that the kill lands mid-run.
    let config = world.write_config(
        "small.toml",
        "killed",
        "prefetch = 20\nbatch_size_max = 10\nbatch_linger_ms = 0\n",
    );
    world.publish();
    let mut service = world.start(&config);
    let at_kill = world.wait_for("some batches", |s| s["inbox"].as_u64().unwrap() >= 100);
    service.kill();
    let inbox_at_kill = world.status()["inbox"].as_u64().unwrap() as usize;
    assert!(
        inbox_at_kill < world.unique,
        "the kill came after the end ({inbox_at_kill} of {}); status then: {at_kill:#}",
        world.unique
    );
    let mut again = world.start(&config);
    let s = world.wait_quiescent();
    world.assert_conserved(&s, true);
    again.stop_ok();
    world.assert_conserved(&world.status(), true);
    eprintln!(
        "{test}: killed at {inbox_at_kill} of {} events; end state as a clean run",
        world.unique
    );
}

#[test]
fn sigkill_mid_run_then_restart_loses_and_doubles_nothing_on_sqlite() {
    killed_and_restarted(Db::Sqlite, "kill_sqlite");
}

#[test]
fn sigkill_mid_run_then_restart_loses_and_doubles_nothing_on_postgres() {
    killed_and_restarted(Db::Postgres, "kill_pg");
}

/// (3) SIGTERM mid-run: exit 0, and what it committed it acked: the events queue holds exactly
/// the lines it did not consume. A restart finishes the stream with the same final counts.
#[test]
fn sigterm_exits_0_with_every_committed_batch_acked() {
    let world = World::new("term", Db::Sqlite, 1500, 13);
    let config = world.write_config(
        "small.toml",
        "term",
        "prefetch = 20\nbatch_size_max = 10\nbatch_linger_ms = 0\n",
    );
    world.publish();
    let mut service = world.start(&config);
    world.wait_for("some batches", |s| s["inbox"].as_u64().unwrap() >= 100);
    service.stop_ok();
    let stopped = service.log("stopped");
    let acked = stopped["fields"]["deliveries"].as_u64().unwrap() as usize;
    let s = world.status();
    let events_queue = world.topology().events_queue;
    assert!(acked < world.lines, "stopped after the end");
    assert_eq!(
        queue(&s, &events_queue),
        world.lines - acked,
        "every committed delivery acked, nothing else"
    );

    let mut again = world.start(&config);
    let s = world.wait_quiescent();
    world.assert_conserved(&s, false);
    eprintln!(
        "sigterm: {acked} of {} lines acked before the stop",
        world.lines
    );
    again.stop_ok();
    let second = again.log("stopped");
    assert_eq!(
        second["fields"]["deliveries"].as_u64().unwrap() as usize,
        world.lines - acked,
        "the second run consumed only what the first left"
    );
}

/// (4) Two instances on one PostgreSQL database, competing for the same queues: every line is
/// consumed once between them, every unique event recorded once, every item created once,
/// every outbox row written and published once: the figures of a clean run (see
/// `assert_conserved`). Competing consumers on one queue reorder the events of a payment (a
/// capture can commit before its authorization, a cancel before its transfer); `ingest` parks
/// the early one and applies it in the transaction that creates its item.
#[test]
fn two_instances_on_one_postgres_share_the_work() {
    let world = World::new("two", Db::Postgres, 1500, 14);
    let small = "prefetch = 20\nbatch_size_max = 10\nbatch_linger_ms = 0\n";
    let a = world.write_config("a.toml", "instance-a", small);
    let b = world.write_config("b.toml", "instance-b", small);
    let mut first = world.start(&a);
    let mut second = world.start(&b);
    world.publish();
    let Topology {
        events_queue,
        dead_queue,
        ..
    } = world.topology();
    world.wait_for("quiescence", |s| {
        s["inbox"] == world.unique
            && s["outbox_pending"] == 0
            && items_total(s) == world.expected_items
            && queue(s, &events_queue) == 0
            && queue(s, &dead_queue) >= dead_total(s)
    });
    first.stop_ok();
    second.stop_ok();
    let shares: Vec<u64> = [&mut first, &mut second]
        .into_iter()
        .map(|svc| svc.log("stopped")["fields"]["deliveries"].as_u64().unwrap())
        .collect();
    assert_eq!(
        shares.iter().sum::<u64>() as usize,
        world.lines,
        "every line consumed once between them: {shares:?}"
    );
    assert!(
        shares.iter().all(|n| *n > 0),
        "both instances worked: {shares:?}"
    );

    let s = world.status();
    world.assert_conserved(&s, false);
    let topology = world.topology();
    let published = s["outbox_published"].as_u64().unwrap() as usize;
    let out: usize = world
        .banks
        .iter()
        .map(|b| queue(&s, &topology.bank_out(b)))
        .sum();
    assert_eq!(out, published, "each outbox row published once");
    let messages: usize = world.expected_messages.values().sum();
    eprintln!("two instances: shares {shares:?}, {published} of {messages} messages");
}

/// (5) The broker stops and starts during a run: the same final counts.
///
/// Ignored by default: `rabbitmqctl stop_app` stops the broker for everyone on this machine,
/// including other test runs. Run it alone: `cargo test --test service -- --ignored`.
#[test]
#[ignore = "stops the shared RabbitMQ (rabbitmqctl stop_app); run alone with --ignored"]
fn broker_restart_mid_run_loses_and_doubles_nothing() {
    let world = World::new("restart", Db::Sqlite, 1500, 15);
    let config = world.write_config(
        "small.toml",
        "restart",
        "prefetch = 20\nbatch_size_max = 10\nbatch_linger_ms = 0\n",
    );
    world.publish();
    let mut service = world.start(&config);
    let before = world.wait_for("some batches", |s| s["inbox"].as_u64().unwrap() >= 100);
    rabbitmqctl("stop_app");
    let at_stop = before["inbox"].as_u64().unwrap() as usize;
    assert!(
        at_stop < world.unique,
        "the broker stopped after the end ({at_stop})"
    );
    std::thread::sleep(Duration::from_secs(3));
    rabbitmqctl("start_app");
    rabbitmqctl("await_startup");
    let s = world.wait_quiescent();
    world.assert_conserved(&s, true);
    service.stop_ok();
    let stopped = service.log("stopped");
    let reconnects = stopped["fields"]["reconnects"].as_u64().unwrap();
    assert!(
        reconnects >= 1,
        "the consumers never lost the broker: {stopped}"
    );
    eprintln!("broker restart: {reconnects} consumer reconnects; {stopped}");
}

fn rabbitmqctl(command: &str) {
    let out = Command::new("rabbitmqctl").arg(command).output().unwrap();
    assert!(
        out.status.success(),
        "rabbitmqctl {command}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// `clearway status` says which of the two it cannot reach, and exits 1.
#[test]
fn status_names_what_is_unreachable() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("c.toml");
    std::fs::write(
        &config,
        format!(
            "amqp_url = \"amqp://guest:secret@127.0.0.1:1/%2f\"\n\
             database_url = \"postgres://clearway:secret@127.0.0.1:1/none\"\nprofiles = \"{}\"\n",
            common::fixtures().join("profiles").display()
        ),
    )
    .unwrap();
    let out = clearway()
        .args(["status", "--config"])
        .arg(&config)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("database postgres://clearway:***@127.0.0.1:1/none unreachable"),
        "{stderr}"
    );
    assert!(stderr.contains("broker unreachable"), "{stderr}");
    assert!(!stderr.contains("secret"), "{stderr}");
}

/// A misspelt key, or profiles whose queues the topology would not use, refuse to start (3).
#[test]
fn a_bad_configuration_is_refused_before_anything_starts() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("c.toml");
    std::fs::write(&config, "prefech = 300\n").unwrap();
    let out = clearway()
        .args(["run", "--config"])
        .arg(&config)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(3));
    assert!(String::from_utf8_lossy(&out.stderr).contains("unknown field `prefech`"));

    std::fs::write(
        &config,
        format!(
            "topology_prefix = \"other\"\nprofiles = \"{}\"\nmetrics_addr = \"127.0.0.1:0\"\n",
            common::fixtures().join("profiles").display()
        ),
    )
    .unwrap();
    let out = clearway()
        .args(["run", "--config"])
        .arg(&config)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(3));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("queues.outbound is \"clearway.bank.card-acquirer.out\", but topology_prefix puts it at \"other.bank.card-acquirer.out\""),
        "{stderr}"
    );
}
