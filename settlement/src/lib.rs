//! The store, inbox/outbox, clearing lifecycle, RabbitMQ consumers and relay, batches and
//! reconciliation. This is the only crate that depends on tokio, sqlx and lapin; within it, only
//! `broker` imports lapin and only `store` imports sqlx. `flow` is the boundary between them.

pub mod banksim;
pub mod broker;
pub mod flow;
pub mod metrics;
