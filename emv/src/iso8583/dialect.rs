//! Dialects: which fields a message may carry and how each travels. A dialect is a TOML file
//! (`emv/dialects/*.toml`), checked once when loaded; the three shipped ones are compiled in.

use serde::Deserialize;

use super::error::{DialectProblem, Error};

/// How a field's characters travel on the wire.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Encoding {
    /// One byte per character, ASCII.
    Ascii,
    /// One byte per character, EBCDIC (code page 037).
    Ebcdic,
    /// Two digits per byte; an odd count is padded with one nibble (see `pad`).
    Bcd,
    /// Raw bytes.
    Binary,
    /// Raw bytes carried as ASCII hex text (two characters per byte).
    Hex,
    /// A sign character in ASCII (`C`/`D`) followed by BCD digits (jPOS IFB_AMOUNT).
    Xbcd,
}

impl Encoding {
    fn name(self) -> &'static str {
        match self {
            Self::Ascii => "ascii",
            Self::Ebcdic => "ebcdic",
            Self::Bcd => "bcd",
            Self::Binary => "binary",
            Self::Hex => "hex",
            Self::Xbcd => "xbcd",
        }
    }
}

/// What a field holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum FieldType {
    /// Digits only.
    N,
    /// Letters, digits and spaces (checked as ASCII text).
    An,
    /// Any printable ASCII text.
    Ans,
    /// Bytes.
    B,
    /// Track 2 characters: digits and the separator `=` (`D` in BCD).
    Z,
    /// Track 1 or 3 text: like `ans`, always masked.
    Track,
    /// A sign (`C`, `D` or a digit) followed by digits: amounts with a sign.
    Xn,
}

impl FieldType {
    fn name(self) -> &'static str {
        match self {
            Self::N => "n",
            Self::An => "an",
            Self::Ans => "ans",
            Self::B => "b",
            Self::Z => "z",
            Self::Track => "track",
            Self::Xn => "xn",
        }
    }
}

/// Fixed length or the size of the length prefix.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
pub enum LengthKind {
    /// Always `max` units.
    #[serde(rename = "fixed")]
    Fixed,
    /// Up to 99 units, two-digit prefix.
    #[serde(rename = "LL")]
    Ll,
    /// Up to 999 units, three-digit prefix.
    #[serde(rename = "LLL")]
    Lll,
    /// Up to 9999 units, four-digit prefix.
    #[serde(rename = "LLLL")]
    Llll,
}

impl LengthKind {
    /// Digits of the prefix (0 for fixed).
    pub fn digits(self) -> usize {
        match self {
            Self::Fixed => 0,
            Self::Ll => 2,
            Self::Lll => 3,
            Self::Llll => 4,
        }
    }
}

/// How a length prefix travels.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PrefixEncoding {
    /// Decimal digits in ASCII (`LL` = 2 bytes).
    Ascii,
    /// Decimal digits in EBCDIC.
    Ebcdic,
    /// Decimal digits in BCD, left-padded to whole bytes (`LL` = 1 byte, `LLL` = 2 bytes).
    Bcd,
    /// An unsigned big-endian number (`LL` = 1 byte, `LLL`/`LLLL` = 2 bytes).
    Binary,
}

/// Which side of an odd BCD number carries the pad nibble.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum Pad {
    /// Pad nibble first (numbers right-justified): the usual one.
    #[default]
    Left,
    /// Pad nibble last (left-justified).
    Right,
}

/// Card data in a field: decides how it is masked.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Sensitive {
    /// A PAN: shown as first 6 and last 4 digits.
    Pan,
    /// Track data: PAN masked, everything after the separator hidden.
    Track,
}

