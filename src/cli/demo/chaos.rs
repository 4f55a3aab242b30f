//! `clearway demo --chaos`: when each fault strikes, and how connections are closed.
//!
//! The moments are seeded points of progress, not of wall time: "when 37.2 % of the events are
//! recorded, SIGKILL the service", so the same seed strikes at the same stage of the work on a
//! fast machine and a slow one. Connections are closed by the broker (`rabbitmqctl
//! close_connection`), and only the demo's children's own: their TCP ports are read from
//! `/proc`, matched with the `peer_port` of `rabbitmqctl list_connections`, so other users of a
//! shared broker are left alone.

use std::collections::BTreeSet;
use std::process::{Command, Stdio};

use anyhow::Context;

/// What strikes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Fault {
    /// SIGKILL the service, then start it again.
    KillService,
    /// Close the service's and the banks' broker connections.
    CloseConnections,
    /// Stop and start the RabbitMQ application (`--broker-restarts`): every connection drops,
    /// and the broker refuses new ones until it is back.
    RestartBroker,
}

/// The two phases the demo watches progress in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Phase {
    /// Events recorded by the inbox (the banks are not started yet).
    Ingest,
    /// Items answered by their banks.
    Clearing,
}

/// One planned fault.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Strike {
    pub(super) phase: Phase,
    /// Progress of the phase, in per-mille, at which it strikes.
    pub(super) at_per_mille: u64,
    pub(super) fault: Fault,
    pub(super) done: bool,
}

/// Three kills and two rounds of closed connections, spread over both phases, at seeded
/// moments between 10 % and 90 % of each phase; with `broker_restarts`, one RabbitMQ restart in
/// each phase too (drawn after the others, so the rest of the plan does not change).
pub(super) fn plan(seed: u64, broker_restarts: bool) -> Vec<Strike> {
    let mut rng = SplitMix64(seed ^ 0xC4A0_5EED);
    let shape = [
        (Phase::Ingest, Fault::KillService),
        (Phase::Ingest, Fault::CloseConnections),
        (Phase::Clearing, Fault::KillService),
        (Phase::Clearing, Fault::CloseConnections),
        (Phase::Clearing, Fault::KillService),
    ];
    let mut strikes: Vec<Strike> = shape
        .iter()
        .map(|&(phase, fault)| Strike {
            phase,
            at_per_mille: 100 + rng.below(801),
            fault,
            done: false,
        })
        .collect();
    if broker_restarts {
        for phase in [Phase::Ingest, Phase::Clearing] {
            strikes.push(Strike {
                phase,
                at_per_mille: 100 + rng.below(801),
                fault: Fault::RestartBroker,
                done: false,
            });
        }
    }
    strikes.sort_by_key(|s| (s.phase == Phase::Clearing, s.at_per_mille));
    strikes
}

/// splitmix64 (Steele, Lea and Flood, 2014), as `adapters::generate` uses it.
struct SplitMix64(u64);

impl SplitMix64 {
    fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// In `0..n`.
    fn below(&mut self, n: u64) -> u64 {
        ((u128::from(self.next_u64()) * u128::from(n)) >> 64) as u64
    }
}

/// `rabbitmqctl stop_app`, a pause, `start_app`, then `await_startup`: a broker restart as the
/// children see it (the node stays up, so the queues and their messages survive).
pub(super) fn restart_broker() -> anyhow::Result<()> {
    let ctl = |args: &[&str]| -> anyhow::Result<()> {
        let status = Command::new("rabbitmqctl")
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .with_context(|| format!("running rabbitmqctl {}", args.join(" ")))?;
        anyhow::ensure!(
            status.success(),
            "rabbitmqctl {} exited with {status}",
            args.join(" ")
        );
        Ok(())
    };
    ctl(&["-q", "stop_app"])?;
    // Long enough for every client to notice and start its reconnect backoff.
    std::thread::sleep(std::time::Duration::from_secs(3));
    ctl(&["-q", "start_app"])?;
    ctl(&["-q", "await_startup", "--timeout", "120"])
}

