//! Errors of the ISO 8583 codec: every one says where (MTI, bitmap, field N) and, when decoding,
//! the byte offset. None of them echoes field data, so none can leak a card number.

use std::fmt;

/// Where in a message something went wrong.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum FieldPath {
    /// The message type indicator (field 0).
    Mti,
    /// A bitmap (field 1, or the tertiary bitmap announced by bit 65).
    Bitmap,
    /// Data field N (2 to 128, or 192 with a tertiary bitmap).
    Field(u16),
    /// The message as a whole (bytes after the last field).
    Message,
    /// A length header read by the framing helpers.
    Frame,
}

impl fmt::Display for FieldPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Mti => f.write_str("MTI"),
            Self::Bitmap => f.write_str("bitmap"),
            Self::Field(n) => write!(f, "field {n}"),
            Self::Message => f.write_str("message"),
            Self::Frame => f.write_str("frame header"),
        }
    }
}

/// The unit a length counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unit {
    /// Decimal digits (n, z and BCD content).
    Digits,
    /// Characters of text.
    Chars,
    /// Raw bytes.
    Bytes,
}

impl fmt::Display for Unit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Digits => "digits",
            Self::Chars => "characters",
            Self::Bytes => "bytes",
        })
    }
}

/// What went wrong while decoding; small enough to match on and to count.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum DecodeErrorKind {
    /// The input ends inside this item; `expected` is the size it needed.
    Truncated {
        /// How much the item needed.
        expected: usize,
        /// What `expected` counts.
        unit: Unit,
    },
    /// A length prefix that is not a number in its encoding.
    BadLengthPrefix,
    /// A length prefix above the field's maximum.
    LengthOverMax {
        /// The length the prefix announced.
        length: usize,
        /// The dialect's maximum for the field.
        max: usize,
    },
    /// A character that the field's type does not allow (e.g. a letter in an `n` field).
    BadCharacter {
        /// The byte as found on the wire.
        byte: u8,
        /// What the type allows.
        expected: &'static str,
    },
    /// A BCD nibble above 9 (other than the track-2 separator D).
    BadNibble {
        /// The nibble's value.
        nibble: u8,
    },
    /// The bitmap announces a field the dialect does not define.
    UnknownField,
    /// Bytes left over after the last field the bitmaps announce.
    TrailingBytes {
        /// How many.
        count: usize,
    },
}

impl fmt::Display for DecodeErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Truncated { .. } => f.write_str("input ends before the field does"),
            Self::BadLengthPrefix => f.write_str("length prefix is not a number"),
            Self::LengthOverMax { .. } => f.write_str("length prefix above the dialect maximum"),
            Self::BadCharacter { byte, .. } => write!(f, "unexpected byte 0x{byte:02X}"),
            Self::BadNibble { nibble } => write!(f, "BCD nibble {nibble:X} is not a digit"),
            Self::UnknownField => {
                f.write_str("bitmap announces a field the dialect does not define")
            }
            Self::TrailingBytes { count } => write!(f, "{count} bytes after the last field"),
        }
    }
}

impl DecodeErrorKind {
    fn expected(&self) -> Option<String> {
        match self {
            Self::Truncated { expected, unit } => Some(format!("expected {expected} {unit}")),
            Self::LengthOverMax { length, max } => {
                Some(format!("got {length}, expected at most {max}"))
            }
            Self::BadCharacter { expected, .. } => Some(format!("expected {expected}")),
            Self::BadLengthPrefix => Some("expected decimal digits".to_owned()),
            Self::BadNibble { .. } => Some("expected 0-9".to_owned()),
            _ => None,
        }
    }
}

/// What went wrong while encoding.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum EncodeErrorKind {
    /// The dialect does not define this field.
    UnknownField,
    /// A fixed-length field given a value of another length.
    WrongLength {
        /// The value's length.
        length: usize,
        /// The field's fixed length.
        expected: usize,
        /// What both count.
        unit: Unit,
    },
    /// A variable field longer than its maximum.
    TooLong {
        /// The value's length.
        length: usize,
        /// The field's maximum.
        max: usize,
        /// What both count.
        unit: Unit,
    },
    /// A character the field's type does not allow; `position` counts from 0 in the value.
    BadCharacter {
        /// Position in the value.
        position: usize,
        /// What the type allows.
        expected: &'static str,
    },
    /// A text value for a binary field or bytes for a text field.
    WrongValueKind {
        /// What the field holds.
        expected: &'static str,
    },
    /// A hex value with an odd number of digits or a non-hex character.
    BadHex,
    /// The MTI is not four digits.
    BadMti,
}

impl fmt::Display for EncodeErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::UnknownField => f.write_str("the dialect does not define this field"),
            Self::WrongLength {
                length,
                expected,
                unit,
            } => {
                write!(
                    f,
                    "value has {length} {unit}, the field is fixed at {expected}"
                )
            }
            Self::TooLong { length, max, unit } => {
                write!(f, "value has {length} {unit}, more than the maximum {max}")
            }
            Self::BadCharacter { position, expected } => {
                write!(
                    f,
                    "character {position} of the value is not allowed (expected {expected})"
                )
            }
            Self::WrongValueKind { expected } => {
                write!(f, "wrong kind of value (expected {expected})")
            }
            Self::BadHex => f.write_str("value is not hex (pairs of 0-9, A-F)"),
            Self::BadMti => f.write_str("MTI must be four digits"),
        }
    }
}

