//! Level 3: market rule packs as data (`iso20022/rules/*.toml`): allowed currencies, the
//! character set, maximum lengths per element, structured postal address requirements.

use std::sync::OnceLock;

use regex::Regex;
use serde::Deserialize;

use super::Finding;
use crate::Error;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct PackFile {
    name: String,
    rule_prefix: String,
    #[serde(default)]
    currencies: Vec<String>,
    #[serde(default)]
    characters: Option<String>,
    #[serde(default)]
    max_length: Vec<MaxLength>,
    #[serde(default)]
    postal_address: Option<PostalAddress>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct MaxLength {
    element: String,
    max: usize,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct PostalAddress {
    required: Vec<String>,
    forbid_unstructured_only: bool,
}

/// A compiled rule pack.
#[derive(Debug)]
pub struct RulePack {
    /// Display name.
    pub name: String,
    /// `SEPA` or `CBPR`: rule ids are `<prefix>-CURRENCY`, …
    rule_currency: &'static str,
    rule_charset: &'static str,
    rule_length: &'static str,
    rule_unstructured: &'static str,
    rule_required: Vec<&'static str>,
    currencies: Vec<String>,
    characters: Option<Regex>,
    /// The ASCII characters `characters` accepts alone, one bit each. A text made only of
    /// those matches `(?:…)*` (each character is one repetition), so it needs no regex search.
    characters_ascii: u128,
    max_length: Vec<MaxLength>,
    postal_address: Option<PostalAddress>,
}

const SHIPPED: &[(&str, &str)] = &[
    ("sepa", include_str!("../../rules/sepa.toml")),
    ("cbpr+", include_str!("../../rules/cbprplus.toml")),
];

fn leak(s: String) -> &'static str {
    // Rule ids are `&'static str`; a pack is loaded once per process, so this is bounded.
    Box::leak(s.into_boxed_str())
}

impl RulePack {
    /// The names of the shipped packs.
    pub fn shipped_names() -> Vec<&'static str> {
        SHIPPED.iter().map(|(n, _)| *n).collect()
    }

    /// A shipped pack by name (`sepa`, `cbpr+`; `cbprplus` too).
    pub fn shipped(name: &str) -> Result<Self, Error> {
        let key = Self::shipped_key(name);
        let (n, text) = SHIPPED
            .iter()
            .find(|(n, _)| *n == key)
            .ok_or_else(|| Self::unknown(name))?;
        Self::from_toml(n, text)
    }

    /// A shipped pack by name, as [`RulePack::shipped`] gives it (same names, same errors),
    /// but parsed and compiled once per process: a mapping that validates a message per event
    /// must not re-read the TOML or recompile the character-set regex each time.
    pub fn shipped_static(name: &str) -> Result<&'static Self, Error> {
        static CELLS: [OnceLock<RulePack>; SHIPPED.len()] =
            [const { OnceLock::new() }; SHIPPED.len()];
        let key = Self::shipped_alias(name);
        let Some(((n, text), cell)) = SHIPPED
            .iter()
            .zip(&CELLS)
            .find(|((n, _), _)| n.eq_ignore_ascii_case(key))
        else {
            return Err(Self::unknown(name));
        };
        if let Some(pack) = cell.get() {
            return Ok(pack);
        }
        // Parsed outside `get_or_init`, so that a broken pack stays an error, never a panic.
        let pack = Self::from_toml(n, text)?;
        Ok(cell.get_or_init(|| pack))
    }

    /// `name` with the aliases of `cbpr+` resolved, compared case-insensitively (the shipped
    /// names are lower-case), without allocating: looked up once per mapped message.
    fn shipped_alias(name: &str) -> &str {
        if ["cbprplus", "cbpr"]
            .iter()
            .any(|a| name.eq_ignore_ascii_case(a))
        {
            "cbpr+"
        } else {
            name
        }
    }

    fn shipped_key(name: &str) -> String {
        match name.to_ascii_lowercase().as_str() {
            "cbprplus" | "cbpr" => "cbpr+".to_owned(),
            other => other.to_owned(),
        }
    }

    fn unknown(name: &str) -> Error {
        Error::RulePack {
            pack: name.to_owned(),
            problem: format!(
                "unknown pack; shipped: {}",
                Self::shipped_names().join(", ")
            ),
        }
    }

    /// The pack's maximum length (in characters) for the text of elements named `element`,
    /// if it sets one: mappings truncate to it before validation reports it.
    pub fn max_length(&self, element: &str) -> Option<usize> {
        self.max_length
            .iter()
            .find(|m| m.element == element)
            .map(|m| m.max)
    }

    /// Loads a pack from TOML text; unknown keys are errors.
    pub fn from_toml(pack: &str, text: &str) -> Result<Self, Error> {
        let fail = |problem: String| Error::RulePack {
            pack: pack.to_owned(),
            problem,
        };
        let file: PackFile = toml::from_str(text).map_err(|e| fail(e.to_string()))?;
        if !file.rule_prefix.bytes().all(|b| b.is_ascii_uppercase()) || file.rule_prefix.is_empty()
        {
            return Err(fail("rule_prefix must be upper-case letters".to_owned()));
        }
        let characters = file
            .characters
            .map(|c| {
                Regex::new(&format!("^(?:{c})*$")).map_err(|e| fail(format!("characters: {e}")))
            })
            .transpose()?;
        let characters_ascii = characters.as_ref().map_or(0, |re| {
            (0u8..128)
                .filter(|b| re.is_match(char::from(*b).encode_utf8(&mut [0; 4])))
                .fold(0u128, |bits, b| bits | 1u128 << b)
        });
        let p = &file.rule_prefix;
        Ok(Self {
            name: file.name,
            rule_currency: leak(format!("{p}-CURRENCY")),
            rule_charset: leak(format!("{p}-CHARSET")),
            rule_length: leak(format!("{p}-MAX-LENGTH")),
            rule_unstructured: leak(format!("{p}-ADDRESS-UNSTRUCTURED")),
            rule_required: file
                .postal_address
                .iter()
                .flat_map(|a| a.required.iter())
                .map(|e| leak(format!("{p}-ADDRESS-{}", e.to_ascii_uppercase())))
                .collect(),
            currencies: file.currencies,
            characters,
            characters_ascii,
            max_length: file.max_length,
            postal_address: file.postal_address,
        })
    }
}

