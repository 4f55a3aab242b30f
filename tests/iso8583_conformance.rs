//! The public ISO 8583 vectors in the shared conformance folder (jPOS packager images and moov
//! samples): decode gives exactly the published values, pack gives back the published bytes,
//! and cut copies fail naming the field they end in.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test helpers may fail loudly

mod common;

use std::path::PathBuf;

use emv::iso8583::{Dialect, Error, FieldPath, Message, Mti, Value, pack, unpack};

fn jpos(name: &str) -> PathBuf {
    common::conformance()
        .join("iso8583")
        .join("jpos")
        .join(name)
}

fn moov(name: &str) -> PathBuf {
    common::conformance()
        .join("iso8583")
        .join("moov")
        .join(name)
}

/// `(id, value, is_binary)` of each `<field id=".." value=".." [type="binary"]/>` line.
fn jpos_fields(name: &str) -> Vec<(u16, String, bool)> {
    let text = std::fs::read_to_string(jpos(name)).unwrap();
    let attr = |line: &str, key: &str| -> Option<String> {
        let start = line.find(&format!("{key}=\""))? + key.len() + 2;
        let len = line.get(start..)?.find('"')?;
        line.get(start..start + len).map(str::to_owned)
    };
    text.lines()
        .filter(|l| l.trim_start().starts_with("<field "))
        .map(|l| {
            let id = attr(l, "id").unwrap().parse().unwrap();
            (
                id,
                attr(l, "value").unwrap(),
                attr(l, "type").as_deref() == Some("binary"),
            )
        })
        .collect()
}

/// The values as decode shows them: binary fields as uppercase hex (a text value set on a
/// binary field is its bytes, as jPOS packs it).
fn expected(dialect: &Dialect, name: &str) -> (String, Vec<(u16, String)>) {
    let mut mti = String::new();
    let mut fields = Vec::new();
    for (id, value, binary) in jpos_fields(name) {
        if id == 0 {
            mti = value;
            continue;
        }
        let spec = dialect.field(id).unwrap();
        let shown = if binary {
            value.to_uppercase()
        } else if spec.is_binary() {
            emv::iso8583::to_hex(value.as_bytes())
        } else {
            value
        };
        fields.push((id, shown));
    }
    (mti, fields)
}

fn shown(message: &Message<'_>) -> Vec<(u16, String)> {
    message
        .fields()
        .map(|(n, v)| (n, v.to_display().into_owned()))
        .collect()
}

fn build(dialect: &Dialect, mti: &str, fields: &[(u16, String)]) -> Message<'static> {
    let mut message = Message::new(Mti::parse(mti).unwrap());
    for (n, text) in fields {
        message.set(
            *n,
            Value::from_display(dialect.field(*n).unwrap(), text).unwrap(),
        );
    }
    message
}

fn field_of(error: &Error) -> Option<FieldPath> {
    error.path()
}

#[test]
fn jpos_images_decode_to_the_published_values_and_pack_back() {
    for (image, dialect, values) in [
        ("ISO87APackager.bin", "iso87ascii", "ISO87.fields.xml"),
        ("ISO87BPackager.bin", "iso87binary", "ISO87.fields.xml"),
        ("ISO93APackager.bin", "iso93ascii", "ISO93.fields.xml"),
    ] {
        let dialect = Dialect::shipped(dialect).unwrap();
        let wire = std::fs::read(jpos(image)).unwrap();
        let (mti, want) = expected(&dialect, values);
        let message = unpack(&dialect, &wire).unwrap_or_else(|e| panic!("{image}: {e}"));
        assert_eq!(message.mti().as_str(), mti, "{image}");
        assert_eq!(shown(&message), want, "{image}");
        assert_eq!(
            pack(&dialect, &build(&dialect, &mti, &want)).unwrap(),
            wire,
            "{image}: pack"
        );

        // every cut copy fails (never panics) naming a field, and the last cut names field 90
        for cut in 0..wire.len() {
            let error = unpack(&dialect, &wire[..cut]).expect_err("a cut copy must not decode");
            assert!(error.path().is_some(), "{image} cut at {cut}: {error}");
        }
        let error = unpack(&dialect, &wire[..wire.len() - 3]).unwrap_err();
        assert_eq!(
            field_of(&error),
            Some(FieldPath::Field(90)),
            "{image}: {error}"
        );
        assert!(!error.to_string().contains("1234567890123456"), "{error}");
    }
}

