//! A scanner for the canonical form this crate writes (`wire::write`): an optional
//! `<?xml …?>` declaration, unprefixed element names, a default `xmlns` on the ISO parts and
//! wrappers, plain double-quoted attributes, text escaped with the five predefined entities.
//! It feeds the validator the same calls, with the same offsets, that the quick-xml loop in
//! [`Validator::run`] makes for such input, without the general reader's work per event.
//!
//! It takes on nothing else: at the first construct outside that form (a comment, a prefix,
//! a character reference, a carriage return, a limit about to be reached, any error) it gives
//! up, and the caller validates the whole input again with quick-xml, from the start. So a
//! report or an error is always the one the quick-xml loop gives; the tests compare both.

use super::{Report, TextMode, Validator, is_xml_space};
use crate::Error;
use crate::xml::predefined_entity;

/// The namespaces a default `xmlns` may not bind (quick-xml refuses them).
const RESERVED: [&str; 2] = [
    "http://www.w3.org/XML/1998/namespace",
    "http://www.w3.org/2000/xmlns/",
];

fn is_name_start(b: u8) -> bool {
    b.is_ascii_alphabetic() || b == b'_'
}

fn is_name_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.')
}

/// Why the scanner stopped: not an error of the input, only "not canonical, read it generally".
struct GiveUp;

/// The end of the name starting at `from`, if a name starts there.
fn name_end(bytes: &[u8], from: usize) -> Option<usize> {
    if !bytes.get(from).copied().is_some_and(is_name_start) {
        return None;
    }
    let rest = bytes.get(from + 1..).unwrap_or_default();
    Some(
        from + 1
            + rest
                .iter()
                .position(|b| !is_name_byte(*b))
                .unwrap_or(rest.len()),
    )
}

