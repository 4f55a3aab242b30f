//! `clearway demo [--events N] [--chaos] [--out DIR] [--seed S]`: the README's main job. It
//! makes sure RabbitMQ runs, starts the service (`clearway run`) on a fresh SQLite file in
//! `DIR`, publishes N seeded events of every type (with exact duplicates and conflicting
//! reuses), starts one bank simulator (`clearway bank-sim`) per example profile, waits until
//! clearing is quiet, closes the banks' day, stops everything and checks the result against the
//! store and the banks' journals: nothing lost, nothing doubled, every count as the generator
//! said (`settlement::demo::check`). The figures go to stdout and `DIR/summary.json`.
//!
//! The run has three phases, watched by polling the broker and the store: **ingest** (events
//! recorded by the inbox; the banks are not started yet, so their answers never race the
//! events they answer and the figures do not depend on which side runs faster), **clearing**
//! (items answered; quiet when every queue is empty, the outbox is drained, every message is in
//! its bank's journal and nothing changed for a few polls) and **day close** (the banks stop,
//! sending their end-of-day answers, which the service records). `--chaos` SIGKILLs and
//! restarts the service and closes the children's broker connections at seeded moments of
//! the first two phases (`chaos.rs`), and with `--broker-restarts` also restarts RabbitMQ
//! (`rabbitmqctl stop_app`/`start_app`); the figures must come out the same as without.
//! `--database-url postgres://…` runs the same demo on a fresh PostgreSQL database, and
//! `--topology-prefix` gives it queue names of its own on a shared broker.
//!
//! Exit 0 when the check passes, 1 when it fails or something is stuck past `--timeout` (the
//! message says what), 3 for bad arguments or profiles.

mod chaos;
mod children;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use adapters::Profile;
use adapters::generate::Spec;
use anyhow::{Context, bail};
use indicatif::{ProgressBar, ProgressStyle};
use settlement::banksim::JournalEntry;
use settlement::broker::{AmqpUrl, BankId, Topology};
use settlement::demo::{self, Expected, Probe, Report, Snapshot, read_journal};

use super::{Outcome, refused};
use chaos::{Fault, Phase, Strike};
use children::{Child, Spec as ChildSpec, has_subcommand};

/// Arguments of `clearway demo`.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// Unique valid events to publish (5 % exact duplicates and a few conflicts come on top).
    #[arg(long, default_value_t = 10_000)]
    events: usize,
    /// SIGKILL the service and close broker connections at seeded moments; the figures must
    /// not change.
    #[arg(long)]
    chaos: bool,
    /// Where the database, journals, statements, logs and summary.json go (emptied first).
    #[arg(long, default_value = "out")]
    out: PathBuf,
    /// Seed of the events, the banks and the chaos.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// The bank profiles, one simulator each (default: `CLEARWAY_PROFILES`, else
    /// fixtures/profiles).
    #[arg(long, value_name = "DIR")]
    profiles: Option<PathBuf>,
    /// Run on PostgreSQL: a `postgres://` URL of a server and a database the role can connect to
    /// (it needs CREATEDB). The demo creates a fresh database `clearway_demo_<seed>_<pid>` on
    /// that server for the run, and drops it at the end when the check passes (a failed run
    /// leaves it for inspection and says so). Without this flag the demo uses a fresh SQLite
    /// file `DIR/clearway.db`; `DATABASE_URL` is deliberately ignored.
    #[arg(long, value_name = "URL")]
    database_url: Option<String>,
    /// With `--chaos`: also restart the RabbitMQ application (`rabbitmqctl stop_app`, then
    /// `start_app`) at seeded moments. It disturbs everyone else on the broker: opt-in.
    #[arg(long, requires = "chaos")]
    broker_restarts: bool,
    /// The names of the demo's exchanges and queues: `<PREFIX>.events`, `<PREFIX>.bank.<id>.out`,
    /// …; the demo deletes and declares them first. With another prefix than `clearway` the
    /// profiles are copied to `DIR/profiles` with their queue names renamed, so demos on one
    /// broker under different prefixes never share a queue (the tests and scripts/chaos do so).
    #[arg(long, value_name = "PREFIX", default_value = "clearway")]
    topology_prefix: String,
    /// Give up (exit 1, saying what is stuck) after this many seconds.
    #[arg(long, default_value_t = 1800)]
    timeout: u64,
}

