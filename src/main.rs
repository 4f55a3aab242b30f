//! `clearway`: the command line of the Clearway settlement adapter.
//!
//! Each command parses its arguments, calls one library function and prints. Exit codes are the
//! contract: 0 ok, 2 usage error (clap), 3 input we refuse, 1 anything else.

use std::process::ExitCode;

use clap::Parser;

mod cli;

use cli::{Cli, Outcome};

fn main() -> ExitCode {
    let cli = Cli::parse(); // a usage error exits 2 here, clap's convention
    match cli::run(cli) {
        Ok(Outcome::Clean) => ExitCode::SUCCESS,
        Ok(Outcome::Invalid) => ExitCode::from(3),
        // the reader of stdout went away (`| head`): what it wanted was printed
        Err(err) if cli::is_broken_pipe(&err) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("clearway: {err:#}");
            ExitCode::from(if cli::is_refused_input(&err) { 3 } else { 1 })
        }
    }
}
