//! `clearway bank-sim` on the broker: consumes a profile's outbound queue, hands each delivery to
//! a `banksim::run::Simulator`, publishes its answers to the profile's inbound queue (default
//! exchange, persistent, mandatory, publisher confirms, `message_id` = the answer's) when they are
//! due, and acks a delivery (one ack each, not multiple: requests finish out of order) only after
//! every answer it is owed during the day was confirmed and the simulator recorded it done. It
//! decides nothing about answers (the simulator does); it only keeps time and talks to RabbitMQ.
//!
//! One connection with four channels: deliveries, publishes with confirms, a probe for the
//! watchdog (a consumer idle while its queue has messages is recreated), and the topology
//! declared at start (the service's `Topology`, derived from the profile's queue names). A lost
//! connection reconnects with backoff; whatever was being answered comes back as a redelivery and
//! the simulator recovers it. Stop (SIGTERM) cancels the consumer, sends every answer still held
//! at once, acks, closes the simulated day (end-of-day answers, statements) and returns.

use std::collections::BTreeMap;
use std::time::Duration;

use futures_lite::StreamExt;
use lapin::{
    Acker,
    message::Delivery as AmqpDelivery,
    options::{
        BasicAckOptions, BasicCancelOptions, BasicConsumeOptions, BasicQosOptions,
        QueueDeclareOptions,
    },
    types::FieldTable,
};
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use super::confirms::{Confirms, Settled, field_table, properties};
use super::{AmqpUrl, BankId, BrokerError, Connection, Topology, backoff, connect, sleep_or_stop};
use crate::banksim::run::{DayClosed, Simulator, Ticket, Timed, fault_name};
use crate::banksim::{Delivery, PlannedKind, SimError};

/// How the loop keeps time and talks to the broker. `Default` gives the documented values.
#[derive(Clone, Debug)]
pub struct BankSimConfig {
    /// `basic.qos` prefetch.
    pub prefetch: u16,
    /// One simulated tick (`Later` answers leave `LATER_TICKS` ticks after their request).
    pub tick: Duration,
    /// Deliveries handled before their confirms are awaited together…
    pub batch_size_max: usize,
    /// …or whatever arrived within this long of the first.
    pub batch_linger: Duration,
    /// Deadline of one publisher confirm.
    pub confirm_timeout: Duration,
    /// Backoff between reconnects: first delay and cap.
    pub reconnect_initial: Duration,
    pub reconnect_max: Duration,
    /// No delivery for this long while the queue holds ready messages: reconnect (lapin #222,
    /// #389: a consumer stream can go silent after a reset).
    pub watchdog_idle: Duration,
    /// The connection's name in `rabbitmqctl list_connections client_properties`.
    pub connection_name: String,
}

impl Default for BankSimConfig {
    fn default() -> Self {
        BankSimConfig {
            prefetch: 300,
            tick: Duration::from_millis(50),
            batch_size_max: 200,
            batch_linger: Duration::from_millis(5),
            confirm_timeout: Duration::from_secs(5),
            reconnect_initial: Duration::from_millis(100),
            reconnect_max: Duration::from_secs(10),
            watchdog_idle: Duration::from_secs(30),
            connection_name: "clearway-bank-sim".to_owned(),
        }
    }
}

/// What a run did (counted by this process; the journal holds the whole history).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct BankSimReport {
    /// Deliveries received (journaled), duplicates included.
    pub received: u64,
    /// Of those, duplicates (journaled, not answered).
    pub duplicates: u64,
    /// Of those, requests a crash had left unanswered, answered again.
    pub recovered: u64,
    /// Requests that could not be read or answered (journaled, no answer).
    pub unanswered: u64,
    /// Messages published and confirmed on the inbound queue (faults included).
    pub sent: u64,
    /// Of those, duplicates and garbage sent on purpose (`--faults`).
    pub faults_sent: u64,
    /// Days closed, with their statements.
    pub days_closed: Vec<DayClosed>,
    /// Connections lost and reopened.
    pub reconnects: u64,
}

