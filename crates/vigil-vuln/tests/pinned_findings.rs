//! A hand-checked sample of findings from the real OSV records
//! (`$VIGIL_TESTDATA/osv`): Go findings from the real proton-bridge SBOM and
//! PyPI/Go findings from a small SBOM written here, including versions on
//! the not-affected side of `introduced` and `fixed` boundaries. Each pin was
//! checked against the record's events (noted beside it).
#![allow(clippy::unwrap_used)] // tests may unwrap

mod common;

use std::collections::BTreeSet;

use vigil_vuln::osv::OsvDatabase;
use vigil_vuln::sbom;

/// (component purl, vulnerability id, record) that must be found.
const AFFECTED: &[(&str, &str, &str)] = &[
    // real SBOM: proton-bridge v1.8.0
    (
        "pkg:golang/github.com/gin-gonic/gin@v1.4.0",
        "CVE-2020-36567",
        "GO-2020-0001",
    ), // 0 .. <1.6.0
    (
        "pkg:golang/github.com/gin-gonic/gin@v1.4.0",
        "CVE-2020-28483",
        "GO-2021-0052",
    ), // 0 .. <1.7.7
    (
        "pkg:golang/github.com/gin-gonic/gin@v1.4.0",
        "CVE-2023-29401",
        "GO-2023-1737",
    ), // 1.3.1-0.2019… .. <1.9.1
    (
        "pkg:golang/github.com/microcosm-cc/bluemonday@v1.0.2",
        "CVE-2021-29272",
        "GO-2022-0762",
    ), // <1.0.5
    (
        "pkg:golang/github.com/microcosm-cc/bluemonday@v1.0.2",
        "CVE-2021-42576",
        "GO-2022-0588",
    ), // <1.0.16
    (
        "pkg:golang/github.com/nats-io/jwt@v0.3.0",
        "CVE-2020-26892",
        "GO-2022-0380",
    ), // <1.1.0
    (
        "pkg:golang/github.com/sirupsen/logrus@v1.7.0",
        "CVE-2025-65637",
        "GO-2025-4188",
    ), // <1.8.3
    (
        "pkg:golang/github.com/valyala/fasthttp@v1.6.0",
        "CVE-2022-21221",
        "GO-2022-0355",
    ), // <1.34.0
    (
        "pkg:golang/golang.org/x/image@v0.0.0-20190802002840-cff245a6509b",
        "CVE-2024-24792",
        "GO-2024-2937",
    ), // <0.18.0
    // pseudo-version below a pseudo-version fix
    (
        "pkg:golang/golang.org/x/net@v0.0.0-20210405180319-a5a99cb37ef4",
        "CVE-2021-31525",
        "GO-2022-0236",
    ),
    (
        "pkg:golang/golang.org/x/net@v0.0.0-20210405180319-a5a99cb37ef4",
        "CVE-2024-45338",
        "GO-2024-3333",
    ), // <0.33.0
    (
        "pkg:golang/golang.org/x/net@v0.0.0-20210405180319-a5a99cb37ef4",
        "CVE-2025-22870",
        "GO-2025-3503",
    ), // <0.36.0
    // pre-release pseudo-version of v0.3.5 below fix 0.3.7
    (
        "pkg:golang/golang.org/x/text@v0.3.5-0.20201125200606-c27b9fd57aec",
        "CVE-2021-38561",
        "GO-2021-0113",
    ),
    // synthetic SBOM below
    ("pkg:pypi/jinja2@2.10", "CVE-2019-10906", "PYSEC-2019-217"), // 0 .. <2.10.1
    ("pkg:pypi/pyyaml@5.3.1", "CVE-2020-14343", "PYSEC-2021-142"), // 0 .. <5.4 (purl spelled PyYAML)
    ("pkg:pypi/urllib3@1.26.3", "CVE-2021-28363", "PYSEC-2021-59"), // 1.26.0 .. <1.26.4
    ("pkg:pypi/requests@2.2.1", "CVE-2014-1829", "PYSEC-2014-13"), // 0 .. <2.3.0
    (
        "pkg:pypi/cryptography@41.0.5",
        "CVE-2023-49083",
        "PYSEC-2023-254",
    ), // 3.1 .. <41.0.6
    ("pkg:pypi/django@1.0.4", "CVE-2009-2659", "PYSEC-2009-3"),    // 0 .. <1.1
    (
        "pkg:golang/github.com/gin-gonic/gin@v1.5.0",
        "CVE-2020-36567",
        "GO-2020-0001",
    ),
    (
        "pkg:golang/github.com/sirupsen/logrus@v1.9.2",
        "CVE-2025-65637",
        "GO-2025-4188",
    ), // 1.9.2 .. <1.9.3
];

