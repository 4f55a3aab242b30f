//! Golden fixtures in `fixtures/iso8583/<dialect>/{ok,err}/`: ok messages decode, re-encode to
//! the same bytes and match their JSON twin; their masked description is snapshotted. err
//! messages fail, and the error (which never carries field data) is snapshotted.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test helpers may fail loudly

mod common;

use std::path::Path;

use emv::iso8583::{Dialect, Message, Mti, Value, pack, parse_hex, unpack};

fn dialect_of(path: &Path) -> Dialect {
    let name = path
        .parent()
        .and_then(Path::parent)
        .and_then(Path::file_name)
        .unwrap()
        .to_str()
        .unwrap();
    Dialect::shipped(name).unwrap()
}

fn read_hex(path: &Path) -> Vec<u8> {
    let text: String = std::fs::read_to_string(path)
        .unwrap()
        .split_whitespace()
        .collect();
    parse_hex(&text).unwrap()
}

fn from_json(dialect: &Dialect, path: &Path) -> Message<'static> {
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let mut message = Message::new(Mti::parse(json["mti"].as_str().unwrap()).unwrap());
    for (key, value) in json["fields"].as_object().unwrap() {
        let number: u16 = key.parse().unwrap();
        let spec = dialect.field(number).unwrap();
        message.set(
            number,
            Value::from_display(spec, value.as_str().unwrap()).unwrap(),
        );
    }
    message
}

#[test]
fn ok_fixtures_roundtrip_and_describe_masked() {
    insta::glob!("../fixtures/iso8583", "*/ok/*.hex", |path| {
        let dialect = dialect_of(path);
        let wire = read_hex(path);
        let message = unpack(&dialect, &wire).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        assert_eq!(
            pack(&dialect, &message).unwrap(),
            wire,
            "{}: re-encode",
            path.display()
        );
        let twin = path.with_extension("json");
        if twin.exists() {
            assert_eq!(
                from_json(&dialect, &twin),
                message,
                "{}: JSON twin",
                path.display()
            );
        }
        let described = message.describe(&dialect).to_string();
        assert!(
            !described.contains("4761739001010010"),
            "PAN in the clear: {described}"
        );
        insta::assert_snapshot!(described);
    });
}

#[test]
fn err_fixtures_fail_naming_the_place() {
    insta::glob!("../fixtures/iso8583", "*/err/*.hex", |path| {
        let dialect = dialect_of(path);
        let wire = read_hex(path);
        let error = unpack(&dialect, &wire).expect_err("an err fixture must not decode");
        let text = error.to_string();
        assert!(
            !text.contains("4761739001"),
            "card digits in an error: {text}"
        );
        insta::assert_snapshot!(text);
    });
}
