//! ISO 8583 decoding on arbitrary bytes, in every shipped dialect and behind both length
//! headers: `unpack` must return a message or an error, never panic or hang. Whatever decodes
//! goes through the printable view (masking, field 55's TLV tree) and back through `pack`:
//! a message we accepted must re-encode to bytes that decode to the same message.
#![no_main]

use std::sync::OnceLock;

use emv::iso8583::{Dialect, LengthHeader, pack, unframe, unpack};
use libfuzzer_sys::fuzz_target;

fn dialects() -> &'static [Dialect] {
    static DIALECTS: OnceLock<Vec<Dialect>> = OnceLock::new();
    DIALECTS.get_or_init(|| {
        Dialect::shipped_names()
            .map(|n| Dialect::shipped(n).expect("shipped dialects load"))
            .collect()
    })
}

fuzz_target!(|wire: &[u8]| {
    for header in [LengthHeader::Binary2, LengthHeader::Ascii4] {
        let _ = unframe(header, wire);
    }
    for dialect in dialects() {
        let Ok(message) = unpack(dialect, wire) else {
            continue;
        };
        let _ = message.describe(dialect).to_string();
        let _ = format!("{message:?}");
        let repacked = pack(dialect, &message).expect("a decoded message re-encodes");
        let again = unpack(dialect, &repacked).expect("re-encoded bytes decode");
        assert_eq!(again, message, "decode(encode(m)) != m in {}", dialect.name());
    }
});
