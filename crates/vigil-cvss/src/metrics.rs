//! The strict `METRIC:VALUE/…` tokenizer shared by every version: metric
//! tables in, value indices out, errors with byte positions.

use crate::error::{Error, Result};

/// One metric of a version: its abbreviation and allowed values.
pub(crate) struct MetricDef {
    pub key: &'static str,
    pub values: &'static [&'static str],
}

/// The grammar of one CVSS version.
pub(crate) struct Grammar {
    /// Version label for messages (`2.0`, `3.1`, …).
    pub version: &'static str,
    /// Every metric; the first `mandatory` are the mandatory base metrics.
    pub metrics: &'static [MetricDef],
    /// How many leading metrics are mandatory.
    pub mandatory: usize,
    /// Whether metrics must appear in table order (v4.0) or in any order
    /// (v2, v3.x).
    pub ordered: bool,
}

/// Most metrics any version has (v4.0: 32).
pub(crate) const MAX_METRICS: usize = 32;

/// Parsed values: for metric `i`, `0` if absent, else `1 + index` into its
/// `values`.
pub(crate) type Values = [u8; MAX_METRICS];

/// Parses `body` (the vector after any `CVSS:x.y/` prefix), which starts at
/// byte `offset` of the whole input.
pub(crate) fn parse(g: &Grammar, body: &str, offset: usize) -> Result<Values> {
    let mut out: Values = [0; MAX_METRICS];
    let mut last: Option<usize> = None;
    let mut pos = offset;
    for component in body.split('/') {
        let here = pos;
        pos += component.len() + 1;
        let Some((key, value)) = component.split_once(':') else {
            return Err(malformed(here, component));
        };
        if key.is_empty() || value.is_empty() || value.contains(':') {
            return Err(malformed(here, component));
        }
        // Search from just after the previous metric: in the usual
        // (specification) order the next one is found at once.
        let n = g.metrics.len();
        let start = last.map_or(0, |l| l + 1);
        let Some(i) = (0..n)
            .map(|k| (start + k) % n)
            .find(|&i| g.metrics[i].key == key)
        else {
            return Err(Error::UnknownMetric {
                position: here,
                metric: key.to_owned(),
                version: g.version,
            });
        };
        let def = &g.metrics[i];
        let Some(v) = def.values.iter().position(|&x| x == value) else {
            return Err(Error::InvalidValue {
                position: here,
                metric: def.key,
                value: value.to_owned(),
                allowed: def.values.join("/"),
            });
        };
        if out[i] != 0 {
            return Err(Error::Duplicate {
                position: here,
                metric: def.key,
            });
        }
        if g.ordered && last.is_some_and(|l| i < l) {
            return Err(Error::OutOfOrder {
                position: here,
                metric: def.key,
            });
        }
        last = Some(i);
        // Value lists are at most five long: the cast is lossless.
        out[i] = v as u8 + 1;
    }
    if out[..g.mandatory].iter().all(|&v| v != 0) {
        return Ok(out);
    }
    let missing: Vec<&str> = g.metrics[..g.mandatory]
        .iter()
        .zip(out.iter())
        .filter(|(_, v)| **v == 0)
        .map(|(m, _)| m.key)
        .collect();
    Err(Error::Missing {
        missing: missing.join(", "),
        version: g.version,
    })
}

/// All mandatory metrics missing (a prefix with nothing after it).
pub(crate) fn all_missing(g: &Grammar) -> Error {
    Error::Missing {
        missing: g.metrics[..g.mandatory]
            .iter()
            .map(|m| m.key)
            .collect::<Vec<_>>()
            .join(", "),
        version: g.version,
    }
}

/// Renders the metrics that are present, in table order, skipping values
/// listed in `skip` (such as `X` or `ND`).
pub(crate) fn render(g: &Grammar, values: &Values, skip: &str) -> String {
    let mut parts = Vec::new();
    for (i, m) in g.metrics.iter().enumerate() {
        if let Some(v) = value_str(g, values, i)
            && v != skip
        {
            parts.push(format!("{}:{}", m.key, v));
        }
    }
    parts.join("/")
}

/// The value of metric `i` as written, if present.
pub(crate) fn value_str(g: &Grammar, values: &Values, i: usize) -> Option<&'static str> {
    let v = *values.get(i)?;
    if v == 0 {
        return None;
    }
    g.metrics.get(i)?.values.get(usize::from(v) - 1).copied()
}

/// Looks a metric up by key: its value as written, if present.
pub(crate) fn get(g: &Grammar, values: &Values, key: &str) -> Option<&'static str> {
    let i = g.metrics.iter().position(|m| m.key == key)?;
    value_str(g, values, i)
}

fn malformed(position: usize, component: &str) -> Error {
    Error::Malformed {
        position,
        component: component.to_owned(),
    }
}