/// Why the simulator stopped with an error.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum BankSimError {
    /// The broker could not be reached at start (later losses reconnect).
    #[error(transparent)]
    Broker(#[from] BrokerError),
    /// A journal, ledger, state or statement file could not be written or read.
    #[error("bank simulator: {0}")]
    Sim(#[from] SimError),
    /// The profile's queue names are not the ones the service declares.
    #[error("profile {profile}: {problem}")]
    Profile { profile: String, problem: String },
}

/// The service's topology and bank id for `profile`: its outbound queue must be named
/// `<prefix>.bank.<id>.out` and its inbound queue `<prefix>.bank.<id>.in` (the prefix is
/// `clearway` in production; tests use their own).
pub fn bank_topology(profile: &adapters::Profile) -> Result<(Topology, BankId), BankSimError> {
    let bad = |problem: String| BankSimError::Profile {
        profile: profile.id.clone(),
        problem,
    };
    let bank = BankId::parse(&profile.id)?;
    let suffix = format!(".bank.{bank}.out");
    let prefix = profile
        .queues
        .outbound
        .strip_suffix(&suffix)
        .filter(|p| !p.is_empty())
        .ok_or_else(|| {
            bad(format!(
                "queues.outbound {:?} is not <prefix>{suffix}",
                profile.queues.outbound
            ))
        })?;
    let topology = Topology::with_prefix(prefix);
    if topology.bank_in(&bank) != profile.queues.inbound {
        return Err(bad(format!(
            "queues.inbound {:?} should be {:?} beside queues.outbound {:?}",
            profile.queues.inbound,
            topology.bank_in(&bank),
            profile.queues.outbound
        )));
    }
    Ok((topology, bank))
}

/// Cancels `stop` on SIGTERM or SIGINT (call inside a tokio runtime).
pub fn cancel_on_signals(stop: &CancellationToken) -> Result<(), BrokerError> {
    use tokio::signal::unix::{SignalKind, signal};
    let mut term = signal(SignalKind::terminate()).map_err(BrokerError::Runtime)?;
    let mut int = signal(SignalKind::interrupt()).map_err(BrokerError::Runtime)?;
    let stop = stop.clone();
    tokio::spawn(async move {
        tokio::select! {
            _ = term.recv() => {}
            _ = int.recv() => {}
        }
        stop.cancel();
    });
    Ok(())
}

/// Runs the simulator on the broker until `stop`; see the module documentation. Returns what it
/// did. Dropping the future drops the connection, as a crash would: unacked requests come back
/// and are recovered by the next run on the same journal.
pub async fn run_bank_sim(
    url: &AmqpUrl,
    sim: &mut Simulator,
    config: &BankSimConfig,
    stop: &CancellationToken,
) -> Result<BankSimReport, BankSimError> {
    let (topology, bank) = bank_topology(sim.profile())?;
    let mut report = BankSimReport::default();
    let mut failures = 0u32;
    let mut connected_once = false;
    loop {
        if stop.is_cancelled() {
            return Ok(report);
        }
        let name = format!("{} {}", config.connection_name, bank);
        let result = match connect(url, &name).await {
            Ok(conn) => {
                connected_once = true;
                let result = session(&conn, &topology, &bank, sim, config, stop, &mut report).await;
                conn.close().await;
                result
            }
            Err(error) if !connected_once => return Err(error.into()),
            Err(error) => Err(SessionError::Broker(error)),
        };
        match result {
            Ok(()) => return Ok(report),
            Err(SessionError::Sim(error)) => return Err(error.into()),
            Err(SessionError::Broker(error)) => {
                sim.abandon_in_flight();
                report.reconnects += 1;
                let delay = backoff(config.reconnect_initial, config.reconnect_max, failures);
                failures = failures.saturating_add(1);
                tracing::warn!(%error, ?delay, "bank simulator lost the broker; reconnecting");
                if sleep_or_stop(delay, stop).await {
                    tracing::warn!("stopped while disconnected: the day stays open");
                    return Ok(report);
                }
            }
        }
    }
}

enum SessionError {
    Broker(BrokerError),
    Sim(SimError),
}

impl From<BrokerError> for SessionError {
    fn from(error: BrokerError) -> Self {
        SessionError::Broker(error)
    }
}

impl From<SimError> for SessionError {
    fn from(error: SimError) -> Self {
        SessionError::Sim(error)
    }
}

/// A request whose answers are out or waiting.
struct Pending {
    ticket: Ticket,
    acker: Acker,
    unconfirmed: usize,
}

/// Token of an end-of-day publish (requests use their number, from 0).
const END_OF_DAY: u64 = u64::MAX;

struct Session<'a> {
    sim: &'a mut Simulator,
    report: &'a mut BankSimReport,
    confirms: Confirms<u64>,
    inbound: String,
    outbound: String,
    tick: Duration,
    pending: BTreeMap<u64, Pending>,
    /// (due, order) → (request, answer).
    timers: BTreeMap<(Instant, u64), (u64, Timed)>,
    next: u64,
}