/// One field of a dialect, as checked by [`Dialect::from_toml`].
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FieldSpec {
    /// Field number, 2 to 128 (192 with a tertiary bitmap).
    pub number: u16,
    /// Human name.
    pub name: String,
    /// What the field holds.
    #[serde(rename = "type")]
    pub field_type: FieldType,
    /// Fixed or variable.
    pub length: LengthKind,
    /// The fixed length, or the maximum of a variable one (digits, characters or bytes).
    pub max: usize,
    /// How the length prefix travels (variable fields only).
    #[serde(default)]
    pub prefix: Option<PrefixEncoding>,
    /// How the content travels.
    pub encoding: Encoding,
    /// Pad side for odd BCD.
    #[serde(default)]
    pub pad: Option<Pad>,
    /// The pad nibble's value (0 to F) for BCD; 0 when absent.
    #[serde(default)]
    pub pad_nibble: Option<u8>,
    /// Card data to mask.
    #[serde(default)]
    pub sensitive: Option<Sensitive>,
    /// Inner structure, for readers: `"tlv"` when the field carries BER-TLV (field 55).
    #[serde(default)]
    pub structure: Option<Structure>,
    /// Positional parts of a text field, in order (e.g. field 90: original MTI, STAN, …).
    #[serde(default)]
    pub subfield: Vec<SubfieldSpec>,
}

/// A positional part of a text field: `length` characters after the previous part.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SubfieldSpec {
    /// Human name.
    pub name: String,
    /// Characters it takes.
    pub length: usize,
}

/// Inner structure of a field.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Structure {
    /// BER-TLV objects (EMV chip data).
    Tlv,
}

impl FieldSpec {
    /// The unit `max` and the prefix count.
    pub fn unit(&self) -> super::error::Unit {
        use super::error::Unit;
        match (self.field_type, self.encoding) {
            (FieldType::B, _) => Unit::Bytes,
            (_, Encoding::Bcd | Encoding::Xbcd) => Unit::Digits,
            (FieldType::N, _) => Unit::Digits,
            _ => Unit::Chars,
        }
    }

    /// Whether the content is bytes (hex in text and JSON) rather than text.
    pub fn is_binary(&self) -> bool {
        self.field_type == FieldType::B
    }

    /// The pad side for BCD (left when not given).
    pub fn pad_side(&self) -> Pad {
        self.pad.unwrap_or_default()
    }
}

/// How the MTI travels.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum MtiEncoding {
    /// Four ASCII digits.
    Ascii,
    /// Four EBCDIC digits.
    Ebcdic,
    /// Two BCD bytes.
    Bcd,
}

/// How bitmaps travel.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum BitmapEncoding {
    /// 8 raw bytes per bitmap.
    Binary,
    /// 16 ASCII hex characters per bitmap.
    Hex,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct DialectFile {
    description: String,
    mti: MtiEncoding,
    bitmap: BitmapEncoding,
    #[serde(default)]
    tertiary_bitmap: bool,
    field: Vec<FieldSpec>,
}

/// A checked dialect: field specs by number.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Dialect {
    name: String,
    description: String,
    mti: MtiEncoding,
    bitmap: BitmapEncoding,
    tertiary: bool,
    fields: Vec<Option<FieldSpec>>,
}

/// The shipped dialects: name, file text.
const SHIPPED: &[(&str, &str)] = &[
    ("iso87ascii", include_str!("../../dialects/iso87ascii.toml")),
    (
        "iso87binary",
        include_str!("../../dialects/iso87binary.toml"),
    ),
    ("iso93ascii", include_str!("../../dialects/iso93ascii.toml")),
];

