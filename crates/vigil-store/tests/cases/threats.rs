//! Threat register state (block 7): profile, galaxy clusters, scenarios
//! with their review cycle, score history, and the views the register
//! reads (latest STIX objects by type, alert counts per rule and tags).

use serde_json::json;
use vigil_model::TenantId;
use vigil_store::{
    GalaxyClusterRow, INTEL_MIGRATIONS, NewScenario, ScenarioReview, ScoreRecord, StixObjectRecord,
    Store, THREATS_MIGRATIONS,
};

use super::{OTHER, admin, t};

pub async fn threats_profile_scenarios_and_history(s: Store) {
    s.migrate(INTEL_MIGRATIONS).await.expect("migrate intel");
    s.migrate(vigil_store::VULN_MIGRATIONS)
        .await
        .expect("migrate vuln");
    s.migrate(THREATS_MIGRATIONS)
        .await
        .expect("migrate threats");
    s.migrate(THREATS_MIGRATIONS).await.expect("migrate again");
    s.create_tenant(OTHER, "acme", t(0)).await.expect("tenant");
    let d = TenantId::DEFAULT;

    // Technologies of the inventory: component names and operating systems
    assert!(s.inventory_technologies(d).await.expect("tech").is_empty());
    let mut asset = vigil_store::NewAsset {
        name: "web1".into(),
        kind: "host".into(),
        ips: vec![],
        os: Some("debian 12".into()),
        owner: None,
        criticality: 3,
        exposure: "internal".into(),
        data_classes: vec![],
        tags: vec![],
    };
    s.upsert_asset(d, &asset, t(1)).await.expect("asset");
    asset.name = "web2".into();
    s.upsert_asset(d, &asset, t(1)).await.expect("asset");
    assert_eq!(
        s.inventory_technologies(d).await.expect("tech"),
        [("debian 12".to_string(), 2)]
    );

    // Profile
    assert!(s.get_threat_profile(d).await.expect("get").is_none());
    let p = json!({"version": 1, "sectors": ["financial"], "regions": ["europe"]});
    s.put_threat_profile(d, &p, &admin(), t(1))
        .await
        .expect("put");
    let p2 = json!({"version": 1, "sectors": ["healthcare"]});
    s.put_threat_profile(d, &p2, &admin(), t(2))
        .await
        .expect("put again");
    let got = s.get_threat_profile(d).await.expect("get").expect("some");
    assert_eq!((got.body, got.updated_at), (p2, t(2)));
    assert!(s.get_threat_profile(OTHER).await.expect("other").is_none());

    // Galaxy clusters: idempotent by (galaxy, uuid)
    let row = |u: &str, v: &str| GalaxyClusterRow {
        galaxy: "threat-actor".into(),
        uuid: u.into(),
        value: v.into(),
        body: json!({"galaxy": "threat-actor", "uuid": u, "value": v}),
    };
    s.upsert_galaxy_clusters(d, &[row("u1", "A"), row("u2", "B")], "t.json", t(3))
        .await
        .expect("galaxy");
    s.upsert_galaxy_clusters(d, &[row("u1", "A2")], "t.json", t(4))
        .await
        .expect("galaxy again");
    let g = s.list_galaxy_clusters(d).await.expect("list");
    assert_eq!(g.len(), 2);
    assert_eq!(g[0]["value"], "A2");

    // Latest STIX objects by type
    let obj = |id: &str, kind: &str, secs: i64, name: &str| StixObjectRecord {
        id: id.into(),
        modified: t(secs),
        kind: kind.into(),
        spec_version: "2.1".into(),
        name: Some(name.into()),
        revoked: false,
        source: "test".into(),
        body: json!({"id": id, "type": kind, "name": name}),
        relationship: None,
    };
    s.upsert_stix_objects(
        d,
        &[
            obj("intrusion-set--1", "intrusion-set", 1, "old"),
            obj("intrusion-set--1", "intrusion-set", 2, "new"),
            obj("malware--1", "malware", 1, "m"),
        ],
        t(5),
    )
    .await
    .expect("stix");
    let objs = s
        .latest_stix_objects_of_kinds(d, &["intrusion-set"])
        .await
        .expect("latest");
    assert_eq!(objs.len(), 1);
    assert_eq!(objs[0]["name"], "new");
    // The fingerprint readers cache by: versions, latest modified, latest added.
    let fp = s
        .stix_fingerprint(d, &["intrusion-set", "malware"])
        .await
        .expect("fingerprint");
    assert!(fp.0 >= 2 && fp.1 > 0 && fp.2 > 0, "{fp:?}");
    assert_eq!(
        s.stix_fingerprint(d, &["x-mitre-tactic"])
            .await
            .expect("none"),
        (0, 0, 0)
    );
    assert_eq!(
        s.stix_fingerprint(OTHER, &["intrusion-set"])
            .await
            .expect("other"),
        (0, 0, 0)
    );
    assert_eq!(
        s.stix_fingerprint(d, &[]).await.expect("no kinds"),
        (0, 0, 0)
    );

    // Scenarios and the review cycle
    let sc = NewScenario {
        id: "apt-1".into(),
        title: "Alpha Bear intrusion".into(),
        spec: json!({"actor": "G0001"}),
        owner: None,
        status: "open".into(),
        next_review: Some(t(100)),
    };
    let r = s
        .upsert_scenario(d, &sc, &admin(), t(10))
        .await
        .expect("create");
    assert_eq!(r.created_at, t(10));
    let bad = NewScenario {
        status: "closed".into(),
        ..sc.clone()
    };
    assert!(matches!(
        s.upsert_scenario(d, &bad, &admin(), t(11)).await,
        Err(vigil_store::Error::Invalid(_))
    ));
    let r = s
        .review_scenario(
            d,
            "apt-1",
            &ScenarioReview {
                owner: Some(Some("ciso".into())),
                status: Some("treated".into()),
                next_review: None,
            },
            &admin(),
            t(20),
        )
        .await
        .expect("review")
        .expect("found");
    assert_eq!(
        (r.scenario.owner.as_deref(), r.scenario.status.as_str()),
        (Some("ciso"), "treated")
    );
    assert_eq!((r.created_at, r.updated_at), (t(10), t(20)));
    assert!(
        s.review_scenario(d, "nope", &ScenarioReview::default(), &admin(), t(21))
            .await
            .expect("review missing")
            .is_none()
    );
    assert_eq!(
        s.overdue_scenarios(d, t(99)).await.expect("overdue").len(),
        0
    );
    assert_eq!(
        s.overdue_scenarios(d, t(101)).await.expect("overdue").len(),
        1
    );
    assert!(s.list_scenarios(OTHER).await.expect("other").is_empty());

    // Score history
    let score = |secs: i64, l: i64| ScoreRecord {
        scenario: "apt-1".into(),
        at: t(secs),
        likelihood: l,
        impact: 10000,
        risk: 25,
        inputs: json!({"l": l}),
    };
    s.record_scenario_scores(d, &[score(30, 9102), score(40, 6602)])
        .await
        .expect("scores");
    let h = s.scenario_scores(d, "apt-1").await.expect("history");
    assert_eq!(
        h.iter().map(|x| x.likelihood).collect::<Vec<_>>(),
        [9102, 6602]
    );
    assert_eq!(h[0].inputs, json!({"l": 9102}));
    // a recompute at the same instant replaces that score
    s.record_scenario_scores(d, &[score(30, 1)])
        .await
        .expect("same time");
    let h = s.scenario_scores(d, "apt-1").await.expect("history");
    assert_eq!(
        h.iter().map(|x| x.likelihood).collect::<Vec<_>>(),
        [1, 6602]
    );

    // Top risks: the latest score of each open scenario, highest first.
    // apt-1 was treated above: not a top risk until it is open again.
    assert!(s.top_scenario_scores(d, 5).await.expect("top").is_empty());
    s.review_scenario(
        d,
        "apt-1",
        &ScenarioReview {
            status: Some("open".into()),
            ..ScenarioReview::default()
        },
        &admin(),
        t(50),
    )
    .await
    .expect("reopen");
    let sc2 = NewScenario {
        id: "ransom".into(),
        title: "Ransomware".into(),
        ..sc.clone()
    };
    s.upsert_scenario(d, &sc2, &admin(), t(51))
        .await
        .expect("second");
    let risk = |id: &str, secs: i64, risk: i64| ScoreRecord {
        scenario: id.into(),
        at: t(secs),
        likelihood: 5000,
        impact: 5000,
        risk,
        inputs: json!({}),
    };
    s.record_scenario_scores(d, &[risk("ransom", 60, 20), risk("ransom", 70, 12)])
        .await
        .expect("ransom scores");
    let top = s.top_scenario_scores(d, 5).await.expect("top");
    let got: Vec<(&str, i64, &str)> = top
        .iter()
        .map(|(r, title)| (r.scenario.as_str(), r.risk, title.as_str()))
        .collect();
    // apt-1's latest (t40, risk 25) outranks ransom's latest (t70, 12; the
    // older 20 no longer counts).
    assert_eq!(
        got,
        [
            ("apt-1", 25, "Alpha Bear intrusion"),
            ("ransom", 12, "Ransomware")
        ]
    );
    assert_eq!(s.top_scenario_scores(d, 1).await.expect("one").len(), 1);
    assert!(
        s.top_scenario_scores(OTHER, 5)
            .await
            .expect("other")
            .is_empty()
    );
}
