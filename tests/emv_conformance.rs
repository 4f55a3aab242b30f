//! The shared EMV vectors (`conformance/iso8583/emv/*.hex`) decode to the tags, lengths and
//! values of their `.decoded.json`, proprietary templates that are not BER-TLV stay raw, and
//! re-encoding gives back the same bytes.

mod common;

use emv::tlv::{Tlv, TlvBuf, decode, describe::hex, encode};
use serde_json::Value;

#[allow(clippy::unwrap_used, clippy::expect_used)] // a test helper
fn compare(want: &[Value], got: &[Tlv<'_>], path: &str) {
    assert_eq!(got.len(), want.len(), "{path}: object count");
    for (w, g) in want.iter().zip(got) {
        let tag = w["tag"].as_str().unwrap();
        let here = format!("{path}/{tag}");
        assert_eq!(g.tag.to_string(), tag, "{path}: tag");
        assert_eq!(
            g.value.len() as u64,
            w["len"].as_u64().unwrap(),
            "{here}: len"
        );
        if let Some(value) = w.get("value").and_then(Value::as_str) {
            assert_eq!(hex(g.value), value.to_uppercase(), "{here}: value");
        }
        match w.get("children").and_then(Value::as_array) {
            Some(children) => compare(children, g.children.as_deref().expect("children"), &here),
            None if g.tag.is_constructed() => {
                assert!(g.is_raw_template(), "{here}: expected raw content")
            }
            None => assert!(g.children.is_none()),
        }
    }
}

#[test]
fn shared_emv_vectors_decode_as_documented_and_reencode_identically() {
    let dir = common::conformance().join("iso8583").join("emv");
    let mut checked = 0;
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_none_or(|e| e != "hex") {
            continue;
        }
        let text = std::fs::read_to_string(&path).unwrap();
        let bytes: Vec<u8> = (0..text.trim().len() / 2)
            .map(|i| u8::from_str_radix(&text.trim()[2 * i..2 * i + 2], 16).unwrap())
            .collect();
        let json: Value = serde_json::from_str(
            &std::fs::read_to_string(path.with_extension("decoded.json")).unwrap(),
        )
        .unwrap();
        let tlvs = decode(&bytes).unwrap();
        compare(
            json["tlvs"].as_array().unwrap(),
            &tlvs,
            &path.file_name().unwrap().to_string_lossy(),
        );
        let owned: Vec<TlvBuf> = tlvs.iter().map(TlvBuf::from).collect();
        assert_eq!(
            encode::encode(&owned),
            bytes,
            "{}: re-encoded bytes differ",
            path.display()
        );
        checked += 1;
    }
    assert_eq!(checked, 2, "both shared vectors are checked");
}

#[test]
fn mastercard_proprietary_templates_stay_raw() {
    let path =
        common::conformance().join("iso8583/emv/moov_exp_emv_icc_mastercard_contactless.hex");
    let text = std::fs::read_to_string(path).unwrap();
    let bytes: Vec<u8> = (0..text.trim().len() / 2)
        .map(|i| u8::from_str_radix(&text.trim()[2 * i..2 * i + 2], 16).unwrap())
        .collect();
    let tlvs = decode(&bytes).unwrap();
    let raw: Vec<String> = tlvs
        .iter()
        .filter(|t| t.is_raw_template())
        .map(|t| t.tag.to_string())
        .collect();
    assert_eq!(raw, ["FF8105", "FF8106", "FFEE01", "FFEE12"]);
    assert!(
        emv::tlv::decode_strict(&bytes).is_err(),
        "strict mode refuses them"
    );
}