impl Dialect {
    /// Names of the shipped dialects, in listing order.
    pub fn shipped_names() -> impl Iterator<Item = &'static str> {
        SHIPPED.iter().map(|(name, _)| *name)
    }

    /// A shipped dialect by name, any case (`iso87ascii`, `ISO87Binary`, `iso93ascii`).
    pub fn shipped(name: &str) -> Result<Self, Error> {
        let (canonical, text) = SHIPPED
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .ok_or_else(|| Error::UnknownDialect(name.to_owned()))?;
        Self::from_toml(canonical, text)
    }

    /// Loads and checks a dialect file. Every relationship is checked here, once: field numbers
    /// in range and unique, maxima within what the prefix can carry, encodings that fit the type.
    pub fn from_toml(name: &str, text: &str) -> Result<Self, Error> {
        let fail = |field: Option<u16>, problem| Error::Dialect {
            dialect: name.to_owned(),
            field,
            problem,
        };
        let file: DialectFile = toml::from_str(text).map_err(|e| {
            let line = e.span().map(|span| {
                let before = text.get(..span.start).unwrap_or_default();
                before.bytes().filter(|b| *b == b'\n').count() + 1
            });
            let message = e.message().trim_end();
            let problem = match line {
                Some(line) => format!("line {line}: {message}"),
                None => message.to_owned(),
            };
            fail(None, DialectProblem::Syntax(problem))
        })?;
        let top = if file.tertiary_bitmap { 192 } else { 128 };
        let mut fields: Vec<Option<FieldSpec>> = vec![None; top + 1];
        for spec in file.field {
            let number = spec.number;
            let err = |problem| Err(fail(Some(number), problem));
            let Some(slot) = fields.get_mut(usize::from(number)).filter(|_| number >= 2) else {
                return err(DialectProblem::NumberOutOfRange);
            };
            if slot.is_some() {
                return err(DialectProblem::Duplicate);
            }
            if file.tertiary_bitmap && number == 65 {
                return err(DialectProblem::TertiaryBitClash);
            }
            if spec.max == 0 {
                return err(DialectProblem::ZeroLength);
            }
            match (spec.length, spec.prefix) {
                (LengthKind::Fixed, None) => {}
                (LengthKind::Fixed, Some(_)) | (_, None) => {
                    return err(DialectProblem::PrefixMismatch);
                }
                (kind, Some(prefix)) => {
                    let capacity = prefix_capacity(kind, prefix);
                    if spec.max > capacity {
                        return err(DialectProblem::MaxAbovePrefix {
                            max: spec.max,
                            capacity,
                        });
                    }
                }
            }
            let fits = match spec.encoding {
                Encoding::Ascii | Encoding::Ebcdic => spec.field_type != FieldType::B,
                Encoding::Bcd => matches!(spec.field_type, FieldType::N | FieldType::Z),
                Encoding::Binary | Encoding::Hex => spec.field_type == FieldType::B,
                Encoding::Xbcd => spec.field_type == FieldType::Xn,
            };
            if !fits {
                return err(DialectProblem::EncodingForType {
                    encoding: spec.encoding.name(),
                    field_type: spec.field_type.name(),
                });
            }
            let bcd = matches!(spec.encoding, Encoding::Bcd | Encoding::Xbcd);
            if (!bcd && (spec.pad.is_some() || spec.pad_nibble.is_some()))
                || spec.pad_nibble.is_some_and(|n| n > 0x0F)
            {
                return err(DialectProblem::BadPad);
            }
            if !spec.subfield.is_empty() {
                if spec.is_binary() || spec.subfield.iter().any(|sub| sub.length == 0) {
                    return err(DialectProblem::SubfieldLayout {
                        total: 0,
                        max: spec.max,
                    });
                }
                let total: usize = spec.subfield.iter().map(|sub| sub.length).sum();
                let fits = if spec.length == LengthKind::Fixed {
                    total == spec.max
                } else {
                    total <= spec.max
                };
                if !fits {
                    return err(DialectProblem::SubfieldLayout {
                        total,
                        max: spec.max,
                    });
                }
            }
            *slot = Some(spec);
        }
        Ok(Self {
            name: name.to_owned(),
            description: file.description,
            mti: file.mti,
            bitmap: file.bitmap,
            tertiary: file.tertiary_bitmap,
            fields,
        })
    }

    /// The dialect's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// One line describing it.
    pub fn description(&self) -> &str {
        &self.description
    }

    /// How the MTI travels.
    pub fn mti_encoding(&self) -> MtiEncoding {
        self.mti
    }

    /// How bitmaps travel.
    pub fn bitmap_encoding(&self) -> BitmapEncoding {
        self.bitmap
    }

    /// Whether bit 65 announces a tertiary bitmap (fields 129 to 192).
    pub fn has_tertiary(&self) -> bool {
        self.tertiary
    }

    /// The highest field number this dialect can carry.
    pub fn max_field(&self) -> u16 {
        if self.tertiary { 192 } else { 128 }
    }

    /// The spec of field `number`, if the dialect defines it.
    pub fn field(&self, number: u16) -> Option<&FieldSpec> {
        self.fields
            .get(usize::from(number))
            .and_then(Option::as_ref)
    }

    /// Every defined field, in number order.
    pub fn fields(&self) -> impl Iterator<Item = &FieldSpec> {
        self.fields.iter().flatten()
    }
}

