//! Evaluation of a [`RuleSet`] against events.
//!
//! Per event: classify the product, then for every log-source group whose
//! conditions hold, evaluate its rules' conditions lazily (short-circuit,
//! each selection at most once per rule). A literal test asks the field's
//! automaton, which scans that field on first use in this event and records
//! every pattern hit with its anchors; later tests of any rule on the same
//! field read the recorded hits. Nothing is lowercased or copied per rule.

use std::fmt::Write as _;
use std::net::IpAddr;
use std::sync::Arc;

use chrono::{Datelike, NaiveDateTime, Timelike};
use vigil_model::{Event, FieldId, Value};

use crate::compile::{Anchor, CCond, CItem, CRule, CTest, Group, RuleSet};
use crate::mapping::MapValue;
use crate::modifiers::TimePart;

/// A rule that matched an event.
#[derive(Debug, Clone, PartialEq)]
pub struct Verdict {
    /// Index into [`RuleSet::rules`].
    pub rule: usize,
    /// Names of the selections that held.
    pub selections: Vec<Arc<str>>,
    /// Fields tested by those selections that are present in the event:
    /// (Sigma field name, event field actually read).
    pub fields: Vec<(Arc<str>, FieldId)>,
}

/// Reusable evaluation state for one [`RuleSet`]: evaluating many events
/// through one `Evaluator` allocates nothing per event (except verdicts).
#[derive(Debug)]
pub struct Evaluator<'a> {
    set: &'a RuleSet,
    s: Scratch,
}

/// The per-event working memory of an evaluation, owned separately so a
/// long-lived detector can keep it next to an `Arc<RuleSet>`
/// (see [`RuleSet::evaluate_with`]).
#[derive(Debug, Default)]
pub struct Scratch {
    epoch: u32,
    pat_stamp: Vec<u32>,
    pat_flags: Vec<u8>,
    slot_stamp: Vec<u32>,
    sel: Vec<u8>,
    buf: String,
    hits: Vec<u32>,
    rule_mark: Vec<u32>,
    /// Per rule: the gating clauses with a hit in this event (valid when
    /// `rule_mark` holds this epoch).
    rule_bits: Vec<u8>,
    /// Per field id: (epoch, index of the field's first value in the
    /// event's sorted fields); an O(1) presence test and value lookup in
    /// place of a binary search per test.
    fpos: Vec<(u32, u32)>,
}

/// Where each field of the current event starts (see `Scratch::fpos`).
#[derive(Clone, Copy)]
struct Present<'s> {
    fpos: &'s [(u32, u32)],
    epoch: u32,
}

impl Present<'_> {
    #[inline]
    fn pos(self, f: FieldId) -> Option<usize> {
        match self.fpos.get(f.index()) {
            Some(&(e, i)) if e == self.epoch => Some(i as usize),
            _ => None,
        }
    }

    #[inline]
    fn has(self, f: FieldId) -> bool {
        self.pos(f).is_some()
    }

    /// Every value of `f` in `ev` (the event the positions were taken of).
    #[inline]
    fn values<'e>(self, ev: &'e Event, f: FieldId) -> impl Iterator<Item = &'e Value> + use<'e> {
        let fields = ev.fields();
        let start = self.pos(f).unwrap_or(fields.len()).min(fields.len());
        fields[start..]
            .iter()
            .take_while(move |(g, _)| *g == f)
            .map(|(_, v)| v)
    }
}

impl RuleSet {
    /// Evaluates one event (allocates a fresh [`Evaluator`]; prefer
    /// [`RuleSet::evaluator`] for many events).
    pub fn evaluate(&self, event: &Event) -> Vec<Verdict> {
        let mut out = Vec::new();
        self.evaluator().evaluate(event, &mut out);
        out
    }

