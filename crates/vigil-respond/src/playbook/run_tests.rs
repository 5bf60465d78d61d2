//! Run state machine tests: each drives a run the way the server does,
//! persisting (serialising) the state between steps.

use serde_json::json;
use vigil_model::{Role, Timestamp};

use super::run::{self, Decision, Effect, Next, Outcome, RunState, RunStatus};
use super::{Templates, parse};

const PB: &str = r#"
id: contain
name: Contain
trigger: { alert: { rules: ["ssh-*"] } }
steps:
  - id: case
    create_incident:
      title: "Brute force from {{ alert.entities.source_ip }}"
      severity: "{{ alert.severity }}"
  - id: hook
    http:
      url: https://hooks.example.com/vigil
      body: { ip: "{{ alert.entities.source_ip }}", incident: "{{ incident_id }}" }
      hmac: { secret: hook-key }
      retries: 3
      backoff: 2s
  - id: ok
    approval:
      message: "Block {{ alert.entities.source_ip }}?"
      timeout: 1h
  - id: block
    blocklist: { kind: ip, value: "{{ alert.entities.source_ip }}", ttl: 24h, reason: "incident {{ incident_id }}" }
"#;

fn t(secs: i64) -> Timestamp {
    Timestamp::from_secs(1_800_000_000 + secs)
}

fn alert() -> serde_json::Value {
    json!({"rule_id": "ssh-brute", "severity": "high", "entities": {"source_ip": "203.0.113.9"}})
}

/// Persist and reload, as the server does between every step.
fn persist(st: &RunState) -> RunState {
    serde_json::from_str(&serde_json::to_string(st).unwrap()).unwrap()
}

fn execute(next: Next) -> run::Command {
    match next {
        Next::Execute(c) => *c,
        other => panic!("expected a command, got {other:?}"),
    }
}

#[test]
fn end_to_end_with_retries_and_approval() {
    let pb = parse("pb.yml", PB).unwrap();
    let tp = Templates::new();
    let mut st = run::start(&pb, "run-1", "alert", alert(), json!(null), t(0));

    let c = execute(run::next(&pb, &tp, &mut st, t(0)).unwrap());
    assert_eq!(c.step, "case");
    assert!(
        matches!(&c.effect, Effect::CreateIncident { title, severity, .. }
        if title == "Brute force from 203.0.113.9" && severity.as_deref() == Some("high"))
    );
    let mut st = persist(&st);
    run::complete(&pb, &mut st, Outcome::Ok(json!({"id": "INC-7"})), t(1)).unwrap();
    assert_eq!(st.incident_id(), Some("INC-7"));

    // The webhook fails twice, then succeeds; the key never changes.
    let c1 = execute(run::next(&pb, &tp, &mut st, t(1)).unwrap());
    let Effect::Http(req) = &c1.effect else {
        panic!()
    };
    assert_eq!(
        req.body,
        Some(json!({"ip": "203.0.113.9", "incident": "INC-7"}))
    );
    assert_eq!(c1.attempt, 1);
    run::complete(
        &pb,
        &mut st,
        Outcome::Err {
            message: "503".into(),
            retryable: true,
        },
        t(2),
    )
    .unwrap();
    assert_eq!(
        run::next(&pb, &tp, &mut st, t(3)).unwrap(),
        Next::Sleep(t(4))
    );
    let c2 = execute(run::next(&pb, &tp, &mut st, t(4)).unwrap());
    assert_eq!((c2.attempt, &c2.idempotency_key), (2, &c1.idempotency_key));
    run::complete(
        &pb,
        &mut st,
        Outcome::Err {
            message: "timeout".into(),
            retryable: true,
        },
        t(5),
    )
    .unwrap();
    assert_eq!(
        run::next(&pb, &tp, &mut st, t(6)).unwrap(),
        Next::Sleep(t(9))
    );
    let c3 = execute(run::next(&pb, &tp, &mut st, t(9)).unwrap());
    assert_eq!((c3.attempt, c3.effect.clone()), (3, c1.effect.clone()));
    run::complete(&pb, &mut st, Outcome::Ok(json!({"status": 200})), t(10)).unwrap();

    // Approval: a viewer may not decide, an analyst may.
    let Next::WaitApproval(w) = run::next(&pb, &tp, &mut st, t(10)).unwrap() else {
        panic!()
    };
    assert_eq!(w.message, "Block 203.0.113.9?");
    assert_eq!(w.deadline, t(3610));
    let mut st = persist(&st);
    assert_eq!(
        run::next(&pb, &tp, &mut st, t(20)).unwrap(),
        Next::WaitApproval(w)
    );
    let viewer = Decision {
        approve: true,
        by: "v".into(),
        role: Role::Viewer,
        comment: String::new(),
    };
    assert!(run::decide(&pb, &mut st, &viewer, t(30)).is_err());
    let ana = Decision {
        approve: true,
        by: "alice".into(),
        role: Role::Analyst,
        comment: "go".into(),
    };
    run::decide(&pb, &mut st, &ana, t(30)).unwrap();

    let c = execute(run::next(&pb, &tp, &mut st, t(31)).unwrap());
    assert_eq!(
        c.effect,
        Effect::Blocklist {
            kind: "ip".into(),
            value: "203.0.113.9".into(),
            ttl_secs: 86_400,
            reason: "incident INC-7".into()
        }
    );
    run::complete(&pb, &mut st, Outcome::Ok(json!({})), t(32)).unwrap();
    assert_eq!(
        run::next(&pb, &tp, &mut st, t(32)).unwrap(),
        Next::Done(RunStatus::Succeeded)
    );

    let log = st.drain_log();
    let events: Vec<_> = log
        .iter()
        .map(|e| format!("{}:{}", e.step, e.event))
        .collect();
    assert_eq!(
        events,
        [
            ":started",
            "case:started",
            "case:ok",
            "hook:started",
            "hook:retry",
            "hook:started",
            "hook:retry",
            "hook:started",
            "hook:ok",
            "ok:waiting",
            "ok:approved",
            "block:started",
            "block:ok",
            ":done"
        ]
    );
}

