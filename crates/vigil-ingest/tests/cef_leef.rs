//! CEF and LEEF over the fixture corpus in `tests/fixtures`: vendor-style
//! lines modelled on the public ArcSight CEF and QRadar LEEF documentation,
//! raw and inside RFC 3164 / RFC 5424 syslog, with exact field checks, and a
//! mixed batch whose malformed lines are reported by line and reason while
//! the rest goes through. See: #3
#![allow(clippy::unwrap_used)]

use std::path::PathBuf;

use vigil_ingest::{
    Batch, InputFormat, ParseOptions, parse_cef_record, parse_leef_record, parse_lines, reparse,
};
use vigil_model::{Event, EventFormat, FieldRegistry, TenantId, Timestamp};

/// Received 2024-06-04T00:00:00Z (resolves the year of dates without one).
fn opts() -> ParseOptions {
    ParseOptions::new(
        TenantId::DEFAULT,
        "fixture",
        Timestamp::from_secs(1_717_459_200),
    )
}

fn fixture(name: &str) -> Vec<u8> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn parse(reg: &FieldRegistry, name: &str, format: InputFormat) -> Batch {
    parse_lines(&fixture(name), format, reg, &opts(), 1)
}

/// The first value of `name` as text.
fn field(reg: &FieldRegistry, e: &Event, name: &str) -> Option<String> {
    reg.get(name)
        .and_then(|id| e.get(id))
        .map(|v| v.to_text().into_owned())
}

/// Asserts `name=value` pairs (`value` `-` for "absent") on one event.
fn check(reg: &FieldRegistry, e: &Event, want: &[(&str, &str)]) {
    for (name, value) in want {
        let got = field(reg, e, name);
        let want = (*value != "-").then(|| value.to_string());
        assert_eq!(got, want, "{name} of {}", e.raw_text());
    }
}

fn time(e: &Event) -> String {
    e.time.map_or("-".into(), |t| t.to_rfc3339())
}

const CORPUS: &[(&str, InputFormat, usize)] = &[
    ("cef/arcsight_spec.log", InputFormat::Cef, 6),
    ("cef/vendors.log", InputFormat::Cef, 7),
    ("cef/syslog_wrapped.log", InputFormat::Syslog, 3),
    ("leef/leef1.log", InputFormat::Leef, 3),
    ("leef/leef2.log", InputFormat::Leef, 5),
    ("leef/syslog_wrapped.log", InputFormat::Syslog, 2),
];

#[test]
fn whole_corpus_parses_with_its_format_and_auto() {
    for (name, format, n) in CORPUS {
        // Raw records also go through the syslog parser (listeners use it):
        // a bare `CEF:`/`LEEF:` line needs no syslog header.
        for f in [*format, InputFormat::Auto, InputFormat::Syslog] {
            let reg = FieldRegistry::new();
            let b = parse(&reg, name, f);
            assert!(b.errors.is_empty(), "{name} as {f}: {:?}", b.errors);
            assert_eq!(b.events.len(), *n, "{name} as {f}");
            for e in &b.events {
                let want = match (f, *format) {
                    (InputFormat::Syslog, _) | (_, InputFormat::Syslog) => EventFormat::Syslog,
                    (_, InputFormat::Leef) => EventFormat::Leef,
                    _ => EventFormat::Cef,
                };
                assert_eq!(e.format, want, "{name}");
                // Recovery re-parses from the raw bytes to the same fields.
                let again = reparse(e.format, &e.raw, &reg, &opts()).unwrap();
                assert_eq!(again.fields(), e.fields(), "{}", e.raw_text());
                assert_eq!(again.time, e.time);
            }
        }
    }
}

