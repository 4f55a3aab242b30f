//! One field on the wire: length prefixes and content encodings (ASCII, EBCDIC, BCD with a pad
//! nibble, binary, hex text, sign + BCD). Decoding borrows ASCII text and binary bytes from
//! the input; only BCD, EBCDIC and hex text decode into owned values.

use std::borrow::Cow;
use std::fmt;

use super::dialect::{Encoding, FieldSpec, FieldType, Pad, PrefixEncoding, prefix_width};
use super::error::{DecodeErrorKind, EncodeErrorKind, Error, FieldPath, Unit};

/// A field's value: text for every type but `b`, bytes for `b`.
///
/// Decoding gives [`Value::Digits`] for short BCD fields (no heap, no UTF-8 check) and
/// [`Value::Text`] or [`Value::Bytes`] otherwise; use [`Value::as_text`] rather than matching
/// on `Text` to read any text value. Equality compares the text, so `Digits("123")` equals
/// `Text("123")`.
#[derive(Clone)]
pub enum Value<'a> {
    /// Text, exactly as in the message (leading zeros and trailing spaces kept).
    Text(Cow<'a, str>),
    /// Bytes of a binary field.
    Bytes(Cow<'a, [u8]>),
    /// Up to [`Digits::CAPACITY`] characters decoded from BCD, held inline.
    Digits(Digits),
}

/// Decoded BCD characters (digits, `=` in track data, a leading `C`/`D` sign), held inline so
/// that unpacking a numeric field of a binary dialect allocates nothing.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct Digits {
    len: u8,
    buf: [u8; Digits::CAPACITY],
}

impl Digits {
    /// The most characters a `Digits` holds: a 19-digit PAN, a 12-digit amount, and track 2
    /// (at most 37 characters), so that no BCD field of a card message allocates; longer BCD
    /// fields decode to [`Value::Text`]. 38 makes a [`Value`] 40 bytes, the size a `Cow` plus
    /// its tag already rounds to; a message's field slots are allocated at their exact count.
    pub const CAPACITY: usize = 38;

    /// `Some` when `text` is ASCII and fits.
    pub fn new(text: &str) -> Option<Self> {
        Self::from_ascii(text.as_bytes())
    }

    fn from_ascii(bytes: &[u8]) -> Option<Self> {
        let mut digits = Self {
            len: u8::try_from(bytes.len()).ok()?,
            buf: [0; Self::CAPACITY],
        };
        digits.buf.get_mut(..bytes.len())?.copy_from_slice(bytes);
        bytes.is_ascii().then_some(digits)
    }

    /// The characters as bytes (ASCII).
    pub fn as_bytes(&self) -> &[u8] {
        self.buf.get(..usize::from(self.len)).unwrap_or_default()
    }

    /// The characters as text.
    pub fn as_str(&self) -> &str {
        // only ASCII is ever stored (`from_ascii`, `bcd_digits`), so this never falls back
        let text = std::str::from_utf8(self.as_bytes());
        debug_assert!(text.is_ok(), "Digits holds ASCII only");
        text.unwrap_or_default()
    }
}

/// Debug never shows the content: it may be card data.
impl fmt::Debug for Digits {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Digits(<{} chars>)", self.len)
    }
}

impl PartialEq for Value<'_> {
    fn eq(&self, other: &Self) -> bool {
        match (self, other) {
            (Self::Bytes(a), Self::Bytes(b)) => a == b,
            (Self::Bytes(_), _) | (_, Self::Bytes(_)) => false,
            (a, b) => a.as_text() == b.as_text(),
        }
    }
}

impl Eq for Value<'_> {}

impl Value<'_> {
    /// The text of a text value (`Text` or `Digits`); `None` for bytes.
    pub fn as_text(&self) -> Option<&str> {
        match self {
            Self::Text(t) => Some(t),
            Self::Digits(d) => Some(d.as_str()),
            Self::Bytes(_) => None,
        }
    }

    /// The value as printed: text as is, bytes as uppercase hex. Not masked: callers mask.
    pub fn to_display(&self) -> Cow<'_, str> {
        match self {
            Self::Text(t) => Cow::Borrowed(t.as_ref()),
            Self::Digits(d) => Cow::Borrowed(d.as_str()),
            Self::Bytes(b) => Cow::Owned(to_hex(b)),
        }
    }

    /// A value that owns its data.
    pub fn into_owned(self) -> Value<'static> {
        match self {
            Self::Text(t) => Value::Text(Cow::Owned(t.into_owned())),
            Self::Bytes(b) => Value::Bytes(Cow::Owned(b.into_owned())),
            Self::Digits(d) => Value::Digits(d),
        }
    }

    /// The wire-side content: the text's bytes or the bytes themselves.
    fn content(&self) -> &[u8] {
        match self {
            Self::Text(t) => t.as_bytes(),
            Self::Digits(d) => d.as_bytes(),
            Self::Bytes(b) => b,
        }
    }

    /// Parses a printed value back for `spec`: hex for binary fields, text otherwise.
    pub fn from_display(spec: &FieldSpec, text: &str) -> Result<Value<'static>, Error> {
        if spec.is_binary() {
            parse_hex(text)
                .map(|b| Value::Bytes(Cow::Owned(b)))
                .ok_or(Error::encode(
                    FieldPath::Field(spec.number),
                    EncodeErrorKind::BadHex,
                ))
        } else {
            Ok(Value::Text(Cow::Owned(text.to_owned())))
        }
    }
}

