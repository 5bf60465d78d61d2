//! Correlation evaluation: windows and group state for the seven
//! correlation types of the Sigma correlation specification, over the
//! verdicts of a [`RuleSet`]. No clock, no I/O: event times come from the
//! events, "wall" times from the caller.
//!
//! # Semantics chosen where the specification leaves room
//!
//! - **Windows slide by event time.** A group keeps the contributions of
//!   the last `timespan` before its latest event: events `e1..en` share a
//!   window when `last - first <= timespan` (both ends inclusive).
//! - **When a condition is checked.** Conditions with only lower bounds
//!   (`gt`, `gte`) and every condition of `value_avg` and
//!   `value_percentile` are checked when a contribution arrives, over the
//!   group's current window (the earliest possible alert). Conditions with
//!   an upper bound (`lt`, `lte`, `eq`, `neq`) on the extensive aggregates
//!   (`event_count`, `value_count`, `value_sum`, `temporal`,
//!   `temporal_ordered`) could only be judged on a complete window, so they
//!   use a window opened by the group's first event `t0` and closed at
//!   `t0 + timespan`: by a later event of the group, or by the timer.
//! - **After an alert the group's window restarts** (its contributions are
//!   consumed), so ten failures with `gte: 5` raise two alerts, not six.
//! - **Out-of-order events** are accepted while they are no older than the
//!   group's latest event minus `timespan` (they join the current window);
//!   older ones are dropped and counted in [`CorrelationStats::late`].
//! - **Group-by**: an event lacking a group-by field (after aliases and
//!   field mappings) does not contribute ([`CorrelationStats::ungrouped`]);
//!   values compare as text, case-sensitively. Groups are per tenant.
//! - `value_count` counts distinct texts of `field`; `value_sum` and
//!   `value_avg` read numbers (and numeric strings), ignoring others.
//! - `value_percentile`: the share, in percent (0–100], of the window's
//!   contributions whose `field` equals the arriving event's value; so
//!   `lte: 1` fires for a value seen in at most 1 % of the group's events
//!   (the specification's "rare process name" example).
//! - `temporal` without a condition needs every referenced rule; with one,
//!   the condition applies to the number of distinct rules seen.
//!   `temporal_ordered` needs the rules in the listed order (a subsequence
//!   of the window in time order); with a condition, to the length of the
//!   longest ordered prefix.
//! - `generate`: a rule (detection or correlation) referenced by
//!   correlations raises its own alerts only when one of them says
//!   `generate: true` (the default hides it, as the specification says).
//! - Chains: a correlation may reference another; the inner one's firing
//!   is an input with the inner group-by values as its fields. Cycles are
//!   rejected.
//!
//! # Bounds
//!
//! At most [`CorrelationConfig::max_groups`] open groups (the least
//! recently active are evicted, counted in [`CorrelationStats::evicted`])
//! and [`CorrelationConfig::max_entries`] contributions per group (oldest
//! dropped, [`CorrelationStats::truncated`]). Groups expire once no
//! contribution arrived for a whole `timespan` of caller ("wall") time.

use std::collections::{BTreeMap, BTreeSet, HashMap, VecDeque};
use std::sync::Arc;

use serde::{Deserialize, Serialize};
use vigil_model::{Event, FieldId, FieldRegistry, Value};

use crate::compile::{Config, RuleSet};
use crate::correlation::{CmpOp, CorrelationRule, CorrelationType};
use crate::error::{Error, Location};

/// Bounds on correlation state.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CorrelationConfig {
    /// Most open groups across all correlations. By default, 100 000.
    pub max_groups: usize,
    /// Most contributions kept per group. By default, 10 000.
    pub max_entries: usize,
}

impl Default for CorrelationConfig {
    fn default() -> Self {
        Self {
            max_groups: 100_000,
            max_entries: 10_000,
        }
    }
}