#[test]
fn arcsight_spec_escapes() {
    let reg = FieldRegistry::new();
    let b = parse(&reg, "cef/arcsight_spec.log", InputFormat::Cef);
    let e = &b.events;
    check(
        &reg,
        &e[0],
        &[
            ("cef.version", "0"),
            ("cef.device_vendor", "Security"),
            ("cef.device_product", "threatmanager"),
            ("cef.device_version", "1.0"),
            ("cef.signature_id", "100"),
            ("cef.name", "worm successfully stopped"),
            ("cef.severity", "10"),
            ("source.ip", "10.0.0.1"),
            ("destination.ip", "2.1.2.2"),
            ("source.port", "1232"),
            ("event.severity", "10"),
            ("message", "worm successfully stopped"),
        ],
    );
    check(
        &reg,
        &e[1],
        &[
            ("cef.name", "detected a | in message"),
            ("cef.extensions.act", "blocked a |"),
            ("event.action", "blocked a |"),
            ("destination.ip", "1.1.1.1"),
        ],
    );
    check(
        &reg,
        &e[2],
        &[
            ("cef.name", "detected a \\ in packet"),
            ("cef.extensions.act", "blocked a \\"),
        ],
    );
    check(
        &reg,
        &e[3],
        &[
            ("cef.extensions.act", "blocked a ="),
            ("cef.extensions.dst", "1.1.1.1"),
        ],
    );
    check(
        &reg,
        &e[4],
        &[
            ("message", "Detected a threat.\nNo action needed."),
            ("cef.extensions.Connector Name", "Syslog Daemon"),
            ("host.name", "esm01"),
            ("observer.hostname", "esm01"),
            ("event.severity", "3"),
        ],
    );
    assert_eq!(time(&e[4]), "2024-09-05T08:26:10.123000Z");
    check(
        &reg,
        &e[5],
        &[
            ("cef.version", "1"),
            ("cef.severity", "Unknown"),
            ("event.severity", "-"),
        ],
    );
}

#[test]
fn cef_vendor_samples() {
    let reg = FieldRegistry::new();
    let b = parse(&reg, "cef/vendors.log", InputFormat::Cef);
    let e = &b.events;
    // Check Point: labelled custom string, epoch-millisecond `rt`.
    check(
        &reg,
        &e[0],
        &[
            ("cef.device_vendor", "Check Point"),
            ("cef.extensions.Rule Name", "Allow outbound web"),
            ("cef.extensions.layer_name", "Network"),
            ("network.transport", "tcp"),
            ("destination.port", "443"),
            ("event.action", "Accept"),
            ("source.nat.ip", "192.0.2.10"),
            ("source.nat.port", "40412"),
            ("network.direction", "outbound"),
        ],
    );
    assert_eq!(time(&e[0]), "2024-06-03T10:20:00.000000Z");
    // Palo Alto: escaped backslash in a domain user, empty `duser`.
    check(
        &reg,
        &e[1],
        &[
            ("cef.extensions.suser", "acme\\jdoe"),
            ("user.name", "jdoe"),
            ("user.domain", "acme"),
            ("cef.extensions.duser", ""),
            ("destination.user.name", "-"),
            ("cef.extensions.Virtual System", "vsys1"),
            ("cef.extensions.Source Zone", "trust"),
            ("source.port", "53412"),
            ("source.bytes", "1520"),
            ("destination.bytes", "6410"),
        ],
    );
    assert_eq!(time(&e[1]), "2024-06-03T10:20:00.000000Z");
    // Fortinet: vendor keys, `shost`, `app`.
    check(
        &reg,
        &e[2],
        &[
            ("cef.extensions.FTNTFGTlevel", "notice"),
            ("source.address", "laptop-7"),
            ("network.protocol", "https"),
            ("source.ip", "192.168.1.20"),
        ],
    );
    // Trend Micro: escaped Windows path, SHA-1 by length.
    check(
        &reg,
        &e[3],
        &[
            ("file.path", "C:\\Users\\bob\\Downloads\\eicar.com"),
            ("file.name", "eicar.com"),
            ("file.hash.sha1", "3395856ce81f2b7382dee72602f798b642f14140"),
            ("cef.extensions.Host ID", "1"),
            ("host.name", "web-01"),
            ("user.name", "bob"),
            ("message", "Realtime"),
        ],
    );
    // Imperva: multi-line message with `\=`, URL with an escaped `=` and a
    // raw one, user agent with spaces, start/end times.
    check(
        &reg,
        &e[4],
        &[
            ("message", "SQL injection blocked\nuser=admin payload"),
            ("url.full", "https://shop.example.com/login?user=x&next=/"),
            ("http.request.method", "POST"),
            ("user_agent.original", "Mozilla/5.0 (X11; Linux x86_64)"),
            ("event.start", "2024-06-03T07:33:20.000000Z"),
            ("event.end", "2024-06-03T07:43:20.000000Z"),
            ("event.severity", "8"),
            ("cef.extensions.Country", "NL"),
        ],
    );
    assert_eq!(time(&e[4]), "2024-06-03T07:43:20.000000Z");
    check(
        &reg,
        &e[5],
        &[
            ("source.ip", "10.2.3.4"),
            ("destination.port", "22"),
            ("user.name", "Anonymous"),
        ],
    );
    // McAfee: unescaped backslashes are kept (lenient), process fields.
    check(
        &reg,
        &e[6],
        &[
            ("file.path", "C:\\Temp\\eicar.exe"),
            ("file.name", "eicar.exe"),
            ("destination.address", "ws-12"),
            ("process.name", "explorer.exe"),
            ("process.pid", "4312"),
            ("event.severity", "10"),
        ],
    );
}

