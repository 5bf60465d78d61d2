//! Threat-intel glue between the store's rows and `vigil-intel`, shared by
//! the intel routes and the CLI (`vigil intel lookup|export|blocklist`):
//! looking a value up, selecting and exporting indicators (STIX 2.1, CSV),
//! rendering the plain-text blocklists and adding manual blocklist entries
//! (the same call response playbooks use).

use std::collections::BTreeSet;

use serde::Serialize;
use utoipa::ToSchema;
use vigil_intel::blocklist::{BlocklistKind, tlp_allows};
use vigil_intel::export::{bundle, indicator_object};
use vigil_intel::lookup::{cidr_contains, lookup_keys};
use vigil_intel::{Indicator, IndicatorType, Provenance, Tlp};
use vigil_model::{Principal, TenantId, Timestamp};
use vigil_store::{BlocklistEntry, IndicatorQuery, IndicatorRecord, Store};

/// Why an intel request failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum IntelError {
    /// The caller's input is wrong (the message says how).
    #[error("{0}")]
    Invalid(String),
    /// The store failed.
    #[error(transparent)]
    Store(#[from] vigil_store::Error),
}

impl From<IntelError> for crate::error::AppError {
    fn from(e: IntelError) -> Self {
        match e {
            IntelError::Invalid(m) => crate::error::AppError::bad_request(m),
            IntelError::Store(s) => s.into(),
        }
    }
}

type Result<T> = std::result::Result<T, IntelError>;

fn invalid(e: impl std::fmt::Display) -> IntelError {
    IntelError::Invalid(e.to_string())
}

/// The stored row as a `vigil-intel` indicator; `None` for a type this
/// build does not know.
pub fn indicator_of(r: &IndicatorRecord) -> Option<Indicator> {
    let kind: IndicatorType = r.kind.parse().ok()?;
    let provenance: BTreeSet<Provenance> =
        serde_json::from_value(r.provenance.clone()).unwrap_or_default();
    Some(Indicator {
        kind,
        value: r.value.clone(),
        confidence: r.confidence,
        tlp: r.tlp.as_deref().and_then(Tlp::parse),
        markings: r.markings.iter().cloned().collect(),
        valid_from: r.valid_from,
        valid_until: r.valid_until,
        labels: r.labels.iter().cloned().collect(),
        kill_chain: serde_json::from_value(r.kill_chain.clone()).unwrap_or_default(),
        techniques: r.techniques.iter().cloned().collect(),
        related: r.related.iter().cloned().collect(),
        provenance,
        first_seen: r.first_seen,
        last_seen: r.last_seen,
        sightings: u64::try_from(r.feed_sightings.max(0)).unwrap_or(0),
    })
}

/// The feeds of a stored indicator, sorted, once each.
pub fn feeds_of(r: &IndicatorRecord) -> Vec<String> {
    let mut f: Vec<String> = r
        .provenance
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|p| p["feed"].as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default();
    f.sort();
    f.dedup();
    f
}

/// A stored indicator with its provenance, context and sightings.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct IndicatorView {
    /// Type (`ipv4`, `domain`, `sha256`, …).
    #[serde(rename = "type")]
    pub kind: String,
    /// Normalised value.
    pub value: String,
    /// `type:value`, the indicator's id in the API.
    pub id: String,
    /// 0–100, the highest any source gave.
    pub confidence: u8,
    /// The most restrictive TLP any source gave.
    pub tlp: Option<String>,
    /// Valid from.
    #[schema(value_type = Option<String>, format = DateTime)]
    pub valid_from: Option<Timestamp>,
    /// Valid until (absent: open-ended).
    #[schema(value_type = Option<String>, format = DateTime)]
    pub valid_until: Option<Timestamp>,
    /// Feeds that assert it.
    pub feeds: Vec<String>,
    /// Every source with its object id (`[{feed, object_id}]`).
    #[schema(value_type = Vec<Object>)]
    pub provenance: serde_json::Value,
    /// Related actors, intrusion sets, malware, campaigns.
    pub related: Vec<String>,
    /// ATT&CK technique ids.
    pub techniques: Vec<String>,
    /// Labels and tags.
    pub labels: Vec<String>,
    /// Kill-chain phases.
    #[schema(value_type = Vec<Object>)]
    pub kill_chain: serde_json::Value,
    /// First seen, as sources report.
    #[schema(value_type = Option<String>, format = DateTime)]
    pub first_seen: Option<Timestamp>,
    /// Last seen, as sources report.
    #[schema(value_type = Option<String>, format = DateTime)]
    pub last_seen: Option<Timestamp>,
    /// Times Vigil matched it in events.
    pub sightings: i64,
    /// Vigil's latest match (event time).
    #[schema(value_type = Option<String>, format = DateTime)]
    pub last_sighting: Option<Timestamp>,
}

