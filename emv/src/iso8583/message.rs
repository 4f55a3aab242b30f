//! A message: MTI plus fields. [`unpack`] borrows from the input where it can; [`pack_into`]
//! writes into the caller's buffer; [`Message::describe`] gives the masked, printable view.

use std::borrow::Cow;
use std::fmt;

use super::bitmap::Bitmap;
use super::dialect::{BitmapEncoding, Dialect, FieldSpec, MtiEncoding, Sensitive, Structure};
use super::error::{DecodeErrorKind, EncodeErrorKind, Error, FieldPath, Unit};
use super::field::{self, Value};
use super::mti::Mti;
use crate::card::{Masker, mask_pan, mask_track};

/// An ISO 8583 message: its MTI and its data fields (2 and up), kept in number order.
#[derive(Clone, PartialEq, Eq)]
pub struct Message<'a> {
    mti: Mti,
    fields: Vec<(u16, Value<'a>)>,
}

impl<'a> Message<'a> {
    /// An empty message of type `mti`.
    pub fn new(mti: Mti) -> Self {
        Self {
            mti,
            fields: Vec::new(),
        }
    }

    /// An empty message of type `mti` with room for `fields` fields, so that a builder
    /// setting them one by one does not grow the field list each time.
    pub fn with_capacity(mti: Mti, fields: usize) -> Self {
        Self {
            mti,
            fields: Vec::with_capacity(fields),
        }
    }

    /// The message type indicator.
    pub fn mti(&self) -> Mti {
        self.mti
    }

    /// Sets the MTI.
    pub fn set_mti(&mut self, mti: Mti) {
        self.mti = mti;
    }

    /// Field `number`, if present.
    pub fn get(&self, number: u16) -> Option<&Value<'a>> {
        self.fields
            .binary_search_by_key(&number, |(n, _)| *n)
            .ok()
            .and_then(|i| self.fields.get(i))
            .map(|(_, v)| v)
    }

    /// Field `number` as text (the printed form for binary fields), if present.
    pub fn text(&self, number: u16) -> Option<Cow<'_, str>> {
        self.get(number).map(Value::to_display)
    }

    /// Sets field `number` (replacing it if present). [`pack_into`] checks it against the dialect.
    pub fn set(&mut self, number: u16, value: Value<'a>) {
        match self.fields.binary_search_by_key(&number, |(n, _)| *n) {
            Ok(i) => {
                if let Some(slot) = self.fields.get_mut(i) {
                    slot.1 = value;
                }
            }
            Err(i) => self.fields.insert(i, (number, value)),
        }
    }

    /// Removes field `number`, returning it.
    pub fn remove(&mut self, number: u16) -> Option<Value<'a>> {
        let i = self
            .fields
            .binary_search_by_key(&number, |(n, _)| *n)
            .ok()?;
        Some(self.fields.remove(i).1)
    }

    /// The present fields in number order.
    pub fn fields(&self) -> impl Iterator<Item = (u16, &Value<'a>)> {
        self.fields.iter().map(|(n, v)| (*n, v))
    }

    /// A copy that owns all its data.
    pub fn into_owned(self) -> Message<'static> {
        Message {
            mti: self.mti,
            fields: self
                .fields
                .into_iter()
                .map(|(n, v)| (n, v.into_owned()))
                .collect(),
        }
    }

    /// The bitmap this message packs with.
    pub fn bitmap(&self) -> Bitmap {
        let mut words = [0u64; 3];
        let (mut secondary, mut tertiary) = (false, false);
        for &(n, _) in &self.fields {
            // field n is bit (n - 1) % 64 from the top of word (n - 1) / 64; 0 is no field
            let i = usize::from(n.wrapping_sub(1));
            if let Some(word) = words.get_mut(i / 64) {
                *word |= 1u64 << (63 - i % 64);
            }
            secondary |= n > 64;
            tertiary |= n > 128;
        }
        let [primary, second, third] = words;
        let mut bitmap = Bitmap::new();
        bitmap.set_word(0, primary | u64::from(secondary) << 63);
        bitmap.set_word(1, second | u64::from(tertiary) << 63);
        bitmap.set_word(2, third);
        bitmap
    }

    /// A masker that hides this message's card numbers (the fields the dialect marks sensitive)
    /// wherever they occur in a text.
    pub fn masker(&self, dialect: &Dialect) -> Masker {
        let mut masker = Masker::new();
        for (n, value) in &self.fields {
            if let (Some(sensitive), Some(text)) =
                (dialect.field(*n).and_then(|s| s.sensitive), value.as_text())
            {
                match sensitive {
                    Sensitive::Pan => masker.add_pan(text),
                    Sensitive::Track => masker.add_track(text),
                }
            }
        }
        masker
    }

    /// The printable view: MTI, bitmap, and each field's number, name and value, card data
    /// masked (PAN: first 6 and last 4; track: PAN masked, the rest hidden; and the PAN digits
    /// wherever else they occur).
    pub fn describe(&self, dialect: &Dialect) -> Description {
        self.describe_with(dialect, false)
    }

    /// As [`Message::describe`], with `show_pan` printing card data in the clear.
    pub fn describe_with(&self, dialect: &Dialect, show_pan: bool) -> Description {
        let masker = self.masker(dialect);
        let fields = self
            .fields
            .iter()
            .map(|(n, value)| {
                let value_ref = value;
                let spec = dialect.field(*n);
                let raw = value.to_display();
                let value = if show_pan {
                    raw.into_owned()
                } else {
                    let shown = match spec.and_then(|s| s.sensitive) {
                        Some(Sensitive::Pan) => Cow::Owned(mask_pan(&raw)),
                        Some(Sensitive::Track) => Cow::Owned(mask_track(&raw)),
                        None => raw,
                    };
                    masker.mask(&shown).into_owned()
                };
                let tlv_tree = spec
                    .filter(|s| s.structure == Some(Structure::Tlv))
                    .map(|_| describe_tlv(value_ref, &masker, show_pan));
                // masking keeps lengths, so the masked text splits where the raw one does
                let subfields = spec.map(|s| split_subfields(s, &value)).unwrap_or_default();
                DescribedField {
                    number: *n,
                    name: spec.map_or_else(|| "(not in dialect)".to_owned(), |s| s.name.clone()),
                    value,
                    tlv_tree,
                    subfields,
                }
            })
            .collect();
        Description {
            mti: self.mti,
            // even the bitmap's hex goes through the masker: every printed digit run does
            bitmap: if show_pan {
                self.bitmap().to_hex()
            } else {
                masker.mask(&self.bitmap().to_hex()).into_owned()
            },
            fields,
        }
    }
}

