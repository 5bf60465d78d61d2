//! `SigmaDetector` tests: alerts from rules (level, tags, matched fields),
//! the SSH brute-force correlation over sshd syslog events, timers, and a
//! snapshot/restore across detectors that keeps the open window.

use std::sync::Arc;

use vigil_model::{
    DetectCtx, Detector, Event, EventBuilder, EventFormat, FieldId, FieldRegistry, Severity,
    TenantId, Timestamp, Value,
};

use super::*;

const RULES: &str = "title: SSH failed login\nid: ssh-fail\nname: ssh_fail\nlevel: low\n\
tags: [attack.credential-access, attack.t1110]\nlogsource: {product: linux, service: sshd}\n\
detection:\n  sel:\n    event.outcome: failure\n  condition: sel\n---\n\
title: SSH brute force\nid: ssh-brute\nlevel: high\ntags: [attack.t1110.001]\n\
correlation:\n  type: event_count\n  rules: [ssh_fail]\n  group-by: [source.ip]\n  timespan: 1m\n  condition: {gte: 5}\n---\n\
title: Root login\nid: root-login\nlevel: critical\ntags: [attack.t1078]\n\
logsource: {product: linux, service: sshd}\n\
detection:\n  sel:\n    event.outcome: success\n    user.name: root\n  condition: sel\n---\n\
title: Few sudo\nid: few-sudo\ncorrelation:\n  type: event_count\n  rules: [root-login]\n  group-by: [source.ip]\n  timespan: 1m\n  generate: true\n  condition: {lt: 2}\n";

fn detector(reg: &FieldRegistry) -> SigmaDetector {
    let cfg = Config::default();
    let (set, errs) = RuleSet::load([("r.yml", RULES)], reg, &cfg);
    assert!(errs.is_empty(), "{errs:?}");
    let (d, errs) = SigmaDetector::new(Arc::new(set), reg, &cfg, CorrelationConfig::default());
    assert!(errs.is_empty(), "{errs:?}");
    d
}

fn sshd(reg: &FieldRegistry, secs: i64, msg: &str) -> Event {
    let _ = reg;
    let mut b = EventBuilder::new(
        TenantId::DEFAULT,
        Timestamp::from_secs(secs),
        "syslog",
        EventFormat::Syslog,
        msg.as_bytes().to_vec(),
    );
    b.set_time(Timestamp::from_secs(secs));
    b.push(FieldId::LOG_SYSLOG_APPNAME, Value::from("sshd"));
    b.push(FieldId::MESSAGE, Value::from(msg));
    b.build()
}

fn fail(reg: &FieldRegistry, secs: i64, ip: &str) -> Event {
    sshd(
        reg,
        secs,
        &format!("Failed password for invalid user admin from {ip} port 50122 ssh2"),
    )
}

/// Feeds events (wall = event time); returns `rule_id severity` per alert.
fn feed(d: &mut SigmaDetector, reg: &FieldRegistry, evs: &[Event]) -> Vec<vigil_model::Alert> {
    let mut out = Vec::new();
    for e in evs {
        let mut ctx = DetectCtx::new(reg, e.time.unwrap_or(e.received_at));
        d.on_event(e, &mut ctx);
        out.extend(ctx.into_outputs().0);
    }
    out
}

fn ids(a: &[vigil_model::Alert]) -> Vec<String> {
    a.iter()
        .map(|a| format!("{} {}", a.rule_id, a.severity.as_str()))
        .collect()
}

#[test]
fn brute_force_fires_once_with_details() {
    let reg = FieldRegistry::new();
    let mut d = detector(&reg);
    let evs: Vec<Event> = (0..5)
        .map(|i| fail(&reg, 100 + i * 10, "203.0.113.77"))
        .chain([fail(&reg, 110, "198.51.100.1")])
        .collect();
    let alerts = feed(&mut d, &reg, &evs);
    // The base rule is hidden by the correlation (no `generate`).
    assert_eq!(ids(&alerts), ["ssh-brute high"]);
    let a = &alerts[0];
    assert_eq!(a.title, "SSH brute force");
    assert_eq!(a.tags, ["attack.t1110.001"]);
    assert_eq!(a.entities.source_ip.as_deref(), Some("203.0.113.77"));
    assert_eq!(a.details["group"]["source.ip"], "203.0.113.77");
    assert_eq!(a.details["events"], 5);
    assert_eq!(a.event_time, Timestamp::from_secs(140));
    assert_eq!(d.stats().groups, 2);
}

#[test]
fn rule_alert_has_level_tags_and_matched_fields() {
    let reg = FieldRegistry::new();
    let mut d = detector(&reg);
    let e = sshd(
        &reg,
        5,
        "Accepted password for root from 192.0.2.9 port 2222 ssh2",
    );
    let alerts = feed(&mut d, &reg, &[e]);
    assert_eq!(ids(&alerts), ["root-login critical"]);
    let a = &alerts[0];
    assert_eq!(a.tags, ["attack.t1078"]);
    assert_eq!(a.details["matched"]["user.name"], "root");
    assert_eq!(a.details["matched"]["event.outcome"], "success");
    assert_eq!(a.entities.user.as_deref(), Some("root"));
    // `few-sudo` (lt 2) closes by the timer: one event in the window.
    assert_eq!(d.next_deadline(), Some(Timestamp::from_secs(65)));
    let mut ctx = DetectCtx::new(&reg, Timestamp::from_secs(65));
    d.on_timer(Timestamp::from_secs(65), &mut ctx);
    let (alerts, _) = ctx.into_outputs();
    assert_eq!(ids(&alerts), ["few-sudo medium"]);
    assert_eq!(alerts[0].event_id, None);
    assert_eq!(alerts[0].entities.source_ip.as_deref(), Some("192.0.2.9"));
    assert_eq!(d.next_deadline(), None);
}