impl Validator<'_> {
    /// Validates `input` if it is in canonical form; `None` if it is not (nothing reported).
    pub(super) fn run_canonical(mut self, input: &str) -> Option<Result<Report, Error>> {
        match self.scan(input) {
            Ok(()) => Some(self.report()),
            Err(GiveUp) => None,
        }
    }

    fn scan(&mut self, input: &str) -> Result<(), GiveUp> {
        let bytes = input.as_bytes();
        let limits = self.options.limits;
        let mut i = 0;
        if input.starts_with("<?xml ") {
            let end = input.find("?>").ok_or(GiveUp)?;
            if input.get(1..end).is_none_or(|d| d.contains(['<', '>'])) {
                return Err(GiveUp);
            }
            i = end + 2;
        }
        // Open elements: name and the default namespace in scope inside it.
        let mut open: Vec<(&str, &str)> = Vec::new();
        let mut attrs: Vec<(String, String, String)> = Vec::new();
        let mut last_ns: Option<&str> = None;
        let mut ns_gen: u64 = 0;
        while i < bytes.len() {
            let offset = i as u64;
            if bytes.get(i) != Some(&b'<') {
                i = self.scan_text(input, i, open.is_empty())?;
                continue;
            }
            match bytes.get(i + 1) {
                Some(b'/') => {
                    // `</` and the name of the element open, then `>`
                    let name = open.last().map_or("", |(n, _)| *n);
                    let end = i + 2 + name.len();
                    if name.is_empty()
                        || bytes.get(i + 2..end) != Some(name.as_bytes())
                        || bytes.get(end) != Some(&b'>')
                    {
                        return Err(GiveUp);
                    }
                    open.pop();
                    self.end(offset);
                    i = end + 1;
                }
                Some(_) => {
                    let name_to = name_end(bytes, i + 1).ok_or(GiveUp)?;
                    let local = input.get(i + 1..name_to).ok_or(GiveUp)?;
                    let mut ns = open.last().map_or("", |(_, ns)| *ns);
                    let (mut count, mut declares) = (0, false);
                    let mut j = name_to;
                    let empty = loop {
                        match bytes.get(j) {
                            Some(b'>') => break false,
                            Some(b'/') if bytes.get(j + 1) == Some(&b'>') => break true,
                            Some(b' ') => {}
                            _ => return Err(GiveUp),
                        }
                        // one attribute: ` name="value"`
                        let key_to = name_end(bytes, j + 1).ok_or(GiveUp)?;
                        let key = input.get(j + 1..key_to).ok_or(GiveUp)?;
                        if bytes.get(key_to..key_to + 2) != Some(b"=\"".as_slice()) {
                            return Err(GiveUp);
                        }
                        let value_from = key_to + 2;
                        let value_len = bytes
                            .get(value_from..)
                            .and_then(|rest| rest.iter().position(|b| *b == b'"'))
                            .ok_or(GiveUp)?;
                        let value = input
                            .get(value_from..value_from + value_len)
                            .ok_or(GiveUp)?;
                        if value
                            .bytes()
                            .any(|b| matches!(b, b'&' | b'<' | b'>' | b'\t' | b'\n' | b'\r'))
                        {
                            return Err(GiveUp);
                        }
                        if count + usize::from(declares) + 1 >= limits.attributes_max {
                            return Err(GiveUp);
                        }
                        if key == "xmlns" {
                            if declares || RESERVED.contains(&value) {
                                return Err(GiveUp);
                            }
                            declares = true;
                            ns = value;
                        } else {
                            let n = count;
                            count += 1;
                            if attrs.len() <= n {
                                attrs.push(Default::default());
                            }
                            let Some((a_ns, a_local, a_value)) = attrs.get_mut(n) else {
                                return Err(GiveUp);
                            };
                            a_ns.clear();
                            a_local.clear();
                            a_local.push_str(key);
                            a_value.clear();
                            a_value.push_str(value);
                        }
                        j = value_from + value_len + 1;
                    };
                    // Each attribute once (quick-xml refuses duplicates).
                    let these = attrs.get(..count).ok_or(GiveUp)?;
                    if these
                        .iter()
                        .enumerate()
                        .any(|(k, (_, a, _))| these.iter().skip(k + 1).any(|(_, b, _)| a == b))
                    {
                        return Err(GiveUp);
                    }
                    if self.elements >= limits.elements_max || self.depth >= limits.depth_max {
                        return Err(GiveUp);
                    }
                    self.elements += 1;
                    if last_ns != Some(ns) {
                        ns_gen += 1;
                        last_ns = Some(ns);
                    }
                    self.start(offset, ns, ns_gen, local, these)
                        .map_err(|_| GiveUp)?;
                    if empty {
                        self.end(offset);
                        i = j + 2;
                    } else {
                        open.push((local, ns));
                        i = j + 1;
                    }
                }
                None => return Err(GiveUp),
            }
        }
        if open.is_empty() { Ok(()) } else { Err(GiveUp) }
    }

    /// Text from `from` to the next `<`, in runs and predefined entities as quick-xml splits
    /// it; returns where it ends.
    fn scan_text(&mut self, input: &str, from: usize, outside: bool) -> Result<usize, GiveUp> {
        let limits = self.options.limits;
        let end = input
            .as_bytes()
            .get(from..)
            .and_then(|rest| rest.iter().position(|b| *b == b'<'))
            .map_or(input.len(), |k| from + k);
        let text = input.get(from..end).ok_or(GiveUp)?;
        if text.contains('\r') || (outside && !is_xml_space(text)) {
            return Err(GiveUp);
        }
        let mut at = from;
        for (k, piece) in text.split('&').enumerate() {
            let mut run = piece;
            if k > 0 {
                // `&name;` ends the previous run; the text goes on after the `;`
                let semi = piece.find(';').ok_or(GiveUp)?;
                let name = piece.get(..semi).ok_or(GiveUp)?;
                let ch = predefined_entity(name).ok_or(GiveUp)?;
                let mut tmp = [0u8; 4];
                self.text(at as u64, ch.encode_utf8(&mut tmp), limits)
                    .map_err(|_| GiveUp)?;
                at += semi + 2; // `&`, name, `;`
                run = piece.get(semi + 1..).ok_or(GiveUp)?;
            }
            if !run.is_empty() {
                let offset = at as u64;
                match self.text_mode() {
                    TextMode::Ignore => {}
                    TextMode::ElementsOnly => {
                        if !is_xml_space(run) {
                            self.unexpected_text(offset);
                        }
                    }
                    TextMode::Collect => self.text(offset, run, limits).map_err(|_| GiveUp)?,
                }
                at += run.len();
            }
        }
        Ok(end)
    }
}

#[cfg(test)]
mod tests {
    use super::super::{Options, Validator, validate_bytes, validate_str};

    fn outcome(result: Result<super::Report, crate::Error>) -> String {
        match result {
            Ok(r) => format!("{:?} {:?} {:?}", r.envelope, r.parts, r.violations),
            Err(e) => format!("error: {e} ({e:?})"),
        }
    }