/// Debug masks card data: fields 2, 35, 36 and 45 (their ISO 8583 numbers) and their digits
/// wherever else they appear.
impl fmt::Debug for Message<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut masker = Masker::new();
        for (n, value) in &self.fields {
            if let Some(t) = value.as_text() {
                match n {
                    2 => masker.add_pan(t),
                    35 | 36 | 45 => masker.add_track(t),
                    _ => {}
                }
            }
        }
        let mut map = f.debug_map();
        map.entry(&"mti", &self.mti.as_str());
        for (n, value) in &self.fields {
            let raw = value.to_display();
            let shown = match n {
                2 => mask_pan(&raw),
                35 | 36 | 45 => mask_track(&raw),
                _ => masker.mask(&raw).into_owned(),
            };
            map.entry(n, &shown);
        }
        map.finish()
    }
}

/// The printable, masked view of a message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Description {
    /// The MTI.
    pub mti: Mti,
    /// The bitmaps in use as uppercase hex.
    pub bitmap: String,
    /// The fields in number order.
    pub fields: Vec<DescribedField>,
}

/// One field of a [`Description`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DescribedField {
    /// Field number.
    pub number: u16,
    /// The dialect's name for it.
    pub name: String,
    /// The value as printed (hex for binary fields), masked unless asked otherwise.
    pub value: String,
    /// For a field the dialect marks `structure = "tlv"` (field 55): its BER-TLV tree as
    /// indented text, one object per line, masked like the value; or why it is not BER-TLV.
    pub tlv_tree: Option<String>,
    /// The dialect's positional subfields: name and (masked) text, as far as the value goes.
    pub subfields: Vec<(String, String)>,
}

/// The BER-TLV tree of a chip-data field for [`Description`]. Dialects that carry field 55 as
/// characters (1987 ASCII) hold the chip data as hex text, so text is read as hex.
fn describe_tlv(value: &Value<'_>, masker: &Masker, show_pan: bool) -> String {
    let bytes: Option<Cow<'_, [u8]>> = match value {
        Value::Bytes(b) => Some(Cow::Borrowed(b.as_ref())),
        Value::Text(_) | Value::Digits(_) => {
            value.as_text().and_then(field::parse_hex).map(Cow::Owned)
        }
    };
    let Some(bytes) = bytes.filter(|b| !b.is_empty()) else {
        return "(not hex, so not BER-TLV)".to_owned();
    };
    match crate::tlv::describe::tree(&bytes, show_pan) {
        Ok(nodes) => {
            let text = crate::tlv::describe::to_text(&nodes);
            if show_pan {
                text
            } else {
                masker.mask(&text).into_owned()
            }
        }
        Err(e) => {
            let why = e.to_string();
            let why = if show_pan {
                why
            } else {
                masker.mask(&why).into_owned()
            };
            format!("(not BER-TLV: {why})")
        }
    }
}

