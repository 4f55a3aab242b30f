//! `clearway iso20022 validate [--rules PACK] [--json] [--schema-only] FILE...`: schema, business
//! rules and an optional market rule pack; one line per violation, `FILE: PATH: RULE-ID: sentence`.

use std::fs::File;
use std::io::BufReader;
use std::path::PathBuf;

use iso20022::rules::RulePack;
use iso20022::validate::{Options, Report, validate};
use serde::Serialize;

use crate::cli::{Outcome, refused};

/// Arguments of `clearway iso20022 validate`.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// Market rule pack: `sepa`, `cbpr+`, or the path of a pack TOML file.
    #[arg(long, value_name = "PACK")]
    rules: Option<String>,
    /// Print JSON (one document) instead of lines.
    #[arg(long)]
    json: bool,
    /// Level 1 only: the XSD, no business rules.
    #[arg(long)]
    schema_only: bool,
    /// Files to validate.
    #[arg(required = true, value_name = "FILE")]
    files: Vec<PathBuf>,
}

#[derive(Serialize)]
struct FileResult<'a> {
    file: &'a str,
    valid: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    report: Option<Report>,
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<ErrorJson<'a>>,
}

#[derive(Serialize)]
struct ErrorJson<'a> {
    path: &'a str,
    rule: &'static str,
    message: String,
}

fn load_pack(name: &str) -> anyhow::Result<RulePack> {
    let path = std::path::Path::new(name);
    if path.extension().is_some_and(|e| e == "toml") {
        let text = std::fs::read_to_string(path)?;
        return RulePack::from_toml(name, &text).map_err(|e| refused(e.to_string()));
    }
    RulePack::shipped(name).map_err(|e| refused(e.to_string()))
}

pub(crate) fn run(args: Args) -> anyhow::Result<Outcome> {
    let pack = args.rules.as_deref().map(load_pack).transpose()?;
    let options = Options {
        schema_only: args.schema_only,
        pack: pack.as_ref(),
        ..Options::default()
    };
    let mut all_valid = true;
    let mut results = Vec::new();
    for path in &args.files {
        let shown = path.display().to_string();
        let file = File::open(path).map_err(|e| anyhow::anyhow!("{shown}: {e}"))?;
        let (report, error) = match validate(BufReader::with_capacity(1 << 16, file), &options) {
            Ok(report) => (Some(report), None),
            Err(err) => (None, Some(err)),
        };
        let valid = error.is_none() && report.as_ref().is_some_and(Report::is_valid);
        all_valid &= valid;
        if !args.json {
            if let Some(err) = &error {
                outln!("{shown}: {}: {}: {err}", err.path(), err.rule())?;
            }
            for v in report.iter().flat_map(|r| r.violations.iter()) {
                outln!("{shown}: {}: {}: {}", v.path, v.rule, v.message)?;
            }
        }
        results.push((shown, valid, report, error));
    }
    if args.json {
        let out: Vec<FileResult<'_>> = results
            .iter()
            .map(|(file, valid, report, error)| FileResult {
                file,
                valid: *valid,
                report: report.clone(),
                error: error.as_ref().map(|e| ErrorJson {
                    path: e.path(),
                    rule: e.rule(),
                    message: e.to_string(),
                }),
            })
            .collect();
        outln!("{}", serde_json::to_string_pretty(&out)?)?;
    }
    Ok(if all_valid {
        Outcome::Clean
    } else {
        Outcome::Invalid
    })
}
