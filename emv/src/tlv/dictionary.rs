//! The EMV tag dictionary: names, formats, how to show each value and which values are card
//! data, read from `emv/tags.toml` (compiled in). Unknown keys are refused, and every cross
//! reference (a tag naming a bit or value table) is checked once at load.

use std::collections::{BTreeMap, HashMap};
use std::sync::OnceLock;

use serde::Deserialize;

use super::Tag;

/// The shipped dictionary's text.
pub const SHIPPED_TOML: &str = include_str!("../../tags.toml");

/// The data format of a tag's value (EMV Book 3, 4.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Format {
    /// Numeric: BCD digits, right-justified, padded with leading zeros.
    N,
    /// Compressed numeric: BCD digits, left-justified, padded with trailing `F` nibbles.
    Cn,
    /// Alphanumeric text.
    An,
    /// Alphanumeric and special characters.
    Ans,
    /// Binary.
    B,
    /// A constructed tag: a list of TLV objects.
    Template,
}

/// How `describe` renders a value beside its hex.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Show {
    /// Hex only.
    #[default]
    Hex,
    /// ASCII text.
    Text,
    /// BCD digits.
    Numeric,
    /// An amount in minor units, with the exponent of the transaction currency.
    Amount,
    /// YYMMDD as YYYY-MM-DD.
    Date,
    /// HHMMSS as HH:MM:SS.
    Time,
    /// An ISO 4217 numeric currency code.
    Currency,
    /// An ISO 3166-1 numeric country code.
    Country,
    /// Set bits by name, from the table named by the tag's `bits`.
    Bits,
    /// The value by name, from the table named by the tag's `values`.
    Values,
    /// `9F34`: method, condition and result.
    CvmResults,
    /// `9F27`: the cryptogram type.
    Cid,
    /// A Data Object List.
    Dol,
}

/// Card data that must be masked.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Sensitive {
    /// A PAN in compressed numeric (`5A`).
    Pan,
    /// Track 2 in BCD with `D` as separator (`57`, `9F6B`).
    Track2,
    /// Track 1 in ASCII (`56`).
    Track1,
    /// Discretionary track data: masked whole.
    Secret,
}

/// A length range in bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LengthRange {
    /// Fewest bytes.
    pub min: usize,
    /// Most bytes.
    pub max: usize,
}

/// What the dictionary knows about one tag.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TagInfo {
    /// The tag.
    pub tag: Tag,
    /// The standard's name.
    pub name: String,
    /// The data format.
    pub format: Format,
    /// The length range, when the standard gives one.
    pub length: Option<LengthRange>,
    /// How to show the value.
    pub show: Show,
    /// The bit table for [`Show::Bits`].
    pub bits: Option<String>,
    /// The value table for [`Show::Values`].
    pub values: Option<String>,
    /// Whether and how the value is masked.
    pub sensitive: Option<Sensitive>,
}

/// One named bit: byte 1 is the leftmost, bit 8 the most significant.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BitName {
    /// `[byte, bit]`.
    pub at: [u8; 2],
    /// What the bit means when set.
    pub name: String,
}

/// An ISO 4217 currency.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Currency {
    /// The alphabetic code.
    pub alpha: String,
    /// Digits after the decimal point.
    pub exponent: u8,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TagEntry {
    tag: String,
    name: String,
    format: Format,
    length: Option<LengthRange>,
    #[serde(default)]
    show: Show,
    bits: Option<String>,
    values: Option<String>,
    sensitive: Option<Sensitive>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct DictionaryFile {
    tag: Vec<TagEntry>,
    #[serde(default)]
    bits: BTreeMap<String, Vec<BitName>>,
    #[serde(default)]
    values: BTreeMap<String, BTreeMap<String, String>>,
    #[serde(default)]
    currency: BTreeMap<String, Currency>,
    #[serde(default)]
    country: BTreeMap<String, String>,
}

/// A dictionary file that cannot be used, naming the tag or table at fault.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DictionaryError {
    /// Not TOML, or a key that is misspelt or missing.
    #[error("{file}: {message}")]
    Syntax {
        /// The file name.
        file: String,
        /// The TOML parser's message.
        message: String,
    },
    /// A tag entry that is wrong.
    #[error("{file}: tag {tag}: {problem}")]
    Tag {
        /// The file name.
        file: String,
        /// The tag as written.
        tag: String,
        /// What is wrong with it.
        problem: &'static str,
    },
    /// A bit table entry outside bytes 1.. and bits 1 to 8.
    #[error("{file}: bits.{table}: {problem}")]
    Bits {
        /// The file name.
        file: String,
        /// The table.
        table: String,
        /// What is wrong with it.
        problem: &'static str,
    },
}