/// The simulated banks' first day: the day `adapters::generate` dates its events.
const DEMO_DATE: &str = "2026-11-25";
/// How often the broker and the store are polled.
const POLL: Duration = Duration::from_millis(500);
/// Polls without any change before a phase counts as quiet (bank answers leave within a few
/// 50 ms ticks; this is ten times the longest planned delay).
const STABLE_POLLS: u32 = 6;
/// How long a stopping child may take before it is killed.
const STOP_GRACE: Duration = Duration::from_secs(30);
/// Starts of one child (the first included) before the demo gives up on it.
const STARTS_MAX: u32 = 25;

pub(crate) fn run(args: Args) -> anyhow::Result<Outcome> {
    let started = Instant::now();
    let exe = std::env::current_exe().context("finding the clearway executable")?;
    for sub in ["run", "bank-sim"] {
        if !has_subcommand(&exe, sub) {
            bail!(
                "{} has no `{sub}` command: the demo needs `clearway run` and `clearway bank-sim`",
                exe.display()
            );
        }
    }
    let profiles_arg = args
        .profiles
        .clone()
        .or_else(|| std::env::var_os("CLEARWAY_PROFILES").map(PathBuf::from))
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or_else(|| PathBuf::from("fixtures/profiles"));
    let mut profiles = load_profiles(&profiles_arg)?;
    let prefix = args.topology_prefix.as_str();
    let prefix_ok = !prefix.is_empty()
        && prefix.len() <= 64
        && prefix
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '.' | '-' | '_'));
    if !prefix_ok {
        return Err(refused(format!(
            "--topology-prefix {prefix:?}: expected 1 to 64 of a-z, 0-9, '.', '-', '_'"
        )));
    }
    let dir = prepare_out(&args.out)?;
    let profiles_arg = if prefix == DEFAULT_PREFIX {
        profiles_arg
    } else {
        let renamed = rename_queues(&profiles, &dir, prefix)?;
        profiles = load_profiles(&renamed)?;
        renamed
    };
    let banks = profiles
        .iter()
        .map(|(_, p)| BankId::parse(&p.id).map_err(|e| refused(e.to_string())))
        .collect::<anyhow::Result<Vec<_>>>()?;
    let database = DemoDatabase::prepare(args.database_url.as_deref(), &dir, args.seed)?;
    let database_url = database.url.clone();
    let url = AmqpUrl::from_env().map_err(|e| refused(e.to_string()))?;
    let topology = Topology::with_prefix(prefix);
    let mut probe = Probe::open(&database_url, url.clone(), topology.clone(), banks.clone())
        .context("opening the demo's database")?;
    ensure_rabbitmq(&mut probe, &url)?;
    probe
        .reset_topology()
        .with_context(|| format!("resetting the demo's queues on {url}"))?;

    let spec = Spec::new(args.seed, args.events);
    let only_profiles: Vec<Profile> = profiles.iter().map(|(_, p)| p.clone()).collect();
    let (jsonl, expected) = demo::generate(&spec, &only_profiles)?;
    // The events stay in memory: they are the wire and hold card numbers, which no file the
    // demo writes may hold (`clearway generate events` writes the same stream on purpose).
    eprintln!(
        "generated {} events ({} unique, {} duplicates, {} conflicts, seed {})",
        expected.lines, expected.unique, expected.duplicates, expected.conflicts, args.seed
    );

    let profiles_dir = profiles_arg
        .canonicalize()
        .with_context(|| format!("--profiles {}", profiles_arg.display()))?;
    let config = write_run_config(&dir, database.file_url(), &profiles_dir, &topology)?;
    let logs = dir.join("logs");
    let envs = vec![
        ("DATABASE_URL".to_owned(), database_url.clone()),
        (
            "CLEARWAY_PROFILES".to_owned(),
            profiles_dir.display().to_string(),
        ),
    ];
    let service = Child::new(ChildSpec {
        name: "clearway run".into(),
        program: exe.clone(),
        args: vec![
            "run".into(),
            "--config".into(),
            config.display().to_string(),
            "--metrics-addr".into(),
            "127.0.0.1:0".into(),
        ],
        envs: envs.clone(),
        log: logs.join("run.log"),
    });
    let bank_sims = profiles
        .iter()
        .map(|(path, p)| {
            Child::new(ChildSpec {
                name: format!("clearway bank-sim {}", p.id),
                program: exe.clone(),
                args: vec![
                    "bank-sim".into(),
                    "--profile".into(),
                    path.display().to_string(),
                    "--journal".into(),
                    journal_path(&dir, &p.id).display().to_string(),
                    "--statements".into(),
                    dir.join("statements").display().to_string(),
                    "--seed".into(),
                    args.seed.to_string(),
                    // The generator's day, so answers and statements do not depend on the date.
                    "--date".into(),
                    DEMO_DATE.into(),
                ],
                envs: envs.clone(),
                log: logs.join(format!("bank-sim-{}.log", p.id)),
            })
        })
        .collect();

    let mut demo = Demo {
        probe,
        topology,
        dir: dir.clone(),
        banks: banks.iter().map(|b| b.as_str().to_owned()).collect(),
        service,
        bank_sims,
        banks_running: false,
        strikes: if args.chaos {
            chaos::plan(args.seed, args.broker_restarts)
        } else {
            Vec::new()
        },
        kills: 0,
        connection_rounds: 0,
        connections_closed: 0,
        broker_restarts: 0,
        unexpected_restarts: 0,
        deadline: started + Duration::from_secs(args.timeout),
        held: BTreeMap::new(),
    };
    demo.service.start()?;
    let published = demo
        .probe
        .publish(&jsonl)
        .with_context(|| format!("publishing the events to {url}"))?;
    eprintln!(
        "published {published} events to {}",
        demo.topology.events_exchange
    );

    let outcome = demo.phases(&expected);
    demo.stop_all();
    let report = demo.report(&expected)?;
    let summary = demo.summary_json(&report, &args, started, outcome.as_ref().err())?;
    let summary_path = dir.join("summary.json");
    std::fs::write(&summary_path, summary)
        .with_context(|| format!("writing {}", summary_path.display()))?;
    // A reader that went away (`| head`) does not change the verdict: summary.json holds the
    // figures and the exit code says whether anything was lost or doubled.
    let _printed = print_report(&report, &summary_path);
    demo.probe.close();
    database.finish(outcome.is_ok() && report.passed());
    outcome?;
    if !report.passed() {
        bail!(
            "the check failed: lost {}, doubled {}, {} counts disagree with the generator (see {})",
            report.lost,
            report.doubled,
            report.mismatches.len(),
            summary_path.display()
        );
    }
    Ok(Outcome::Clean)
}

