//! Decodes or encodes the 0100 authorization fixture N times, for instruction counts under
//! `valgrind --tool=callgrind` (wall time on a shared machine is noisy; instructions are not):
//!
//! ```text
//! cargo build --release -p clearway-emv --example iso8583_loop
//! valgrind --tool=callgrind target/release/examples/iso8583_loop iso87binary decode 10000
//! ```
//!
//! Arguments: dialect (`iso87binary`, `iso87ascii`), `decode` or `encode`, repetitions.

use std::hint::black_box;
use std::path::PathBuf;
use std::process::ExitCode;

use emv::iso8583::{Dialect, pack_into, parse_hex, unpack};

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().collect();
    let (Some(name), Some(op)) = (args.get(1), args.get(2)) else {
        eprintln!("usage: iso8583_loop DIALECT decode|encode [N]");
        return ExitCode::from(2);
    };
    let n: u64 = args.get(3).and_then(|s| s.parse().ok()).unwrap_or(10_000);
    let dialect = match Dialect::shipped(name) {
        Ok(d) => d,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::from(2);
        }
    };
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../fixtures/iso8583")
        .join(name)
        .join("ok/0100_authorization.hex");
    let Some(wire) = std::fs::read_to_string(&path)
        .ok()
        .and_then(|t| parse_hex(&t.split_whitespace().collect::<String>()))
    else {
        eprintln!("cannot read {}", path.display());
        return ExitCode::from(1);
    };
    let message = match unpack(&dialect, &wire) {
        Ok(m) => m,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::from(1);
        }
    };
    let mut out = Vec::with_capacity(wire.len());
    let mut total = 0usize;
    for _ in 0..n {
        match op.as_str() {
            "decode" => match unpack(&dialect, black_box(&wire)) {
                Ok(m) => total += m.fields().count(),
                Err(e) => {
                    eprintln!("{e}");
                    return ExitCode::from(1);
                }
            },
            "encode" => {
                out.clear();
                if let Err(e) = pack_into(&dialect, black_box(&message), &mut out) {
                    eprintln!("{e}");
                    return ExitCode::from(1);
                }
                total += out.len();
            }
            _ => return ExitCode::from(2),
        }
    }
    println!("{total}");
    ExitCode::SUCCESS
}
