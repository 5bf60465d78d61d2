//! Vulnerability management end to end through the real binary: the
//! finding lifecycle across SBOM re-imports (open → fixed → reopened,
//! acceptance expiry, SLA from the configured policy), `vigil scan host`
//! against `dpkg-query`, and the real OSV/KEV/EPSS/SBOM data
//! (`$VIGIL_TESTDATA`). See: #6
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeSet;
use std::path::Path;
use std::process::Command;

const BIN: &str = env!("CARGO_BIN_EXE_vigil");

/// Runs `vigil ARGS` at time `now` (RFC 3339); (status, stdout, stderr).
fn vigil(dir: &Path, now: &str, args: &[&str]) -> (i32, String, String) {
    let out = Command::new(BIN)
        .arg("--data-dir")
        .arg(dir.join("data"))
        .args(args)
        .env_remove("VIGIL_DATABASE")
        .env_remove("VIGIL_CONFIG")
        .env("VIGIL_NOW", now)
        .output()
        .expect("run vigil");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn ok(dir: &Path, now: &str, args: &[&str]) -> String {
    let (code, out, err) = vigil(dir, now, args);
    assert_eq!(
        code, 0,
        "vigil {args:?} failed:\nstdout: {out}\nstderr: {err}"
    );
    out
}

fn json(dir: &Path, now: &str, args: &[&str]) -> serde_json::Value {
    let out = ok(dir, now, args);
    serde_json::from_str(&out).unwrap_or_else(|e| panic!("{args:?}: {e}: {out}"))
}

fn sbom(version: &str) -> String {
    format!(
        r#"{{"bomFormat": "CycloneDX", "specVersion": "1.5", "components": [
          {{"name": "jinja2", "version": "{version}", "purl": "pkg:pypi/jinja2@{version}"}},
          {{"name": "requests", "version": "2.31.0", "purl": "pkg:pypi/requests@2.31.0"}}]}}"#
    )
}

const OSV: &str = r#"{"id": "GHSA-462w-v97r-4m45", "modified": "2024-01-01T00:00:00Z",
  "aliases": ["CVE-2019-10906"], "summary": "Jinja2 sandbox escape",
  "severity": [{"type": "CVSS_V3", "score": "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"}],
  "affected": [{"package": {"ecosystem": "PyPI", "name": "jinja2"},
    "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": "2.10.1"}]}]}]}"#;

fn the_finding(dir: &Path, now: &str) -> serde_json::Value {
    let list = json(dir, now, &["vulns", "list", "--format", "json"]);
    let list = list.as_array().unwrap();
    assert_eq!(list.len(), 1, "{list:?}");
    list[0].clone()
}

fn days_between(a: &str, b: &str) -> i64 {
    let p = |s: &str| {
        vigil_model::Timestamp::parse_rfc3339(s)
            .unwrap()
            .as_micros()
    };
    (p(b) - p(a)) / 86_400_000_000
}

