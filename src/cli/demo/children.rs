//! The demo's child processes (`clearway run`, one `clearway bank-sim` per profile): started
//! with their output appended to a log file in `DIR/logs/`, restarted when they die, stopped
//! with SIGTERM (then SIGKILL after a grace period), and killed when the demo itself ends early,
//! so no child outlives it.

use std::fs::OpenOptions;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use anyhow::Context;

/// How to start one child.
#[derive(Debug, Clone)]
pub(super) struct Spec {
    /// `run`, `bank-sim sepa-bank`: for messages.
    pub(super) name: String,
    pub(super) program: PathBuf,
    pub(super) args: Vec<String>,
    pub(super) envs: Vec<(String, String)>,
    /// Standard output and error are appended here.
    pub(super) log: PathBuf,
}

/// One supervised child.
#[derive(Debug)]
pub(super) struct Child {
    pub(super) spec: Spec,
    process: Option<std::process::Child>,
    /// Starts so far (the first included).
    pub(super) starts: u32,
}

impl Child {
    pub(super) fn new(spec: Spec) -> Child {
        Child {
            spec,
            process: None,
            starts: 0,
        }
    }

    pub(super) fn start(&mut self) -> anyhow::Result<()> {
        let log = OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.spec.log)
            .with_context(|| format!("opening {}", self.spec.log.display()))?;
        let err = log
            .try_clone()
            .with_context(|| format!("opening {}", self.spec.log.display()))?;
        let process = Command::new(&self.spec.program)
            .args(&self.spec.args)
            .envs(self.spec.envs.iter().map(|(k, v)| (k, v)))
            .stdin(Stdio::null())
            .stdout(log)
            .stderr(err)
            .spawn()
            .with_context(|| format!("starting {}", self.spec.name))?;
        self.process = Some(process);
        self.starts += 1;
        Ok(())
    }

    pub(super) fn pid(&self) -> Option<u32> {
        self.process.as_ref().map(std::process::Child::id)
    }

    /// `Some(status)` when the child has exited since it was started (it is then forgotten).
    pub(super) fn exited(&mut self) -> anyhow::Result<Option<ExitStatus>> {
        let Some(process) = &mut self.process else {
            return Ok(None);
        };
        let status = process
            .try_wait()
            .with_context(|| format!("waiting for {}", self.spec.name))?;
        if status.is_some() {
            self.process = None;
        }
        Ok(status)
    }

    /// SIGKILL and reap: what a crash looks like to everyone else.
    pub(super) fn kill(&mut self) {
        if let Some(mut process) = self.process.take() {
            let _ = process.kill();
            let _ = process.wait();
        }
    }

    /// SIGTERM, then SIGKILL if it is still running after `grace`; returns its exit status when
    /// it stopped on its own.
    pub(super) fn terminate(&mut self, grace: Duration) -> Option<ExitStatus> {
        let mut process = self.process.take()?;
        let sent = Command::new("kill")
            .args(["-TERM", &process.id().to_string()])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        if sent {
            let deadline = Instant::now() + grace;
            while Instant::now() < deadline {
                if let Ok(Some(status)) = process.try_wait() {
                    return Some(status);
                }
                std::thread::sleep(Duration::from_millis(50));
            }
        }
        let _ = process.kill();
        let _ = process.wait();
        None
    }

    /// The last `n` lines of its log, for an error message.
    pub(super) fn log_tail(&self, n: usize) -> String {
        tail(&self.spec.log, n)
    }
}

impl Drop for Child {
    fn drop(&mut self) {
        self.kill();
    }
}

fn tail(path: &Path, n: usize) -> String {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(n)..].join("\n")
}

/// Whether `program` knows the subcommand (`program <sub> --help` exits 0): a build from
/// before `clearway run` or `clearway bank-sim` was merged does not.
pub(super) fn has_subcommand(program: &Path, sub: &str) -> bool {
    Command::new(program)
        .args([sub, "--help"])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}
