//! `clearway iso8583 decode | encode | dialects`: ISO 8583 messages on the command line.
//!
//! Card data is masked in everything this module prints (values, text, JSON, errors) unless
//! `--show-pan` is given; errors from the codec never echo field data.

use std::borrow::Cow;
use std::path::{Path, PathBuf};

use anyhow::Context;
use emv::iso8583::{self, Dialect, LengthHeader, Message, Mti, Value};

use super::{Outcome, parse_hex, refused, to_hex};

/// Arguments of `clearway iso8583`.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, clap::Subcommand)]
enum Command {
    /// Decode a message: MTI, bitmap and each present field (card data masked).
    Decode(DecodeArgs),
    /// Encode the JSON `decode --json --show-pan` prints back into a message.
    Encode(EncodeArgs),
    /// List the shipped dialects, one per line: name, then a description.
    Dialects,
}

/// Which dialect: a shipped one by name, or a dialect file.
#[derive(Debug, clap::Args)]
struct DialectArgs {
    /// A shipped dialect (any case): see `clearway iso8583 dialects`. Default: iso87ascii.
    #[arg(long, conflicts_with = "dialect_file")]
    dialect: Option<String>,
    /// A dialect TOML file loaded at run time (same format as emv/dialects/*.toml).
    #[arg(long, value_name = "PATH")]
    dialect_file: Option<PathBuf>,
}

impl DialectArgs {
    fn load(&self) -> anyhow::Result<Dialect> {
        if let Some(path) = &self.dialect_file {
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("reading dialect file {}", path.display()))?;
            let name = path
                .file_stem()
                .map_or_else(|| "dialect".into(), |s| s.to_string_lossy());
            return Dialect::from_toml(&name, &text).map_err(|e| refused(e.to_string()));
        }
        let name = self.dialect.as_deref().unwrap_or("iso87ascii");
        Dialect::shipped(name).map_err(|e| refused(e.to_string()))
    }
}

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
enum Frame {
    /// Two bytes, unsigned big-endian.
    Binary2,
    /// Four ASCII digits.
    Ascii4,
}

#[derive(Debug, clap::Args)]
struct DecodeArgs {
    #[command(flatten)]
    dialect: DialectArgs,
    /// The message as hex (whitespace ignored).
    #[arg(long, conflicts_with = "file", value_name = "HEX")]
    hex: Option<String>,
    /// A file holding the raw message bytes (a `.hex` file: the message as hex text).
    #[arg(required_unless_present = "hex")]
    file: Option<PathBuf>,
    /// Print `{"mti": …, "fields": {"2": …}}` instead of text.
    #[arg(long)]
    json: bool,
    /// Print card numbers and track data in the clear.
    #[arg(long)]
    show_pan: bool,
    /// Read a length header before the message.
    #[arg(long)]
    framed: bool,
    /// The length header `--framed` reads.
    #[arg(long, value_enum, default_value = "binary2", requires = "framed")]
    frame: Frame,
}

#[derive(Debug, clap::Args)]
struct EncodeArgs {
    #[command(flatten)]
    dialect: DialectArgs,
    /// Write the raw bytes here instead of printing hex.
    #[arg(long, value_name = "PATH")]
    out: Option<PathBuf>,
    /// The JSON message: `{"mti": "0100", "fields": {"2": "…", …}}`.
    file: PathBuf,
}

pub(crate) fn run(args: Args) -> anyhow::Result<Outcome> {
    match args.command {
        Command::Decode(a) => decode(a),
        Command::Encode(a) => encode(a),
        Command::Dialects => dialects(),
    }
}

fn dialects() -> anyhow::Result<Outcome> {
    for name in Dialect::shipped_names() {
        let dialect = Dialect::shipped(name)?;
        outln!("{name:<12}  {}", dialect.description())?;
    }
    Ok(Outcome::Clean)
}

