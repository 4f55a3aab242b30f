//! A rough timing of unpack and pack_into on a 20-field 0100 with chip data (ignored by default;
//! the real benchmark lives elsewhere). Run: cargo test --release -p clearway-emv --test
//! iso8583_speed -- --ignored --nocapture

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // a measurement, not a product path

use std::time::Instant;

use emv::iso8583::{Dialect, pack_into, parse_hex, unpack};

const AUTH_0100: &str =
    include_str!("../../fixtures/iso8583/iso87binary/ok/0100_authorization.hex");
const AUTH_0100_ASCII: &str =
    include_str!("../../fixtures/iso8583/iso87ascii/ok/0100_authorization.hex");

#[test]
#[ignore = "timing; run in release"]
fn decode_encode_timing() {
    for (name, hex) in [("iso87binary", AUTH_0100), ("iso87ascii", AUTH_0100_ASCII)] {
        let dialect = Dialect::shipped(name).unwrap();
        let wire = parse_hex(hex.trim()).unwrap();
        let rounds: u32 = std::env::var("ROUNDS")
            .ok()
            .and_then(|r| r.parse().ok())
            .unwrap_or(200_000);
        let start = Instant::now();
        for _ in 0..rounds {
            std::hint::black_box(unpack(&dialect, std::hint::black_box(&wire)).unwrap());
        }
        let decode = start.elapsed() / rounds;
        let message = unpack(&dialect, &wire).unwrap();
        let mut out = Vec::with_capacity(512);
        let start = Instant::now();
        for _ in 0..rounds {
            out.clear();
            pack_into(&dialect, std::hint::black_box(&message), &mut out).unwrap();
        }
        let encode = start.elapsed() / rounds;
        assert_eq!(out, wire);
        println!(
            "{name}: unpack {decode:?}, pack_into {encode:?} ({} bytes)",
            wire.len()
        );
    }
}
