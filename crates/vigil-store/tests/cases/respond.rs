//! Response state (block 6 migration): triage, incidents with timeline,
//! tasks and alert links, idempotent playbook effects, playbook versions,
//! runs with their logs and the audit trail of it all.

#![allow(clippy::unwrap_used)] // test code: a failed unwrap is a failed test

use serde_json::json;
use vigil_model::{Principal, PrincipalKind, Role, Severity, TenantId};
use vigil_store::{
    DetectionCommit, NewIncident, RESPOND_MIGRATIONS, RunAudit, RunLogRecord, RunRecord, Store,
};

use super::{admin, alert, t};

fn playbook_principal() -> Principal {
    Principal {
        kind: PrincipalKind::Playbook,
        id: "contain".into(),
        name: "Contain".into(),
        tenant: TenantId::DEFAULT,
        role: Role::Analyst,
    }
}

pub async fn respond_incidents_triage_and_runs(s: Store) {
    s.migrate(RESPOND_MIGRATIONS)
        .await
        .expect("migrate respond");
    s.migrate(RESPOND_MIGRATIONS).await.expect("migrate again");
    let tenant = TenantId::DEFAULT;
    let alerts = vec![
        alert(tenant, 1, t(100), Severity::Medium),
        alert(tenant, 2, t(101), Severity::High),
    ];
    s.commit_detections(&DetectionCommit {
        consumer: "seed",
        upto_seq: 0,
        alerts: &alerts,
        effects: &[],
        states: &[],
        at: t(0),
    })
    .await
    .expect("seed alerts");
    let by = admin();

    // Triage: acknowledged keeps the first acknowledgement time.
    let tr = s
        .triage_alert(
            tenant,
            alerts[0].id,
            "acknowledged",
            Some("alice"),
            None,
            &by,
            t(200),
        )
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (tr.state.as_str(), tr.acked_at),
        ("acknowledged", Some(t(200)))
    );
    let tr = s
        .triage_alert(tenant, alerts[0].id, "new", None, None, &by, t(210))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (tr.state.as_str(), tr.assignee.as_deref(), tr.acked_at),
        ("new", Some("alice"), Some(t(200)))
    );
    assert!(
        s.triage_alert(tenant, alerts[0].id, "bogus", None, None, &by, t(210))
            .await
            .is_err()
    );
    let missing = vigil_model::AlertId::derive("x", "y", "z");
    assert!(
        s.triage_alert(tenant, missing, "closed", None, None, &by, t(210))
            .await
            .unwrap()
            .is_none()
    );

    // An incident from both alerts: numbered, severity from the worst
    // alert, alerts escalated, timeline started.
    let new = NewIncident {
        title: "Brute force".into(),
        alerts: alerts.iter().map(|a| a.id).collect(),
        flags: vec!["personal_data".into()],
        ..NewIncident::default()
    };
    let inc = s.create_incident(tenant, &new, &by, t(300)).await.unwrap();
    assert_eq!(
        (inc.number, inc.severity, inc.status.as_str()),
        (1, Severity::High, "new")
    );
    assert_eq!(inc.flags, ["personal_data"]);
    let triage = s
        .triage_of(tenant, &[alerts[0].id, alerts[1].id])
        .await
        .unwrap();
    assert!(
        triage
            .values()
            .all(|t| t.state == "escalated" && t.incident_id.as_deref() == Some(inc.id.as_str()))
    );
    assert_eq!(s.incident_alerts(tenant, &inc.id).await.unwrap().len(), 2);
    assert_eq!(
        s.get_incident(tenant, "INC-1").await.unwrap().unwrap().id,
        inc.id
    );
    assert_eq!(
        s.get_incident(tenant, "1").await.unwrap().unwrap().id,
        inc.id
    );

    // The same playbook step twice creates one incident.
    let pb = playbook_principal();
    let keyed = NewIncident {
        title: "From playbook".into(),
        origin_key: Some("run-1:case".into()),
        ..NewIncident::default()
    };
    let a = s
        .create_incident(tenant, &keyed, &pb, t(400))
        .await
        .unwrap();
    let b = s
        .create_incident(tenant, &keyed, &pb, t(401))
        .await
        .unwrap();
    assert_eq!((a.id.clone(), a.number), (b.id, 2));
    assert_eq!(a.severity, Severity::Medium);

    // Save a status change with its timeline line.
    let mut changed = inc.clone();
    changed.status = "containment".into();
    changed.clocks_done.insert("gdpr-art33".into(), t(500));
    let saved = s
        .save_incident(
            tenant,
            &changed,
            &[(
                "status".into(),
                "new → containment".into(),
                json!({"from": "new", "to": "containment"}),
            )],
            "incident.update",
            &by,
            t(500),
        )
        .await
        .unwrap()
        .unwrap();
    assert_eq!(saved.status, "containment");
    assert_eq!(saved.clocks_done.get("gdpr-art33"), Some(&t(500)));

    // Notes idempotent by key; tasks too; task status changes logged.
    assert!(
        s.add_timeline(
            tenant,
            &inc.id,
            "note",
            "checked the firewall",
            &json!({}),
            Some("run-1:note"),
            &pb,
            t(510)
        )
        .await
        .unwrap()
    );
    assert!(
        !s.add_timeline(
            tenant,
            &inc.id,
            "note",
            "checked the firewall",
            &json!({}),
            Some("run-1:note"),
            &pb,
            t(511)
        )
        .await
        .unwrap()
    );
    let task = s
        .add_task(
            tenant,
            &inc.id,
            "Reset passwords",
            "",
            Some("run-1:task"),
            &pb,
            t(520),
        )
        .await
        .unwrap();
    let again = s
        .add_task(
            tenant,
            &inc.id,
            "Reset passwords",
            "",
            Some("run-1:task"),
            &pb,
            t(521),
        )
        .await
        .unwrap();
    assert_eq!(task.id, again.id);
    let done = s
        .update_task(tenant, &task.id, "done", Some("bob"), &by, t(530))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (done.status.as_str(), done.assignee.as_deref()),
        ("done", Some("bob"))
    );
    assert!(
        s.update_task(tenant, &task.id, "finished", None, &by, t(530))
            .await
            .is_err()
    );
    assert_eq!(s.incident_tasks(tenant, &inc.id).await.unwrap().len(), 1);
    let kinds: Vec<String> = s
        .incident_timeline(tenant, &inc.id)
        .await
        .unwrap()
        .into_iter()
        .map(|e| e.kind)
        .collect();
    assert_eq!(
        kinds,
        [
            "created", "alert", "alert", "status", "note", "task", "task"
        ]
    );

    let list = s
        .list_incidents(tenant, Some("open"), None, 10)
        .await
        .unwrap();
    assert_eq!(list.iter().map(|i| i.number).collect::<Vec<_>>(), [2, 1]);
    assert_eq!(
        s.list_incidents(tenant, Some("containment"), None, 10)
            .await
            .unwrap()
            .len(),
        1
    );
    assert_eq!(
        s.list_incidents(tenant, None, Some(2), 10)
            .await
            .unwrap()
            .len(),
        1
    );

    // Playbooks: every upload is a new version.
    let v1 = s
        .put_playbook(tenant, "contain", "id: contain\n", true, &by, t(600))
        .await
        .unwrap();
    let v2 = s
        .put_playbook(tenant, "contain", "id: contain # v2\n", false, &by, t(601))
        .await
        .unwrap();
    assert_eq!((v1.version, v2.version, v2.enabled), (1, 2, false));
    assert_eq!(
        s.get_playbook(tenant, "contain", Some(1))
            .await
            .unwrap()
            .unwrap()
            .source,
        "id: contain\n"
    );
    assert_eq!(s.list_playbooks(tenant).await.unwrap().len(), 1);

    // Runs: one per (playbook, trigger object); due runs; logs and audit.
    let run = RunRecord {
        id: "run-1".into(),
        playbook_id: "contain".into(),
        version: 1,
        trigger_kind: "alert".into(),
        trigger_id: alerts[1].id.to_string(),
        status: "running".into(),
        state: json!({"stack": []}),
        wake_at: None,
        rev: 0,
        created_at: t(700),
        updated_at: t(700),
    };
    let log = |step: &str, event: &str| RunLogRecord {
        at: t(700),
        step: step.into(),
        event: event.into(),
        message: String::new(),
    };
    assert!(
        s.create_run(tenant, &run, &[log("", "started")], &by, t(700))
            .await
            .unwrap()
    );
    let dup = RunRecord {
        id: "run-2".into(),
        ..run.clone()
    };
    assert!(!s.create_run(tenant, &dup, &[], &by, t(700)).await.unwrap());
    assert_eq!(s.count_active_runs(tenant, "contain").await.unwrap(), 1);
    assert_eq!(s.due_runs(t(700), 10).await.unwrap().len(), 1);
    let audit = RunAudit {
        action: "playbook.step".into(),
        target: "run:run-1".into(),
        details: json!({"step": "case"}),
    };
    let rev = s
        .save_run(
            tenant,
            "run-1",
            0,
            "waiting_approval",
            &json!({"stack": [1]}),
            Some(t(4300)),
            &[log("case", "ok"), log("ok", "waiting")],
            &[(pb.clone(), audit)],
            t(710),
        )
        .await
        .unwrap();
    assert_eq!(rev, 1);
    // A second driver still holding revision 0 is refused.
    let stale = s
        .save_run(
            tenant,
            "run-1",
            0,
            "running",
            &json!({}),
            None,
            &[],
            &[],
            t(711),
        )
        .await;
    assert!(
        matches!(stale, Err(vigil_store::Error::Conflict { .. })),
        "{stale:?}"
    );
    assert!(
        s.due_runs(t(800), 10).await.unwrap().is_empty(),
        "not due before its wake time"
    );
    assert_eq!(s.due_runs(t(4300), 10).await.unwrap().len(), 1);
    let stored = s.get_run(tenant, "run-1").await.unwrap().unwrap();
    assert_eq!(
        (stored.status.as_str(), stored.state.clone()),
        ("waiting_approval", json!({"stack": [1]}))
    );
    let events: Vec<String> = s
        .run_log(tenant, "run-1")
        .await
        .unwrap()
        .into_iter()
        .map(|e| e.event)
        .collect();
    assert_eq!(events, ["started", "ok", "waiting"]);
    assert!(
        s.save_run(
            tenant,
            "nope",
            0,
            "running",
            &json!({}),
            None,
            &[],
            &[],
            t(720)
        )
        .await
        .is_err()
    );
    assert_eq!(
        s.list_runs(tenant, Some("waiting_approval"), Some("contain"), 10)
            .await
            .unwrap()
            .len(),
        1
    );

    // Observables (idempotent), evidence (content-addressed, checked),
    // overdue-clock notices (once).
    let intel = json!({"matches": [{"type": "ipv4", "value": "198.51.100.7"}]});
    assert!(
        s.add_observable(tenant, &inc.id, "ipv4", "198.51.100.7", &intel, &by, t(800))
            .await
            .unwrap()
    );
    assert!(
        !s.add_observable(tenant, &inc.id, "ipv4", "198.51.100.7", &intel, &by, t(801))
            .await
            .unwrap()
    );
    let obs = s.incident_observables(tenant, &inc.id).await.unwrap();
    assert_eq!((obs.len(), obs[0].intel.clone()), (1, intel));
    let e1 = s
        .add_evidence(
            tenant,
            &inc.id,
            "auth.log",
            "text/plain",
            b"Failed password",
            &by,
            t(810),
        )
        .await
        .unwrap();
    let e2 = s
        .add_evidence(
            tenant,
            &inc.id,
            "copy.log",
            "text/plain",
            b"Failed password",
            &by,
            t(811),
        )
        .await
        .unwrap();
    assert_eq!(e1.sha256, e2.sha256);
    assert_eq!(
        e1.sha256,
        "c80b3f476858cbbe106d343b28ed256be340dd2146a0f8b07fb26f03acb8c7a7"
    );
    let (rec, data) = s.get_evidence(tenant, &e2.id).await.unwrap().unwrap();
    assert_eq!(
        (rec.name.as_str(), data.as_slice()),
        ("copy.log", &b"Failed password"[..])
    );
    assert_eq!(s.incident_evidence(tenant, &inc.id).await.unwrap().len(), 2);
    assert!(
        s.add_evidence(
            tenant,
            &inc.id,
            "../etc/passwd",
            "text/plain",
            b"x",
            &by,
            t(812)
        )
        .await
        .is_err()
    );
    let too_big = vec![0u8; vigil_store::MAX_EVIDENCE_BYTES + 1];
    assert!(
        s.add_evidence(
            tenant,
            &inc.id,
            "big.bin",
            "application/octet-stream",
            &too_big,
            &by,
            t(812)
        )
        .await
        .is_err()
    );
    assert!(
        s.mark_clock_notified(tenant, &inc.id, "gdpr-art33", t(900))
            .await
            .unwrap()
    );
    assert!(
        !s.mark_clock_notified(tenant, &inc.id, "gdpr-art33", t(901))
            .await
            .unwrap()
    );

    // The playbook's own actions are audited with the playbook as principal,
    // and the chain still verifies.
    let entries = s.list_audit(tenant, 0, 1000).await.unwrap();
    assert!(
        entries
            .iter()
            .any(|e| e.principal_kind == "playbook" && e.action == "playbook.step")
    );
    assert!(
        entries
            .iter()
            .any(|e| e.principal_kind == "playbook" && e.action == "incident.create")
    );
    assert!(s.verify_audit().await.unwrap().is_intact());
}
