//! Correlation tests on synthetic streams with exactly known outputs: each
//! correlation type, group-by, window edges, out-of-order events, closing
//! by time, chains, aliases, bounds and snapshots.

use vigil_model::{Event, EventBuilder, EventFormat, FieldRegistry, TenantId, Timestamp, Value};

use super::*;

const S: i64 = 1_000_000;

/// Base rules: `fail` (action=fail), `ok` (action=ok), `proc` (action=proc).
const BASE: &str = "title: Fail\nid: r-fail\nname: fail\nlogsource: {category: test}\n\
detection: {sel: {action: fail}, condition: sel}\n---\n\
title: Ok\nid: r-ok\nname: ok\nlogsource: {category: test}\n\
detection: {sel: {action: ok}, condition: sel}\n---\n\
title: Proc\nid: r-proc\nname: proc\nlogsource: {category: test}\n\
detection: {sel: {action: proc}, condition: sel}\n";

struct H {
    reg: FieldRegistry,
    set: RuleSet,
    c: Correlator,
}

fn h(corr: &str) -> H {
    h_cfg(corr, CorrelationConfig::default())
}

fn h_cfg(corr: &str, cfg: CorrelationConfig) -> H {
    let reg = FieldRegistry::new();
    let text = format!("{BASE}---\n{corr}");
    let (set, errs) = RuleSet::load([("t.yml", text.as_str())], &reg, &Config::default());
    assert!(errs.is_empty(), "{errs:?}");
    let (c, errs) = Correlator::new(&set, &reg, &Config::default(), cfg);
    assert!(errs.is_empty(), "{errs:?}");
    H { reg, set, c }
}

fn ev(reg: &FieldRegistry, secs: i64, fields: &[(&str, &str)]) -> Event {
    let mut b = EventBuilder::new(
        TenantId::DEFAULT,
        Timestamp::from_secs(secs),
        "test",
        EventFormat::Json,
        *b"{}",
    );
    b.set_time(Timestamp::from_secs(secs));
    for (k, v) in fields {
        b.push(reg.intern(k).unwrap(), Value::from(*v));
    }
    b.build()
}

impl H {
    /// Feeds `(time s, fields)` events (wall = event time); returns the
    /// emitted firings as `title group=value... v=value @time`.
    fn feed(&mut self, events: &[(i64, &[(&str, &str)])]) -> Vec<String> {
        let mut out = Vec::new();
        for (t, f) in events {
            let e = ev(&self.reg, *t, f);
            for v in self.set.evaluate(&e) {
                self.c.observe(v.rule, &e, t * S, &mut out);
            }
        }
        self.render(out)
    }

    fn timer(&mut self, wall_s: i64) -> Vec<String> {
        let mut out = Vec::new();
        self.c.on_timer(wall_s * S, &mut out);
        self.render(out)
    }

    fn render(&self, out: Vec<Firing>) -> Vec<String> {
        out.iter()
            .filter(|f| f.emit)
            .map(|f| {
                let g: Vec<String> = f.group.iter().map(|(k, v)| format!("{k}={v}")).collect();
                format!(
                    "{} {} v={} n={} [{}..{}]{}",
                    self.c.correlations()[f.correlation].rule.meta.title,
                    g.join(","),
                    f.value,
                    f.events,
                    f.window_start / S,
                    f.time / S,
                    if f.closed { " closed" } else { "" }
                )
            })
            .collect()
    }
}

const FAIL3: &str = "title: Brute\nid: c-brute\ncorrelation:\n  type: event_count\n  rules: [fail]\n  group-by: [ip]\n  timespan: 1m\n  condition: {gte: 3}\n";

#[test]
fn event_count_by_group_restarts_after_firing() {
    let mut h = h(FAIL3);
    let a: &[(&str, &str)] = &[("action", "fail"), ("ip", "A")];
    let b: &[(&str, &str)] = &[("action", "fail"), ("ip", "B")];
    let got = h.feed(&[
        (0, a),
        (5, b),
        (10, a),
        (15, b),
        (20, a),
        (30, a),
        (40, a),
        (50, a),
    ]);
    assert_eq!(
        got,
        ["Brute ip=A v=3 n=3 [0..20]", "Brute ip=A v=3 n=3 [30..50]"]
    );
    // Base rule hidden (referenced, no generate).
    assert!(!h.c.rule_emits(0));
    assert!(h.c.rule_emits(1));
}