#[test]
fn cef_inside_syslog_keeps_the_header() {
    for format in [InputFormat::Syslog, InputFormat::Auto] {
        let reg = FieldRegistry::new();
        let b = parse(&reg, "cef/syslog_wrapped.log", format);
        let e = &b.events;
        // RFC 3164, payload where the tag would be.
        check(
            &reg,
            &e[0],
            &[
                ("host.name", "fw01"),
                ("process.name", "-"),
                ("log.syslog.facility.name", "local0"),
                ("cef.device_product", "PAN-OS"),
                ("source.ip", "10.0.0.10"),
                ("user.name", "jdoe"),
                ("message", "TRAFFIC"),
            ],
        );
        assert_eq!(time(&e[0]), "2024-06-03T10:20:00.000000Z");
        // RFC 3164 with a tag: the tag stays the process.
        check(
            &reg,
            &e[1],
            &[
                ("host.name", "ids01"),
                ("process.name", "snort"),
                ("process.pid", "221"),
                ("cef.signature_id", "1:2000"),
                ("message", "two\nlines"),
                ("destination.ip", "10.0.0.2"),
            ],
        );
        // RFC 5424: the header host wins over `dvchost` for host.name.
        check(
            &reg,
            &e[2],
            &[
                ("host.name", "host.example.com"),
                ("observer.hostname", "conn01"),
                ("log.syslog.version", "1"),
                ("process.pid", "4242"),
                ("message", "escaped \\ and = and |"),
            ],
        );
        assert_eq!(time(&e[2]), "2024-06-03T10:20:02.120000Z");
        assert_eq!(e[2].host.as_deref(), Some("host.example.com"));
    }
}

#[test]
fn leef_samples_and_delimiters() {
    let reg = FieldRegistry::new();
    let b = parse(&reg, "leef/leef1.log", InputFormat::Leef);
    let e = &b.events;
    check(
        &reg,
        &e[0],
        &[
            ("leef.version", "1.0"),
            ("leef.vendor", "Microsoft"),
            ("leef.product", "MSExchange"),
            ("leef.product_version", "4.0 SP1"),
            ("leef.event_id", "15345"),
            ("leef.attributes.spoofed", "0"),
            ("source.ip", "10.50.1.1"),
            ("destination.ip", "2.10.20.20"),
            ("user.name", "joe.black"),
            ("event.severity", "5"),
            ("event.code", "15345"),
        ],
    );
    check(
        &reg,
        &e[1],
        &[
            ("source.port", "1025"),
            ("destination.port", "80"),
            ("network.transport", "tcp"),
            ("rule.name", "allow-web"),
        ],
    );
    check(
        &reg,
        &e[2],
        &[
            ("user.name", "alice"),
            ("user.domain", "CORP"),
            ("leef.attributes.identHostName", "laptop-9"),
            ("host.name", "-"),
            ("file.path", "C:\\Users\\alice\\x.exe"),
            ("file.name", "x.exe"),
            ("event.action", "Quarantined"),
        ],
    );
    assert_eq!(time(&e[2]), "2024-06-03T10:20:00.000000Z");

    let b = parse(&reg, "leef/leef2.log", InputFormat::Leef);
    let e = &b.events;
    check(
        &reg,
        &e[0],
        &[
            ("leef.delimiter", "^"),
            ("source.ip", "10.0.1.8"),
            ("source.port", "81"),
            ("destination.port", "21"),
        ],
    );
    check(
        &reg,
        &e[1],
        &[
            ("leef.delimiter", "x09"),
            ("user.name", "jdoe"),
            ("user.domain", "acme"),
            ("source.bytes", "1520"),
            ("destination.bytes", "6410"),
            ("leef.attributes.cat", "TRAFFIC"),
        ],
    );
    assert_eq!(time(&e[1]), "2024-06-03T10:20:00.000000Z");
    check(
        &reg,
        &e[2],
        &[
            ("leef.delimiter", "|"),
            ("source.ip", "192.0.2.9"),
            ("user.name", "bob"),
            ("url.full", "https://portal.example.com/a?b=1"),
            ("message", "login ok"),
        ],
    );
    check(
        &reg,
        &e[3],
        &[
            ("leef.delimiter", "0x5E"),
            ("leef.attributes.msg", "a^b in one value"),
        ],
    );
    assert_eq!(time(&e[3]), "2024-06-03T10:20:00.000000Z");
    check(
        &reg,
        &e[4],
        &[("leef.delimiter", "-"), ("destination.ip", "10.4.4.4")],
    );

    let b = parse(&reg, "leef/syslog_wrapped.log", InputFormat::Auto);
    check(
        &reg,
        &b.events[0],
        &[
            ("host.name", "qradar-gw"),
            ("process.name", "-"),
            ("user.name", "carol"),
            ("leef.event_id", "41"),
        ],
    );
    // The QRadar guide's header without a priority, an address as host.
    let e = &b.events[1];
    check(
        &reg,
        e,
        &[
            ("host.name", "192.168.1.1"),
            ("log.syslog.facility.code", "-"),
            ("leef.version", "1.0"),
            ("leef.attributes.cat", "anomaly"),
            ("destination.port", "21"),
            ("user.name", "joe.black"),
        ],
    );
    assert_eq!(time(e), "2024-01-18T11:07:53.000000Z");
}

