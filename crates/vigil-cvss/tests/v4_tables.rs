//! Our CVSS v4.0 MacroVector scoring agrees with the calculator's data
//! tables in `$VIGIL_TESTDATA/cvss/cvss-v4-calculator/cvss40_tables.json`
//! and with SSVC's CVSS v4 equivalence-set tables in
//! `$VIGIL_TESTDATA/ssvc/csv/cvss` — checked through the public API: for
//! every MacroVector, its highest-severity vector scores the table's value.

#![allow(clippy::unwrap_used)]

use vigil_cvss::{Score, Vector};
use vigil_testkit::testdata as data_dir;

/// A vector whose effective metrics are the first highest-severity vector
/// of the MacroVector `mv` (the calculator's MAX_COMPOSED), written with
/// the given max parts.
fn max_vector(tables: &serde_json::Value, mv: &str) -> String {
    let d: Vec<char> = mv.chars().collect();
    let first = |v: &serde_json::Value| v[0].as_str().unwrap().to_owned();
    let mc = &tables["MAX_COMPOSED"];
    let eq1 = first(&mc["eq1"][d[0].to_string()]);
    let eq2 = first(&mc["eq2"][d[1].to_string()]);
    let eq36 = first(&mc["eq3"][d[2].to_string()][d[5].to_string()]);
    let eq4 = first(&mc["eq4"][d[3].to_string()]);
    let eq5 = first(&mc["eq5"][d[4].to_string()]);
    let all = format!("{eq1}{eq2}{eq36}{eq4}{eq5}");
    let get = |k: &str| -> String {
        all.split('/')
            .find_map(|p| p.strip_prefix(&format!("{k}:")))
            .unwrap()
            .to_owned()
    };
    // SI/SA may be S (Safety), which only the modified metrics allow.
    let (si, msi) = match get("SI").as_str() {
        "S" => ("H".to_owned(), "/MSI:S"),
        v => (v.to_owned(), ""),
    };
    let (sa, msa) = match get("SA").as_str() {
        "S" => ("H".to_owned(), "/MSA:S"),
        v => (v.to_owned(), ""),
    };
    format!(
        "CVSS:4.0/AV:{}/AC:{}/AT:{}/PR:{}/UI:{}/VC:{}/VI:{}/VA:{}/SC:{}/SI:{si}/SA:{sa}/E:{}/CR:{}/IR:{}/AR:{}{msi}{msa}",
        get("AV"),
        get("AC"),
        get("AT"),
        get("PR"),
        get("UI"),
        get("VC"),
        get("VI"),
        get("VA"),
        get("SC"),
        get("E"),
        get("CR"),
        get("IR"),
        get("AR"),
    )
}

#[test]
fn every_macrovector_scores_its_table_value_at_its_highest_vector() {
    let Some(dir) = data_dir() else { return };
    let path = dir.join("cvss/cvss-v4-calculator/cvss40_tables.json");
    let tables: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    let lookup = tables["LOOKUP_TABLE"].as_object().unwrap();
    let mut n = 0;
    for (mv, score) in lookup {
        let want = Score::from_tenths((score.as_f64().unwrap() * 10.0).round() as i64);
        let vector = max_vector(&tables, mv);
        let v: Vector = vector.parse().unwrap();
        let Vector::V4(v4) = &v else { panic!() };
        let got: String = v4.macrovector().iter().map(|d| d.to_string()).collect();
        assert_eq!(&got, mv, "{vector}");
        // The all-N impact exception does not apply: every max vector has
        // some impact.
        assert_eq!(v4.scores().score(), want, "{vector} (MacroVector {mv})");
        n += 1;
    }
    println!("CVSS 4.0: {n} MacroVectors checked against the lookup table");
    assert_eq!(n, 270);
}

