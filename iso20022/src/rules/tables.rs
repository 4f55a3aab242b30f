//! Reference tables compiled in from `data/`: ISO 4217 currencies with their minor units,
//! ISO 3166 country codes, IBAN lengths per country.

use std::collections::HashMap;
use std::sync::OnceLock;

fn lines(text: &'static str) -> impl Iterator<Item = &'static str> {
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
}

fn pairs(text: &'static str) -> HashMap<&'static str, u32> {
    lines(text)
        .filter_map(|l| {
            let (k, v) = l.split_once(' ')?;
            Some((k, v.trim().parse().ok()?))
        })
        .collect()
}

/// The number of minor units of an ISO 4217 currency, `None` when the code does not exist.
pub(crate) fn currency_exponent(code: &str) -> Option<u32> {
    static T: OnceLock<HashMap<&'static str, u32>> = OnceLock::new();
    T.get_or_init(|| pairs(include_str!("data/currencies.txt")))
        .get(code)
        .copied()
}

/// Whether an ISO 3166 alpha-2 code is assigned.
pub(crate) fn country_exists(code: &str) -> bool {
    static T: OnceLock<Vec<&'static str>> = OnceLock::new();
    T.get_or_init(|| {
        let mut v: Vec<&str> = lines(include_str!("data/countries.txt"))
            .flat_map(str::split_whitespace)
            .collect();
        v.sort_unstable();
        v
    })
    .binary_search(&code)
    .is_ok()
}

/// The IBAN length of a country, `None` when the country has no IBAN.
pub(crate) fn iban_length(country: &str) -> Option<u32> {
    static T: OnceLock<HashMap<&'static str, u32>> = OnceLock::new();
    T.get_or_init(|| pairs(include_str!("data/iban_lengths.txt")))
        .get(country)
        .copied()
}

#[cfg(test)]
mod tests {
    #[test]
    fn tables_load() {
        assert_eq!(super::currency_exponent("JPY"), Some(0));
        assert_eq!(super::currency_exponent("BHD"), Some(3));
        assert_eq!(super::currency_exponent("EUR"), Some(2));
        assert_eq!(super::currency_exponent("XXY"), None);
        assert!(super::country_exists("CH") && !super::country_exists("UH"));
        assert_eq!(super::iban_length("DE"), Some(22));
    }
}
