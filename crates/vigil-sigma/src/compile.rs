//! Compiler: parsed rules to a [`RuleSet`] ready for evaluation.
//!
//! Field names are resolved to [`FieldId`]s once here. Literal patterns
//! (`contains`, `startswith`, `endswith`, exact) of all rules that test the
//! same field are collected into one Aho-Corasick automaton per field (one
//! case-insensitive, one for `cased`), so evaluation scans each field of an
//! event at most once, whatever the number of rules. Globs with inner
//! wildcards and `re` values become `regex` matchers with size limits.
//! Rules are grouped by log source; each group carries the compiled
//! conditions of its product, category and service.

use std::collections::HashMap;
use std::sync::Arc;

use aho_corasick::AhoCorasick;
use ipnet::IpNet;
use regex::Regex;
use vigil_model::{FieldId, FieldRegistry};

use crate::condition::{Condition, OfTarget, Quantifier, ident_matches};
use crate::correlation::CorrelationRule;
use crate::error::{Error, Location, Problem};
use crate::filter::FilterRule;
use crate::mapping::{MapValue, Mapping};
use crate::modifiers::{Cmp, Gp, Placeholders, TimePart, ValueTest, item_spec};
use crate::parse::{Document, parse_files};
use crate::rule::{LogSource, Rule, Selection};

/// Regex program size limit per pattern (bytes of compiled program). Large
/// enough for SigmaHQ's `\w{1,64}` (Unicode classes repeated), small enough
/// to bound memory.
const REGEX_SIZE_LIMIT: usize = 16 << 20;

/// Options for loading and compiling rules.
#[derive(Debug, Clone)]
pub struct Config {
    /// Field mappings; by default [`Mapping::builtin`].
    pub mappings: Vec<Mapping>,
    /// Values for `|expand` placeholders; by default empty (rules using an
    /// unknown placeholder are rejected, as the specification requires).
    pub placeholders: Placeholders,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            mappings: Mapping::builtin(),
            placeholders: Placeholders::new(),
        }
    }
}

/// Figures about a compiled [`RuleSet`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Stats {
    /// Detection rules compiled.
    pub rules: usize,
    /// Rules evaluated only when one of their necessary literals hits.
    pub gated_rules: usize,
    /// Distinct literal patterns.
    pub patterns: usize,
    /// Aho-Corasick automata (one per field and case mode, plus keywords).
    pub automata: usize,
    /// Distinct log sources.
    pub logsources: usize,
    /// Correlation rules kept.
    pub correlations: usize,
    /// Filter rules applied.
    pub filters: usize,
}

/// A rule as loaded: where it came from and what it says.
#[derive(Debug, Clone)]
pub struct LoadedRule {
    /// The source path given to the loader.
    pub path: Arc<str>,
    /// The parsed rule (metadata, log source, detection).
    pub rule: Rule,
    /// Ids of the filters applied to it.
    pub filters: Vec<usize>,
}

/// A literal anchor.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Anchor {
    Exact = 1,
    Prefix = 2,
    Suffix = 4,
    Contains = 8,
}

/// Per field alternative of an item, the `(slot, pattern)` ids of a regex
/// test's necessary literals (see [`CTest::Regex`]).
pub(crate) type Gate = Box<[Box<[(u32, u32)]>]>;

#[derive(Debug)]
pub(crate) enum CTest {
    /// Literal through the field's automaton; `refs[i]` is the global
    /// pattern id for the item's `i`-th field alternative.
    Lit {
        refs: Box<[(u32, u32)]>,
        anchor: Anchor,
    },
    /// The value is the empty string.
    Empty,
    /// Any value (`*`).
    Any,
    /// A regular expression; `gate[i]` lists the patterns of its
    /// necessary literals (see `gate`) for the `i`-th field alternative,
    /// one of which must hit before the expression runs (empty: no gate).
    Regex {
        re: Regex,
        gate: Gate,
    },
    Num(Cmp, f64),
    /// Equal to an integer; `refs` are its decimal text in the field's
    /// automaton, used only to gate the rule (any matching value contains
    /// that text, see `eval::as_f64_decimal`).
    NumEq {
        n: f64,
        refs: Box<[(u32, u32)]>,
    },
    Cidr(IpNet),
    Null,
    Bool(bool),
    Exists(bool),
    FieldRef {
        fields: Box<[FieldId]>,
        cased: bool,
    },
    Time(TimePart, Cmp, f64),
}

