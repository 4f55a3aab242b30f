//! Currencies and amounts as ISO 20022 carries them: a three-letter ISO 4217 code and a decimal
//! amount. No float ever holds an amount; `rust_decimal::Decimal` is exact.

use std::fmt;

use rust_decimal::Decimal;

/// An ISO 4217 alphabetic code: three ASCII capitals, checked once by [`Currency::parse`].
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Currency([u8; 3]);

impl Currency {
    /// Euro.
    pub const EUR: Currency = Currency(*b"EUR");

    /// Parses `EUR`, `USD`, …; anything but three ASCII capitals is `None`.
    pub fn parse(code: &str) -> Option<Currency> {
        match code.as_bytes() {
            [a, b, c] if [a, b, c].iter().all(|x| x.is_ascii_uppercase()) => {
                Some(Currency([*a, *b, *c]))
            }
            _ => None,
        }
    }

    /// The code, e.g. `"EUR"`.
    pub fn as_str(&self) -> &str {
        // Three ASCII capitals by construction.
        std::str::from_utf8(&self.0).unwrap_or("???")
    }

    /// Digits after the decimal point in the currency's minor unit (ISO 4217): 2 unless listed.
    pub fn exponent(&self) -> u8 {
        match &self.0 {
            b"BIF" | b"CLP" | b"DJF" | b"GNF" | b"ISK" | b"JPY" | b"KMF" | b"KRW" | b"PYG"
            | b"RWF" | b"UGX" | b"UYI" | b"VND" | b"VUV" | b"XAF" | b"XOF" | b"XPF" => 0,
            b"BHD" | b"IQD" | b"JOD" | b"KWD" | b"LYD" | b"OMR" | b"TND" => 3,
            b"CLF" | b"UYW" => 4,
            _ => 2,
        }
    }
}

impl fmt::Display for Currency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl fmt::Debug for Currency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An amount in the currency's smallest unit as a `Decimal` with that many fraction digits:
/// `minor_to_decimal(1234, EUR)` is `12.34`.
pub fn minor_to_decimal(minor: i64, currency: Currency) -> Decimal {
    Decimal::new(minor, u32::from(currency.exponent()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn currency_parse_and_exponent() {
        assert_eq!(Currency::parse("EUR"), Some(Currency::EUR));
        assert_eq!(Currency::parse("eur"), None);
        assert_eq!(Currency::parse("EURO"), None);
        assert_eq!(Currency::parse("JPY").map(|c| c.exponent()), Some(0));
        assert_eq!(Currency::parse("BHD").map(|c| c.exponent()), Some(3));
        assert_eq!(minor_to_decimal(1234, Currency::EUR).to_string(), "12.34");
    }
}