    /// A reusable evaluator.
    pub fn evaluator(&self) -> Evaluator<'_> {
        Evaluator {
            set: self,
            s: self.scratch(),
        }
    }

    /// Fresh working memory sized for this rule set.
    pub fn scratch(&self) -> Scratch {
        Scratch {
            epoch: 0,
            pat_stamp: vec![0; self.n_patterns],
            pat_flags: vec![0; self.n_patterns],
            slot_stamp: vec![0; self.slots.len()],
            sel: vec![0; self.max_sels],
            buf: String::new(),
            hits: Vec::new(),
            rule_mark: vec![0; self.compiled.len()],
            rule_bits: vec![0; self.compiled.len()],
            fpos: Vec::new(),
        }
    }

    /// Like [`Evaluator::evaluate`] with caller-owned working memory. A
    /// scratch made for another rule set is re-sized first.
    pub fn evaluate_with(&self, scratch: &mut Scratch, event: &Event, out: &mut Vec<Verdict>) {
        let fits = scratch.pat_stamp.len() == self.n_patterns
            && scratch.slot_stamp.len() == self.slots.len()
            && scratch.sel.len() == self.max_sels
            && scratch.rule_mark.len() == self.compiled.len()
            && scratch.rule_bits.len() == self.compiled.len();
        if !fits {
            *scratch = self.scratch();
        }
        let mut ev = Evaluator {
            set: self,
            s: std::mem::take(scratch),
        };
        ev.evaluate(event, out);
        *scratch = ev.s;
    }
}

