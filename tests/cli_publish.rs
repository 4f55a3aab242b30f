//! `clearway publish`: a refused file publishes nothing and exits 3 naming the line; a good one
//! lands in the events queue (real RabbitMQ, a topology under a unique prefix, deleted after).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use settlement::broker::{self, AmqpUrl, Topology};

#[test]
fn a_line_that_is_not_an_event_refuses_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("events.jsonl");
    std::fs::write(&path, "{\"event_id\":\"e1\",\"type\":\"t\"}\n[1]\n").unwrap();
    let out = common::clearway()
        .args(["publish", "--prefix", "never.declared"])
        .arg(&path)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(3));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("line 2 (byte 29): not a JSON object"),
        "{stderr}"
    );
}

#[test]
fn events_are_published_with_confirms() {
    let prefix = format!("test.cli.{}", std::process::id());
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("events.jsonl");
    let events = "{\"event_id\":\"e1\",\"type\":\"transfer.requested\"}\n\n\
                  {\"event_id\":\"e2\",\"type\":\"transfer.requested\"}\n\
                  {\"event_id\":\"e3\",\"type\":\"card.authorised\"}\n";
    std::fs::write(&path, events).unwrap();
    let out = common::clearway()
        .args(["publish", "--prefix", &prefix])
        .arg(&path)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.starts_with(&format!("published 3 events to {prefix}.events at amqp://")));
    assert!(stdout.contains("(1 blank lines skipped)"), "{stdout}");
    assert!(
        !stdout.contains(":guest@"),
        "the password is not printed: {stdout}"
    );

    let topology = Topology::with_prefix(&prefix);
    let depth = broker::block_on(async {
        let url = AmqpUrl::from_env().unwrap();
        let conn = broker::connect(&url, "cli test").await.unwrap();
        let mut depth = None;
        for _ in 0..100 {
            depth = broker::queue_depths(&conn, std::slice::from_ref(&topology.events_queue))
                .await
                .unwrap()[0]
                .messages;
            if depth == Some(3) {
                break;
            }
            pause_20ms().await;
        }
        topology.delete(&conn, &[]).await.unwrap();
        conn.close().await;
        depth
    })
    .unwrap();
    assert_eq!(depth, Some(3));
}

/// A short pause without a tokio dependency in the root crate: a blocking sleep is fine here,
/// the runtime is a test's own current-thread one.
async fn pause_20ms() {
    std::thread::sleep(std::time::Duration::from_millis(20));
}