/// The tag dictionary.
#[derive(Debug, Clone, Default)]
pub struct Dictionary {
    tags: HashMap<Tag, TagInfo>,
    bits: BTreeMap<String, Vec<BitName>>,
    values: BTreeMap<String, BTreeMap<String, String>>,
    currency: BTreeMap<String, Currency>,
    country: BTreeMap<String, String>,
}

static SHIPPED: OnceLock<Result<Dictionary, DictionaryError>> = OnceLock::new();
static EMPTY: OnceLock<Dictionary> = OnceLock::new();

impl Dictionary {
    /// Reads a dictionary from TOML text; `file` names it in errors.
    pub fn from_toml(file: &str, text: &str) -> Result<Self, DictionaryError> {
        let parsed: DictionaryFile = toml::from_str(text).map_err(|e| DictionaryError::Syntax {
            file: file.to_owned(),
            message: e.to_string(),
        })?;
        let mut dict = Dictionary {
            tags: HashMap::new(),
            bits: parsed.bits,
            values: parsed.values,
            currency: parsed.currency,
            country: parsed.country,
        };
        for (table, names) in &dict.bits {
            if names
                .iter()
                .any(|b| b.at[0] == 0 || b.at[1] == 0 || b.at[1] > 8)
            {
                let problem = "`at` must be [byte >= 1, bit 1..=8]";
                return Err(DictionaryError::Bits {
                    file: file.to_owned(),
                    table: table.clone(),
                    problem,
                });
            }
        }
        for entry in parsed.tag {
            let fail = |problem| {
                Err(DictionaryError::Tag {
                    file: file.to_owned(),
                    tag: entry.tag.clone(),
                    problem,
                })
            };
            let Ok(tag) = entry.tag.parse::<Tag>() else {
                return fail("not a BER tag in hex");
            };
            if entry.tag != tag.to_string() {
                return fail("write tags in uppercase hex");
            }
            if dict.tags.contains_key(&tag) {
                return fail("listed twice");
            }
            if tag.is_constructed() != (entry.format == Format::Template) {
                return fail("format `template` is for constructed tags, and only for them");
            }
            if entry.length.is_some_and(|l| l.min > l.max) {
                return fail("length min above max");
            }
            match (entry.show, &entry.bits, &entry.values) {
                (Show::Bits, Some(table), None) if dict.bits.contains_key(table) => {}
                (Show::Bits, _, _) => {
                    return fail("show = \"bits\" needs `bits` naming a [bits.*] table");
                }
                (Show::Values, None, Some(table)) if dict.values.contains_key(table) => {}
                (Show::Values, _, _) => {
                    return fail("show = \"values\" needs `values` naming a [values.*] table");
                }
                (_, None, None) => {}
                _ => return fail("`bits` and `values` go with show = \"bits\" or \"values\""),
            }
            if entry.sensitive.is_some() && entry.show != Show::Hex {
                return fail("a sensitive tag is shown masked, not with `show`");
            }
            let info = TagInfo {
                tag,
                name: entry.name,
                format: entry.format,
                length: entry.length,
                show: entry.show,
                bits: entry.bits,
                values: entry.values,
                sensitive: entry.sensitive,
            };
            dict.tags.insert(tag, info);
        }
        for table in ["cid", "cvm_method", "cvm_condition", "cvm_result"] {
            if !dict.values.contains_key(table) {
                let problem = "a value table the CID and CVM decoders need is missing";
                return Err(DictionaryError::Tag {
                    file: file.to_owned(),
                    tag: format!("values.{table}"),
                    problem,
                });
            }
        }
        Ok(dict)
    }