impl Evaluator<'_> {
    /// Appends a [`Verdict`] to `out` for every rule that matches `event`.
    pub fn evaluate(&mut self, event: &Event, out: &mut Vec<Verdict>) {
        self.s.epoch = self.s.epoch.wrapping_add(1);
        if self.s.epoch == 0 {
            self.s.pat_stamp.iter_mut().for_each(|x| *x = 0);
            self.s.slot_stamp.iter_mut().for_each(|x| *x = 0);
            self.s.rule_mark.iter_mut().for_each(|x| *x = 0);
            self.s.fpos.iter_mut().for_each(|x| x.0 = 0);
            self.s.epoch = 1;
        }
        let set = self.set;
        // Scan every field of the event that has patterns, then mark the
        // rules gated on the patterns that hit.
        self.s.hits.clear();
        let mut last = None;
        for (i, (f, _)) in event.fields().iter().enumerate() {
            if last == Some(*f) {
                continue;
            }
            last = Some(*f);
            let fi = f.index();
            if fi >= self.s.fpos.len() {
                self.s.fpos.resize(fi + 1, (0, 0));
            }
            self.s.fpos[fi] = (self.s.epoch, i as u32);
        }
        last = None;
        for (f, _) in event.fields() {
            if last == Some(*f) {
                continue;
            }
            last = Some(*f);
            if let Some(slots) = set.field_slots.get(f.index()) {
                for &s in slots {
                    if s != u32::MAX {
                        self.scan(s as usize, event);
                    }
                }
            }
        }
        for &p in &self.s.hits {
            for &rc in &set.pat_rules[p as usize] {
                let r = (rc >> 3) as usize;
                if self.s.rule_mark[r] != self.s.epoch {
                    self.s.rule_mark[r] = self.s.epoch;
                    self.s.rule_bits[r] = 0;
                }
                self.s.rule_bits[r] |= 1 << (rc & 7);
            }
        }
        let product = set
            .products
            .iter()
            .position(|(_, fields)| fields.iter().any(|f| self.present().has(*f)))
            .map(|p| p as u32);
        for g in &set.groups {
            if !group_applies(g, product, event, self.present()) {
                continue;
            }
            for &ri in &g.rules {
                let r = &set.compiled[ri as usize];
                if r.gated
                    && (self.s.rule_mark[ri as usize] != self.s.epoch
                        || self.s.rule_bits[ri as usize] != r.gate)
                {
                    continue;
                }
                self.s.sel[..r.sels.len()].iter_mut().for_each(|x| *x = 0);
                if self.cond(r, &r.cond, event) {
                    out.push(self.verdict(ri as usize, r));
                }
            }
        }
    }

    #[inline]
    fn present(&self) -> Present<'_> {
        Present {
            fpos: &self.s.fpos,
            epoch: self.s.epoch,
        }
    }

    fn verdict(&mut self, rule: usize, r: &CRule) -> Verdict {
        let mut selections = Vec::new();
        let mut fields: Vec<(Arc<str>, FieldId)> = Vec::new();
        for (i, s) in r.sels.iter().enumerate() {
            if self.s.sel[i] != 2 {
                continue;
            }
            selections.push(s.name.clone());
            for br in &s.branches {
                for it in br {
                    if let Some(name) = &it.name
                        && let Some(f) = it.fields.iter().find(|f| self.present().has(**f))
                        && !fields.iter().any(|(n, g)| n == name && g == f)
                    {
                        fields.push((name.clone(), *f));
                    }
                }
            }
        }
        Verdict {
            rule,
            selections,
            fields,
        }
    }

    fn cond(&mut self, r: &CRule, c: &CCond, ev: &Event) -> bool {
        match c {
            CCond::Sel(i) => self.sel_result(r, *i as usize, ev),
            CCond::Not(x) => !self.cond(r, x, ev),
            CCond::And(v) => v.iter().all(|x| self.cond(r, x, ev)),
            CCond::Or(v) => v.iter().any(|x| self.cond(r, x, ev)),
            CCond::All(ids) => ids.iter().all(|i| self.sel_result(r, *i as usize, ev)),
            CCond::AtLeast(n, ids) => {
                let mut k = 0;
                for i in ids {
                    if self.sel_result(r, *i as usize, ev) {
                        k += 1;
                        if k >= *n {
                            return true;
                        }
                    }
                }
                false
            }
        }
    }

    fn sel_result(&mut self, r: &CRule, i: usize, ev: &Event) -> bool {
        match self.s.sel[i] {
            1 => return false,
            2 => return true,
            _ => {}
        }
        let s = &r.sels[i];
        let v = s
            .branches
            .iter()
            .any(|br| br.iter().all(|it| self.item(it, ev)));
        self.s.sel[i] = if v { 2 } else { 1 };
        v
    }

    fn item(&mut self, it: &CItem, ev: &Event) -> bool {
        if it.fields.is_empty() {
            // Keywords: any field of the event.
            let f = |s: &mut Self, t: &CTest| s.keyword_test(t, ev);
            return if it.all {
                it.tests.iter().all(|t| f(self, t))
            } else {
                it.tests.iter().any(|t| f(self, t))
            };
        }
        let present = self.present();
        let alt = it.fields.iter().position(|f| present.has(*f));
        let r = if it.all {
            it.tests.iter().all(|t| self.test(t, it, alt, ev))
        } else {
            it.tests.iter().any(|t| self.test(t, it, alt, ev))
        };
        if it.neq { alt.is_some() && !r } else { r }
    }

    fn test(&mut self, t: &CTest, it: &CItem, alt: Option<usize>, ev: &Event) -> bool {
        let Some(ai) = alt else {
            return matches!(t, CTest::Null | CTest::Exists(false));
        };
        let field = it.fields[ai];
        match t {
            CTest::Lit { refs, anchor } => {
                let (slot, pat) = refs[ai];
                self.scan(slot as usize, ev);
                self.hit(pat as usize, *anchor)
            }
            CTest::Exists(b) => *b,
            CTest::Regex { gate, .. } if gate.get(ai).is_some_and(|g| !g.is_empty()) => {
                // None of the expression's necessary literals in the field:
                // it cannot match.
                let g = &gate[ai];
                let mut found = false;
                for &(slot, pat) in g.iter() {
                    self.scan(slot as usize, ev);
                    if self.hit(pat as usize, Anchor::Contains) {
                        found = true;
                        break;
                    }
                }
                if !found {
                    return false;
                }
                let present = Present {
                    fpos: &self.s.fpos,
                    epoch: self.s.epoch,
                };
                present
                    .values(ev, field)
                    .any(|v| value_test(t, v, ev, present, &mut self.s.buf))
            }
            _ => {
                let present = Present {
                    fpos: &self.s.fpos,
                    epoch: self.s.epoch,
                };
                present
                    .values(ev, field)
                    .any(|v| value_test(t, v, ev, present, &mut self.s.buf))
            }
        }
    }

    fn keyword_test(&mut self, t: &CTest, ev: &Event) -> bool {
        match t {
            CTest::Lit { refs, anchor } => {
                let (slot, pat) = refs[0];
                self.scan(slot as usize, ev);
                self.hit(pat as usize, *anchor)
            }
            _ => {
                let present = Present {
                    fpos: &self.s.fpos,
                    epoch: self.s.epoch,
                };
                ev.fields()
                    .iter()
                    .any(|(_, v)| value_test(t, v, ev, present, &mut self.s.buf))
            }
        }
    }

    fn hit(&self, pat: usize, anchor: Anchor) -> bool {
        self.s.pat_stamp[pat] == self.s.epoch && self.s.pat_flags[pat] & anchor as u8 != 0
    }

    /// Runs a slot's automaton over its field(s) once per event.
    fn scan(&mut self, slot: usize, ev: &Event) {
        if self.s.slot_stamp[slot] == self.s.epoch {
            return;
        }
        self.s.slot_stamp[slot] = self.s.epoch;
        let s = &self.set.slots[slot];
        let Some(ac) = &s.ac else { return };
        let base = s.base as usize;
        let mut buf = std::mem::take(&mut self.s.buf);
        let mut run = |this: &mut Self, v: &Value| {
            let text: &[u8] = match v {
                Value::Str(s) => s.as_bytes(),
                Value::Null => return,
                other => {
                    write_text(&mut buf, other);
                    buf.as_bytes()
                }
            };
            let n = text.len();
            for m in ac.find_overlapping_iter(text) {
                let mut bits = Anchor::Contains as u8;
                if m.start() == 0 {
                    bits |= Anchor::Prefix as u8;
                }
                if m.end() == n {
                    bits |= Anchor::Suffix as u8;
                    if m.start() == 0 {
                        bits |= Anchor::Exact as u8;
                    }
                }
                let p = base + m.pattern().as_usize();
                if this.s.pat_stamp[p] != this.s.epoch {
                    this.s.pat_stamp[p] = this.s.epoch;
                    this.s.pat_flags[p] = 0;
                    this.s.hits.push(p as u32);
                }
                this.s.pat_flags[p] |= bits;
            }
        };
        match s.field {
            Some(f) => {
                let present = self.present();
                for v in present.values(ev, f) {
                    run(self, v);
                }
            }
            None => {
                for (_, v) in ev.fields() {
                    run(self, v);
                }
            }
        }
        self.s.buf = buf;
    }
}

