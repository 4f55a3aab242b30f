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