/// (component purl, vulnerability id) that must NOT be found: boundaries.
const NOT_AFFECTED: &[(&str, &str)] = &[
    ("pkg:pypi/jinja2@2.10.1", "CVE-2019-10906"), // == fixed
    ("pkg:pypi/pyyaml@5.4", "CVE-2020-14343"),    // == fixed
    ("pkg:pypi/urllib3@1.25.11", "CVE-2021-28363"), // below introduced 1.26.0
    ("pkg:pypi/urllib3@1.26.4", "CVE-2021-28363"), // == fixed
    ("pkg:pypi/cryptography@3.0", "CVE-2023-49083"), // below introduced 3.1
    ("pkg:pypi/cryptography@41.0.6", "CVE-2023-49083"), // == fixed
    ("pkg:pypi/django@1.1", "CVE-2009-2659"),     // == fixed
    (
        "pkg:golang/github.com/gin-gonic/gin@v1.6.0",
        "CVE-2020-36567",
    ), // == fixed
    (
        "pkg:golang/github.com/gin-gonic/gin@v1.3.0",
        "CVE-2023-29401",
    ), // below introduced
    (
        "pkg:golang/github.com/sirupsen/logrus@v1.9.1",
        "CVE-2025-65637",
    ), // between ranges
];

const SYNTHETIC: &str = r#"{"bomFormat": "CycloneDX", "specVersion": "1.5", "components": [
  {"name": "jinja2", "version": "2.10", "purl": "pkg:pypi/jinja2@2.10"},
  {"name": "jinja2", "version": "2.10.1", "purl": "pkg:pypi/jinja2@2.10.1"},
  {"name": "PyYAML", "version": "5.3.1", "purl": "pkg:pypi/PyYAML@5.3.1"},
  {"name": "PyYAML", "version": "5.4", "purl": "pkg:pypi/PyYAML@5.4"},
  {"name": "urllib3", "version": "1.26.3", "purl": "pkg:pypi/urllib3@1.26.3"},
  {"name": "urllib3", "version": "1.25.11", "purl": "pkg:pypi/urllib3@1.25.11"},
  {"name": "urllib3", "version": "1.26.4", "purl": "pkg:pypi/urllib3@1.26.4"},
  {"name": "requests", "version": "2.2.1", "purl": "pkg:pypi/requests@2.2.1"},
  {"name": "cryptography", "version": "41.0.5", "purl": "pkg:pypi/cryptography@41.0.5"},
  {"name": "cryptography", "version": "3.0", "purl": "pkg:pypi/cryptography@3.0"},
  {"name": "cryptography", "version": "41.0.6", "purl": "pkg:pypi/cryptography@41.0.6"},
  {"name": "Django", "version": "1.0.4", "purl": "pkg:pypi/Django@1.0.4"},
  {"name": "Django", "version": "1.1", "purl": "pkg:pypi/Django@1.1"},
  {"name": "gin", "purl": "pkg:golang/github.com/gin-gonic/gin@v1.5.0"},
  {"name": "gin", "purl": "pkg:golang/github.com/gin-gonic/gin@v1.6.0"},
  {"name": "gin", "purl": "pkg:golang/github.com/gin-gonic/gin@v1.3.0"},
  {"name": "logrus", "purl": "pkg:golang/github.com/sirupsen/logrus@v1.9.1"},
  {"name": "logrus", "purl": "pkg:golang/github.com/sirupsen/logrus@v1.9.2"}
]}"#;

#[test]
fn pinned_findings() {
    let Some(root) = common::testdata() else {
        return;
    };
    let (records, _) = common::load_osv(&root);
    let db = OsvDatabase::new(records);
    let real = std::fs::read_to_string(
        root.join("sbom/cyclonedx/SBOM/proton-bridge/proton-bridge-v1.8.0.bom.json"),
    )
    .unwrap();
    let mut components = sbom::parse(&real).unwrap().components;
    components.extend(sbom::parse(SYNTHETIC).unwrap().components);
    let findings = db.match_components(&components);
    let got: BTreeSet<(String, String, String)> = findings
        .iter()
        .flat_map(|f| {
            f.records
                .iter()
                .map(|r| (f.component.clone(), f.vulnerability.clone(), r.clone()))
        })
        .collect();
    for (purl, vuln, rec) in AFFECTED {
        assert!(
            got.contains(&((*purl).into(), (*vuln).into(), (*rec).into())),
            "missing {purl} {vuln} {rec}"
        );
    }
    let pairs: BTreeSet<(String, String)> = findings
        .iter()
        .map(|f| (f.component.clone(), f.vulnerability.clone()))
        .collect();
    for (purl, vuln) in NOT_AFFECTED {
        assert!(
            !pairs.contains(&((*purl).into(), (*vuln).into())),
            "unexpected {purl} {vuln}"
        );
    }
    let ecosystems: BTreeSet<&str> = findings.iter().map(|f| f.ecosystem.as_str()).collect();
    println!(
        "pinned: {} affected, {} not-affected boundaries; {} findings over {ecosystems:?}",
        AFFECTED.len(),
        NOT_AFFECTED.len(),
        findings.len()
    );
}
