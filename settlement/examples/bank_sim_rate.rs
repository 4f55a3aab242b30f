//! How fast the bank simulator answers, on the real RabbitMQ: N distinct requests (seeded events
//! adapted for the card acquirer, then for the SEPA bank) are published to a `.out` queue of a
//! unique prefix, and `run_bank_sim` (journal, ledger and state on files, default 50 ms ticks)
//! runs until every request is recorded done; the time from start to that point gives requests
//! and answers per second. The SEPA figure includes the 2 ticks each request waits for its ACSC.
//!
//! `cargo run -p clearway-settlement --example bank_sim_rate -- [N]` (default 5,000), against
//! `CLEARWAY_AMQP_URL`. Queues are deleted at the end.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::float_arithmetic)]

use std::path::PathBuf;
use std::time::{Duration, Instant};

use adapters::generate::{Spec, generate};
use adapters::{Event, Profile};
use lapin::{
    BasicProperties,
    options::{BasicPublishOptions, ConfirmSelectOptions},
};
use settlement::banksim::run::{Settings, Simulator, day_start};
use settlement::banksim::{Faults, SimConfig};
use settlement::broker::{
    self, AmqpUrl, BankId, BankSimConfig, CancellationToken, Topology, run_bank_sim,
};

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let n: usize = std::env::args().nth(1).map_or(5000, |a| a.parse().unwrap());
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..");
    for file in ["card_acquirer.toml", "sepa_bank.toml"] {
        let shipped = Profile::load(&root.join("fixtures/profiles").join(file)).unwrap();
        let prefix = format!("rate.{}", std::process::id());
        let mut profile = shipped.clone();
        profile.queues.outbound = format!("{prefix}.bank.{}.out", profile.id);
        profile.queues.inbound = format!("{prefix}.bank.{}.in", profile.id);
        let mut spec = Spec::new(1, n);
        spec.duplicate_per_mille = 0;
        spec.conflicts = 0;
        let mut requests = Vec::new();
        let mut keys = std::collections::HashSet::new();
        for line in generate(&spec, std::slice::from_ref(&profile)).lines {
            if let Ok(event) = Event::from_json(&line)
                && let Ok(msg) = adapters::adapt(&event, &profile)
                && keys.insert(msg.message_key.clone())
            {
                requests.push((msg.message_key, msg.wire));
            }
        }
        let url = AmqpUrl::from_env().unwrap();
        let topology = Topology::with_prefix(&prefix);
        let bank = BankId::parse(&profile.id).unwrap();
        let conn = broker::connect(&url, &format!("{prefix} setup"))
            .await
            .unwrap();
        topology
            .declare(&conn, std::slice::from_ref(&bank))
            .await
            .unwrap();
        publish(&profile.queues.outbound, &requests).await;

        let tmp = tempfile::tempdir().unwrap();
        let journal = tmp.path().join("journal.jsonl");
        let mut sim = Simulator::open(Settings {
            profile: profile.clone(),
            config: SimConfig::new(1, day_start(Some("2026-11-25")).unwrap()),
            faults: Faults::none(),
            journal: Some(journal.clone()),
            statements: Some(tmp.path().join("statements")),
            day_close_after: None,
        })
        .unwrap();
        let stop = CancellationToken::new();
        let config = BankSimConfig::default();
        let started = Instant::now();
        let want = requests.len();
        let watcher = async {
            let mut state = journal.as_os_str().to_owned();
            state.push(".state");
            loop {
                let done = std::fs::read_to_string(&state)
                    .unwrap_or_default()
                    .matches("\"t\":\"done\"")
                    .count();
                if done >= want {
                    break;
                }
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
            let elapsed = started.elapsed();
            stop.cancel();
            elapsed
        };
        let (report, elapsed) = tokio::join!(run_bank_sim(&url, &mut sim, &config, &stop), watcher);
        let report = report.unwrap();
        let secs = elapsed.as_secs_f64();
        println!(
            "{:<14} {want:>6} requests in {secs:6.2} s: {:>7.0} requests/s, {:>7.0} answers/s ({} answers)",
            profile.id,
            want as f64 / secs,
            report.sent as f64 / secs,
            report.sent
        );
        topology.delete(&conn, &[bank]).await.unwrap();
        conn.close().await;
    }
}

async fn publish(queue: &str, requests: &[(String, Vec<u8>)]) {
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
                BasicPublishOptions::default(),
                body,
                BasicProperties::default()
                    .with_message_id(id.as_str().into())
                    .with_delivery_mode(2),
            )
            .await
            .unwrap();
    }
    channel.wait_for_confirms().await.unwrap();
    let _ = conn.close(200, "done".into()).await;
}
