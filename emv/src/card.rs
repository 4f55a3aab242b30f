//! Card data that must never be shown in the clear: the primary account number (PAN) and track
//! data. Everything here masks by construction; `expose` is for the packer and the tokeniser.
//!
//! The masking rule is PCI DSS's "first six, last four at most": a PAN of 13 digits or more
//! keeps its first 6 and last 4 digits, a shorter one keeps only its last 4 (and one of 4 or
//! fewer digits is masked whole). Track data keeps the masked PAN and hides everything after the
//! first separator (`=` or `D` in track 2, `^` in track 1).

use std::borrow::Cow;
use std::fmt;

/// The character that replaces a hidden digit.
pub const MASK_CHAR: char = '*';

/// The shortest digit run treated as a card number when masking text (ISO/IEC 7812 allows 8).
pub const PAN_DIGITS_MIN: usize = 8;
/// The longest PAN ISO/IEC 7812 allows.
pub const PAN_DIGITS_MAX: usize = 19;

/// Masks a card number: first 6 and last 4 characters kept when it has 13 or more, only the
/// last 4 when it is shorter, nothing kept when it has 4 or fewer.
pub fn mask_pan(pan: &str) -> String {
    let chars: Vec<char> = pan.chars().collect();
    let len = chars.len();
    let (head, tail) = if len >= 13 {
        (6, 4)
    } else if len > 4 {
        (0, 4)
    } else {
        (0, 0)
    };
    chars
        .iter()
        .enumerate()
        .map(|(i, c)| {
            if i < head || i >= len - tail {
                *c
            } else {
                MASK_CHAR
            }
        })
        .collect()
}

/// Masks track 1 or track 2 data: the PAN as [`mask_pan`] does, every character after the
/// first field separator replaced by [`MASK_CHAR`] (separators themselves are kept, so the
/// shape stays readable). A leading sentinel and format code (`%B`, `;`) are kept.
pub fn mask_track(track: &str) -> String {
    let (lead, body) = split_track_lead(track);
    let sep = body.find(['=', 'D', 'd', '^']);
    let (pan, rest) = match sep {
        Some(i) => body.split_at(i),
        None => (body, ""),
    };
    let mut out = String::with_capacity(track.len());
    out.push_str(lead);
    out.push_str(&mask_pan(pan));
    for c in rest.chars() {
        out.push(if matches!(c, '=' | 'D' | 'd' | '^') {
            c
        } else {
            MASK_CHAR
        });
    }
    // A separator inside the hidden part could still be 'D'/'d' from a name: harmless.
    out
}

/// The PAN part of track data: the digits before the first separator.
pub fn track_pan(track: &str) -> &str {
    let (_, body) = split_track_lead(track);
    let end = body
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(body.len());
    body.get(..end).unwrap_or("")
}

fn split_track_lead(track: &str) -> (&str, &str) {
    let lead_len = track
        .char_indices()
        .take_while(|(i, c)| matches!(c, '%' | ';') || (*i <= 1 && matches!(c, 'B' | 'b')))
        .map(|(i, c)| i + c.len_utf8())
        .last()
        .unwrap_or(0);
    track.split_at(lead_len)
}

/// A primary account number: 8 to 19 digits, checked once by [`Pan::parse`]. `Debug` and
/// `Display` show it masked; [`Pan::expose`] is the only way to the digits.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Pan(Box<str>);

/// Why a text is not a PAN.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum PanError {
    /// Fewer than 8 or more than 19 characters.
    #[error("a PAN has 8 to 19 digits, this one has {0}")]
    Length(usize),
    /// A character other than 0-9.
    #[error("a PAN has digits only (character {0} is not one)")]
    NotDigit(usize),
}

impl Pan {
    /// Checks the length (8 to 19) and that every character is a digit.
    pub fn parse(text: &str) -> Result<Self, PanError> {
        if let Some(i) = text.bytes().position(|b| !b.is_ascii_digit()) {
            return Err(PanError::NotDigit(i));
        }
        if !(PAN_DIGITS_MIN..=PAN_DIGITS_MAX).contains(&text.len()) {
            return Err(PanError::Length(text.len()));
        }
        Ok(Self(text.into()))
    }

    /// The digits in the clear: for the packer and the tokeniser only.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// The masked form, as `Display` prints it.
    pub fn masked(&self) -> String {
        mask_pan(&self.0)
    }