#[test]
fn window_edge_is_inclusive() {
    let mut h = h(FAIL3);
    let a: &[(&str, &str)] = &[("action", "fail"), ("ip", "A")];
    // Exactly 60 s apart: one window.
    assert_eq!(
        h.feed(&[(0, a), (30, a), (60, a)]),
        ["Brute ip=A v=3 n=3 [0..60]"]
    );
    // 61 s: the first one has left the window.
    let mut h2 = self::h(FAIL3);
    assert!(h2.feed(&[(100, a), (130, a), (161, a)]).is_empty());
    assert_eq!(h2.c.stats().groups, 1);
}

#[test]
fn out_of_order_within_bound_counts_older_is_late() {
    let mut h = h(FAIL3.replace("gte: 3", "gte: 4").as_str());
    let a: &[(&str, &str)] = &[("action", "fail"), ("ip", "A")];
    assert_eq!(
        h.feed(&[(0, a), (10, a), (40, a), (20, a)]),
        ["Brute ip=A v=4 n=4 [0..40]"]
    );
    // Now latest is 40 (window emptied by the firing); an event at -30 is
    // older than 40 - 60 and dropped.
    assert!(h.feed(&[(-30, a)]).is_empty());
    assert_eq!(h.c.stats().late, 1);
}

#[test]
fn missing_group_field_does_not_contribute() {
    let mut h = h(FAIL3);
    let no_ip: &[(&str, &str)] = &[("action", "fail")];
    assert!(h.feed(&[(0, no_ip), (1, no_ip), (2, no_ip)]).is_empty());
    assert_eq!(h.c.stats().ungrouped, 3);
}

#[test]
fn value_count_distinct_users() {
    let mut h = h(
        "title: Spray\ncorrelation:\n  type: value_count\n  rules: [r-fail]\n  group-by: [ip]\n  timespan: 5m\n  condition: {field: user, gte: 3}\n",
    );
    let f = |u: &'static str| -> Vec<(&'static str, &'static str)> {
        vec![("action", "fail"), ("ip", "A"), ("user", u)]
    };
    let (a, b, c) = (f("a"), f("b"), f("c"));
    let got = h.feed(&[(0, &a), (1, &a), (2, &b), (3, &a), (4, &c)]);
    assert_eq!(got, ["Spray ip=A v=3 n=5 [0..4]"]);
}

#[test]
fn temporal_any_order_and_ordered() {
    let t = "title: T\ncorrelation:\n  type: temporal\n  rules: [ok, fail]\n  group-by: [user]\n  timespan: 1m\n";
    let ok: &[(&str, &str)] = &[("action", "ok"), ("user", "u")];
    let fail: &[(&str, &str)] = &[("action", "fail"), ("user", "u")];
    let other: &[(&str, &str)] = &[("action", "fail"), ("user", "v")];
    let mut h1 = h(t);
    assert_eq!(
        h1.feed(&[(0, fail), (10, other), (30, ok)]),
        ["T user=u v=2 n=2 [0..30]"]
    );
    let mut h2 = h(&t.replace("temporal", "temporal_ordered"));
    // fail then ok: wrong order for [ok, fail].
    assert!(h2.feed(&[(0, fail), (30, ok)]).is_empty());
    // ...then another fail after the ok completes the order.
    assert_eq!(h2.feed(&[(40, fail)]), ["T user=u v=2 n=3 [0..40]"]);
    // Too far apart.
    let mut h3 = h(t);
    assert!(h3.feed(&[(0, fail), (61, ok)]).is_empty());
}

#[test]
fn value_sum_and_avg() {
    let sum = "title: Exfil\ncorrelation:\n  type: value_sum\n  rules: [proc]\n  group-by: [user]\n  timespan: 1h\n  condition: {field: bytes, gt: 100}\n";
    let p = |b: &'static str| -> Vec<(&'static str, &'static str)> {
        vec![("action", "proc"), ("user", "u"), ("bytes", b)]
    };
    let (b50, b40, b20, bx) = (p("50"), p("40"), p("20"), p("n/a"));
    let mut h1 = h(sum);
    assert_eq!(
        h1.feed(&[(0, &b50), (1, &bx), (2, &b40), (3, &b20)]),
        ["Exfil user=u v=110 n=3 [0..3]"]
    );
    let mut h2 = h(&sum
        .replace("value_sum", "value_avg")
        .replace("gt: 100", "gt: 30"));
    let b10 = p("10");
    assert_eq!(
        h2.feed(&[(0, &b10), (1, &b50), (2, &b40)]),
        ["Exfil user=u v=33.333333333333336 n=3 [0..2]"]
    );
}

