//! BER-TLV decoding on arbitrary bytes: `decode`, `decode_strict` and `dol::parse` must return
//! objects or an error, never panic or hang; the describe path (dictionary, decoders, masking,
//! with and without `show_pan`) runs on whatever decodes; and re-encoding a decoded tree then
//! decoding it again gives the same tags.
#![no_main]

use emv::tlv::{TlvBuf, decode, describe, encode};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = emv::tlv::decode_strict(data);
    let _ = emv::tlv::dol::parse(data, &emv::tlv::TagPath::root());
    let Ok(tlvs) = decode(data) else {
        return;
    };
    let nodes = describe::describe(&tlvs, emv::tlv::dictionary::Dictionary::shipped(), false);
    let _ = describe::to_text(&nodes);
    let _ = describe::describe(&tlvs, emv::tlv::dictionary::Dictionary::shipped(), true);
    let owned: Vec<TlvBuf> = tlvs.iter().map(TlvBuf::from).collect();
    let bytes = encode::encode(&owned);
    let again = decode(&bytes).unwrap_or_else(|e| panic!("re-encoded bytes do not decode: {e}"));
    let tags = |t: &[emv::tlv::Tlv<'_>]| t.iter().map(|x| x.tag).collect::<Vec<_>>();
    assert_eq!(tags(&again), tags(&tlvs), "tags changed through encode");
});