    /// Whether the last digit is the Luhn check digit of the others.
    pub fn luhn_valid(&self) -> bool {
        luhn_valid(&self.0)
    }
}

impl fmt::Display for Pan {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.masked())
    }
}

impl fmt::Debug for Pan {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Pan({})", self.masked())
    }
}

/// The Luhn (mod 10) check over a string of digits; false for anything that is not all digits.
pub fn luhn_valid(digits: &str) -> bool {
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return false;
    }
    let sum: u32 = digits
        .bytes()
        .rev()
        .enumerate()
        .map(|(i, b)| {
            let d = u32::from(b - b'0');
            if i % 2 == 1 {
                let twice = d * 2;
                if twice > 9 { twice - 9 } else { twice }
            } else {
                d
            }
        })
        .sum();
    sum % 10 == 0
}

/// Masks the card numbers of one message wherever they occur in a text: in the field that
/// carries them, but also in any other field, in chip data shown as hex, or in an error.
///
/// Build it from every sensitive value of the message (PAN fields, track data); then pass every
/// string that leaves the process through [`Masker::mask`].
#[derive(Debug, Clone, Default)]
pub struct Masker {
    /// Digit runs to hide, longest first so that a PAN inside a longer one is found whole.
    secrets: Vec<String>,
}

impl Masker {
    /// A masker that hides nothing yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a PAN (or any digit run to hide); runs shorter than [`PAN_DIGITS_MIN`] are ignored.
    pub fn add_pan(&mut self, pan: &str) {
        let pan = pan.trim();
        if pan.len() >= PAN_DIGITS_MIN
            && pan.bytes().all(|b| b.is_ascii_digit())
            && !self.secrets.iter().any(|s| s == pan)
        {
            self.secrets.push(pan.to_owned());
            self.secrets.sort_by_key(|s| std::cmp::Reverse(s.len()));
        }
    }

    /// Adds track data: its PAN, so that it is hidden wherever it appears.
    pub fn add_track(&mut self, track: &str) {
        self.add_pan(track_pan(track));
    }

    /// Whether this masker has anything to hide.
    pub fn is_empty(&self) -> bool {
        self.secrets.is_empty()
    }

    /// The text with every occurrence of a secret masked as [`mask_pan`] does (case-insensitive
    /// for hex text is not needed: secrets are digits).
    pub fn mask<'t>(&self, text: &'t str) -> Cow<'t, str> {
        let mut out: Cow<'t, str> = Cow::Borrowed(text);
        for secret in &self.secrets {
            if out.contains(secret.as_str()) {
                out = Cow::Owned(out.replace(secret.as_str(), &mask_pan(secret)));
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pan_masks_first_six_last_four() {
        assert_eq!(mask_pan("4111111111111111"), "411111******1111");
        assert_eq!(mask_pan("1234567890123456789"), "123456*********6789");
        assert_eq!(mask_pan("123456789012"), "********9012");
        assert_eq!(mask_pan("1234"), "1234".replace(|_| true, "*"));
        let pan = Pan::parse("4111111111111111").unwrap();
        assert_eq!(format!("{pan}"), "411111******1111");
        assert_eq!(format!("{pan:?}"), "Pan(411111******1111)");
        assert!(pan.luhn_valid());
        assert_eq!(Pan::parse("41111x"), Err(PanError::NotDigit(5)));
        assert_eq!(Pan::parse("4111"), Err(PanError::Length(4)));
    }

    #[test]
    fn track_hides_everything_after_the_separator() {
        assert_eq!(
            mask_track("4111111111111111=25121010000012300000"),
            "411111******1111=********************"
        );
        assert_eq!(
            mask_track("4111111111111111D2512101"),
            "411111******1111D*******"
        );
        assert_eq!(track_pan("1234567890123456=1234"), "1234567890123456");
        assert_eq!(
            track_pan("%B4111111111111111^DOE/J^2512"),
            "4111111111111111"
        );
        assert!(!mask_track("%B4111111111111111^DOE/JOHN^2512101").contains("DOE"));
    }

    #[test]
    fn masker_hides_secrets_anywhere() {
        let mut m = Masker::new();
        m.add_pan("1234567890123456789");
        m.add_track("1234567890123456=12345678901234567890");
        let text = "F2=1234567890123456789 F53=1234567890123456 F55=5A081234567890123456";
        let masked = m.mask(text);
        assert!(!masked.contains("1234567890123456"), "{masked}");
        assert!(masked.contains("F2=123456*********6789"));
    }
}