impl From<&IndicatorRecord> for IndicatorView {
    fn from(r: &IndicatorRecord) -> Self {
        IndicatorView {
            kind: r.kind.clone(),
            value: r.value.clone(),
            id: format!("{}:{}", r.kind, r.value),
            confidence: r.confidence,
            tlp: r.tlp.clone(),
            valid_from: r.valid_from,
            valid_until: r.valid_until,
            feeds: feeds_of(r),
            provenance: r.provenance.clone(),
            related: r.related.clone(),
            techniques: r.techniques.clone(),
            labels: r.labels.clone(),
            kill_chain: r.kill_chain.clone(),
            first_seen: r.first_seen,
            last_seen: r.last_seen,
            sightings: r.sightings,
            last_sighting: r.last_sighting,
        }
    }
}

/// One stored indicator matching a looked-up value.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct LookupHit {
    /// How it matches: `exact`, `parent-domain`, `cidr`, `host` (a URL's
    /// or email's host), `canonical` (another form of the same value).
    pub matched_by: String,
    /// The indicator.
    #[serde(flatten)]
    pub indicator: IndicatorView,
    /// Vigil's first match (event time).
    #[schema(value_type = Option<String>, format = DateTime)]
    pub first_sighting: Option<Timestamp>,
}

/// The result of a lookup.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Lookup {
    /// The value's type (given or guessed).
    #[serde(rename = "type")]
    pub kind: String,
    /// The refanged, normalised value.
    pub value: String,
    /// Stored indicators that match it; empty when none.
    pub matches: Vec<LookupHit>,
}

/// Looks `raw` up: refang, normalise (type guessed unless `kind` is
/// given), then the exact indicator and every stored one that would match
/// it in an event.
pub async fn lookup(
    store: &Store,
    tenant: TenantId,
    raw: &str,
    kind: Option<&str>,
) -> Result<Lookup> {
    let kind = kind
        .map(|k| k.parse::<IndicatorType>().map_err(invalid))
        .transpose()?;
    let keys = lookup_keys(raw, kind).map_err(invalid)?;
    let mut matches = Vec::new();
    let mut seen = BTreeSet::new();
    for (i, (k, v)) in keys.keys.iter().enumerate() {
        if !seen.insert((*k, v.clone())) {
            continue;
        }
        let Some(r) = store.get_indicator(tenant, k.as_str(), v).await? else {
            continue;
        };
        let how = if i == 0 {
            "exact"
        } else if *v == keys.value || *k == IndicatorType::Url {
            "canonical"
        } else if *k == IndicatorType::Domain && keys.value.ends_with(&format!(".{v}")) {
            "parent-domain"
        } else {
            "host"
        };
        matches.push(hit(store, tenant, how, &r).await?);
    }
    if let Some(ip) = keys.ip {
        let cidr = if ip.is_ipv4() {
            IndicatorType::Ipv4Cidr
        } else {
            IndicatorType::Ipv6Cidr
        };
        for r in store.list_indicators_of(tenant, cidr.as_str()).await? {
            if cidr_contains(&r.value, ip) {
                matches.push(hit(store, tenant, "cidr", &r).await?);
            }
        }
    }
    Ok(Lookup {
        kind: keys.kind.as_str().into(),
        value: keys.value,
        matches,
    })
}