/// Debug never shows the content: it may be card data. Use [`super::Message::describe`].
impl fmt::Debug for Value<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Text(t) => write!(f, "Text(<{} chars>)", t.len()),
            Self::Digits(d) => write!(f, "Text(<{} chars>)", d.len),
            Self::Bytes(b) => write!(f, "Bytes(<{} bytes>)", b.len()),
        }
    }
}

/// Uppercase hex of bytes.
pub fn to_hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789ABCDEF";
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        out.push(char::from(
            DIGITS.get(usize::from(b >> 4)).copied().unwrap_or(b'0'),
        ));
        out.push(char::from(
            DIGITS.get(usize::from(b & 0x0F)).copied().unwrap_or(b'0'),
        ));
    }
    out
}

/// Appends uppercase hex of `bytes` to `out` without an intermediate string.
pub(crate) fn push_hex(bytes: &[u8], out: &mut Vec<u8>) {
    const DIGITS: &[u8; 16] = b"0123456789ABCDEF";
    for b in bytes {
        out.push(DIGITS.get(usize::from(b >> 4)).copied().unwrap_or(b'0'));
        out.push(DIGITS.get(usize::from(b & 0x0F)).copied().unwrap_or(b'0'));
    }
}

fn hex_nibble(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

/// Hex text (either case, no separators) to bytes; `None` when it is not whole hex pairs.
pub fn parse_hex(text: &str) -> Option<Vec<u8>> {
    let bytes = text.as_bytes();
    if !bytes.len().is_multiple_of(2) {
        return None;
    }
    bytes
        .chunks_exact(2)
        .map(|p| match p {
            [h, l] => Some((hex_nibble(*h)? << 4) | hex_nibble(*l)?),
            _ => None,
        })
        .collect()
}

/// EBCDIC (code page 037) to ASCII for the printable characters; 0 means "no mapping".
const EBCDIC_TO_ASCII: [u8; 256] = {
    let mut t = [0u8; 256];
    t[0x40] = b' ';
    let pairs: &[(u8, u8)] = &[
        (0x4B, b'.'),
        (0x4C, b'<'),
        (0x4D, b'('),
        (0x4E, b'+'),
        (0x4F, b'|'),
        (0x50, b'&'),
        (0x5A, b'!'),
        (0x5B, b'$'),
        (0x5C, b'*'),
        (0x5D, b')'),
        (0x5E, b';'),
        (0x60, b'-'),
        (0x61, b'/'),
        (0x6B, b','),
        (0x6C, b'%'),
        (0x6D, b'_'),
        (0x6E, b'>'),
        (0x6F, b'?'),
        (0x7A, b':'),
        (0x7B, b'#'),
        (0x7C, b'@'),
        (0x7D, b'\''),
        (0x7E, b'='),
        (0x7F, b'"'),
    ];
    let mut i = 0;
    while i < pairs.len() {
        t[pairs[i].0 as usize] = pairs[i].1;
        i += 1;
    }
    // letters come in three runs per case: A-I, J-R, S-Z
    let runs: &[(u8, u8, u8)] = &[
        (0xC1, b'A', 9),
        (0xD1, b'J', 9),
        (0xE2, b'S', 8),
        (0x81, b'a', 9),
        (0x91, b'j', 9),
        (0xA2, b's', 8),
        (0xF0, b'0', 10),
    ];
    let mut r = 0;
    while r < runs.len() {
        let (start, first, count) = runs[r];
        let mut k = 0;
        while k < count {
            t[(start + k) as usize] = first + k;
            k += 1;
        }
        r += 1;
    }
    t
};

fn ebcdic_to_ascii(b: u8) -> Option<u8> {
    EBCDIC_TO_ASCII
        .get(usize::from(b))
        .copied()
        .filter(|&a| a != 0)
}

fn ascii_to_ebcdic(a: u8) -> Option<u8> {
    EBCDIC_TO_ASCII
        .iter()
        .position(|&x| x == a && a != 0)
        .and_then(|p| u8::try_from(p).ok())
}

/// Whether `c` may appear at `position` of a text field of type `t`, and what the type allows.
fn allowed(t: FieldType, position: usize, c: u8) -> Result<(), &'static str> {
    let ok = match t {
        FieldType::N => c.is_ascii_digit(),
        FieldType::Z => c.is_ascii_digit() || c == b'=' || c == b'D',
        FieldType::Xn if position == 0 => c == b'C' || c == b'D' || c.is_ascii_digit(),
        FieldType::Xn => c.is_ascii_digit(),
        FieldType::An => c.is_ascii_alphanumeric() || c == b' ',
        FieldType::Ans | FieldType::Track | FieldType::B => c.is_ascii(),
    };
    if ok {
        return Ok(());
    }
    Err(match t {
        FieldType::N => "digits",
        FieldType::Z => "digits and =",
        FieldType::Xn => "C, D or a digit, then digits",
        FieldType::An => "letters, digits and spaces",
        _ => "ASCII text",
    })
}