/// SSVC publishes the v4 equivalence sets as decision tables; EQ1 and EQ2
/// map base metric values to a level, which must be our EQ digit.
#[test]
fn equivalence_sets_match_ssvc_tables() {
    let Some(dir) = data_dir() else { return };
    let csv = dir.join("ssvc/csv/cvss/cvss_v4_equivalence_set_1_1_0_0.csv");
    let Ok(text) = std::fs::read_to_string(&csv) else {
        println!("skipped: {} absent", csv.display());
        return;
    };
    let mut lines = text.lines();
    let header = lines.next().unwrap();
    println!("EQ1 table header: {header}");
    let mut n = 0;
    for line in lines {
        let cols: Vec<&str> = line.split(',').collect();
        // row, Attack Vector, Privileges Required, User Interaction, EQ1
        let code = |s: &str| -> String {
            match s.trim().to_ascii_lowercase().as_str() {
                "network" => "N",
                "adjacent" => "A",
                "local" => "L",
                "physical" => "P",
                "none" => "N",
                "low" => "L",
                "high" => "H",
                "passive" => "P",
                "active" => "A",
                other => panic!("unknown value {other:?} in {line}"),
            }
            .to_owned()
        };
        let v = format!(
            "CVSS:4.0/AV:{}/AC:L/AT:N/PR:{}/UI:{}/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N",
            code(cols[1]),
            code(cols[2]),
            code(cols[3])
        );
        let Ok(Vector::V4(v4)) = v.parse::<Vector>() else {
            panic!("{v}")
        };
        let level = cols[4].trim().to_ascii_lowercase();
        let want = match level.as_str() {
            "high" => 0,
            "medium" => 1,
            "low" => 2,
            other => panic!("unknown EQ1 level {other:?}"),
        };
        assert_eq!(v4.macrovector()[0], want, "{line}");
        n += 1;
    }
    println!("EQ1: {n} rows agree");
    assert!(n > 0);
}

/// Every metric value FIRST's calculator defines (`metrics.json`) is
/// accepted in its place, and reads back as written.
#[test]
fn every_calculator_metric_value_parses() {
    let Some(dir) = data_dir() else { return };
    let path = dir.join("cvss/cvss-v4-calculator/metrics.json");
    let metrics: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();

    fn values_in(v: &serde_json::Value, out: &mut Vec<String>) {
        match v {
            serde_json::Value::Object(m) => {
                if let Some(serde_json::Value::String(s)) = m.get("value") {
                    out.push(s.clone());
                }
                for x in m.values() {
                    values_in(x, out);
                }
            }
            serde_json::Value::Array(a) => a.iter().for_each(|x| values_in(x, out)),
            _ => {}
        }
    }
    fn metrics_in(v: &serde_json::Value, out: &mut Vec<(String, Vec<String>)>) {
        if let serde_json::Value::Object(m) = v {
            if let (Some(serde_json::Value::String(short)), Some(options)) =
                (m.get("short"), m.get("options"))
            {
                let mut vals = Vec::new();
                values_in(options, &mut vals);
                vals.dedup();
                out.push((short.clone(), vals));
                return;
            }
            for x in m.values() {
                metrics_in(x, out);
            }
        }
    }
    let mut found = Vec::new();
    metrics_in(&metrics, &mut found);

    let base = [
        ("AV", "N"),
        ("AC", "L"),
        ("AT", "N"),
        ("PR", "N"),
        ("UI", "N"),
        ("VC", "H"),
        ("VI", "H"),
        ("VA", "H"),
        ("SC", "N"),
        ("SI", "N"),
        ("SA", "N"),
    ];
    let mut n = 0;
    for (short, values) in &found {
        for value in values {
            let mut parts: Vec<String> = base
                .iter()
                .map(|(k, v)| {
                    let v = if k == short { value.as_str() } else { v };
                    format!("{k}:{v}")
                })
                .collect();
            if !base.iter().any(|(k, _)| k == short) {
                parts.push(format!("{short}:{value}"));
            }
            let vector = format!("CVSS:4.0/{}", parts.join("/"));
            let v: Vector = vector.parse().unwrap_or_else(|e| panic!("{vector}: {e}"));
            assert_eq!(v.get(short), Some(value.as_str()), "{vector}");
            n += 1;
        }
    }
    println!(
        "CVSS 4.0: {} metrics, {n} values from metrics.json parse",
        found.len()
    );
    assert_eq!(found.len(), 32, "{found:?}");
}
