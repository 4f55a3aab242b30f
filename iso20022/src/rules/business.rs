//! Level 2: identifiers (IBAN, BIC, currency, UETR), group totals (`NbOfTxs`, `CtrlSum`),
//! statement balance arithmetic and original references, collected on the validator's pass.

use std::str::FromStr;

use rust_decimal::Decimal;

use super::Finding;
use super::tables::{country_exists, currency_exponent, iban_length};
use crate::envelope::MessageId;

/// Containers whose transactions are counted against a declared `NbOfTxs` / `CtrlSum`:
/// (container, transaction element, amount path below the transaction).
const GROUPS: &[(&str, &str, &[&str])] = &[
    ("FIToFICstmrCdtTrf", "CdtTrfTxInf", &["IntrBkSttlmAmt"]),
    ("PmtRtr", "TxInf", &["RtrdIntrBkSttlmAmt"]),
    ("CstmrCdtTrfInitn", "CdtTrfTxInf", &["Amt", "InstdAmt"]),
    ("PmtInf", "CdtTrfTxInf", &["Amt", "InstdAmt"]),
];

/// Elements that answer or cancel an earlier message: (parent, element).
const NEEDS_ORIGINAL: &[(&str, &str)] = &[
    ("PmtRtr", "TxInf"),
    ("FIToFIPmtStsRpt", "TxInfAndSts"),
    ("Undrlyg", "TxInf"),
    ("CxlDtls", "TxInfAndSts"),
];

#[derive(Debug)]
struct Group {
    depth: usize,
    tx: &'static str,
    amount: &'static [&'static str],
    declared_count: Option<(String, u64)>,
    declared_sum: Option<Decimal>,
    count: u64,
    sum: Decimal,
}

#[derive(Debug, Default)]
struct Statement {
    depth: usize,
    opening: Option<Decimal>,
    closing: Option<Decimal>,
    credits: Decimal,
    debits: Decimal,
    credit_count: u64,
    debit_count: u64,
    entries: u64,
    summary: Vec<(String, Option<u64>, Option<Decimal>)>,
    // the balance or entry being read
    item_amount: Option<Decimal>,
    item_credit: Option<bool>,
    item_code: Option<String>,
    item_booked: bool,
    summary_count: Option<u64>,
    summary_sum: Option<Decimal>,
}

/// Level 2 state for one ISO part.
#[derive(Debug)]
pub struct Business {
    message: MessageId,
    groups: Vec<Group>,
    statements: Vec<Statement>,
    originals: Vec<(usize, bool)>,
}

/// Sums never panic on hostile input: past `Decimal::MAX` they saturate (and then disagree with
/// any declared total, which is reported).
fn add(a: Decimal, b: Decimal) -> Decimal {
    a.saturating_add(b)
}

fn signed(amount: Decimal, credit: Option<bool>) -> Decimal {
    if credit == Some(false) {
        -amount
    } else {
        amount
    }
}

fn parent(names: &[String], up: usize) -> Option<&str> {
    names
        .len()
        .checked_sub(up + 1)
        .and_then(|i| names.get(i))
        .map(String::as_str)
}

/// IBAN check: country known, registry length, mod 97 = 1.
pub fn check_iban(iban: &str) -> Result<(), Finding> {
    let country = iban.get(..2).unwrap_or("");
    let Some(length) = iban_length(country) else {
        return Err(Finding::new(
            "IBAN-COUNTRY",
            format!("IBAN country {country:?} has no IBAN in the registry"),
        ));
    };
    if iban.len() != length as usize {
        return Err(Finding::new(
            "IBAN-LENGTH",
            format!(
                "an IBAN of {country} has {length} characters, this one {}",
                iban.len()
            ),
        ));
    }
    let mut rest: u32 = 0;
    for c in iban.chars().skip(4).chain(iban.chars().take(4)) {
        let Some(v) = c.to_digit(36) else {
            return Err(Finding::new(
                "IBAN-FORMAT",
                "an IBAN holds only letters and digits".to_owned(),
            ));
        };
        rest = if v >= 10 {
            (rest * 100 + v) % 97
        } else {
            (rest * 10 + v) % 97
        };
    }
    if rest != 1 {
        return Err(Finding::new(
            "IBAN-CHECKSUM",
            "the IBAN check digits are wrong (mod 97 is not 1)".to_owned(),
        ));
    }
    Ok(())
}