#[derive(Debug)]
pub(crate) struct CItem {
    /// The Sigma field name (`None`: keywords).
    pub(crate) name: Option<Arc<str>>,
    /// Event fields tried in order (empty for keywords).
    pub(crate) fields: Box<[FieldId]>,
    pub(crate) tests: Vec<CTest>,
    pub(crate) all: bool,
    pub(crate) neq: bool,
}

#[derive(Debug)]
pub(crate) struct CSel {
    pub(crate) name: Arc<str>,
    /// OR of AND-ed items.
    pub(crate) branches: Vec<Vec<CItem>>,
}

#[derive(Debug)]
pub(crate) enum CCond {
    Sel(u32),
    Not(Box<CCond>),
    And(Vec<CCond>),
    Or(Vec<CCond>),
    AtLeast(u32, Vec<u32>),
    All(Vec<u32>),
}

#[derive(Debug)]
pub(crate) struct CRule {
    pub(crate) sels: Vec<CSel>,
    pub(crate) cond: CCond,
    /// The rule can only match if one of its necessary literal patterns hit
    /// (see [`necessary`]); such rules are skipped unless marked.
    pub(crate) gated: bool,
    /// One bit per gating clause: the rule is evaluated only when each of
    /// its clauses has a hit.
    pub(crate) gate: u8,
}

/// A per-field automaton.
#[derive(Debug)]
pub(crate) struct Slot {
    /// `None`: the keyword slot (every field of the event).
    pub(crate) field: Option<FieldId>,
    pub(crate) ac: Option<AhoCorasick>,
    pub(crate) base: u32,
    pub(crate) patterns: Vec<Vec<u8>>,
    cased: bool,
}

/// OR of AND-ed (fields, accepted values).
pub(crate) type LsCond = Vec<Vec<(Box<[FieldId]>, Vec<MapValue>)>>;

#[derive(Debug)]
pub(crate) struct Group {
    pub(crate) logsource: LogSource,
    /// `None`: any product; `Some(Some(i))`: classified product `i`;
    /// `Some(None)`: a product without classifier (only unclassified events).
    pub(crate) product: Option<Option<u32>>,
    pub(crate) conds: Vec<LsCond>,
    /// A category or service of the rule that no mapping defines (SigmaHQ's
    /// product-less `proxy`, `webserver`, `firewall`, `dns`, `antivirus`).
    /// Without a product, such a group applies only to events no mapping
    /// classifies as a product (generic JSON, unknown syslog sources) — a
    /// Windows event log record is not a proxy log — as log-source routing
    /// does in pySigma-based tools.
    pub(crate) unmapped: bool,
    pub(crate) rules: Vec<u32>,
}

/// A compiled, immutable set of rules. Evaluate with [`RuleSet::evaluate`]
/// or, allocation-free across events, with an [`crate::Evaluator`].
#[derive(Debug)]
pub struct RuleSet {
    pub(crate) rules: Vec<LoadedRule>,
    pub(crate) compiled: Vec<CRule>,
    pub(crate) correlations: Vec<(Arc<str>, CorrelationRule)>,
    pub(crate) filters: Vec<(Arc<str>, FilterRule)>,
    pub(crate) groups: Vec<Group>,
    pub(crate) products: Vec<(String, Box<[FieldId]>)>,
    pub(crate) slots: Vec<Slot>,
    pub(crate) n_patterns: usize,
    pub(crate) max_sels: usize,
    /// Global pattern id → the rules gated on it and the clause it is in
    /// (`rule << 3 | clause`).
    pub(crate) pat_rules: Vec<Box<[u32]>>,
    /// Field index → its (case-insensitive, cased) slots, `u32::MAX` if none.
    pub(crate) field_slots: Vec<[u32; 2]>,
}

struct Builder<'a> {
    registry: &'a FieldRegistry,
    aliases: HashMap<String, Vec<String>>,
    slot_of: HashMap<(Option<FieldId>, bool), u32>,
    slots: Vec<Slot>,
    pat_of: HashMap<(u32, Vec<u8>), u32>,
    placeholders: &'a Placeholders,
}

impl RuleSet {
    /// Parses and compiles `(path, text)` sources. Returns the rule set of
    /// everything that compiled and one error per rejected document.
    pub fn load<P, T>(
        sources: impl IntoIterator<Item = (P, T)>,
        registry: &FieldRegistry,
        config: &Config,
    ) -> (RuleSet, Vec<Error>)
    where
        P: AsRef<str> + Sync,
        T: AsRef<str> + Sync,
    {
        let sources: Vec<(P, T)> = sources.into_iter().collect();
        let mut docs = Vec::new();
        let mut errors = Vec::new();
        for ((p, _), parsed) in sources.iter().zip(parse_files(&sources)) {
            let path: Arc<str> = Arc::from(p.as_ref());
            for d in parsed {
                match d {
                    Ok(d) => docs.push((path.clone(), d)),
                    Err(e) => errors.push(e),
                }
            }
        }
        let (set, mut errs) = RuleSet::compile(docs, registry, config);
        errors.append(&mut errs);
        (set, errors)
    }