#[test]
fn moov_reversal_decodes_to_its_json_and_packs_back() {
    let dialect = Dialect::shipped("iso87ascii").unwrap();
    let wire = std::fs::read(moov("iso_reversal_message.dat")).unwrap();
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(moov("iso_reversal_message.json")).unwrap())
            .unwrap();
    let want: Vec<(u16, String)> = {
        let mut v: Vec<(u16, String)> = json["elements"]
            .as_object()
            .unwrap()
            .iter()
            .map(|(k, v)| (k.parse().unwrap(), v.as_str().unwrap().to_owned()))
            .filter(|(k, _)| *k > 1)
            .collect();
        v.sort();
        v
    };
    let message = unpack(&dialect, &wire).unwrap();
    assert_eq!(message.mti().as_str(), "0400");
    assert_eq!(shown(&message), want);
    assert_eq!(pack(&dialect, &message).unwrap(), wire);
    let described = message.describe(&dialect).to_string();
    assert!(!described.contains("1111111110000000000"), "{described}");
}

#[test]
fn moov_samples_decode_and_pack_back() {
    let dialect = Dialect::shipped("iso87ascii").unwrap();
    for name in [
        "financial_transaction_message.dat",
        "network_management_message.dat",
        "iso_reversal_message_error_date.dat",
        "iso_reversal_message_advice_missing_field.dat",
    ] {
        let wire = std::fs::read(moov(name)).unwrap();
        let message = unpack(&dialect, &wire).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(pack(&dialect, &message).unwrap(), wire, "{name}");
    }
}

#[test]
fn moov_negatives_name_the_field() {
    let dialect = Dialect::shipped("iso87ascii").unwrap();
    let wire = std::fs::read(moov("iso_reversal_message_advice_missing_field.dat")).unwrap();
    let error = unpack(&dialect, &wire[..wire.len() - 2]).unwrap_err();
    assert_eq!(error.path(), Some(FieldPath::Field(25)), "{error}");
    // EBCDIC bytes where the ASCII dialect expects text in field 42
    let wire = std::fs::read(moov("message_with_character_ebcdic_encoding.dat")).unwrap();
    let error = unpack(&dialect, &wire).unwrap_err();
    assert_eq!(error.path(), Some(FieldPath::Field(42)), "{error}");
}

#[test]
fn cli_contract_essentials() {
    let wire = std::fs::read(jpos("ISO87APackager.bin")).unwrap();
    let hex = emv::iso8583::to_hex(&wire);
    let out = common::clearway()
        .args([
            "iso8583",
            "decode",
            "--dialect",
            "ISO87ASCII",
            "--hex",
            &hex,
            "--json",
        ])
        .output()
        .unwrap();
    assert!(out.status.success());
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert!(
        stdout.starts_with("{\"mti\":\"0800\",\"fields\":{\"2\":\"123456*********6789\""),
        "{stdout}"
    );
    assert!(!stdout.contains("1234567890123456"), "{stdout}");
    let out = common::clearway()
        .args(["iso8583", "decode", "--hex", "", "--json"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(3));
    assert!(String::from_utf8(out.stderr).unwrap().contains("MTI"));
    let out = common::clearway()
        .args(["iso8583", "dialects"])
        .output()
        .unwrap();
    let listed = String::from_utf8(out.stdout).unwrap();
    assert_eq!(
        listed
            .lines()
            .map(|l| l.split_whitespace().next().unwrap())
            .collect::<Vec<_>>(),
        ["iso87ascii", "iso87binary", "iso93ascii"]
    );
    // --framed: a 2-byte binary length header before the message
    let decode_framed = |framed: &[u8]| {
        common::clearway()
            .args([
                "iso8583",
                "decode",
                "--hex",
                &emv::iso8583::to_hex(framed),
                "--framed",
                "--json",
            ])
            .output()
            .unwrap()
    };
    let mut framed = vec![0u8, 0];
    framed.extend_from_slice(b"0800200000000000000000000");
    framed[1] = u8::try_from(framed.len() - 2).unwrap();
    let out = decode_framed(&framed);
    assert!(!out.status.success(), "field 3 is 6 digits, 5 given");
    framed.push(b'1');
    framed[1] += 1;
    let out = decode_framed(&framed);
    assert_eq!(
        String::from_utf8(out.stdout).unwrap(),
        "{\"mti\":\"0800\",\"fields\":{\"3\":\"000001\"}}\n"
    );
}