/// BIC check: 8 or 11 characters, bank code letters or digits, an ISO 3166 country.
pub fn check_bic(bic: &str) -> Result<(), Finding> {
    let shape = (bic.len() == 8 || bic.len() == 11)
        && bic
            .bytes()
            .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit());
    let country = bic.get(4..6).unwrap_or("");
    if !shape || !country.bytes().all(|b| b.is_ascii_uppercase()) {
        return Err(Finding::new(
            "BIC-FORMAT",
            format!("{bic:?} is not a BIC (8 or 11 letters and digits)"),
        ));
    }
    if !country_exists(country) {
        return Err(Finding::new(
            "BIC-COUNTRY",
            format!("BIC {bic} names country {country}, which is not an ISO 3166 code"),
        ));
    }
    Ok(())
}

/// UETR: a lowercase UUID version 4 with the RFC 4122 variant.
pub fn check_uetr(uetr: &str) -> Result<(), Finding> {
    let b = uetr.as_bytes();
    let hex = |r: std::ops::Range<usize>| {
        b.get(r)
            .is_some_and(|s| s.iter().all(|c| c.is_ascii_hexdigit()))
    };
    let ok = b.len() == 36
        && [8, 13, 18, 23].iter().all(|i| b.get(*i) == Some(&b'-'))
        && hex(0..8)
        && hex(9..13)
        && hex(14..18)
        && hex(19..23)
        && hex(24..36)
        && b.get(14) == Some(&b'4')
        && matches!(b.get(19), Some(b'8' | b'9' | b'a' | b'b' | b'A' | b'B'));
    if ok {
        Ok(())
    } else {
        Err(Finding::new(
            "UETR-V4",
            format!("{uetr:?} is not a UUID version 4"),
        ))
    }
}

/// Currency exists and the amount has at most its minor units.
pub fn check_amount(text: &str, ccy: &str) -> Result<(), Finding> {
    let Some(exponent) = currency_exponent(ccy) else {
        return Err(Finding::new(
            "CCY-UNKNOWN",
            format!("{ccy} is not an ISO 4217 currency code"),
        ));
    };
    let t = text.trim();
    let frac = t
        .split_once('.')
        .map(|(_, f)| f.trim_end_matches('0').len())
        .unwrap_or(0);
    if frac > exponent as usize {
        return Err(Finding::new(
            "CCY-MINOR-UNITS",
            format!("{t} {ccy} has {frac} decimals, but {ccy} has {exponent} minor units"),
        ));
    }
    Ok(())
}

/// `text.trim()`, skipping the Unicode scan when both ends are visible ASCII (the usual case).
fn trim(text: &str) -> &str {
    match (text.as_bytes().first(), text.as_bytes().last()) {
        (Some(a), Some(z)) if a.is_ascii_graphic() && z.is_ascii_graphic() => text,
        _ => text.trim(),
    }
}

impl Business {
    /// State for one part.
    pub fn new(message: MessageId) -> Self {
        Self {
            message,
            groups: Vec::new(),
            statements: Vec::new(),
            originals: Vec::new(),
        }
    }

    /// An element starts.
    pub fn start(&mut self, names: &[String]) {
        let Some(name) = names.last().map(String::as_str) else {
            return;
        };
        let depth = names.len();
        if let Some((_, tx, amount)) = GROUPS.iter().find(|(c, _, _)| *c == name) {
            self.groups.push(Group {
                depth,
                tx,
                amount,
                declared_count: None,
                declared_sum: None,
                count: 0,
                sum: Decimal::ZERO,
            });
        }
        let kind = self.message.kind();
        if (name == "Stmt" && kind == "camt.053") || (name == "Rpt" && kind == "camt.052") {
            self.statements.push(Statement {
                depth,
                ..Statement::default()
            });
        }
        if let Some(st) = self.statements.last_mut() {
            if name == "Ntry" && depth == st.depth + 1 {
                st.item_amount = None;
                st.item_credit = None;
                st.item_booked = true;
            }
            if name == "Bal" && depth == st.depth + 1 {
                st.item_amount = None;
                st.item_credit = None;
                st.item_code = None;
            }
            if depth == st.depth + 3 && parent(names, 1).is_some_and(|p| p.starts_with("Ttl")) {
                st.summary_count = None;
                st.summary_sum = None;
            }
        }
        if NEEDS_ORIGINAL
            .iter()
            .any(|(p, e)| *e == name && parent(names, 1) == Some(p))
        {
            self.originals.push((depth, false));
        }
    }