    /// Compiles parsed documents. Filters are applied to the rules they
    /// name; correlations are kept (see [`RuleSet::correlations`]).
    pub fn compile(
        docs: Vec<(Arc<str>, Document)>,
        registry: &FieldRegistry,
        config: &Config,
    ) -> (RuleSet, Vec<Error>) {
        let mut errors = Vec::new();
        let mut rules = Vec::new();
        let mut correlations = Vec::new();
        let mut filters = Vec::new();
        for (path, d) in docs {
            match d {
                Document::Rule(r) => rules.push(LoadedRule {
                    path,
                    rule: r,
                    filters: vec![],
                }),
                Document::Correlation(c) => correlations.push((path, c)),
                Document::Filter(f) => filters.push((path, f)),
            }
        }
        let mut b = Builder {
            registry,
            aliases: HashMap::new(),
            slot_of: HashMap::new(),
            slots: Vec::new(),
            pat_of: HashMap::new(),
            placeholders: &config.placeholders,
        };
        for m in &config.mappings {
            for (k, v) in &m.fields {
                b.aliases
                    .entry(k.clone())
                    .or_default()
                    .extend(v.iter().cloned());
            }
        }
        // Products and log-source conditions.
        let mut products: Vec<(String, Box<[FieldId]>)> = Vec::new();
        let mut ls_conds: HashMap<(Option<String>, bool, String), LsCond> = HashMap::new();
        for m in &config.mappings {
            for (p, fields) in &m.products {
                let ids: Vec<FieldId> = fields.iter().filter_map(|f| registry.intern(f)).collect();
                match products.iter_mut().find(|(n, _)| n == p) {
                    Some((_, v)) => {
                        let mut all = v.to_vec();
                        all.extend(ids);
                        *v = all.into_boxed_slice();
                    }
                    None => products.push((p.clone(), ids.into_boxed_slice())),
                }
            }
            for ls in &m.logsources {
                let (is_cat, name) = match (&ls.category, &ls.service) {
                    (Some(c), _) => (true, c.to_ascii_lowercase()),
                    (None, Some(s)) => (false, s.to_ascii_lowercase()),
                    (None, None) => continue,
                };
                let mut cond: LsCond = Vec::new();
                for map in &ls.when {
                    let mut conj = Vec::new();
                    for (f, v) in map {
                        conj.push((b.resolve(f), v.values()));
                    }
                    cond.push(conj);
                }
                let key = (
                    ls.product.as_ref().map(|p| p.to_ascii_lowercase()),
                    is_cat,
                    name,
                );
                // A later mapping replaces an earlier one for the same source.
                ls_conds.insert(key, cond);
            }
        }

        // Filters onto their target rules.
        let mut filter_targets: Vec<Vec<usize>> = vec![Vec::new(); rules.len()];
        for (fi, (_, f)) in filters.iter().enumerate() {
            for target in &f.rules {
                for (ri, r) in rules.iter().enumerate() {
                    if r.rule.meta.id.as_deref() == Some(target)
                        || r.rule.meta.name.as_deref() == Some(target)
                    {
                        filter_targets[ri].push(fi);
                    }
                }
            }
        }

        let mut kept = Vec::new();
        let mut compiled = Vec::new();
        for (ri, mut lr) in rules.into_iter().enumerate() {
            let mut fs = Vec::new();
            for &fi in &filter_targets[ri] {
                fs.push(&filters[fi].1);
            }
            match b.rule(&lr.rule, &fs) {
                Ok(c) => {
                    lr.filters = filter_targets[ri].clone();
                    compiled.push(c);
                    kept.push(lr);
                }
                Err(p) => errors.push(match p.unsupported {
                    true => Error::Unsupported {
                        path: lr.path.to_string(),
                        location: Location::default(),
                        reason: p.msg,
                    },
                    false => Error::Rule {
                        path: lr.path.to_string(),
                        location: Location::default(),
                        msg: p.msg,
                    },
                }),
            }
        }

        // Group by log source.
        let mut groups: Vec<Group> = Vec::new();
        let mut group_of: HashMap<LogSource, usize> = HashMap::new();
        for (i, lr) in kept.iter().enumerate() {
            let mut ls = lr.rule.logsource.clone();
            ls.definition = None;
            let gi = *group_of.entry(ls.clone()).or_insert_with(|| {
                let product = ls
                    .product
                    .as_ref()
                    .map(|p| products.iter().position(|(n, _)| n == p).map(|x| x as u32));
                let mut conds = Vec::new();
                let mut unmapped = false;
                for (is_cat, name) in [(true, &ls.category), (false, &ls.service)] {
                    let Some(name) = name else { continue };
                    let specific = ls_conds.get(&(ls.product.clone(), is_cat, name.clone()));
                    let generic = ls_conds.get(&(None, is_cat, name.clone()));
                    if let Some(c) = specific.or(generic) {
                        conds.push(c.clone());
                    } else if !ls_conds.keys().any(|(_, c, n)| *c == is_cat && n == name) {
                        unmapped = true;
                    }
                }
                groups.push(Group {
                    logsource: ls.clone(),
                    product,
                    conds,
                    unmapped,
                    rules: vec![],
                });
                groups.len() - 1
            });
            groups[gi].rules.push(i as u32);
        }

        // Build the automata, the largest first, on up to eight threads.
        let mut n_patterns = 0u32;
        for s in &mut b.slots {
            s.base = n_patterns;
            n_patterns += s.patterns.len() as u32;
        }
        let automata = build_automata(&b.slots);
        for (s, built) in b.slots.iter_mut().zip(automata) {
            match built {
                Ok(ac) => s.ac = Some(ac),
                Err(e) => errors.push(Error::Rule {
                    path: "<rule set>".into(),
                    location: Location::default(),
                    msg: format!("pattern automaton: {e}"),
                }),
            }
        }
        // Pattern ids were local to their slot; make them global.
        let bases: Vec<u32> = b.slots.iter().map(|s| s.base).collect();
        for c in &mut compiled {
            for s in &mut c.sels {
                for br in &mut s.branches {
                    for it in br {
                        for t in &mut it.tests {
                            match t {
                                CTest::Lit { refs, .. } | CTest::NumEq { refs, .. } => {
                                    for r in refs.iter_mut() {
                                        r.1 += bases[r.0 as usize];
                                    }
                                }
                                CTest::Regex { gate, .. } => {
                                    for r in gate.iter_mut().flat_map(|g| g.iter_mut()) {
                                        r.1 += bases[r.0 as usize];
                                    }
                                }
                                _ => {}
                            }
                        }
                    }
                }
            }
        }
        let max_sels = compiled.iter().map(|c| c.sels.len()).max().unwrap_or(0);
        let mut pat_rules: Vec<Vec<u32>> = vec![Vec::new(); n_patterns as usize];
        for (i, c) in compiled.iter_mut().enumerate() {
            let clauses = gate_clauses(c);
            for (k, clause) in clauses.iter().enumerate() {
                for &p in clause {
                    if let Some(v) = pat_rules.get_mut(p as usize) {
                        v.push(((i as u32) << 3) | k as u32);
                    }
                }
            }
            c.gate = ((1u16 << clauses.len()) - 1) as u8;
            c.gated = !clauses.is_empty();
        }
        let mut field_slots: Vec<[u32; 2]> = Vec::new();
        for (i, s) in b.slots.iter().enumerate() {
            let Some(f) = s.field else { continue };
            if field_slots.len() <= f.index() {
                field_slots.resize(f.index() + 1, [u32::MAX; 2]);
            }
            field_slots[f.index()][usize::from(s.cased)] = i as u32;
        }
        (
            RuleSet {
                rules: kept,
                compiled,
                correlations,
                filters,
                groups,
                products,
                slots: b.slots,
                n_patterns: n_patterns as usize,
                max_sels,
                pat_rules: pat_rules.into_iter().map(Vec::into_boxed_slice).collect(),
                field_slots,
            },
            errors,
        )
    }

