//! Inputs the `tlv_decode` fuzz target found, kept as regression tests (the same bytes are in
//! `fixtures/emv/ok/fuzz_*.hex`, where their masked tree is snapshotted).

use emv::tlv::{TlvBuf, decode, encode};

#[allow(clippy::unwrap_used)] // a test helper
fn roundtrip(data: &[u8]) {
    let tlvs = decode(data).unwrap();
    let owned: Vec<TlvBuf> = tlvs.iter().map(TlvBuf::from).collect();
    let bytes = encode::encode(&owned);
    let again: Vec<TlvBuf> = decode(&bytes).unwrap().iter().map(TlvBuf::from).collect();
    assert_eq!(again, owned, "objects changed through encode");
}

/// crash-bfe19afd: `FF FF FF 00 01 00` was the empty template `FFFFFF00` holding one padding
/// byte; re-encoded without it, it became `FF FF FF 00 00`, all padding, and disappeared.
/// A tag made only of FF/00 bytes is now padding on both sides.
#[test]
fn fuzz_bfe19afd_all_ff_tag_is_padding() {
    let data = [
        0x9F, 0x6B, 0x01, 0x00, 0x5F, 0x36, 0x03, 0x40, 0x2F, 0x03, 0x00, 0x40, 0x00, 0xFF, 0xFF,
        0xFF, 0x00, 0x01, 0x00,
    ];
    roundtrip(&data);
    let tags: Vec<String> = decode(&data)
        .unwrap()
        .iter()
        .map(|t| t.tag.to_string())
        .collect();
    assert_eq!(tags, ["9F6B", "5F36", "40", "01"]);
}
