//! ISO 20022 messages for the clearing legs Clearway speaks. Not yet built: see the ISO 20022
//! issue. It does no I/O beyond `std::io` readers and writers, and depends on neither tokio, sqlx
//! nor lapin.
#![warn(missing_docs)]

pub mod model;
pub mod wire;

pub use wire::{Message, ReadError, read, write};