    /// The compiled detection rules; [`crate::Verdict::rule`] indexes this.
    pub fn rules(&self) -> &[LoadedRule] {
        &self.rules
    }

    /// Correlation rules found while loading (not evaluated here).
    pub fn correlations(&self) -> impl Iterator<Item = (&str, &CorrelationRule)> {
        self.correlations.iter().map(|(p, c)| (&**p, c))
    }

    /// Filter rules found while loading (already applied to their targets).
    pub fn filters(&self) -> impl Iterator<Item = (&str, &FilterRule)> {
        self.filters.iter().map(|(p, f)| (&**p, f))
    }

    /// Number of distinct literal patterns across all field automata.
    pub fn pattern_count(&self) -> usize {
        self.n_patterns
    }

    /// Figures about the compiled set (for `rules check` summaries).
    pub fn stats(&self) -> Stats {
        Stats {
            rules: self.rules.len(),
            gated_rules: self.compiled.iter().filter(|c| c.gated).count(),
            patterns: self.n_patterns,
            automata: self.slots.len(),
            logsources: self.groups.len(),
            correlations: self.correlations.len(),
            filters: self.filters.len(),
        }
    }

    /// The distinct log sources of the loaded rules, with their rule counts.
    pub fn logsources(&self) -> impl Iterator<Item = (&LogSource, usize)> {
        self.groups.iter().map(|g| (&g.logsource, g.rules.len()))
    }
}

