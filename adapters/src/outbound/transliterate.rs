//! The SEPA character set as data: `adapters/data/transliteration.toml` (compiled in) names the
//! rule packs it applies to, the allowed characters, one replacement per character and the
//! fallback for anything else. The file documents every choice; this module only applies it.

use std::collections::BTreeMap;
use std::sync::LazyLock;

use serde::Deserialize;

const SHIPPED: &str = include_str!("../../data/transliteration.toml");

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct TableFile {
    packs: Vec<String>,
    allowed: String,
    fallback: String,
    latin: BTreeMap<String, String>,
    greek: BTreeMap<String, String>,
    cyrillic: BTreeMap<String, String>,
    punctuation: BTreeMap<String, String>,
}

/// A checked transliteration table.
#[derive(Debug)]
pub struct Table {
    /// Rule packs (profile `rule_pack`) whose profiles get this table applied.
    pub packs: Vec<String>,
    allowed: Vec<char>,
    /// `allowed` for the ASCII range, one bit per code point: the common case is one lookup.
    ascii: u128,
    fallback: String,
    map: BTreeMap<char, String>,
}

/// The outcome of transliterating one text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Transliterated {
    /// The text in the allowed set.
    pub text: String,
    /// Each distinct substitution made, `from→to`, in order of first appearance.
    pub substitutions: Vec<String>,
}

impl Table {
    /// Parses and checks a table: keys are one character, values and the fallback use the
    /// allowed set only, no key is itself allowed, no key appears in two sections.
    pub fn from_toml(text: &str) -> Result<Table, String> {
        let file: TableFile = toml::from_str(text).map_err(|e| e.to_string())?;
        let allowed: Vec<char> = file.allowed.chars().collect();
        let in_set = |s: &str| s.chars().all(|c| allowed.contains(&c));
        let mut problems = Vec::new();
        if !in_set(&file.fallback) || file.fallback.is_empty() {
            problems.push("fallback: must be allowed characters".to_owned());
        }
        let mut map = BTreeMap::new();
        for (section, entries) in [
            ("latin", &file.latin),
            ("greek", &file.greek),
            ("cyrillic", &file.cyrillic),
            ("punctuation", &file.punctuation),
        ] {
            for (key, value) in entries {
                let mut chars = key.chars();
                let (Some(c), None) = (chars.next(), chars.next()) else {
                    problems.push(format!("{section}.{key:?}: a key is one character"));
                    continue;
                };
                if allowed.contains(&c) {
                    problems.push(format!("{section}.{key:?}: already allowed"));
                }
                if !in_set(value) {
                    problems.push(format!("{section}.{key:?}: {value:?} leaves the set"));
                }
                if map.insert(c, value.clone()).is_some() {
                    problems.push(format!("{section}.{key:?}: listed twice"));
                }
            }
        }
        if problems.is_empty() {
            let ascii = allowed
                .iter()
                .filter(|c| c.is_ascii())
                .fold(0u128, |bits, c| bits | 1u128 << u32::from(*c));
            Ok(Table {
                packs: file.packs,
                allowed,
                ascii,
                fallback: file.fallback,
                map,
            })
        } else {
            Err(problems.join("; "))
        }
    }

    /// The shipped table (`adapters/data/transliteration.toml`).
    pub fn shipped() -> Result<&'static Table, String> {
        static TABLE: LazyLock<Result<Table, String>> = LazyLock::new(|| {
            Table::from_toml(SHIPPED).map_err(|e| format!("data/transliteration.toml: {e}"))
        });
        TABLE.as_ref().map_err(Clone::clone)
    }

    /// Whether `c` is in the allowed set.
    pub fn allows(&self, c: char) -> bool {
        if c.is_ascii() {
            return self.ascii & (1u128 << u32::from(c)) != 0;
        }
        self.allowed.contains(&c)
    }

    /// Replaces every character outside the set by its entry, or by the fallback.
    pub fn apply(&self, text: &str) -> Transliterated {
        let mut out = String::with_capacity(text.len());
        let mut substitutions: Vec<String> = Vec::new();
        for c in text.chars() {
            if self.allows(c) {
                out.push(c);
                continue;
            }
            let to = self.map.get(&c).unwrap_or(&self.fallback);
            out.push_str(to);
            let shown = if c.is_control() || c.is_whitespace() {
                format!("U+{:04X}→{to:?}", u32::from(c))
            } else {
                format!("{c}→{to}")
            };
            if !substitutions.contains(&shown) {
                substitutions.push(shown);
            }
        }
        Transliterated {
            text: out,
            substitutions,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_shipped_table_loads_and_keeps_the_set() {
        let t = Table::shipped().unwrap();
        assert_eq!(t.packs, ["sepa"]);
        let r = t.apply("Zoë Ægir-Łukasiewicz Straße");
        assert_eq!(r.text, "Zoe Aegir-Lukasiewicz Strasse");
        assert_eq!(r.substitutions, ["ë→e", "Æ→Ae", "Ł→L", "ß→ss"]);
        assert_eq!(t.apply("Жанна Щукина").text, "Zhanna Shchukina");
        assert_eq!(t.apply("Θεόδωρος").text, "Theodoros");
        assert_eq!(t.apply("山田 & Co_").text, ".. + Co-");
        let plain = "Jane Doe (Ltd.), 12/3 - ok? +:'";
        assert_eq!(t.apply(plain).text, plain);
        assert!(t.apply(plain).substitutions.is_empty());
    }

    #[test]
    fn a_broken_table_names_the_entry() {
        let bad = r#"packs = ["sepa"]
allowed = "ab"
fallback = "a"
latin = { "é" = "e", "xy" = "a" }
greek = {}
cyrillic = {}
punctuation = { "b" = "a" }
"#;
        let e = Table::from_toml(bad).unwrap_err();
        for needle in [
            "\"é\": \"e\" leaves the set",
            "\"xy\"",
            "\"b\": already allowed",
        ] {
            assert!(e.contains(needle), "{needle} missing in {e}");
        }
    }
}
