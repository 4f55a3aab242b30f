//! `clearway iso8583` end to end: text output (snapshotted, masked), `--dialect-file`, `encode
//! --out`, refusals with exit 3 naming the field, usage errors with exit 2.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test helpers may fail loudly

mod common;

use std::process::Output;

fn run(args: &[&str]) -> Output {
    common::clearway()
        .arg("iso8583")
        .args(args)
        .output()
        .unwrap()
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8(bytes.to_vec()).unwrap()
}

fn jpos_hex(image: &str) -> String {
    let bytes = std::fs::read(common::conformance().join("iso8583/jpos").join(image)).unwrap();
    emv::iso8583::to_hex(&bytes)
}

#[test]
fn text_output_is_masked_and_names_everything() {
    let out = run(&[
        "decode",
        "--dialect",
        "iso87binary",
        "--hex",
        &jpos_hex("ISO87BPackager.bin"),
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    assert!(!stdout.contains("1234567890123456"), "{stdout}");
    insta::assert_snapshot!(stdout);
}

#[test]
fn show_pan_prints_card_data_whole() {
    let out = run(&[
        "decode",
        "--dialect",
        "iso87binary",
        "--hex",
        &jpos_hex("ISO87BPackager.bin"),
        "--show-pan",
    ]);
    let stdout = text(&out.stdout);
    assert!(
        stdout.contains("  2  Primary account number (PAN)  1234567890123456789\n"),
        "{stdout}"
    );
    assert!(
        stdout.contains("1234567890123456=12345678901234567890"),
        "{stdout}"
    );
}

#[test]
fn dialect_file_is_loaded_at_run_time() {
    let file = common::root().join("emv/dialects/iso87binary.toml");
    let file = file.to_str().unwrap();
    let hex = jpos_hex("ISO87BPackager.bin");
    let out = run(&["decode", "--dialect-file", file, "--hex", &hex, "--json"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(text(&out.stdout).contains("\"55\":\"41424344\""));
    let out = run(&[
        "decode",
        "--dialect",
        "iso87ascii",
        "--dialect-file",
        file,
        "--hex",
        &hex,
    ]);
    assert_eq!(out.status.code(), Some(2), "the two dialect flags conflict");

    let dir = std::env::temp_dir().join(format!("clearway-iso8583-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let broken = dir.join("broken.toml");
    std::fs::write(&broken, "description = \"x\"\nmti = \"ascii\"\nbitmap = \"hex\"\n[[field]]\nnumber = 2\nname = \"PAN\"\ntype = \"n\"\nlength = \"LL\"\nmax = 120\nprefix = \"ascii\"\nencoding = \"ascii\"\n").unwrap();
    let out = run(&[
        "decode",
        "--dialect-file",
        broken.to_str().unwrap(),
        "--hex",
        "30313030",
    ]);
    assert_eq!(out.status.code(), Some(3));
    assert!(
        text(&out.stderr)
            .contains("field 2: max 120 is above what its length prefix can carry (99)"),
        "{}",
        text(&out.stderr)
    );
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn encode_writes_bytes_and_refuses_values_that_do_not_fit() {
    let dir = std::env::temp_dir().join(format!("clearway-iso8583-enc-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let json = dir.join("m.json");
    std::fs::write(
        &json,
        r#"{"mti":"0800","fields":{"3":"000001","70":"301"}}"#,
    )
    .unwrap();
    let out_path = dir.join("m.bin");
    let out = run(&[
        "encode",
        "--dialect",
        "iso87ascii",
        "--out",
        out_path.to_str().unwrap(),
        json.to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(
        std::fs::read(&out_path).unwrap(),
        b"0800A0000000000000000400000000000000000001301"
    );

    std::fs::write(
        &json,
        r#"{"mti":"0100","fields":{"2":"47617390010100100000"}}"#,
    )
    .unwrap();
    let out = run(&["encode", "--dialect", "iso87ascii", json.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(3));
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains("field 2: value has 20 digits, more than the maximum 19"),
        "{stderr}"
    );
    assert!(!stderr.contains("4761739001"), "{stderr}");

    std::fs::write(&json, r#"{"mti":"0100","fields":{"4":"12A"}}"#).unwrap();
    let out = run(&["encode", "--dialect", "iso87ascii", json.to_str().unwrap()]);
    assert!(
        text(&out.stderr).contains("field 4: character 2"),
        "{}",
        text(&out.stderr)
    );
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn framed_ascii4_and_refusals() {
    let out = run(&[
        "decode",
        "--hex",
        "303032363038303032303030303030303030303030303030303030303031",
        "--framed",
        "--frame",
        "ascii4",
        "--json",
    ]);
    assert_eq!(
        text(&out.stdout),
        "{\"mti\":\"0800\",\"fields\":{\"3\":\"000001\"}}\n",
        "{}",
        text(&out.stderr)
    );
    let out = run(&[
        "decode", "--hex", "30303939", "--framed", "--frame", "ascii4",
    ]);
    assert_eq!(out.status.code(), Some(3));
    assert!(
        text(&out.stderr).contains("frame header"),
        "{}",
        text(&out.stderr)
    );
    let out = run(&["decode", "--dialect", "nosuch", "--hex", "00"]);
    assert_eq!(out.status.code(), Some(3));
    let out = run(&["dialects", "--bogus"]);
    assert_eq!(out.status.code(), Some(2));
}