/// Counters for metrics.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CorrelationStats {
    /// Open groups now.
    pub groups: usize,
    /// Contributions accepted.
    pub contributions: u64,
    /// Correlation firings (including hidden inner ones of chains).
    pub fired: u64,
    /// Groups evicted because of [`CorrelationConfig::max_groups`].
    pub evicted: u64,
    /// Contributions dropped for [`CorrelationConfig::max_entries`].
    pub truncated: u64,
    /// Contributions older than their group's window.
    pub late: u64,
    /// Contributions lacking a group-by field.
    pub ungrouped: u64,
    /// Groups expired without firing.
    pub expired: u64,
}

/// One correlation that fired.
#[derive(Debug, Clone, PartialEq)]
pub struct Firing {
    /// Index into [`Correlator::correlations`].
    pub correlation: usize,
    /// The tenant of the group (`TenantId` text).
    pub tenant: String,
    /// Group-by fields and their values, in `group-by` order.
    pub group: Vec<(String, String)>,
    /// The aggregate that satisfied the condition.
    pub value: f64,
    /// Event time of the first contribution in the window (µs).
    pub window_start: i64,
    /// Event time at which it fired (µs): the latest contribution, or the
    /// window end when closed by time.
    pub time: i64,
    /// Contributions in the window.
    pub events: usize,
    /// Whether it is raised as an alert (`false`: an inner link of a chain
    /// without `generate`).
    pub emit: bool,
    /// Closed by [`Correlator::on_timer`] or by a later event (no single
    /// triggering event).
    pub closed: bool,
}