async fn hit(store: &Store, tenant: TenantId, how: &str, r: &IndicatorRecord) -> Result<LookupHit> {
    let s = store
        .indicator_sightings(tenant, &r.kind, &r.value)
        .await?
        .unwrap_or_default();
    Ok(LookupHit {
        matched_by: how.into(),
        indicator: IndicatorView::from(r),
        first_sighting: s.first,
    })
}

/// Checked export / blocklist filters.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ExportFilter {
    /// Only these types (all when empty).
    pub kinds: Vec<IndicatorType>,
    /// Only confidence ≥ this.
    pub min_confidence: u8,
    /// Only indicators shareable at this TLP (no TLP counts as CLEAR).
    pub tlp: Option<Tlp>,
    /// Only indicators valid at this time.
    pub valid_at: Option<Timestamp>,
}

impl ExportFilter {
    /// Parses user input: type names, 0–100, a TLP level name; indicators
    /// valid at `now` unless `include_expired`.
    pub fn parse(
        kinds: &[String],
        min_confidence: u8,
        tlp: Option<&str>,
        include_expired: bool,
        now: Timestamp,
    ) -> Result<Self> {
        let kinds = kinds
            .iter()
            .flat_map(|k| k.split(','))
            .filter(|k| !k.trim().is_empty())
            .map(|k| {
                k.parse::<IndicatorType>()
                    .map_err(|e| invalid(format!("type: {e}")))
            })
            .collect::<Result<Vec<_>>>()?;
        if min_confidence > 100 {
            return Err(invalid("min_confidence: 0 to 100"));
        }
        let tlp = tlp
            .map(|t| {
                Tlp::parse(t).ok_or_else(|| {
                    invalid(format!(
                        "tlp: unknown level {t:?} (clear, green, amber, amber+strict, red)"
                    ))
                })
            })
            .transpose()?;
        Ok(Self {
            kinds,
            min_confidence,
            tlp,
            valid_at: (!include_expired).then_some(now),
        })
    }
}

/// The stored indicators passing `f`, by type and value.
pub async fn select(
    store: &Store,
    tenant: TenantId,
    f: &ExportFilter,
) -> Result<Vec<IndicatorRecord>> {
    let rows = store
        .query_indicators(
            tenant,
            &IndicatorQuery {
                kinds: f.kinds.iter().map(|k| k.as_str().to_string()).collect(),
                min_confidence: f.min_confidence,
                valid_at: f.valid_at,
                ..Default::default()
            },
        )
        .await?;
    Ok(rows
        .into_iter()
        .filter(|r| f.tlp.is_none_or(|max| tlp_allows(r.tlp.as_deref(), max)))
        .collect())
}

/// A `next_cursor` of [`indicator_page`] (`type:value`) as the store's
/// keyset.
pub fn parse_cursor(c: &str) -> Result<(String, String)> {
    c.split_once(':')
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .ok_or_else(|| invalid("cursor: not a next_cursor value"))
}

/// One page of indicators by type and value (keyset paging): at most
/// `limit` rows of `q` (its own `limit` is ignored) and the cursor of the
/// next page, if there is one.
pub async fn indicator_page(
    store: &Store,
    tenant: TenantId,
    mut q: IndicatorQuery,
    limit: u32,
) -> Result<(Vec<IndicatorRecord>, Option<String>)> {
    q.limit = Some(limit + 1);
    let mut rows = store.query_indicators(tenant, &q).await?;
    let more = rows.len() > limit as usize;
    rows.truncate(limit as usize);
    let next = more
        .then(|| rows.last().map(|r| format!("{}:{}", r.kind, r.value)))
        .flatten();
    Ok((rows, next))
}

