//! A human-readable, masked view of BER-TLV: each object's tag, dictionary name, length,
//! value in hex and, where the dictionary says how, the value decoded (amounts, dates, TVR and
//! AIP bits, codes). The CLI prints it as text or JSON, and the ISO 8583 describer calls
//! [`tree`] for field 55.
//!
//! Card data is masked here, once: `5A` (PAN), `57` and `9F6B` (track 2), `56` (track 1) keep
//! the first 6 and last 4 PAN digits and hide the rest; discretionary data is hidden whole;
//! and every PAN found is also masked wherever it reappears (in a template's content, in a
//! template kept raw). Only `show_pan = true` turns this off.

use std::fmt::{self, Write as _};

use serde::Serialize;

use super::dictionary::{Dictionary, Sensitive, Show};
use super::{Error, TagPath, Tlv, decode, dol};
use crate::card::{MASK_CHAR, Masker, mask_pan, mask_track, track_pan};

/// One object of the tree, ready to print: sensitive values are already masked.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Node {
    /// The tag in uppercase hex.
    pub tag: String,
    /// The dictionary name, when the tag is known.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// The value's length in bytes.
    pub len: usize,
    /// Offset of the tag in the input.
    pub offset: usize,
    /// The value in uppercase hex (a template's whole content); masked card data has `*`
    /// in place of hidden digits.
    pub value: String,
    /// The value decoded (amount, date, bit names, text…), when the dictionary says how.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub decoded: Option<String>,
    /// Whether `value` and `decoded` are masked card data.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub masked: bool,
    /// A template whose content is not BER-TLV, kept as raw bytes.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub raw: bool,
    /// Why a raw template's content is not BER-TLV: the inner tag path and byte offset.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    /// The objects of a template whose content parsed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub children: Option<Vec<Node>>,
}

/// Decodes `input` and describes it with the shipped dictionary; card data masked unless
/// `show_pan`.
pub fn tree(input: &[u8], show_pan: bool) -> Result<Vec<Node>, Error> {
    let tlvs = decode(input)?;
    Ok(describe(&tlvs, Dictionary::shipped(), show_pan))
}

/// Describes decoded objects with `dict`.
pub fn describe(tlvs: &[Tlv<'_>], dict: &Dictionary, show_pan: bool) -> Vec<Node> {
    let mut ctx = Context {
        dict,
        show_pan,
        masker: Masker::new(),
        hidden: Vec::new(),
        exponent: None,
    };
    ctx.scan(tlvs);
    tlvs.iter().map(|t| ctx.node(t)).collect()
}

/// The tree as indented text, one object per line:
/// `9F02 Amount, authorised [6] 000000000100 = 1.00`.
pub fn to_text(nodes: &[Node]) -> String {
    let mut out = String::new();
    write_text(nodes, 0, &mut out);
    out
}

fn write_text(nodes: &[Node], depth: usize, out: &mut String) {
    for node in nodes {
        let _ = write!(out, "{:indent$}{}", "", node.tag, indent = 2 * depth);
        if let Some(name) = &node.name {
            let _ = write!(out, " {name}");
        }
        let _ = write!(out, " [{}]", node.len);
        if node.children.is_none() && !node.value.is_empty() {
            let _ = write!(out, " {}", node.value);
        }
        match (&node.note, node.raw) {
            (Some(note), _) => {
                let _ = write!(out, " (kept raw: {note})");
            }
            (None, true) => out.push_str(" (kept raw)"),
            (None, false) => {}
        }
        if let Some(decoded) = &node.decoded {
            let _ = write!(out, " = {decoded}");
        }
        out.push('\n');
        if let Some(children) = &node.children {
            write_text(children, depth + 1, out);
        }
    }
}

/// Uppercase hex of bytes.
pub fn hex(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(2 * bytes.len());
    for b in bytes {
        let _ = write!(out, "{b:02X}");
    }
    out
}

struct Context<'d> {
    dict: &'d Dictionary,
    show_pan: bool,
    masker: Masker,
    /// Masked values of sensitive objects by their value offset, written over any enclosing
    /// template's content so that track data tails do not show through.
    hidden: Vec<(usize, String)>,
    /// The transaction currency's exponent: `5F36` if present, else from `5F2A`.
    exponent: Option<u8>,
}