/// The largest length a prefix can express.
pub fn prefix_capacity(kind: LengthKind, prefix: PrefixEncoding) -> usize {
    match prefix {
        PrefixEncoding::Ascii | PrefixEncoding::Ebcdic | PrefixEncoding::Bcd => {
            10usize.pow(u32::try_from(kind.digits()).unwrap_or(0)) - 1
        }
        PrefixEncoding::Binary => {
            if kind == LengthKind::Ll {
                0xFF
            } else {
                0xFFFF
            }
        }
    }
}

/// Bytes a prefix takes on the wire.
pub fn prefix_width(kind: LengthKind, prefix: PrefixEncoding) -> usize {
    match prefix {
        PrefixEncoding::Ascii | PrefixEncoding::Ebcdic => kind.digits(),
        PrefixEncoding::Bcd => kind.digits().div_ceil(2),
        PrefixEncoding::Binary => {
            if kind == LengthKind::Ll {
                1
            } else {
                2
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shipped_dialects_load() {
        for name in Dialect::shipped_names() {
            let d = Dialect::shipped(name).unwrap();
            assert!(d.field(2).is_some(), "{name}");
            assert!(d.field(128).is_some(), "{name}");
        }
        assert!(Dialect::shipped("ISO87ASCII").is_ok());
        assert!(matches!(
            Dialect::shipped("nope"),
            Err(Error::UnknownDialect(_))
        ));
    }

    const HEAD: &str = "description = \"t\"\nmti = \"ascii\"\nbitmap = \"hex\"\n";

    fn load(fields: &str) -> Result<Dialect, Error> {
        Dialect::from_toml("t", &format!("{HEAD}{fields}"))
    }

    #[test]
    fn loader_names_the_field() {
        let f2 = "[[field]]\nnumber = 2\nname = \"PAN\"\ntype = \"n\"\nlength = \"LL\"\nmax = 19\nprefix = \"ascii\"\nencoding = \"ascii\"\n";
        assert!(load(f2).is_ok());
        let e = load(&format!("{f2}{f2}")).unwrap_err();
        assert_eq!(e.to_string(), "dialect t: field 2: defined twice");
        let e = load(&f2.replace("max = 19", "max = 120")).unwrap_err();
        assert!(
            matches!(
                e,
                Error::Dialect {
                    field: Some(2),
                    problem: DialectProblem::MaxAbovePrefix { .. },
                    ..
                }
            ),
            "{e}"
        );
        let e = load(&f2.replace("encoding = \"ascii\"", "encoding = \"binary\"")).unwrap_err();
        assert!(
            e.to_string()
                .contains("field 2: encoding binary cannot carry type n"),
            "{e}"
        );
        let e = load(&f2.replace("number = 2", "number = 129")).unwrap_err();
        assert!(e.to_string().contains("field 129"), "{e}");
        let e = load(&f2.replace("max = 19", "max = 19\nmaxx = 3")).unwrap_err();
        assert!(
            e.to_string().contains("maxx") && e.to_string().contains("line 10"),
            "{e}"
        );
        let sub = "[[field.subfield]]\nname = \"a\"\nlength = 4\n";
        assert!(load(&format!("{f2}{sub}")).is_ok());
        let e = load(&format!("{f2}{sub}{}", sub.replace('4', "16"))).unwrap_err();
        assert!(
            e.to_string()
                .contains("field 2: subfield lengths add up to 20"),
            "{e}"
        );
        let e = load(&f2.replace("prefix = \"ascii\"\n", "")).unwrap_err();
        assert!(
            matches!(
                e,
                Error::Dialect {
                    field: Some(2),
                    problem: DialectProblem::PrefixMismatch,
                    ..
                }
            ),
            "{e}"
        );
    }
}