/// Checks every character of a text value of type `t`; on failure, the first bad position
/// and what the type allows. Whole-slice checks first: this runs on every field.
#[inline]
fn check_text(t: FieldType, text: &[u8]) -> Result<(), (usize, &'static str)> {
    let fast = match t {
        // folds without early exit vectorise; the slow loop below finds the culprit
        FieldType::N => text.iter().fold(true, |ok, &c| ok & c.is_ascii_digit()),
        FieldType::Z => text.iter().fold(true, |ok, &c| {
            ok & (c.is_ascii_digit() | (c == b'=') | (c == b'D'))
        }),
        FieldType::An => text.iter().fold(true, |ok, &c| {
            ok & (c.is_ascii_alphanumeric() | (c == b' '))
        }),
        FieldType::Xn => match text.split_first() {
            Some((&sign, digits)) => {
                (sign == b'C' || sign == b'D' || sign.is_ascii_digit())
                    && digits.iter().fold(true, |ok, &c| ok & c.is_ascii_digit())
            }
            None => true,
        },
        FieldType::Ans | FieldType::Track | FieldType::B => text.is_ascii(),
    };
    if fast { Ok(()) } else { first_bad(t, text) }
}

/// The slow half of [`check_text`], only when the whole-slice check failed: the first
/// character the type refuses.
#[cold]
fn first_bad(t: FieldType, text: &[u8]) -> Result<(), (usize, &'static str)> {
    for (i, &c) in text.iter().enumerate() {
        allowed(t, i, c).map_err(|expected| (i, expected))?;
    }
    Ok(())
}

/// Bytes the content takes on the wire for a length of `len` units.
fn wire_len(spec: &FieldSpec, len: usize) -> usize {
    match spec.encoding {
        Encoding::Ascii | Encoding::Ebcdic | Encoding::Binary => len,
        Encoding::Bcd => len.div_ceil(2),
        Encoding::Xbcd => 1 + len.saturating_sub(1).div_ceil(2),
        Encoding::Hex => len * 2,
    }
}

/// A run of the input already known to be UTF-8, so that text fields inside it are sliced as
/// `str` without validating again. An ASCII message is usually one run; on a binary wire the
/// text fields (37, 41, 42, 43) sit next to each other, and one scan serves all of them.
pub(crate) struct TextRun<'a> {
    /// Where the run starts in the input.
    start: usize,
    /// The run itself.
    text: &'a str,
}

impl<'a> TextRun<'a> {
    /// With `text_wire` (a dialect whose bitmap is hex text, so likely all text): the whole
    /// input when it is all UTF-8, one pass and a run starting at 0. Otherwise, or when that
    /// fails, no run yet, and the first text field scans for one.
    pub(crate) fn of(input: &'a [u8], text_wire: bool) -> Self {
        let whole = if text_wire {
            std::str::from_utf8(input).unwrap_or_default()
        } else {
            ""
        };
        Self {
            start: 0,
            text: whole,
        }
    }

