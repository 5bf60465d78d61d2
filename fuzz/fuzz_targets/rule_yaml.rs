//! Any bytes as a Sigma rule file: parse every document, compile what
//! parses (with the built-in mappings) and evaluate it on a small event.
//! Errors are fine; panics, hangs and unbounded memory are bugs. See: #4

#![no_main]

use std::sync::LazyLock;

use libfuzzer_sys::fuzz_target;
use vigil_model::{EventBuilder, EventFormat, FieldRegistry, TenantId, Timestamp, Value};
use vigil_sigma::{Config, RuleSet};

/// The built-in mappings, parsed once (not per input: that dominated the
/// run time).
static CONFIG: LazyLock<Config> = LazyLock::new(Config::default);

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let registry = FieldRegistry::new();
    let (rules, _errors) = RuleSet::load([("fuzz.yml", text)], &registry, &CONFIG);
    let mut b = EventBuilder::new(
        TenantId::DEFAULT,
        Timestamp::from_secs(1_700_000_000),
        "fuzz",
        EventFormat::Json,
        Vec::new(),
    );
    for (name, value) in [
        ("EventID", Value::from(4688_i64)),
        ("CommandLine", Value::from("powershell.exe -enc SQBFAFgA")),
        ("Image", Value::from("C:\\Windows\\System32\\cmd.exe")),
        ("SourceIp", Value::from("2001:db8::1")),
    ] {
        if let Some(f) = registry.intern(name) {
            b.push(f, value);
        }
    }
    let _ = rules.evaluate(&b.build());
});
