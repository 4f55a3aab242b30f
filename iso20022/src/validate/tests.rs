//! No input panics: truncations and byte mutations of valid messages, and arbitrary bytes, give a
//! report or an error, never a panic.

use proptest::prelude::*;

use super::{Options, validate_bytes};

const PAIN: &str = include_str!("../../../fixtures/iso20022/ok/pain.001.001.09_single_eur.xml");
const CAMT: &str = include_str!("../../../fixtures/iso20022/ok/camt.053.001.08_two_entries.xml");

fn run(bytes: &[u8]) {
    let _ = validate_bytes(bytes, &Options::default());
    let _ = validate_bytes(
        bytes,
        &Options {
            schema_only: true,
            ..Options::default()
        },
    );
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn mutated_messages_never_panic(
        which in 0..2usize,
        cut in 0..4000usize,
        edits in proptest::collection::vec((0..4000usize, any::<u8>()), 0..8),
    ) {
        let mut bytes = if which == 0 { PAIN.as_bytes().to_vec() } else { CAMT.as_bytes().to_vec() };
        for (at, b) in edits {
            let len = bytes.len();
            if let Some(slot) = bytes.get_mut(at % len) {
                *slot = b;
            }
        }
        bytes.truncate(cut.max(1) * bytes.len() / 4000);
        run(&bytes);
    }

    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
        run(&bytes);
    }

    #[test]
    fn arbitrary_text_in_a_field_never_panics(text in "\\PC{0,80}") {
        let escaped = text.replace('&', "&amp;").replace('<', "&lt;");
        run(PAIN.replace("PMT-0001", &escaped).as_bytes());
        run(CAMT.replace("1000.00", &escaped).as_bytes());
    }
}

#[test]
fn ok_fixtures_are_valid_and_mutations_are_reported() {
    let report = validate_bytes(PAIN.as_bytes(), &Options::default()).unwrap();
    assert!(report.is_valid(), "{:?}", report.violations);
    let cut = PAIN.get(..PAIN.len() / 2).unwrap_or_default();
    let err = validate_bytes(cut.as_bytes(), &Options::default()).unwrap_err();
    assert!(err.to_string().contains("at byte"), "{err}");
}

/// `CAMT` with every element name given the prefix `d`, bound instead of the default namespace.
fn camt_prefixed() -> String {
    let mut out = String::new();
    let mut rest = CAMT;
    while let Some(i) = rest.find('<') {
        let (head, tail) = rest.split_at(i);
        out.push_str(head);
        out.push('<');
        let tail = tail.get(1..).unwrap_or_default();
        match tail.as_bytes().first() {
            Some(b'/') => out.push_str("/d:"),
            Some(b) if b.is_ascii_alphabetic() => out.push_str("d:"),
            _ => {}
        }
        rest = tail.strip_prefix('/').unwrap_or(tail);
    }
    out.push_str(rest);
    out.replace("xmlns=", "xmlns:d=")
}

