//! Matching tests over small hand-written records.

use super::*;
use crate::component::Component;

const RECORDS: &str = r#"[
 {"id": "GHSA-aaaa-bbbb-cccc", "aliases": ["CVE-2024-0001"], "modified": "2024-01-01T00:00:00Z",
  "affected": [{"package": {"ecosystem": "npm", "name": "left-pad"},
    "ranges": [{"type": "SEMVER", "events": [{"introduced": "0"}, {"fixed": "1.3.0"}]}]}]},
 {"id": "OSV-2024-1", "aliases": ["CVE-2024-0001"], "modified": "2024-01-01T00:00:00Z",
  "affected": [{"package": {"ecosystem": "npm", "name": "left-pad"},
    "versions": ["2.0.0"]}]},
 {"id": "DEBIAN-CVE-2024-0002", "modified": "2024-01-01T00:00:00Z",
  "affected": [{"package": {"ecosystem": "Debian:12", "name": "openssl"},
    "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": "3.0.11-1~deb12u1"}]}]}]},
 {"id": "GHSA-wwww-xxxx-yyyy", "withdrawn": "2024-02-01T00:00:00Z", "modified": "2024-01-01T00:00:00Z",
  "affected": [{"package": {"ecosystem": "PyPI", "name": "Django"},
    "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}]}]}]},
 {"id": "RHSA-2024:1", "modified": "2024-01-01T00:00:00Z",
  "affected": [{"package": {"ecosystem": "Red Hat:enterprise_linux:9::baseos", "name": "curl"},
    "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": "0:7.76.1-29.el9"}]}]}]},
 {"id": "PYSEC-2024-9", "modified": "2024-01-01T00:00:00Z",
  "affected": [{"package": {"ecosystem": "PyPI", "name": "zope.interface"},
    "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "4.0"}, {"last_affected": "4.5.0"}]}]}]}
]"#;

/// Matches `purl` and renders the findings as `ID(records)[fixed]`.
fn check(db: &OsvDatabase, purl: &str, want: &str) {
    let c = Component::from_purl(purl.parse().unwrap());
    let got: Vec<String> = db
        .match_component(&c)
        .iter()
        .map(|f| {
            format!(
                "{}({})[{}]",
                f.vulnerability,
                f.records.join(","),
                f.fixed.join(",")
            )
        })
        .collect();
    assert_eq!(got.join(" "), want, "{purl}");
}

#[test]
fn matching() {
    let db = OsvDatabase::new(parse_json(RECORDS).unwrap());
    assert!(db.problems().is_empty(), "{:?}", db.problems());
    check(
        &db,
        "pkg:npm/left-pad@1.2.9",
        "CVE-2024-0001(GHSA-aaaa-bbbb-cccc)[1.3.0]",
    );
    check(&db, "pkg:npm/left-pad@1.3.0", "");
    check(&db, "pkg:npm/left-pad@2.0.0", "CVE-2024-0001(OSV-2024-1)[]");
    check(
        &db,
        "pkg:deb/debian/openssl@3.0.9-1?distro=debian-12",
        "DEBIAN-CVE-2024-0002(DEBIAN-CVE-2024-0002)[3.0.11-1~deb12u1]",
    );
    check(
        &db,
        "pkg:deb/debian/openssl@3.0.11-1~deb12u1?distro=debian-12",
        "",
    );
    check(&db, "pkg:deb/debian/openssl@3.0.9-1?distro=debian-11", "");
    check(&db, "pkg:pypi/django@1.0", "");
    check(
        &db,
        "pkg:rpm/redhat/curl@7.76.1-26.el9?distro=rhel-9.2",
        "RHSA-2024:1(RHSA-2024:1)[0:7.76.1-29.el9]",
    );
    check(&db, "pkg:rpm/redhat/curl@7.76.1-26.el8?distro=rhel-8.9", "");
    check(
        &db,
        "pkg:pypi/Zope_Interface@4.5",
        "PYSEC-2024-9(PYSEC-2024-9)[]",
    );
    check(&db, "pkg:pypi/zope-interface@4.5.1", "");
    let bad = Component::from_purl("pkg:pypi/zope.interface@not-a-version".parse().unwrap());
    assert!(matches!(
        db.match_component_strict(&bad),
        Err(crate::Error::Version { .. })
    ));
    let unknown = Component::from_purl("pkg:pypi/other@not-a-version".parse().unwrap());
    assert_eq!(db.match_component_strict(&unknown), Ok(Vec::new()));
    let s = db.stats();
    assert_eq!((s.records, s.withdrawn, s.entries), (6, 1, 5));
    assert_eq!(
        db.alias_group("OSV-2024-1"),
        ["CVE-2024-0001", "GHSA-aaaa-bbbb-cccc", "OSV-2024-1"]
    );
}

#[test]
fn bad_records() {
    assert!(parse_json("{}").is_err());
    assert!(
        parse_json(
            r#"{"id": "X", "affected": [{"ranges": [{"type": "SEMVER", "events": [{}]}]}]}"#
        )
        .is_err()
    );
    let db = OsvDatabase::new(
        parse_json(
            r#"{"id": "X", "affected": [{"package": {"ecosystem": "Nope", "name": "a"}},
            {"package": {"ecosystem": "npm", "name": "a"}, "ranges": [{"type": "SEMVER", "events": [{"introduced": "x.y"}]}]}]}"#,
        )
        .unwrap(),
    );
    assert_eq!(db.problems().len(), 2);
}
