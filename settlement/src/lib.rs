//! The store, inbox/outbox, clearing lifecycle, RabbitMQ consumers and relay, batches and
//! reconciliation. This is the only crate that depends on tokio, sqlx and lapin; within it, only
//! [`broker`] imports lapin and only [`store`] imports sqlx.
//!
//! - [`flow`]: the boundary between the store side and the broker side (types and traits only);
//! - [`lifecycle`]: the pure clearing state machine, `step(state, input) -> Step`;
//! - [`store`]: SQLite or PostgreSQL through sqlx `Any`: inbox, items, transitions, outbox, dead
//!   letters, card tokens, and the CLI's read views;
//! - [`ingest`]: [`ingest::Ingest`], the [`flow::Handler`] that applies a batch in one
//!   transaction;
//! - [`broker`]: topology, the batch consumer (ack after commit), the outbox relay (publisher
//!   confirms), `publish`, queue depths;
//! - [`banksim`]: the bank simulator's broker-free core (answers, journal, statements, faults);
//! - [`seal`]: outbox payloads encrypted at rest (they hold card numbers and names);
//! - [`metrics`]: Prometheus metrics and the `/metrics`, `/health` endpoints;
//! - [`config`] and [`service`]: the settings, `clearway run` and `clearway status`;
//! - [`demo`]: `clearway demo`'s bookkeeping: expected counts, the lost/doubled check, a probe.

pub mod banksim;
pub mod broker;
pub mod config;
pub mod demo;
pub mod flow;
pub mod ingest;
pub mod lifecycle;
pub mod metrics;
pub mod seal;
pub mod service;
pub mod store;
