//! Amounts as events carry them: a decimal string and an ISO 4217 code, turned into minor
//! units with the currency's exponent. More fraction digits than the currency allows is an
//! error, never a rounding; no float ever holds an amount.

use std::fmt;
use std::str::FromStr;

use iso20022::money::Currency;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

/// An amount as it appears in an event: `{"value": "12.34", "currency": "EUR"}`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct AmountField {
    /// A decimal string: digits, an optional point and fraction; no sign, no exponent.
    pub value: String,
    /// ISO 4217 alphabetic code.
    pub currency: String,
}

/// A checked amount: non-negative minor units and the currency that gives them meaning.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Money {
    /// The amount in the currency's smallest unit: EUR 12.34 is 1234, JPY 500 is 500.
    pub minor: u64,
    /// The currency.
    pub currency: Currency,
}

/// Why an amount is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum AmountError {
    /// Not three capitals, or not in the numeric-code table.
    #[error("currency {0:?} is not a known ISO 4217 code")]
    Currency(String),
    /// Not a plain decimal string.
    #[error("amount {0:?} is not a plain decimal (digits, optional point and fraction)")]
    Syntax(String),
    /// More fraction digits than the currency's exponent.
    #[error("amount {value} has more decimals than {currency} allows ({exponent})")]
    TooManyDecimals {
        /// The amount as given.
        value: String,
        /// The currency.
        currency: String,
        /// Its ISO 4217 exponent.
        exponent: u8,
    },
    /// Larger than the field can carry.
    #[error("amount {0} is too large")]
    Overflow(String),
}

impl AmountField {
    /// Checks the amount: known currency, plain non-negative decimal, at most the currency's
    /// exponent in fraction digits.
    pub fn check(&self) -> Result<Money, AmountError> {
        let currency = currency(&self.currency)?;
        let value = &self.value;
        let plain = !value.is_empty()
            && value.bytes().filter(|b| *b == b'.').count() <= 1
            && value.bytes().all(|b| b.is_ascii_digit() || b == b'.')
            && !value.starts_with('.')
            && !value.ends_with('.');
        if !plain {
            return Err(AmountError::Syntax(value.clone()));
        }
        let decimal = Decimal::from_str(value).map_err(|_| AmountError::Overflow(value.clone()))?;
        let exponent = currency.exponent();
        if decimal.normalize().scale() > u32::from(exponent) {
            return Err(AmountError::TooManyDecimals {
                value: value.clone(),
                currency: self.currency.clone(),
                exponent,
            });
        }
        let mut scaled = decimal;
        scaled.rescale(u32::from(exponent));
        u64::try_from(scaled.mantissa())
            .map(|minor| Money { minor, currency })
            .map_err(|_| AmountError::Overflow(value.clone()))
    }
}

/// A currency we can put on the ISO 8583 wire: known alphabetic code with a numeric code.
pub fn currency(code: &str) -> Result<Currency, AmountError> {
    Currency::parse(code)
        .filter(|c| numeric_code(*c).is_some())
        .ok_or_else(|| AmountError::Currency(code.to_owned()))
}

/// ISO 4217 numeric codes of the currencies Clearway's banks use (source: ISO 4217 list one,
/// as published by SIX on behalf of ISO). A currency missing here is refused, not guessed.
const NUMERIC: &[(&str, &str)] = &[
    ("AUD", "036"),
    ("BHD", "048"),
    ("CAD", "124"),
    ("CHF", "756"),
    ("CZK", "203"),
    ("DKK", "208"),
    ("EUR", "978"),
    ("GBP", "826"),
    ("HUF", "348"),
    ("JPY", "392"),
    ("KWD", "414"),
    ("NOK", "578"),
    ("PLN", "985"),
    ("SEK", "752"),
    ("USD", "840"),
];

/// The ISO 4217 numeric code (ISO 8583 DE 49/50), e.g. `978` for EUR.
pub fn numeric_code(currency: Currency) -> Option<&'static str> {
    NUMERIC
        .iter()
        .find(|(alpha, _)| *alpha == currency.as_str())
        .map(|(_, n)| *n)
}

/// The currency of an ISO 4217 numeric code, for inbound messages.
pub fn from_numeric(code: &str) -> Option<Currency> {
    NUMERIC
        .iter()
        .find(|(_, n)| *n == code)
        .and_then(|(alpha, _)| Currency::parse(alpha))
}

/// Minor units as a decimal string with the currency's exponent: `1234` EUR is `12.34`.
pub fn minor_to_string(minor: u64, currency: Currency) -> String {
    Decimal::from_i128_with_scale(i128::from(minor), u32::from(currency.exponent())).to_string()
}

impl Money {
    /// The decimal form, with exactly the currency's exponent in fraction digits.
    pub fn to_decimal(&self) -> Decimal {
        Decimal::from_i128_with_scale(i128::from(self.minor), u32::from(self.currency.exponent()))
    }
}

impl fmt::Display for Money {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.currency, self.to_decimal())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn amount(value: &str, currency: &str) -> Result<Money, AmountError> {
        AmountField {
            value: value.into(),
            currency: currency.into(),
        }
        .check()
    }

    #[test]
    fn minor_units_follow_the_exponent_and_never_round() {
        assert_eq!(amount("12.34", "EUR").unwrap().minor, 1234);
        assert_eq!(amount("12.3", "EUR").unwrap().minor, 1230);
        assert_eq!(amount("12.340", "EUR").unwrap().minor, 1234);
        assert_eq!(amount("500", "JPY").unwrap().minor, 500);
        assert_eq!(amount("1.250", "BHD").unwrap().minor, 1250);
        assert!(matches!(
            amount("500.5", "JPY"),
            Err(AmountError::TooManyDecimals { .. })
        ));
        assert!(matches!(
            amount("1.234", "EUR"),
            Err(AmountError::TooManyDecimals { .. })
        ));
        assert!(matches!(amount("-1", "EUR"), Err(AmountError::Syntax(_))));
        assert!(matches!(amount("1e3", "EUR"), Err(AmountError::Syntax(_))));
        assert!(matches!(amount("1", "XXX"), Err(AmountError::Currency(_))));
        assert!(matches!(
            amount("99999999999999999999999999", "EUR"),
            Err(AmountError::Overflow(_))
        ));
    }
}
