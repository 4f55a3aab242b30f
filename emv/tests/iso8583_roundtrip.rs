//! Property tests: for every shipped dialect, any message whose values fit their fields packs
//! and unpacks to itself; and no input, however broken, makes unpack panic.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test helpers may fail loudly

use std::borrow::Cow;

use emv::iso8583::{
    Dialect, Encoding, FieldSpec, FieldType, LengthKind, Message, Mti, Value, pack, parse_hex,
    unpack,
};
use proptest::prelude::*;

fn text_of(alphabet: &'static [u8], len: usize) -> impl Strategy<Value = String> {
    proptest::collection::vec(proptest::sample::select(alphabet), len)
        .prop_map(|bytes| bytes.into_iter().map(char::from).collect())
}

const DIGITS: &[u8] = b"0123456789";
const TRACK2: &[u8] = b"0123456789=";
const AN: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789 ";
const ANS: &[u8] = b" !\"#$%&'()*+,-./0123456789:;<=>?@ABCDEFGHIJKLMNOPQRSTUVWXYZ[\\]^_`abcdefghijklmnopqrstuvwxyz{|}~";

/// A value that fits `spec`: the fixed length, or up to 40 units of a variable one.
fn value_for(spec: &FieldSpec) -> BoxedStrategy<Value<'static>> {
    let lengths = match spec.length {
        LengthKind::Fixed => spec.max..=spec.max,
        _ => 0..=spec.max.min(40),
    };
    let field_type = spec.field_type;
    let ebcdic = spec.encoding == Encoding::Ebcdic;
    lengths
        .prop_flat_map(move |len| -> BoxedStrategy<Value<'static>> {
            let text =
                |s: BoxedStrategy<String>| s.prop_map(|t| Value::Text(Cow::Owned(t))).boxed();
            match field_type {
                FieldType::B => proptest::collection::vec(any::<u8>(), len)
                    .prop_map(|b| Value::Bytes(Cow::Owned(b)))
                    .boxed(),
                FieldType::N => text(text_of(DIGITS, len).boxed()),
                FieldType::Z => text(text_of(TRACK2, len).boxed()),
                FieldType::An => text(text_of(AN, len).boxed()),
                FieldType::Ans | FieldType::Track if ebcdic => text(text_of(AN, len).boxed()),
                FieldType::Ans | FieldType::Track => text(text_of(ANS, len).boxed()),
                FieldType::Xn => text(
                    (
                        proptest::sample::select(&b"CD0123456789"[..]),
                        text_of(DIGITS, len.saturating_sub(1)),
                    )
                        .prop_map(move |(sign, digits)| {
                            if len == 0 {
                                String::new()
                            } else {
                                format!("{}{digits}", char::from(sign))
                            }
                        })
                        .boxed(),
                ),
            }
        })
        .boxed()
}

fn message_for(dialect: &'static Dialect) -> impl Strategy<Value = Message<'static>> {
    let specs: Vec<&'static FieldSpec> = dialect.fields().collect();
    let mtis = text_of(DIGITS, 4);
    (
        mtis,
        proptest::sample::subsequence(specs.clone(), 0..=specs.len().min(30)),
    )
        .prop_flat_map(|(mti, chosen)| {
            let values: Vec<_> = chosen
                .into_iter()
                .map(|spec| value_for(spec).prop_map(move |v| (spec.number, v)))
                .collect();
            (Just(mti), values)
        })
        .prop_map(|(mti, values)| {
            let mut message = Message::new(Mti::parse(&mti).expect("four digits"));
            for (number, value) in values {
                message.set(number, value);
            }
            message
        })
}

fn shipped(name: &str) -> &'static Dialect {
    Box::leak(Box::new(
        Dialect::shipped(name).expect("shipped dialect loads"),
    ))
}

