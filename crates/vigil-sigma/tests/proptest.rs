//! Property tests: the condition and rule parsers (and the compiler and
//! evaluator behind them) never panic, whatever the input. See: #4

#![allow(clippy::unwrap_used)]

use proptest::prelude::*;
use vigil_model::{EventBuilder, EventFormat, FieldRegistry, TenantId, Timestamp, Value};
use vigil_sigma::{Config, RuleSet, parse_condition, parse_file};

fn condition_text() -> impl Strategy<Value = String> {
    let atom = prop_oneof![
        Just("sel".to_string()),
        Just("filter_1".to_string()),
        Just("1 of sel*".to_string()),
        Just("all of them".to_string()),
        Just("not".to_string()),
        Just("and".to_string()),
        Just("or".to_string()),
        Just("(".to_string()),
        Just(")".to_string()),
        Just("|".to_string()),
        Just("near".to_string()),
        Just("of".to_string()),
        "[a-z_*0-9]{1,6}",
    ];
    prop::collection::vec(atom, 0..20).prop_map(|v| v.join(" "))
}

fn rule_text() -> impl Strategy<Value = String> {
    let modifier = prop_oneof![
        Just(""),
        Just("|contains"),
        Just("|startswith"),
        Just("|endswith"),
        Just("|all"),
        Just("|re"),
        Just("|re|i"),
        Just("|cidr"),
        Just("|base64offset|contains"),
        Just("|windash"),
        Just("|utf16le|base64"),
        Just("|gt"),
        Just("|exists"),
        Just("|fieldref"),
        Just("|expand"),
        Just("|cased"),
        Just("|neq"),
        Just("|hour"),
        Just("|bogus"),
    ];
    let value = prop_oneof![
        Just("null".to_string()),
        Just("true".to_string()),
        Just("42".to_string()),
        Just("''".to_string()),
        "'[a-z*?\\\\%()\\[\\]/.-]{0,12}'",
        Just("[a, 'b*', 3]".to_string()),
        Just("10.0.0.0/8".to_string()),
        Just("'(unclosed'".to_string()),
    ];
    let item = (prop_oneof![Just("F"), Just("G"), Just("")], modifier, value)
        .prop_map(|(f, m, v)| format!("    {f}{m}: {v}\n"));
    (
        prop::collection::vec(item, 1..4),
        condition_text(),
        any::<bool>(),
    )
        .prop_map(|(items, cond, kw)| {
            let sel = if kw {
                "  keywords:\n    - 'abc'\n".to_string()
            } else {
                format!("  sel:\n{}", items.concat())
            };
            format!(
                "title: t\nlogsource: {{product: test}}\ndetection:\n{sel}  condition: {cond}\n"
            )
        })
}

fn event(reg: &FieldRegistry) -> vigil_model::Event {
    let mut b = EventBuilder::new(
        TenantId::DEFAULT,
        Timestamp::from_micros(0),
        "p",
        EventFormat::Json,
        Vec::new(),
    );
    b.push(reg.intern("F").unwrap(), Value::from("abc 10.1.2.3"));
    b.push(reg.intern("G").unwrap(), Value::Int(42));
    b.push(reg.intern("G").unwrap(), Value::Null);
    b.build()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn condition_parser_never_panics(s in condition_text()) {
        let _ = parse_condition(&s);
    }

    #[test]
    fn condition_parser_never_panics_on_bytes(s in "\\PC{0,64}") {
        let _ = parse_condition(&s);
    }

    #[test]
    fn rule_pipeline_never_panics(text in rule_text()) {
        let reg = FieldRegistry::new();
        let (set, _errors) = RuleSet::load([("p.yml", text.as_str())], &reg, &Config::default());
        let _ = set.evaluate(&event(&reg));
    }

    #[test]
    fn rule_parser_never_panics_on_arbitrary_text(text in "\\PC{0,200}") {
        let _ = parse_file("p.yml", &text);
    }
}

#[test]
fn nested_condition_is_bounded() {
    let deep = format!("{}sel{}", "(".repeat(10_000), ")".repeat(10_000));
    assert!(parse_condition(&deep).is_err());
    let nots = format!("{}sel", "not ".repeat(10_000));
    assert!(parse_condition(&nots).is_err());
}

#[test]
fn yaml_alias_bomb_is_rejected() {
    let mut text = String::from("a0: &a0 [x, x, x, x, x, x, x, x, x]\n");
    for i in 1..9 {
        text.push_str(&format!(
            "a{i}: &a{i} [*a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}]\n",
            p = i - 1
        ));
    }
    let r = parse_file("bomb.yml", &text);
    assert!(r.iter().all(Result::is_err));
}
