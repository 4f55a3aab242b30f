//! ISO 20022 reading on arbitrary bytes: `iso20022::read` (the element tree and the typed
//! models) must return a message or an error, and a message it returns must write and read
//! back to the same message; the streaming validator (schema only, with business rules, and
//! with each shipped market rule pack) must return a report or an error, and the camt.053/054
//! `StatementReader` must yield events until it ends; never a panic or a hang.
#![no_main]

use std::sync::OnceLock;

use iso20022::rules::RulePack;
use iso20022::statement::StatementReader;
use iso20022::validate::{Options, validate_bytes};
use libfuzzer_sys::fuzz_target;

/// Packs are loaded once: loading leaks their rule ids, which is fine once per process only.
fn packs() -> &'static [RulePack] {
    static PACKS: OnceLock<Vec<RulePack>> = OnceLock::new();
    PACKS.get_or_init(|| {
        RulePack::shipped_names()
            .into_iter()
            .map(|n| RulePack::shipped(n).expect("shipped packs load"))
            .collect()
    })
}

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        if let Ok(msg) = iso20022::read(text) {
            let out = iso20022::write(&msg);
            match iso20022::read(&out) {
                Ok(again) => assert_eq!(again, msg, "the written message reads back differently"),
                Err(e) => panic!("the written message does not read back: {e}\n{out}"),
            }
        }
    }
    let schema_only = Options {
        schema_only: true,
        ..Options::default()
    };
    let _ = validate_bytes(data, &schema_only);
    let _ = validate_bytes(data, &Options::default());
    for pack in packs() {
        let with_pack = Options {
            pack: Some(pack),
            ..Options::default()
        };
        let _ = validate_bytes(data, &with_pack);
    }
    // The reader ends after an error; bound the loop anyway so a regression shows as a failure,
    // not as a fuzzer timeout. No input of this size yields more events than it has bytes.
    let mut events = 0usize;
    for _event in StatementReader::new(data) {
        events += 1;
        assert!(events <= data.len() + 16, "the statement reader does not end");
    }
});