impl Builder<'_> {
    fn resolve(&self, name: &str) -> Box<[FieldId]> {
        let mut out = Vec::new();
        if let Some(id) = self.registry.intern(name) {
            out.push(id);
        }
        if let Some(alts) = self.aliases.get(name) {
            for a in alts {
                if let Some(id) = self.registry.intern(a)
                    && !out.contains(&id)
                {
                    out.push(id);
                }
            }
        }
        out.into_boxed_slice()
    }

    fn pattern(&mut self, field: Option<FieldId>, cased: bool, bytes: &[u8]) -> (u32, u32) {
        let next = self.slots.len() as u32;
        let slot = *self.slot_of.entry((field, cased)).or_insert(next);
        if slot == next {
            self.slots.push(Slot {
                field,
                ac: None,
                base: 0,
                patterns: vec![],
                cased,
            });
        }
        let key = if cased {
            bytes.to_vec()
        } else {
            bytes.to_ascii_lowercase()
        };
        let s = &mut self.slots[slot as usize];
        let n = s.patterns.len() as u32;
        let pat = *self.pat_of.entry((slot, key.clone())).or_insert(n);
        if pat == n {
            s.patterns.push(key);
        }
        (slot, pat)
    }

    fn rule(&mut self, r: &Rule, filters: &[&FilterRule]) -> Result<CRule, Problem> {
        let mut sels = Vec::new();
        for (name, s) in &r.detection.selections {
            sels.push(self.selection(name, s)?);
        }
        let names: Vec<&str> = r
            .detection
            .selections
            .iter()
            .map(|(n, _)| n.as_str())
            .collect();
        let mut cond = cond(&r.detection.condition, &names, 0)?;
        for f in filters {
            let base = sels.len() as u32;
            for (name, s) in &f.detection.selections {
                sels.push(self.selection(name, s)?);
            }
            let fnames: Vec<&str> = f
                .detection
                .selections
                .iter()
                .map(|(n, _)| n.as_str())
                .collect();
            let fc = cond_offset(&f.detection.condition, &fnames, base)?;
            cond = CCond::And(vec![cond, fc]);
        }
        // Cheapest first: AND and OR short-circuit, and their operands have
        // no side effects, so literal tests (answered by the automata's
        // recorded hits) run before regexes and value conversions.
        for s in &mut sels {
            for br in &mut s.branches {
                br.sort_by_key(item_cost);
            }
        }
        order_by_cost(&mut cond, &sels);
        Ok(CRule {
            sels,
            cond,
            gated: false,
            gate: 0,
        })
    }

    fn selection(&mut self, name: &str, s: &Selection) -> Result<CSel, Problem> {
        let branches = match s {
            Selection::Maps(maps) => {
                let mut out = Vec::new();
                for m in maps {
                    let mut items = Vec::new();
                    for it in m {
                        items.push(self.item(it)?);
                    }
                    out.push(items);
                }
                out
            }
            Selection::Keywords(it) => vec![vec![self.item(it)?]],
        };
        Ok(CSel {
            name: Arc::from(name),
            branches,
        })
    }

    fn item(&mut self, it: &crate::rule::FieldItem) -> Result<CItem, Problem> {
        let spec = item_spec(it, Some(self.placeholders)).map_err(|p| Problem {
            msg: format!("`{}`: {}", it.field.as_deref().unwrap_or("keywords"), p.msg),
            ..p
        })?;
        let fields = match &it.field {
            Some(f) => {
                let ids = self.resolve(f);
                if ids.is_empty() {
                    return Err(Problem::new("field registry full"));
                }
                ids
            }
            None => Box::new([]) as Box<[FieldId]>,
        };
        let slot_fields: Vec<Option<FieldId>> = if fields.is_empty() {
            vec![None]
        } else {
            fields.iter().map(|f| Some(*f)).collect()
        };
        let mut tests = Vec::new();
        for t in spec.tests {
            tests.push(match t {
                ValueTest::Glob { parts, cased } => self.glob(&slot_fields, parts, cased)?,
                ValueTest::Re(src) => {
                    let re = regex::RegexBuilder::new(&src)
                        .size_limit(REGEX_SIZE_LIMIT)
                        .dfa_size_limit(REGEX_SIZE_LIMIT)
                        .build()
                        .map_err(|e| Problem::new(format!("invalid regular expression: {e}")))?;
                    let gate = self.regex_gate(&slot_fields, &src);
                    CTest::Regex { re, gate }
                }
                ValueTest::Num(Cmp::Eq, n) if n.fract() == 0.0 && n.abs() < 1e15 => {
                    let text = format!("{}", (n as i64).unsigned_abs());
                    let refs = slot_fields
                        .iter()
                        .map(|f| self.pattern(*f, false, text.as_bytes()))
                        .collect();
                    CTest::NumEq { n, refs }
                }
                ValueTest::Num(c, n) => CTest::Num(c, n),
                ValueTest::Cidr(n) => CTest::Cidr(n),
                ValueTest::Null => CTest::Null,
                ValueTest::Bool(b) => CTest::Bool(b),
                ValueTest::Exists(b) => CTest::Exists(b),
                ValueTest::FieldRef { field, cased } => CTest::FieldRef {
                    fields: self.resolve(&field),
                    cased,
                },
                ValueTest::Time(p, c, n) => CTest::Time(p, c, n),
            });
        }
        Ok(CItem {
            name: it.field.as_deref().map(Arc::from),
            fields,
            tests,
            all: spec.all,
            neq: spec.neq,
        })
    }

    fn glob(
        &mut self,
        slot_fields: &[Option<FieldId>],
        parts: Vec<Gp>,
        cased: bool,
    ) -> Result<CTest, Problem> {
        let lead = parts.first() == Some(&Gp::Many);
        let trail = parts.len() > usize::from(lead) && parts.last() == Some(&Gp::Many);
        let inner = &parts[usize::from(lead)..parts.len() - usize::from(trail)];
        match inner {
            [] if lead || trail => return Ok(CTest::Any),
            [] => return Ok(CTest::Empty),
            // Non-ASCII text needs Unicode case folding: the regex path below.
            [Gp::Lit(l)] if cased || !has_non_ascii_case(l) => {
                let anchor = match (lead, trail) {
                    (false, false) => Anchor::Exact,
                    (false, true) => Anchor::Prefix,
                    (true, false) => Anchor::Suffix,
                    (true, true) => Anchor::Contains,
                };
                let refs = slot_fields
                    .iter()
                    .map(|f| self.pattern(*f, cased, l))
                    .collect();
                return Ok(CTest::Lit { refs, anchor });
            }
            _ => {}
        }
        let mut src = String::from(if cased { "(?s)^" } else { "(?si)^" });
        for p in &parts {
            match p {
                Gp::Many => src.push_str(".*"),
                Gp::One => src.push('.'),
                Gp::Lit(l) => {
                    let Ok(s) = std::str::from_utf8(l) else {
                        return Err(Problem::new("wildcards in an encoded (non-UTF-8) value"));
                    };
                    src.push_str(&regex::escape(s));
                }
            }
        }
        src.push('$');
        let re = regex::RegexBuilder::new(&src)
            .size_limit(REGEX_SIZE_LIMIT)
            .dfa_size_limit(REGEX_SIZE_LIMIT)
            .build()
            .map_err(|e| Problem::new(format!("wildcard pattern too large: {e}")))?;
        let gate = self.regex_gate(slot_fields, &src);
        Ok(CTest::Regex { re, gate })
    }

    /// The gate of a regex test: its necessary literals as patterns of each
    /// field's case-insensitive automaton. Keyword tests (no field) and
    /// expressions without a useful literal are not gated.
    fn regex_gate(&mut self, slot_fields: &[Option<FieldId>], src: &str) -> Gate {
        if slot_fields.iter().any(Option::is_none) {
            return Box::new([]);
        }
        let Some(lits) = crate::gate::required_literals(src) else {
            return Box::new([]);
        };
        slot_fields
            .iter()
            .map(|f| lits.iter().map(|l| self.pattern(*f, false, l)).collect())
            .collect()
    }
}

