//! `clearway bank-sim` as a process, on the real RabbitMQ: it refuses profiles, rates and fault
//! lists it cannot use (exit 3), and SIGTERM makes it stop cleanly (exit 0) with its summary.
//! What it answers is tested through the library in `settlement/tests/banksim_broker.rs`.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use settlement::broker::{self, AmqpUrl, BankId, Topology};

/// The card acquirer's profile with its queues under `prefix`, written to `dir`.
fn profile_copy(dir: &Path, prefix: &str) -> PathBuf {
    let text = std::fs::read_to_string(common::fixtures().join("profiles/card_acquirer.toml"))
        .unwrap()
        .replace("clearway.bank.", &format!("{prefix}.bank."));
    let path = dir.join("card_acquirer.toml");
    std::fs::write(&path, text).unwrap();
    path
}

fn prefix() -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .subsec_nanos();
    format!("test.cli.{}.{nanos}", std::process::id())
}

#[test]
fn refuses_what_it_cannot_use() {
    let tmp = tempfile::tempdir().unwrap();
    let good = profile_copy(tmp.path(), &prefix());
    let bad_queues = tmp.path().join("bad.toml");
    std::fs::write(
        &bad_queues,
        std::fs::read_to_string(&good)
            .unwrap()
            .replace(".bank.card-acquirer.in", ".bank.other.in"),
    )
    .unwrap();
    let missing = tmp.path().join("missing.toml");
    #[rustfmt::skip]
    let table: [(Vec<&str>, &str); 5] = [
        (vec!["--profile", bad_queues.to_str().unwrap()], "queues.inbound"),
        (vec!["--profile", missing.to_str().unwrap()], "missing.toml"),
        (vec!["--profile", good.to_str().unwrap(), "--faults", "dup,late"], "fault \"late\""),
        (vec!["--profile", good.to_str().unwrap(), "--reject-rate", "1.5"], "--reject-rate"),
        (vec!["--profile", good.to_str().unwrap(), "--date", "2026-13-01"], "2026-13-01"),
    ];
    for (args, needle) in table {
        let out = common::clearway()
            .arg("bank-sim")
            .args(&args)
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(3), "{args:?}: {stderr}");
        assert!(stderr.contains(needle), "{args:?}: {stderr}");
    }
}

#[test]
fn sigterm_stops_it_cleanly() {
    let tmp = tempfile::tempdir().unwrap();
    let prefix = prefix();
    let profile = profile_copy(tmp.path(), &prefix);
    let journal = tmp.path().join("journal.jsonl");
    let child = common::clearway()
        .args(["bank-sim", "--profile"])
        .arg(&profile)
        .arg("--journal")
        .arg(&journal)
        .args(["--seed", "3", "--date", "2026-11-25"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let topology = Topology::with_prefix(&prefix);
    let bank = BankId::parse("card-acquirer").unwrap();
    let url = AmqpUrl::from_env().unwrap();
    // One runtime for the whole conversation: a connection lives on the runtime it was made on.
    broker::block_on(async {
        let conn = broker::connect(&url, &format!("{prefix} test"))
            .await
            .unwrap();
        // Ready once it consumes its queue (its signal handler is installed before).
        let queue = topology.bank_out(&bank);
        let end = Instant::now() + Duration::from_secs(20);
        loop {
            let depths = broker::queue_depths(&conn, std::slice::from_ref(&queue))
                .await
                .unwrap();
            if depths.first().is_some_and(|d| d.consumers == Some(1)) {
                break;
            }
            assert!(Instant::now() < end, "bank-sim did not start consuming");
            std::thread::sleep(Duration::from_millis(50)); // no tokio in this crate
        }
        conn.close().await;
    })
    .unwrap();
    let status = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let out = child.wait_with_output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        stdout.contains("bank-sim card-acquirer: received 0 (0 duplicates"),
        "{stdout}"
    );
    // Nothing happened: the day stays open, the state file holds its opening line only.
    assert!(stdout.contains("0 days closed"), "{stdout}");
    let state = std::fs::read_to_string(tmp.path().join("journal.jsonl.state")).unwrap();
    assert_eq!(state.lines().count(), 1, "{state}");
    broker::block_on(async {
        let conn = broker::connect(&url, &format!("{prefix} cleanup"))
            .await
            .unwrap();
        topology.delete(&conn, &[bank]).await.unwrap();
        conn.close().await;
    })
    .unwrap();
}
