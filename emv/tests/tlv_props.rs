#![allow(clippy::expect_used)] // strategies are test helpers
//! Properties of the BER-TLV codec: encode then decode gives back the objects, and no input
//! makes `decode` or `describe` panic.

use emv::tlv::{Tag, TlvBuf, decode, describe, encode};
use proptest::prelude::*;

/// Tags as BER allows them, minus the ones padding makes ambiguous (a lone `00`, an `FF`
/// followed only by padding): 1 to 4 bytes, the constructed bit as asked.
fn tag(constructed: bool) -> impl Strategy<Value = Tag> {
    let cbit = if constructed { 0x20u8 } else { 0 };
    let single =
        (0u8..4, 1u8..0x1F).prop_map(move |(class, low)| [(class << 6) | cbit | low].to_vec());
    let multi = (
        0u8..4,
        proptest::collection::vec(0x81u8..=0xFF, 0..=2),
        1u8..=0x7F,
    )
        .prop_map(move |(class, middle, last)| {
            let mut bytes = vec![(class << 6) | cbit | 0x1F];
            bytes.extend(middle);
            bytes.push(last);
            bytes
        });
    prop_oneof![single, multi].prop_map(|bytes| Tag::from_bytes(&bytes).expect("well-formed tag"))
}

fn tlv() -> impl Strategy<Value = TlvBuf> {
    let leaf = (tag(false), proptest::collection::vec(any::<u8>(), 0..300))
        .prop_map(|(tag, value)| TlvBuf::primitive(tag, value));
    leaf.prop_recursive(4, 64, 6, |inner| {
        (tag(true), proptest::collection::vec(inner, 0..6))
            .prop_map(|(tag, children)| TlvBuf::template(tag, children))
    })
}

proptest! {
    #[test]
    fn encode_then_decode_gives_the_objects(tlvs in proptest::collection::vec(tlv(), 0..8)) {
        let bytes = encode::encode(&tlvs);
        let decoded = decode(&bytes).expect("our own encoding decodes");
        let back: Vec<TlvBuf> = decoded.iter().map(TlvBuf::from).collect();
        prop_assert_eq!(back, tlvs);
    }

    #[test]
    fn padding_between_objects_changes_nothing(
        tlvs in proptest::collection::vec(tlv(), 1..6),
        pads in proptest::collection::vec(0usize..4, 7),
    ) {
        let mut bytes = Vec::new();
        for (i, one) in tlvs.iter().enumerate() {
            bytes.extend(std::iter::repeat_n(0x00, pads[i]));
            encode::encode_into(std::slice::from_ref(one), &mut bytes);
        }
        bytes.extend(std::iter::repeat_n(0x00, pads[6]));
        bytes.extend(std::iter::repeat_n(0xFF, pads[5]));
        let back: Vec<TlvBuf> = decode(&bytes).expect("padded encoding decodes").iter().map(TlvBuf::from).collect();
        prop_assert_eq!(back, tlvs);
    }

    #[test]
    fn no_input_panics(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
        if let Ok(tlvs) = decode(&bytes) {
            let nodes = describe::describe(&tlvs, emv::tlv::dictionary::Dictionary::shipped(), false);
            let _ = describe::to_text(&nodes);
        }
        let _ = emv::tlv::decode_strict(&bytes);
        let _ = emv::tlv::dol::parse(&bytes, &emv::tlv::TagPath::root());
    }
}
