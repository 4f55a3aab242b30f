//! Simple types: a built-in base and the facets the ISO schemas use, checked against element or
//! attribute text without allocating in the common case.

use std::str::FromStr;

use regex::Regex;
use rust_decimal::Decimal;

/// The XSD built-in types the ISO schemas derive from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Builtin {
    /// `xs:string`
    String,
    /// `xs:decimal`
    Decimal,
    /// `xs:date`
    Date,
    /// `xs:dateTime`
    DateTime,
    /// `xs:time`
    Time,
    /// `xs:boolean`
    Boolean,
    /// `xs:gYear`
    GYear,
    /// `xs:gYearMonth`
    GYearMonth,
    /// `xs:base64Binary`
    Base64Binary,
}

impl Builtin {
    pub(super) fn from_xsd(name: &str) -> Option<Self> {
        Some(match name {
            "string" => Self::String,
            "decimal" => Self::Decimal,
            "date" => Self::Date,
            "dateTime" => Self::DateTime,
            "time" => Self::Time,
            "boolean" => Self::Boolean,
            "gYear" => Self::GYear,
            "gYearMonth" => Self::GYearMonth,
            "base64Binary" => Self::Base64Binary,
            _ => return None,
        })
    }
}

/// Facets of a restriction (accumulated along the base chain).
#[derive(Debug, Clone, Default)]
pub struct Facets {
    /// `minLength` in characters.
    pub min_length: Option<usize>,
    /// `maxLength` in characters.
    pub max_length: Option<usize>,
    /// `length` in characters.
    pub length: Option<usize>,
    /// `pattern`s (each must match, one per derivation step), with the XSD source.
    pub patterns: Vec<(Regex, String)>,
    /// `enumeration` values, sorted.
    pub enumeration: Option<Vec<String>>,
    /// `totalDigits`.
    pub total_digits: Option<u32>,
    /// `fractionDigits`.
    pub fraction_digits: Option<u32>,
    /// `minInclusive`.
    pub min_inclusive: Option<Decimal>,
    /// `maxInclusive`.
    pub max_inclusive: Option<Decimal>,
    /// `minExclusive`.
    pub min_exclusive: Option<Decimal>,
    /// `maxExclusive`.
    pub max_exclusive: Option<Decimal>,
}

/// A simple type: base plus facets.
#[derive(Debug, Clone)]
pub struct SimpleType {
    /// The built-in base.
    pub base: Builtin,
    /// The facets.
    pub facets: Facets,
}

/// Why a text does not fit its simple type: a stable rule id and a sentence.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SimpleProblem {
    /// Rule id, e.g. `XSD-MAX-LENGTH`.
    pub rule: &'static str,
    /// The sentence.
    pub message: String,
}

fn problem(rule: &'static str, message: String) -> SimpleProblem {
    SimpleProblem { rule, message }
}

/// Translates an XSD regular expression (implicitly anchored) to the `regex` dialect.
fn translate_pattern(xsd: &str) -> Result<Regex, String> {
    // The ISO schemas use plain classes, `\d`, quantifiers and groups, which mean the same in
    // both dialects; XSD-only escapes (`\i`, `\c`, class subtraction) are refused.
    if xsd.contains("\\i") || xsd.contains("\\c") || xsd.contains("\\I") || xsd.contains("\\C") {
        return Err(format!("pattern {xsd:?} uses XSD-only regex features"));
    }
    Regex::new(&format!("^(?:{xsd})$")).map_err(|e| format!("pattern {xsd:?}: {e}"))
}

impl Facets {
    pub(super) fn restrict(
        &mut self,
        base: Builtin,
        facets: &[(&str, &str)],
    ) -> Result<(), String> {
        let mut enumeration: Vec<String> = Vec::new();
        let mut patterns = Vec::new();
        let number = |v: &str| {
            v.parse::<usize>()
                .map_err(|_| format!("bad facet value {v:?}"))
        };
        let digits = |v: &str| {
            v.parse::<u32>()
                .map_err(|_| format!("bad facet value {v:?}"))
        };
        let decimal = |v: &str| Decimal::from_str(v).map_err(|_| format!("bad facet value {v:?}"));
        for (name, value) in facets {
            match *name {
                "minLength" => self.min_length = Some(number(value)?),
                "maxLength" => self.max_length = Some(number(value)?),
                "length" => self.length = Some(number(value)?),
                "pattern" => patterns.push((translate_pattern(value)?, (*value).to_owned())),
                "enumeration" => enumeration.push((*value).to_owned()),
                "totalDigits" => self.total_digits = Some(digits(value)?),
                "fractionDigits" => self.fraction_digits = Some(digits(value)?),
                "minInclusive" => self.min_inclusive = Some(decimal(value)?),
                "maxInclusive" => self.max_inclusive = Some(decimal(value)?),
                "minExclusive" => self.min_exclusive = Some(decimal(value)?),
                "maxExclusive" => self.max_exclusive = Some(decimal(value)?),
                "annotation" => {}
                other => return Err(format!("unsupported facet xs:{other}")),
            }
        }
        let numeric_facets = self.total_digits.is_some() || self.min_inclusive.is_some();
        if numeric_facets && base != Builtin::Decimal {
            return Err("numeric facets on a non-decimal type".to_owned());
        }
        // Several patterns in one step are alternatives; the ISO schemas have at most one.
        if patterns.len() > 1 {
            return Err("several patterns in one restriction".to_owned());
        }
        self.patterns.extend(patterns);
        if !enumeration.is_empty() {
            enumeration.sort();
            self.enumeration = Some(enumeration);
        }
        Ok(())
    }
}

