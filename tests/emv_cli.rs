//! `clearway emv decode`: JSON shape, masking, `--show-pan`, exit codes.

mod common;

const ARQC: &str = include_str!("../fixtures/emv/ok/arqc_visa_contact.hex");

#[allow(clippy::unwrap_used)] // a test helper: failing to run the binary fails the test
fn decode(args: &[&str]) -> std::process::Output {
    common::clearway()
        .args(["emv", "decode"])
        .args(args)
        .output()
        .unwrap()
}

#[test]
fn json_tree_masks_card_data() {
    let out = decode(&["--hex", ARQC.trim(), "--json"]);
    assert_eq!(out.status.code(), Some(0));
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert!(!stdout.contains("4761739001010010"), "PAN in the clear");
    let json: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    let tlvs = json["tlvs"].as_array().unwrap();
    let amount = tlvs.iter().find(|t| t["tag"] == "9F02").unwrap();
    assert_eq!(amount["name"], "Amount, authorised");
    assert_eq!(amount["len"], 6);
    assert_eq!(amount["value"], "000000012345");
    assert_eq!(amount["decoded"], "123.45");
    let pan = tlvs.iter().find(|t| t["tag"] == "5A").unwrap();
    assert_eq!(pan["value"], "476173******0010");
    assert_eq!(pan["masked"], true);
}

#[test]
fn show_pan_prints_card_data_whole() {
    let out = decode(&["--hex", ARQC.trim(), "--show-pan"]);
    assert_eq!(out.status.code(), Some(0));
    assert!(
        String::from_utf8(out.stdout)
            .unwrap()
            .contains("4761739001010010")
    );
}

#[test]
fn refused_input_exits_3_naming_tag_and_offset() {
    let out = decode(&["--hex", "9F0206000000"]);
    assert_eq!(out.status.code(), Some(3));
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(
        stderr.contains("TLV/9F02") && stderr.contains("byte 2"),
        "{stderr}"
    );
    // The PAN inside a truncated template never reaches the error message.
    let out = decode(&["--hex", "700F5A084761739001010010"]);
    assert_eq!(out.status.code(), Some(3));
    assert!(
        !String::from_utf8(out.stderr)
            .unwrap()
            .contains("4761739001010010")
    );
    assert_eq!(decode(&["--hex", "9F0"]).status.code(), Some(3));
    assert_eq!(decode(&[]).status.code(), Some(2));
}