    /// Every message the crate reads and writes back without foreign attributes (such as
    /// `xsi:schemaLocation`) is taken by the scanner, which reports exactly what the quick-xml
    /// loop reports on the same bytes; the others fall back and report the same too.
    #[test]
    fn written_messages_take_the_canonical_path_and_report_the_same() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../fixtures/iso20022");
        let sepa = crate::rules::RulePack::shipped("sepa").unwrap();
        let mut taken = 0;
        for sub in ["ok", "err", "pack", "refused", "envelopes", "roundtrip"] {
            let Ok(entries) = std::fs::read_dir(dir.join(sub)) else {
                continue;
            };
            for entry in entries {
                let path = entry.unwrap().path();
                let Ok(text) = std::fs::read_to_string(&path) else {
                    continue;
                };
                let Ok(message) = crate::wire::read(&text) else {
                    continue;
                };
                let foreign = message.document.attrs.iter().any(|a| !a.ns.is_empty())
                    || message.envelope.kind != crate::wire::EnvelopeKind::Bare;
                let xml = crate::wire::write(&message);
                for options in [
                    Options::default(),
                    Options {
                        pack: Some(&sepa),
                        ..Options::default()
                    },
                ] {
                    let fast = Validator::new(&options).run_canonical(&xml);
                    assert!(
                        fast.is_some() || foreign,
                        "{}: written form not taken by the scanner",
                        path.display()
                    );
                    let expected = outcome(validate_bytes(xml.as_bytes(), &options));
                    assert_eq!(outcome(validate_str(&xml, &options)), expected);
                    if let Some(fast) = fast {
                        assert_eq!(outcome(fast), expected, "{}", path.display());
                        taken += 1;
                    }
                }
            }
        }
        assert!(taken >= 20, "only {taken} written messages compared");
    }

    /// Input outside the canonical form falls back to quick-xml and reports what it reports.
    #[test]
    fn anything_else_falls_back() {
        let options = Options::default();
        assert_eq!(
            outcome(validate_str("", &options)),
            outcome(validate_bytes(b"", &options))
        );
        for input in [
            "<!-- c --><Document/>",
            "<a:Document xmlns:a=\"urn:iso:std:iso:20022:tech:xsd:pacs.008.001.08\"/>",
            "<Document xmlns=\"urn:iso:std:iso:20022:tech:xsd:pacs.008.001.08\"><FIToFICstmrCdtTrf>",
            "<Document xmlns=\"urn:iso:std:iso:20022:tech:xsd:pacs.008.001.08\" xmlns=\"x\"/>",
            "<Document a=\"1\" a=\"2\"/>",
            "<Document>&#65;</Document>",
            "<Document>&nope;</Document>",
            "<Document></Other>",
            "text<Document/>",
        ] {
            assert!(
                Validator::new(&options).run_canonical(input).is_none(),
                "{input:?} taken"
            );
            assert_eq!(
                outcome(validate_str(input, &options)),
                outcome(validate_bytes(input.as_bytes(), &options)),
                "{input:?}"
            );
        }
    }

    /// The canonical form of two fixtures, written by this crate.
    fn written() -> Vec<String> {
        [
            include_str!("../../../fixtures/iso20022/ok/pain.001.001.09_single_eur.xml"),
            include_str!("../../../fixtures/iso20022/ok/camt.053.001.08_two_entries.xml"),
        ]
        .iter()
        .map(|text| {
            let mut message = crate::wire::read(text).unwrap();
            message.document.attrs.clear();
            crate::wire::write(&message)
        })
        .collect()
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(512))]

        /// Mutations of a written message (markup characters included) give the report or
        /// the error quick-xml gives, whether the scanner takes them or falls back.
        #[test]
        fn mutated_written_messages_report_what_quick_xml_reports(
            which in 0..2usize,
            cut in 0..4000usize,
            edits in proptest::collection::vec(
                (0..4000usize, proptest::sample::select(b"<>/&;=\" amp:xA1\r\n\t".to_vec())),
                0..4,
            ),
        ) {
            let texts = written();
            let mut bytes = texts[which].as_bytes().to_vec();
            assert!(Validator::new(&Options::default()).run_canonical(&texts[which]).is_some());
            for (at, b) in edits {
                let len = bytes.len();
                if let Some(slot) = bytes.get_mut(at % len) {
                    *slot = b;
                }
            }
            bytes.truncate(cut.max(1) * bytes.len() / 4000);
            if let Ok(text) = std::str::from_utf8(&bytes) {
                let options = Options::default();
                proptest::prop_assert_eq!(
                    outcome(validate_str(text, &options)),
                    outcome(validate_bytes(text.as_bytes(), &options))
                );
            }
        }
    }
}
