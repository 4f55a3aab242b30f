//! ISO 8583 and EMV chip data for Clearway: dialects as data files, the message codec (MTI,
//! bitmaps, fields, framing) and BER-TLV for field 55 with a tag dictionary.
//!
//! This crate does no I/O: it never opens a file or a socket and never reads the clock. Callers
//! hand it bytes and get values or errors that name the field, the tag path and the byte offset.
#![warn(missing_docs)]

pub mod card;
pub mod iso8583;
pub mod tlv;