#[test]
fn a_crash_after_handing_out_a_command_replays_it_with_the_same_key() {
    let pb = parse("pb.yml", PB).unwrap();
    let tp = Templates::new();
    let mut st = run::start(&pb, "run-2", "alert", alert(), json!(null), t(0));
    let c = execute(run::next(&pb, &tp, &mut st, t(0)).unwrap());
    run::complete(&pb, &mut st, Outcome::Ok(json!({"id": "INC-1"})), t(0)).unwrap();
    let sent = execute(run::next(&pb, &tp, &mut st, t(0)).unwrap());
    assert_ne!(sent.idempotency_key, c.idempotency_key);
    // The server dies here: the state on disk says the command was out.
    let mut after = persist(&st);
    let again = execute(run::next(&pb, &tp, &mut after, t(100)).unwrap());
    assert_eq!(again, sent);
    assert!(
        after
            .log
            .iter()
            .any(|e| e.message.contains("resumed after an interruption"))
    );
}

#[test]
fn an_interrupted_email_is_not_sent_twice() {
    let pb = parse(
        "pb.yml",
        "id: mail\nname: m\ntrigger: {manual: {}}\nsteps:\n  - id: tell\n    notify: {channel: email, to: [soc@example.com], text: hi}\n    on_error: continue\n  - id: after\n    set: {x: 1}\n",
    )
    .unwrap();
    let tp = Templates::new();
    let mut st = run::start(&pb, "r", "manual", json!({}), json!(null), t(0));
    let c = execute(run::next(&pb, &tp, &mut st, t(0)).unwrap());
    assert!(!c.effect.replay_safe());
    let mut st = persist(&st);
    assert_eq!(
        run::next(&pb, &tp, &mut st, t(1)).unwrap(),
        Next::Done(RunStatus::Succeeded)
    );
    assert!(
        st.ctx["steps"]["tell"]["error"]
            .as_str()
            .unwrap()
            .contains("outcome unknown")
    );
    assert_eq!(st.ctx["vars"]["x"], json!(1));
}

#[test]
fn denial_and_timeout_branches() {
    let text = PB.replace(
        "      timeout: 1h\n",
        "      timeout: 1h\n      on_timeout:\n        - id: escalate\n          add_note: { text: \"nobody answered\" }\n",
    );
    let pb = parse("pb.yml", &text).unwrap();
    let tp = Templates::new();
    let drive_to_approval = |id: &str| {
        let mut st = run::start(&pb, id, "alert", alert(), json!(null), t(0));
        loop {
            match run::next(&pb, &tp, &mut st, t(0)).unwrap() {
                Next::Execute(c) => {
                    run::complete(&pb, &mut st, Outcome::Ok(json!({"id": "INC-1"})), t(0))
                        .map(|_| c)
                        .map(drop)
                        .unwrap()
                }
                Next::WaitApproval(_) => return st,
                other => panic!("{other:?}"),
            }
        }
    };
    // Denied, no on_deny branch: the run stops before the blocklist step.
    let mut st = drive_to_approval("d");
    let no = Decision {
        approve: false,
        by: "bob".into(),
        role: Role::Admin,
        comment: "known scanner".into(),
    };
    run::decide(&pb, &mut st, &no, t(5)).unwrap();
    assert_eq!(
        run::next(&pb, &tp, &mut st, t(5)).unwrap(),
        Next::Done(RunStatus::Stopped {
            reason: "denied".into()
        })
    );
    // Timed out: the on_timeout branch runs (a note on the run's incident),
    // then the run stops.
    let mut st = drive_to_approval("t");
    let c = execute(run::next(&pb, &tp, &mut st, t(3601)).unwrap());
    assert_eq!(
        c.effect,
        Effect::AddNote {
            incident: Some("INC-1".into()),
            text: "nobody answered".into()
        }
    );
    run::complete(&pb, &mut st, Outcome::Ok(json!({})), t(3602)).unwrap();
    assert_eq!(
        run::next(&pb, &tp, &mut st, t(3602)).unwrap(),
        Next::Done(RunStatus::Stopped {
            reason: "timeout".into()
        })
    );
    assert_eq!(st.ctx["steps"]["ok"]["outcome"], "timeout");
}