#[test]
fn lifecycle_open_fixed_reopened_accepted_expired() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    std::fs::create_dir_all(d.join("osv")).unwrap();
    std::fs::create_dir_all(d.join("data")).unwrap();
    std::fs::write(d.join("osv/GHSA-462w-v97r-4m45.json"), OSV).unwrap();
    // A policy different from the defaults, to see that it is used.
    std::fs::write(
        d.join("data/vigil.toml"),
        "[vuln.sla]\nimmediate = 3\nout_of_cycle = 9\nscheduled = 40\ndefer = 100\n",
    )
    .unwrap();
    for (i, v) in ["2.10", "2.10.1", "2.10"].iter().enumerate() {
        std::fs::write(d.join(format!("sbom{}.json", i + 1)), sbom(v)).unwrap();
    }
    let t0 = "2026-01-01T00:00:00Z";
    ok(
        d,
        t0,
        &[
            "assets",
            "add",
            "shop",
            "--kind",
            "application",
            "--criticality",
            "5",
            "--exposure",
            "internet-facing",
            "--data",
            "payment",
            "--owner",
            "web team",
        ],
    );
    ok(
        d,
        t0,
        &[
            "vulns",
            "import",
            "osv",
            d.join("osv").to_str().unwrap(),
            "-q",
        ],
    );

    // v1: vulnerable → open, with an SLA from the configured policy.
    let out = ok(
        d,
        t0,
        &[
            "sbom",
            "import",
            d.join("sbom1.json").to_str().unwrap(),
            "--asset",
            "shop",
        ],
    );
    assert!(out.contains("1 new"), "{out}");
    let f = the_finding(d, t0);
    assert_eq!(f["status"], "open");
    assert_eq!(f["vulnerability"], "CVE-2019-10906");
    assert_eq!(f["fixed_versions"], serde_json::json!(["2.10.1"]));
    let days = match f["decision"].as_str().unwrap() {
        "immediate" => 3,
        "out-of-cycle" => 9,
        "scheduled" => 40,
        _ => 100,
    };
    assert_eq!(
        days_between(t0, f["sla_due"].as_str().unwrap()),
        days,
        "{f}"
    );
    let id = f["id"].as_str().unwrap().to_owned();

    // v2: the fixed version → fixed, no SLA.
    let t1 = "2026-01-02T00:00:00Z";
    ok(
        d,
        t1,
        &[
            "sbom",
            "import",
            d.join("sbom2.json").to_str().unwrap(),
            "--asset",
            "shop",
        ],
    );
    let f = the_finding(d, t1);
    assert_eq!(
        (f["status"].as_str(), f["id"].as_str()),
        (Some("fixed"), Some(id.as_str()))
    );
    assert_eq!(days_between(t1, f["fixed_at"].as_str().unwrap()), 0);
    assert!(f["sla_due"].is_null());

    // v3: vulnerable again → reopened; the SLA clock restarts.
    let t2 = "2026-01-03T00:00:00Z";
    ok(
        d,
        t2,
        &[
            "sbom",
            "import",
            d.join("sbom3.json").to_str().unwrap(),
            "--asset",
            "shop",
        ],
    );
    let f = the_finding(d, t2);
    assert_eq!(f["status"], "reopened");
    assert_eq!(days_between(t0, f["first_seen"].as_str().unwrap()), 0);
    assert_eq!(days_between(t2, f["sla_due"].as_str().unwrap()), days);

    // Accepted until the 20th; open again afterwards.
    let (code, _, err) = vigil(
        d,
        t2,
        &[
            "vulns",
            "accept",
            &id,
            "--until",
            "2025-12-31",
            "--reason",
            "x",
        ],
    );
    assert_ne!(code, 0);
    assert!(err.contains("future"), "{err}");
    ok(
        d,
        t2,
        &[
            "vulns",
            "accept",
            &id,
            "--until",
            "2026-01-20",
            "--reason",
            "WAF rule",
        ],
    );
    let f = the_finding(d, "2026-01-10T00:00:00Z");
    assert_eq!(f["status"], "accepted");
    assert_eq!(f["reason"], "WAF rule");
    let t3 = "2026-01-21T00:00:00Z";
    let f = the_finding(d, t3);
    assert_eq!(f["status"], "open");
    assert!(f["accepted_until"].is_null());

    // KEV makes it Immediate and caps the SLA; `top` says why.
    std::fs::write(
        d.join("kev.json"),
        r#"{"vulnerabilities": [{"cveID": "CVE-2019-10906", "vendorProject": "Pallets",
           "product": "Jinja", "vulnerabilityName": "x", "dateAdded": "2026-01-21",
           "dueDate": "2026-02-11", "knownRansomwareCampaignUse": "Unknown"}]}"#,
    )
    .unwrap();
    ok(
        d,
        t3,
        &[
            "vulns",
            "import",
            "kev",
            d.join("kev.json").to_str().unwrap(),
        ],
    );
    let top = json(d, t3, &["vulns", "top", "--format", "json"]);
    let first = &top[0];
    assert_eq!(first["rank"], 1);
    assert_eq!(first["decision"], "immediate");
    assert!(
        first["why"].as_str().unwrap().contains("in CISA KEV"),
        "{first}"
    );
    assert_eq!(days_between(t3, first["sla_due"].as_str().unwrap()), 3);
    let table = ok(d, t3, &["vulns", "top"]);
    assert!(
        table.contains("CVE-2019-10906") && table.contains("Immediate"),
        "{table}"
    );

    // False positive; then a fixed SBOM leaves it a false positive.
    ok(d, t3, &["vulns", "fp", &id, "--reason", "not reachable"]);
    ok(
        d,
        t3,
        &[
            "sbom",
            "import",
            d.join("sbom2.json").to_str().unwrap(),
            "--asset",
            "shop",
        ],
    );
    assert_eq!(the_finding(d, t3)["status"], "false_positive");

    // Shown by finding id and by alias; assets list counts.
    let show = json(
        d,
        t3,
        &["vulns", "show", "GHSA-462w-v97r-4m45", "--format", "json"],
    );
    assert_eq!(show["findings"].as_array().unwrap().len(), 1);
    let assets = json(d, t3, &["assets", "list", "--format", "json"]);
    assert_eq!(assets[0]["name"], "shop");
    assert_eq!(assets[0]["data_classes"], serde_json::json!(["payment"]));
}