fn split_subfields(spec: &FieldSpec, value: &str) -> Vec<(String, String)> {
    let mut parts = Vec::new();
    let mut start = 0;
    for sub in &spec.subfield {
        let Some(part) = value
            .get(start..(start + sub.length).min(value.len()))
            .filter(|p| !p.is_empty())
        else {
            break;
        };
        parts.push((sub.name.clone(), part.to_owned()));
        start += sub.length;
    }
    parts
}

impl fmt::Display for Description {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let m = self.mti;
        writeln!(
            f,
            "MTI {m} (version {}, class {}, function {}, origin {})",
            m.version(),
            m.class(),
            m.function(),
            m.origin()
        )?;
        writeln!(f, "bitmap {}", self.bitmap)?;
        for field in &self.fields {
            writeln!(f, "{:>3}  {}  {}", field.number, field.name, field.value)?;
            for (i, (name, part)) in field.subfields.iter().enumerate() {
                writeln!(
                    f,
                    "{:>7}  {name}  {part}",
                    format!("{}.{}", field.number, i + 1)
                )?;
            }
            if let Some(tree) = &field.tlv_tree {
                for line in tree.lines() {
                    writeln!(f, "       {line}")?;
                }
            }
        }
        Ok(())
    }
}

/// Decodes a whole message. Every field is checked against the dialect; bytes after the last
/// field are an error. ASCII text and binary values borrow from `input`.
pub fn unpack<'a>(dialect: &Dialect, input: &'a [u8]) -> Result<Message<'a>, Error> {
    let mut pos = 0;
    let mti = read_mti(dialect.mti_encoding(), input, &mut pos)?;
    let mut bitmap = Bitmap::new();
    bitmap.set_word(0, read_bitmap(dialect.bitmap_encoding(), input, &mut pos)?);
    if bitmap.is_set(1) {
        bitmap.set_word(1, read_bitmap(dialect.bitmap_encoding(), input, &mut pos)?);
        if dialect.has_tertiary() && bitmap.is_set(65) {
            bitmap.set_word(2, read_bitmap(dialect.bitmap_encoding(), input, &mut pos)?);
        }
    }
    // text fields are sliced from runs of the input validated as UTF-8 once (see `TextRun`)
    let mut text = field::TextRun::of(input, dialect.bitmap_encoding() == BitmapEncoding::Hex);
    // one slot per field bit: the bitmap bits (1, and 65 with a tertiary bitmap) are not fields
    let bits: u32 = (0..3).map(|i| bitmap.word(i).count_ones()).sum();
    let not_fields =
        u32::from(bitmap.is_set(1)) + u32::from(dialect.has_tertiary() && bitmap.is_set(65));
    let mut message = Message {
        mti,
        fields: Vec::with_capacity(usize::try_from(bits.saturating_sub(not_fields)).unwrap_or(0)),
    };
    for word_index in 0..3u16 {
        // walk the set bits only, most significant (lowest field number) first
        let mut word = bitmap.word(usize::from(word_index));
        while word != 0 {
            let bit = u16::try_from(word.leading_zeros()).unwrap_or(63);
            word &= !(1u64 << (63 - bit));
            let number = word_index * 64 + bit + 1;
            if number == 1 || (number == 65 && dialect.has_tertiary()) {
                continue;
            }
            let Some(spec) = dialect.field(number) else {
                return Err(Error::decode(
                    FieldPath::Field(number),
                    pos,
                    DecodeErrorKind::UnknownField,
                ));
            };
            let value = field::decode(spec, input, &mut text, &mut pos)?;
            message.fields.push((number, value));
        }
    }
    if pos < input.len() {
        return Err(Error::decode(
            FieldPath::Message,
            pos,
            DecodeErrorKind::TrailingBytes {
                count: input.len() - pos,
            },
        ));
    }
    Ok(message)
}