    /// `input[at..at + len]` as text, from the current run or a new one that starts at `at` and
    /// goes to the first byte that is not UTF-8. A new run starts only past the end of the last
    /// one (a field reaching past that end holds a byte that is not UTF-8 and fails), so a
    /// message costs at most two passes. `Err` carries the offset of the first byte that is
    /// not UTF-8.
    #[inline]
    fn slice(&mut self, input: &'a [u8], at: usize, len: usize) -> Result<&'a str, usize> {
        if let Some(t) = at
            .checked_sub(self.start)
            .and_then(|from| self.text.get(from..from + len))
        {
            return Ok(t);
        }
        self.rescan(input, at, len)
    }

    /// The slow half of [`TextRun::slice`]: a new run from `at`.
    #[inline(never)]
    fn rescan(&mut self, input: &'a [u8], at: usize, len: usize) -> Result<&'a str, usize> {
        let rest = input.get(at..).unwrap_or_default();
        // text fields are ASCII (`check_text`), so the run is the ASCII prefix of the rest:
        // found 16 bytes at a time, then validated once by `from_utf8` (which never fails on
        // ASCII; two full `from_utf8` passes or one `utf8_chunks` measured slower)
        let mut end = 0;
        for chunk in rest.chunks(16) {
            if chunk.is_ascii() {
                end += chunk.len();
            } else {
                end += chunk.iter().take_while(|b| b.is_ascii()).count();
                break;
            }
        }
        let run = std::str::from_utf8(rest.get(..end).unwrap_or_default()).unwrap_or_default();
        *self = Self {
            start: at,
            text: run,
        };
        run.get(..len).ok_or(at + run.len())
    }
}

/// Decodes field `spec.number` at `*pos`, advancing `*pos` past it.
///
/// `text` remembers the input already found to be UTF-8, so that text fields are sliced from
/// it without validating again.
#[inline]
pub(crate) fn decode<'a>(
    spec: &FieldSpec,
    input: &'a [u8],
    text: &mut TextRun<'a>,
    pos: &mut usize,
) -> Result<Value<'a>, Error> {
    let path = FieldPath::Field(spec.number);
    let start = *pos;
    let fail = |offset, kind| Err(Error::decode(path, offset, kind));
    // the loader gives a prefix to variable fields only (`DialectProblem::PrefixMismatch`)
    let len = match spec.prefix {
        None => spec.max,
        Some(prefix) => {
            let width = prefix_width(spec.length, prefix);
            let Some(raw) = input.get(start..start + width) else {
                return fail(
                    start,
                    DecodeErrorKind::Truncated {
                        expected: width,
                        unit: Unit::Bytes,
                    },
                );
            };
            let Some(len) = read_prefix(prefix, raw) else {
                return fail(start, DecodeErrorKind::BadLengthPrefix);
            };
            if len > spec.max {
                return fail(
                    start,
                    DecodeErrorKind::LengthOverMax {
                        length: len,
                        max: spec.max,
                    },
                );
            }
            *pos += width;
            len
        }
    };
    let body_at = *pos;
    let Some(body) = input.get(body_at..body_at + wire_len(spec, len)) else {
        return fail(
            start,
            DecodeErrorKind::Truncated {
                expected: len,
                unit: spec.unit(),
            },
        );
    };
    let value = match spec.encoding {
        Encoding::Binary => Value::Bytes(Cow::Borrowed(body)),
        Encoding::Hex => {
            let mut bytes = Vec::with_capacity(len);
            for (i, pair) in body.chunks_exact(2).enumerate() {
                match pair {
                    [h, l] => match (hex_nibble(*h), hex_nibble(*l)) {
                        (Some(h), Some(l)) => bytes.push((h << 4) | l),
                        (None, _) => return fail(body_at + 2 * i, bad(*h, "hex digits")),
                        (_, None) => return fail(body_at + 2 * i + 1, bad(*l, "hex digits")),
                    },
                    _ => {
                        return fail(
                            body_at + 2 * i,
                            DecodeErrorKind::Truncated {
                                expected: len,
                                unit: Unit::Bytes,
                            },
                        );
                    }
                }
            }
            Value::Bytes(Cow::Owned(bytes))
        }
        Encoding::Ascii => {
            check_text(spec.field_type, body).map_err(|(i, expected)| {
                let byte = body.get(i).copied().unwrap_or(0);
                Error::decode(path, body_at + i, bad(byte, expected))
            })?;
            match text.slice(input, body_at, body.len()) {
                Ok(text) => Value::Text(Cow::Borrowed(text)),
                Err(at) => {
                    let byte = input.get(at).copied().unwrap_or(0x80);
                    return fail(at, bad(byte, "ASCII text"));
                }
            }
        }
        Encoding::Ebcdic => {
            let mut text = String::with_capacity(len);
            for (i, &c) in body.iter().enumerate() {
                let Some(a) = ebcdic_to_ascii(c) else {
                    return fail(body_at + i, bad(c, "EBCDIC text"));
                };
                allowed(spec.field_type, i, a)
                    .map_err(|expected| Error::decode(path, body_at + i, bad(c, expected)))?;
                text.push(char::from(a));
            }
            Value::Text(Cow::Owned(text))
        }
        Encoding::Bcd | Encoding::Xbcd => {
            let (sign, digits, digits_at) = match spec.encoding {
                Encoding::Xbcd => match body.split_first() {
                    Some((sign, rest)) if len > 0 => {
                        allowed(FieldType::Xn, 0, *sign).map_err(|expected| {
                            Error::decode(path, body_at, bad(*sign, expected))
                        })?;
                        (Some(*sign), rest, body_at + 1)
                    }
                    _ => (None, &[][..], body_at),
                },
                _ => (None, body, body_at),
            };
            let count = len - usize::from(sign.is_some());
            if len <= Digits::CAPACITY {
                // the common case: no heap, and the characters are ASCII by construction
                let mut out = DigitsWriter::new();
                if let Some(sign) = sign {
                    out.push(sign);
                }
                bcd_digits(spec, digits, digits_at, count, &mut out)?;
                Value::Digits(out.finish())
            } else {
                let mut text = Vec::with_capacity(len);
                if let Some(sign) = sign {
                    text.push(sign);
                }
                bcd_digits(spec, digits, digits_at, count, &mut text)?;
                Value::Text(Cow::Owned(ascii_string(text, path, body_at)?))
            }
        }
    };
    *pos = body_at + body.len();
    Ok(value)
}

fn bad(byte: u8, expected: &'static str) -> DecodeErrorKind {
    DecodeErrorKind::BadCharacter { byte, expected }
}