#[test]
fn assets_csv_import_reports_bad_rows() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    std::fs::write(
        d.join("assets.csv"),
        "name,kind,ips,criticality,exposure,data_classes,tags\n\
         web1,host,10.0.0.1;10.0.0.2,4,internet-facing,personal;payment,prod\n\
         db1,host,10.0.1.1,9,internal,,\n\
         \"app, main\",application,,2,isolated,health,\n",
    )
    .unwrap();
    let (code, out, err) = vigil(
        d,
        "2026-01-01T00:00:00Z",
        &[
            "assets",
            "import-csv",
            d.join("assets.csv").to_str().unwrap(),
        ],
    );
    assert_eq!(code, 1);
    assert!(out.contains("2 created, 0 updated, 1 rejected"), "{out}");
    assert!(
        err.contains("assets.csv:3:") && err.contains("criticality"),
        "{err}"
    );
    let list = json(
        d,
        "2026-01-01T00:00:00Z",
        &["assets", "list", "--format", "json"],
    );
    let names: Vec<&str> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["app, main", "web1"]);
    assert_eq!(list[1]["ips"], serde_json::json!(["10.0.0.1", "10.0.0.2"]));
    let csv = ok(
        d,
        "2026-01-01T00:00:00Z",
        &["assets", "list", "--format", "csv"],
    );
    assert!(csv.starts_with("name,kind,criticality"), "{csv}");
}

#[test]
fn scan_host_lists_the_dpkg_packages() {
    if !Path::new("/var/lib/dpkg/status").exists() {
        println!("skipped: no dpkg status database on this machine");
        return;
    }
    let q = Command::new("dpkg-query")
        .args([
            "-W",
            "-f",
            "${db:Status-Status} ${Package} ${Version} ${Architecture}\n",
        ])
        .output()
        .expect("dpkg-query");
    let want: BTreeSet<(String, String, String)> = String::from_utf8_lossy(&q.stdout)
        .lines()
        .filter_map(|l| {
            let mut it = l.split(' ');
            (it.next()? == "installed").then_some(())?;
            Some((
                it.next()?.to_owned(),
                it.next()?.to_owned(),
                it.next()?.to_owned(),
            ))
        })
        .collect();
    assert!(!want.is_empty());
    let os = std::fs::read_to_string("/etc/os-release").unwrap_or_default();
    let osr = vigil_vuln::inventory::OsRelease::parse(&os);
    let distro = osr.distro().unwrap_or_default();
    let tmp = tempfile::tempdir().unwrap();
    let rows = json(
        tmp.path(),
        "2026-01-01T00:00:00Z",
        &["scan", "host", "--format", "json"],
    );
    let mut got = BTreeSet::new();
    for r in rows.as_array().unwrap() {
        let purl: vigil_vuln::Purl = r["purl"].as_str().unwrap().parse().unwrap();
        assert_eq!(purl.ty(), "deb");
        assert_eq!(
            purl.namespace(),
            Some(osr.id.as_str())
                .filter(|_| osr.id == "ubuntu")
                .or(Some("debian"))
        );
        assert_eq!(purl.qualifier("distro"), Some(distro.as_str()));
        let arch = purl.qualifier("arch").unwrap_or("").to_owned();
        got.insert((
            purl.name().to_owned(),
            purl.version().unwrap_or("").to_owned(),
            arch,
        ));
    }
    assert_eq!(got, want);
    if osr.id == "debian" && osr.version_id.as_deref() == Some("12") {
        let (n, v, a) = want.iter().find(|(n, _, _)| n == "dpkg").unwrap();
        let want_purl = format!("pkg:deb/debian/{n}@{v}?arch={a}&distro=debian-12");
        assert!(
            rows.as_array()
                .unwrap()
                .iter()
                .any(|r| r["purl"] == want_purl.as_str()),
            "no {want_purl}"
        );
    }
}

