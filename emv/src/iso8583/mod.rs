//! ISO 8583: dialects (data files), MTI, bitmaps, field pack/unpack and message framing.
//!
//! ```
//! use emv::iso8583::{Dialect, unpack, pack};
//! let dialect = Dialect::shipped("iso87ascii")?;
//! let wire = b"08002000000000000000000001";
//! let message = unpack(&dialect, wire)?;
//! assert_eq!(message.mti().as_str(), "0800");
//! assert_eq!(message.text(3).as_deref(), Some("000001"));
//! assert_eq!(pack(&dialect, &message)?, wire);
//! # Ok::<(), emv::iso8583::Error>(())
//! ```

mod bitmap;
mod dialect;
mod error;
mod field;
mod frame;
mod message;
mod mti;

pub use bitmap::Bitmap;
pub use dialect::{
    BitmapEncoding, Dialect, Encoding, FieldSpec, FieldType, LengthKind, MtiEncoding, Pad,
    PrefixEncoding, Sensitive, Structure, prefix_capacity, prefix_width,
};
pub use error::{DecodeErrorKind, DialectProblem, EncodeErrorKind, Error, FieldPath, Unit};
pub use field::{Digits, Value, parse_hex, to_hex};
pub use frame::{LengthHeader, split_frames, unframe};
pub use message::{DescribedField, Description, Message, pack, pack_into, unpack};
pub use mti::Mti;
