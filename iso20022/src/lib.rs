//! ISO 20022 messages for the clearing legs Clearway speaks. It does no I/O beyond `std::io`
//! readers and writers, and depends on neither tokio, sqlx nor lapin.
//!
//! - [`schema`], [`validate`], [`rules`]: the official XSDs compiled in, a streaming validator
//!   (schema, business rules, market rule packs) and [`envelope`] detection.
//! - [`statement`]: camt.053 / camt.054 read as a stream of typed entries, balances checked.
//! - [`generate`]: large, consistent, schema-valid camt.053 statements for tests and benchmarks.
#![warn(missing_docs)]

pub mod envelope;
mod error;
pub mod generate;
pub mod model;
pub mod money;
pub mod rules;
pub mod schema;
pub mod statement;
pub mod validate;
pub mod wire;
pub mod xml;

pub use error::{Error, XmlErrorKind};
pub use wire::{Message, ReadError, read, write};