/// The profiles of a folder, with their files, in name order.
fn load_profiles(dir: &Path) -> anyhow::Result<Vec<(PathBuf, Profile)>> {
    let entries = std::fs::read_dir(dir)
        .map_err(|e| refused(format!("--profiles {}: {e}", dir.display())))?;
    let mut paths: Vec<PathBuf> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "toml"))
        .collect();
    paths.sort();
    if paths.is_empty() {
        return Err(refused(format!(
            "--profiles {}: no *.toml profile",
            dir.display()
        )));
    }
    paths
        .into_iter()
        .map(|path| {
            let profile = Profile::load(&path).map_err(|e| refused(e.to_string()))?;
            let path = path
                .canonicalize()
                .with_context(|| format!("resolving {}", path.display()))?;
            Ok((path, profile))
        })
        .collect()
}

/// Creates `out` and removes what an earlier run left there; returns its absolute path.
fn prepare_out(out: &Path) -> anyhow::Result<PathBuf> {
    if out.exists() && !out.is_dir() {
        return Err(refused(format!("--out {}: not a directory", out.display())));
    }
    std::fs::create_dir_all(out.join("logs"))
        .with_context(|| format!("creating {}", out.display()))?;
    let dir = out
        .canonicalize()
        .with_context(|| format!("resolving {}", out.display()))?;
    let entries = std::fs::read_dir(&dir).with_context(|| format!("reading {}", dir.display()))?;
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        let ours = name.starts_with("clearway.db")
            || name.starts_with("journal-")
            || matches!(
                name.as_str(),
                "summary.json" | "events.jsonl" | "run.toml" | "statements" | "logs" | "profiles"
            );
        if !ours {
            continue;
        }
        let path = entry.path();
        let removed = if path.is_dir() {
            std::fs::remove_dir_all(&path)
        } else {
            std::fs::remove_file(&path)
        };
        removed.with_context(|| format!("removing {}", path.display()))?;
    }
    for sub in ["logs", "statements"] {
        std::fs::create_dir_all(dir.join(sub))
            .with_context(|| format!("creating {}", dir.join(sub).display()))?;
    }
    Ok(dir)
}

/// The production prefix of every exchange and queue name.
const DEFAULT_PREFIX: &str = "clearway";