async fn session(
    conn: &Connection,
    topology: &Topology,
    bank: &BankId,
    sim: &mut Simulator,
    config: &BankSimConfig,
    stop: &CancellationToken,
    report: &mut BankSimReport,
) -> Result<(), SessionError> {
    topology.declare(conn, std::slice::from_ref(bank)).await?;
    let outbound = topology.bank_out(bank);
    let channel = conn.channel().await?;
    channel
        .basic_qos(config.prefetch, BasicQosOptions::default())
        .await
        .map_err(BrokerError::amqp("basic.qos on", &outbound))?;
    let confirms = Confirms::new(conn.channel().await?, 1000, config.confirm_timeout).await?;
    let probe = conn.channel().await?;
    let mut consumer = channel
        .basic_consume(
            outbound.as_str().into(),
            "".into(),
            BasicConsumeOptions::default(),
            FieldTable::default(),
        )
        .await
        .map_err(BrokerError::amqp("basic.consume on", &outbound))?;
    let mut s = Session {
        sim,
        report,
        confirms,
        inbound: topology.bank_in(bank),
        outbound: outbound.clone(),
        tick: config.tick,
        pending: BTreeMap::new(),
        timers: BTreeMap::new(),
        next: 0,
    };
    let result = async {
        loop {
            let next_due = s.timers.keys().next().map(|(due, _)| *due);
            tokio::select! {
                biased;
                () = stop.cancelled() => {
                    let _ = channel.basic_cancel(consumer.tag(), BasicCancelOptions::default()).await;
                    s.flush().await?;
                    if s.sim.day_has_activity() {
                        s.close_day().await?;
                    }
                    return Ok(());
                }
                () = sleep_until(next_due), if next_due.is_some() => {
                    s.fire_due(Instant::now()).await?;
                    s.settle().await?;
                }
                () = tokio::time::sleep(config.watchdog_idle) => {
                    let state = probe
                        .queue_declare(
                            outbound.as_str().into(),
                            QueueDeclareOptions { passive: true, ..QueueDeclareOptions::default() },
                            FieldTable::default(),
                        )
                        .await
                        .map_err(BrokerError::amqp("queue.declare (passive)", &outbound))?;
                    if state.message_count() > 0 {
                        tracing::warn!(queue = %outbound, "consumer silent while its queue has messages; reconnecting");
                        return Err(BrokerError::ConsumerCancelled { queue: outbound.clone() }.into());
                    }
                }
                next = consumer.next() => {
                    let mut batch = vec![delivered(next, &outbound)?];
                    let linger_end = Instant::now() + config.batch_linger;
                    while batch.len() < config.batch_size_max {
                        match tokio::time::timeout_at(linger_end, consumer.next()).await {
                            Err(_linger_over) => break,
                            Ok(next) => batch.push(delivered(next, &outbound)?),
                        }
                    }
                    for delivery in batch {
                        s.receive(delivery).await?;
                        if s.sim.day_full() {
                            s.flush().await?;
                            s.close_day().await?;
                        }
                    }
                    s.settle().await?;
                }
            }
        }
    }
    .await;
    if result.is_err() {
        s.confirms.abandon();
    }
    result
}

async fn sleep_until(due: Option<Instant>) {
    match due {
        Some(due) => tokio::time::sleep_until(due).await,
        None => std::future::pending().await,
    }
}

fn delivered(
    next: Option<lapin::Result<AmqpDelivery>>,
    queue: &str,
) -> Result<AmqpDelivery, BrokerError> {
    match next {
        Some(Ok(delivery)) => Ok(delivery),
        Some(Err(source)) => Err(BrokerError::Amqp {
            operation: "consume",
            target: queue.to_owned(),
            source,
        }),
        None => Err(BrokerError::ConsumerCancelled {
            queue: queue.to_owned(),
        }),
    }
}