/// One automaton per slot, in slot order; built on up to eight threads,
/// the slots with the most patterns first. Slots with the same patterns
/// in the same order and the same case handling — a field and its
/// mapped aliases (`CommandLine`, `process.command_line`), which receive
/// every pattern together — share one automaton (an `AhoCorasick` clone
/// is a reference count), so each distinct set is built once.
fn build_automata(slots: &[Slot]) -> Vec<Result<AhoCorasick, aho_corasick::BuildError>> {
    let mut first: HashMap<(bool, &[Vec<u8>]), usize> = HashMap::new();
    let mut unique: Vec<&Slot> = Vec::new();
    let of_slot: Vec<usize> = slots
        .iter()
        .map(|s| {
            *first
                .entry((s.cased, s.patterns.as_slice()))
                .or_insert_with(|| {
                    unique.push(s);
                    unique.len() - 1
                })
        })
        .collect();
    let mut order: Vec<usize> = (0..unique.len()).collect();
    order.sort_by_key(|&i| std::cmp::Reverse(unique[i].patterns.len()));
    let built = crate::par::map(&unique, Some(&order), |s| {
        AhoCorasick::builder()
            .ascii_case_insensitive(!s.cased)
            .build(&s.patterns)
    });
    of_slot.into_iter().map(|u| built[u].clone()).collect()
}