fn group_applies(g: &Group, product: Option<u32>, ev: &Event, present: Present<'_>) -> bool {
    match g.product {
        None if g.unmapped && product.is_some() => return false,
        None => {}
        Some(Some(p)) if product != Some(p) => return false,
        Some(None) if product.is_some() => return false,
        _ => {}
    }
    g.conds.iter().all(|c| {
        c.iter().any(|conj| {
            conj.iter().all(|(fields, vals)| {
                let Some(f) = fields.iter().find(|f| present.has(**f)) else {
                    return false;
                };
                present
                    .values(ev, *f)
                    .any(|v| vals.iter().any(|m| map_value_eq(m, v)))
            })
        })
    })
}

fn map_value_eq(m: &MapValue, v: &Value) -> bool {
    match (m, v) {
        (MapValue::Int(i), v) => v.as_i64() == Some(*i),
        (MapValue::Str(s), Value::Str(t)) => s.eq_ignore_ascii_case(t),
        (MapValue::Str(s), v) => s.eq_ignore_ascii_case(&v.to_text()),
    }
}

fn as_f64(v: &Value) -> Option<f64> {
    match v {
        Value::Int(i) => Some(*i as f64),
        Value::Float(f) => Some(*f),
        Value::Str(s) => {
            let s = s.trim();
            if let Some(h) = s.strip_prefix("0x").or_else(|| s.strip_prefix("0X")) {
                return i64::from_str_radix(h, 16).ok().map(|i| i as f64);
            }
            s.parse().ok()
        }
        _ => None,
    }
}

