//! EMV BER-TLV, as carried in ISO 8583 field 55 and in card responses: tags and lengths
//! (`tag`, `length`), a borrowing decoder (`decode`), an encoder (`encode`), Data Object Lists
//! (`dol`), the tag dictionary read from `emv/tags.toml` (`dictionary`) and a masked,
//! human-readable tree (`describe`).
//!
//! It is not an ISO 8583 codec (see `iso8583`) and it never prints a card number in the clear:
//! errors carry tags and offsets only, `Debug` hides sensitive values, and `describe` masks
//! PAN and track data unless asked not to.
#![warn(clippy::indexing_slicing)]

pub mod decode;
pub mod describe;
pub mod dictionary;
pub mod dol;
pub mod encode;
pub mod length;
pub mod tag;

use std::fmt;

pub use decode::{DEPTH_MAX, Tlv, decode, decode_strict};
pub use encode::{Content, TlvBuf, encode_into};
pub use tag::Tag;

/// The chain of tags from the top level down to the object an error is about, e.g.
/// `TLV/70/9F26`; the ISO 8583 decoder prefixes it with the field (`DE55: TLV/70/9F26`).
#[derive(Clone, Default, PartialEq, Eq, Hash)]
pub struct TagPath(Vec<Tag>);

impl TagPath {
    /// The top level, before any tag.
    pub fn root() -> Self {
        Self::default()
    }

    /// This path with `tag` appended.
    pub fn child(&self, tag: Tag) -> Self {
        let mut tags = self.0.clone();
        tags.push(tag);
        Self(tags)
    }

    /// A path from its tags, outermost first.
    pub fn from_tags(tags: Vec<Tag>) -> Self {
        Self(tags)
    }

    /// The tags, outermost first.
    pub fn tags(&self) -> &[Tag] {
        &self.0
    }
}

impl fmt::Display for TagPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("TLV")?;
        for tag in &self.0 {
            write!(f, "/{tag}")?;
        }
        Ok(())
    }
}

impl fmt::Debug for TagPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "TagPath({self})")
    }
}

/// A BER-TLV decoding error: where (the tag path and the byte offset in the whole input) and
/// what (a small kind to match on). It never holds value bytes, so it cannot leak card data.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{path}: {kind} at byte {offset}")]
pub struct Error {
    /// The tags enclosing the failing object, and the failing tag itself once it is known.
    pub path: TagPath,
    /// Byte offset in the input where the problem was found.
    pub offset: usize,
    /// What was expected and not found.
    pub kind: ErrorKind,
}

impl Error {
    pub(crate) fn new(path: TagPath, offset: usize, kind: ErrorKind) -> Self {
        Self { path, offset, kind }
    }
}

/// What went wrong while reading BER-TLV.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ErrorKind {
    /// The input ends inside a tag (a multi-byte tag announced more bytes).
    #[error("input ends inside a tag")]
    TagTruncated,
    /// A tag longer than the 4 bytes EMV allows.
    #[error("tag longer than 4 bytes")]
    TagTooLong,
    /// The input ends before the length byte(s).
    #[error("input ends before the length")]
    LengthTruncated,
    /// The indefinite length form (0x80), which EMV does not allow.
    #[error("indefinite length (0x80) is not allowed")]
    LengthIndefinite,
    /// A long length form with more than 4 length bytes (first length byte given).
    #[error("length form 0x{0:02X} announces more than 4 length bytes")]
    LengthTooLong(u8),
    /// The value would extend past the end of the input (or of the enclosing template).
    #[error("value of {declared} bytes but only {available} left")]
    ValueTruncated {
        /// The length the object declares.
        declared: usize,
        /// The bytes left in the input or the enclosing template.
        available: usize,
    },
    /// Templates nested deeper than [`DEPTH_MAX`].
    #[error("templates nested deeper than {DEPTH_MAX}")]
    TooDeep,
}
