//! Import reports: counts per object type and every rejected item with its
//! id and reason. Partial success is a value: one bad object never sinks the
//! rest of its document.

use std::collections::BTreeMap;

use serde::Serialize;

/// One item that could not be imported.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ItemError {
    /// Where it came from (file name or feed).
    pub source: String,
    /// The object's id (STIX id, MISP uuid) or position (`line 12`,
    /// `objects[3]`) when it has none.
    pub id: String,
    /// Why it was rejected.
    pub reason: String,
}

/// What one import found.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ImportReport {
    /// Objects read per type (`indicator`, `malware`, `misp-attribute`, …).
    pub objects: BTreeMap<String, usize>,
    /// Indicators produced per indicator type.
    pub indicators: BTreeMap<String, usize>,
    /// STIX patterns that reduce to single observables.
    pub patterns_matchable: usize,
    /// STIX patterns that parse but need more than one value to match.
    pub patterns_not_matchable: usize,
    /// Values skipped on purpose (MISP attributes without `to_ids`,
    /// attribute types that are not indicators).
    pub skipped: usize,
    /// Rejected items.
    pub errors: Vec<ItemError>,
}

impl ImportReport {
    pub(crate) fn count_object(&mut self, kind: &str) {
        *self.objects.entry(kind.to_string()).or_default() += 1;
    }

    pub(crate) fn count_indicator(&mut self, kind: crate::IndicatorType) {
        *self
            .indicators
            .entry(kind.as_str().to_string())
            .or_default() += 1;
    }

    pub(crate) fn error(&mut self, source: &str, id: impl Into<String>, reason: impl Into<String>) {
        self.errors.push(ItemError {
            source: source.to_string(),
            id: id.into(),
            reason: reason.into(),
        });
    }

    /// Adds another report's figures to this one.
    pub fn absorb(&mut self, o: ImportReport) {
        for (k, v) in o.objects {
            *self.objects.entry(k).or_default() += v;
        }
        for (k, v) in o.indicators {
            *self.indicators.entry(k).or_default() += v;
        }
        self.patterns_matchable += o.patterns_matchable;
        self.patterns_not_matchable += o.patterns_not_matchable;
        self.skipped += o.skipped;
        self.errors.extend(o.errors);
    }
}