/// A STIX 2.1 bundle of `rows`, and how many were left out (no STIX
/// pattern for their type: CVE ids).
pub fn to_stix(rows: &[IndicatorRecord]) -> (serde_json::Value, usize) {
    let mut skipped = 0;
    let objects = rows
        .iter()
        .filter_map(|r| {
            let o = indicator_of(r).and_then(|i| indicator_object(&i, r.created_at, r.updated_at));
            if o.is_none() {
                skipped += 1;
            }
            o
        })
        .collect();
    (bundle(objects), skipped)
}

fn csv_cell(s: &str) -> String {
    // Cells starting with = + - @ are prefixed so spreadsheets do not run them.
    let s = if s.starts_with(['=', '+', '-', '@']) {
        format!("'{s}")
    } else {
        s.to_owned()
    };
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s
    }
}

/// The CSV header of [`to_csv`].
pub const CSV_HEADER: &str =
    "type,value,confidence,tlp,valid_from,valid_until,feeds,techniques,related,labels";

/// CSV of `rows`, header first.
pub fn to_csv(rows: &[IndicatorRecord]) -> String {
    let mut out = String::from(CSV_HEADER);
    out.push('\n');
    let ts = |t: Option<Timestamp>| t.map(|t| t.to_rfc3339()).unwrap_or_default();
    for r in rows {
        let cells = [
            r.kind.clone(),
            r.value.clone(),
            r.confidence.to_string(),
            r.tlp.clone().unwrap_or_default(),
            ts(r.valid_from),
            ts(r.valid_until),
            feeds_of(r).join(" "),
            r.techniques.join(" "),
            r.related.join("; "),
            r.labels.join(" "),
        ];
        let line: Vec<String> = cells.iter().map(|c| csv_cell(c)).collect();
        out.push_str(&line.join(","));
        out.push('\n');
    }
    out
}

/// The plain-text blocklist `list`: one value per line, sorted, once each
/// — indicators valid at `now` with confidence ≥ `min_confidence` and
/// shareable at `tlp`, plus active manual entries. Returns the text and
/// the number of values.
pub async fn blocklist_text(
    store: &Store,
    tenant: TenantId,
    list: BlocklistKind,
    min_confidence: u8,
    tlp: Option<Tlp>,
    now: Timestamp,
) -> Result<(String, usize)> {
    let kinds: Vec<&str> = list.types().iter().map(|t| t.as_str()).collect();
    let cands = store
        .blocklist_candidates(tenant, &kinds, min_confidence, now)
        .await?;
    let values: BTreeSet<String> = cands
        .into_iter()
        .filter(|c| c.manual || tlp.is_none_or(|max| tlp_allows(c.tlp.as_deref(), max)))
        .map(|c| c.value)
        .collect();
    let mut out = String::with_capacity(values.len() * 24);
    for v in &values {
        // Values are normalised on the way in; a line break would split
        // one value into two firewall rules, so never emit one.
        if v.contains(['\n', '\r']) {
            continue;
        }
        out.push_str(v);
        out.push('\n');
    }
    Ok((out, values.len()))
}

/// A duration like `90s`, `30m`, `24h`, `7d` or `2w`, in microseconds.
pub fn parse_ttl(s: &str) -> Result<i64> {
    let s = s.trim();
    let (num, unit) = s.split_at(s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len()));
    let n: i64 = num
        .parse()
        .map_err(|_| invalid(format!("ttl: {s:?} is not like 30m, 24h or 7d")))?;
    let secs = match unit {
        "s" => 1,
        "m" => 60,
        "h" => 3600,
        "d" => 86_400,
        "w" => 604_800,
        _ => return Err(invalid(format!("ttl: {s:?} needs a unit: s, m, h, d or w"))),
    };
    if n <= 0 {
        return Err(invalid(format!("ttl: {s:?} must be positive")));
    }
    n.checked_mul(secs)
        .and_then(|x| x.checked_mul(1_000_000))
        .ok_or_else(|| invalid(format!("ttl: {s:?} is too long")))
}

