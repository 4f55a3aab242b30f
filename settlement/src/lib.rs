//! The store, inbox/outbox, clearing lifecycle, RabbitMQ consumers and relay, batches and
//! reconciliation. Not yet built: see the settlement issue. This is the only crate that will
//! depend on tokio, sqlx and lapin.
pub mod metrics;
pub mod banksim;