/// `text` without leading and trailing XML whitespace (ASCII bytes, so the cuts fall on
/// character boundaries).
fn trim_xml_space(text: &str) -> &str {
    let space = |b: &u8| matches!(b, b' ' | b'\t' | b'\n' | b'\r');
    let bytes = text.as_bytes();
    let start = bytes.iter().position(|b| !space(b)).unwrap_or(bytes.len());
    let end = bytes
        .iter()
        .rposition(|b| !space(b))
        .map_or(start, |i| i + 1);
    text.get(start..end).unwrap_or("")
}

impl SimpleType {
    /// Checks `text` (the element's whole text, entity references resolved).
    pub fn check(&self, text: &str) -> Result<(), SimpleProblem> {
        // xs:string keeps white space; every other built-in collapses it.
        let value = if self.base == Builtin::String {
            text
        } else {
            trim_xml_space(text)
        };
        match self.base {
            Builtin::String => {}
            Builtin::Decimal => self.check_decimal(value)?,
            Builtin::Date => check_date(value)?,
            Builtin::DateTime => check_date_time(value)?,
            Builtin::Time => check_time_tz(value)?,
            Builtin::Boolean => {
                if !matches!(value, "true" | "false" | "1" | "0") {
                    return Err(problem(
                        "XSD-BOOLEAN",
                        format!("{value:?} is not a boolean"),
                    ));
                }
            }
            Builtin::GYear => check_year(value, value).and_then(|rest| tz(rest, value))?,
            Builtin::GYearMonth => check_year_month(value)?,
            Builtin::Base64Binary => {
                let ok = value.chars().all(|c| {
                    c.is_ascii_alphanumeric()
                        || matches!(c, '+' | '/' | '=' | ' ' | '\n' | '\r' | '\t')
                });
                if !ok {
                    return Err(problem("XSD-BASE64", "the value is not base64".to_owned()));
                }
            }
        }
        let f = &self.facets;
        if f.length.is_some() || f.min_length.is_some() || f.max_length.is_some() {
            let len = value.chars().count();
            if let Some(min) = f.min_length.filter(|m| len < *m) {
                return Err(problem(
                    "XSD-MIN-LENGTH",
                    format!("the text has {len} characters, fewer than the minimum {min}"),
                ));
            }
            if let Some(max) = f.max_length.filter(|m| len > *m) {
                return Err(problem(
                    "XSD-MAX-LENGTH",
                    format!("the text has {len} characters, more than the maximum {max}"),
                ));
            }
            if let Some(exact) = f.length.filter(|m| len != *m) {
                return Err(problem(
                    "XSD-LENGTH",
                    format!("the text has {len} characters, not {exact}"),
                ));
            }
        }
        for (re, source) in &f.patterns {
            if !re.is_match(value) {
                return Err(problem(
                    "XSD-PATTERN",
                    format!("{value:?} does not match the pattern {source}"),
                ));
            }
        }
        if let Some(values) = &f.enumeration
            && values.binary_search_by(|v| v.as_str().cmp(value)).is_err()
        {
            let shown: Vec<&str> = values.iter().take(12).map(String::as_str).collect();
            let more = if values.len() > 12 { ", …" } else { "" };
            return Err(problem(
                "XSD-ENUMERATION",
                format!("{value:?} is not one of {}{more}", shown.join(", ")),
            ));
        }
        Ok(())
    }

