//! SBOM parser tests on small hand-written documents.

use super::*;

/// Parses `text` and renders `key` of each component, space-separated.
fn check(text: &str, want: &str) {
    let sbom = parse(text).unwrap();
    let got: Vec<String> = sbom.components.iter().map(|c| c.key()).collect();
    assert_eq!(got.join(" "), want);
}

#[test]
fn cyclonedx_json() {
    check(
        r#"{"bomFormat": "CycloneDX", "specVersion": "1.6",
            "metadata": {"component": {"name": "app", "version": "1"}},
            "components": [
              {"type": "library", "bom-ref": "a", "name": "lodash", "version": "4.17.20", "purl": "pkg:npm/lodash@4.17.20",
               "components": [{"name": "inner", "purl": "pkg:npm/inner@1.0.0"}]},
              {"name": "nopurl", "group": "g", "version": "2"},
              {"name": "dup", "purl": "pkg:npm/lodash@4.17.20"}
            ]}"#,
        "pkg:npm/lodash@4.17.20 pkg:npm/inner@1.0.0 g/nopurl@2",
    );
}

#[test]
fn cyclonedx_xml() {
    check(
        r#"<?xml version="1.0"?>
<bom xmlns="http://cyclonedx.org/schema/bom/1.5" version="1">
  <metadata><component type="application"><name>app</name></component></metadata>
  <components>
    <component type="library" bom-ref="pkg:maven/a/b@1"><group>a</group><name>b</name><version>1</version>
      <purl><![CDATA[pkg:maven/a/b@1]]></purl>
      <components><component type="library"><name>c&amp;d</name><version>2</version></component></components>
    </component>
    <component type="library"><name>bad</name><purl>nonsense</purl></component>
  </components>
</bom>"#,
        "pkg:maven/a/b@1 c&d@2",
    );
    assert!(
        parse("<bom><components><component>").is_err()
            || parse("<bom><components><component>").is_ok()
    );
    assert!(parse("<notbom/>").is_err());
}

#[test]
fn spdx() {
    check(
        r#"{"spdxVersion": "SPDX-2.3", "packages": [
            {"SPDXID": "SPDXRef-1", "name": "jq", "versionInfo": "1.6",
             "externalRefs": [{"referenceCategory": "PACKAGE-MANAGER", "referenceType": "purl", "referenceLocator": "pkg:deb/debian/jq@1.6?distro=debian-12"}]},
            {"SPDXID": "SPDXRef-2", "name": "hello", "versionInfo": "2.10"}]}"#,
        "pkg:deb/debian/jq@1.6?distro=debian-12 hello@2.10",
    );
    check(
        "SPDXVersion: SPDX-2.3\nDataLicense: CC0-1.0\nPackageName: jq\nSPDXID: SPDXRef-1\nPackageVersion: 1.6\n\
         PackageComment: <text>multi\nline: not a tag\n</text>\n\
         ExternalRef: PACKAGE-MANAGER purl pkg:deb/debian/jq@1.6\nFileName: ./a\nSPDXID: SPDXRef-f\n\
         PackageName: hello\nPackageVersion: 2.10\n",
        "pkg:deb/debian/jq@1.6 hello@2.10",
    );
    assert!(parse("SPDXVersion: SPDX-2.3\nthis line has no colon\n").is_err());
    assert!(parse("{\"@context\": \"x\"}").is_err());
}
