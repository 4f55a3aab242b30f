//! Parse and write of a ~3.7 KB pacs.008.001.08 (Swift envelope + BAH, the CBPR+ c.105.1.1
//! sample in `fixtures/iso20022/roundtrip/`), beside the peers: bare quick-xml event loops over
//! the same bytes, with its namespace resolver (`NsReader`) and without (`Reader`), the floor
//! a quick-xml based reader would stand on (`wire::tree::Doc` has its own tokenizer and reads
//! below both). On a shared machine compare ratios within one run, or count instructions with
//! `examples/parse_loop.rs` under callgrind.
//!
//! Run: `cargo bench -p clearway-iso20022 --bench message`.
#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used)]

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use quick_xml::events::Event;

const PACS008: &str = include_str!("../../fixtures/iso20022/roundtrip/pacs.008_cbpr_c.105.1.1.xml");

fn bench(c: &mut Criterion) {
    let msg = iso20022::read(PACS008).expect("the fixture parses");
    let mut group = c.benchmark_group("pacs.008 3.7KB");
    group.bench_function("peer: quick-xml event loop", |b| {
        b.iter(|| {
            let mut reader = quick_xml::reader::NsReader::from_str(black_box(PACS008));
            let mut n = 0usize;
            loop {
                match reader.read_resolved_event() {
                    Ok((_, Event::Eof)) => break,
                    Ok(_) => n += 1,
                    Err(_) => break,
                }
            }
            n
        })
    });
    // quick-xml without its namespace resolver: events only, no names resolved.
    group.bench_function("peer: quick-xml event loop, no namespaces", |b| {
        b.iter(|| {
            let mut reader = quick_xml::reader::Reader::from_str(black_box(PACS008));
            let mut n = 0usize;
            loop {
                match reader.read_event() {
                    Ok(Event::Eof) => break,
                    Ok(_) => n += 1,
                    Err(_) => break,
                }
            }
            n
        })
    });
    group.bench_function("element tree only (borrowed arena)", |b| {
        b.iter(|| iso20022::wire::tree::Doc::read(black_box(PACS008)).unwrap())
    });
    group.bench_function("parse (tree + typed model)", |b| {
        b.iter(|| iso20022::read(black_box(PACS008)).unwrap())
    });
    group.bench_function("write (canonical)", |b| {
        b.iter(|| iso20022::write(black_box(&msg)))
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