/// Copies the profiles to `DIR/profiles`, their `clearway.bank.` queue names renamed to
/// `<prefix>.bank.`; returns that folder.
fn rename_queues(
    profiles: &[(PathBuf, Profile)],
    dir: &Path,
    prefix: &str,
) -> anyhow::Result<PathBuf> {
    let to = dir.join("profiles");
    std::fs::create_dir_all(&to).with_context(|| format!("creating {}", to.display()))?;
    let (from_names, to_names) = (
        format!("\"{DEFAULT_PREFIX}.bank."),
        format!("\"{prefix}.bank."),
    );
    for (path, profile) in profiles {
        let text =
            std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
        if !text.contains(&from_names) {
            return Err(refused(format!(
                "profile {}: its queues are not named {DEFAULT_PREFIX}.bank.<id>.*, so \
                 --topology-prefix cannot rename them",
                profile.id
            )));
        }
        let name = path.file_name().unwrap_or(path.as_os_str());
        let target = to.join(name);
        std::fs::write(&target, text.replace(&from_names, &to_names))
            .with_context(|| format!("writing {}", target.display()))?;
    }
    Ok(to)
}

fn journal_path(dir: &Path, bank: &str) -> PathBuf {
    dir.join(format!("journal-{bank}.jsonl"))
}

/// `DIR/run.toml`: the service's settings (the broker URL comes from the environment, so no
/// password is written to a file).
fn write_run_config(
    dir: &Path,
    database_url: Option<&str>,
    profiles: &Path,
    topology: &Topology,
) -> anyhow::Result<PathBuf> {
    let prefix = topology
        .events_queue
        .strip_suffix(".events")
        .unwrap_or("clearway");
    // A PostgreSQL URL may hold a password: it reaches the service through `DATABASE_URL`.
    let database = database_url.map_or_else(
        || "# database_url: from DATABASE_URL (PostgreSQL)\n".to_owned(),
        |url| format!("database_url = {url:?}\n"),
    );
    let text = format!(
        "# Written by `clearway demo`: the settings of the service it starts.\n\
         name = \"clearway-demo\"\n\
         {database}\
         profiles = {:?}\n\
         topology_prefix = {:?}\n",
        profiles.display().to_string(),
        prefix
    );
    let path = dir.join("run.toml");
    std::fs::write(&path, text).with_context(|| format!("writing {}", path.display()))?;
    Ok(path)
}

/// Connects, or starts RabbitMQ (`rabbitmq-server -detached`, then `rabbitmqctl
/// await_startup`, retried while the node boots) and connects again.
fn ensure_rabbitmq(probe: &mut Probe, url: &AmqpUrl) -> anyhow::Result<()> {
    if probe.broker_reachable().is_ok() {
        return Ok(());
    }
    eprintln!("RabbitMQ does not answer at {url}: starting it (rabbitmq-server -detached)");
    let quiet = |program: &str, args: &[&str]| {
        Command::new(program)
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
    };
    quiet("rabbitmq-server", &["-detached"]).context(
        "starting rabbitmq-server (install it with `apt-get install rabbitmq-server`, \
         as scripts/demo does)",
    )?;
    for _ in 0..30 {
        let up = quiet("rabbitmqctl", &["-q", "await_startup", "--timeout", "60"])
            .is_ok_and(|s| s.success());
        if up {
            break;
        }
        std::thread::sleep(Duration::from_secs(2));
    }
    let mut last = None;
    for _ in 0..10 {
        match probe.broker_reachable() {
            Ok(()) => return Ok(()),
            Err(e) => last = Some(e),
        }
        std::thread::sleep(Duration::from_secs(1));
    }
    match last {
        Some(e) => Err(anyhow::Error::new(e).context("RabbitMQ was started but does not answer")),
        None => Ok(()),
    }
}

/// The running demo: its probe, its children and what the chaos did.
struct Demo {
    probe: Probe,
    topology: Topology,
    dir: PathBuf,
    banks: Vec<String>,
    service: Child,
    bank_sims: Vec<Child>,
    banks_running: bool,
    strikes: Vec<Strike>,
    kills: u32,
    connection_rounds: u32,
    connections_closed: usize,
    broker_restarts: u32,
    unexpected_restarts: u32,
    deadline: Instant,
    /// Queues the broker said still hold messages when the demo last thought it was done.
    held: BTreeMap<String, u64>,
}

