//! Parses (or writes) the ~3.7 KB pacs.008 roundtrip fixture N times, for instruction counts
//! under `valgrind --tool=callgrind`, beside bare quick-xml event loops over the same bytes.
//! Count two runs (e.g. 100 and 1100) and divide the difference by 1000 to leave start-up out;
//! measured so: bare 155k, bare-plain 93k, tree 66k, parse 105k instructions per pass.
//!
//! Run: `cargo build --profile bench -p clearway-iso20022 --example parse_loop`, then
//! `valgrind --tool=callgrind target/release/examples/parse_loop parse 1000` (modes: `bare`,
//! `bare-plain`, `tree`, `parse`, `write`).
#![allow(
    missing_docs,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::print_stdout
)]

use std::hint::black_box;

use quick_xml::events::Event;

const PACS008: &str = include_str!("../../fixtures/iso20022/roundtrip/pacs.008_cbpr_c.105.1.1.xml");

fn bare(input: &str) -> usize {
    let mut reader = quick_xml::reader::NsReader::from_str(input);
    let mut n = 0usize;
    loop {
        match reader.read_resolved_event() {
            Ok((_, Event::Eof)) | Err(_) => break,
            Ok(_) => n += 1,
        }
    }
    n
}

fn bare_plain(input: &str) -> usize {
    let mut reader = quick_xml::reader::Reader::from_str(input);
    let mut n = 0usize;
    loop {
        match reader.read_event() {
            Ok(Event::Eof) | Err(_) => break,
            Ok(_) => n += 1,
        }
    }
    n
}

fn main() {
    let mut args = std::env::args().skip(1);
    let mode = args.next().unwrap_or_else(|| "parse".to_owned());
    let n: usize = args.next().and_then(|s| s.parse().ok()).unwrap_or(1000);
    let msg = iso20022::read(PACS008).expect("the fixture parses");
    let mut sink = 0usize;
    for _ in 0..n {
        sink += match mode.as_str() {
            "bare" => bare(black_box(PACS008)),
            "bare-plain" => bare_plain(black_box(PACS008)),
            "tree" => {
                iso20022::wire::tree::Doc::read(black_box(PACS008)).map_or(0, |d| d.roots().count())
            }
            "parse" => iso20022::read(black_box(PACS008)).map_or(0, |m| m.envelope.roots.len()),
            "write" => iso20022::write(black_box(&msg)).len(),
            other => {
                eprintln!("unknown mode {other}: use bare, bare-plain, tree, parse or write");
                std::process::exit(2);
            }
        };
    }
    println!("{mode} x{n}: {sink}");
}