/// Closes the broker connections of these processes; returns how many were closed.
pub(super) fn close_connections_of(pids: &[u32]) -> anyhow::Result<usize> {
    let ports = local_tcp_ports(pids);
    if ports.is_empty() {
        return Ok(0);
    }
    let listing = Command::new("rabbitmqctl")
        .args([
            "-q",
            "list_connections",
            "--no-table-headers",
            "pid",
            "peer_port",
        ])
        .stderr(Stdio::null())
        .output()
        .context("running rabbitmqctl list_connections")?;
    if !listing.status.success() {
        anyhow::bail!(
            "rabbitmqctl list_connections exited with {}",
            listing.status
        );
    }
    let mut closed = 0;
    for line in String::from_utf8_lossy(&listing.stdout).lines() {
        let mut fields = line.split_whitespace();
        let (Some(pid), Some(port)) = (fields.next(), fields.next()) else {
            continue;
        };
        if port.parse::<u16>().is_ok_and(|p| ports.contains(&p)) {
            let status = Command::new("rabbitmqctl")
                .args(["-q", "close_connection", pid, "clearway demo --chaos"])
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status()
                .context("running rabbitmqctl close_connection")?;
            closed += usize::from(status.success());
        }
    }
    Ok(closed)
}

/// The local ports of the TCP sockets these processes hold (Linux `/proc`; empty elsewhere).
fn local_tcp_ports(pids: &[u32]) -> BTreeSet<u16> {
    let mut inodes = BTreeSet::new();
    for pid in pids {
        let Ok(fds) = std::fs::read_dir(format!("/proc/{pid}/fd")) else {
            continue;
        };
        for fd in fds.flatten() {
            if let Ok(target) = std::fs::read_link(fd.path())
                && let Some(inode) = target
                    .to_str()
                    .and_then(|t| t.strip_prefix("socket:["))
                    .and_then(|t| t.strip_suffix(']'))
            {
                inodes.insert(inode.to_owned());
            }
        }
    }
    let mut ports = BTreeSet::new();
    for table in ["/proc/net/tcp", "/proc/net/tcp6"] {
        let text = std::fs::read_to_string(table).unwrap_or_default();
        for line in text.lines().skip(1) {
            let fields: Vec<&str> = line.split_whitespace().collect();
            // sl local_address rem_address st tx:rx tr:when retrnsmt uid timeout inode
            let (Some(local), Some(inode)) = (fields.get(1), fields.get(9)) else {
                continue;
            };
            if inodes.contains(*inode)
                && let Some(port) = local
                    .rsplit_once(':')
                    .and_then(|(_, hex)| u16::from_str_radix(hex, 16).ok())
            {
                ports.insert(port);
            }
        }
    }
    ports
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_plan_is_seeded_and_inside_each_phase() {
        assert_eq!(plan(7, false), plan(7, false));
        assert_ne!(plan(7, false), plan(8, false));
        let strikes = plan(1, false);
        assert_eq!(strikes.len(), 5);
        assert!(
            strikes
                .iter()
                .all(|s| (100..=900).contains(&s.at_per_mille))
        );
        let kills = strikes.iter().filter(|s| s.fault == Fault::KillService);
        assert_eq!(kills.count(), 3);
        // ingest strikes come first, each phase in progress order
        let phases: Vec<Phase> = strikes.iter().map(|s| s.phase).collect();
        assert_eq!(&phases[..2], &[Phase::Ingest, Phase::Ingest]);
        // broker restarts come on top, one per phase, and leave the other strikes as they were
        let with = plan(1, true);
        let restarts: Vec<&Strike> = with
            .iter()
            .filter(|s| s.fault == Fault::RestartBroker)
            .collect();
        assert_eq!(restarts.len(), 2);
        assert_ne!(restarts[0].phase, restarts[1].phase);
        let others: Vec<Strike> = with
            .into_iter()
            .filter(|s| s.fault != Fault::RestartBroker)
            .collect();
        assert_eq!(others, strikes);
    }

    #[test]
    fn our_own_sockets_are_found() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let ports = local_tcp_ports(&[std::process::id()]);
        assert!(ports.contains(&port), "{port} not in {ports:?}");
    }
}