/// What one poll found, for progress and for "nothing changed".
#[derive(Debug, Clone, PartialEq, Eq)]
struct Look {
    snapshot: Snapshot,
    journal_lines: usize,
}

impl Demo {
    fn phases(&mut self, expected: &Expected) -> anyhow::Result<()> {
        self.ingest(expected)?;
        for bank in &mut self.bank_sims {
            bank.start()?;
        }
        self.banks_running = true;
        self.clearing()?;
        self.close_day()
    }

    /// Until every event is recorded (or the events queue is empty and nothing moves).
    fn ingest(&mut self, expected: &Expected) -> anyhow::Result<()> {
        let target = (expected.unique + expected.conflicts) as u64;
        let bar = progress_bar("ingest", target, "events recorded");
        self.watch(Phase::Ingest, &bar, |demo, look, stable| {
            let a = &look.snapshot.activity;
            let done = (a.inbox_events + a.conflicts_on_events).max(0) as u64;
            let events_ready = demo.ready(&look.snapshot, &demo.topology.events_queue);
            let finished =
                events_ready == 0 && ((done >= target && stable >= 2) || stable >= STABLE_POLLS);
            Ok(((done, target), finished))
        })?;
        bar.finish();
        Ok(())
    }

    /// Until clearing is quiet: queues empty, outbox drained, every message journaled. The bar
    /// (and the chaos) follow the messages into the banks' journals; items answered are shown
    /// beside it.
    fn clearing(&mut self) -> anyhow::Result<()> {
        let bar = progress_bar("clearing", 0, "messages at their banks");
        self.watch(Phase::Clearing, &bar, |demo, look, stable| {
            let a = &look.snapshot.activity;
            let waiting: i64 = ["requested", "submitted"]
                .iter()
                .map(|s| a.items_by_state.get(*s).copied().unwrap_or(0))
                .sum();
            let items: i64 = a.items_by_state.values().sum();
            bar.set_message(format!(
                "messages at their banks, {} of {items} items answered",
                items - waiting
            ));
            let progress = (look.journal_lines as u64, a.outbox_rows.max(0) as u64);
            let quiet = demo.ready_all(&look.snapshot) == 0
                && look.snapshot.activity.outbox_pending == 0
                && stable >= STABLE_POLLS;
            // A message that never reaches its bank is the check's to report, once nothing
            // has moved for a long while.
            let finished = quiet && (stable >= 4 * STABLE_POLLS || demo.all_journaled()?);
            Ok((progress, finished))
        })?;
        bar.finish();
        Ok(())
    }

    /// Stops the banks (they send their end-of-day answers and write their statements), then
    /// waits until the service has recorded what they sent.
    fn close_day(&mut self) -> anyhow::Result<()> {
        self.banks_running = false;
        for bank in &mut self.bank_sims {
            match bank.terminate(STOP_GRACE) {
                Some(status) if status.success() => {}
                stopped => eprintln!(
                    "{} {}; its log ends with:\n{}",
                    bank.spec.name,
                    stopped.map_or(
                        format!("did not stop within {STOP_GRACE:?} and was killed"),
                        |status| format!("stopped with {status}")
                    ),
                    bank.log_tail(5)
                ),
            }
        }
        let bar = progress_bar("day close", 0, "answers left");
        self.watch(Phase::Clearing, &bar, |demo, look, stable| {
            let ready = demo.ready_all(&look.snapshot);
            Ok(((0, ready), ready == 0 && stable >= STABLE_POLLS))
        })?;
        bar.finish_and_clear();
        Ok(())
    }

