//! Statement streaming throughput: a bare quick-xml `NsReader` event loop (no typing, no
//! allocation) against the typed `StatementReader` with the balance check, over the same
//! generated camt.053 (20,000 entries, about 32 MB) read from a temp file. Criterion reports
//! both in MB/s (`Throughput::Bytes`); the target is typed ≥ 60% of bare.
//!
//! `cargo bench -p clearway-iso20022 --bench statement`
#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic)] // a benchmark, not a decoder

use std::fs::File;
use std::hint::black_box;
use std::io::{BufReader, BufWriter};
use std::path::Path;
use std::time::Duration;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use iso20022::generate::{Camt053Options, write_camt053};
use iso20022::statement::{StatementEvent, StatementReader};
use quick_xml::NsReader;
use quick_xml::events::Event;

const ENTRIES: u64 = 20_000;

fn input(path: &Path) -> BufReader<File> {
    BufReader::with_capacity(64 * 1024, File::open(path).expect("open"))
}

fn bare(path: &Path) -> u64 {
    let mut reader = NsReader::from_reader(input(path));
    let mut buf = Vec::with_capacity(4096);
    let mut events = 0u64;
    loop {
        match reader
            .read_resolved_event_into(&mut buf)
            .expect("well-formed")
        {
            (_, Event::Eof) => break,
            _ => events += 1,
        }
        buf.clear();
    }
    events
}

fn typed(path: &Path) -> u64 {
    let mut entries = 0u64;
    for event in StatementReader::new(input(path)) {
        match event.expect("reads") {
            StatementEvent::Entry(e) => {
                entries += 1;
                black_box(&e);
            }
            StatementEvent::StatementEnd(check) => assert!(check.passed(), "{check}"),
            _ => {}
        }
    }
    entries
}

fn statement(c: &mut Criterion) {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("camt053.xml");
    let options = Camt053Options {
        entries: ENTRIES,
        accounts: 4,
        seed: 1,
    };
    let mut out = BufWriter::new(File::create(&path).expect("create"));
    write_camt053(&options, &mut out).expect("generate");
    drop(out);
    let bytes = std::fs::metadata(&path).expect("size").len();
    assert_eq!(typed(&path), ENTRIES);

    let mut group = c.benchmark_group("camt053_20k");
    group.throughput(Throughput::Bytes(bytes));
    group.sample_size(10);
    group.measurement_time(Duration::from_secs(8));
    group.bench_function("bare_nsreader", |b| b.iter(|| black_box(bare(&path))));
    group.bench_function("typed_with_balance_check", |b| {
        b.iter(|| black_box(typed(&path)))
    });
    group.finish();
}

criterion_group!(benches, statement);
criterion_main!(benches);
