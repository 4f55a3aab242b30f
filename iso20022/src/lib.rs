//! ISO 20022 messages for the clearing legs Clearway speaks: schema compiler, streaming
//! validator (schema, business rules, market rule packs) and envelope detection. It does no I/O
//! beyond `std::io` readers and writers, and depends on neither tokio, sqlx nor lapin.
#![warn(missing_docs)]

pub mod envelope;
mod error;
pub mod rules;
pub mod schema;
pub mod validate;
pub mod xml;

pub use error::{Error, XmlErrorKind};