    /// Polls until `step` says the phase is over: keeps the children running, draws the bar,
    /// strikes when chaos is due, and counts how many polls in a row saw no change.
    fn watch(
        &mut self,
        phase: Phase,
        bar: &ProgressBar,
        mut step: impl FnMut(&mut Demo, &Look, u32) -> anyhow::Result<((u64, u64), bool)>,
    ) -> anyhow::Result<()> {
        let mut last: Option<Look> = None;
        let mut stable = 0u32;
        loop {
            self.supervise()?;
            let look = self.look()?;
            stable = if last.as_ref() == Some(&look) {
                stable + 1
            } else {
                0
            };
            let ((done, total), finished) = step(self, &look, stable)?;
            bar.set_length(total);
            bar.set_position(done.min(total));
            let due = self.strikes.iter().position(|s| {
                !s.done
                    && s.phase == phase
                    && (done * 1000 >= s.at_per_mille * total.max(1) || finished)
            });
            let mut unsettled = false;
            if let Some(i) = due {
                self.strike(i, bar)?;
                stable = 0;
            } else if finished {
                // Passive declares count ready messages only: a delivery a consumer holds and
                // has not acked is invisible to them. Ask the broker once before finishing.
                // Before the banks start, their `.out` queues fill by design.
                let queues = match phase {
                    Phase::Ingest => vec![self.topology.events_queue.clone()],
                    Phase::Clearing => self.our_queues(),
                };
                self.held = held_messages(&queues);
                if self.held.is_empty() {
                    return Ok(());
                }
                unsettled = true;
                let held: Vec<String> = self.held.iter().map(|(q, n)| format!("{q} {n}")).collect();
                bar.suspend(|| eprintln!("not done yet, messages held: {}", held.join(", ")));
            }
            if Instant::now() > self.deadline {
                bail!("timed out: {}", self.stuck(&look));
            }
            last = if unsettled { None } else { Some(look) };
            std::thread::sleep(POLL);
        }
    }

    fn look(&mut self) -> anyhow::Result<Look> {
        let snapshot = self.probe.snapshot()?;
        let mut journal_lines = 0;
        for bank in &self.banks {
            let path = journal_path(&self.dir, bank);
            let text = std::fs::read(&path).unwrap_or_default();
            journal_lines += text.iter().filter(|b| **b == b'\n').count();
        }
        Ok(Look {
            snapshot,
            journal_lines,
        })
    }

    fn ready(&self, snapshot: &Snapshot, queue: &str) -> u64 {
        snapshot
            .queues
            .iter()
            .filter(|q| q.queue == queue)
            .map(|q| u64::from(q.messages.unwrap_or(u32::MAX)))
            .sum()
    }

    /// Ready messages in every queue but the dead-letter one; an unknown depth counts as busy.
    fn ready_all(&self, snapshot: &Snapshot) -> u64 {
        if snapshot.queues.iter().any(|q| q.messages.is_none()) {
            return u64::MAX;
        }
        snapshot.ready_messages(&self.topology.dead_queue)
    }

    /// Every outbox message is in its bank's journal.
    fn all_journaled(&self) -> anyhow::Result<bool> {
        let facts = self.probe.facts()?;
        let journals = self.journals()?;
        let report = demo::check(
            &Expected::default(),
            &facts,
            &journals,
            &self.topology.events_queue,
        );
        Ok(report.lost_detail.messages_never_received == 0)
    }

    fn journals(&self) -> anyhow::Result<BTreeMap<String, Vec<JournalEntry>>> {
        self.banks
            .iter()
            .map(|bank| Ok((bank.clone(), read_journal(&journal_path(&self.dir, bank))?)))
            .collect()
    }

    /// Restarts a child that died on its own; gives up on one that refuses its arguments or
    /// keeps dying.
    fn supervise(&mut self) -> anyhow::Result<()> {
        let banks_running = self.banks_running;
        let mut children: Vec<&mut Child> = vec![&mut self.service];
        if banks_running {
            children.extend(self.bank_sims.iter_mut());
        }
        for child in children {
            let Some(status) = child.exited()? else {
                continue;
            };
            let refused_args = matches!(status.code(), Some(2 | 3));
            if refused_args || child.starts >= STARTS_MAX {
                bail!(
                    "{} exited with {status} (started {} times); {} ends with:\n{}",
                    child.spec.name,
                    child.starts,
                    child.spec.log.display(),
                    child.log_tail(10)
                );
            }
            self.unexpected_restarts += 1;
            child.start()?;
        }
        Ok(())
    }

    fn strike(&mut self, index: usize, bar: &ProgressBar) -> anyhow::Result<()> {
        let Some(strike) = self.strikes.get_mut(index) else {
            return Ok(());
        };
        strike.done = true;
        let (fault, at) = (strike.fault, strike.at_per_mille);
        let message = match fault {
            Fault::KillService => {
                self.service.kill();
                self.kills += 1;
                self.service.start()?;
                format!("chaos: SIGKILLed the service at {at}‰ and started it again")
            }
            Fault::CloseConnections => {
                let mut pids: Vec<u32> = self.service.pid().into_iter().collect();
                if self.banks_running {
                    pids.extend(self.bank_sims.iter().filter_map(Child::pid));
                }
                let closed = chaos::close_connections_of(&pids)?;
                self.connection_rounds += 1;
                self.connections_closed += closed;
                format!("chaos: closed {closed} broker connections at {at}‰")
            }
            Fault::RestartBroker => {
                bar.suspend(|| {
                    eprintln!("chaos: restarting RabbitMQ at {at}‰ (stop_app, start_app)")
                });
                chaos::restart_broker()?;
                self.broker_restarts += 1;
                format!("chaos: RabbitMQ is back after a restart at {at}‰")
            }
        };
        bar.suspend(|| eprintln!("{message}"));
        Ok(())
    }