#[test]
fn value_percentile_rare_value() {
    let mut h = h(
        "title: Rare\ncorrelation:\n  type: value_percentile\n  rules: [proc]\n  group-by: [host]\n  timespan: 1d\n  condition: {field: image, lte: 20}\n",
    );
    let p = |i: &'static str| -> Vec<(&'static str, &'static str)> {
        vec![("action", "proc"), ("host", "h"), ("image", i)]
    };
    let (x, y) = (p("x.exe"), p("y.exe"));
    let got = h.feed(&[(0, &x), (1, &x), (2, &x), (3, &x), (4, &x), (5, &y)]);
    // y is 1 of 6 events: 16.67 % <= 20 %.
    assert_eq!(got, ["Rare host=h v=16.666666666666668 n=6 [0..5]"]);
}

#[test]
fn upper_bound_closes_by_time_or_later_event() {
    let few = "title: Few\ncorrelation:\n  type: event_count\n  rules: [fail]\n  group-by: [ip]\n  timespan: 1m\n  condition: {lt: 3}\n";
    let a: &[(&str, &str)] = &[("action", "fail"), ("ip", "A")];
    let b: &[(&str, &str)] = &[("action", "fail"), ("ip", "B")];
    let mut h = h(few);
    assert!(
        h.feed(&[(0, a), (10, a), (0, b), (10, b), (20, b)])
            .is_empty()
    );
    assert_eq!(h.c.next_deadline(), Some(60 * S));
    assert!(h.timer(59).is_empty());
    assert_eq!(h.timer(60), ["Few ip=A v=2 n=2 [0..60] closed"]);
    assert_eq!(h.c.stats().expired, 1, "B had 3");
    // A later event closes the window too.
    assert!(h.feed(&[(100, a)]).is_empty());
    assert_eq!(h.feed(&[(200, a)]), ["Few ip=A v=1 n=1 [100..160] closed"]);
    // A range.
    let mut r = self::h(&few.replace("lt: 3", "gt: 1, lte: 2"));
    assert!(r.feed(&[(0, a), (10, a), (0, b)]).is_empty());
    assert_eq!(r.timer(60), ["Few ip=A v=2 n=2 [0..60] closed"]);
}

#[test]
fn chained_spec_example() {
    // The specification's "failed logins followed by a successful login".
    let mut h = h(
        "title: Failed then ok\nid: outer\ncorrelation:\n  type: temporal_ordered\n  rules: [many_failed, ok]\n  group-by: [user]\n  timespan: 10m\nlevel: high\n---\ntitle: Many failed\nname: many_failed\ncorrelation:\n  type: event_count\n  rules: [fail]\n  group-by: [user]\n  timespan: 10m\n  condition: {gte: 3}\n",
    );
    let fail: &[(&str, &str)] = &[("action", "fail"), ("user", "u")];
    let ok: &[(&str, &str)] = &[("action", "ok"), ("user", "u")];
    // An ok before the failures does not count; inner firing is hidden.
    let got = h.feed(&[(0, ok), (10, fail), (20, fail), (30, fail), (40, ok)]);
    assert_eq!(got, ["Failed then ok user=u v=2 n=3 [0..40]"]);
    assert_eq!(h.c.stats().fired, 2);
}

#[test]
fn aliases_map_fields_per_rule() {
    let mut h = h(
        "title: Pivot\ncorrelation:\n  type: temporal\n  rules: [fail, ok]\n  group-by: [internal_ip]\n  timespan: 10s\n  aliases:\n    internal_ip:\n      fail: destination.ip\n      ok: source.ip\n",
    );
    let fail: &[(&str, &str)] = &[("action", "fail"), ("destination.ip", "10.0.0.1")];
    let ok_other: &[(&str, &str)] = &[("action", "ok"), ("source.ip", "10.0.0.2")];
    let ok: &[(&str, &str)] = &[("action", "ok"), ("source.ip", "10.0.0.1")];
    assert_eq!(
        h.feed(&[(0, fail), (1, ok_other), (2, ok)]),
        ["Pivot internal_ip=10.0.0.1 v=2 n=2 [0..2]"]
    );
}

#[test]
fn generate_true_keeps_base_alerts() {
    let h = h(&FAIL3.replace("  condition:", "  generate: true\n  condition:"));
    assert!(h.c.rule_emits(0));
}