    /// The shipped dictionary (`emv/tags.toml`), loaded once.
    pub fn try_shipped() -> Result<&'static Dictionary, DictionaryError> {
        SHIPPED
            .get_or_init(|| Dictionary::from_toml("emv/tags.toml", SHIPPED_TOML))
            .as_ref()
            .map_err(Clone::clone)
    }

    /// The shipped dictionary; an empty one if it does not load, which `cargo test` and the
    /// CLI's start-up check ([`Dictionary::try_shipped`]) rule out. Names are then missing,
    /// masking is not: `describe` masks `5A`, `56`, `57` and `9F6B` whatever the dictionary says.
    pub fn shipped() -> &'static Dictionary {
        Self::try_shipped().unwrap_or_else(|_| EMPTY.get_or_init(Dictionary::default))
    }

    /// What the dictionary knows about `tag`.
    pub fn get(&self, tag: Tag) -> Option<&TagInfo> {
        self.tags.get(&tag)
    }

    /// Whether `tag` holds card data to mask.
    pub fn is_sensitive(&self, tag: Tag) -> bool {
        self.sensitivity(tag).is_some()
    }

    /// How `tag` is masked, if it is card data; the four card data tags are always masked.
    pub fn sensitivity(&self, tag: Tag) -> Option<Sensitive> {
        match tag.number() {
            0x5A => Some(Sensitive::Pan),
            0x57 | 0x9F6B => Some(Sensitive::Track2),
            0x56 => Some(Sensitive::Track1),
            _ => self.get(tag).and_then(|info| info.sensitive),
        }
    }

    /// The named bits of a bit table.
    pub fn bits(&self, table: &str) -> &[BitName] {
        self.bits.get(table).map_or(&[], Vec::as_slice)
    }

    /// The name of a value (uppercase hex) in a value table.
    pub fn value_name(&self, table: &str, value_hex: &str) -> Option<&str> {
        self.values.get(table)?.get(value_hex).map(String::as_str)
    }

    /// An ISO 4217 currency by its three-digit numeric code.
    pub fn currency(&self, numeric: &str) -> Option<&Currency> {
        self.currency.get(numeric)
    }

    /// An ISO 3166-1 country name by its three-digit numeric code.
    pub fn country(&self, numeric: &str) -> Option<&str> {
        self.country.get(numeric).map(String::as_str)
    }

    /// Every tag, in no particular order.
    pub fn tags(&self) -> impl Iterator<Item = &TagInfo> {
        self.tags.values()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shipped_dictionary_loads_and_knows_the_issue_tags() {
        let dict = Dictionary::try_shipped().unwrap();
        for tag in [
            "9F02", "9F03", "9F26", "9F27", "9F10", "9F36", "9F37", "95", "9A", "9C", "5F2A", "82",
            "84", "9F1A", "9F33", "9F34", "9F35", "9F1E", "9F09", "9F41", "5F34", "50", "4F", "57",
            "5A", "9F38", "8C", "8D",
        ] {
            assert!(
                dict.get(tag.parse().unwrap()).is_some(),
                "{tag} missing from tags.toml"
            );
        }
        for tag in ["5A", "57", "56", "9F6B", "9F1F"] {
            assert!(
                dict.is_sensitive(tag.parse().unwrap()),
                "{tag} must be sensitive"
            );
        }
        assert!(!dict.is_sensitive("5F20".parse().unwrap()));
        assert_eq!(dict.currency("840").unwrap().exponent, 2);
    }

    #[test]
    fn loader_names_what_is_wrong() {
        let err = Dictionary::from_toml(
            "t",
            "[[tag]]\ntag = \"9F02\"\nname = \"x\"\nformat = \"n\"\nshwo = \"amount\"\n",
        )
        .unwrap_err();
        assert!(err.to_string().contains("shwo"), "{err}");
        let twice = "[[tag]]\ntag = \"82\"\nname = \"a\"\nformat = \"b\"\n[[tag]]\ntag = \"82\"\nname = \"b\"\nformat = \"b\"\n";
        let err = Dictionary::from_toml("t", twice).unwrap_err();
        assert_eq!(err.to_string(), "t: tag 82: listed twice");
        let bits = "[[tag]]\ntag = \"95\"\nname = \"a\"\nformat = \"b\"\nshow = \"bits\"\nbits = \"nope\"\n";
        assert!(
            Dictionary::from_toml("t", bits)
                .unwrap_err()
                .to_string()
                .contains("[bits.*]")
        );
        let template = "[[tag]]\ntag = \"70\"\nname = \"a\"\nformat = \"b\"\n";
        assert!(
            Dictionary::from_toml("t", template)
                .unwrap_err()
                .to_string()
                .contains("template")
        );
    }
}