/// A compiled correlation.
#[derive(Debug)]
pub struct Compiled {
    /// The source path.
    pub path: Arc<str>,
    /// The rule.
    pub rule: CorrelationRule,
    /// The key its state is stored under (id, else name, else title).
    pub key: String,
    /// Whether its firings are raised as alerts.
    pub emit: bool,
    span: i64,
    close_mode: bool,
    /// Per reference position: per group-by field: event fields tried.
    key_fields: Vec<Vec<Box<[FieldId]>>>,
    /// Per reference position: the value field's event fields.
    value_fields: Vec<Box<[FieldId]>>,
    /// Per reference position: for chained inputs, the inner correlation's
    /// group-by position of each of our group-by fields and of the value.
    chain_pos: Vec<(Vec<Option<usize>>, Option<usize>)>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
enum Val {
    None,
    Num(f64),
    Str(String),
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Entry {
    t: i64,
    r: u16,
    v: Val,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Group {
    entries: VecDeque<Entry>,
    /// Latest event time seen (µs).
    latest: i64,
    /// Close mode: event time the current window opened at.
    opened: i64,
    /// Caller time of the last contribution (µs).
    last_wall: i64,
    /// Close mode: caller time the current window opened at.
    opened_wall: i64,
}

type Key = (u32, Box<str>, Box<[String]>);

/// Correlation state over one [`RuleSet`].
#[derive(Debug)]
pub struct Correlator {
    corrs: Vec<Compiled>,
    /// Detection rule index → (correlation, reference position).
    by_rule: Vec<Vec<(u32, u16)>>,
    /// Correlation → (dependent correlation, reference position).
    by_corr: Vec<Vec<(u32, u16)>>,
    rule_emits: Vec<bool>,
    groups: HashMap<Key, Group>,
    cfg: CorrelationConfig,
    stats: CorrelationStats,
}

enum Input<'a> {
    Event(&'a Event),
    Chained(&'a Firing),
}

#[derive(Serialize, Deserialize)]
struct Snapshot {
    version: u32,
    correlations: Vec<SnapCorr>,
    stats: CorrelationStats,
}

#[derive(Serialize, Deserialize)]
struct SnapCorr {
    key: String,
    signature: String,
    groups: Vec<(String, Vec<String>, Group)>,
}

fn resolve(
    registry: &FieldRegistry,
    aliases: &HashMap<&str, Vec<&str>>,
    name: &str,
) -> Box<[FieldId]> {
    let mut out = Vec::new();
    if let Some(id) = registry.intern(name) {
        out.push(id);
    }
    for a in aliases.get(name).into_iter().flatten() {
        if let Some(id) = registry.intern(a)
            && !out.contains(&id)
        {
            out.push(id);
        }
    }
    out.into_boxed_slice()
}

fn has_upper(rule: &CorrelationRule) -> bool {
    rule.condition.as_ref().is_some_and(|c| {
        c.ops
            .iter()
            .any(|(op, _)| matches!(op, CmpOp::Lt | CmpOp::Lte | CmpOp::Eq | CmpOp::Neq))
    })
}

fn corr_key(r: &CorrelationRule) -> String {
    r.meta
        .id
        .clone()
        .or_else(|| r.meta.name.clone())
        .unwrap_or_else(|| r.meta.title.clone())
}

impl Correlator {
    /// Builds the correlations of `rules` (see [`RuleSet::correlations`]),
    /// resolving references by id or name and field names through the
    /// mappings of `config`. Correlations with an unknown reference or in a
    /// reference cycle are rejected with an error each; the rest load.
    pub fn new(
        rules: &RuleSet,
        registry: &FieldRegistry,
        config: &Config,
        cfg: CorrelationConfig,
    ) -> (Correlator, Vec<Error>) {
        let mut errors = Vec::new();
        let mut aliases: HashMap<&str, Vec<&str>> = HashMap::new();
        for m in &config.mappings {
            for (k, v) in &m.fields {
                aliases
                    .entry(k.as_str())
                    .or_default()
                    .extend(v.iter().map(String::as_str));
            }
        }
        let all: Vec<(Arc<str>, CorrelationRule)> = rules
            .correlations()
            .map(|(p, c)| (Arc::from(p), c.clone()))
            .collect();
        let names = |id: &Option<String>, name: &Option<String>, r: &str| {
            id.as_deref() == Some(r) || name.as_deref() == Some(r)
        };
        // Reference targets: detection rules and correlations.
        #[derive(Clone)]
        enum Target {
            Rule(usize),
            Corr(usize),
        }
        let mut targets: Vec<Option<Vec<Vec<Target>>>> = Vec::new();
        for (path, c) in &all {
            let mut per_ref = Vec::new();
            let mut ok = true;
            for r in &c.rules {
                let mut t: Vec<Target> = rules
                    .rules()
                    .iter()
                    .enumerate()
                    .filter(|(_, lr)| names(&lr.rule.meta.id, &lr.rule.meta.name, r))
                    .map(|(i, _)| Target::Rule(i))
                    .collect();
                t.extend(
                    all.iter()
                        .enumerate()
                        .filter(|(_, (_, o))| names(&o.meta.id, &o.meta.name, r))
                        .map(|(i, _)| Target::Corr(i)),
                );
                if t.is_empty() {
                    errors.push(Error::Rule {
                        path: path.to_string(),
                        location: Location::default(),
                        msg: format!("correlation references unknown rule {r:?}"),
                    });
                    ok = false;
                }
                per_ref.push(t);
            }
            targets.push(ok.then_some(per_ref));
        }
        // Reject cycles (and correlations depending on rejected ones).
        let n = all.len();
        let mut state = vec![0u8; n]; // 0 new, 1 visiting, 2 ok, 3 bad
        fn visit(i: usize, targets: &[Option<Vec<Vec<Target>>>], state: &mut [u8]) -> bool {
            match state[i] {
                1 | 3 => return false,
                2 => return true,
                _ => {}
            }
            state[i] = 1;
            let mut ok = targets[i].is_some();
            for t in targets[i].iter().flatten().flatten() {
                if let Target::Corr(j) = t
                    && !visit(*j, targets, state)
                {
                    ok = false;
                }
            }
            state[i] = if ok { 2 } else { 3 };
            ok
        }
        for i in 0..n {
            if !visit(i, &targets, &mut state) && targets[i].is_some() {
                errors.push(Error::Rule {
                    path: all[i].0.to_string(),
                    location: Location::default(),
                    msg: "correlation is part of a reference cycle or references a rejected correlation"
                        .into(),
                });
            }
        }
        // Kept correlations get dense indices.
        let mut index = vec![u32::MAX; n];
        let mut corrs = Vec::new();
        for i in 0..n {
            if state[i] == 2 {
                index[i] = corrs.len() as u32;
                let (path, c) = &all[i];
                let span = i64::try_from(c.timespan_secs)
                    .unwrap_or(i64::MAX / 1_000_000)
                    .saturating_mul(1_000_000);
                corrs.push(Compiled {
                    path: path.clone(),
                    key: corr_key(c),
                    rule: c.clone(),
                    emit: true,
                    span,
                    close_mode: !matches!(
                        c.kind,
                        CorrelationType::ValueAvg | CorrelationType::ValuePercentile
                    ) && has_upper(c),
                    key_fields: Vec::new(),
                    value_fields: Vec::new(),
                    chain_pos: Vec::new(),
                });
            }
        }
        let mut by_rule = vec![Vec::new(); rules.rules().len()];
        let mut by_corr = vec![Vec::new(); corrs.len()];
        let mut rule_referenced = vec![(false, false); rules.rules().len()];
        let mut corr_referenced = vec![(false, false); corrs.len()];
        for i in 0..n {
            let ci = index[i];
            if ci == u32::MAX {
                continue;
            }
            let c = &all[i].1;
            let mut key_fields = Vec::new();
            let mut value_fields = Vec::new();
            let mut chain_pos = Vec::new();
            for (pos, (r, ts)) in c.rules.iter().zip(targets[i].iter().flatten()).enumerate() {
                // The field names this reference uses for each group-by field.
                let alias_names: Vec<Vec<&str>> = ts
                    .iter()
                    .map(|t| match t {
                        Target::Rule(ri) => {
                            let m = &rules.rules()[*ri].rule.meta;
                            vec![Some(r.as_str()), m.name.as_deref(), m.id.as_deref()]
                        }
                        Target::Corr(cj) => {
                            let m = &all[*cj].1.meta;
                            vec![Some(r.as_str()), m.name.as_deref(), m.id.as_deref()]
                        }
                    })
                    .map(|v| v.into_iter().flatten().collect())
                    .collect();
                let field_for = |gb: &str| -> String {
                    if let Some(per) = c.aliases.get(gb) {
                        for ns in &alias_names {
                            for nm in ns {
                                if let Some(f) = per.get(*nm) {
                                    return f.clone();
                                }
                            }
                        }
                    }
                    gb.to_string()
                };
                let gb_names: Vec<String> = c.group_by.iter().map(|g| field_for(g)).collect();
                let val_name = c
                    .condition
                    .as_ref()
                    .and_then(|cc| cc.field.as_deref())
                    .map(field_for);
                key_fields.push(
                    gb_names
                        .iter()
                        .map(|g| resolve(registry, &aliases, g))
                        .collect(),
                );
                value_fields.push(
                    val_name
                        .as_deref()
                        .map(|v| resolve(registry, &aliases, v))
                        .unwrap_or_default(),
                );
                let mut cp = (Vec::new(), None);
                for t in ts {
                    match t {
                        Target::Rule(ri) => {
                            by_rule[*ri].push((ci, pos as u16));
                            rule_referenced[*ri].0 = true;
                            rule_referenced[*ri].1 |= c.generate;
                        }
                        Target::Corr(cj) => {
                            let inner = index[*cj];
                            by_corr[inner as usize].push((ci, pos as u16));
                            corr_referenced[inner as usize].0 = true;
                            corr_referenced[inner as usize].1 |= c.generate;
                            let igb = &all[*cj].1.group_by;
                            cp = (
                                gb_names
                                    .iter()
                                    .map(|g| igb.iter().position(|x| x == g))
                                    .collect(),
                                val_name
                                    .as_ref()
                                    .and_then(|v| igb.iter().position(|x| x == v)),
                            );
                        }
                    }
                }
                chain_pos.push(cp);
            }
            let cc = &mut corrs[ci as usize];
            cc.key_fields = key_fields;
            cc.value_fields = value_fields;
            cc.chain_pos = chain_pos;
        }
        for (c, (referenced, generate)) in corrs.iter_mut().zip(&corr_referenced) {
            c.emit = !referenced || *generate;
        }
        let rule_emits = rule_referenced.iter().map(|(r, g)| !r || *g).collect();
        (
            Correlator {
                corrs,
                by_rule,
                by_corr,
                rule_emits,
                groups: HashMap::new(),
                cfg,
                stats: CorrelationStats::default(),
            },
            errors,
        )
    }

    /// The loaded correlations; [`Firing::correlation`] indexes this.
    pub fn correlations(&self) -> &[Compiled] {
        &self.corrs
    }

    /// Whether detection rule `rule` (index into [`RuleSet::rules`]) raises
    /// its own alerts (see `generate` in the module docs).
    pub fn rule_emits(&self, rule: usize) -> bool {
        self.rule_emits.get(rule).copied().unwrap_or(true)
    }

    /// Whether any correlation reads rule `rule`'s matches.
    pub fn is_referenced(&self, rule: usize) -> bool {
        self.by_rule.get(rule).is_some_and(|v| !v.is_empty())
    }

    /// Counters (with the current number of groups).
    pub fn stats(&self) -> CorrelationStats {
        CorrelationStats {
            groups: self.groups.len(),
            ..self.stats
        }
    }

    /// Feeds a match of detection rule `rule` on `event`, observed at
    /// caller time `wall` (µs); appends the correlations that fire.
    pub fn observe(&mut self, rule: usize, event: &Event, wall: i64, out: &mut Vec<Firing>) {
        let Some(refs) = self.by_rule.get(rule) else {
            return;
        };
        if refs.is_empty() {
            return;
        }
        let t = event.time.unwrap_or(event.received_at).as_micros();
        let tenant = event.tenant.to_string();
        let start = out.len();
        for (ci, pos) in refs.clone() {
            self.contribute(ci, pos, &tenant, t, Input::Event(event), wall, out);
        }
        self.chain(start, wall, out);
    }

    /// Propagates firings from `out[start..]` to the correlations
    /// referencing them.
    fn chain(&mut self, start: usize, wall: i64, out: &mut Vec<Firing>) {
        let mut i = start;
        while i < out.len() {
            let f = out[i].clone();
            for (ci, pos) in self.by_corr[f.correlation].clone() {
                self.contribute(ci, pos, &f.tenant, f.time, Input::Chained(&f), wall, out);
            }
            i += 1;
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn contribute(
        &mut self,
        ci: u32,
        pos: u16,
        tenant: &str,
        t: i64,
        input: Input<'_>,
        wall: i64,
        out: &mut Vec<Firing>,
    ) {
        let c = &self.corrs[ci as usize];
        let kind = c.rule.kind;
        let p = pos as usize;
        // Group key and value.
        let mut key = Vec::with_capacity(c.rule.group_by.len());
        let v = match input {
            Input::Event(ev) => {
                for fields in &c.key_fields[p] {
                    match fields.iter().find_map(|f| ev.get(*f)) {
                        Some(v) if !matches!(v, Value::Null) => key.push(v.to_text().into_owned()),
                        _ => {
                            self.stats.ungrouped += 1;
                            return;
                        }
                    }
                }
                match c.value_fields[p].iter().find_map(|f| ev.get(*f)) {
                    None | Some(Value::Null) => Val::None,
                    Some(v) => to_val(c.rule.kind, v.to_text().as_ref()),
                }
            }
            Input::Chained(f) => {
                let (gpos, vpos) = &c.chain_pos[p];
                for g in gpos {
                    match g.and_then(|g| f.group.get(g)) {
                        Some((_, v)) => key.push(v.clone()),
                        None => {
                            self.stats.ungrouped += 1;
                            return;
                        }
                    }
                }
                match vpos.and_then(|g| f.group.get(g)) {
                    Some((_, v)) => to_val(c.rule.kind, v),
                    None => Val::None,
                }
            }
        };
        if kind.needs_field() && v == Val::None {
            return;
        }
        let (span, close_mode) = (c.span, c.close_mode);
        let k: Key = (ci, Box::from(tenant), key.into_boxed_slice());
        if !self.groups.contains_key(&k) {
            self.make_room();
        }
        let g = self.groups.entry(k.clone()).or_insert_with(|| Group {
            entries: VecDeque::new(),
            latest: t,
            opened: t,
            last_wall: wall,
            opened_wall: wall,
        });
        if close_mode {
            if !g.entries.is_empty() && t > g.opened.saturating_add(span) {
                // A later event closes the current window.
                let end = g.opened.saturating_add(span);
                let g = std::mem::replace(
                    g,
                    Group {
                        entries: VecDeque::new(),
                        latest: t,
                        opened: t,
                        last_wall: wall,
                        opened_wall: wall,
                    },
                );
                self.close(&k, g, end, out);
            }
            let Some(g) = self.groups.get_mut(&k) else {
                return;
            };
            if g.entries.is_empty() {
                g.opened = t;
                g.opened_wall = wall;
            } else if t < g.opened {
                self.stats.late += 1;
                return;
            }
            insert(
                g,
                Entry { t, r: pos, v },
                self.cfg.max_entries,
                &mut self.stats,
            );
            g.last_wall = wall;
            return;
        }
        if t < g.latest.saturating_sub(span) {
            self.stats.late += 1;
            return;
        }
        let probe = match (&v, kind) {
            (v, CorrelationType::ValuePercentile) => Some(v.clone()),
            _ => None,
        };
        insert(
            g,
            Entry { t, r: pos, v },
            self.cfg.max_entries,
            &mut self.stats,
        );
        g.latest = g.latest.max(t);
        g.last_wall = wall;
        let cutoff = g.latest.saturating_sub(span);
        while g.entries.front().is_some_and(|e| e.t < cutoff) {
            g.entries.pop_front();
        }
        let c = &self.corrs[ci as usize];
        if let Some(value) = aggregate(c, &g.entries, probe.as_ref())
            && c.rule.condition.as_ref().is_none_or(|cc| cc.holds(value))
            && satisfied_without_condition(c, &g.entries)
        {
            let f = Firing {
                correlation: ci as usize,
                tenant: k.1.to_string(),
                group: c
                    .rule
                    .group_by
                    .iter()
                    .cloned()
                    .zip(k.2.iter().cloned())
                    .collect(),
                value,
                window_start: g.entries.front().map_or(t, |e| e.t),
                time: g.latest,
                events: g.entries.len(),
                emit: c.emit,
                closed: false,
            };
            g.entries.clear();
            self.stats.fired += 1;
            out.push(f);
        }
    }

    /// Evaluates a closed window (close mode) and records its firing.
    fn close(&mut self, k: &Key, g: Group, end: i64, out: &mut Vec<Firing>) {
        let c = &self.corrs[k.0 as usize];
        if let Some(value) = aggregate(c, &g.entries, None)
            && c.rule.condition.as_ref().is_none_or(|cc| cc.holds(value))
        {
            self.stats.fired += 1;
            out.push(Firing {
                correlation: k.0 as usize,
                tenant: k.1.to_string(),
                group: c
                    .rule
                    .group_by
                    .iter()
                    .cloned()
                    .zip(k.2.iter().cloned())
                    .collect(),
                value,
                window_start: g.opened,
                time: end,
                events: g.entries.len(),
                emit: c.emit,
                closed: true,
            });
        } else {
            self.stats.expired += 1;
        }
    }

    fn make_room(&mut self) {
        if self.groups.len() < self.cfg.max_groups.max(1) {
            return;
        }
        // Evict the least recently active sixteenth (at least one) at once,
        // so a flood of new groups costs one scan per batch of evictions.
        let n = (self.cfg.max_groups / 16).max(1);
        let mut by_age: Vec<(i64, i64, Key)> = self
            .groups
            .iter()
            .map(|(k, g)| (g.last_wall, g.latest, k.clone()))
            .collect();
        by_age.sort_unstable();
        for (_, _, k) in by_age.into_iter().take(n) {
            self.groups.remove(&k);
            self.stats.evicted += 1;
        }
    }

    /// The earliest caller time (µs) at which [`Correlator::on_timer`] has
    /// work: a window to close or a group to expire.
    pub fn next_deadline(&self) -> Option<i64> {
        self.groups
            .iter()
            .map(|((ci, _, _), g)| deadline(&self.corrs[*ci as usize], g))
            .min()
    }

    /// Closes the windows and expires the groups whose deadline is at or
    /// before `wall` (µs); appends firings, in a deterministic order.
    pub fn on_timer(&mut self, wall: i64, out: &mut Vec<Firing>) {
        let mut due: Vec<Key> = self
            .groups
            .iter()
            .filter(|((ci, _, _), g)| deadline(&self.corrs[*ci as usize], g) <= wall)
            .map(|(k, _)| k.clone())
            .collect();
        due.sort_unstable();
        let start = out.len();
        for k in due {
            let Some(g) = self.groups.remove(&k) else {
                continue;
            };
            let c = &self.corrs[k.0 as usize];
            if c.close_mode && !g.entries.is_empty() {
                let end = g.opened.saturating_add(c.span);
                self.close(&k, g, end, out);
            } else if !g.entries.is_empty() {
                self.stats.expired += 1;
            }
        }
        self.chain(start, wall, out);
    }

    /// Serialises the open groups (JSON, sorted: equal states give equal
    /// bytes).
    pub fn snapshot(&self) -> Vec<u8> {
        let mut per: BTreeMap<u32, Vec<(String, Vec<String>, Group)>> = BTreeMap::new();
        for ((ci, tenant, key), g) in &self.groups {
            per.entry(*ci)
                .or_default()
                .push((tenant.to_string(), key.to_vec(), g.clone()));
        }
        let correlations = per
            .into_iter()
            .map(|(ci, mut groups)| {
                groups.sort_by(|a, b| (&a.0, &a.1).cmp(&(&b.0, &b.1)));
                let c = &self.corrs[ci as usize];
                SnapCorr {
                    key: c.key.clone(),
                    signature: signature(&c.rule),
                    groups,
                }
            })
            .collect();
        let s = Snapshot {
            version: 1,
            correlations,
            stats: self.stats,
        };
        serde_json::to_vec(&s).unwrap_or_default()
    }

    /// Restores state written by [`Correlator::snapshot`], possibly of
    /// another rule set (hot reload): groups of correlations that still
    /// exist with the same type, references, group-by and timespan come
    /// back; the rest are dropped. Returns the number of groups restored.
    pub fn restore(&mut self, bytes: &[u8]) -> Result<usize, String> {
        if bytes.is_empty() {
            return Ok(0);
        }
        let s: Snapshot =
            serde_json::from_slice(bytes).map_err(|e| format!("invalid correlation state: {e}"))?;
        if s.version != 1 {
            return Err(format!(
                "unsupported correlation state version {}",
                s.version
            ));
        }
        self.stats = CorrelationStats {
            groups: 0,
            ..s.stats
        };
        let mut n = 0;
        for sc in s.correlations {
            let Some(ci) = self
                .corrs
                .iter()
                .position(|c| c.key == sc.key && signature(&c.rule) == sc.signature)
            else {
                continue;
            };
            for (tenant, key, g) in sc.groups {
                if self.groups.len() >= self.cfg.max_groups {
                    self.stats.evicted += 1;
                    continue;
                }
                self.groups
                    .insert((ci as u32, tenant.into(), key.into_boxed_slice()), g);
                n += 1;
            }
        }
        Ok(n)
    }
}

/// What must stay equal for a group's state to carry over a reload.
fn signature(r: &CorrelationRule) -> String {
    format!(
        "{:?}|{:?}|{:?}|{}|{:?}",
        r.kind,
        r.rules,
        r.group_by,
        r.timespan_secs,
        r.condition.as_ref().and_then(|c| c.field.as_deref())
    )
}

fn deadline(c: &Compiled, g: &Group) -> i64 {
    if c.close_mode && !g.entries.is_empty() {
        g.opened_wall.saturating_add(c.span)
    } else {
        g.last_wall.saturating_add(c.span)
    }
}

fn to_val(kind: CorrelationType, text: &str) -> Val {
    match kind {
        CorrelationType::ValueSum | CorrelationType::ValueAvg => text
            .trim()
            .parse::<f64>()
            .ok()
            .filter(|x| x.is_finite())
            .map_or(Val::None, Val::Num),
        _ => Val::Str(text.to_string()),
    }
}

fn insert(g: &mut Group, e: Entry, max: usize, stats: &mut CorrelationStats) {
    // Sorted by time; equal times keep arrival order.
    let at = g.entries.partition_point(|x| x.t <= e.t);
    g.entries.insert(at, e);
    stats.contributions += 1;
    while g.entries.len() > max.max(1) {
        g.entries.pop_front();
        stats.truncated += 1;
    }
}

/// The aggregate of `entries` for the correlation's condition.
fn aggregate(c: &Compiled, entries: &VecDeque<Entry>, probe: Option<&Val>) -> Option<f64> {
    if entries.is_empty() {
        return None;
    }
    let nums = || {
        entries.iter().filter_map(|e| match e.v {
            Val::Num(x) => Some(x),
            _ => None,
        })
    };
    Some(match c.rule.kind {
        CorrelationType::EventCount => entries.len() as f64,
        CorrelationType::ValueCount => entries
            .iter()
            .filter_map(|e| match &e.v {
                Val::Str(s) => Some(s.as_str()),
                _ => None,
            })
            .collect::<BTreeSet<_>>()
            .len() as f64,
        CorrelationType::Temporal => distinct_refs(entries) as f64,
        CorrelationType::TemporalOrdered => ordered_prefix(c.rule.rules.len(), entries) as f64,
        CorrelationType::ValueSum => nums().sum(),
        CorrelationType::ValueAvg => {
            let (s, n) = nums().fold((0.0, 0usize), |(s, n), x| (s + x, n + 1));
            if n == 0 {
                return None;
            }
            s / n as f64
        }
        CorrelationType::ValuePercentile => {
            let probe = probe?;
            let same = entries.iter().filter(|e| &e.v == probe).count();
            same as f64 * 100.0 / entries.len() as f64
        }
    })
}

/// Temporal types without a condition need every referenced rule.
fn satisfied_without_condition(c: &Compiled, entries: &VecDeque<Entry>) -> bool {
    if c.rule.condition.is_some() {
        return true;
    }
    let n = c.rule.rules.len();
    match c.rule.kind {
        CorrelationType::Temporal => distinct_refs(entries) == n,
        CorrelationType::TemporalOrdered => ordered_prefix(n, entries) == n,
        _ => true,
    }
}

fn distinct_refs(entries: &VecDeque<Entry>) -> usize {
    entries.iter().map(|e| e.r).collect::<BTreeSet<_>>().len()
}

/// Length of the longest prefix of the reference list found, in order, as
/// a subsequence of the window (greedy earliest match is optimal).
fn ordered_prefix(n: usize, entries: &VecDeque<Entry>) -> usize {
    let mut k = 0usize;
    for e in entries {
        if k < n && usize::from(e.r) == k {
            k += 1;
        }
    }
    k
}

#[cfg(test)]
#[path = "correlate_tests.rs"]
mod tests;