/// Each byte's two nibbles as characters: `0`-`9` for 0-9, `=` for D (the track separator),
/// 0 for the nibbles no field type allows. Decoding a byte is one lookup instead of two
/// matches.
const BCD_CHARS: [[u8; 2]; 256] = {
    let mut t = [[0u8; 2]; 256];
    let mut b = 0;
    while b < 256 {
        t[b] = [nibble_char((b >> 4) as u8), nibble_char((b & 0x0F) as u8)];
        b += 1;
    }
    t
};

/// Which bytes decode to two acceptable characters: bit [`DIGITS`] when both nibbles are 0-9,
/// bit [`TRACK`] when both are 0-9 or D. A field is good when every byte has its bit.
const BCD_CLASS: [u8; 256] = {
    let mut t = [0u8; 256];
    let mut b = 0;
    while b < 256 {
        let (h, l) = (b >> 4, b & 0x0F);
        if h <= 9 && l <= 9 {
            t[b] |= DIGITS;
        }
        if (h <= 9 || h == 0x0D) && (l <= 9 || l == 0x0D) {
            t[b] |= TRACK;
        }
        b += 1;
    }
    t
};
const DIGITS: u8 = 1;
const TRACK: u8 = 2;

const fn nibble_char(n: u8) -> u8 {
    match n {
        0..=9 => b'0' + n,
        0x0D => b'=',
        _ => 0,
    }
}

/// Appends `count` BCD digits read from `body` (pad nibble skipped) to `out`.
///
/// The fast path looks each byte up in [`BCD_CHARS`] and checks the whole field at once with
/// [`BCD_CLASS`]; only a field with a bad nibble takes the slow path, which finds the first one
/// for the error. Inlined: it runs for most fields of a binary dialect, and the call itself
/// cost a fifth of its instructions.
#[inline]
fn bcd_digits(
    spec: &FieldSpec,
    body: &[u8],
    at: usize,
    count: usize,
    out: &mut impl DigitSink,
) -> Result<(), Error> {
    let need = if spec.field_type == FieldType::Z {
        TRACK
    } else {
        DIGITS
    };
    // the nibbles that carry digits: an odd count leaves one pad nibble, first or last;
    // the pad nibble itself is not checked
    let odd = count % 2 == 1;
    let (head, pairs, tail) = match (odd, spec.pad_side()) {
        (false, _) => (None, body, None),
        (true, Pad::Left) => match body.split_first() {
            Some((first, rest)) => (Some(*first & 0x0F), rest, None),
            None => (None, body, None),
        },
        (true, Pad::Right) => match body.split_last() {
            Some((last, rest)) => (None, rest, Some(*last & 0xF0)),
            None => (None, body, None),
        },
    };
    let class = |b: u8| BCD_CLASS[usize::from(b)];
    if let Some(b) = head {
        out.push(BCD_CHARS[usize::from(b)][1]);
    }
    // one pass writes the characters and gathers the classes; on a bad nibble the caller
    // drops what was written
    let good = out.push_pairs(pairs) & head.map_or(need, class) & tail.map_or(need, class);
    if let Some(b) = tail {
        out.push(BCD_CHARS[usize::from(b)][0]);
    }
    if good & need == 0 {
        return Err(bcd_error(spec, body, at, count));
    }
    Ok(())
}

/// Where [`bcd_digits`] writes: a `Vec` for long fields, inline [`Digits`] for short ones.
trait DigitSink {
    /// One character.
    fn push(&mut self, c: u8);
    /// Two characters per byte of `pairs`, looked up in [`BCD_CHARS`]; returns the AND of
    /// their [`BCD_CLASS`] bits.
    fn push_pairs(&mut self, pairs: &[u8]) -> u8;
}

impl DigitSink for Vec<u8> {
    fn push(&mut self, c: u8) {
        Vec::push(self, c);
    }
    fn push_pairs(&mut self, pairs: &[u8]) -> u8 {
        let at = self.len();
        self.resize(at + 2 * pairs.len(), 0);
        match self.get_mut(at..) {
            Some(slots) => write_pairs(slots, pairs),
            None => classes(pairs),
        }
    }
}

/// Writes the characters of `pairs` into `slots` (two per byte), as far as both go; returns the
/// AND of the bytes' [`BCD_CLASS`] bits.
fn write_pairs(slots: &mut [u8], pairs: &[u8]) -> u8 {
    let mut good = DIGITS | TRACK;
    for (slot, &b) in slots.chunks_exact_mut(2).zip(pairs) {
        slot.copy_from_slice(&BCD_CHARS[usize::from(b)]);
        good &= BCD_CLASS[usize::from(b)];
    }
    good
}

/// The AND of the bytes' [`BCD_CLASS`] bits, for a sink that could not take them.
fn classes(pairs: &[u8]) -> u8 {
    pairs
        .iter()
        .fold(DIGITS | TRACK, |ok, &b| ok & BCD_CLASS[usize::from(b)])
}

/// Fills a [`Digits`]; the caller has checked that the field fits, and a write past the end is
/// dropped rather than panicking (the length then says what was kept).
struct DigitsWriter {
    digits: Digits,
}

