//! No input panics: truncations and byte mutations of valid messages, and arbitrary bytes, give a
//! report or an error, never a panic.

use proptest::prelude::*;

use super::{Options, validate_bytes};

const PAIN: &str = include_str!("../../../fixtures/iso20022/ok/pain.001.001.09_single_eur.xml");
const CAMT: &str = include_str!("../../../fixtures/iso20022/ok/camt.053.001.08_two_entries.xml");

fn run(bytes: &[u8]) {
    let _ = validate_bytes(bytes, &Options::default());
    let _ = validate_bytes(
        bytes,
        &Options {
            schema_only: true,
            ..Options::default()
        },
    );
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn mutated_messages_never_panic(
        which in 0..2usize,
        cut in 0..4000usize,
        edits in proptest::collection::vec((0..4000usize, any::<u8>()), 0..8),
    ) {
        let mut bytes = if which == 0 { PAIN.as_bytes().to_vec() } else { CAMT.as_bytes().to_vec() };
        for (at, b) in edits {
            let len = bytes.len();
            if let Some(slot) = bytes.get_mut(at % len) {
                *slot = b;
            }
        }
        bytes.truncate(cut.max(1) * bytes.len() / 4000);
        run(&bytes);
    }

    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
        run(&bytes);
    }

    #[test]
    fn arbitrary_text_in_a_field_never_panics(text in "\\PC{0,80}") {
        let escaped = text.replace('&', "&amp;").replace('<', "&lt;");
        run(PAIN.replace("PMT-0001", &escaped).as_bytes());
        run(CAMT.replace("1000.00", &escaped).as_bytes());
    }
}

#[test]
fn ok_fixtures_are_valid_and_mutations_are_reported() {
    let report = validate_bytes(PAIN.as_bytes(), &Options::default()).unwrap();
    assert!(report.is_valid(), "{:?}", report.violations);
    let cut = PAIN.get(..PAIN.len() / 2).unwrap_or_default();
    let err = validate_bytes(cut.as_bytes(), &Options::default()).unwrap_err();
    assert!(err.to_string().contains("at byte"), "{err}");
}
