//! The message type indicator: four digits naming version, class, function and origin.

use std::fmt;

use super::error::{DecodeErrorKind, EncodeErrorKind, Error, FieldPath};

/// A message type indicator, four ASCII digits, checked by [`Mti::parse`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Mti([u8; 4]);

impl Mti {
    /// Four digits, e.g. `"0100"`.
    pub fn parse(text: &str) -> Result<Self, Error> {
        let bytes: [u8; 4] = text
            .as_bytes()
            .try_into()
            .map_err(|_| Error::encode(FieldPath::Mti, EncodeErrorKind::BadMti))?;
        Self::from_digits(bytes).ok_or(Error::encode(FieldPath::Mti, EncodeErrorKind::BadMti))
    }

    /// From four ASCII digits read at `offset` (for decode errors).
    pub(crate) fn from_wire(bytes: [u8; 4], offset: usize) -> Result<Self, Error> {
        match bytes.iter().position(|b| !b.is_ascii_digit()) {
            None => Ok(Self(bytes)),
            Some(i) => Err(Error::decode(
                FieldPath::Mti,
                offset,
                DecodeErrorKind::BadCharacter {
                    byte: bytes.get(i).copied().unwrap_or(0),
                    expected: "four digits",
                },
            )),
        }
    }

    fn from_digits(bytes: [u8; 4]) -> Option<Self> {
        bytes.iter().all(u8::is_ascii_digit).then_some(Self(bytes))
    }

    /// The four digits.
    pub fn as_str(&self) -> &str {
        std::str::from_utf8(&self.0).unwrap_or("????")
    }

    /// The four digits as bytes.
    pub fn digits(&self) -> [u8; 4] {
        self.0
    }

    fn digit(&self, i: usize) -> u8 {
        self.0.get(i).map_or(0, |d| d - b'0')
    }

    /// The ISO 8583 version the first digit names.
    pub fn version(&self) -> &'static str {
        match self.digit(0) {
            0 => "1987",
            1 => "1993",
            2 => "2003",
            8 => "national use",
            9 => "private use",
            _ => "reserved",
        }
    }

    /// The message class the second digit names.
    pub fn class(&self) -> &'static str {
        match self.digit(1) {
            1 => "authorization",
            2 => "financial",
            3 => "file action",
            4 => "reversal/chargeback",
            5 => "reconciliation",
            6 => "administrative",
            7 => "fee collection",
            8 => "network management",
            _ => "reserved",
        }
    }

    /// The message function the third digit names.
    pub fn function(&self) -> &'static str {
        match self.digit(2) {
            0 => "request",
            1 => "request response",
            2 => "advice",
            3 => "advice response",
            4 => "notification",
            5 => "notification acknowledgement",
            6 => "instruction",
            7 => "instruction acknowledgement",
            _ => "reserved",
        }
    }

    /// The message origin the fourth digit names.
    pub fn origin(&self) -> &'static str {
        match self.digit(3) {
            0 => "acquirer",
            1 => "acquirer repeat",
            2 => "issuer",
            3 => "issuer repeat",
            4 => "other",
            5 => "other repeat",
            _ => "reserved",
        }
    }
}

impl fmt::Display for Mti {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        let m = Mti::parse("0100").unwrap();
        assert_eq!(
            (m.version(), m.class(), m.function(), m.origin()),
            ("1987", "authorization", "request", "acquirer")
        );
        let m = Mti::parse("1430").unwrap();
        assert_eq!(
            (m.version(), m.class(), m.function()),
            ("1993", "reversal/chargeback", "advice response")
        );
        assert!(Mti::parse("01A0").is_err());
        assert!(Mti::parse("010").is_err());
    }
}
