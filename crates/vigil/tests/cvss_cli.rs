//! `vigil cvss` end to end: vectors as arguments and on stdin, every output
//! format, one result per input line in input order, invalid vectors
//! reported in their rows with a non-zero exit code.

use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};

const BIN: &str = env!("CARGO_BIN_EXE_vigil");

/// Runs `vigil cvss ARGS` with `stdin`; returns (status, stdout, stderr).
fn cvss(dir: &Path, args: &[&str], stdin: &str) -> (i32, String, String) {
    let mut child = Command::new(BIN)
        .arg("--data-dir")
        .arg(dir)
        .arg("cvss")
        .args(args)
        .env_remove("VIGIL_DATABASE")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run vigil cvss");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(stdin.as_bytes())
        .expect("write stdin");
    let out = child.wait_with_output().expect("wait");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

const V2: &str = "AV:N/AC:L/Au:N/C:N/I:N/A:C/E:F/RL:OF/RC:C";
const V31: &str = "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H";
const V40: &str = "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N/E:U";

#[test]
fn arguments_json_in_order_with_errors_in_their_rows() {
    let dir = tempfile::tempdir().unwrap();
    let bad = "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H/AV:L";
    let (code, out, err) = cvss(dir.path(), &[V2, V31, bad, V40, "--format", "json"], "");
    assert_eq!(
        code, 1,
        "an invalid vector makes the exit code non-zero: {err}"
    );
    assert!(err.contains("1 of 4 vectors invalid"), "{err}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    let rows = v.as_array().unwrap();
    assert_eq!(rows.len(), 4);
    for (i, r) in rows.iter().enumerate() {
        assert_eq!(r["line"], i + 1);
    }

    assert_eq!(rows[0]["vector"], V2);
    assert_eq!(rows[0]["version"], "2.0");
    assert_eq!(rows[0]["base"], 7.8);
    assert_eq!(rows[0]["base_severity"], "High");
    assert_eq!(rows[0]["temporal"], 6.4);
    assert!(rows[0].get("environmental").is_none(), "{}", rows[0]);

    assert_eq!(rows[1]["version"], "3.1");
    assert_eq!(rows[1]["base"], 9.8);
    assert_eq!(rows[1]["base_severity"], "Critical");
    assert_eq!(rows[1]["temporal"], 9.8);
    assert_eq!(rows[1]["environmental"], 9.8);

    assert_eq!(rows[2]["vector"], bad);
    assert_eq!(rows[2]["error"], "at byte 45: duplicate metric AV");
    assert!(rows[2].get("base").is_none());

    assert_eq!(rows[3]["version"], "4.0");
    assert_eq!(rows[3]["nomenclature"], "CVSS-BT");
    assert_eq!(rows[3]["base"], 9.3); // CVSS-B
    assert_eq!(rows[3]["temporal"], 8.1); // CVSS-BT: E:U lowers it
    assert_eq!(rows[3]["environmental"], 9.3); // CVSS-BE
    assert_eq!(rows[3]["bte"], 8.1);
    assert_eq!(rows[3]["bte_severity"], "High");
}

#[test]
fn stdin_one_result_per_line_ndjson_and_csv() {
    let dir = tempfile::tempdir().unwrap();
    let input = format!("{V31}\r\n  {V2}  \n\nnot a vector\n{V40}\n");
    let (code, out, err) = cvss(dir.path(), &["--format", "ndjson"], &input);
    assert_eq!(code, 1, "{err}");
    let rows: Vec<serde_json::Value> = out
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(rows.len(), 5, "one result per input line: {out}");
    assert_eq!(rows[0]["base"], 9.8);
    assert_eq!(rows[1]["vector"], V2, "surrounding blanks are trimmed");
    assert_eq!(rows[2]["error"], "empty vector");
    assert_eq!(
        rows[3]["error"],
        "at byte 0: malformed component \"not a vector\" (expected METRIC:VALUE)"
    );
    assert_eq!(rows[4]["bte"], 8.1);

    let (code, out, _) = cvss(dir.path(), &["--format", "csv"], &format!("{V31}\n{V40}\n"));
    assert_eq!(code, 0);
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(
        lines[0],
        "line,vector,version,base,temporal,environmental,bte,error"
    );
    assert_eq!(
        lines[1],
        format!("1,{V31},3.1,9.8 Critical,9.8 Critical,9.8 Critical,,")
    );
    assert_eq!(
        lines[2],
        format!("2,{V40},4.0,9.3 Critical,8.1 High,9.3 Critical,8.1 High,")
    );
}

#[test]
fn table_for_people() {
    let dir = tempfile::tempdir().unwrap();
    let (code, out, err) = cvss(dir.path(), &[V31, "AV:N/AC:L/Au:N/C:P/I:P/A:P"], "");
    assert_eq!(code, 0, "{err}");
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 3, "{out}");
    assert!(lines[0].starts_with("LINE  VECTOR"), "{out}");
    assert!(
        lines[1].contains("3.1") && lines[1].contains("9.8 Critical"),
        "{out}"
    );
    assert!(
        lines[2].contains("2.0") && lines[2].contains("7.5 High"),
        "{out}"
    );
}
