//! Unit tests of the whole path (YAML → rule → compiled set → verdict), one
//! `check` helper: every modifier and condition form of the specification.

use base64::Engine as _;
use vigil_model::{EventBuilder, EventFormat, FieldRegistry, TenantId, Timestamp, Value};

use crate::{Config, Document, RuleSet, parse_file};

/// Builds an event from a flat JSON object (arrays give several values).
fn event(reg: &FieldRegistry, json: &str) -> vigil_model::Event {
    let v: serde_json::Value = serde_json::from_str(json).unwrap();
    let mut b = EventBuilder::new(
        TenantId::DEFAULT,
        Timestamp::from_micros(0),
        "test",
        EventFormat::Json,
        Vec::new(),
    );
    fn conv(v: &serde_json::Value) -> Value {
        match v {
            serde_json::Value::Null => Value::Null,
            serde_json::Value::Bool(b) => Value::Bool(*b),
            serde_json::Value::Number(n) => match n.as_i64() {
                Some(i) => Value::Int(i),
                None => Value::Float(n.as_f64().unwrap()),
            },
            serde_json::Value::String(s) => Value::from(s.as_str()),
            _ => unreachable!(),
        }
    }
    for (k, v) in v.as_object().unwrap() {
        let id = reg.intern(k).unwrap();
        match v {
            serde_json::Value::Array(a) => a.iter().for_each(|x| b.push(id, conv(x))),
            other => b.push(id, conv(other)),
        }
    }
    b.build()
}

fn run(config: &Config, detection: &str, ev: &str) -> String {
    let body: String = detection.lines().map(|l| format!("    {l}\n")).collect();
    let rule = format!("title: t\nlogsource: {{product: test}}\ndetection:\n{body}");
    let reg = FieldRegistry::new();
    let (set, errors) = RuleSet::load([("r.yml", rule.as_str())], &reg, config);
    if let Some(e) = errors.first() {
        return format!("error: {e}");
    }
    let e = event(&reg, ev);
    match set.evaluate(&e).first() {
        Some(v) => {
            let names: Vec<&str> = v.selections.iter().map(|s| &**s).collect();
            format!("match {}", names.join(","))
        }
        None => "no match".into(),
    }
}

/// Evaluates a detection body against an event; `expect` starts with
/// `match`, `no match` or `error:`.
#[track_caller]
fn check(detection: &str, ev: &str, expect: &str) {
    check_with(&Config::default(), detection, ev, expect)
}

#[track_caller]
fn check_with(config: &Config, detection: &str, ev: &str, expect: &str) {
    let got = run(config, detection, ev);
    assert!(
        got.starts_with(expect),
        "detection:\n{detection}\nevent: {ev}\n got: {got}\nwant: {expect}"
    );
}

fn b64(b: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(b)
}