fn roundtrip(dialect: &Dialect, message: &Message<'_>) -> Result<(), TestCaseError> {
    let wire = pack(dialect, message).map_err(|e| TestCaseError::fail(e.to_string()))?;
    let back = unpack(dialect, &wire).map_err(|e| TestCaseError::fail(e.to_string()))?;
    prop_assert_eq!(&back, message);
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    #[test]
    fn iso87ascii_roundtrips(m in message_for(shipped("iso87ascii"))) {
        roundtrip(shipped("iso87ascii"), &m)?;
    }

    #[test]
    fn iso87binary_roundtrips(m in message_for(shipped("iso87binary"))) {
        roundtrip(shipped("iso87binary"), &m)?;
    }

    #[test]
    fn iso93ascii_roundtrips(m in message_for(shipped("iso93ascii"))) {
        roundtrip(shipped("iso93ascii"), &m)?;
    }

    #[test]
    fn describe_and_debug_never_show_a_pan(m in message_for(shipped("iso87binary")), pan in "[0-9]{13,19}") {
        let dialect = shipped("iso87binary");
        let mut m = m;
        m.set(2, Value::Text(pan.clone().into()));
        // the same digits elsewhere too: a private field and the chip data
        m.set(48, Value::Text(format!("REF{pan}X").into()));
        m.set(55, Value::Bytes(parse_hex(&format!("5A{:02X}{pan}{}", pan.len().div_ceil(2), if pan.len() % 2 == 1 { "F" } else { "" })).unwrap().into()));
        let described = m.describe(dialect).to_string();
        prop_assert!(!described.contains(&pan), "{}", described);
        let debug = format!("{m:?}");
        prop_assert!(!debug.contains(&pan), "{}", debug);
    }

    #[test]
    fn unpack_never_panics_on_any_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..300)) {
        for name in Dialect::shipped_names() {
            let _ = unpack(shipped(name), &bytes);
        }
    }

    #[test]
    fn unpack_never_panics_on_damaged_messages(
        m in message_for(shipped("iso87binary")),
        flips in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..4),
        cut in any::<prop::sample::Index>(),
    ) {
        for name in Dialect::shipped_names() {
            let dialect = shipped(name);
            let Ok(mut wire) = pack(dialect, &m) else { continue };
            for (at, byte) in &flips {
                let i = at.index(wire.len());
                wire[i] = *byte;
            }
            let _ = unpack(dialect, &wire);
            let _ = unpack(dialect, &wire[..cut.index(wire.len() + 1)]);
        }
    }
}

#[test]
fn encode_refuses_values_that_do_not_fit_naming_the_field() {
    let dialect = Dialect::shipped("iso87ascii").unwrap();
    let mut m = Message::new(Mti::parse("0100").unwrap());
    m.set(2, Value::Text("47617390010100100000".into()));
    assert_eq!(
        pack(&dialect, &m).unwrap_err().to_string(),
        "field 2: value has 20 digits, more than the maximum 19"
    );
    let mut m = Message::new(Mti::parse("0100").unwrap());
    m.set(3, Value::Text("00A000".into()));
    assert_eq!(
        pack(&dialect, &m).unwrap_err().to_string(),
        "field 3: character 2 of the value is not allowed (expected digits)"
    );
    let mut m = Message::new(Mti::parse("0100").unwrap());
    m.set(4, Value::Text("100".into()));
    assert_eq!(
        pack(&dialect, &m).unwrap_err().to_string(),
        "field 4: value has 3 digits, the field is fixed at 12"
    );
    let mut m = Message::new(Mti::parse("0100").unwrap());
    m.set(52, Value::Text("1234".into()));
    assert!(
        pack(&dialect, &m)
            .unwrap_err()
            .to_string()
            .starts_with("field 52: wrong kind of value")
    );
    let mut m = Message::new(Mti::parse("0100").unwrap());
    m.set(129, Value::Text("1".into()));
    assert!(
        pack(&dialect, &m)
            .unwrap_err()
            .to_string()
            .starts_with("field 129:")
    );
}

#[test]
fn tertiary_bitmap_and_ebcdic_from_a_runtime_dialect() {
    let text = r#"
description = "test dialect with a tertiary bitmap"
mti = "ebcdic"
bitmap = "binary"
tertiary_bitmap = true

[[field]]
number = 2
name = "PAN"
type = "n"
length = "LL"
max = 19
prefix = "binary"
encoding = "bcd"
pad = "right"
pad_nibble = 15
sensitive = "pan"

[[field]]
number = 70
name = "Network code"
type = "n"
length = "fixed"
max = 3
encoding = "ebcdic"

[[field]]
number = 150
name = "Private text"
type = "ans"
length = "LLLL"
max = 2000
prefix = "ebcdic"
encoding = "ebcdic"
"#;
    let dialect = Dialect::from_toml("tertiary", text).unwrap();
    let mut m = Message::new(Mti::parse("0800").unwrap());
    m.set(2, Value::Text("4761739001010010123".into()));
    m.set(70, Value::Text("301".into()));
    m.set(150, Value::Text("HELLO, WORLD".into()));
    let wire = pack(&dialect, &m).unwrap();
    assert_eq!(wire.get(..4), Some(&[0xF0, 0xF8, 0xF0, 0xF0][..]));
    assert_eq!(unpack(&dialect, &wire).unwrap(), m);
    assert!(m.bitmap().is_set(65) && m.bitmap().is_set(1));
    let debug = format!("{m:?}");
    assert!(!debug.contains("4761739001010010123"), "{debug}");
    assert!(debug.contains("476173*********0123"), "{debug}");
}
