//! Vulnerability management state (block 5 migration): assets, components,
//! reference data, findings with keyset paging and audited triage.

use serde_json::json;
use vigil_model::TenantId;
use vigil_store::{
    ComponentRecord, EpssScore, FindingQuery, FindingRecord, KevEntry, NewAsset, Store,
    VULN_MIGRATIONS, VulnRecord,
};

use super::{admin, t};

fn asset(name: &str) -> NewAsset {
    NewAsset {
        name: name.into(),
        kind: "host".into(),
        ips: vec!["10.0.0.5".into()],
        os: Some("debian 12".into()),
        owner: Some("web team".into()),
        criticality: 4,
        exposure: "internet-facing".into(),
        data_classes: vec!["payment".into()],
        tags: vec!["prod".into()],
    }
}

fn finding(id: &str, asset_id: &str, vuln: &str) -> FindingRecord {
    FindingRecord {
        id: id.into(),
        asset_id: asset_id.into(),
        source: "sbom".into(),
        component: "pkg:pypi/jinja2@2.10".into(),
        package: "jinja2".into(),
        version: "2.10".into(),
        ecosystem: "PyPI".into(),
        vulnerability: vuln.into(),
        aliases: vec![vuln.into(), "GHSA-x".into()],
        summary: Some("sandbox escape".into()),
        severity: "high".into(),
        cvss_vector: Some("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H".into()),
        cvss_score: Some(98),
        fixed_versions: vec!["2.10.1".into()],
        exploit_refs: false,
        status: "open".into(),
        first_seen: t(10),
        last_seen: t(10),
        fixed_at: None,
        since: t(10),
        accepted_until: None,
        reason: None,
        decided_by: None,
        decision: "scheduled".into(),
        risk: 4200,
        explanation: json!({ "exploitation": "none" }),
        sla_due: Some(t(100)),
        updated_at: t(10),
    }
}