fn decode(args: DecodeArgs) -> anyhow::Result<Outcome> {
    let dialect = args.dialect.load()?;
    let wire = match (&args.hex, &args.file) {
        (Some(hex), _) => parse_hex(hex)?,
        (None, Some(path)) => {
            let bytes =
                std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
            if path
                .extension()
                .is_some_and(|e| e.eq_ignore_ascii_case("hex"))
            {
                let text = String::from_utf8(bytes).map_err(|_| {
                    refused(format!("{}: a .hex file holds hex text", path.display()))
                })?;
                parse_hex(&text)?
            } else {
                bytes
            }
        }
        (None, None) => return Err(refused("give --hex HEX or FILE")),
    };
    let body = if args.framed {
        let header = match args.frame {
            Frame::Binary2 => LengthHeader::Binary2,
            Frame::Ascii4 => LengthHeader::Ascii4,
        };
        iso8583::unframe(header, &wire).map_err(|e| refused(e.to_string()))?
    } else {
        &wire
    };
    // Codec errors name the place and never echo data, so there is nothing to mask in them.
    let message = iso8583::unpack(&dialect, body).map_err(|e| refused(e.to_string()))?;
    let output = if args.json {
        to_json(&dialect, &message, args.show_pan)?
    } else {
        to_text(&dialect, &message, args.show_pan)
    };
    out!("{output}")?;
    Ok(Outcome::Clean)
}

/// The text view: MTI with its names, bitmap, one line per field; field 55 with its BER-TLV
/// tree below it.
fn to_text(dialect: &Dialect, message: &Message<'_>, show_pan: bool) -> String {
    message.describe_with(dialect, show_pan).to_string()
}

/// `{"mti":"0100","fields":{"2":"…",…}}`, fields in number order, every value a string.
fn to_json(dialect: &Dialect, message: &Message<'_>, show_pan: bool) -> anyhow::Result<String> {
    let description = message.describe_with(dialect, show_pan);
    let mut out = format!(
        "{{\"mti\":{},\"fields\":{{",
        serde_json::to_string(description.mti.as_str())?
    );
    for (i, field) in description.fields.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        out.push_str(&format!(
            "\"{}\":{}",
            field.number,
            serde_json::to_string(&field.value)?
        ));
    }
    out.push_str("}}\n");
    Ok(out)
}

fn encode(args: EncodeArgs) -> anyhow::Result<Outcome> {
    let dialect = args.dialect.load()?;
    let text = std::fs::read_to_string(&args.file)
        .with_context(|| format!("reading {}", args.file.display()))?;
    let message = from_json(&dialect, &text)?;
    let wire = iso8583::pack(&dialect, &message).map_err(|e| refused(e.to_string()))?;
    match &args.out {
        Some(path) => write_out(path, &wire)?,
        None => outln!("{}", to_hex(&wire))?,
    }
    Ok(Outcome::Clean)
}

fn write_out(path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    std::fs::write(path, bytes).with_context(|| format!("writing {}", path.display()))
}

/// Reads the JSON `decode --json --show-pan` prints. Fields 0 and 1 are ignored (the MTI is
/// `mti`, the bitmap follows from the fields). Errors never echo values.
fn from_json(dialect: &Dialect, text: &str) -> anyhow::Result<Message<'static>> {
    let json: serde_json::Value = serde_json::from_str(text).map_err(|e| {
        refused(format!(
            "JSON input: line {} column {}: not valid JSON",
            e.line(),
            e.column()
        ))
    })?;
    let mti = json
        .get("mti")
        .and_then(serde_json::Value::as_str)
        .ok_or_else(|| refused("JSON input: no \"mti\" string"))?;
    let mti = Mti::parse(mti).map_err(|e| refused(e.to_string()))?;
    let fields = json
        .get("fields")
        .and_then(serde_json::Value::as_object)
        .ok_or_else(|| refused("JSON input: no \"fields\" object"))?;
    let mut message = Message::new(mti);
    for (key, value) in fields {
        let number: u16 = key
            .trim()
            .parse()
            .map_err(|_| refused(format!("JSON input: field key {key:?} is not a number")))?;
        if number <= 1 {
            continue;
        }
        let text: Cow<'_, str> = match value {
            serde_json::Value::String(s) => Cow::Borrowed(s),
            serde_json::Value::Number(n) => Cow::Owned(n.to_string()),
            _ => {
                return Err(refused(format!(
                    "field {number}: JSON value is not a string"
                )));
            }
        };
        let spec = dialect.field(number).ok_or_else(|| {
            refused(format!(
                "field {number}: the dialect {} does not define it",
                dialect.name()
            ))
        })?;
        let value = Value::from_display(spec, &text).map_err(|e| refused(e.to_string()))?;
        message.set(number, value);
    }
    Ok(message)
}