impl Context<'_> {
    /// First pass: collect every PAN to mask elsewhere, and the currency exponent.
    fn scan(&mut self, tlvs: &[Tlv<'_>]) {
        let mut from_code = None;
        let mut from_exponent = None;
        self.scan_into(tlvs, &mut from_code, &mut from_exponent);
        self.exponent = from_exponent.or(from_code);
    }

    fn scan_into(
        &mut self,
        tlvs: &[Tlv<'_>],
        from_code: &mut Option<u8>,
        from_exponent: &mut Option<u8>,
    ) {
        for tlv in tlvs {
            match tlv.tag.number() {
                0x5F2A if from_code.is_none() => {
                    *from_code = bcd_digits(tlv.value).and_then(|d| {
                        self.dict
                            .currency(d.get(1..).unwrap_or(""))
                            .map(|c| c.exponent)
                    });
                }
                0x5F36 if from_exponent.is_none() => {
                    *from_exponent = bcd_digits(tlv.value).and_then(|d| d.parse::<u8>().ok());
                }
                _ => {}
            }
            let sensitivity = self.dict.sensitivity(tlv.tag);
            if let Some(kind) = sensitivity {
                self.hidden
                    .push((tlv.value_offset, masked_value(kind, tlv.value).0));
            }
            match sensitivity {
                Some(Sensitive::Pan) => self.add_pan(hex(tlv.value).trim_end_matches('F')),
                Some(Sensitive::Track2) => {
                    self.add_pan(track_pan(hex(tlv.value).trim_end_matches('F')))
                }
                Some(Sensitive::Track1) => self.add_pan(track_pan(&ascii_lossy(tlv.value))),
                Some(Sensitive::Secret) | None => {}
            }
            if let Some(children) = &tlv.children {
                self.scan_into(children, from_code, from_exponent);
            }
            if tlv.is_raw_template() {
                self.scan_raw(tlv.value);
            }
        }
    }

    /// Content we could not parse may still hold card data (a proprietary template with a
    /// track inside): hide every Luhn-valid run of 13 to 19 digits in it, as ASCII or as BCD.
    fn scan_raw(&mut self, value: &[u8]) {
        let ascii: String = value
            .iter()
            .map(|b| {
                if b.is_ascii_digit() {
                    char::from(*b)
                } else {
                    ' '
                }
            })
            .collect();
        let bcd = hex(value).replace(|c: char| !c.is_ascii_digit(), " ");
        for text in [ascii, bcd] {
            for run in text.split(' ') {
                if (crate::card::PAN_DIGITS_MIN.max(13)..=crate::card::PAN_DIGITS_MAX)
                    .contains(&run.len())
                    && crate::card::luhn_valid(run)
                {
                    self.add_pan(run);
                }
            }
        }
    }

    /// A PAN is hidden in both of the forms it takes in hex: BCD digits and ASCII digits.
    fn add_pan(&mut self, pan: &str) {
        if pan.is_empty() || !pan.bytes().all(|b| b.is_ascii_digit()) {
            return;
        }
        self.masker.add_pan(pan);
        self.masker.add_pan(&hex(pan.as_bytes()));
    }

    fn mask(&self, text: String) -> String {
        if self.show_pan {
            text
        } else {
            self.masker.mask(&text).into_owned()
        }
    }

    /// The hex of a value with every sensitive object inside it masked, then every PAN.
    fn masked_hex(&self, tlv: &Tlv<'_>) -> String {
        let mut text = hex(tlv.value);
        if self.show_pan {
            return text;
        }
        if tlv.children.is_none() {
            return self.mask(text); // a primitive or raw value holds no decoded object
        }
        let end = tlv.value_offset + tlv.value.len();
        // `hidden` is in document order (pre-order scan), so the objects inside start here.
        let first = self
            .hidden
            .partition_point(|(offset, _)| *offset < tlv.value_offset);
        for (offset, masked) in self
            .hidden
            .iter()
            .skip(first)
            .take_while(|(offset, _)| *offset < end)
        {
            if *offset >= tlv.value_offset && *offset + masked.len() / 2 <= end {
                let at = 2 * (offset - tlv.value_offset);
                if text
                    .get(at..at + masked.len())
                    .is_some_and(|r| r.len() == masked.len())
                {
                    text.replace_range(at..at + masked.len(), masked);
                }
            }
        }
        self.mask(text)
    }

    fn node(&self, tlv: &Tlv<'_>) -> Node {
        let info = self.dict.get(tlv.tag);
        let sensitivity = if self.show_pan {
            None
        } else {
            self.dict.sensitivity(tlv.tag)
        };
        let (value, decoded, masked) = match sensitivity {
            Some(kind) => {
                let (value, decoded) = masked_value(kind, tlv.value);
                (value, decoded, true)
            }
            None => {
                let decoded = if self.show_pan && self.dict.is_sensitive(tlv.tag) {
                    clear_card_data(self.dict, tlv)
                } else {
                    self.decode_value(tlv)
                };
                (self.masked_hex(tlv), decoded.map(|d| self.mask(d)), false)
            }
        };
        Node {
            tag: tlv.tag.to_string(),
            name: info.map(|i| i.name.clone()),
            len: tlv.value.len(),
            offset: tlv.offset,
            value,
            decoded,
            masked,
            raw: tlv.is_raw_template(),
            note: tlv.raw_reason.as_ref().map(ToString::to_string),
            children: tlv
                .children
                .as_ref()
                .map(|c| c.iter().map(|t| self.node(t)).collect()),
        }
    }

    fn decode_value(&self, tlv: &Tlv<'_>) -> Option<String> {
        let info = self.dict.get(tlv.tag)?;
        let value = tlv.value;
        match info.show {
            Show::Hex => None,
            Show::Text => printable(value),
            Show::Numeric => {
                // `cn` pads with trailing F nibbles; an F anywhere else is not a digit.
                let digits = bcd_digits(value)?;
                let trimmed = digits.trim_end_matches('F');
                (!trimmed.contains('F')).then(|| trimmed.to_owned())
            }
            Show::Amount => amount(&bcd_digits(value)?, self.exponent),
            Show::Date => date(&bcd_digits(value)?),
            Show::Time => time(&bcd_digits(value)?),
            Show::Currency => {
                let digits = bcd_digits(value)?;
                let code = digits.get(digits.len().checked_sub(3)?..)?;
                self.dict.currency(code).map(|c| c.alpha.clone())
            }
            Show::Country => {
                let digits = bcd_digits(value)?;
                let code = digits.get(digits.len().checked_sub(3)?..)?;
                self.dict.country(code).map(str::to_owned)
            }
            Show::Bits => Some(bit_names(
                self.dict,
                info.bits.as_deref().unwrap_or(""),
                value,
            )),
            Show::Values => self
                .dict
                .value_name(info.values.as_deref().unwrap_or(""), &hex(value))
                .map(str::to_owned),
            Show::Cid => {
                let first = *value.first()?;
                self.dict
                    .value_name("cid", &hex(&[first & 0xC0]))
                    .map(str::to_owned)
            }
            Show::CvmResults => cvm_results(self.dict, value),
            Show::Dol => {
                let entries = dol::parse(value, &TagPath::root().child(tlv.tag)).ok()?;
                let parts: Vec<String> = entries
                    .iter()
                    .map(|e| match self.dict.get(e.tag) {
                        Some(i) => format!("{} {} ({})", e.tag, i.name, e.len),
                        None => format!("{} ({})", e.tag, e.len),
                    })
                    .collect();
                Some(if parts.is_empty() {
                    "empty".to_owned()
                } else {
                    parts.join(", ")
                })
            }
        }
    }
}

/// The value and its decoding of a sensitive tag, masked.
fn masked_value(kind: Sensitive, value: &[u8]) -> (String, Option<String>) {
    let all_hex = hex(value);
    let (digits, pad) = all_hex.split_at(all_hex.trim_end_matches('F').len());
    match kind {
        Sensitive::Pan => {
            let masked = mask_pan(digits);
            (format!("{masked}{pad}"), Some(masked))
        }
        Sensitive::Track2 => {
            let masked = mask_track(digits);
            (
                format!("{masked}{pad}"),
                Some(masked.replace(['D', 'd'], "=")),
            )
        }
        Sensitive::Track1 => {
            let masked = mask_track(&ascii_lossy(value));
            (hex(masked.as_bytes()), Some(masked))
        }
        Sensitive::Secret => (MASK_CHAR.to_string().repeat(all_hex.len()), None),
    }
}

/// Card data in the clear, for `--show-pan`.
fn clear_card_data(dict: &Dictionary, tlv: &Tlv<'_>) -> Option<String> {
    let digits = hex(tlv.value);
    match dict.sensitivity(tlv.tag)? {
        Sensitive::Pan => Some(digits.trim_end_matches('F').to_owned()),
        Sensitive::Track2 => Some(digits.trim_end_matches('F').replace('D', "=")),
        Sensitive::Track1 => Some(ascii_lossy(tlv.value)),
        Sensitive::Secret => None,
    }
}

/// BCD nibbles as characters; `None` if a nibble is A-E (F is kept, as `cn` pads with it).
fn bcd_digits(value: &[u8]) -> Option<String> {
    let digits = hex(value);
    if digits.bytes().all(|b| b.is_ascii_digit() || b == b'F') {
        Some(digits)
    } else {
        None
    }
}

fn printable(value: &[u8]) -> Option<String> {
    if value.iter().all(|b| (0x20..0x7F).contains(b)) {
        Some(value.iter().map(|b| char::from(*b)).collect())
    } else {
        None
    }
}

fn ascii_lossy(value: &[u8]) -> String {
    value
        .iter()
        .map(|b| {
            if (0x20..0x7F).contains(b) {
                char::from(*b)
            } else {
                '.'
            }
        })
        .collect()
}

/// Minor units to a decimal string with `exponent` fraction digits, without any float.
fn amount(digits: &str, exponent: Option<u8>) -> Option<String> {
    if !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let trimmed = digits.trim_start_matches('0');
    let Some(exponent) = exponent else {
        return Some(if trimmed.is_empty() {
            "0".to_owned()
        } else {
            trimmed.to_owned()
        });
    };
    let exponent = usize::from(exponent);
    let padded = format!("{trimmed:0>width$}", width = exponent + 1);
    let split = padded.len() - exponent;
    let (units, fraction) = (padded.get(..split)?, padded.get(split..)?);
    Some(if fraction.is_empty() {
        units.to_owned()
    } else {
        format!("{units}.{fraction}")
    })
}

/// YYMMDD to YYYY-MM-DD (EMV Book 4: YY below 50 is 20YY, else 19YY).
fn date(digits: &str) -> Option<String> {
    if digits.len() != 6 {
        return None;
    }
    let part = |i: usize| digits.get(i..i + 2)?.parse::<u8>().ok();
    let (yy, mm, dd) = (part(0)?, part(2)?, part(4)?);
    if !(1..=12).contains(&mm) || !(1..=31).contains(&dd) {
        return None;
    }
    let century = if yy < 50 { 20 } else { 19 };
    Some(format!("{century}{yy:02}-{mm:02}-{dd:02}"))
}

fn time(digits: &str) -> Option<String> {
    if digits.len() != 6 {
        return None;
    }
    let part = |i: usize| digits.get(i..i + 2)?.parse::<u8>().ok();
    let (hh, mm, ss) = (part(0)?, part(2)?, part(4)?);
    if hh > 23 || mm > 59 || ss > 59 {
        return None;
    }
    Some(format!("{hh:02}:{mm:02}:{ss:02}"))
}

fn bit_names(dict: &Dictionary, table: &str, value: &[u8]) -> String {
    let names = dict.bits(table);
    let mut set = Vec::new();
    for (i, byte) in value.iter().enumerate() {
        for bit in (1..=8u8).rev() {
            if byte & (1 << (bit - 1)) == 0 {
                continue;
            }
            let at = [u8::try_from(i + 1).unwrap_or(u8::MAX), bit];
            match names.iter().find(|b| b.at == at) {
                Some(b) => set.push(b.name.clone()),
                None => set.push(format!("byte {} bit {bit} (RFU)", i + 1)),
            }
        }
    }
    if set.is_empty() {
        "no bit set".to_owned()
    } else {
        set.join("; ")
    }
}

fn cvm_results(dict: &Dictionary, value: &[u8]) -> Option<String> {
    let [method, condition, result] = value else {
        return None;
    };
    let name = |table: &str, b: u8| {
        dict.value_name(table, &hex(&[b]))
            .map_or_else(|| format!("{b:02X}"), str::to_owned)
    };
    let mut out = format!("method: {}", name("cvm_method", method & 0x3F));
    if method & 0x40 != 0 {
        out.push_str(" (apply succeeding rule if unsuccessful)");
    }
    let _ = write!(
        out,
        "; condition: {}; result: {}",
        name("cvm_condition", *condition),
        name("cvm_result", *result)
    );
    Some(out)
}

impl fmt::Display for Node {
    /// The node and its children as indented text, as [`to_text`] prints them.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&to_text(std::slice::from_ref(self)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amounts_dates_and_bits() {
        assert_eq!(amount("000000000100", Some(2)).unwrap(), "1.00");
        assert_eq!(amount("000000000005", Some(3)).unwrap(), "0.005");
        assert_eq!(amount("000000012345", Some(0)).unwrap(), "12345");
        assert_eq!(amount("000000000100", None).unwrap(), "100");
        assert_eq!(amount("000000000000", None).unwrap(), "0");
        assert_eq!(date("241002").unwrap(), "2024-10-02");
        assert_eq!(date("241302"), None);
        assert_eq!(time("090932").unwrap(), "09:09:32");
        let dict = Dictionary::shipped();
        assert_eq!(
            bit_names(dict, "aip", &[0x19, 0x80]).matches("; ").count(),
            3
        );
        assert_eq!(bit_names(dict, "tvr", &[0; 5]), "no bit set");
    }

    #[test]
    fn pan_and_tracks_are_masked_everywhere() {
        // 70 { 5A 4761739001010010, 57 4761739001010010D2512201... }
        let data = crate::tlv::encode::encode(&[crate::tlv::TlvBuf::template(
            "70".parse().unwrap(),
            vec![
                crate::tlv::TlvBuf::primitive(
                    "5A".parse().unwrap(),
                    vec![0x47, 0x61, 0x73, 0x90, 0x01, 0x01, 0x00, 0x10],
                ),
                crate::tlv::TlvBuf::primitive(
                    "57".parse().unwrap(),
                    vec![
                        0x47, 0x61, 0x73, 0x90, 0x01, 0x01, 0x00, 0x10, 0xD2, 0x51, 0x22, 0x01,
                        0x1F,
                    ],
                ),
            ],
        )]);
        let nodes = tree(&data, false).unwrap();
        let json = format!("{nodes:?}{}", to_text(&nodes));
        assert!(!json.contains("4761739001010010"), "{json}");
        assert!(!json.contains("2512201"), "{json}");
        assert!(json.contains("476173******0010"));
        let clear = to_text(&tree(&data, true).unwrap());
        assert!(clear.contains("4761739001010010"));
    }
}
