//! Every file in `fixtures/emv/ok/` decodes, survives a re-encode, and its masked tree matches
//! its snapshot; every file in `fixtures/emv/err/` is refused with the snapshotted error.

mod common;

use emv::tlv::{TlvBuf, decode, describe, encode};

#[allow(clippy::unwrap_used)] // a test helper
fn read_hex(path: &std::path::Path) -> Vec<u8> {
    let text = std::fs::read_to_string(path).unwrap();
    let digits: String = text.split_whitespace().collect();
    (0..digits.len() / 2)
        .map(|i| u8::from_str_radix(&digits[2 * i..2 * i + 2], 16).unwrap())
        .collect()
}

#[test]
fn emv_ok_fixtures() {
    insta::glob!("../fixtures", "emv/ok/*.hex", |path| {
        let bytes = read_hex(path);
        let tlvs = decode(&bytes).expect("an ok/ fixture decodes");
        let owned: Vec<TlvBuf> = tlvs.iter().map(TlvBuf::from).collect();
        let again = encode::encode(&owned);
        let reread: Vec<TlvBuf> = decode(&again)
            .expect("re-encoded bytes decode")
            .iter()
            .map(TlvBuf::from)
            .collect();
        assert_eq!(reread, owned, "objects changed through encode");
        let text = describe::to_text(&describe::tree(&bytes, false).unwrap());
        assert!(!text.contains("4761739001010010"), "PAN in the clear");
        insta::assert_snapshot!(text);
    });
}

#[test]
fn emv_err_fixtures() {
    insta::glob!("../fixtures", "emv/err/*.hex", |path| {
        let err = decode(&read_hex(path)).expect_err("an err/ fixture is refused");
        insta::assert_snapshot!(format!("{err}\n{err:?}"));
    });
}
