//! Detection commit, checkpoint and change-feed cases.

use serde_json::json;
use vigil_model::{Effect, Severity, TenantId};
use vigil_store::{DetectionCommit, Store};

use super::{alert, t};

pub async fn commit_detections_is_idempotent(s: Store) {
    assert_eq!(s.checkpoint("detect").await.expect("checkpoint"), 0);
    let alerts: Vec<_> = (0..3)
        .map(|n| alert(TenantId::DEFAULT, n, t(100 + n as i64), Severity::High))
        .collect();
    let effects = [Effect {
        kind: "intel.sighting".into(),
        key: "1.2.3.4".into(),
        payload: json!({ "count": 1 }),
    }];
    let commit = DetectionCommit {
        consumer: "detect",
        upto_seq: 10,
        alerts: &alerts,
        effects: &effects,
        states: &[],
        at: t(200),
    };
    let first = s.commit_detections(&commit).await.expect("first");
    assert_eq!(first.alerts_inserted, 3);
    // Re-evaluation after a crash: the same alerts (and one more) again.
    let mut again = alerts.clone();
    again.push(alert(TenantId::DEFAULT, 3, t(103), Severity::Low));
    let second = s
        .commit_detections(&DetectionCommit {
            alerts: &again,
            effects: &[],
            upto_seq: 12,
            ..commit
        })
        .await
        .expect("second");
    assert_eq!(second.alerts_inserted, 1);
    assert_eq!(s.count_alerts(None).await.expect("count"), 4);
    assert_eq!(s.checkpoint("detect").await.expect("checkpoint"), 12);

    let changes = s.changes_after(0, 100).await.expect("changes");
    let alert_rows: Vec<_> = changes
        .iter()
        .filter(|c| c.object_type == "alert")
        .collect();
    assert_eq!(
        alert_rows.len(),
        4,
        "one outbox row per newly inserted alert"
    );
    for (c, a) in alert_rows.iter().zip(again.iter()) {
        assert_eq!(c.object_id, a.id.to_string());
        assert_eq!(c.op, "create");
        assert_eq!(c.tenant, a.tenant);
        assert_eq!(c.payload["rule_id"], json!(a.rule_id));
        assert!(
            c.payload.get("event").is_none(),
            "payload leaves out the event copy"
        );
    }
    let eff: Vec<_> = changes
        .iter()
        .filter(|c| c.object_type == "intel.sighting")
        .collect();
    assert_eq!(eff.len(), 1);
    assert_eq!(eff[0].object_id, "1.2.3.4");
    assert_eq!(eff[0].payload, json!({ "count": 1 }));
    assert!(changes.windows(2).all(|w| w[0].seq < w[1].seq));

    // Duplicate ids inside one commit count once.
    let dup = [
        alert(TenantId::DEFAULT, 9, t(1), Severity::Low),
        alert(TenantId::DEFAULT, 9, t(1), Severity::Low),
    ];
    let st = s
        .commit_detections(&DetectionCommit {
            alerts: &dup,
            effects: &[],
            upto_seq: 13,
            ..commit
        })
        .await
        .expect("dup");
    assert_eq!(st.alerts_inserted, 1);
}

pub async fn checkpoint_is_monotonic_and_states_upsert(s: Store) {
    let states = vec![
        ("count".to_owned(), vec![1u8, 2, 3]),
        ("seq".to_owned(), vec![]),
    ];
    let c = DetectionCommit {
        consumer: "detect",
        upto_seq: 50,
        alerts: &[],
        effects: &[],
        states: &states,
        at: t(1),
    };
    s.commit_detections(&c).await.expect("commit");
    assert_eq!(s.checkpoint("detect").await.expect("cp"), 50);
    let newer = vec![("count".to_owned(), vec![9u8; 1000])];
    s.commit_detections(&DetectionCommit {
        upto_seq: 20,
        states: &newer,
        ..c
    })
    .await
    .expect("older upto");
    assert_eq!(
        s.checkpoint("detect").await.expect("cp"),
        50,
        "never moves back"
    );
    assert_eq!(
        s.load_detector_state("detect", "count")
            .await
            .expect("state"),
        Some(vec![9u8; 1000])
    );
    assert_eq!(
        s.load_detector_state("detect", "seq").await.expect("state"),
        Some(vec![])
    );
    assert_eq!(
        s.load_detector_state("detect", "none")
            .await
            .expect("state"),
        None
    );
    assert_eq!(
        s.load_detector_state("other", "count")
            .await
            .expect("state"),
        None
    );
    assert_eq!(s.checkpoint("other").await.expect("cp"), 0);
    s.commit_detections(&DetectionCommit { upto_seq: 51, ..c })
        .await
        .expect("forward");
    assert_eq!(s.checkpoint("detect").await.expect("cp"), 51);
}

pub async fn change_feed_in_order(s: Store) {
    let mut seqs = Vec::new();
    for i in 0..30 {
        let seq = s
            .record_change(
                TenantId::DEFAULT,
                "case",
                &i.to_string(),
                "update",
                &json!({ "i": i, "s": "é" }),
                t(i),
            )
            .await
            .expect("record");
        seqs.push(seq);
    }
    assert!(seqs.windows(2).all(|w| w[0] < w[1]));
    let mut read = Vec::new();
    let mut after = 0;
    loop {
        let page = s.changes_after(after, 7).await.expect("page");
        let Some(last) = page.last() else { break };
        after = last.seq;
        read.extend(page);
    }
    assert_eq!(read.iter().map(|c| c.seq).collect::<Vec<_>>(), seqs);
    assert_eq!(read[4].object_id, "4");
    assert_eq!(read[4].payload, json!({ "i": 4, "s": "é" }));
    assert_eq!(read[4].at, t(4));
}
