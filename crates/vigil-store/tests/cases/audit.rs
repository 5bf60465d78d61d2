//! Audit chain cases.

use serde_json::json;
use vigil_model::TenantId;
use vigil_store::{NewAudit, Store};

use super::{admin, t};

async fn append(s: &Store, n: usize) {
    let p = admin();
    for i in 0..n {
        let target = format!("thing:{i}");
        let e = s
            .audit(&NewAudit::new(
                TenantId::DEFAULT,
                &p,
                "thing.update",
                &target,
                json!({ "i": i, "nested": { "b": 1, "a": [1.5, "x"] } }),
                t(i as i64),
            ))
            .await
            .expect("audit");
        assert_eq!(e.seq, i as i64 + 1);
    }
}

pub async fn audit_chain_verifies(s: Store) {
    let empty = s.verify_audit().await.expect("verify empty");
    assert_eq!((empty.checked, empty.first_broken), (0, None));
    append(&s, 5).await;
    let entries = s.list_audit(TenantId::DEFAULT, 0, 100).await.expect("list");
    assert_eq!(entries.len(), 5);
    assert_eq!(entries[0].prev_hash, "0".repeat(64));
    assert!(entries.windows(2).all(|w| w[1].prev_hash == w[0].hash));
    assert_eq!(entries[2].details["nested"]["a"][0], json!(1.5));
    assert_eq!(
        s.list_audit(TenantId::DEFAULT, 3, 100)
            .await
            .expect("after")
            .len(),
        2
    );
    let v = s.verify_audit().await.expect("verify");
    assert_eq!(v.checked, 5);
    assert!(v.is_intact(), "{v:?}");
}

pub async fn audit_detects_edited_row(s: Store) {
    append(&s, 5).await;
    s.raw_execute("UPDATE audit_log SET details = '{\"i\":99}' WHERE seq = 3")
        .await
        .expect("tamper");
    let v = s.verify_audit().await.expect("verify");
    let broken = v.first_broken.expect("edit detected");
    assert_eq!(broken.seq, 3, "{}", broken.reason);
    assert_eq!(v.checked, 2);

    // Recomputing the edited row's hash does not help: the next link breaks.
    s.raw_execute("UPDATE audit_log SET hash = 'f' WHERE seq = 3")
        .await
        .expect("tamper hash");
    let v = s.verify_audit().await.expect("verify");
    assert_eq!(v.first_broken.map(|b| b.seq), Some(3));
}

pub async fn audit_detects_deleted_row(s: Store) {
    append(&s, 6).await;
    s.raw_execute("DELETE FROM audit_log WHERE seq = 3")
        .await
        .expect("delete");
    let v = s.verify_audit().await.expect("verify");
    let broken = v.first_broken.expect("deletion detected");
    assert_eq!(broken.seq, 3, "{}", broken.reason);
    assert!(broken.reason.contains("missing"), "{}", broken.reason);
    assert_eq!(v.checked, 2);
}

pub async fn audit_detects_deleted_tail(s: Store) {
    append(&s, 4).await;
    s.raw_execute("DELETE FROM audit_log WHERE seq = 4")
        .await
        .expect("delete");
    let v = s.verify_audit().await.expect("verify");
    assert_eq!(v.checked, 3);
    assert_eq!(v.first_broken.map(|b| b.seq), Some(4));
}

pub async fn two_servers_audit_chain_stays_linear(a: Store, b: Store) {
    let mut tasks = Vec::new();
    for (w, s) in [a.clone(), b.clone(), a.clone(), b.clone()]
        .into_iter()
        .enumerate()
    {
        tasks.push(tokio::spawn(async move {
            let p = admin();
            for i in 0..10 {
                let target = format!("w{w}:{i}");
                s.audit(&NewAudit::new(
                    TenantId::DEFAULT,
                    &p,
                    "concurrent",
                    &target,
                    json!({}),
                    t(i),
                ))
                .await
                .expect("audit");
            }
        }));
    }
    for task in tasks {
        task.await.expect("task");
    }
    let v = b.verify_audit().await.expect("verify");
    assert_eq!(v.checked, 40);
    assert!(v.is_intact(), "{v:?}");
}

pub async fn audit_detects_reordered_rows(s: Store) {
    append(&s, 5).await;
    // Swap entries 2 and 3 (three steps: seq is the primary key).
    s.raw_execute("UPDATE audit_log SET seq = -2 WHERE seq = 2")
        .await
        .expect("move");
    s.raw_execute("UPDATE audit_log SET seq = 2 WHERE seq = 3")
        .await
        .expect("move");
    s.raw_execute("UPDATE audit_log SET seq = 3 WHERE seq = -2")
        .await
        .expect("move");
    let v = s.verify_audit().await.expect("verify");
    assert_eq!(v.first_broken.map(|b| b.seq), Some(2));
    assert_eq!(v.checked, 1);
}