fn cond(c: &Condition, names: &[&str], base: u32) -> Result<CCond, Problem> {
    cond_offset(c, names, base)
}

fn cond_offset(c: &Condition, names: &[&str], base: u32) -> Result<CCond, Problem> {
    let idx = |n: &str| names.iter().position(|x| *x == n).map(|i| i as u32 + base);
    Ok(match c {
        Condition::Ident(n) => {
            CCond::Sel(idx(n).ok_or_else(|| Problem::new(format!("unknown selection `{n}`")))?)
        }
        Condition::Not(x) => CCond::Not(Box::new(cond_offset(x, names, base)?)),
        Condition::And(v) => CCond::And(
            v.iter()
                .map(|x| cond_offset(x, names, base))
                .collect::<Result<_, _>>()?,
        ),
        Condition::Or(v) => CCond::Or(
            v.iter()
                .map(|x| cond_offset(x, names, base))
                .collect::<Result<_, _>>()?,
        ),
        Condition::Of { quantifier, target } => {
            let ids: Vec<u32> = names
                .iter()
                .enumerate()
                .filter(|(_, n)| match target {
                    OfTarget::Them => !n.starts_with('_'),
                    OfTarget::Pattern(p) => ident_matches(p, n),
                })
                .map(|(i, _)| i as u32 + base)
                .collect();
            if ids.is_empty() {
                return Err(Problem::new("`of` matches no selection"));
            }
            match quantifier {
                Quantifier::All => CCond::All(ids),
                Quantifier::AtLeast(n) => CCond::AtLeast(*n, ids),
            }
        }
    })
}

/// A rough evaluation cost of a test: literals are answered from the
/// hits the field's automaton recorded, presence tests from the event's
/// field index, conversions and regexes read the value.
fn test_cost(t: &CTest) -> u32 {
    match t {
        CTest::Lit { .. } | CTest::Exists(_) => 1,
        CTest::Empty | CTest::Any | CTest::Null | CTest::Bool(_) => 2,
        CTest::NumEq { .. } | CTest::Num(..) | CTest::Cidr(_) => 4,
        CTest::FieldRef { .. } | CTest::Time(..) => 8,
        CTest::Regex { gate, .. } if !gate.is_empty() => 6,
        CTest::Regex { .. } => 16,
    }
}

fn item_cost(it: &CItem) -> u32 {
    let per: u32 = it.tests.iter().map(test_cost).sum();
    // A keyword test that is not a literal reads every field of the event.
    if it.fields.is_empty() && per > it.tests.len() as u32 {
        per.saturating_mul(8)
    } else {
        per
    }
}

fn sel_cost(s: &CSel) -> u32 {
    s.branches
        .iter()
        .map(|br| br.iter().map(item_cost).sum::<u32>())
        .sum()
}

fn cond_cost(c: &CCond, sels: &[CSel]) -> u32 {
    let sel = |i: &u32| sels.get(*i as usize).map_or(0, sel_cost);
    match c {
        CCond::Sel(i) => sel(i),
        CCond::Not(x) => cond_cost(x, sels),
        CCond::And(v) | CCond::Or(v) => v.iter().map(|x| cond_cost(x, sels)).sum(),
        CCond::All(ids) | CCond::AtLeast(_, ids) => ids.iter().map(sel).sum(),
    }
}