/// A manual entry to add: the raw value (refanged and normalised; type
/// guessed unless given), why, for how long.
#[derive(Debug, Clone)]
pub struct NewManualEntry<'a> {
    /// The value as given.
    pub value: &'a str,
    /// Its type, if known.
    pub kind: Option<&'a str>,
    /// Why it is blocked (required, non-empty).
    pub reason: &'a str,
    /// How long, in microseconds; `None` until removed.
    pub ttl_micros: Option<i64>,
}

/// Adds (or renews) a manual blocklist entry on behalf of `by`; the value
/// must belong to one of the plain-text lists. Returns the stored entry
/// and whether it is new.
pub async fn add_manual_entry(
    store: &Store,
    tenant: TenantId,
    e: &NewManualEntry<'_>,
    by: &Principal,
    now: Timestamp,
) -> Result<(BlocklistEntry, bool)> {
    let reason = e.reason.trim();
    if reason.is_empty() {
        return Err(invalid("reason: required"));
    }
    if reason.len() > 1000 {
        return Err(invalid("reason: at most 1000 bytes"));
    }
    let keys = lookup_keys(
        e.value,
        e.kind
            .map(|k| k.parse::<IndicatorType>().map_err(invalid))
            .transpose()?,
    )
    .map_err(invalid)?;
    if BlocklistKind::of(keys.kind).is_none() {
        return Err(invalid(format!(
            "type {} is not served on a blocklist (ips, cidrs, domains, urls, hashes)",
            keys.kind
        )));
    }
    let entry = BlocklistEntry {
        kind: keys.kind.as_str().into(),
        value: keys.value,
        reason: reason.into(),
        added_by: by.label(),
        created_at: now,
        expires_at: e.ttl_micros.map(|t| now.add_micros(t)),
    };
    let new = store.add_blocklist_entry(tenant, &entry).await?;
    Ok((entry, new))
}