/// Hosts seen in events become assets (source `seen_in_events`) or link
/// to existing ones by name (case-insensitive, FQDN to short name) or IP;
/// linking moves only `last_seen`, never what the analyst set. A second
/// pass reads only new events. See: #6
#[test]
fn hosts_seen_in_events_become_assets() {
    let tmp = tempfile::tempdir().unwrap();
    let now = "2026-03-01T00:00:00Z";
    ok(
        tmp.path(),
        now,
        &[
            "assets",
            "add",
            "db1",
            "--criticality",
            "5",
            "--exposure",
            "isolated",
            "--owner",
            "dba",
            "--ip",
            "10.0.0.9",
            "--data",
            "payment",
        ],
    );
    let events = tmp.path().join("events.ndjson");
    std::fs::write(
        &events,
        concat!(
            "{\"message\":\"a\",\"host\":{\"name\":\"web7\",\"ip\":[\"192.0.2.7\",\"127.0.0.1\"]}}\n",
            "{\"message\":\"b\",\"host\":{\"name\":\"WEB7\"}}\n",
            "{\"message\":\"c\",\"host\":{\"name\":\"DB1.corp.example\"}}\n",
            "{\"message\":\"d\",\"host\":{\"ip\":\"10.0.0.9\"}}\n",
            "{\"message\":\"e\",\"host\":{\"ip\":\"198.51.100.3\"}}\n",
            "{\"message\":\"f\"}\n",
        ),
    )
    .unwrap();
    ok(
        tmp.path(),
        now,
        &["ingest", events.to_str().unwrap(), "--format", "json", "-q"],
    );
    let out = ok(tmp.path(), now, &["assets", "discover"]);
    assert!(out.contains("2 created"), "{out}");
    assert!(out.contains("from 6 events"), "{out}");
    let list = json(tmp.path(), now, &["assets", "list", "--format", "json"]);
    let by_name = |n: &str| {
        list.as_array()
            .unwrap()
            .iter()
            .find(|a| a["name"] == n)
            .cloned()
            .unwrap_or_else(|| panic!("no asset {n}: {list}"))
    };
    assert_eq!(list.as_array().unwrap().len(), 3, "{list}");
    let web = by_name("web7");
    assert_eq!(web["source"], "seen_in_events");
    assert_eq!(web["ips"], serde_json::json!(["192.0.2.7"]));
    assert_eq!(
        (web["criticality"].as_u64(), web["exposure"].as_str()),
        (Some(3), Some("internal"))
    );
    assert!(web["last_seen"].is_string());
    let bare = by_name("198.51.100.3");
    assert_eq!(bare["source"], "seen_in_events");
    let db = by_name("db1");
    assert_eq!(db["source"], "manual");
    assert!(db["last_seen"].is_string(), "linked: {db}");
    assert_eq!(db["criticality"], 5);
    assert_eq!(db["exposure"], "isolated");
    assert_eq!(db["owner"], "dba");
    assert_eq!(db["data_classes"], serde_json::json!(["payment"]));
    let out = ok(tmp.path(), now, &["assets", "discover"]);
    assert!(out.contains("0 created, 0 linked, from 0 events"), "{out}");
}