    fn check_decimal(&self, value: &str) -> Result<(), SimpleProblem> {
        let unsigned = value.strip_prefix(['+', '-']).unwrap_or(value);
        let (int, frac) = unsigned.split_once('.').unwrap_or((unsigned, ""));
        let lexical_ok = !(int.is_empty() && frac.is_empty())
            && int.bytes().all(|b| b.is_ascii_digit())
            && frac.bytes().all(|b| b.is_ascii_digit());
        if !lexical_ok {
            return Err(problem(
                "XSD-DECIMAL",
                format!("{value:?} is not a decimal number"),
            ));
        }
        let int = int.trim_start_matches('0');
        let frac = frac.trim_end_matches('0');
        let f = &self.facets;
        if let Some(max) = f.fraction_digits
            && frac.len() > max as usize
        {
            return Err(problem(
                "XSD-FRACTION-DIGITS",
                format!(
                    "{value} has {} fraction digits, more than {max}",
                    frac.len()
                ),
            ));
        }
        if let Some(max) = f.total_digits
            && int.len() + frac.len() > max as usize
        {
            return Err(problem(
                "XSD-TOTAL-DIGITS",
                format!(
                    "{value} has {} digits, more than {max}",
                    int.len() + frac.len()
                ),
            ));
        }
        let bounds = f.min_inclusive.is_some()
            || f.max_inclusive.is_some()
            || f.min_exclusive.is_some()
            || f.max_exclusive.is_some();
        if bounds {
            let Ok(number) = Decimal::from_str(value.strip_prefix('+').unwrap_or(value)) else {
                return Err(problem(
                    "XSD-DECIMAL",
                    format!("{value:?} is out of the supported decimal range"),
                ));
            };
            let fail = |what: &str, bound: &Decimal| {
                Err(problem("XSD-RANGE", format!("{value} is {what} {bound}")))
            };
            if let Some(b) = f.min_inclusive.as_ref().filter(|b| number < **b) {
                return fail("below the minimum", b);
            }
            if let Some(b) = f.max_inclusive.as_ref().filter(|b| number > **b) {
                return fail("above the maximum", b);
            }
            if let Some(b) = f.min_exclusive.as_ref().filter(|b| number <= **b) {
                return fail("not above", b);
            }
            if let Some(b) = f.max_exclusive.as_ref().filter(|b| number >= **b) {
                return fail("not below", b);
            }
        }
        Ok(())
    }
}

fn digits(s: &str, n: usize) -> Option<(u32, &str)> {
    let head = s.get(..n)?;
    if !head.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    Some((head.parse().ok()?, s.get(n..)?))
}

fn lexical(rule_value: &str, what: &str) -> SimpleProblem {
    problem(
        "XSD-DATETIME",
        format!("{rule_value:?} is not a valid {what}"),
    )
}

/// Reads `[-]YYYY` (four or more digits); returns the rest.
fn check_year<'a>(s: &'a str, whole: &str) -> Result<&'a str, SimpleProblem> {
    let s = s.strip_prefix('-').unwrap_or(s);
    let n = s.bytes().take_while(u8::is_ascii_digit).count();
    if n < 4 || (n > 4 && s.starts_with('0')) || s.get(..n) == Some("0000") {
        return Err(lexical(whole, "year"));
    }
    Ok(s.get(n..).unwrap_or(""))
}

fn tz(rest: &str, whole: &str) -> Result<(), SimpleProblem> {
    if rest.is_empty() || rest == "Z" {
        return Ok(());
    }
    let sign = rest
        .strip_prefix(['+', '-'])
        .ok_or_else(|| lexical(whole, "time zone"))?;
    let (h, r) = digits(sign, 2).ok_or_else(|| lexical(whole, "time zone"))?;
    let r = r
        .strip_prefix(':')
        .ok_or_else(|| lexical(whole, "time zone"))?;
    let (m, r) = digits(r, 2).ok_or_else(|| lexical(whole, "time zone"))?;
    if !r.is_empty() || m > 59 || h > 14 || (h == 14 && m > 0) {
        return Err(lexical(whole, "time zone"));
    }
    Ok(())
}

fn leap(year: i64) -> bool {
    (year % 4 == 0 && year % 100 != 0) || year % 400 == 0
}

/// `YYYY-MM-DD`, calendar checked; returns the rest.
fn date_part(value: &str) -> Result<&str, SimpleProblem> {
    let rest = check_year(value, value)?;
    let year_text = value.get(..value.len() - rest.len()).unwrap_or("");
    let year: i64 = year_text.parse().map_err(|_| lexical(value, "date"))?;
    let r = rest
        .strip_prefix('-')
        .ok_or_else(|| lexical(value, "date"))?;
    let (month, r) = digits(r, 2).ok_or_else(|| lexical(value, "date"))?;
    let r = r.strip_prefix('-').ok_or_else(|| lexical(value, "date"))?;
    let (day, r) = digits(r, 2).ok_or_else(|| lexical(value, "date"))?;
    let days = match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if leap(year) => 29,
        2 => 28,
        _ => 0,
    };
    if day == 0 || day > days {
        return Err(problem(
            "DATE-CALENDAR",
            format!("{value} is not a calendar date"),
        ));
    }
    Ok(r)
}