/// Per-part state of a pack: the postal addresses being read.
#[derive(Debug)]
pub(super) struct PackState<'p> {
    pack: &'p RulePack,
    addresses: Vec<(usize, Vec<String>)>,
}

impl<'p> PackState<'p> {
    pub(super) fn new(pack: &'p RulePack) -> Self {
        Self {
            pack,
            addresses: Vec::new(),
        }
    }

    pub(super) fn start(&mut self, names: &[String]) {
        if names.last().is_some_and(|n| n == "PstlAdr") && self.pack.postal_address.is_some() {
            self.addresses.push((names.len(), Vec::new()));
        }
    }

    pub(super) fn end(
        &mut self,
        names: &[String],
        text: &str,
        ccy: Option<&str>,
        out: &mut Vec<Finding>,
    ) {
        let Some(name) = names.last() else { return };
        let pack = self.pack;
        if let Some(c) = ccy
            && !pack.currencies.is_empty()
            && !pack.currencies.iter().any(|x| x == c)
        {
            out.push(Finding::new(
                pack.rule_currency,
                format!(
                    "{} allows only {}, not {c}",
                    pack.name,
                    pack.currencies.join(", ")
                ),
            ));
        }
        if let Some(re) = &pack.characters
            && !text.is_empty()
            && !text
                .bytes()
                .all(|b| b < 128 && pack.characters_ascii & (1u128 << b) != 0)
            && !re.is_match(text)
        {
            out.push(Finding::new(
                pack.rule_charset,
                format!(
                    "the text uses characters outside the {} character set",
                    pack.name
                ),
            ));
        }
        if let Some(m) = pack.max_length.iter().find(|m| m.element == *name) {
            let len = text.chars().count();
            if len > m.max {
                out.push(Finding::new(
                    pack.rule_length,
                    format!(
                        "{} allows at most {} characters in {name}, this has {len}",
                        pack.name, m.max
                    ),
                ));
            }
        }
        let depth = names.len();
        if let Some((d, seen)) = self.addresses.last_mut()
            && depth == *d + 1
        {
            seen.push(name.clone());
        }
        if self.addresses.last().is_some_and(|(d, _)| *d == depth)
            && let (Some((_, seen)), Some(rules)) = (self.addresses.pop(), &pack.postal_address)
        {
            let structured = seen.iter().any(|s| s != "AdrLine");
            if rules.forbid_unstructured_only && !structured && seen.iter().any(|s| s == "AdrLine")
            {
                out.push(Finding::new(
                    pack.rule_unstructured,
                    format!(
                        "{} refuses unstructured-only postal addresses (AdrLine only)",
                        pack.name
                    ),
                ));
            }
            for (r, rule) in rules.required.iter().zip(&pack.rule_required) {
                if !seen.contains(r) {
                    out.push(Finding::new(
                        rule,
                        format!("{} requires {r} in a structured postal address", pack.name),
                    ));
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::RulePack;

    /// The cached packs answer every name as `shipped` does: the same pack or the same error.
    #[test]
    fn shipped_static_answers_as_shipped() {
        for name in [
            "sepa",
            "SEPA",
            "cbpr+",
            "CBPR+",
            "cbprplus",
            "CbprPlus",
            "cbpr",
            "nope",
            "",
            "s\u{e9}pa",
        ] {
            let fresh = RulePack::shipped(name).map(|p| format!("{p:?}"));
            let cached = RulePack::shipped_static(name).map(|p| format!("{p:?}"));
            match (fresh, cached) {
                (Ok(a), Ok(b)) => assert_eq!(a, b, "{name:?}"),
                (Err(a), Err(b)) => assert_eq!(a.to_string(), b.to_string(), "{name:?}"),
                (a, b) => panic!("{name:?}: {a:?} but {b:?}"),
            }
        }
        assert!(std::ptr::eq(
            RulePack::shipped_static("sepa").unwrap(),
            RulePack::shipped_static("SEPA").unwrap()
        ));
    }
}