fn value_test(t: &CTest, v: &Value, ev: &Event, present: Present<'_>, buf: &mut String) -> bool {
    match t {
        CTest::Lit { .. } | CTest::Exists(_) => false,
        CTest::Empty => matches!(v, Value::Str(s) if s.is_empty()),
        CTest::Any => !matches!(v, Value::Null),
        CTest::Null => matches!(v, Value::Null),
        CTest::Regex { re, .. } => match v {
            Value::Str(s) => re.is_match(s),
            Value::Null => false,
            other => {
                buf.clear();
                write_text(buf, other);
                re.is_match(buf)
            }
        },
        CTest::Num(c, n) => as_f64(v).is_some_and(|x| c.holds(x, *n)),
        CTest::NumEq { n, .. } => as_f64_decimal(v).is_some_and(|x| x == *n),
        CTest::Cidr(net) => match v {
            Value::Str(s) => s.trim().parse::<IpAddr>().is_ok_and(|ip| net.contains(&ip)),
            _ => false,
        },
        CTest::Bool(b) => match v {
            Value::Bool(x) => x == b,
            Value::Str(s) => s.eq_ignore_ascii_case(if *b { "true" } else { "false" }),
            _ => false,
        },
        CTest::FieldRef { fields, cased } => {
            let Some(f) = fields.iter().find(|f| present.has(**f)) else {
                return false;
            };
            let a = v.to_text();
            present.values(ev, *f).any(|w| {
                let b = w.to_text();
                if *cased {
                    a == b
                } else {
                    a.to_lowercase() == b.to_lowercase()
                }
            })
        }
        CTest::Time(part, c, n) => {
            let Some(dt) = parse_time(&v.to_text()) else {
                return false;
            };
            let x = match part {
                TimePart::Minute => dt.minute(),
                TimePart::Hour => dt.hour(),
                TimePart::Day => dt.day(),
                TimePart::Week => dt.iso_week().week(),
                TimePart::Month => dt.month(),
                TimePart::Year => dt.year().max(0) as u32,
            };
            c.holds(f64::from(x), *n)
        }
    }
}

fn parse_time(s: &str) -> Option<NaiveDateTime> {
    let s = s.trim();
    if let Ok(d) = chrono::DateTime::parse_from_rfc3339(s) {
        return Some(d.naive_utc());
    }
    for f in [
        "%Y-%m-%d %H:%M:%S%.f",
        "%Y-%m-%dT%H:%M:%S%.f",
        "%Y/%m/%d %H:%M:%S%.f",
    ] {
        if let Ok(d) = NaiveDateTime::parse_from_str(s, f) {
            return Some(d);
        }
    }
    None
}

/// Formats a non-string value into `buf` without an intermediate String.
fn write_text(buf: &mut String, v: &Value) {
    buf.clear();
    let _ = match v {
        Value::Int(i) => write!(buf, "{i}"),
        Value::Float(f) => write!(buf, "{f}"),
        Value::Bool(b) => write!(buf, "{b}"),
        Value::Str(s) => write!(buf, "{s}"),
        Value::Null => Ok(()),
    };
}

/// A number from an integer, a float or a plain decimal string (`4688`,
/// ` 4688 `, `+4688`, `4688.0`; no exponent, no hex). Its text then always
/// contains the integer's digits, which rule gating relies on.
fn as_f64_decimal(v: &Value) -> Option<f64> {
    match v {
        Value::Int(i) => Some(*i as f64),
        Value::Float(f) => Some(*f),
        Value::Str(s) => {
            let t = s.trim();
            let digits = t.strip_prefix(['+', '-']).unwrap_or(t);
            if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit() || b == b'.') {
                return None;
            }
            t.parse().ok()
        }
        _ => None,
    }
}
