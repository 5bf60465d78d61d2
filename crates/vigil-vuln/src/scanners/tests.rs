//! Scanner report tests on small hand-written reports.

use super::*;

/// Renders findings as `id name@version fix:... severity source`.
fn check(text: &str, want: &[&str]) {
    let r = parse_report(text).unwrap();
    let got: Vec<String> = r
        .findings
        .iter()
        .map(|f| {
            format!(
                "{} {}@{} fix:{} {:?} {} {}",
                f.vulnerability,
                f.name.as_deref().unwrap_or("-"),
                f.version.as_deref().unwrap_or("-"),
                f.fixed_version.as_deref().unwrap_or("-"),
                f.severity,
                f.source,
                f.purl.as_ref().map(ToString::to_string).unwrap_or_default()
            )
        })
        .collect();
    assert_eq!(got, want);
}

#[test]
fn trivy() {
    check(
        r#"{"SchemaVersion": 2, "ArtifactName": "img", "Results": [{"Target": "img (debian 12)", "Vulnerabilities": [
            {"VulnerabilityID": "CVE-2023-1", "PkgName": "libc6", "InstalledVersion": "2.36-9", "FixedVersion": "2.36-9+deb12u1, 2.37",
             "Severity": "HIGH", "PkgIdentifier": {"PURL": "pkg:deb/debian/libc6@2.36-9?distro=debian-12"}},
            {"PkgName": "x"}]}]}"#,
        &[
            "CVE-2023-1 libc6@2.36-9 fix:2.36-9+deb12u1 High trivy pkg:deb/debian/libc6@2.36-9?distro=debian-12",
        ],
    );
}

#[test]
fn grype() {
    check(
        r#"{"matches": [{"vulnerability": {"id": "GHSA-xxxx", "severity": "Medium", "fix": {"versions": ["4.17.21"], "state": "fixed"}},
            "relatedVulnerabilities": [{"id": "CVE-2021-23337"}],
            "artifact": {"name": "lodash", "version": "4.17.20", "type": "npm", "purl": "pkg:npm/lodash@4.17.20"}}],
            "source": {"type": "directory", "target": "/src"}}"#,
        &["GHSA-xxxx lodash@4.17.20 fix:4.17.21 Medium grype pkg:npm/lodash@4.17.20"],
    );
}

#[test]
fn osv_scanner() {
    check(
        r#"{"results": [{"source": {"path": "/src/requirements.txt", "type": "lockfile"}, "packages": [
            {"package": {"name": "jinja2", "version": "2.10", "ecosystem": "PyPI"},
             "vulnerabilities": [{"id": "PYSEC-2019-217", "aliases": ["CVE-2019-10906"], "summary": "sandbox escape",
               "affected": [{"ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": "2.10.1"}]}]}]}],
             "groups": [{"ids": ["PYSEC-2019-217", "CVE-2019-10906"], "max_severity": "8.6"}]}]}]}"#,
        &["CVE-2019-10906 jinja2@2.10 fix:2.10.1 High osv-scanner pkg:pypi/jinja2@2.10"],
    );
}

#[test]
fn sarif() {
    check(
        r#"{"version": "2.1.0", "runs": [{"tool": {"driver": {"name": "Trivy", "rules": [
            {"id": "CVE-2022-1", "properties": {"security-severity": "9.8"}, "shortDescription": {"text": "bad"}}]}},
            "results": [{"ruleId": "CVE-2022-1", "ruleIndex": 0, "level": "error",
              "message": {"text": "Package: openssl\nInstalled Version: 3.0.1\nVulnerability CVE-2022-1\nSeverity: CRITICAL\nFixed Version: 3.0.2"},
              "locations": [{"physicalLocation": {"artifactLocation": {"uri": "Dockerfile"}}}]},
              {"message": {"text": "no rule"}}]}]}"#,
        &["CVE-2022-1 openssl@3.0.1 fix:3.0.2 Critical trivy "],
    );
    assert!(parse_report("{}").is_err());
    assert!(parse_report("not json").is_err());
}