pub async fn vuln_assets_findings_and_reference_data(s: Store) {
    s.migrate(VULN_MIGRATIONS).await.expect("migrate vuln");
    s.migrate(VULN_MIGRATIONS).await.expect("migrate again");
    let d = TenantId::DEFAULT;

    // Assets: upsert by name, lookup by id or name, validation.
    let (a, created) = s
        .upsert_asset(d, &asset("web1"), t(1))
        .await
        .expect("asset");
    assert!(created);
    assert_eq!(a.asset.data_classes, ["payment"]);
    let mut changed = asset("web1");
    changed.criticality = 5;
    let (a2, created) = s.upsert_asset(d, &changed, t(2)).await.expect("update");
    assert!(!created);
    assert_eq!(a2.id, a.id);
    assert_eq!(a2.asset.criticality, 5);
    assert_eq!(a2.created_at, t(1));
    s.upsert_asset(d, &asset("app2"), t(3))
        .await
        .expect("second");
    let names: Vec<_> = s
        .list_assets(d)
        .await
        .expect("list")
        .into_iter()
        .map(|a| a.asset.name)
        .collect();
    assert_eq!(names, ["app2", "web1"]);
    assert_eq!(
        s.get_asset(d, &a.id)
            .await
            .expect("by id")
            .map(|a| a.asset.name),
        Some("web1".to_owned())
    );
    let mut bad = asset("x");
    bad.exposure = "dmz".into();
    assert!(s.upsert_asset(d, &bad, t(3)).await.is_err());

    // Components: replace per source keeps first_seen, drops the missing.
    let comp = |purl: &str| ComponentRecord {
        source: "sbom".into(),
        purl: purl.into(),
        name: "n".into(),
        version: Some("1".into()),
        ecosystem: Some("PyPI".into()),
        first_seen: t(0),
        last_seen: t(0),
    };
    s.replace_components(
        d,
        &a.id,
        "sbom",
        &[comp("pkg:pypi/a@1"), comp("pkg:pypi/b@1")],
        t(5),
    )
    .await
    .expect("components");
    s.replace_components(d, &a.id, "sbom", &[comp("pkg:pypi/b@1")], t(6))
        .await
        .expect("replace");
    let comps = s.list_components(d, &a.id).await.expect("list components");
    assert_eq!(comps.len(), 1);
    assert_eq!(comps[0].purl, "pkg:pypi/b@1");
    assert_eq!((comps[0].first_seen, comps[0].last_seen), (t(5), t(6)));

    // Reference data.
    let rec = VulnRecord {
        id: "GHSA-x".into(),
        aliases: vec!["CVE-2019-10906".into()],
        modified: Some("2024-01-01T00:00:00Z".into()),
        summary: Some("s".into()),
        record: r#"{"id":"GHSA-x"}"#.into(),
    };
    s.upsert_vuln_records(std::slice::from_ref(&rec), t(1))
        .await
        .expect("records");
    s.upsert_vuln_records(std::slice::from_ref(&rec), t(2))
        .await
        .expect("again");
    assert_eq!(
        s.list_vuln_records().await.expect("all"),
        std::slice::from_ref(&rec)
    );
    assert_eq!(
        s.get_vuln_records("CVE-2019-10906").await.expect("alias"),
        [rec]
    );
    assert!(
        s.get_vuln_records("CVE-2019-1")
            .await
            .expect("none")
            .is_empty()
    );
    let kev = KevEntry {
        cve: "CVE-2019-10906".into(),
        vendor: "Pallets".into(),
        product: "Jinja".into(),
        name: "sandbox escape".into(),
        date_added: "2024-01-02".into(),
        due_date: Some("2024-01-23".into()),
        ransomware: "Unknown".into(),
    };
    s.upsert_kev(std::slice::from_ref(&kev), t(1))
        .await
        .expect("kev");
    assert_eq!(s.list_kev().await.expect("list kev"), [kev]);
    let e = EpssScore {
        score: 0.94229,
        percentile: 0.99918,
    };
    s.upsert_epss(&[("CVE-2019-10906".into(), e)], t(1))
        .await
        .expect("epss");
    assert_eq!(
        s.list_epss().await.expect("list epss"),
        [("CVE-2019-10906".to_owned(), e)]
    );

    // Findings: upsert keeps id and first_seen; keyset pages; filters.
    let ids: Vec<String> = (0..5)
        .map(|i| format!("0190000{i}-0000-7000-8000-000000000000"))
        .collect();
    let fs: Vec<FindingRecord> = ids
        .iter()
        .enumerate()
        .map(|(i, id)| finding(id, &a.id, &format!("CVE-2024-{i}")))
        .collect();
    s.save_findings(d, &fs).await.expect("save");
    let mut again = fs[0].clone();
    again.id = "ffffffff-0000-7000-8000-000000000000".into();
    again.first_seen = t(50);
    again.status = "fixed".into();
    again.fixed_at = Some(t(50));
    s.save_findings(d, &[again]).await.expect("resave");
    let f0 = s
        .get_finding(d, &ids[0])
        .await
        .expect("get")
        .expect("kept id");
    assert_eq!(f0.status, "fixed");
    assert_eq!(f0.first_seen, t(10));
    assert_eq!(f0.fixed_at, Some(t(50)));
    assert_eq!(f0.explanation, json!({ "exploitation": "none" }));
    assert_eq!(f0.cvss_score, Some(98));

    let mut seen = Vec::new();
    let mut after = None;
    loop {
        let page = s
            .list_findings(
                d,
                &FindingQuery {
                    after: after.clone(),
                    limit: 2,
                    ..FindingQuery::default()
                },
            )
            .await
            .expect("page");
        if page.is_empty() {
            break;
        }
        after = page.last().map(|f| f.id.clone());
        seen.extend(page.into_iter().map(|f| f.id));
    }
    assert_eq!(seen, ids);
    let open = s
        .list_findings(
            d,
            &FindingQuery {
                statuses: vec!["open".into(), "reopened".into()],
                asset_id: Some(a.id.clone()),
                decision: Some("scheduled".into()),
                ..FindingQuery::default()
            },
        )
        .await
        .expect("filtered");
    assert_eq!(open.len(), 4);
    assert!(
        s.list_findings(
            d,
            &FindingQuery {
                statuses: vec!["closed".into()],
                ..FindingQuery::default()
            }
        )
        .await
        .is_err()
    );

    // Triage is audited.
    let mut acc = s.get_finding(d, &ids[1]).await.expect("get").expect("f1");
    acc.status = "accepted".into();
    acc.accepted_until = Some(t(1000));
    acc.reason = Some("compensating control".into());
    let out = s
        .triage_finding(d, &acc, &admin(), t(20))
        .await
        .expect("triage")
        .expect("found");
    assert_eq!(out.status, "accepted");
    assert_eq!(out.decided_by.as_deref(), Some("system:test"));
    assert!(
        s.triage_finding(
            d,
            &FindingRecord {
                id: "nope".into(),
                ..acc
            },
            &admin(),
            t(21)
        )
        .await
        .expect("missing")
        .is_none()
    );
    let audit = s.list_audit(d, 0, 100).await.expect("audit");
    assert!(audit.iter().any(|e| e.action == "finding.update"));
}
