//! Any bytes as a Sigma condition (`sel and not 1 of filter_*`): the
//! condition parser returns a tree or an error, never panics, and stays
//! within its length and nesting bounds. See: #4

#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(s) = std::str::from_utf8(data) {
        let _ = vigil_sigma::parse_condition(s);
    }
});