#[test]
fn group_cap_evicts_least_recent() {
    let mut h = h_cfg(
        FAIL3,
        CorrelationConfig {
            max_groups: 2,
            max_entries: 2,
        },
    );
    let f = |ip: &'static str| -> Vec<(&'static str, &'static str)> {
        vec![("action", "fail"), ("ip", ip)]
    };
    let (a, b, c) = (f("A"), f("B"), f("C"));
    assert!(h.feed(&[(0, &a), (1, &b), (2, &c), (3, &c)]).is_empty());
    let s = h.c.stats();
    assert_eq!((s.groups, s.evicted), (2, 1));
    // max_entries 2: a third event in a group drops the oldest (gte 3 never holds).
    assert!(h.feed(&[(4, &c)]).is_empty());
    assert_eq!(h.c.stats().truncated, 1);
}

#[test]
fn snapshot_restore_keeps_open_windows() {
    let a: &[(&str, &str)] = &[("action", "fail"), ("ip", "A")];
    let mut h1 = h(FAIL3);
    assert!(h1.feed(&[(0, a), (10, a)]).is_empty());
    let snap = h1.c.snapshot();
    assert_eq!(snap, h1.c.snapshot(), "deterministic");
    let mut h2 = h(FAIL3);
    assert_eq!(h2.c.restore(&snap), Ok(1));
    assert_eq!(h2.feed(&[(20, a)]), ["Brute ip=A v=3 n=3 [0..20]"]);
    assert!(h2.feed(&[(30, a)]).is_empty());
    // A changed correlation (other timespan) does not inherit the state.
    let mut h3 = h(&FAIL3.replace("1m", "2m"));
    assert_eq!(h3.c.restore(&snap), Ok(0));
    assert!(h3.c.restore(b"not json").is_err());
}

#[test]
fn bad_references_and_cycles_are_errors() {
    let reg = FieldRegistry::new();
    let text = format!(
        "{BASE}---\ntitle: X\nname: x\ncorrelation:\n  type: temporal\n  rules: [y, fail]\n  group-by: [u]\n  timespan: 1m\n---\ntitle: Y\nname: y\ncorrelation:\n  type: temporal\n  rules: [x, ok]\n  group-by: [u]\n  timespan: 1m\n---\ntitle: Z\ncorrelation:\n  type: event_count\n  rules: [nope]\n  group-by: [u]\n  timespan: 1m\n  condition: {{gte: 1}}\n"
    );
    let (set, errs) = RuleSet::load([("t.yml", text.as_str())], &reg, &Config::default());
    assert!(errs.is_empty(), "{errs:?}");
    let (c, errs) = Correlator::new(&set, &reg, &Config::default(), CorrelationConfig::default());
    let msgs: Vec<String> = errs.iter().map(|e| e.to_string()).collect();
    assert_eq!(msgs.len(), 3, "{msgs:?}");
    assert!(
        msgs.iter().any(|m| m.contains("unknown rule \"nope\"")),
        "{msgs:?}"
    );
    assert_eq!(
        msgs.iter().filter(|m| m.contains("cycle")).count(),
        2,
        "{msgs:?}"
    );
    assert!(c.correlations().is_empty());
}

#[test]
fn temporal_boundary_and_generate_on_a_chain() {
    // Temporal: exactly `timespan` apart is inside the window.
    let t = "title: T\ncorrelation:\n  type: temporal\n  rules: [ok, fail]\n  group-by: [user]\n  timespan: 1m\n";
    let ok: &[(&str, &str)] = &[("action", "ok"), ("user", "u")];
    let fail: &[(&str, &str)] = &[("action", "fail"), ("user", "u")];
    assert_eq!(
        h(t).feed(&[(0, fail), (60, ok)]),
        ["T user=u v=2 n=2 [0..60]"]
    );
    // An inner correlation with `generate: true` on its outer reference
    // is raised too; the outer one as well.
    let mut h2 = h(
        "title: Outer\ncorrelation:\n  type: temporal\n  rules: [inner, ok]\n  group-by: [user]\n  timespan: 10m\n  generate: true\n---\ntitle: Inner\nname: inner\ncorrelation:\n  type: event_count\n  rules: [fail]\n  group-by: [user]\n  timespan: 10m\n  condition: {gte: 2}\n",
    );
    assert_eq!(
        h2.feed(&[(0, fail), (1, fail), (2, ok)]),
        ["Inner user=u v=2 n=2 [0..1]", "Outer user=u v=2 n=2 [1..2]"]
    );
    // `fail` is referenced only by Inner (no generate): hidden; `ok` is
    // referenced by Outer (generate): shown.
    assert!(!h2.c.rule_emits(0));
    assert!(h2.c.rule_emits(1));
}