fn read_mti(encoding: MtiEncoding, input: &[u8], pos: &mut usize) -> Result<Mti, Error> {
    let width = if encoding == MtiEncoding::Bcd { 2 } else { 4 };
    let Some(raw) = input.get(*pos..*pos + width) else {
        return Err(Error::decode(
            FieldPath::Mti,
            *pos,
            DecodeErrorKind::Truncated {
                expected: 4,
                unit: Unit::Digits,
            },
        ));
    };
    let mut digits = [0u8; 4];
    match encoding {
        MtiEncoding::Ascii => digits.copy_from_slice(raw),
        MtiEncoding::Ebcdic => {
            for (d, &b) in digits.iter_mut().zip(raw) {
                *d = if (0xF0..=0xF9).contains(&b) {
                    b - 0xF0 + b'0'
                } else {
                    b
                };
            }
        }
        MtiEncoding::Bcd => {
            for (i, d) in digits.iter_mut().enumerate() {
                let byte = raw.get(i / 2).copied().unwrap_or(0);
                let nibble = if i % 2 == 0 { byte >> 4 } else { byte & 0x0F };
                *d = if nibble <= 9 {
                    b'0' + nibble
                } else {
                    b'A' + nibble - 10
                };
            }
        }
    }
    let mti = Mti::from_wire(digits, *pos)?;
    *pos += width;
    Ok(mti)
}

fn read_bitmap(encoding: BitmapEncoding, input: &[u8], pos: &mut usize) -> Result<u64, Error> {
    let width = if encoding == BitmapEncoding::Binary {
        8
    } else {
        16
    };
    let Some(raw) = input.get(*pos..*pos + width) else {
        return Err(Error::decode(
            FieldPath::Bitmap,
            *pos,
            DecodeErrorKind::Truncated {
                expected: width,
                unit: if width == 8 { Unit::Bytes } else { Unit::Chars },
            },
        ));
    };
    let mut word = 0u64;
    match encoding {
        BitmapEncoding::Binary => {
            for &b in raw {
                word = (word << 8) | u64::from(b);
            }
        }
        BitmapEncoding::Hex => {
            for (i, &b) in raw.iter().enumerate() {
                let Some(n) = char::from(b).to_digit(16) else {
                    return Err(Error::decode(
                        FieldPath::Bitmap,
                        *pos + i,
                        DecodeErrorKind::BadCharacter {
                            byte: b,
                            expected: "hex digits",
                        },
                    ));
                };
                word = (word << 4) | u64::from(n);
            }
        }
    }
    *pos += width;
    Ok(word)
}

/// Encodes `message` onto the end of `out` (the caller's buffer, reused across messages).
/// Refuses, naming the field, any value that does not fit the dialect; on error `out` may hold
/// a partial message.
pub fn pack_into(dialect: &Dialect, message: &Message<'_>, out: &mut Vec<u8>) -> Result<(), Error> {
    // fields are kept in number order, so the last one is the highest
    if let Some((n, _)) = message
        .fields
        .last()
        .filter(|(n, _)| *n > dialect.max_field())
    {
        return Err(Error::encode(
            FieldPath::Field(*n),
            EncodeErrorKind::UnknownField,
        ));
    }
    let bitmap = message.bitmap();
    let digits = message.mti.digits();
    match dialect.mti_encoding() {
        MtiEncoding::Ascii => out.extend_from_slice(&digits),
        MtiEncoding::Ebcdic => out.extend(digits.iter().map(|d| d - b'0' + 0xF0)),
        MtiEncoding::Bcd => {
            for pair in digits.chunks_exact(2) {
                if let [h, l] = pair {
                    out.push(((h - b'0') << 4) | (l - b'0'));
                }
            }
        }
    }
    let words = match (
        bitmap.is_set(1),
        dialect.has_tertiary() && bitmap.is_set(65),
    ) {
        (false, _) => 1,
        (true, false) => 2,
        (true, true) => 3,
    };
    for i in 0..words {
        let word = bitmap.word(i);
        match dialect.bitmap_encoding() {
            BitmapEncoding::Binary => out.extend_from_slice(&word.to_be_bytes()),
            BitmapEncoding::Hex => field::push_hex(&word.to_be_bytes(), out),
        }
    }
    for (n, value) in &message.fields {
        let spec: &FieldSpec = dialect
            .field(*n)
            .filter(|_| !(*n == 65 && dialect.has_tertiary()))
            .ok_or_else(|| Error::encode(FieldPath::Field(*n), EncodeErrorKind::UnknownField))?;
        field::encode(spec, value, out)?;
    }
    Ok(())
}

/// Encodes `message` into a new buffer.
pub fn pack(dialect: &Dialect, message: &Message<'_>) -> Result<Vec<u8>, Error> {
    let mut out = Vec::with_capacity(256);
    pack_into(dialect, message, &mut out)?;
    Ok(out)
}
