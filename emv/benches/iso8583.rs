//! Decode and encode of a typical 0100 authorization (20 fields, field 55 with 14 EMV tags) in
//! each shipped dialect. The peer, pyiso8583 on the same message, is measured by
//! `scripts/bench-iso8583` in the same run: `cargo bench -p clearway-emv --bench iso8583`.
#![allow(clippy::expect_used, missing_docs)]

use std::hint::black_box;
use std::path::PathBuf;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use emv::iso8583::{Dialect, pack_into, parse_hex, unpack};

fn fixture(dialect: &str) -> Vec<u8> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../fixtures/iso8583")
        .join(dialect)
        .join("ok/0100_authorization.hex");
    let text = std::fs::read_to_string(&path).expect("the 0100 fixture exists");
    let hex: String = text.split_whitespace().collect();
    parse_hex(&hex).expect("the fixture is hex")
}

fn bench(c: &mut Criterion) {
    for name in ["iso87binary", "iso87ascii"] {
        let dialect = Dialect::shipped(name).expect("shipped");
        let wire = fixture(name);
        let message = unpack(&dialect, &wire).expect("the fixture decodes");
        let mut group = c.benchmark_group(format!("iso8583_0100_{name}"));
        group.throughput(Throughput::Elements(1));
        group.bench_function("decode", |b| {
            b.iter(|| unpack(&dialect, black_box(&wire)).expect("decodes"))
        });
        let mut out = Vec::with_capacity(wire.len());
        group.bench_function("encode", |b| {
            b.iter(|| {
                out.clear();
                pack_into(&dialect, black_box(&message), &mut out).expect("encodes");
                out.len()
            })
        });
        group.finish();
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
