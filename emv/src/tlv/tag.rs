//! BER tags as EMV uses them: one to four bytes, class and constructed bits in the first byte,
//! more bytes when its low five bits are all set, each further byte announcing the next by its
//! high bit (EMV Book 3, Annex B1).

use std::fmt;
use std::str::FromStr;

use super::ErrorKind;

/// The longest tag EMV allows, in bytes.
pub const TAG_BYTES_MAX: usize = 4;

/// A BER tag, kept as its wire bytes (big-endian in a `u32`) and their count, so that `9F02`
/// and `009F02` are different tags and a tag re-encodes byte for byte.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Tag {
    bits: u32,
    len: u8,
}

/// The class of a tag: bits 8 and 7 of its first byte.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Class {
    /// `00`: universal (ASN.1 types).
    Universal,
    /// `01`: application (EMV's `4F`, `5A`, `5F2A`, `6F`, `70`).
    Application,
    /// `10`: context-specific (EMV's `82`, `95`, `9F02`, `A5`).
    Context,
    /// `11`: private (issuer and scheme proprietary, `DF..`, `FF..`).
    Private,
}

impl Tag {
    /// Reads a tag at the start of `input`; returns it and its byte count.
    pub fn parse(input: &[u8]) -> Result<(Tag, usize), ErrorKind> {
        let Some(&first) = input.first() else {
            return Err(ErrorKind::TagTruncated);
        };
        let mut bits = u32::from(first);
        let mut len = 1usize;
        if first & 0x1F == 0x1F {
            loop {
                let Some(&next) = input.get(len) else {
                    return Err(ErrorKind::TagTruncated);
                };
                len += 1;
                if len > TAG_BYTES_MAX {
                    return Err(ErrorKind::TagTooLong);
                }
                bits = (bits << 8) | u32::from(next);
                if next & 0x80 == 0 {
                    break;
                }
            }
        }
        let len_u8 = u8::try_from(len).map_err(|_| ErrorKind::TagTooLong)?;
        Ok((Tag { bits, len: len_u8 }, len))
    }

    /// A tag from its wire bytes; `None` unless they form exactly one well-formed tag.
    pub fn from_bytes(bytes: &[u8]) -> Option<Tag> {
        match Tag::parse(bytes) {
            Ok((tag, used)) if used == bytes.len() => Some(tag),
            _ => None,
        }
    }

    /// The wire bytes of the tag.
    pub fn bytes(self) -> impl Iterator<Item = u8> {
        let len = u32::from(self.len);
        (0..len)
            .rev()
            .map(move |i| ((self.bits >> (8 * i)) & 0xFF) as u8)
    }

    /// How many bytes the tag takes on the wire (1 to 4).
    pub fn byte_len(self) -> usize {
        usize::from(self.len)
    }

    /// The tag as a number, e.g. `0x9F02`.
    pub fn number(self) -> u32 {
        self.bits
    }

    fn first_byte(self) -> u8 {
        ((self.bits >> (8 * (u32::from(self.len) - 1))) & 0xFF) as u8
    }

    /// Bits 8-7 of the first byte.
    pub fn class(self) -> Class {
        match self.first_byte() >> 6 {
            0 => Class::Universal,
            1 => Class::Application,
            2 => Class::Context,
            _ => Class::Private,
        }
    }

    /// Bit 6 of the first byte: the value is a list of TLV objects (a template).
    pub fn is_constructed(self) -> bool {
        self.first_byte() & 0x20 != 0
    }
}

impl fmt::Display for Tag {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{:0width$X}",
            self.bits,
            width = 2 * usize::from(self.len)
        )
    }
}

impl fmt::Debug for Tag {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Tag({self})")
    }
}

/// A tag written as hex text was not one well-formed tag.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{0}` is not a BER tag in hex")]
pub struct TagParseError(pub String);

impl FromStr for Tag {
    type Err = TagParseError;

    /// Parses `9F02` (either case).
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let fail = || TagParseError(text.to_owned());
        if !text.len().is_multiple_of(2) || text.len() > 2 * TAG_BYTES_MAX || text.is_empty() {
            return Err(fail());
        }
        let bytes = (0..text.len() / 2)
            .map(|i| {
                text.get(2 * i..2 * i + 2)
                    .and_then(|pair| u8::from_str_radix(pair, 16).ok())
            })
            .collect::<Option<Vec<u8>>>()
            .ok_or_else(fail)?;
        Tag::from_bytes(&bytes).ok_or_else(fail)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_and_multi_byte_tags() {
        assert_eq!(Tag::parse(&[0x5A, 0x08]).unwrap().1, 1);
        let (tag, used) = Tag::parse(&[0x9F, 0x02, 0x06]).unwrap();
        assert_eq!((tag.to_string(), used), ("9F02".to_owned(), 2));
        let (tag, used) = Tag::parse(&[0xDF, 0x81, 0x29, 0x08]).unwrap();
        assert_eq!((tag.to_string(), used), ("DF8129".to_owned(), 3));
        assert_eq!(tag.class(), Class::Private);
        assert!(!tag.is_constructed());
        assert!("FF8105".parse::<Tag>().unwrap().is_constructed());
        assert_eq!(tag.bytes().collect::<Vec<_>>(), vec![0xDF, 0x81, 0x29]);
    }

    #[test]
    fn tag_errors() {
        assert_eq!(Tag::parse(&[]), Err(ErrorKind::TagTruncated));
        assert_eq!(Tag::parse(&[0x9F]), Err(ErrorKind::TagTruncated));
        assert_eq!(
            Tag::parse(&[0x9F, 0x81, 0x81]),
            Err(ErrorKind::TagTruncated)
        );
        assert_eq!(
            Tag::parse(&[0x9F, 0x81, 0x81, 0x81, 0x01]),
            Err(ErrorKind::TagTooLong)
        );
        assert!("9F".parse::<Tag>().is_err());
        assert!("9F0".parse::<Tag>().is_err());
        assert!("5A5A".parse::<Tag>().is_err());
    }
}