#[test]
fn snapshot_restore_keeps_the_open_window() {
    let reg = FieldRegistry::new();
    let evs: Vec<Event> = (0..8)
        .map(|i| fail(&reg, 1000 + i, "203.0.113.77"))
        .collect();
    let mut d1 = detector(&reg);
    assert!(feed(&mut d1, &reg, &evs[..3]).is_empty());
    let snap = d1.snapshot().unwrap().unwrap();
    drop(d1);
    let mut d2 = detector(&reg);
    d2.restore(&snap).unwrap();
    let alerts = feed(&mut d2, &reg, &evs[3..]);
    assert_eq!(ids(&alerts), ["ssh-brute high"], "fires once, at the 5th");
    assert_eq!(alerts[0].event_id, Some(evs[4].id));
    // Garbage is an error, not a panic; empty state is nothing to restore.
    assert!(d2.restore(b"{").is_err());
    assert!(d2.restore(b"").is_ok());
}

#[test]
fn severity_maps_levels() {
    assert_eq!(severity(None), Severity::Medium);
    assert_eq!(
        severity(Some(Level::Informational)),
        Severity::Informational
    );
    assert_eq!(severity(Some(Level::Critical)), Severity::Critical);
}

/// Rule management: a silent (disabled) rule raises nothing but still
/// feeds its correlation; level and tags overrides land in the alerts of
/// rules and correlations. See: #4
#[test]
fn overrides_change_level_tags_and_silence_rules() {
    let reg = FieldRegistry::new();
    let mut d = detector(&reg);
    d.set_overrides(|id| match id {
        "root-login" => Some(RuleOverride {
            level: Some(Level::Low),
            tags: Some(vec!["custom.tag".into()]),
            ..RuleOverride::default()
        }),
        "ssh-brute" => Some(RuleOverride {
            level: Some(Level::Critical),
            ..RuleOverride::default()
        }),
        "ssh-fail" => Some(RuleOverride {
            silent: true,
            ..RuleOverride::default()
        }),
        _ => None,
    });
    let root = sshd(
        &reg,
        5,
        "Accepted password for root from 192.0.2.9 port 2222 ssh2",
    );
    let alerts = feed(&mut d, &reg, std::slice::from_ref(&root));
    assert_eq!(ids(&alerts), ["root-login low"]);
    assert_eq!(alerts[0].tags, ["custom.tag"]);
    assert_eq!(alerts[0].details["level"], "low");
    let evs: Vec<Event> = (0..5)
        .map(|i| fail(&reg, 100 + i, "203.0.113.77"))
        .collect();
    let alerts = feed(&mut d, &reg, &evs);
    assert_eq!(ids(&alerts), ["ssh-brute critical"]);
    assert_eq!(alerts[0].tags, ["attack.t1110.001"]);

    // A silent correlation raises nothing; its rules' matches still count.
    let mut d = detector(&reg);
    d.set_overrides(|id| {
        (id == "few-sudo").then(|| RuleOverride {
            silent: true,
            ..RuleOverride::default()
        })
    });
    assert_eq!(ids(&feed(&mut d, &reg, &[root])), ["root-login critical"]);
    let mut ctx = DetectCtx::new(&reg, Timestamp::from_secs(65));
    d.on_timer(Timestamp::from_secs(65), &mut ctx);
    assert!(ctx.into_outputs().0.is_empty());
}

#[derive(Debug, Default)]
struct Sink(std::sync::Mutex<(CorrelationStats, usize)>);

impl StatsSink for Sink {
    fn publish(&self, delta: &CorrelationStats, groups: usize) {
        let mut g = self.0.lock().unwrap();
        g.0.contributions += delta.contributions;
        g.0.evicted += delta.evicted;
        g.0.fired += delta.fired;
        g.1 = groups;
    }
}

/// Correlation counters reach the sink as monotonic sums across a hot
/// reload (snapshot → restore into a new detector with the same sink).
#[test]
fn stats_sink_sums_across_reloads() {
    let reg = FieldRegistry::new();
    let cfg = Config::default();
    let (set, _) = RuleSet::load([("r.yml", RULES)], &reg, &cfg);
    let set = Arc::new(set);
    let limits = CorrelationConfig {
        max_groups: 2,
        ..CorrelationConfig::default()
    };
    let sink = Arc::new(Sink::default());
    let (mut d, _) = SigmaDetector::new(set.clone(), &reg, &cfg, limits);
    d.set_stats_sink(sink.clone());
    let evs: Vec<Event> = ["192.0.2.1", "192.0.2.2", "192.0.2.3"]
        .iter()
        .enumerate()
        .map(|(i, ip)| fail(&reg, 100 + i as i64, ip))
        .collect();
    feed(&mut d, &reg, &evs);
    {
        let g = sink.0.lock().unwrap();
        assert_eq!((g.0.contributions, g.0.evicted, g.1), (3, 1, 2));
    }
    let snap = d.snapshot().unwrap().unwrap();
    let (mut d2, _) = SigmaDetector::new(set, &reg, &cfg, limits);
    d2.set_stats_sink(sink.clone());
    d2.restore(&snap).unwrap();
    feed(&mut d2, &reg, &[fail(&reg, 110, "192.0.2.3")]);
    let g = sink.0.lock().unwrap();
    assert_eq!((g.0.contributions, g.0.evicted, g.1), (4, 1, 2));
}