#[test]
fn mixed_batch_reports_malformed_lines_and_keeps_the_rest() {
    let reg = FieldRegistry::new();
    let b = parse(&reg, "mixed.log", InputFormat::Auto);
    let errors: Vec<String> = b.errors.iter().map(ToString::to_string).collect();
    assert_eq!(
        errors,
        [
            "line 2: CEF header has 5 of 7 fields before the extension",
            "line 4: LEEF version \"3.0\" is not 1.0 or 2.0",
            "line 6: unterminated escape at the end of the CEF extension",
            "line 8: CEF header has 2 of 7 fields before the extension",
            "line 9: LEEF 2.0 delimiter \"xZZ\" is not a character or a hex code (x09, 0x5E)",
        ]
    );
    assert_eq!(b.lines, 11);
    let ips: Vec<Option<String>> = b
        .events
        .iter()
        .map(|e| field(&reg, e, "source.ip"))
        .collect();
    assert_eq!(
        ips,
        [
            Some("10.0.0.1".into()),
            Some("10.0.0.2".into()),
            None,
            Some("10.0.0.3".into()),
            None,
        ]
    );
    // `src=10.0.0.4 junk`: the value keeps its space, so it is no address.
    assert_eq!(
        field(&reg, &b.events[4], "cef.extensions.src").as_deref(),
        Some("10.0.0.4 junk")
    );
    let formats: Vec<EventFormat> = b.events.iter().map(|e| e.format).collect();
    assert_eq!(
        formats,
        [
            EventFormat::Cef,
            EventFormat::Leef,
            EventFormat::Syslog,
            EventFormat::Json,
            EventFormat::Cef,
        ]
    );
}

#[test]
fn single_record_entry_points() {
    let reg = FieldRegistry::new();
    let e = parse_cef_record(b"CEF:0|V|P|1|s|n|3|suser=x", &reg, &opts()).unwrap();
    assert_eq!(field(&reg, &e, "user.name").as_deref(), Some("x"));
    assert_eq!(e.format, EventFormat::Cef);
    let e = parse_leef_record(b"LEEF:1.0|V|P|1|e|usrName=y", &reg, &opts()).unwrap();
    assert_eq!(field(&reg, &e, "user.name").as_deref(), Some("y"));
    assert!(
        parse_cef_record(b"<13>Jun  3 10:20:00 h CEF:0|V|P|1|s|n|3|", &reg, &opts())
            .unwrap_err()
            .contains("needs format syslog or auto")
    );
    assert!(parse_leef_record(b"\xff", &reg, &opts()).is_err());
}
