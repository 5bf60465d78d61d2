//! Real public data from `$VIGIL_TESTDATA`: loghub syslog samples and the
//! EVTX-derived JSON of the Sigma regression set. Skips when the variable is
//! unset, except under CI (`CI=true`), where that is a failure.
#![allow(clippy::unwrap_used)]

use std::path::{Path, PathBuf};

use vigil_ingest::{Batch, InputFormat, ParseOptions, UNPARSED_TAG, parse_lines};
use vigil_model::{Event, FieldId, FieldRegistry, TenantId, Timestamp, Value};
use vigil_testkit::testdata;

/// Received 2026-11-27T00:00:00Z (resolves the year of RFC 3164 dates).
fn opts() -> ParseOptions {
    ParseOptions::new(
        TenantId::DEFAULT,
        "test",
        Timestamp::from_secs(1_795_737_600),
    )
}

/// Counts over a syslog batch.
#[derive(Debug, PartialEq)]
struct SyslogStats {
    lines: u64,
    events: usize,
    errors: usize,
    unparsed: usize,
    with_host: usize,
    with_app: usize,
    with_pid: usize,
}

fn syslog_stats(reg: &FieldRegistry, b: &Batch) -> SyslogStats {
    let tags = reg.get("tags");
    let count = |f: &dyn Fn(&Event) -> bool| b.events.iter().filter(|e| f(e)).count();
    SyslogStats {
        lines: b.lines,
        events: b.events.len(),
        errors: b.errors.len(),
        unparsed: count(&|e| tags.and_then(|t| e.get_str(t)) == Some(UNPARSED_TAG)),
        with_host: count(&|e| e.host.is_some()),
        with_app: count(&|e| e.get(FieldId::LOG_SYSLOG_APPNAME).is_some()),
        with_pid: count(&|e| e.get(FieldId::PROCESS_PID).is_some()),
    }
}

fn parse_loghub(root: &Path, name: &str) -> (FieldRegistry, Batch) {
    let path = root.join(format!("logs/loghub/{name}/{name}_2k.log"));
    let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let reg = FieldRegistry::new();
    let b = parse_lines(&bytes, InputFormat::Syslog, &reg, &opts(), 1);
    (reg, b)
}

#[test]
fn loghub_linux_and_openssh() {
    let Some(root) = testdata() else { return };
    // Measured on the shared loghub samples (2,000 CRLF lines each).
    let (reg, b) = parse_loghub(&root, "Linux");
    assert_eq!(
        syslog_stats(&reg, &b),
        SyslogStats {
            lines: 2000,
            events: 2000,
            errors: 0,
            unparsed: 0,
            with_host: 2000,
            with_app: 1999,
            with_pid: 1848
        },
    );
    let first = &b.events[0];
    assert_eq!(first.host.as_deref(), Some("combo"));
    assert_eq!(first.get_str(FieldId::PROCESS_NAME), Some("sshd(pam_unix)"));
    assert_eq!(
        first.time.map(|t| t.to_rfc3339()).as_deref(),
        Some("2026-06-14T15:16:01.000000Z")
    );

    let (reg, b) = parse_loghub(&root, "OpenSSH");
    assert_eq!(
        syslog_stats(&reg, &b),
        SyslogStats {
            lines: 2000,
            events: 2000,
            errors: 0,
            unparsed: 0,
            with_host: 2000,
            with_app: 2000,
            with_pid: 2000
        },
    );
    assert!(b.events.iter().all(|e| e.host.as_deref() == Some("LabSZ")));

    let (mac_reg, mac) = parse_loghub(&root, "Mac");
    assert_eq!(
        syslog_stats(&mac_reg, &mac),
        SyslogStats {
            lines: 2000,
            events: 2000,
            errors: 0,
            unparsed: 0,
            with_host: 2000,
            with_app: 2000,
            with_pid: 1922
        },
    );
    let e = &b.events[1];
    assert_eq!(
        e.get_str(FieldId::MESSAGE),
        Some("Invalid user webmaster from 173.234.31.186")
    );
    assert_eq!(e.get(FieldId::PROCESS_PID), Some(&Value::Int(24200)));
}

