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
use crate::parse::{Document, parse_file};
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
    Regex(Regex),
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
    /// Global pattern id → rules gated on it.
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
        P: AsRef<str>,
        T: AsRef<str>,
    {
        let mut docs = Vec::new();
        let mut errors = Vec::new();
        for (p, t) in sources {
            let path: Arc<str> = Arc::from(p.as_ref());
            for d in parse_file(&path, t.as_ref()) {
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

        // Build the automata.
        let mut n_patterns = 0u32;
        for s in &mut b.slots {
            s.base = n_patterns;
            n_patterns += s.patterns.len() as u32;
            match AhoCorasick::builder()
                .ascii_case_insensitive(!s.cased)
                .build(&s.patterns)
            {
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
                            if let CTest::Lit { refs, .. } | CTest::NumEq { refs, .. } = t {
                                for r in refs.iter_mut() {
                                    r.1 += bases[r.0 as usize];
                                }
                            }
                        }
                    }
                }
            }
        }
        let max_sels = compiled.iter().map(|c| c.sels.len()).max().unwrap_or(0);
        let mut pat_rules: Vec<Vec<u32>> = vec![Vec::new(); n_patterns as usize];
        for (i, c) in compiled.iter_mut().enumerate() {
            if let Some(mut pats) = necessary(c, &c.cond) {
                pats.sort_unstable();
                pats.dedup();
                for p in pats {
                    pat_rules[p as usize].push(i as u32);
                }
                c.gated = true;
            }
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
        Ok(CRule {
            sels,
            cond,
            gated: false,
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
                ValueTest::Re(src) => CTest::Regex(
                    regex::RegexBuilder::new(&src)
                        .size_limit(REGEX_SIZE_LIMIT)
                        .dfa_size_limit(REGEX_SIZE_LIMIT)
                        .build()
                        .map_err(|e| Problem::new(format!("invalid regular expression: {e}")))?,
                ),
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
        regex::RegexBuilder::new(&src)
            .size_limit(REGEX_SIZE_LIMIT)
            .dfa_size_limit(REGEX_SIZE_LIMIT)
            .build()
            .map(CTest::Regex)
            .map_err(|e| Problem::new(format!("wildcard pattern too large: {e}")))
    }
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

/// A set of global pattern ids at least one of which must hit for the
/// condition to hold, or `None` when no such set is known (negations,
/// keywords, non-literal tests).
fn necessary(r: &CRule, c: &CCond) -> Option<Vec<u32>> {
    let smallest = |sets: Vec<Option<Vec<u32>>>| sets.into_iter().flatten().min_by_key(Vec::len);
    let union = |sets: Vec<Option<Vec<u32>>>| {
        let mut out = Vec::new();
        for s in sets {
            out.extend(s?);
        }
        Some(out)
    };
    match c {
        CCond::Sel(i) => necessary_sel(&r.sels[*i as usize]),
        CCond::Not(_) => None,
        CCond::And(v) => smallest(v.iter().map(|x| necessary(r, x)).collect()),
        CCond::Or(v) => union(v.iter().map(|x| necessary(r, x)).collect()),
        CCond::All(ids) => smallest(
            ids.iter()
                .map(|i| necessary_sel(&r.sels[*i as usize]))
                .collect(),
        ),
        CCond::AtLeast(_, ids) => union(
            ids.iter()
                .map(|i| necessary_sel(&r.sels[*i as usize]))
                .collect(),
        ),
    }
}

fn necessary_sel(s: &CSel) -> Option<Vec<u32>> {
    let mut out = Vec::new();
    for br in &s.branches {
        let best = br.iter().filter_map(necessary_item).min_by_key(Vec::len)?;
        out.extend(best);
    }
    Some(out)
}

fn necessary_item(it: &CItem) -> Option<Vec<u32>> {
    if it.fields.is_empty() || it.neq || it.tests.is_empty() {
        return None;
    }
    let pats = |t: &CTest| match t {
        CTest::Lit { refs, .. } | CTest::NumEq { refs, .. } => {
            Some(refs.iter().map(|r| r.1).collect::<Vec<u32>>())
        }
        _ => None,
    };
    if it.all {
        return it.tests.iter().find_map(pats);
    }
    let mut out = Vec::new();
    for t in &it.tests {
        out.extend(pats(t)?);
    }
    Some(out)
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