impl DigitsWriter {
    fn new() -> Self {
        Self {
            digits: Digits {
                len: 0,
                buf: [0; Digits::CAPACITY],
            },
        }
    }

    fn finish(self) -> Digits {
        self.digits
    }
}

impl DigitSink for DigitsWriter {
    fn push(&mut self, c: u8) {
        let d = &mut self.digits;
        if let Some(slot) = d.buf.get_mut(usize::from(d.len)) {
            *slot = c;
            d.len += 1;
        }
    }
    fn push_pairs(&mut self, pairs: &[u8]) -> u8 {
        let d = &mut self.digits;
        let at = usize::from(d.len);
        let end = at + 2 * pairs.len();
        match (d.buf.get_mut(at..end), u8::try_from(end)) {
            (Some(slots), Ok(len)) => {
                d.len = len;
                write_pairs(slots, pairs)
            }
            _ => classes(pairs),
        }
    }
}

/// The error for the first nibble of a BCD field that is not a digit (nor, in track data, the
/// separator D); the pad nibble is not checked.
#[cold]
fn bcd_error(spec: &FieldSpec, body: &[u8], at: usize, count: usize) -> Error {
    let skip_first = usize::from(count % 2 == 1 && spec.pad_side() == Pad::Left);
    let track = spec.field_type == FieldType::Z;
    for (i, &byte) in body.iter().enumerate() {
        for (half, nibble) in [(0, byte >> 4), (1, byte & 0x0F)] {
            let k = 2 * i + half;
            if k < skip_first || k >= skip_first + count {
                continue; // the pad nibble
            }
            if nibble > 9 && !(track && nibble == 0x0D) {
                return Error::decode(
                    FieldPath::Field(spec.number),
                    at + i,
                    DecodeErrorKind::BadNibble { nibble },
                );
            }
        }
    }
    // not reached: bcd_digits found a bad nibble; report the field's start rather than panic
    Error::decode(
        FieldPath::Field(spec.number),
        at,
        DecodeErrorKind::BadNibble { nibble: 0 },
    )
}

/// Bytes known to be ASCII (BCD digits, a checked sign) as a `String`, without copying.
fn ascii_string(bytes: Vec<u8>, path: FieldPath, at: usize) -> Result<String, Error> {
    String::from_utf8(bytes).map_err(|e| {
        let i = e.utf8_error().valid_up_to();
        Error::decode(path, at + i, bad(0x80, "ASCII text"))
    })
}

fn read_prefix(prefix: PrefixEncoding, raw: &[u8]) -> Option<usize> {
    let mut n = 0usize;
    match prefix {
        PrefixEncoding::Ascii => {
            for &b in raw {
                n = n * 10 + usize::from(b.checked_sub(b'0').filter(|d| *d <= 9)?);
            }
        }
        PrefixEncoding::Ebcdic => {
            for &b in raw {
                n = n * 10 + usize::from(b.checked_sub(0xF0).filter(|d| *d <= 9)?);
            }
        }
        PrefixEncoding::Bcd => {
            for &b in raw {
                let (h, l) = (b >> 4, b & 0x0F);
                if h > 9 || l > 9 {
                    return None;
                }
                n = n * 100 + usize::from(h) * 10 + usize::from(l);
            }
        }
        PrefixEncoding::Binary => {
            for &b in raw {
                n = (n << 8) | usize::from(b);
            }
        }
    }
    Some(n)
}

fn write_prefix(prefix: PrefixEncoding, width: usize, len: usize, out: &mut Vec<u8>) {
    // the four low decimal digits of `len`; the dialect loader caps maxima at what the prefix
    // carries, so no higher digit is ever needed
    let digits = [len / 1000 % 10, len / 100 % 10, len / 10 % 10, len % 10].map(|d| d as u8);
    let tail = |n: usize| digits.get(4usize.saturating_sub(n)..).unwrap_or_default();
    match prefix {
        PrefixEncoding::Ascii => out.extend(tail(width).iter().map(|d| b'0' + d)),
        PrefixEncoding::Ebcdic => out.extend(tail(width).iter().map(|d| 0xF0 + d)),
        PrefixEncoding::Bcd => {
            let pairs = tail(2 * width);
            out.extend(pairs.chunks_exact(2).map(|p| match p {
                [h, l] => (h << 4) | l,
                _ => 0,
            }));
        }
        PrefixEncoding::Binary => {
            let bytes = u16::try_from(len).unwrap_or(u16::MAX).to_be_bytes();
            out.extend_from_slice(
                bytes
                    .get(2usize.saturating_sub(width)..)
                    .unwrap_or_default(),
            );
        }
    }
}