#[test]
fn loops_conditions_variables_and_errors() {
    let pb = parse(
        "pb.yml",
        r#"
id: loop
name: l
trigger: {manual: {inputs: [ips]}}
steps:
  - id: init
    set: { seen: 0, prefix: "blk" }
  - id: each
    for_each:
      items: "inputs.ips"
      as: ip
      steps:
        - id: only-public
          if:
            condition: "ip is not startingwith('10.')"
            then:
              - id: add
                blocklist: { kind: ip, value: "{{ ip }}", ttl: 1h, reason: "{{ vars.prefix }} {{ ip }}" }
  - id: skipped
    when: "vars.seen > 0"
    add_note: { text: never }
  - id: broken
    on_error: continue
    http: { url: "https://hooks.example.com/{{ vars.prefix }}", retries: 0 }
"#,
    )
    .unwrap();
    let tp = Templates::new();
    let mut st = run::start(
        &pb,
        "r",
        "manual",
        json!({}),
        json!({"ips": ["1.1.1.1", "10.0.0.1", "9.9.9.9"]}),
        t(0),
    );
    let mut blocked = Vec::new();
    let mut keys = Vec::new();
    loop {
        match run::next(&pb, &tp, &mut st, t(0)).unwrap() {
            Next::Execute(c) => {
                let outcome = match &c.effect {
                    Effect::Blocklist { value, reason, .. } => {
                        blocked.push((value.clone(), reason.clone()));
                        keys.push(c.idempotency_key.clone());
                        Outcome::Ok(json!({}))
                    }
                    Effect::Http(r) => {
                        assert_eq!(r.url, "https://hooks.example.com/blk");
                        Outcome::Err {
                            message: "connection refused".into(),
                            retryable: true,
                        }
                    }
                    other => panic!("{other:?}"),
                };
                st = persist(&st);
                run::complete(&pb, &mut st, outcome, t(0)).unwrap();
            }
            Next::Done(s) => {
                assert_eq!(s, RunStatus::Succeeded);
                break;
            }
            other => panic!("{other:?}"),
        }
    }
    assert_eq!(
        blocked,
        [
            ("1.1.1.1".to_string(), "blk 1.1.1.1".to_string()),
            ("9.9.9.9".into(), "blk 9.9.9.9".into())
        ]
    );
    assert_eq!(keys, ["r:add:0", "r:add:2"]);
    assert_eq!(st.ctx["steps"]["skipped"], json!({"skipped": true}));
    assert_eq!(st.ctx["steps"]["broken"]["error"], "connection refused");
    assert!(
        st.ctx.get("ip").is_none(),
        "loop variable removed after the loop"
    );
}

#[test]
fn a_failing_step_fails_the_run_and_cancel_stops_it() {
    let pb = parse("pb.yml", PB).unwrap();
    let tp = Templates::new();
    let mut st = run::start(&pb, "f", "alert", alert(), json!(null), t(0));
    execute(run::next(&pb, &tp, &mut st, t(0)).unwrap());
    run::complete(
        &pb,
        &mut st,
        Outcome::Err {
            message: "store is read-only".into(),
            retryable: false,
        },
        t(0),
    )
    .unwrap();
    assert!(
        matches!(run::next(&pb, &tp, &mut st, t(0)).unwrap(), Next::Done(RunStatus::Failed { error }) if error.contains("store is read-only"))
    );

    let mut st = run::start(&pb, "c", "alert", alert(), json!(null), t(0));
    run::cancel(&mut st, "carol", t(1)).unwrap();
    assert_eq!(
        run::next(&pb, &tp, &mut st, t(1)).unwrap(),
        Next::Done(RunStatus::Cancelled { by: "carol".into() })
    );
    assert!(run::cancel(&mut st, "carol", t(2)).is_err());
}

#[test]
fn dry_run_lists_every_command_without_effects() {
    let pb = parse("pb.yml", PB).unwrap();
    let tp = Templates::new();
    let mut st = run::start(&pb, "dry", "alert", alert(), json!(null), t(0));
    let log = run::dry_run(&pb, &tp, &mut st, t(0)).unwrap();
    let would: Vec<_> = log
        .iter()
        .filter(|e| e.event == "dry_run")
        .map(|e| e.step.as_str())
        .collect();
    assert_eq!(would, ["case", "hook", "ok", "block"]);
    assert_eq!(st.status, RunStatus::Succeeded);
}

#[test]
fn signatures() {
    let sig = run::sign(b"key", b"{\"a\":1}");
    assert!(sig.starts_with("sha256=") && sig.len() == 7 + 64);
    assert!(run::verify(b"key", b"{\"a\":1}", &sig));
    assert!(!run::verify(b"other", b"{\"a\":1}", &sig));
    assert!(!run::verify(b"key", b"{\"a\":2}", &sig));
    assert!(!run::verify(b"key", b"x", "sha256=zz"));
}
