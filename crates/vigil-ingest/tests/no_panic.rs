//! Property tests: no input makes the parsers panic, and reading a stream in
//! chunks gives the same events, errors and line numbers as one big buffer.
#![allow(clippy::unwrap_used)]

use proptest::prelude::*;
use vigil_ingest::{InputFormat, LineReader, ParseOptions, parse_lines};
use vigil_model::{FieldRegistry, TenantId, Timestamp};

fn opts(max: usize) -> ParseOptions {
    ParseOptions::new(
        TenantId::DEFAULT,
        "prop",
        Timestamp::from_secs(1_704_153_600),
    )
    .with_max_event_bytes(max)
}

/// Bytes biased towards JSON, syslog, CEF and LEEF syntax, so the fuzzing
/// reaches deep into the parsers instead of failing at the first byte.
fn tokens() -> impl Strategy<Value = Vec<u8>> {
    let token = prop_oneof![
        Just(&b"{"[..]),
        Just(&b"}"[..]),
        Just(&b"["[..]),
        Just(&b"]"[..]),
        Just(&b"\"a\":"[..]),
        Just(&b"\"Event\":{\"EventData\":{"[..]),
        Just(&b"\"@timestamp\":\"2024-02-30T25:00:00Z\""[..]),
        Just(&b"\"Hashes\":\"SHA1=,=x,MD5\""[..]),
        Just(&b"\"User\":\"\\\\\""[..]),
        Just(&b"\"\\ud800\""[..]),
        Just(&b"1e999"[..]),
        Just(&b"-9223372036854775809"[..]),
        Just(&b"18446744073709551616"[..]),
        Just(&b","[..]),
        Just(&b"\n"[..]),
        Just(&b"\r\n"[..]),
        Just(&b"<13>"[..]),
        Just(&b"<999>1 "[..]),
        Just(&b"Feb 29 12:00:00 "[..]),
        Just(&b"2024-05-01T12:00:00+25:00 "[..]),
        Just(&b"host app[1]: "[..]),
        Just(&b"[id p=\"v\\\"\"]"[..]),
        Just(&b"\xEF\xBB\xBF"[..]),
        Just(&b"\xff\xfe"[..]),
        Just(&b" "[..]),
        Just(&b"CEF:0|"[..]),
        Just(&b"CEF:"[..]),
        Just(&b"LEEF:2.0|"[..]),
        Just(&b"LEEF:1.0|V|P|1|e|"[..]),
        Just(&b"|"[..]),
        Just(&b"\\"[..]),
        Just(&b"\\="[..]),
        Just(&b"\\|"[..]),
        Just(&b"\\n"[..]),
        Just(&b"src="[..]),
        Just(&b"cs1Label="[..]),
        Just(&b"rt=Feb 29 2023 25:61:61.9999999 XYZ"[..]),
        Just(&b"devTimeFormat='yyyy"[..]),
        Just(&b"devTime="[..]),
        Just(&b"fileHash=D41D8CD98F00B204E9800998ECF8427E"[..]),
        Just(&b"="[..]),
        Just(&b"^"[..]),
        Just(&b"x09|"[..]),
        Just(&b"0x110000|"[..]),
        Just(&b"\t"[..]),
        Just(&b"\xc3\xa9"[..]),
    ];
    prop::collection::vec(token, 0..60).prop_map(|ts| ts.concat())
}

fn check_no_panic(input: &[u8]) {
    let reg = FieldRegistry::new();
    for format in [
        InputFormat::Json,
        InputFormat::Syslog,
        InputFormat::Cef,
        InputFormat::Leef,
        InputFormat::Auto,
    ] {
        let b = parse_lines(input, format, &reg, &opts(64), 1);
        assert!(b.events.len() + b.errors.len() <= b.lines as usize);
        let mut r = LineReader::new(input, 64);
        while let Some(c) = r.next_chunk(3, 100).unwrap() {
            let _ = parse_lines(&c.data, format, &reg, &opts(64), c.first_line);
        }
    }
    let _ = vigil_ingest::gunzip_bounded(input, 1024);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn random_bytes_never_panic(input in prop::collection::vec(any::<u8>(), 0..400)) {
        check_no_panic(&input);
    }

    #[test]
    fn structured_noise_never_panics(input in tokens()) {
        check_no_panic(&input);
    }

    #[test]
    fn chunked_equals_whole(input in tokens(), lines in 1usize..5, bytes in 1usize..200) {
        let reg = FieldRegistry::new();
        let o = opts(40);
        let whole = parse_lines(&input, InputFormat::Auto, &reg, &o, 1);
        let mut r = LineReader::new(&input[..], o.max_event_bytes);
        let (mut events, mut errors, mut total) = (0usize, Vec::new(), 0u64);
        while let Some(c) = r.next_chunk(lines, bytes).unwrap() {
            errors.extend(c.oversize.iter().map(|e| e.line));
            let b = parse_lines(&c.data, InputFormat::Auto, &reg, &o, c.first_line);
            events += b.events.len();
            total += b.lines;
            errors.extend(b.errors.iter().map(|e| e.line));
        }
        errors.sort_unstable();
        let whole_errors: Vec<u64> = whole.errors.iter().map(|e| e.line).collect();
        prop_assert_eq!(events, whole.events.len());
        prop_assert_eq!(errors, whole_errors);
        prop_assert_eq!(total, whole.lines);
    }
}