/// The validator resolves namespaces itself (a resolver scope only where a tag declares one,
/// the last lookup cached): a prefix, a rebinding on an inner element, its end, an unbound
/// prefix and a forbidden declaration must give what namespace-aware reading says.
#[test]
fn namespaces_resolve_like_a_namespace_aware_reader() {
    let options = Options::default();
    let plain = validate_bytes(CAMT.as_bytes(), &options).unwrap();
    assert!(plain.is_valid(), "{:?}", plain.violations);

    let prefixed = camt_prefixed();
    assert!(prefixed.contains("<d:GrpHdr>") && prefixed.contains("</d:Document>"));
    let report = validate_bytes(prefixed.as_bytes(), &options).unwrap();
    assert!(report.is_valid(), "{:?}", report.violations);
    assert_eq!(report.parts, plain.parts);

    // An element of another namespace, empty and with content, then the ISO siblings again:
    // one violation each, and the bindings of the outer scope are back after them.
    for foreign in [
        r#"<MsgId xmlns="urn:example:other"/>"#,
        r#"<MsgId xmlns="urn:example:other"><Inner>x</Inner></MsgId>"#,
    ] {
        let text = CAMT.replacen("<GrpHdr>", &format!("<GrpHdr>{foreign}"), 1);
        let report = validate_bytes(text.as_bytes(), &options).unwrap();
        let rules: Vec<&str> = report.violations.iter().map(|v| v.rule.as_str()).collect();
        assert_eq!(
            rules,
            ["XSD-UNEXPECTED-ELEMENT"],
            "{foreign}: {:?}",
            report.violations
        );
        let v = report.violations.first().unwrap();
        assert_eq!(v.path, "/Document/BkToCstmrStmt/GrpHdr/MsgId");
    }
    // The same local name bound to the ISO namespace through a prefix is just the element.
    let text = prefixed.replacen(
        "<d:MsgId>",
        r#"<e:MsgId xmlns:e="urn:iso:std:iso:20022:tech:xsd:camt.053.001.08">"#,
        1,
    );
    let text = text.replacen("</d:MsgId>", "</e:MsgId>", 1);
    let report = validate_bytes(text.as_bytes(), &options).unwrap();
    assert!(report.is_valid(), "{:?}", report.violations);

    let unbound = CAMT.replacen("<GrpHdr>", "<GrpHdr><x:MsgId/>", 1);
    let err = validate_bytes(unbound.as_bytes(), &options).unwrap_err();
    assert!(
        matches!(&err, crate::Error::Xml { kind: crate::XmlErrorKind::UnboundPrefix(p), .. } if p == "x"),
        "{err}"
    );

    let forbidden = CAMT.replacen("<GrpHdr>", r#"<GrpHdr xmlns:xml="urn:wrong">"#, 1);
    let err = validate_bytes(forbidden.as_bytes(), &options).unwrap_err();
    assert_eq!(
        err.rule(),
        crate::Error::Xml {
            path: String::new(),
            offset: 0,
            kind: crate::XmlErrorKind::Syntax(String::new()),
        }
        .rule(),
        "{err}"
    );
}

/// What a validation gave, in a form two runs can be compared by.
fn outcome(result: Result<super::Report, crate::Error>) -> String {
    match result {
        Ok(report) => format!(
            "{:?} {:?} {:?}",
            report.envelope, report.parts, report.violations
        ),
        Err(e) => format!("error: {e} ({e:?})"),
    }
}

/// `validate_str` reads events straight from the string; `validate_bytes` copies each into a
/// buffer. Both must give the same report or error, with every pack and without.
fn same_in_memory(text: &str) -> Result<(), TestCaseError> {
    let sepa = crate::rules::RulePack::shipped("sepa").unwrap();
    let cbpr = crate::rules::RulePack::shipped("cbpr+").unwrap();
    for options in [
        Options::default(),
        Options {
            schema_only: true,
            ..Options::default()
        },
        Options {
            pack: Some(&sepa),
            ..Options::default()
        },
        Options {
            pack: Some(&cbpr),
            ..Options::default()
        },
    ] {
        prop_assert_eq!(
            outcome(super::validate_str(text, &options)),
            outcome(validate_bytes(text.as_bytes(), &options))
        );
    }
    Ok(())
}

#[test]
fn in_memory_validation_reports_what_buffered_validation_does_on_every_fixture() {
    fn walk(dir: &std::path::Path, out: &mut Vec<std::path::PathBuf>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                walk(&path, out);
            } else if path.extension().is_some_and(|e| e == "xml") {
                out.push(path);
            }
        }
    }
    let mut files = Vec::new();
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    walk(&root.join("fixtures/iso20022"), &mut files);
    let mut compared = 0;
    for file in &files {
        let bytes = std::fs::read(file).unwrap();
        if let Ok(text) = std::str::from_utf8(&bytes) {
            same_in_memory(text)
                .map_err(|e| format!("{}: {e}", file.display()))
                .unwrap();
            compared += 1;
        }
    }
    assert!(compared >= 30, "only {compared} fixtures compared");
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn in_memory_validation_reports_what_buffered_validation_does_on_mutations(
        which in 0..2usize,
        cut in 0..4000usize,
        edits in proptest::collection::vec((0..4000usize, 0x20u8..0x7f), 0..8),
    ) {
        let mut bytes = if which == 0 { PAIN.as_bytes().to_vec() } else { CAMT.as_bytes().to_vec() };
        for (at, b) in edits {
            let len = bytes.len();
            if let Some(slot) = bytes.get_mut(at % len) {
                *slot = b;
            }
        }
        bytes.truncate(cut.max(1) * bytes.len() / 4000);
        if let Ok(text) = std::str::from_utf8(&bytes) {
            same_in_memory(text)?;
        }
    }
}
