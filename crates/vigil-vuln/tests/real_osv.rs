//! Real OSV data (`$VIGIL_TESTDATA/osv`): every record parses and compiles.
#![allow(clippy::unwrap_used)] // tests may unwrap

mod common;

use vigil_vuln::osv::OsvDatabase;

#[test]
fn all_osv_records_parse() {
    let Some(root) = common::testdata() else {
        return;
    };
    let start = std::time::Instant::now();
    let (records, failures) = common::load_osv(&root);
    let n = records.len();
    let db = OsvDatabase::new(records);
    let secs = start.elapsed().as_secs_f64();
    let s = db.stats();
    println!(
        "osv: {n} records parsed, {} failures, {} withdrawn, {} affected entries, {} vulnerabilities after alias merge, {} problems, {:.0} records/s (debug build, incl. file reads)",
        failures.len(),
        s.withdrawn,
        s.entries,
        s.vulnerabilities,
        db.problems().len(),
        n as f64 / secs
    );
    for f in &failures {
        println!("failure: {f}");
    }
    for p in db.problems().iter().take(50) {
        println!("problem: {}: {}", p.record_id, p.reason);
    }
    assert!(
        failures.is_empty(),
        "{} files failed to parse",
        failures.len()
    );
    assert!(n >= 3000, "only {n} records");
}