#[test]
fn plain_values_and_wildcards() {
    let d = "sel:\n  Image: 'C:\\Windows\\cmd.exe'\ncondition: sel";
    check(d, r#"{"Image": "c:\\windows\\CMD.EXE"}"#, "match sel");
    check(d, r#"{"Image": "c:\\windows\\cmd.exe2"}"#, "no match");
    let d = "sel:\n  Image: '*\\cmd.exe'\ncondition: sel";
    check(d, r#"{"Image": "D:\\x\\cmd.exe"}"#, "match");
    check(d, r#"{"Image": "cmd.exe"}"#, "no match");
    // `\\*` is a backslash then a wildcard (a lone `\*` would be a literal star).
    let d = "sel:\n  Image: 'C:\\\\*\\cmd.exe'\ncondition: sel";
    check(d, r#"{"Image": "c:\\a\\b\\cmd.exe"}"#, "match");
    check(d, r#"{"Image": "d:\\a\\cmd.exe"}"#, "no match");
    let d = "sel:\n  F: 'a?c'\ncondition: sel";
    check(d, r#"{"F": "abc"}"#, "match");
    check(d, r#"{"F": "abbc"}"#, "no match");
    let d = "sel:\n  F: '*'\ncondition: sel";
    check(d, r#"{"F": "anything"}"#, "match");
    check(d, r#"{"G": "x"}"#, "no match");
}

#[test]
fn escaped_wildcards() {
    // `\*` is a literal star.
    let d = "sel:\n  F: 'a\\*b'\ncondition: sel";
    check(d, r#"{"F": "a*b"}"#, "match");
    check(d, r#"{"F": "axxb"}"#, "no match");
    // `\\*` is a backslash followed by a wildcard.
    let d = "sel:\n  F: 'a\\\\*'\ncondition: sel";
    check(d, r#"{"F": "a\\anything"}"#, "match");
    check(d, r#"{"F": "ab"}"#, "no match");
    // `\\\*` is a backslash and a literal star.
    let d = "sel:\n  F: 'a\\\\\\*'\ncondition: sel";
    check(d, r#"{"F": "a\\*"}"#, "match");
    check(d, r#"{"F": "a\\x"}"#, "no match");
    // A backslash before anything else is plain; `\?` is a literal `?`.
    let d = "sel:\n  F: 'C:\\Temp\\?'\ncondition: sel";
    check(d, r#"{"F": "C:\\Temp?"}"#, "match");
    check(d, r#"{"F": "C:\\Tempx"}"#, "no match");
}

#[test]
fn contains_startswith_endswith_all() {
    check(
        "sel:\n  F|contains: 'mid'\ncondition: sel",
        r#"{"F": "aMIDb"}"#,
        "match",
    );
    check(
        "sel:\n  F|startswith: 'ab'\ncondition: sel",
        r#"{"F": "abc"}"#,
        "match",
    );
    check(
        "sel:\n  F|startswith: 'ab'\ncondition: sel",
        r#"{"F": "cab"}"#,
        "no match",
    );
    check(
        "sel:\n  F|endswith: 'ab'\ncondition: sel",
        r#"{"F": "cab"}"#,
        "match",
    );
    check(
        "sel:\n  F|endswith: 'ab'\ncondition: sel",
        r#"{"F": "abc"}"#,
        "no match",
    );
    let d = "sel:\n  F|contains|all:\n    - ' -a '\n    - ' -b '\ncondition: sel";
    check(d, r#"{"F": "x -b  -a y"}"#, "match");
    check(d, r#"{"F": "x -a y"}"#, "no match");
    let d = "sel:\n  F|contains:\n    - 'one'\n    - 'two'\ncondition: sel";
    check(d, r#"{"F": "xtwo"}"#, "match");
    check(d, r#"{"F": "three"}"#, "no match");
    // Several values of one field (arrays): any value satisfies a test.
    check(
        "sel:\n  F: b\ncondition: sel",
        r#"{"F": ["a", "b"]}"#,
        "match",
    );
}

#[test]
fn windash() {
    let d = "sel:\n  CommandLine|windash|contains: ' -enc '\ncondition: sel";
    for v in [
        " -enc ",
        " /enc ",
        " \u{2013}enc ",
        " \u{2014}enc ",
        " \u{2015}enc ",
    ] {
        check(
            d,
            &format!(r#"{{"CommandLine": "powershell{v}AAA"}}"#),
            "match",
        );
    }
    check(d, r#"{"CommandLine": "powershell enc AAA"}"#, "no match");
    let d = "sel:\n  CommandLine|contains|windash: '-a -b'\ncondition: sel";
    check(d, r#"{"CommandLine": "x /a -b"}"#, "match");
}

#[test]
fn base64_and_utf16() {
    check(
        "sel:\n  F|base64: 'abc'\ncondition: sel",
        r#"{"F": "YWJj"}"#,
        "match",
    );
    let d = "sel:\n  F|base64offset|contains: 'http://'\ncondition: sel";
    for prefix in ["", "x", "xy", "xyz"] {
        let enc = b64(format!("{prefix}http://evil").as_bytes());
        check(d, &format!(r#"{{"F": "{enc}"}}"#), "match");
    }
    check(d, &format!(r#"{{"F": "{}"}}"#, b64(b"https:/")), "no match");
    let d = "sel:\n  F|utf16le|base64offset|contains: 'iex'\ncondition: sel";
    for prefix in ["", "a", "ab"] {
        let s: Vec<u8> = format!("{prefix}iex(x)")
            .encode_utf16()
            .flat_map(u16::to_le_bytes)
            .collect();
        check(d, &format!(r#"{{"F": "{}"}}"#, b64(&s)), "match");
    }
    let d = "sel:\n  F|wide|base64: 'ab'\ncondition: sel";
    check(d, &format!(r#"{{"F": "{}"}}"#, b64(b"a\0b\0")), "match");
    let d = "sel:\n  F|utf16be|base64: 'ab'\ncondition: sel";
    check(d, &format!(r#"{{"F": "{}"}}"#, b64(b"\0a\0b")), "match");
    let d = "sel:\n  F|utf16|base64: 'ab'\ncondition: sel";
    check(
        d,
        &format!(r#"{{"F": "{}"}}"#, b64(b"\xff\xfea\0b\0")),
        "match",
    );
    check("sel:\n  F|base64: 'a*'\ncondition: sel", "{}", "error:");
}

#[test]
fn null_empty_missing_exists() {
    let null = "sel:\n  F: null\ncondition: sel";
    check(null, r#"{"G": 1}"#, "match");
    check(null, r#"{"F": null}"#, "match");
    check(null, r#"{"F": ""}"#, "no match");
    let empty = "sel:\n  F: ''\ncondition: sel";
    check(empty, r#"{"F": ""}"#, "match");
    check(empty, r#"{"G": 1}"#, "no match");
    check(empty, r#"{"F": null}"#, "no match");
    let ex = "sel:\n  F|exists: true\ncondition: sel";
    check(ex, r#"{"F": ""}"#, "match");
    check(ex, r#"{"F": null}"#, "match");
    check(ex, r#"{"G": 1}"#, "no match");
    let nex = "sel:\n  F|exists: false\ncondition: sel";
    check(nex, r#"{"G": 1}"#, "match");
    check(nex, r#"{"F": 1}"#, "no match");
    check(
        "sel:\n  F:\n    - ''\n    - null\ncondition: sel",
        "{}",
        "error:",
    );
    check(
        "sel:\n  F|exists: yes please\ncondition: sel",
        "{}",
        "error:",
    );
}

#[test]
fn numbers_and_numeric_strings() {
    let d = "sel:\n  EventID: 4688\ncondition: sel";
    check(d, r#"{"EventID": 4688}"#, "match");
    check(d, r#"{"EventID": "4688"}"#, "match");
    check(d, r#"{"EventID": 46880}"#, "no match");
    let d = "sel:\n  EventID: '4688'\ncondition: sel";
    check(d, r#"{"EventID": 4688}"#, "match");
    check(d, r#"{"EventID": "4688"}"#, "match");
    let d = "sel:\n  F|gt: 10\ncondition: sel";
    check(d, r#"{"F": 11}"#, "match");
    check(d, r#"{"F": "11"}"#, "match");
    check(d, r#"{"F": 10}"#, "no match");
    check("sel:\n  F|gte: 10\ncondition: sel", r#"{"F": 10}"#, "match");
    check("sel:\n  F|lt: 10\ncondition: sel", r#"{"F": 9.5}"#, "match");
    check(
        "sel:\n  F|lte: 10\ncondition: sel",
        r#"{"F": 11}"#,
        "no match",
    );
    check("sel:\n  F|lt: abc\ncondition: sel", "{}", "error:");
    check("sel:\n  F: true\ncondition: sel", r#"{"F": true}"#, "match");
    check(
        "sel:\n  F: true\ncondition: sel",
        r#"{"F": "TRUE"}"#,
        "match",
    );
    check(
        "sel:\n  F: false\ncondition: sel",
        r#"{"F": true}"#,
        "no match",
    );
}

#[test]
fn cased_and_regex() {
    let d = "sel:\n  F|cased: 'Abc'\ncondition: sel";
    check(d, r#"{"F": "Abc"}"#, "match");
    check(d, r#"{"F": "abc"}"#, "no match");
    check(
        "sel:\n  F|contains|cased: 'Bc'\ncondition: sel",
        r#"{"F": "aBcd"}"#,
        "match",
    );
    check(
        "sel:\n  F|contains|cased: 'Bc'\ncondition: sel",
        r#"{"F": "abcd"}"#,
        "no match",
    );
    check(
        "sel:\n  F|re: '^a.c$'\ncondition: sel",
        r#"{"F": "abc"}"#,
        "match",
    );
    check(
        "sel:\n  F|re: '^a.c$'\ncondition: sel",
        r#"{"F": "ABC"}"#,
        "no match",
    );
    check(
        "sel:\n  F|re|i: '^a.c$'\ncondition: sel",
        r#"{"F": "ABC"}"#,
        "match",
    );
    check(
        "sel:\n  F|re: '^b$'\ncondition: sel",
        r#"{"F": "a\nb"}"#,
        "no match",
    );
    check(
        "sel:\n  F|re|m: '^b$'\ncondition: sel",
        r#"{"F": "a\nb"}"#,
        "match",
    );
    check(
        "sel:\n  F|re: 'a.b'\ncondition: sel",
        r#"{"F": "a\nb"}"#,
        "no match",
    );
    check(
        "sel:\n  F|re|s: 'a.b'\ncondition: sel",
        r#"{"F": "a\nb"}"#,
        "match",
    );
    check(
        "sel:\n  F|re: '(unclosed'\ncondition: sel",
        "{}",
        "error: r.yml:5:7: `F|re`: invalid regular expression",
    );
    check("sel:\n  F|i: 'x'\ncondition: sel", "{}", "error:");
    check("sel:\n  F|re|contains: 'x'\ncondition: sel", "{}", "error:");
}

#[test]
fn cidr() {
    let d = "sel:\n  Ip|cidr: 10.0.0.0/8\ncondition: sel";
    check(d, r#"{"Ip": "10.1.2.3"}"#, "match");
    check(d, r#"{"Ip": "11.1.2.3"}"#, "no match");
    check(d, r#"{"Ip": "not an ip"}"#, "no match");
    let d = "sel:\n  Ip|cidr:\n    - '2001:db8::/32'\n    - 'fe80::/10'\ncondition: sel";
    check(d, r#"{"Ip": "2001:db8:1::5"}"#, "match");
    check(d, r#"{"Ip": "fe80::1"}"#, "match");
    check(d, r#"{"Ip": "2001:db9::1"}"#, "no match");
    check(
        "sel:\n  Ip|cidr: 10.0.0.0/33\ncondition: sel",
        "{}",
        "error:",
    );
}

#[test]
fn fieldref_neq_expand_time() {
    let d = "sel:\n  A|fieldref: B\ncondition: sel";
    check(d, r#"{"A": "x", "B": "X"}"#, "match");
    check(d, r#"{"A": "x", "B": "y"}"#, "no match");
    check(d, r#"{"A": "x"}"#, "no match");
    let d = "sel:\n  A|fieldref|neq: B\ncondition: sel";
    check(d, r#"{"A": "x", "B": "y"}"#, "match");
    check(d, r#"{"A": "x", "B": "x"}"#, "no match");
    let d = "sel:\n  F|neq: 'a'\ncondition: sel";
    check(d, r#"{"F": "b"}"#, "match");
    check(d, r#"{"F": "A"}"#, "no match");
    check(d, r#"{"G": "b"}"#, "no match");
    let mut cfg = Config::default();
    cfg.placeholders
        .insert("admins".into(), vec!["adm_*".into(), "root".into()]);
    let d = "sel:\n  User|expand: '%admins%'\ncondition: sel";
    check_with(&cfg, d, r#"{"User": "adm_bob"}"#, "match");
    check_with(&cfg, d, r#"{"User": "root"}"#, "match");
    check_with(&cfg, d, r#"{"User": "bob"}"#, "no match");
    check(
        d,
        r#"{"User": "root"}"#,
        "error: r.yml: `User`: `expand`: unknown placeholder %admins%",
    );
    let d = "sel:\n  User|expand: '\\%lit%admins%'\ncondition: sel";
    check_with(&cfg, d, r#"{"User": "%litroot"}"#, "match");
    let d = "sel:\n  User: '%admins%'\ncondition: sel";
    check_with(&cfg, d, r#"{"User": "%admins%"}"#, "match");
    let d = "sel:\n  T|hour: 7\ncondition: sel";
    check(d, r#"{"T": "2025-11-27T07:40:10Z"}"#, "match");
    check(d, r#"{"T": "2025-11-27 08:40:10.123"}"#, "no match");
    check(
        "sel:\n  T|month|gte: 11\ncondition: sel",
        r#"{"T": "2025-11-27T07:40:10Z"}"#,
        "match",
    );
    check(
        "sel:\n  T|year: 2024\ncondition: sel",
        r#"{"T": "2025-11-27T07:40:10Z"}"#,
        "no match",
    );
    check(
        "sel:\n  T|minute: 40\ncondition: sel",
        r#"{"T": "2025-11-27T07:40:10Z"}"#,
        "match",
    );
    check(
        "sel:\n  T|day: 27\ncondition: sel",
        r#"{"T": "2025-11-27T07:40:10Z"}"#,
        "match",
    );
    check(
        "sel:\n  T|week: 48\ncondition: sel",
        r#"{"T": "2025-11-27T07:40:10Z"}"#,
        "match",
    );
}

#[test]
fn keywords() {
    let d = "keywords:\n  - 'mimikatz'\n  - 'sekurlsa::*'\ncondition: keywords";
    check(d, r#"{"A": "run MIMIKATZ now"}"#, "match");
    check(d, r#"{"A": 1, "B": "sekurlsa::logonpasswords"}"#, "match");
    check(d, r#"{"A": "nothing"}"#, "no match");
    let d = "keywords: 'evil'\ncondition: keywords";
    check(d, r#"{"X": "so evil"}"#, "match");
    let d = "keywords:\n  '|all':\n    - 'a1'\n    - 'b2'\ncondition: keywords";
    check(d, r#"{"X": "a1", "Y": "b2"}"#, "match");
    check(d, r#"{"X": "a1"}"#, "no match");
}

#[test]
fn conditions() {
    let sels = "sel_a:\n  A: 1\nsel_b:\n  B: 1\nfilter_c:\n  C: 1\n";
    let c = |cond: &str| format!("{sels}condition: {cond}");
    check(
        &c("sel_a and sel_b"),
        r#"{"A": 1, "B": 1}"#,
        "match sel_a,sel_b",
    );
    check(&c("sel_a and sel_b"), r#"{"A": 1}"#, "no match");
    check(&c("sel_a or sel_b"), r#"{"B": 1}"#, "match sel_b");
    check(
        &c("sel_a and not filter_c"),
        r#"{"A": 1, "C": 1}"#,
        "no match",
    );
    check(
        &c("(sel_a or sel_b) and not filter_c"),
        r#"{"B": 1}"#,
        "match",
    );
    check(&c("1 of sel_*"), r#"{"B": 1}"#, "match");
    check(&c("all of sel_*"), r#"{"B": 1}"#, "no match");
    check(&c("all of sel_*"), r#"{"A": 1, "B": 1}"#, "match");
    check(&c("1 of them"), r#"{"C": 1}"#, "match");
    check(&c("all of them"), r#"{"A": 1, "B": 1}"#, "no match");
    check(&c("all of them"), r#"{"A": 1, "B": 1, "C": 1}"#, "match");
    check(&c("not 1 of them"), r#"{"D": 1}"#, "match");
    check(&c("nope"), "{}", "error: r.yml");
    check(&c("1 of x*"), "{}", "error:");
    // A list of maps is OR; one map is AND.
    let d = "sel:\n  - A: 1\n    B: 1\n  - C: 1\ncondition: sel";
    check(d, r#"{"A": 1}"#, "no match");
    check(d, r#"{"A": 1, "B": 1}"#, "match");
    check(d, r#"{"C": 1}"#, "match");
    // A list of conditions is OR.
    let d = "a:\n  A: 1\nb:\n  B: 1\ncondition:\n  - a\n  - b";
    check(d, r#"{"B": 1}"#, "match");
}

#[test]
fn parse_errors_name_file_and_line() {
    check(
        "sel:\n  F|bogus: x\ncondition: sel",
        "{}",
        "error: r.yml:5:7: unknown modifier `bogus` in `F|bogus`",
    );
    check(
        "sel:\n  F: x\ncondition: sel | count() > 5",
        "{}",
        "error: r.yml:6:5: unsupported: legacy aggregation",
    );
    check(
        "sel:\n  F: x\ntimeframe: 5m\ncondition: sel",
        "{}",
        "error: r.yml:6:5: unsupported: legacy `timeframe`",
    );
    check("sel:\n  F: [x\ncondition: sel", "{}", "error: r.yml:");
    check(
        "sel:\n  F: x",
        "{}",
        "error: r.yml:3:1: detection has no `condition`",
    );
}

#[test]
fn multi_document_global() {
    let text = "action: global\ntitle: base\nlogsource: {product: test}\ndetection:\n  condition: sel\n---\ndetection:\n  sel: {A: 1}\n---\ndetection:\n  sel: {B: 1}\n";
    let docs = parse_file("m.yml", text);
    assert_eq!(docs.len(), 2);
    let reg = FieldRegistry::new();
    let (set, errors) = RuleSet::load([("m.yml", text)], &reg, &Config::default());
    assert!(errors.is_empty(), "{errors:?}");
    assert_eq!(set.rules().len(), 2);
    assert_eq!(set.evaluate(&event(&reg, r#"{"B": 1}"#)).len(), 1);
}

#[test]
fn metadata() {
    let text = "title: T\nid: 11111111-2222-3333-4444-555555555555\nname: n\nstatus: test\n\
        description: d\nreferences: [r1]\nauthor: a\ndate: 2024-01-02\nmodified: 2024/02/03\n\
        tags: [attack.execution, attack.t1059.001, cve.2021-44228]\n\
        related:\n  - {id: x, type: derived}\nlogsource: {product: Windows, category: process_creation}\n\
        detection: {sel: {A: 1}, condition: sel}\nfields: [A]\nfalsepositives: unknown\nlevel: high\n";
    let Ok(Document::Rule(r)) = &parse_file("m.yml", text)[0] else {
        panic!()
    };
    assert_eq!(r.meta.title, "T");
    assert_eq!(r.meta.name.as_deref(), Some("n"));
    assert_eq!(r.meta.level, Some(crate::Level::High));
    assert_eq!(r.meta.status, Some(crate::Status::Test));
    assert_eq!(r.meta.tags.len(), 3);
    assert_eq!(r.meta.date.as_deref(), Some("2024-01-02"));
    assert_eq!(r.meta.falsepositives, vec!["unknown"]);
    assert_eq!(r.meta.related[0].kind, "derived");
    assert_eq!(r.logsource.product.as_deref(), Some("windows"));
    assert_eq!(r.fields, vec!["A"]);
    let bad = text.replace("level: high", "level: severe");
    assert!(
        parse_file("m.yml", &bad)[0]
            .as_ref()
            .unwrap_err()
            .to_string()
            .contains("unknown level")
    );
}

#[test]
fn correlation_and_filter() {
    let text = "title: brute\nid: c1\ncorrelation:\n  type: event_count\n  rules: [failed_login]\n\
        group-by: [IpAddress]\n  timespan: 5m\n  condition: {gte: 10}\nlevel: high\n";
    let text = text.replace("group-by", "  group-by");
    let Ok(Document::Correlation(c)) = &parse_file("c.yml", &text)[0] else {
        panic!("{:?}", parse_file("c.yml", &text))
    };
    assert_eq!(c.kind, crate::CorrelationType::EventCount);
    assert_eq!(c.timespan_secs, 300);
    assert_eq!(c.group_by, vec!["IpAddress"]);
    assert!(c.condition.as_ref().unwrap().holds(10.0));
    assert!(!c.condition.as_ref().unwrap().holds(9.0));
    let bad = text.replace("5m", "5x");
    assert!(parse_file("c.yml", &bad)[0].is_err());

    let rule =
        "title: r\nid: r1\nlogsource: {product: test}\ndetection: {sel: {A: 1}, condition: sel}\n";
    let filter = "title: f\nlogsource: {product: test}\nfilter:\n  rules: [r1]\n  selection: {User|startswith: adm_}\n  condition: not selection\n";
    let reg = FieldRegistry::new();
    let (set, errors) = RuleSet::load(
        [("r.yml", rule), ("f.yml", filter)],
        &reg,
        &Config::default(),
    );
    assert!(errors.is_empty(), "{errors:?}");
    assert_eq!(
        set.evaluate(&event(&reg, r#"{"A": 1, "User": "bob"}"#))
            .len(),
        1
    );
    assert_eq!(
        set.evaluate(&event(&reg, r#"{"A": 1, "User": "adm_x"}"#))
            .len(),
        0
    );
}

#[test]
fn spec_correlation_examples_parse() {
    // The spec's own examples, written out here in short form.
    for (ty, cond) in [
        ("event_count", "condition: {gte: 100}"),
        ("value_count", "condition: {field: User, gt: 5, lte: 10}"),
        ("temporal", ""),
        ("temporal_ordered", ""),
        ("value_sum", "condition: {field: Bytes, gt: 1000}"),
        ("value_avg", "condition: {field: Bytes, gt: 1000}"),
        ("value_percentile", "condition: {field: Image, lte: 10}"),
    ] {
        let text = format!(
            "title: x\ncorrelation:\n  type: {ty}\n  rules: [a, b]\n  group-by: [H]\n  timespan: 1h\n  {cond}\n"
        );
        assert!(
            parse_file("c.yml", &text)[0].is_ok(),
            "{ty}: {:?}",
            parse_file("c.yml", &text)
        );
    }
    let text = "title: x\ncorrelation:\n  type: value_count\n  rules: [a]\n  timespan: 1h\n  condition: {gt: 5}\n";
    assert!(
        parse_file("c.yml", text)[0].is_err(),
        "value_count needs a field"
    );
}

#[test]
fn logsource_routing_windows() {
    let rule = "title: r\nlogsource: {product: windows, category: process_creation}\n\
        detection: {sel: {Image|endswith: '\\cmd.exe'}, condition: sel}\n";
    let reg = FieldRegistry::new();
    let (set, errors) = RuleSet::load([("r.yml", rule)], &reg, &Config::default());
    assert!(errors.is_empty());
    let sysmon1 = r#"{"Channel": "Microsoft-Windows-Sysmon/Operational", "EventID": 1, "Image": "C:\\cmd.exe"}"#;
    let sysmon11 = r#"{"Channel": "Microsoft-Windows-Sysmon/Operational", "EventID": 11, "Image": "C:\\cmd.exe"}"#;
    let sec4688 = r#"{"Channel": "Security", "EventID": 4688, "NewProcessName": "C:\\cmd.exe"}"#;
    assert_eq!(set.evaluate(&event(&reg, sysmon1)).len(), 1);
    assert_eq!(
        set.evaluate(&event(&reg, sysmon11)).len(),
        0,
        "other category"
    );
    let v = set.evaluate(&event(&reg, sec4688));
    assert_eq!(v.len(), 1, "4688 maps NewProcessName to Image");
    assert_eq!(&*v[0].fields[0].0, "Image");
    assert_eq!(
        reg.name(v[0].fields[0].1).as_deref(),
        Some("NewProcessName")
    );
    // ECS-shaped JSON.
    let ecs = r#"{"winlog.channel": "Microsoft-Windows-Sysmon/Operational", "winlog.event_id": 1, "process.executable": "C:\\cmd.exe"}"#;
    assert_eq!(set.evaluate(&event(&reg, ecs)).len(), 1);
    // A linux rule never fires on a Windows event.
    let lrule =
        "title: l\nlogsource: {product: linux}\ndetection: {sel: {A: 1}, condition: not sel}\n";
    let (set, _) = RuleSet::load([("l.yml", lrule)], &reg, &Config::default());
    assert_eq!(set.evaluate(&event(&reg, sysmon1)).len(), 0);
}

/// A product-less rule for a category no mapping defines (SigmaHQ's
/// generic `proxy`, `webserver`, `antivirus` …) applies to events no
/// mapping classifies, not to Windows event log records.
#[test]
fn logsource_routing_unmapped_generic_category() {
    let rule = "title: w\nlogsource: {category: webserver}\n\
        detection: {keywords: ['${jndi:'], condition: keywords}\n";
    let reg = FieldRegistry::new();
    let (set, errors) = RuleSet::load([("w.yml", rule)], &reg, &Config::default());
    assert!(errors.is_empty(), "{errors:?}");
    let web = r#"{"cs-uri-query": "x=${jndi:ldap://a}", "c-ip": "192.0.2.1"}"#;
    assert_eq!(set.evaluate(&event(&reg, web)).len(), 1, "unclassified");
    let win = r#"{"Channel": "Security", "EventID": 4688, "CommandLine": "echo ${jndi:ldap://a}"}"#;
    assert_eq!(set.evaluate(&event(&reg, win)).len(), 0, "a Windows event");
    // With a product, the rule's own product decides, as before.
    let rule = "title: a\nlogsource: {product: windows, category: antivirus}\n\
        detection: {keywords: ['${jndi:'], condition: keywords}\n";
    let (set, errors) = RuleSet::load([("a.yml", rule)], &reg, &Config::default());
    assert!(errors.is_empty(), "{errors:?}");
    assert_eq!(set.evaluate(&event(&reg, win)).len(), 1, "product windows");
}

#[test]
fn logsource_routing_linux_sshd() {
    let rule = "title: ssh fail\nlogsource: {product: linux, service: sshd}\n\
        detection: {sel: {event.outcome: failure, user: root}, condition: sel}\n";
    let reg = FieldRegistry::new();
    let (set, errors) = RuleSet::load([("r.yml", rule)], &reg, &Config::default());
    assert!(errors.is_empty(), "{errors:?}");
    let raw = event(
        &reg,
        r#"{"log.syslog.appname": "sshd", "message": "Failed password for root from 10.0.0.5 port 5 ssh2"}"#,
    );
    assert_eq!(set.evaluate(&raw).len(), 0, "not parsed yet");
    let e = crate::linux::enrich_syslog_event(&raw, &reg);
    assert_eq!(e.get_str(reg.get("source.ip").unwrap()), Some("10.0.0.5"));
    assert_eq!(set.evaluate(&e).len(), 1);
    let sudo = event(
        &reg,
        r#"{"log.syslog.appname": "sudo", "message": "Failed password for root from 1.1.1.1 port 5 ssh2"}"#,
    );
    assert_eq!(
        set.evaluate(&crate::linux::enrich_syslog_event(&sudo, &reg))
            .len(),
        0,
        "other service"
    );
}

#[test]
fn rule_set_is_shareable_and_scratch_reusable() {
    fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<RuleSet>();
    let reg = FieldRegistry::new();
    let rule =
        "title: r\nlogsource: {product: test}\ndetection: {sel: {A|contains: x}, condition: sel}\n";
    let (set, _) = RuleSet::load([("r.yml", rule)], &reg, &Config::default());
    let (other, _) = RuleSet::load([("o.yml", rule), ("p.yml", rule)], &reg, &Config::default());
    let mut scratch = other.scratch();
    let mut out = Vec::new();
    for _ in 0..3 {
        set.evaluate_with(&mut scratch, &event(&reg, r#"{"A": "axb"}"#), &mut out);
    }
    assert_eq!(out.len(), 3);
}

#[test]
fn unicode_case_folding() {
    let d = "sel:\n  F|contains: 'Überweisung'\ncondition: sel";
    check(d, r#"{"F": "die ÜBERWEISUNG ist da"}"#, "match");
    check(d, r#"{"F": "die überweisung ist da"}"#, "match");
    check(
        "sel:\n  F|cased: 'Ü'\ncondition: sel",
        r#"{"F": "ü"}"#,
        "no match",
    );
}

#[test]
fn numeric_equality_forms_and_gating() {
    let d = "sel:\n  EventID: 4688\ncondition: sel";
    for ok in [
        r#"{"EventID": 4688.0}"#,
        r#"{"EventID": " 4688 "}"#,
        r#"{"EventID": "+4688"}"#,
        r#"{"EventID": "04688"}"#,
    ] {
        check(d, ok, "match");
    }
    for no in [
        r#"{"EventID": "4688x"}"#,
        r#"{"EventID": "4.688e3"}"#,
        r#"{"EventID": 46880}"#,
    ] {
        check(d, no, "no match");
    }
    let d = "sel:\n  N: -5\ncondition: sel";
    check(d, r#"{"N": "-05"}"#, "match");
    check(d, r#"{"N": -5}"#, "match");
    check(d, r#"{"N": 5}"#, "no match");
}

#[test]
fn gated_regexes_and_conjunctive_gates() {
    // The regex runs only when its necessary literal is in the field; the
    // gate never hides a match: ASCII case, numbers as text, arrays,
    // Unicode case classes (`(?i)k` also matches the Kelvin sign).
    let re = "sel:\n  F|re: 'powershell.*-enc'\ncondition: sel";
    check(re, r#"{"F": "x powershell -nop -enc AAA"}"#, "match sel");
    check(re, r#"{"F": "x PowerShell -enc AAA"}"#, "no match");
    check(re, r#"{"F": "-enc powershell"}"#, "no match");
    check(re, r#"{"F": ["a", "powershell -enc"]}"#, "match sel");
    let re_i = "sel:\n  F|re|i: 'mimikatz'\ncondition: sel";
    check(re_i, r#"{"F": "MIMIKATZ.exe"}"#, "match sel");
    check(re_i, "{\"F\": \"mimi\u{212A}atz\"}", "match sel");
    check(re_i, r#"{"F": "mimi"}"#, "no match");
    check(
        "sel:\n  F|re: '^4[0-9]{3}$'\ncondition: sel",
        r#"{"F": 4624}"#,
        "match sel",
    );
    let glob = "sel:\n  F: '*temp*.ps1'\ncondition: sel";
    check(glob, r#"{"F": "C:\\TEMP\\x.PS1"}"#, "match sel");
    check(glob, r#"{"F": "C:\\tmp\\x.ps1"}"#, "no match");
    // A rule needing two literals in two fields is evaluated only when both
    // hit; each alone does not match, a negated selection is not a gate.
    let two = "a:\n  F|contains: 'alpha'\nb:\n  G|contains: 'beta'\nn:\n  H: 'x'\ncondition: a and b and not n";
    check(two, r#"{"F": "alpha", "G": "beta"}"#, "match a,b");
    check(two, r#"{"F": "alpha", "G": "gamma"}"#, "no match");
    check(two, r#"{"F": "gamma", "G": "beta"}"#, "no match");
    check(two, r#"{"F": "alpha", "G": "beta", "H": "x"}"#, "no match");
    // `|all`: each value its own clause.
    let all = "sel:\n  F|contains|all:\n    - 'one'\n    - 'two'\ncondition: sel";
    check(all, r#"{"F": "two and one"}"#, "match sel");
    check(all, r#"{"F": "one only"}"#, "no match");
    // OR of selections: one clause, the union.
    let or = "a:\n  F|endswith: '.exe'\nb:\n  G|re: 'cmd\\.exe /c'\ncondition: a or b";
    check(or, r#"{"G": "cmd.exe /c whoami"}"#, "match b");
    check(or, r#"{"F": "x.EXE"}"#, "match a");
    check(or, r#"{"F": "x.dll", "G": "cmd"}"#, "no match");
}