    /// An element ends.
    pub fn end(&mut self, names: &[String], text: &str, ccy: Option<&str>, out: &mut Vec<Finding>) {
        let Some(name) = names.last().map(String::as_str) else {
            return;
        };
        let depth = names.len();
        let value = trim(text);
        // Identifiers, wherever they occur.
        let check = match name {
            "IBAN" => Some(check_iban(value)),
            "BICFI" | "AnyBIC" | "BIC" | "BICOrBEI" => Some(check_bic(value)),
            "UETR" | "OrgnlUETR" => Some(check_uetr(value)),
            "Ccy" | "InstdAmtCcy" | "SrcCcy" | "TrgtCcy" | "UnitCcy" => {
                currency_exponent(value).is_none().then(|| {
                    Err(Finding::new(
                        "CCY-UNKNOWN",
                        format!("{value} is not an ISO 4217 currency code"),
                    ))
                })
            }
            _ => None,
        };
        if let Some(Err(f)) = check {
            out.push(f);
        }
        if let Some(c) = ccy
            && let Err(f) = check_amount(value, c)
        {
            out.push(f);
        }
        // Only amounts (a `Ccy` attribute) and the sums are decimals worth parsing.
        let amount = if ccy.is_some() || matches!(name, "CtrlSum" | "Sum") {
            Decimal::from_str(value).ok()
        } else {
            None
        };
        // Group totals.
        for g in &mut self.groups {
            let rel = names.get(g.depth..).unwrap_or_default();
            match rel {
                [h, n] if h == "GrpHdr" && n == "NbOfTxs" => {
                    g.declared_count = Some((value.to_owned(), value.parse().unwrap_or(u64::MAX)))
                }
                [n] if n == "NbOfTxs" => {
                    g.declared_count = Some((value.to_owned(), value.parse().unwrap_or(u64::MAX)))
                }
                [h, n] if h == "GrpHdr" && n == "CtrlSum" => g.declared_sum = amount,
                [n] if n == "CtrlSum" => g.declared_sum = amount,
                _ => {}
            }
            // the transaction itself may sit one level down (pain.001: PmtInf/CdtTrfTxInf)
            let tx_at = rel.iter().position(|n| n == g.tx);
            if let Some(i) = tx_at {
                if i + 1 == rel.len() && i <= 1 {
                    g.count += 1;
                }
                let below = rel.get(i + 1..).unwrap_or_default();
                if below.len() == g.amount.len()
                    && below.iter().zip(g.amount).all(|(a, b)| a == b)
                    && let Some(a) = amount
                {
                    g.sum = add(g.sum, a);
                }
            }
        }
        if self.groups.last().is_some_and(|g| g.depth == depth)
            && let Some(g) = self.groups.pop()
        {
            if let Some((text, n)) = &g.declared_count
                && *n != g.count
            {
                out.push(Finding::new(
                    "GRP-NB-OF-TXS",
                    format!(
                        "NbOfTxs says {text}, but there are {} {} elements",
                        g.count, g.tx
                    ),
                ));
            }
            if let Some(s) = g.declared_sum
                && s != g.sum
            {
                out.push(Finding::new(
                    "GRP-CTRL-SUM",
                    format!(
                        "CtrlSum says {s}, but the {} amounts add up to {}",
                        g.tx, g.sum
                    ),
                ));
            }
        }
        self.statement_end(names, name, depth, value, amount, out);
        // Original references.
        if let Some((d, found)) = self.originals.last_mut() {
            if depth == *d + 1
                && matches!(
                    name,
                    "OrgnlEndToEndId" | "OrgnlTxId" | "OrgnlUETR" | "OrgnlInstrId"
                )
            {
                *found = true;
            }
            if depth == *d {
                if !*found {
                    out.push(Finding::new(
                        "ORIG-REF-MISSING",
                        format!("{name} refers to no original transaction (OrgnlEndToEndId, OrgnlTxId, OrgnlUETR or OrgnlInstrId)"),
                    ));
                }
                self.originals.pop();
            }
        }
    }