/// `vigil scan host` reads the RPM sqlite database (Fedora 33+, RHEL 9):
/// the committed fixture (`tests/fixtures/make_rpmdb.py`) holds four
/// packages, a gpg-pubkey pseudo-package (skipped) and a damaged header
/// (reported with its hnum; the others still come through, exit code 1).
/// Stored components keep the epoch. See: #6
#[test]
fn scan_host_reads_the_rpm_sqlite_database() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/rpmroot");
    let root = root.to_str().unwrap();
    let tmp = tempfile::tempdir().unwrap();
    let now = "2026-01-01T00:00:00Z";
    let (code, out, err) = vigil(
        tmp.path(),
        now,
        &[
            "scan", "host", "--root", root, "--asset", "fedora1", "--format", "json",
        ],
    );
    assert_eq!(code, 1, "{err}");
    assert!(
        err.contains("rpmdb.sqlite: Packages hnum 6: rpm-header:"),
        "{err}"
    );
    let rows: serde_json::Value = serde_json::from_str(&out).unwrap();
    let purls: Vec<&str> = rows
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["purl"].as_str().unwrap())
        .collect();
    assert_eq!(
        purls,
        [
            "pkg:rpm/fedora/bash@5.2.26-3.fc40?arch=x86_64&distro=fedora-40",
            "pkg:rpm/fedora/openssl-libs@3.2.2-3.fc40?arch=x86_64&distro=fedora-40&epoch=1",
            "pkg:rpm/fedora/tzdata@2024a-5.fc40?arch=noarch&distro=fedora-40",
            "pkg:rpm/fedora/glibc@2.39-17.fc40?arch=i686&distro=fedora-40",
        ]
    );
    assert_eq!(rows[1]["version"], "1:3.2.2-3.fc40");
    let shown = json(
        tmp.path(),
        now,
        &["assets", "show", "fedora1", "--format", "json"],
    );
    let stored: Vec<(&str, &str)> = shown["components"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| (c["purl"].as_str().unwrap(), c["version"].as_str().unwrap()))
        .collect();
    assert!(
        stored.contains(&(
            "pkg:rpm/fedora/openssl-libs@3.2.2-3.fc40?arch=x86_64&distro=fedora-40&epoch=1",
            "1:3.2.2-3.fc40"
        )),
        "{stored:?}"
    );
    assert_eq!(stored.len(), 4);
}

#[test]
fn real_data_osv_kev_epss_and_an_sbom_give_findings() {
    let Some(root) = std::env::var_os("VIGIL_TESTDATA") else {
        println!("skipped: VIGIL_TESTDATA not set");
        return;
    };
    let root = Path::new(&root);
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    let now = "2026-01-01T00:00:00Z";
    let p = |s: &str| root.join(s).to_str().unwrap().to_owned();
    let out = ok(d, now, &["vulns", "import", "osv", &p("osv"), "-q"]);
    assert!(out.contains("records imported"), "{out}");
    let out = ok(
        d,
        now,
        &[
            "vulns",
            "import",
            "kev",
            &p("kev/known_exploited_vulnerabilities.json"),
        ],
    );
    assert!(out.contains("entries imported, 0 rejected"), "{out}");
    let out = ok(
        d,
        now,
        &["vulns", "import", "epss", &p("epss/epss_kev_nvd.csv")],
    );
    assert!(out.contains("scores imported"), "{out}");
    ok(
        d,
        now,
        &[
            "assets",
            "add",
            "bridge",
            "--exposure",
            "internet-facing",
            "--criticality",
            "4",
        ],
    );
    let out = ok(
        d,
        now,
        &[
            "sbom",
            "import",
            &p("sbom/cyclonedx/SBOM/proton-bridge/proton-bridge-v1.8.0.bom.json"),
            "--asset",
            "bridge",
        ],
    );
    println!("{out}");
    let list = json(d, now, &["vulns", "list", "--format", "json"]);
    let list = list.as_array().unwrap();
    assert!(list.len() >= 10, "{} findings", list.len());
    assert!(list.iter().any(|f| f["vulnerability"] == "CVE-2020-36567"
        && f["component"] == "pkg:golang/github.com/gin-gonic/gin@v1.4.0"));
    assert!(
        list.iter()
            .all(|f| f["status"] == "open" && !f["decision"].as_str().unwrap().is_empty())
    );
    let top = json(d, now, &["vulns", "top", "-n", "5", "--format", "json"]);
    assert_eq!(top.as_array().unwrap().len(), 5);
    println!("{}", ok(d, now, &["vulns", "top", "-n", "5"]));
}