/// Removes a manual entry by value (normalised like on add); false when
/// there was none.
pub async fn remove_manual_entry(
    store: &Store,
    tenant: TenantId,
    value: &str,
    kind: Option<&str>,
    now: Timestamp,
) -> Result<bool> {
    let keys = lookup_keys(
        value,
        kind.map(|k| k.parse::<IndicatorType>().map_err(invalid))
            .transpose()?,
    )
    .map_err(invalid)?;
    Ok(store
        .remove_blocklist_entry(tenant, keys.kind.as_str(), &keys.value, now)
        .await?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ttls() {
        assert_eq!(parse_ttl("90s").ok(), Some(90_000_000));
        assert_eq!(parse_ttl("24h").ok(), Some(86_400_000_000));
        assert_eq!(parse_ttl("7d").ok(), Some(7 * 86_400_000_000));
        for bad in ["", "0h", "5", "h", "5y", "-1d", "99999999999999999w"] {
            assert!(parse_ttl(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn filters() {
        let now = Timestamp::from_secs(1);
        let f = ExportFilter::parse(&["ipv4,domain".into()], 50, Some("green"), false, now)
            .expect("filter");
        assert_eq!(f.kinds, [IndicatorType::Ipv4, IndicatorType::Domain]);
        assert_eq!((f.tlp, f.valid_at), (Some(Tlp::Green), Some(now)));
        assert!(ExportFilter::parse(&["bogus".into()], 0, None, false, now).is_err());
        assert!(ExportFilter::parse(&[], 101, None, false, now).is_err());
        assert!(ExportFilter::parse(&[], 0, Some("purple"), false, now).is_err());
    }
}

/// The stored row of a `vigil-intel` indicator (store-maintained fields
/// zero; the store ignores them on upsert).
pub fn record_of(i: &Indicator) -> IndicatorRecord {
    IndicatorRecord {
        kind: i.kind.as_str().into(),
        value: i.value.clone(),
        confidence: i.confidence,
        tlp: i.tlp.map(|t| t.as_str().to_string()),
        valid_from: i.valid_from,
        valid_until: i.valid_until,
        labels: i.labels.iter().cloned().collect(),
        techniques: i.techniques.iter().cloned().collect(),
        related: i.related.iter().cloned().collect(),
        markings: i.markings.iter().cloned().collect(),
        kill_chain: serde_json::to_value(&i.kill_chain).unwrap_or_default(),
        provenance: serde_json::to_value(&i.provenance).unwrap_or_default(),
        first_seen: i.first_seen,
        last_seen: i.last_seen,
        feed_sightings: i64::try_from(i.sightings).unwrap_or(i64::MAX),
        sightings: 0,
        last_sighting: None,
        created_at: Timestamp::from_micros(0),
        updated_at: Timestamp::from_micros(0),
    }
}

/// The stored version of a STIX object.
pub fn stix_record_of(o: &vigil_intel::StixObject, source: &str) -> vigil_store::StixObjectRecord {
    let relationship = (o.kind == "relationship").then(|| {
        (
            o.str("relationship_type").unwrap_or("").to_string(),
            o.str("source_ref").unwrap_or("").to_string(),
            o.str("target_ref").unwrap_or("").to_string(),
        )
    });
    vigil_store::StixObjectRecord {
        id: o.id.clone(),
        kind: o.kind.clone(),
        modified: o.version().unwrap_or(Timestamp::from_micros(0)),
        spec_version: o.spec_version.clone(),
        name: o.name.clone(),
        revoked: o.revoked,
        source: source.to_string(),
        body: o.json.clone(),
        relationship,
    }
}

/// A rejected item of an import.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ImportItemError {
    /// The document (feed name).
    pub source: String,
    /// The object, attribute or line.
    pub id: String,
    /// What is wrong with it.
    pub reason: String,
}

/// What an import did.
#[derive(Debug, Clone, Default, Serialize, ToSchema)]
pub struct ImportOutcome {
    /// `stix`, `misp`, `csv` or `plain`.
    pub format: String,
    /// Objects read, per STIX type (MISP: events, attributes, objects).
    pub objects: std::collections::BTreeMap<String, usize>,
    /// Indicators read, per indicator type.
    pub indicators: std::collections::BTreeMap<String, usize>,
    /// STIX patterns that became matchable indicators.
    pub patterns_matchable: usize,
    /// STIX patterns kept but not matchable.
    pub patterns_not_matchable: usize,
    /// Indicators new to the store.
    pub indicators_added: usize,
    /// Stored indicators this import changed.
    pub indicators_updated: usize,
    /// Stored indicators already as imported.
    pub indicators_unchanged: usize,
    /// New STIX object versions stored.
    pub stix_objects_added: usize,
    /// STIX object versions already stored.
    pub stix_objects_unchanged: usize,
    /// Rejected items; the rest was imported.
    pub errors: Vec<ImportItemError>,
}

/// The format of a document to import.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ImportFormat {
    /// JSON: a STIX bundle (`"type": "bundle"` or `objects`) or else MISP
    /// events (`POST /api/v1/intel/import` as `application/json`).
    Json,
    /// JSON as [`ImportFormat::Json`], otherwise a list: CSV when a line
    /// holds a comma (value in the first column), else one value per line
    /// (types guessed, `#` comments).
    Auto,
    /// A STIX 2.0/2.1 bundle.
    Stix,
    /// MISP event(s).
    Misp,
    /// CSV, the value in the first column, types guessed.
    Csv,
    /// One value per line, types guessed.
    Plain,
}

impl std::str::FromStr for ImportFormat {
    type Err = IntelError;

    fn from_str(s: &str) -> Result<Self> {
        Ok(match s {
            "auto" => Self::Auto,
            "json" => Self::Json,
            "stix" => Self::Stix,
            "misp" => Self::Misp,
            "csv" => Self::Csv,
            "plain" => Self::Plain,
            other => {
                return Err(invalid(format!(
                    "format: {other:?} is not auto, stix, misp, csv or plain"
                )));
            }
        })
    }
}

/// Imports one STIX 2.0/2.1 bundle or MISP event document (gzip or not)
/// as feed `feed`: indicators are merged with the stored ones (every
/// provenance kept) and STIX objects stored by version. Idempotent.
/// Fails only when the document as a whole is unreadable.
pub async fn import_document(
    store: &Store,
    tenant: TenantId,
    bytes: &[u8],
    feed: &str,
    now: Timestamp,
) -> Result<ImportOutcome> {
    import_document_as(store, tenant, bytes, feed, ImportFormat::Json, now).await
}

/// [`import_document`] for a document in `format`, lists included (their
/// rejected lines are reported as `line N`).
pub async fn import_document_as(
    store: &Store,
    tenant: TenantId,
    bytes: &[u8],
    feed: &str,
    format: ImportFormat,
    now: Timestamp,
) -> Result<ImportOutcome> {
    use vigil_intel::list::{ListFormat, parse_list};
    use vigil_intel::stix::{ImportOptions, parse_bundle};
    let opts = ImportOptions::default();
    let data = vigil_intel::decode_input(bytes, opts.max_bytes).map_err(invalid)?;
    let format = match format {
        ImportFormat::Json | ImportFormat::Auto => {
            let first = data.iter().copied().find(|b| !b.is_ascii_whitespace());
            let json = matches!(first, Some(b'{' | b'['));
            if format == ImportFormat::Auto && !json {
                if data.contains(&b',') {
                    ImportFormat::Csv
                } else {
                    ImportFormat::Plain
                }
            } else {
                let head: Vec<u8> = data
                    .iter()
                    .copied()
                    .filter(|b| !b.is_ascii_whitespace())
                    .take(4096)
                    .collect();
                let head = String::from_utf8_lossy(&head);
                if head.contains("\"type\":\"bundle\"") || head.contains("\"objects\":") {
                    ImportFormat::Stix
                } else {
                    ImportFormat::Misp
                }
            }
        }
        f => f,
    };
    let (format, indicators, objects, report) = match format {
        ImportFormat::Stix => {
            let imp = parse_bundle(&data, feed, &opts).map_err(invalid)?;
            ("stix", imp.indicators, imp.objects, imp.report)
        }
        ImportFormat::Csv | ImportFormat::Plain => {
            let list = if format == ImportFormat::Csv {
                ListFormat::default()
            } else {
                ListFormat::plain(None)
            };
            let (inds, report) = parse_list(&data, feed, &list, &opts).map_err(invalid)?;
            let name = if format == ImportFormat::Csv {
                "csv"
            } else {
                "plain"
            };
            (name, inds, Vec::new(), report)
        }
        _ => {
            let imp = vigil_intel::misp::parse_events(&data, feed, &opts).map_err(invalid)?;
            ("misp", imp.indicators, Vec::new(), imp.report)
        }
    };
    let mut set = vigil_intel::IndicatorSet::new();
    set.merge(indicators);
    let mut records = Vec::with_capacity(set.len());
    for (_, ind) in set.iter() {
        let merged = match store
            .get_indicator(tenant, ind.kind.as_str(), &ind.value)
            .await?
            .as_ref()
            .and_then(indicator_of)
        {
            Some(mut old) => {
                old.merge(ind);
                old
            }
            None => ind.clone(),
        };
        records.push(record_of(&merged));
    }
    let st = store.upsert_indicators(tenant, &records, now).await?;
    let objs: Vec<_> = objects.iter().map(|o| stix_record_of(o, feed)).collect();
    let ost = store.upsert_stix_objects(tenant, &objs, now).await?;
    Ok(ImportOutcome {
        format: format.into(),
        objects: report.objects,
        indicators: report.indicators,
        patterns_matchable: report.patterns_matchable,
        patterns_not_matchable: report.patterns_not_matchable,
        indicators_added: st.added,
        indicators_updated: st.updated,
        indicators_unchanged: st.unchanged,
        stix_objects_added: ost.added,
        stix_objects_unchanged: ost.unchanged,
        errors: report
            .errors
            .into_iter()
            .map(|e| ImportItemError {
                source: e.source,
                id: e.id,
                reason: e.reason,
            })
            .collect(),
    })
}