/// Sorts the operands of every AND and OR (and the selections of `of`
/// quantifiers) cheapest first; stable, so equal costs keep rule order.
fn order_by_cost(c: &mut CCond, sels: &[CSel]) {
    match c {
        CCond::Sel(_) => {}
        CCond::Not(x) => order_by_cost(x, sels),
        CCond::And(v) | CCond::Or(v) => {
            for x in v.iter_mut() {
                order_by_cost(x, sels);
            }
            v.sort_by_cached_key(|x| cond_cost(x, sels));
        }
        CCond::All(ids) | CCond::AtLeast(_, ids) => {
            ids.sort_by_cached_key(|i| sels.get(*i as usize).map_or(0, sel_cost));
        }
    }
}

/// Most clauses a rule is gated on (bits of [`CRule::gate`]).
const MAX_CLAUSES: usize = 8;

/// Clauses — sets of global pattern ids — each of which must have a hit
/// for the condition to hold (a conjunction of disjunctions). Empty when
/// nothing is known (negations, keywords, non-literal tests).
fn necessary(r: &CRule, c: &CCond) -> Vec<Vec<u32>> {
    let sel = |i: &u32| {
        r.sels
            .get(*i as usize)
            .map(necessary_sel)
            .unwrap_or_default()
    };
    match c {
        CCond::Sel(i) => sel(i),
        CCond::Not(_) => Vec::new(),
        CCond::And(v) => v.iter().flat_map(|x| necessary(r, x)).collect(),
        CCond::All(ids) => ids.iter().flat_map(sel).collect(),
        CCond::Or(v) => one_of(v.iter().map(|x| necessary(r, x))),
        // At least one of them holds, whatever the count.
        CCond::AtLeast(_, ids) => one_of(ids.iter().map(sel)),
    }
}

/// One clause for a disjunction: the union of each operand's smallest
/// clause; nothing when an operand has none.
fn one_of(operands: impl Iterator<Item = Vec<Vec<u32>>>) -> Vec<Vec<u32>> {
    let mut out = Vec::new();
    for cnf in operands {
        let Some(best) = cnf.into_iter().min_by_key(Vec::len) else {
            return Vec::new();
        };
        out.extend(best);
    }
    if out.is_empty() {
        Vec::new()
    } else {
        vec![out]
    }
}

fn necessary_sel(s: &CSel) -> Vec<Vec<u32>> {
    let branch = |br: &Vec<CItem>| br.iter().flat_map(necessary_item).collect::<Vec<_>>();
    match s.branches.as_slice() {
        [br] => branch(br),
        brs => one_of(brs.iter().map(branch)),
    }
}

fn necessary_item(it: &CItem) -> Vec<Vec<u32>> {
    if it.fields.is_empty() || it.neq || it.tests.is_empty() {
        return Vec::new();
    }
    let pats = |t: &CTest| match t {
        CTest::Lit { refs, .. } | CTest::NumEq { refs, .. } => {
            Some(refs.iter().map(|r| r.1).collect::<Vec<u32>>())
        }
        CTest::Regex { gate, .. } if !gate.is_empty() && gate.iter().all(|g| !g.is_empty()) => {
            Some(gate.iter().flat_map(|g| g.iter().map(|r| r.1)).collect())
        }
        _ => None,
    };
    if it.all {
        // `|all`: every value must be there, each one a clause.
        return it.tests.iter().filter_map(pats).collect();
    }
    let mut out = Vec::new();
    for t in &it.tests {
        let Some(p) = pats(t) else {
            return Vec::new();
        };
        out.extend(p);
    }
    vec![out]
}

/// The clauses a rule is gated on: deduplicated, the smallest (most
/// selective) first, at most [`MAX_CLAUSES`].
fn gate_clauses(r: &CRule) -> Vec<Vec<u32>> {
    let mut cnf: Vec<Vec<u32>> = necessary(r, &r.cond)
        .into_iter()
        .map(|mut c| {
            c.sort_unstable();
            c.dedup();
            c
        })
        .filter(|c| !c.is_empty())
        .collect();
    cnf.sort();
    cnf.dedup();
    cnf.sort_by_key(Vec::len);
    cnf.truncate(MAX_CLAUSES);
    cnf
}

/// True if `l` holds a non-ASCII character with case variants (which the
/// ASCII case-insensitive automaton would not fold). Dashes and other
/// caseless symbols stay on the automaton.
fn has_non_ascii_case(l: &[u8]) -> bool {
    !l.is_ascii()
        && String::from_utf8_lossy(l)
            .chars()
            .any(|c| !c.is_ascii() && (c.is_lowercase() || c.is_uppercase()))
}