#[test]
fn every_loghub_file_parses_without_errors() {
    let Some(root) = testdata() else { return };
    let Ok(dirs) = std::fs::read_dir(root.join("logs/loghub")) else {
        panic!("no loghub folder")
    };
    let mut names: Vec<String> = dirs
        .filter_map(|d| d.ok())
        .filter(|d| d.path().is_dir())
        .map(|d| d.file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert!(names.len() >= 10, "{names:?}");
    for name in names {
        let (reg, b) = parse_loghub(&root, &name);
        let s = syslog_stats(&reg, &b);
        println!("{name}: {s:?}");
        assert_eq!((s.errors, s.events as u64), (0, s.lines), "{name}");
        // Every event has a message and an @timestamp.
        for e in &b.events {
            assert!(
                e.get(FieldId::MESSAGE).is_some() && e.get(FieldId::TIMESTAMP).is_some(),
                "{name}"
            );
        }
    }
}

fn json_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(rd) = std::fs::read_dir(dir) else {
        return;
    };
    for p in rd.filter_map(|e| e.ok().map(|e| e.path())) {
        if p.is_dir() {
            json_files(&p, out);
        } else if p.extension().is_some_and(|e| e == "json") {
            out.push(p);
        }
    }
}

/// One compact line per JSON document (files may hold several back to back).
fn to_ndjson(bytes: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    for doc in serde_json::Deserializer::from_slice(bytes).into_iter::<serde_json::Value>() {
        out.extend(serde_json::to_vec(&doc.unwrap()).unwrap());
        out.push(b'\n');
    }
    out
}

#[test]
fn sigma_regression_evtx_json() {
    let Some(root) = testdata() else { return };
    let mut files = Vec::new();
    json_files(&root.join("sigma/regression"), &mut files);
    files.sort();
    assert!(files.len() >= 100, "{} files", files.len());
    let reg = FieldRegistry::new();
    let id = |n: &str| reg.intern(n).unwrap();
    let (event_id, command_line, image, provider, hashes) = (
        id("EventID"),
        id("CommandLine"),
        id("Image"),
        id("Provider_Name"),
        id("Hashes"),
    );
    let (mut events, mut sysmon1) = (0, 0);
    for f in &files {
        let ndjson = to_ndjson(&std::fs::read(f).unwrap());
        let b = parse_lines(&ndjson, InputFormat::Json, &reg, &opts(), 1);
        assert!(b.errors.is_empty(), "{}: {:?}", f.display(), b.errors);
        assert!(!b.events.is_empty(), "{}", f.display());
        for e in &b.events {
            events += 1;
            let eid = e.get(event_id).and_then(Value::as_i64);
            assert!(eid.is_some(), "{}: no EventID", f.display());
            assert_eq!(
                e.get_str(FieldId::EVENT_CODE),
                eid.map(|i| i.to_string()).as_deref()
            );
            assert!(e.time.is_some(), "{}: no time", f.display());
            assert!(e.host.is_some(), "{}: no host", f.display());
            if let Some(cl) = e.get_str(command_line) {
                assert_eq!(
                    e.get_str(FieldId::PROCESS_COMMAND_LINE),
                    Some(cl),
                    "{}",
                    f.display()
                );
            }
            if let Some(img) = e.get_str(image) {
                assert_eq!(
                    e.get_str(FieldId::PROCESS_EXECUTABLE),
                    Some(img),
                    "{}",
                    f.display()
                );
                assert!(
                    e.get_str(FieldId::PROCESS_NAME)
                        .is_some_and(|n| img.ends_with(n))
                );
            }
            if eid == Some(1) && e.get_str(provider) == Some("Microsoft-Windows-Sysmon") {
                sysmon1 += 1;
                assert!(
                    e.get_str(FieldId::PROCESS_COMMAND_LINE).is_some(),
                    "{}",
                    f.display()
                );
                assert_eq!(e.get_str(FieldId::EVENT_CATEGORY), Some("process"));
                if e.get_str(hashes).is_some_and(|h| h.contains("SHA256=")) {
                    assert!(
                        e.get_str(FieldId::FILE_HASH_SHA256).is_some(),
                        "{}",
                        f.display()
                    );
                }
            }
        }
    }
    println!(
        "{} files, {events} events, {sysmon1} Sysmon EID 1",
        files.len()
    );
    // Measured on the shared set.
    assert_eq!((files.len(), events, sysmon1), (105, 120, 87));
}