/// Encodes `value` as field `spec.number` onto `out`; refuses values that do not fit.
#[inline]
pub(crate) fn encode(spec: &FieldSpec, value: &Value<'_>, out: &mut Vec<u8>) -> Result<(), Error> {
    let path = FieldPath::Field(spec.number);
    let fail = |kind| Err(Error::encode(path, kind));
    let content: &[u8] = match (value, spec.is_binary()) {
        (Value::Bytes(_), true) | (Value::Text(_) | Value::Digits(_), false) => value.content(),
        (_, true) => return fail(EncodeErrorKind::WrongValueKind { expected: "bytes" }),
        (_, false) => return fail(EncodeErrorKind::WrongValueKind { expected: "text" }),
    };
    if !spec.is_binary() {
        check_text(spec.field_type, content)
            .and_then(|()| match spec.encoding {
                Encoding::Ebcdic => {
                    match content.iter().position(|&c| ascii_to_ebcdic(c).is_none()) {
                        Some(i) => Err((i, "EBCDIC text")),
                        None => Ok(()),
                    }
                }
                _ => Ok(()),
            })
            .or_else(|(position, expected)| {
                fail(EncodeErrorKind::BadCharacter { position, expected })
            })?;
    }
    let len = content.len();
    // as in `decode`: the loader gives a prefix to variable fields only
    match spec.prefix {
        None if len != spec.max => {
            return fail(EncodeErrorKind::WrongLength {
                length: len,
                expected: spec.max,
                unit: spec.unit(),
            });
        }
        None => {}
        Some(_) if len > spec.max => {
            return fail(EncodeErrorKind::TooLong {
                length: len,
                max: spec.max,
                unit: spec.unit(),
            });
        }
        Some(prefix) => write_prefix(prefix, prefix_width(spec.length, prefix), len, out),
    }
    match spec.encoding {
        Encoding::Ascii | Encoding::Binary => out.extend_from_slice(content),
        Encoding::Ebcdic => out.extend(content.iter().map(|&c| ascii_to_ebcdic(c).unwrap_or(0x40))),
        Encoding::Hex => push_hex(content, out),
        Encoding::Bcd => write_bcd(spec, content, out),
        Encoding::Xbcd => {
            if let Some((sign, digits)) = content.split_first() {
                out.push(*sign);
                write_bcd(spec, digits, out);
            }
        }
    }
    Ok(())
}

/// Each character's BCD nibble: its value for `0`-`9`, D for `=` and `D` (the track
/// separator). Only checked text reaches [`write_bcd`], so other entries are never used.
const NIBBLE_OF: [u8; 256] = {
    let mut t = [0u8; 256];
    let mut d = 0;
    while d < 10 {
        t[(b'0' + d) as usize] = d;
        d += 1;
    }
    t[b'=' as usize] = 0x0D;
    t[b'D' as usize] = 0x0D;
    t
};

/// Packs digits (and `=`/`D` as nibble D) two per byte, padding an odd count.
fn write_bcd(spec: &FieldSpec, digits: &[u8], out: &mut Vec<u8>) {
    let pad = spec.pad_nibble.unwrap_or(0) & 0x0F;
    let nibble = |c: u8| NIBBLE_OF[usize::from(c)];
    let (head, pairs, tail) = match (digits.len() % 2 == 1, spec.pad_side()) {
        (false, _) => (None, digits, None),
        (true, Pad::Left) => match digits.split_first() {
            Some((first, rest)) => (Some(*first), rest, None),
            None => (None, digits, None),
        },
        (true, Pad::Right) => match digits.split_last() {
            Some((last, rest)) => (None, rest, Some(*last)),
            None => (None, digits, None),
        },
    };
    out.reserve(digits.len().div_ceil(2));
    if let Some(first) = head {
        out.push((pad << 4) | nibble(first));
    }
    // an exact-size iterator: one capacity check for the whole run
    out.extend(pairs.chunks_exact(2).map(|pair| match pair {
        [h, l] => (nibble(*h) << 4) | nibble(*l),
        _ => 0,
    }));
    if let Some(last) = tail {
        out.push((nibble(last) << 4) | pad);
    }
}

#[cfg(test)]
mod tests {
    use super::super::dialect::LengthKind;
    use super::*;

    #[test]
    fn text_run_reuses_and_rescans() {
        let input = b"\x80AB CD\x81EF";
        let mut run = TextRun::of(input, false);
        assert_eq!(run.slice(input, 1, 2), Ok("AB"));
        assert_eq!(run.slice(input, 4, 2), Ok("CD"), "inside the same run");
        assert_eq!(
            run.slice(input, 5, 2),
            Err(6),
            "the offset of the first non-ASCII byte"
        );
        assert_eq!(run.slice(input, 7, 2), Ok("EF"));
        assert_eq!(
            run.slice(input, 8, 2),
            Err(9),
            "past the end is refused, not a panic"
        );
        let text = b"0100ABCD";
        assert_eq!(TextRun::of(text, true).slice(text, 4, 4), Ok("ABCD"));
    }