impl Session<'_> {
    async fn receive(&mut self, delivery: AmqpDelivery) -> Result<(), SessionError> {
        let message_id = delivery
            .properties
            .message_id()
            .as_ref()
            .map(|id| id.as_str().to_owned());
        let intake = self.sim.receive(Delivery {
            queue: &self.outbound,
            message_id: message_id.as_deref(),
            body: &delivery.data,
        })?;
        self.report.received += 1;
        let Some(ticket) = intake.ticket else {
            // A duplicate: journaled, never answered twice.
            self.report.duplicates += 1;
            ack(&delivery.acker, &self.outbound).await?;
            return Ok(());
        };
        if intake.recovered {
            self.report.recovered += 1;
        }
        if let Some(error) = &intake.error {
            self.report.unanswered += 1;
            tracing::info!(message_id = %intake.entry.message_id, %error, "not answered");
        }
        let id = self.next;
        self.next += 1;
        self.pending.insert(
            id,
            Pending {
                ticket,
                acker: delivery.acker,
                unconfirmed: intake.sends.len(),
            },
        );
        let now = Instant::now();
        for (order, timed) in intake.sends.into_iter().enumerate() {
            if timed.due_ticks == 0 {
                self.publish(id, &timed).await?;
            } else {
                let due = now + self.tick.saturating_mul(timed.due_ticks);
                let order = (id << 16) | (order as u64 & 0xFFFF);
                self.timers.insert((due, order), (id, timed));
            }
        }
        Ok(())
    }

    async fn publish(&mut self, token: u64, timed: &Timed) -> Result<(), BrokerError> {
        let mut headers = BTreeMap::new();
        headers.insert(
            "x-clearway-message-type".to_owned(),
            timed.answer.message_type.clone(),
        );
        headers.insert("x-clearway-bank".to_owned(), self.sim.profile().id.clone());
        if let Some(fault) = fault_name(timed.kind) {
            headers.insert("x-clearway-fault".to_owned(), fault.to_owned());
        }
        if timed.kind != PlannedKind::Answer {
            self.report.faults_sent += 1;
        }
        let props = properties(&timed.answer.message_id, field_table(&headers));
        self.confirms
            .publish(token, "", &self.inbound, props, &timed.answer.bytes)
            .await
    }

    /// Publishes every timer due by `now`, in due order.
    async fn fire_due(&mut self, now: Instant) -> Result<(), BrokerError> {
        while let Some(entry) = self.timers.first_entry() {
            if entry.key().0 > now {
                break;
            }
            let (id, timed) = entry.remove();
            self.publish(id, &timed).await?;
        }
        Ok(())
    }

    /// Waits for the confirms in flight, then records done and acks every request whose
    /// answers are all confirmed.
    async fn settle(&mut self) -> Result<(), SessionError> {
        self.confirms.drain().await?;
        for (token, settled) in self.confirms.take_settled() {
            if let Settled::Refused(reply) = settled {
                return Err(BrokerError::Refused {
                    target: self.inbound.clone(),
                    reply,
                }
                .into());
            }
            self.report.sent += 1;
            if let Some(pending) = self.pending.get_mut(&token) {
                pending.unconfirmed = pending.unconfirmed.saturating_sub(1);
            }
        }
        let finished: Vec<u64> = self
            .pending
            .iter()
            .filter(|(_, p)| p.unconfirmed == 0)
            .map(|(id, _)| *id)
            .collect();
        for id in finished {
            if let Some(pending) = self.pending.remove(&id) {
                // Done is written before the ack: a crash in between redelivers a duplicate.
                self.sim.complete(pending.ticket)?;
                ack(&pending.acker, &self.outbound).await?;
            }
        }
        Ok(())
    }

    /// Sends everything still held (ignoring the ticks left) and settles.
    async fn flush(&mut self) -> Result<(), SessionError> {
        let far = Instant::now() + Duration::from_secs(365 * 24 * 3600);
        self.fire_due(far).await?;
        self.settle().await?;
        assert!(
            self.pending.is_empty() && self.timers.is_empty(),
            "every request is done after a flush"
        );
        Ok(())
    }

    /// Sends the day's end-of-day answers, then closes the day (statements).
    async fn close_day(&mut self) -> Result<(), SessionError> {
        let answers = self.sim.end_of_day_answers();
        for planned in &answers {
            let timed = Timed {
                answer: planned.answer.clone(),
                kind: planned.kind,
                due_ticks: 0,
            };
            self.publish(END_OF_DAY, &timed).await?;
        }
        self.settle().await?;
        self.sim.end_of_day_sent()?;
        let closed = self.sim.close_day()?;
        tracing::info!(day = closed.day, date = %closed.date, statements = closed.statements.len(), "day closed");
        self.report.days_closed.push(closed);
        Ok(())
    }
}

async fn ack(acker: &Acker, queue: &str) -> Result<(), BrokerError> {
    let acked = acker
        .ack(BasicAckOptions::default())
        .await
        .map_err(BrokerError::amqp("basic.ack on", queue))?;
    if acked {
        Ok(())
    } else {
        Err(BrokerError::AckLost {
            queue: queue.to_owned(),
        })
    }
}