    /// Every queue of the demo but the dead-letter one.
    fn our_queues(&self) -> Vec<String> {
        let mut queues = vec![self.topology.events_queue.clone()];
        for bank in &self.banks {
            for side in ["out", "in"] {
                queues.push(format!("{}{bank}.{side}", self.topology.bank_prefix));
            }
        }
        queues
    }

    /// What keeps the demo from finishing, in one sentence.
    fn stuck(&self, look: &Look) -> String {
        let mut parts: Vec<String> = self
            .held
            .iter()
            .map(|(queue, n)| format!("{queue} holds {n} messages (ready or unacked)"))
            .collect();
        for q in &look.snapshot.queues {
            match q.messages {
                Some(0) => {}
                Some(n) if q.queue != self.topology.dead_queue => {
                    parts.push(format!("{} holds {n} messages", q.queue));
                }
                None => parts.push(format!("{} does not answer", q.queue)),
                Some(_) => {}
            }
        }
        let pending = look.snapshot.activity.outbox_pending;
        if pending > 0 {
            parts.push(format!("{pending} outbox rows are unpublished"));
        }
        if parts.is_empty() {
            parts.push("the store is still changing".into());
        }
        parts.join(", ")
    }

    fn stop_all(&mut self) {
        for bank in &mut self.bank_sims {
            bank.terminate(STOP_GRACE);
        }
        self.service.terminate(STOP_GRACE);
    }

    fn report(&self, expected: &Expected) -> anyhow::Result<Report> {
        let facts = self.probe.facts()?;
        let journals = self.journals()?;
        Ok(demo::check(
            expected,
            &facts,
            &journals,
            &self.topology.events_queue,
        ))
    }

    /// The report, the seed, and a `run` section with what varies from run to run (time,
    /// chaos, re-sends the banks deduped): compare two summaries without it.
    fn summary_json(
        &self,
        report: &Report,
        args: &Args,
        started: Instant,
        failure: Option<&anyhow::Error>,
    ) -> anyhow::Result<String> {
        let journals = self.journals()?;
        let deduped: usize = journals
            .values()
            .map(|j| j.iter().filter(|e| e.duplicate).count())
            .sum();
        let mut value = serde_json::to_value(report)?;
        if let Some(object) = value.as_object_mut() {
            object.insert("seed".into(), args.seed.into());
            object.insert(
                "run".into(),
                serde_json::json!({
                    "chaos": args.chaos,
                    "database": database_kind(args.database_url.is_some()),
                    "topology_prefix": args.topology_prefix,
                    "broker_restarts": self.broker_restarts,
                    "elapsed_ms": started.elapsed().as_millis() as u64,
                    "service_kills": self.kills,
                    "connection_close_rounds": self.connection_rounds,
                    "connections_closed": self.connections_closed,
                    "unexpected_restarts": self.unexpected_restarts,
                    "bank_duplicates_deduped": deduped,
                    "failure": failure.map(|e| format!("{e:#}")),
                }),
            );
        }
        let mut text = serde_json::to_string_pretty(&value)?;
        text.push('\n');
        Ok(text)
    }
}

/// Messages (ready and unacknowledged) per queue, of `queues`, that `rabbitmqctl list_queues`
/// reports above zero. Empty when rabbitmqctl is not at hand (a remote broker): the passive
/// declares then have the last word.
fn held_messages(queues: &[String]) -> BTreeMap<String, u64> {
    let Ok(output) = Command::new("rabbitmqctl")
        .args([
            "-q",
            "list_queues",
            "--no-table-headers",
            "name",
            "messages",
        ])
        .stdin(Stdio::null())
        .stderr(Stdio::null())
        .output()
    else {
        return BTreeMap::new();
    };
    if !output.status.success() {
        return BTreeMap::new();
    }
    String::from_utf8_lossy(&output.stdout)
        .lines()
        .filter_map(|line| {
            let mut fields = line.split_whitespace();
            let (name, n) = (fields.next()?, fields.next()?.parse::<u64>().ok()?);
            (n > 0 && queues.iter().any(|q| q == name)).then(|| (name.to_owned(), n))
        })
        .collect()
}