/// A problem in a dialect file.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum DialectProblem {
    /// The TOML does not parse or has an unknown or missing key (the parser's message).
    Syntax(String),
    /// A field number outside 2..=128 (2..=192 with a tertiary bitmap).
    NumberOutOfRange,
    /// The same field defined twice.
    Duplicate,
    /// A maximum above what the length prefix can express.
    MaxAbovePrefix {
        /// The declared maximum.
        max: usize,
        /// What the prefix can carry.
        capacity: usize,
    },
    /// A zero length or maximum.
    ZeroLength,
    /// A variable field without `prefix`, or a fixed one with it.
    PrefixMismatch,
    /// An encoding that cannot carry the field's type (e.g. BCD for `ans`).
    EncodingForType {
        /// The encoding.
        encoding: &'static str,
        /// The type.
        field_type: &'static str,
    },
    /// `pad` on an encoding other than BCD, or a pad nibble that is not a hex digit.
    BadPad,
    /// Subfields on a binary field, of length 0, or whose lengths do not add up to the field's.
    SubfieldLayout {
        /// The sum of the subfield lengths (0 when one is 0 or the field is binary).
        total: usize,
        /// The field's length or maximum.
        max: usize,
    },
    /// Field 65 defined in a dialect whose bit 65 announces the tertiary bitmap.
    TertiaryBitClash,
}

impl fmt::Display for DialectProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Syntax(msg) => write!(f, "{msg}"),
            Self::NumberOutOfRange => {
                f.write_str("field number outside 2..=128 (192 with a tertiary bitmap)")
            }
            Self::Duplicate => f.write_str("defined twice"),
            Self::MaxAbovePrefix { max, capacity } => {
                write!(
                    f,
                    "max {max} is above what its length prefix can carry ({capacity})"
                )
            }
            Self::ZeroLength => f.write_str("length or max is 0"),
            Self::PrefixMismatch => {
                f.write_str("a variable field needs `prefix`, a fixed field must not have one")
            }
            Self::EncodingForType {
                encoding,
                field_type,
            } => {
                write!(f, "encoding {encoding} cannot carry type {field_type}")
            }
            Self::BadPad => f.write_str(
                "`pad`/`pad_nibble` only apply to BCD encodings; pad_nibble is one hex digit",
            ),
            Self::SubfieldLayout { total, max } => write!(
                f,
                "subfield lengths add up to {total}, the field holds {max} (text fields only, no zero lengths)"
            ),
            Self::TertiaryBitClash => {
                f.write_str("bit 65 announces the tertiary bitmap; field 65 cannot be data")
            }
        }
    }
}

/// The one error type of the ISO 8583 codec.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The bytes do not decode: `field 90: input ends before the field does at byte 257 (expected 42 digits)`.
    #[error("{path}: {kind} at byte {offset}{}", kind.expected().map(|e| format!(" ({e})")).unwrap_or_default())]
    Decode {
        /// Where.
        path: FieldPath,
        /// Byte offset in the input where the item starts or the problem lies.
        offset: usize,
        /// What.
        kind: DecodeErrorKind,
    },
    /// A value does not fit its field: `field 2: value has 20 digits, more than the maximum 19`.
    #[error("{path}: {kind}")]
    Encode {
        /// Where.
        path: FieldPath,
        /// What.
        kind: EncodeErrorKind,
    },
    /// A dialect file is wrong: `dialect x: field 2: defined twice`.
    #[error("dialect {dialect}: {}{problem}", field.map(|n| format!("field {n}: ")).unwrap_or_default())]
    Dialect {
        /// The dialect's name.
        dialect: String,
        /// The field concerned, if any.
        field: Option<u16>,
        /// What.
        problem: DialectProblem,
    },
    /// `Dialect::shipped` was given a name no shipped dialect has.
    #[error("unknown dialect {0:?} (see `clearway iso8583 dialects`)")]
    UnknownDialect(String),
}

impl Error {
    /// The place the error concerns, when it concerns a part of a message.
    pub fn path(&self) -> Option<FieldPath> {
        match self {
            Self::Decode { path, .. } | Self::Encode { path, .. } => Some(*path),
            Self::Dialect { field: Some(n), .. } => Some(FieldPath::Field(*n)),
            _ => None,
        }
    }

    // cold: the codec's hot loops then keep error construction out of their way
    #[cold]
    pub(crate) fn decode(path: FieldPath, offset: usize, kind: DecodeErrorKind) -> Self {
        Self::Decode { path, offset, kind }
    }

    #[cold]
    pub(crate) fn encode(path: FieldPath, kind: EncodeErrorKind) -> Self {
        Self::Encode { path, kind }
    }
}