    #[test]
    fn value_slot_stays_small() {
        // the inline capacity is chosen against this size (see `Digits::CAPACITY`)
        assert!(std::mem::size_of::<Value<'_>>() <= 40);
        assert!(
            Digits::new(&"1".repeat(37)).is_some(),
            "track 2 fits inline"
        );
    }

    #[test]
    fn ebcdic_table_roundtrips() {
        assert_eq!(ebcdic_to_ascii(0xC1), Some(b'A'));
        assert_eq!(ebcdic_to_ascii(0xE9), Some(b'Z'));
        assert_eq!(ebcdic_to_ascii(0xF9), Some(b'9'));
        assert_eq!(ebcdic_to_ascii(0x00), None);
        for a in 0x20u8..0x7F {
            if let Some(e) = ascii_to_ebcdic(a) {
                assert_eq!(ebcdic_to_ascii(e), Some(a));
            }
        }
    }

    #[test]
    fn digits_are_text_inline() {
        let d = Digits::new("4761739001010010").unwrap();
        assert_eq!(d.as_str(), "4761739001010010");
        assert_eq!(Value::Digits(d), Value::Text("4761739001010010".into()));
        assert_ne!(
            Value::Digits(d),
            Value::Bytes(b"4761739001010010".to_vec().into())
        );
        assert_eq!(format!("{:?}", Value::Digits(d)), "Text(<16 chars>)");
        assert!(Digits::new(&"1".repeat(Digits::CAPACITY)).is_some());
        assert!(Digits::new(&"1".repeat(Digits::CAPACITY + 1)).is_none());
        assert!(Digits::new("12\u{e9}").is_none());
    }

    #[test]
    fn bcd_tables_agree_with_nibbles() {
        for b in 0..=255u8 {
            let [h, l] = BCD_CHARS[usize::from(b)];
            let ok = |n: u8| n <= 9;
            let track = |n: u8| n <= 9 || n == 0x0D;
            assert_eq!(
                BCD_CLASS[usize::from(b)] & DIGITS != 0,
                ok(b >> 4) && ok(b & 0x0F)
            );
            assert_eq!(
                BCD_CLASS[usize::from(b)] & TRACK != 0,
                track(b >> 4) && track(b & 0x0F)
            );
            if ok(b >> 4) {
                assert_eq!(h, b'0' + (b >> 4));
                assert_eq!(NIBBLE_OF[usize::from(h)], b >> 4);
            }
            if ok(b & 0x0F) {
                assert_eq!(l, b'0' + (b & 0x0F));
            }
        }
        assert_eq!(NIBBLE_OF[usize::from(b'=')], 0x0D);
    }

    #[test]
    fn prefixes_write_what_they_read() {
        for (prefix, kind) in [
            (PrefixEncoding::Ascii, LengthKind::Ll),
            (PrefixEncoding::Ascii, LengthKind::Lll),
            (PrefixEncoding::Ebcdic, LengthKind::Llll),
            (PrefixEncoding::Bcd, LengthKind::Ll),
            (PrefixEncoding::Bcd, LengthKind::Lll),
            (PrefixEncoding::Binary, LengthKind::Ll),
            (PrefixEncoding::Binary, LengthKind::Lll),
        ] {
            let width = prefix_width(kind, prefix);
            let cap = super::super::dialect::prefix_capacity(kind, prefix);
            for len in [0, 1, 9, 10, 99, cap / 2, cap] {
                let mut out = Vec::new();
                write_prefix(prefix, width, len, &mut out);
                assert_eq!(out.len(), width, "{prefix:?} {kind:?} {len}");
                assert_eq!(read_prefix(prefix, &out), Some(len), "{prefix:?} {kind:?}");
            }
        }
    }

    #[test]
    fn bcd_pad_nibble_is_skipped_and_bad_nibbles_are_placed() {
        use super::super::{DecodeErrorKind, Dialect, unpack};
        let dialect = Dialect::shipped("iso87binary").unwrap();
        // MTI 0100, bitmap with field 2 only, LL 15, then 8 bytes whose last nibble is the pad
        // (field 2 pads right in this dialect)
        let head = [0x01, 0x00, 0x40, 0, 0, 0, 0, 0, 0, 0, 0x15];
        let pan = [0x47, 0x61, 0x73, 0x90, 0x01, 0x01, 0x00, 0x1F];
        let wire = |body: [u8; 8]| [&head[..], &body[..]].concat();
        let good = wire(pan);
        let message = unpack(&dialect, &good).unwrap();
        assert!(matches!(message.get(2), Some(Value::Digits(_))));
        assert_eq!(message.text(2).as_deref(), Some("476173900101001"));
        for (at, byte, nibble) in [(0, 0xA7, 0xA), (3, 0x3A, 0xA), (7, 0xDF, 0xD)] {
            let mut body = pan;
            body[at] = byte;
            let bad = wire(body);
            let Err(Error::Decode { path, offset, kind }) = unpack(&dialect, &bad) else {
                panic!("byte {at} = {byte:02X} decodes");
            };
            assert_eq!(path, FieldPath::Field(2));
            assert_eq!(offset, head.len() + at);
            assert_eq!(kind, DecodeErrorKind::BadNibble { nibble });
        }
    }

    #[test]
    fn hex_helpers() {
        assert_eq!(parse_hex("0aFF"), Some(vec![0x0A, 0xFF]));
        assert_eq!(parse_hex("0"), None);
        assert_eq!(to_hex(&[0xCA, 0xFE]), "CAFE");
    }
}