    fn statement_end(
        &mut self,
        names: &[String],
        name: &str,
        depth: usize,
        value: &str,
        amount: Option<Decimal>,
        out: &mut Vec<Finding>,
    ) {
        let Some(st) = self.statements.last_mut() else {
            return;
        };
        // Up to four names below the statement, without allocating per element.
        let below = names.get(st.depth..).unwrap_or_default();
        if below.len() > 4 {
            return; // every rule below names at most four levels
        }
        let mut rel: [&str; 4] = [""; 4];
        for (slot, n) in rel.iter_mut().zip(below) {
            *slot = n.as_str();
        }
        let rel = if below.len() <= 4 {
            rel.get(..below.len()).unwrap_or_default()
        } else {
            &[""][..]
        };
        match rel {
            ["Bal" | "Ntry", "Amt"] => st.item_amount = amount,
            ["Bal" | "Ntry", "CdtDbtInd"] => st.item_credit = Some(value == "CRDT"),
            ["Bal", "Tp", "CdOrPrtry", "Cd"] => st.item_code = Some(value.to_owned()),
            ["Ntry", "Sts"] | ["Ntry", "Sts", "Cd"] => {
                st.item_booked = value == "BOOK" || value.is_empty()
            }
            ["Bal"] => {
                if let (Some(a), Some(code)) = (st.item_amount, st.item_code.as_deref()) {
                    let v = signed(a, st.item_credit);
                    match code {
                        "OPBD" | "PRCD" => st.opening = st.opening.or(Some(v)),
                        "CLBD" => st.closing = Some(v),
                        _ => {}
                    }
                }
            }
            ["Ntry"] => {
                if let (Some(a), true) = (st.item_amount, st.item_booked) {
                    st.entries += 1;
                    if st.item_credit == Some(false) {
                        st.debits = add(st.debits, a);
                        st.debit_count += 1;
                    } else {
                        st.credits = add(st.credits, a);
                        st.credit_count += 1;
                    }
                }
            }
            ["TxsSummry", t, "NbOfNtries"] if t.starts_with("Ttl") => {
                st.summary_count = value.parse().ok()
            }
            ["TxsSummry", t, "Sum"] if t.starts_with("Ttl") => st.summary_sum = amount,
            ["TxsSummry", t] if t.starts_with("Ttl") => {
                st.summary
                    .push(((*t).to_owned(), st.summary_count, st.summary_sum));
            }
            [] if depth == st.depth => {
                let st = self.statements.pop().unwrap_or_default();
                let _ = name;
                if let (Some(open), Some(close)) = (st.opening, st.closing) {
                    let expected = add(open, st.credits).saturating_sub(st.debits);
                    if expected != close {
                        out.push(Finding::new(
                            "STMT-BALANCE",
                            format!(
                                "opening booked balance {open} + credits {} - debits {} = {expected}, but the closing booked balance (CLBD) is {close}",
                                st.credits, st.debits
                            ),
                        ));
                    }
                }
                for (t, count, sum) in &st.summary {
                    let (want_count, want_sum) = match t.as_str() {
                        "TtlNtries" => (st.entries, None),
                        "TtlCdtNtries" => (st.credit_count, Some(st.credits)),
                        "TtlDbtNtries" => (st.debit_count, Some(st.debits)),
                        _ => continue,
                    };
                    if let Some(c) = count.filter(|c| *c != want_count) {
                        out.push(Finding::new("STMT-SUMMARY", format!("TxsSummry/{t}/NbOfNtries says {c}, but the statement has {want_count} such booked entries")));
                    }
                    if let (Some(s), Some(w)) = (sum, want_sum)
                        && *s != w
                    {
                        out.push(Finding::new(
                            "STMT-SUMMARY",
                            format!(
                                "TxsSummry/{t}/Sum says {s}, but those booked entries add up to {w}"
                            ),
                        ));
                    }
                }
            }
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identifiers() {
        assert!(check_iban("CH2801234000123456789").is_ok());
        assert_eq!(
            check_iban("CH2801234000123456788").map_err(|f| f.rule),
            Err("IBAN-CHECKSUM")
        );
        assert_eq!(
            check_iban("DE2801234").map_err(|f| f.rule),
            Err("IBAN-LENGTH")
        );
        assert!(check_bic("DEUTDEFFXXX").is_ok());
        assert_eq!(
            check_bic("DEUTQQFF").map_err(|f| f.rule),
            Err("BIC-COUNTRY")
        );
        assert!(check_uetr("eb6305c9-1f7f-49de-aed0-16487c27b42d").is_ok());
        assert_eq!(
            check_uetr("eb6305c9-1f7f-19de-aed0-16487c27b42d").map_err(|f| f.rule),
            Err("UETR-V4")
        );
        assert_eq!(
            check_amount("10.5", "JPY").map_err(|f| f.rule),
            Err("CCY-MINOR-UNITS")
        );
        assert!(check_amount("10.500", "BHD").is_ok());
    }
}