fn progress_bar(phase: &'static str, len: u64, what: &'static str) -> ProgressBar {
    let bar = ProgressBar::new(len).with_prefix(phase).with_message(what);
    if let Ok(style) =
        ProgressStyle::with_template("{prefix:>9} [{bar:40}] {pos}/{len} {msg} ({elapsed})")
    {
        bar.set_style(style.progress_chars("=> "));
    }
    bar
}

fn join(map: &BTreeMap<String, impl std::fmt::Display>) -> String {
    if map.is_empty() {
        return "none".into();
    }
    map.iter()
        .map(|(k, v)| format!("{k} {v}"))
        .collect::<Vec<_>>()
        .join(", ")
}

fn print_report(r: &Report, summary: &Path) -> std::io::Result<()> {
    outln!(
        "events            {} published, {} unique, {} duplicates absorbed, {} conflicts dead-lettered",
        r.events,
        r.unique_events,
        r.duplicates_absorbed,
        r.conflicts_dead_lettered
    )?;
    outln!("events by type    {}", join(&r.events_by_type))?;
    outln!("messages by type  {}", join(&r.messages_by_type))?;
    outln!(
        "items             {}: {}",
        r.items,
        join(&r.items_by_final_state)
    )?;
    outln!("dead letters      {}", join(&r.dead_letters_by_reason))?;
    outln!(
        "banks received    {} distinct messages",
        r.bank_messages_received
    )?;
    outln!(
        "lost              {} ({} events without effect, {} messages never received)",
        r.lost,
        r.lost_detail.events_without_effect,
        r.lost_detail.messages_never_received
    )?;
    outln!(
        "doubled           {} ({} events applied twice, {} messages received twice, {} transitions applied twice)",
        r.doubled,
        r.doubled_detail.events_applied_twice,
        r.doubled_detail.messages_received_twice,
        r.doubled_detail.transitions_applied_twice
    )?;
    for m in &r.mismatches {
        outln!("mismatch          {m}")?;
    }
    for e in &r.examples {
        outln!("example           {e}")?;
    }
    outln!("summary           {}", summary.display())?;
    Ok(())
}

fn database_kind(postgres: bool) -> &'static str {
    if postgres { "postgres" } else { "sqlite" }
}

/// The demo's store: a fresh SQLite file in `DIR`, or a fresh PostgreSQL database made for the
/// run on the server `--database-url` names.
struct DemoDatabase {
    url: String,
    /// `(server URL, database name)` when the demo created a PostgreSQL database.
    postgres: Option<(String, String)>,
}

impl DemoDatabase {
    fn prepare(server: Option<&str>, dir: &Path, seed: u64) -> anyhow::Result<DemoDatabase> {
        let Some(server) = server else {
            let url = format!("sqlite://{}?mode=rwc", dir.join("clearway.db").display());
            return Ok(DemoDatabase {
                url,
                postgres: None,
            });
        };
        if !(server.starts_with("postgres://") || server.starts_with("postgresql://")) {
            return Err(refused(
                "--database-url: expected a postgres:// URL (without it the demo uses a fresh \
                 SQLite file in --out)",
            ));
        }
        let name = format!("clearway_demo_{seed}_{}", std::process::id());
        let url = demo::create_postgres_database(server, &name)
            .with_context(|| format!("creating database {name} for the demo"))?;
        eprintln!("created PostgreSQL database {name} for this run");
        Ok(DemoDatabase {
            url,
            postgres: Some((server.to_owned(), name)),
        })
    }

    /// The URL to write into `run.toml`: only a SQLite file's (a PostgreSQL URL may hold a
    /// password).
    fn file_url(&self) -> Option<&str> {
        self.postgres.is_none().then_some(self.url.as_str())
    }

    /// Drops a PostgreSQL database after a passing run; leaves it (and says so) otherwise.
    fn finish(self, passed: bool) {
        let Some((server, name)) = self.postgres else {
            return;
        };
        if !passed {
            eprintln!("PostgreSQL database {name} is left for inspection (DROP DATABASE {name})");
            return;
        }
        match demo::drop_postgres_database(&server, &name) {
            Ok(()) => eprintln!("dropped PostgreSQL database {name}"),
            Err(e) => eprintln!("could not drop PostgreSQL database {name}: {e}"),
        }
    }
}