/// `hh:mm:ss[.s+]`, returns the rest.
fn time_part<'a>(s: &'a str, whole: &str) -> Result<&'a str, SimpleProblem> {
    let (h, r) = digits(s, 2).ok_or_else(|| lexical(whole, "time"))?;
    let r = r.strip_prefix(':').ok_or_else(|| lexical(whole, "time"))?;
    let (m, r) = digits(r, 2).ok_or_else(|| lexical(whole, "time"))?;
    let r = r.strip_prefix(':').ok_or_else(|| lexical(whole, "time"))?;
    let (sec, mut r) = digits(r, 2).ok_or_else(|| lexical(whole, "time"))?;
    if let Some(frac) = r.strip_prefix('.') {
        let n = frac.bytes().take_while(u8::is_ascii_digit).count();
        if n == 0 {
            return Err(lexical(whole, "time"));
        }
        r = frac.get(n..).unwrap_or("");
    }
    let midnight = h == 24 && m == 0 && sec == 0;
    if (h > 23 && !midnight) || m > 59 || sec > 59 {
        return Err(problem(
            "DATE-CALENDAR",
            format!("{whole} is not a valid time of day"),
        ));
    }
    Ok(r)
}

fn check_date(value: &str) -> Result<(), SimpleProblem> {
    let rest = date_part(value)?;
    tz(rest, value)
}

fn check_date_time(value: &str) -> Result<(), SimpleProblem> {
    let rest = date_part(value)?;
    let rest = rest
        .strip_prefix('T')
        .ok_or_else(|| lexical(value, "date-time"))?;
    let rest = time_part(rest, value)?;
    tz(rest, value)
}

fn check_time_tz(value: &str) -> Result<(), SimpleProblem> {
    let rest = time_part(value, value)?;
    tz(rest, value)
}

fn check_year_month(value: &str) -> Result<(), SimpleProblem> {
    let rest = check_year(value, value)?;
    let r = rest
        .strip_prefix('-')
        .ok_or_else(|| lexical(value, "year and month"))?;
    let (month, r) = digits(r, 2).ok_or_else(|| lexical(value, "year and month"))?;
    if !(1..=12).contains(&month) {
        return Err(problem(
            "DATE-CALENDAR",
            format!("{value} has no month {month}"),
        ));
    }
    tz(r, value)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn of(base: Builtin) -> SimpleType {
        SimpleType {
            base,
            facets: Facets::default(),
        }
    }

    #[test]
    fn dates_are_calendar_checked() {
        let date = of(Builtin::Date);
        assert!(date.check("2024-02-29").is_ok());
        assert_eq!(
            date.check("2023-02-29").map_err(|p| p.rule),
            Err("DATE-CALENDAR")
        );
        assert_eq!(
            date.check("2023-2-01").map_err(|p| p.rule),
            Err("XSD-DATETIME")
        );
        let dt = of(Builtin::DateTime);
        assert!(dt.check("2020-01-01T10:00:00.123+01:00").is_ok());
        assert!(dt.check("2020-01-01T10:00:00Z").is_ok());
        assert_eq!(
            dt.check("2020-01-01T25:00:00").map_err(|p| p.rule),
            Err("DATE-CALENDAR")
        );
        assert!(dt.check("2020-01-01").is_err());
    }

    #[test]
    fn decimal_facets() {
        let mut t = of(Builtin::Decimal);
        t.facets
            .restrict(
                Builtin::Decimal,
                &[
                    ("fractionDigits", "2"),
                    ("totalDigits", "5"),
                    ("minInclusive", "0"),
                ],
            )
            .unwrap();
        assert!(t.check("123.40").is_ok());
        assert_eq!(
            t.check("1.234").map_err(|p| p.rule),
            Err("XSD-FRACTION-DIGITS")
        );
        assert_eq!(
            t.check("123456").map_err(|p| p.rule),
            Err("XSD-TOTAL-DIGITS")
        );
        assert_eq!(t.check("-1").map_err(|p| p.rule), Err("XSD-RANGE"));
        assert_eq!(t.check("1e3").map_err(|p| p.rule), Err("XSD-DECIMAL"));
    }
}
