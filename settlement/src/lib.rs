//! The store, inbox/outbox, clearing lifecycle, RabbitMQ consumers and relay, batches and
//! reconciliation. This is the only crate that depends on tokio, sqlx and lapin.
//!
//! - [`flow`]: the boundary between the store side and the broker side (types and traits only);
//! - [`lifecycle`]: the pure clearing state machine, `step(state, input) -> Step`;
//! - [`store`]: SQLite or PostgreSQL through sqlx `Any` (the only module importing sqlx): inbox,
//!   items, transitions, outbox, dead letters, card tokens, and the CLI's read views;
//! - [`ingest`]: [`ingest::Ingest`], the [`flow::Handler`] that applies a batch in one
//!   transaction.

pub mod flow;
pub mod ingest;
pub mod lifecycle;
pub mod store;
