//! ISO 20022 messages for the clearing legs Clearway speaks. It does no I/O beyond `std::io`
//! readers and writers, and depends on neither tokio, sqlx nor lapin.
//!
//! - [`statement`]: camt.053 / camt.054 read as a stream of typed entries, balances checked.
//! - [`generate`]: large, consistent, schema-valid camt.053 statements for tests and benchmarks.
#![warn(missing_docs)]

pub mod generate;
pub mod money;
pub mod statement;
