//! Message framing over a byte stream, independent of sockets: a length header before each
//! message (2-byte binary or 4-digit ASCII). [`split_frames`] cuts a buffer into the complete
//! messages it holds and the leftover bytes of an incomplete one.

use super::error::{DecodeErrorKind, EncodeErrorKind, Error, FieldPath, Unit};

/// The length header in front of each message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LengthHeader {
    /// Two bytes, unsigned big-endian (0 to 65535).
    Binary2,
    /// Four ASCII digits (0 to 9999).
    Ascii4,
}

impl LengthHeader {
    /// Bytes the header takes.
    pub fn width(self) -> usize {
        match self {
            Self::Binary2 => 2,
            Self::Ascii4 => 4,
        }
    }

    /// The largest message length the header can carry.
    pub fn capacity(self) -> usize {
        match self {
            Self::Binary2 => 0xFFFF,
            Self::Ascii4 => 9999,
        }
    }

    /// Reads the header at `offset`; `Ok(None)` when the buffer ends inside it.
    pub fn read(self, buf: &[u8], offset: usize) -> Result<Option<usize>, Error> {
        let Some(raw) = buf.get(offset..offset + self.width()) else {
            return Ok(None);
        };
        let mut len = 0usize;
        for (i, &b) in raw.iter().enumerate() {
            len = match self {
                Self::Binary2 => (len << 8) | usize::from(b),
                Self::Ascii4 if b.is_ascii_digit() => len * 10 + usize::from(b - b'0'),
                Self::Ascii4 => {
                    return Err(Error::decode(
                        FieldPath::Frame,
                        offset + i,
                        DecodeErrorKind::BadCharacter {
                            byte: b,
                            expected: "four digits",
                        },
                    ));
                }
            };
        }
        Ok(Some(len))
    }

    /// Writes a header for a message of `len` bytes.
    pub fn write(self, len: usize, out: &mut Vec<u8>) -> Result<(), Error> {
        if len > self.capacity() {
            return Err(Error::encode(
                FieldPath::Frame,
                EncodeErrorKind::TooLong {
                    length: len,
                    max: self.capacity(),
                    unit: Unit::Bytes,
                },
            ));
        }
        match self {
            Self::Binary2 => {
                out.extend_from_slice(&u16::try_from(len).unwrap_or(u16::MAX).to_be_bytes())
            }
            Self::Ascii4 => out.extend(format!("{len:04}").bytes()),
        }
        Ok(())
    }
}

/// Splits `buf` into the complete frames' payloads it holds, in order, and the bytes of an
/// incomplete last frame (to keep for when more data arrives).
pub fn split_frames(header: LengthHeader, buf: &[u8]) -> Result<(Vec<&[u8]>, &[u8]), Error> {
    let mut frames = Vec::new();
    let mut pos = 0;
    while let Some(len) = header.read(buf, pos)? {
        let start = pos + header.width();
        let Some(payload) = buf.get(start..start + len) else {
            break;
        };
        frames.push(payload);
        pos = start + len;
    }
    Ok((frames, buf.get(pos..).unwrap_or_default()))
}

/// Reads exactly one framed message: the payload, or an error naming the frame header when the
/// buffer is shorter than the header says (or holds more).
pub fn unframe(header: LengthHeader, buf: &[u8]) -> Result<&[u8], Error> {
    let truncated = |expected| {
        Error::decode(
            FieldPath::Frame,
            0,
            DecodeErrorKind::Truncated {
                expected,
                unit: Unit::Bytes,
            },
        )
    };
    let len = header.read(buf, 0)?.ok_or(truncated(header.width()))?;
    let start = header.width();
    let payload = buf.get(start..start + len).ok_or(truncated(len))?;
    if buf.len() > start + len {
        return Err(Error::decode(
            FieldPath::Frame,
            start + len,
            DecodeErrorKind::TrailingBytes {
                count: buf.len() - start - len,
            },
        ));
    }
    Ok(payload)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_complete_frames_and_keeps_leftovers() {
        let mut buf = Vec::new();
        for payload in [&b"0800abc"[..], b"", b"0810"] {
            LengthHeader::Binary2
                .write(payload.len(), &mut buf)
                .unwrap();
            buf.extend_from_slice(payload);
        }
        buf.extend_from_slice(&[0x00, 0x05, b'0', b'1']);
        let (frames, rest) = split_frames(LengthHeader::Binary2, &buf).unwrap();
        assert_eq!(frames, vec![&b"0800abc"[..], b"", b"0810"]);
        assert_eq!(rest, &[0x00, 0x05, b'0', b'1']);
        let (frames, rest) = split_frames(LengthHeader::Ascii4, b"0004080000").unwrap();
        assert_eq!((frames, rest), (vec![&b"0800"[..]], &b"00"[..]));
        assert!(split_frames(LengthHeader::Ascii4, b"00x4").is_err());
        assert_eq!(unframe(LengthHeader::Ascii4, b"0002ab").unwrap(), b"ab");
        assert!(unframe(LengthHeader::Ascii4, b"0003ab").is_err());
        assert!(LengthHeader::Ascii4.write(10_000, &mut Vec::new()).is_err());
    }
}
