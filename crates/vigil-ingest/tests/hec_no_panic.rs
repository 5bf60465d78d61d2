//! Property tests for the HEC parser: no body makes it panic; a body is
//! either all events (one per object, each re-parsing to the same fields)
//! or one error whose event number lies inside the body.
#![allow(clippy::unwrap_used)]

use proptest::prelude::*;
use vigil_ingest::{ParseOptions, parse_hec_body, parse_hec_event, reparse, split_hec_events};
use vigil_model::{FieldRegistry, TenantId, Timestamp};

fn opts() -> ParseOptions {
    ParseOptions::new(
        TenantId::DEFAULT,
        "prop",
        Timestamp::from_secs(1_764_000_000),
    )
    .with_max_event_bytes(4096)
}

/// Bytes made of HEC syntax, so generated bodies reach the mapping code.
fn body() -> impl Strategy<Value = Vec<u8>> {
    let token = prop_oneof![
        Just(&b"{"[..]),
        Just(&b"}"[..]),
        Just(&b"{\"event\":"[..]),
        Just(&b"\"event\":"[..]),
        Just(&b"\"text\""[..]),
        Just(&b"\"\""[..]),
        Just(&b"\"{\\\"user\\\":\\\"x\\\"}\""[..]),
        Just(&b"null"[..]),
        Just(&b"{\"k\":[1,2,{\"z\":true}]}"[..]),
        Just(&b",\"time\":"[..]),
        Just(&b"1764000000.5"[..]),
        Just(&b"\"1e400\""[..]),
        Just(&b"-1e300"[..]),
        Just(&b",\"host\":\"h\""[..]),
        Just(&b",\"fields\":{\"a\":[\"b\",3]}"[..]),
        Just(&b",\"fields\":{\"a\":{}}"[..]),
        Just(&b",\"sourcetype\":7"[..]),
        Just(&b"["[..]),
        Just(&b"]"[..]),
        Just(&b" \n"[..]),
        Just(&b"\xEF\xBB\xBF"[..]),
        Just(&b"\xff"[..]),
    ];
    prop::collection::vec(token, 0..40).prop_map(|t| t.concat())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn all_or_one_error_never_a_panic(body in body()) {
        let reg = FieldRegistry::new();
        let objects = split_hec_events(&body);
        match parse_hec_body(&body, &reg, &opts()) {
            Ok(events) => {
                prop_assert_eq!(events.len(), objects.unwrap().len());
                for e in &events {
                    let again = reparse(e.format, &e.raw, &reg, &opts()).unwrap();
                    prop_assert_eq!(again.fields(), e.fields());
                    prop_assert_eq!(again.time, e.time);
                }
            }
            Err(e) => {
                let n = match objects {
                    Ok(o) => o.len(),
                    Err(s) => s.event + 1,
                };
                prop_assert!(e.event < n.max(1), "{} of {}", e.event, n);
            }
        }
    }

    /// The one-pass body parser gives exactly what splitting first and
    /// parsing each object gives: the same events, or an error at the
    /// same object.
    #[test]
    fn one_pass_equals_split_then_parse(body in body()) {
        let reg = FieldRegistry::new();
        let o = opts();
        let two_pass: Result<Vec<_>, usize> = match split_hec_events(&body) {
            Err(e) => Err(e.event),
            Ok(objects) => objects
                .iter()
                .enumerate()
                .map(|(i, obj)| parse_hec_event(obj, &reg, &o).map_err(|_| i))
                .collect(),
        };
        match (parse_hec_body(&body, &reg, &o), two_pass) {
            (Ok(a), Ok(b)) => {
                prop_assert_eq!(a.len(), b.len());
                for (x, y) in a.iter().zip(&b) {
                    prop_assert_eq!(&x.raw, &y.raw);
                    prop_assert_eq!(x.fields(), y.fields());
                    prop_assert_eq!(x.time, y.time);
                }
            }
            (Err(a), Err(b)) => prop_assert_eq!(a.event, b),
            (a, b) => prop_assert!(false, "one pass {:?} vs two passes {:?}", a.map(|v| v.len()), b.map(|v| v.len())),
        }
    }
}
