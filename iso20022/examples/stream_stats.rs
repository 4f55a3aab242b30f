//! `cargo run --release -p clearway-iso20022 --example stream_stats -- FILE [--bare]`
//!
//! Streams a camt.053/054 FILE into typed entries with the balance check and prints entries,
//! MB/s and each statement's verdict; `--bare` runs only a quick-xml `NsReader` event loop over
//! the same file (the baseline). Measure peak memory with `/usr/bin/time -v`.
#![allow(clippy::float_arithmetic)] // MB/s only; no amount is ever a float

use std::fs::File;
use std::io::BufReader;
use std::process::ExitCode;
use std::time::Instant;

use iso20022::statement::{StatementEvent, StatementReader};
use quick_xml::NsReader;
use quick_xml::events::Event;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let Some(path) = args.first() else {
        eprintln!("usage: stream_stats FILE [--bare]");
        return ExitCode::from(2);
    };
    let bare = args.iter().any(|a| a == "--bare");
    let file = match File::open(path) {
        Ok(f) => f,
        Err(e) => {
            eprintln!("{path}: {e}");
            return ExitCode::from(1);
        }
    };
    let input = BufReader::with_capacity(64 * 1024, file);
    let started = Instant::now();
    let (bytes, summary, ok) = if bare { bare_loop(input) } else { typed(input) };
    let secs = started.elapsed().as_secs_f64();
    let mb = bytes as f64 / 1_000_000.0;
    println!("{summary}");
    println!(
        "{} {mb:.1} MB in {secs:.2} s: {:.1} MB/s",
        if bare { "bare" } else { "typed" },
        mb / secs
    );
    if ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(3)
    }
}

fn bare_loop(input: BufReader<File>) -> (u64, String, bool) {
    let mut reader = NsReader::from_reader(input);
    let mut buf = Vec::new();
    let mut events = 0u64;
    loop {
        match reader.read_resolved_event_into(&mut buf) {
            Ok((_, Event::Eof)) => break,
            Ok(_) => events += 1,
            Err(e) => return (reader.buffer_position(), format!("error: {e}"), false),
        }
        buf.clear();
    }
    (
        reader.buffer_position(),
        format!("{events} XML events"),
        true,
    )
}

fn typed(input: BufReader<File>) -> (u64, String, bool) {
    let mut reader = StatementReader::new(input);
    let (mut entries, mut details, mut ok) = (0u64, 0u64, true);
    let mut verdicts = Vec::new();
    for event in reader.by_ref() {
        match event {
            Ok(StatementEvent::Entry(e)) => {
                entries += 1;
                details += e.details.len() as u64;
            }
            Ok(StatementEvent::StatementEnd(check)) => {
                ok &= check.passed();
                verdicts.push(check.to_string());
            }
            Ok(_) => {}
            Err(e) => {
                verdicts.push(format!("error: {e}"));
                ok = false;
                break;
            }
        }
    }
    let shown: Vec<&String> = verdicts.iter().take(5).collect();
    let more = verdicts.len().saturating_sub(5);
    let mut summary = format!(
        "{entries} entries, {details} transaction details, {} statements",
        verdicts.len()
    );
    for v in shown {
        summary.push_str("\n  ");
        summary.push_str(v);
    }
    if more > 0 {
        summary.push_str(&format!("\n  … and {more} more"));
    }
    (reader.position(), summary, ok)
}
