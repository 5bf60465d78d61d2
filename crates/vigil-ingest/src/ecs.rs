//! ECS normalisation: a data-driven table of (source names → ECS target),
//! applied after parsing. Targets are filled **beside** the original fields
//! and never overwrite a value the source already set.
//!
//! To map a new source field, add its name to a row of [`MAPPINGS`] (rows
//! run in order; within a row the first source present wins). Windows
//! evtx-JSON is handled in two steps: every `Event.EventData.X` (and the last
//! segment of `Event.UserData.*.X`) is also exposed as plain `X` while
//! flattening, and the first rows below alias the `Event.System.*` names that
//! Sigma rules use (`EventID`, `Channel`, `Provider_Name`, `Computer`). The
//! ECS rows then read those plain names.

use rustc_hash::FxHashMap;
use vigil_model::{EventBuilder, FieldId, Timestamp, Value};

use crate::context::Interner;
use crate::time;

/// How a source value becomes the target value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Conv {
    /// The value as it is.
    Copy,
    /// Any scalar as text (`4624` → `"4624"`); null and empty text skipped.
    Text,
    /// An integer, or text holding one (ports, pids).
    Int,
    /// Text that parses as an IPv4/IPv6 address (`-` and junk skipped).
    Ip,
    /// The last path segment, `/` or `\` separated (`C:\x\cmd.exe` → `cmd.exe`).
    Basename,
    /// Text only if it is an absolute URL (`scheme://…`).
    AbsoluteUrl,
    /// `DOMAIN\user` → `user`, and `user.domain` = `DOMAIN` when absent.
    UserName,
    /// Sysmon `Hashes` (`SHA1=..,MD5=..,SHA256=..,IMPHASH=..`) → the
    /// `file.hash.*` fields and `file.pe.imphash` (lowercase hex); the row's
    /// target is not used.
    Hashes,
    /// Text in lowercase (hash fields).
    Lower,
}

/// One row of the mapping table.
#[derive(Debug)]
pub(crate) struct Mapping {
    /// Field to fill.
    pub(crate) target: &'static str,
    /// Candidate source fields, in order of preference.
    pub(crate) sources: &'static [&'static str],
    /// Conversion.
    pub(crate) conv: Conv,
}

const fn m(target: &'static str, sources: &'static [&'static str], conv: Conv) -> Mapping {
    Mapping {
        target,
        sources,
        conv,
    }
}

/// Prefixes whose fields are also exposed under a plain name while
/// flattening: `(prefix, keep only the last segment)`.
pub(crate) const PLAIN_ALIAS_PREFIXES: &[(&str, bool)] =
    &[("Event.EventData.", false), ("Event.UserData.", true)];

/// The plain alias of a flattened Windows path, if it has one.
pub(crate) fn plain_alias(path: &str) -> Option<&str> {
    if !path.starts_with("Event.") {
        return None;
    }
    for (prefix, last_only) in PLAIN_ALIAS_PREFIXES {
        if let Some(rest) = path.strip_prefix(prefix) {
            let rest = if *last_only {
                rest.rsplit('.').next().unwrap_or(rest)
            } else {
                rest
            };
            return (!rest.is_empty()).then_some(rest);
        }
    }
    None
}

/// The mapping table, applied top to bottom.
pub(crate) const MAPPINGS: &[Mapping] = &[
    // Windows evtx-JSON: the System names Sigma rules use.
    m(
        "EventID",
        &["Event.System.EventID", "Event.System.EventID.#text"],
        Conv::Copy,
    ),
    m("Channel", &["Event.System.Channel"], Conv::Copy),
    m(
        "Provider_Name",
        &[
            "Event.System.Provider.#attributes.Name",
            "Event.System.Provider_attributes.Name",
        ],
        Conv::Copy,
    ),
    m("Computer", &["Event.System.Computer"], Conv::Copy),
    m("EventRecordID", &["Event.System.EventRecordID"], Conv::Copy),
    // ECS.
    m(
        "event.code",
        &["EventID", "event_id", "eventid"],
        Conv::Text,
    ),
    m(
        "host.name",
        &["host", "hostname", "host_name", "Computer"],
        Conv::Text,
    ),
    m(
        "source.ip",
        &[
            "src_ip",
            "SourceIp",
            "src",
            "client_ip",
            "id.orig_h",
            "SourceAddress",
            "IpAddress",
            "srcip",
            "src_addr",
        ],
        Conv::Ip,
    ),
    m(
        "source.port",
        &[
            "src_port",
            "SourcePort",
            "id.orig_p",
            "srcport",
            "sport",
            "client_port",
            "IpPort",
        ],
        Conv::Int,
    ),
    m(
        "destination.ip",
        &[
            "dst_ip",
            "DestinationIp",
            "dst",
            "dest_ip",
            "id.resp_h",
            "DestAddress",
            "dstip",
            "dst_addr",
        ],
        Conv::Ip,
    ),
    m(
        "destination.port",
        &[
            "dst_port",
            "DestinationPort",
            "id.resp_p",
            "dest_port",
            "dstport",
            "dport",
        ],
        Conv::Int,
    ),
    m(
        "user.name",
        &[
            "User",
            "TargetUserName",
            "SubjectUserName",
            "user",
            "username",
            "user_name",
        ],
        Conv::UserName,
    ),
    m(
        "process.command_line",
        &["CommandLine", "command_line", "cmdline"],
        Conv::Copy,
    ),
    m(
        "process.executable",
        &["Image", "exe", "executable"],
        Conv::Copy,
    ),
    m("process.name", &["process.executable"], Conv::Basename),
    m("process.pid", &["ProcessId", "pid"], Conv::Int),
    m("process.parent.executable", &["ParentImage"], Conv::Copy),
    m(
        "process.parent.command_line",
        &["ParentCommandLine"],
        Conv::Copy,
    ),
    m(
        "process.parent.pid",
        &["ParentProcessId", "ppid"],
        Conv::Int,
    ),
    m("url.full", &["url", "URL"], Conv::AbsoluteUrl),
    m("url.full", &["uri", "request_uri"], Conv::AbsoluteUrl),
    m("dns.question.name", &["QueryName", "query"], Conv::Text),
    m(
        "file.path",
        &["TargetFilename", "file_path", "filepath"],
        Conv::Copy,
    ),
    m("file.name", &["file.path"], Conv::Basename),
    m("file.hash.md5", &["md5", "MD5"], Conv::Lower),
    m("file.hash.sha1", &["sha1", "SHA1"], Conv::Lower),
    m("file.hash.sha256", &["sha256", "SHA256"], Conv::Lower),
    m("file.hash", &["Hashes"], Conv::Hashes),
    m("message", &["msg", "Message", "log"], Conv::Copy),
    m("log.level", &["level", "log_level", "loglevel"], Conv::Text),
];

/// Names the event time is read from, in order; the first that parses wins.
pub(crate) const TIME_SOURCES: &[&str] = &[
    "@timestamp",
    "timestamp",
    "time",
    "EventTime",
    "Event.System.TimeCreated.#attributes.SystemTime",
    "Event.System.TimeCreated_attributes.SystemTime",
    "UtcTime",
    "ts",
];

/// `event.category` for Windows events, by provider and event id.
const WINDOWS_CATEGORIES: &[(&str, &[(i64, &str)])] = &[
    (
        "Microsoft-Windows-Sysmon",
        &[
            (1, "process"),
            (2, "file"),
            (3, "network"),
            (5, "process"),
            (6, "driver"),
            (7, "library"),
            (8, "process"),
            (10, "process"),
            (11, "file"),
            (12, "registry"),
            (13, "registry"),
            (14, "registry"),
            (15, "file"),
            (22, "network"),
            (23, "file"),
            (26, "file"),
        ],
    ),
    (
        "Microsoft-Windows-Security-Auditing",
        &[
            (4624, "authentication"),
            (4625, "authentication"),
            (4634, "authentication"),
            (4648, "authentication"),
            (4688, "process"),
            (4689, "process"),
            (4720, "iam"),
            (4726, "iam"),
            (4732, "iam"),
            (4768, "authentication"),
            (4769, "authentication"),
            (4771, "authentication"),
            (4776, "authentication"),
            (5156, "network"),
        ],
    ),
];

/// A table row with slots (see [`Resolved`]).
#[derive(Debug)]
struct Row {
    target: FieldId,
    sources: Vec<Slot>,
    conv: Conv,
}

/// Index of a table name in [`Fields`]' presence array.
type Slot = u16;

/// No value yet.
const ABSENT: u32 = u32::MAX;

/// The table resolved against one registry. Every name the table mentions
/// gets a dense slot, so "is this field set" is an array lookup per event
/// instead of a search.
#[derive(Debug)]
pub(crate) struct Resolved {
    rows: Vec<Row>,
    slots: FxHashMap<FieldId, Slot>,
    time_sources: Vec<Slot>,
    provider: Option<Slot>,
    event_id: Option<Slot>,
    imphash: Option<FieldId>,
}

impl Resolved {
    pub(crate) fn new(names: &mut Interner<'_>) -> Self {
        let mut slots: FxHashMap<FieldId, Slot> = FxHashMap::default();
        let mut slot = |names: &mut Interner<'_>, name: &str| -> Option<(FieldId, Slot)> {
            let id = names.intern(name)?;
            let next = Slot::try_from(slots.len()).ok()?;
            Some((id, *slots.entry(id).or_insert(next)))
        };
        let mut rows = Vec::with_capacity(MAPPINGS.len());
        for m in MAPPINGS {
            let Some((target, _)) = slot(names, m.target) else {
                continue;
            };
            let sources = m
                .sources
                .iter()
                .filter_map(|s| slot(names, s).map(|(_, s)| s))
                .collect();
            rows.push(Row {
                target,
                sources,
                conv: m.conv,
            });
        }
        let time_sources = TIME_SOURCES
            .iter()
            .filter_map(|s| slot(names, s).map(|(_, s)| s))
            .collect();
        let provider = slot(names, "Provider_Name").map(|(_, s)| s);
        let event_id = slot(names, "EventID").map(|(_, s)| s);
        let imphash = slot(names, "file.pe.imphash").map(|(id, _)| id);
        for id in [
            FieldId::EVENT_KIND,
            FieldId::EVENT_CATEGORY,
            FieldId::TIMESTAMP,
            FieldId::USER_DOMAIN,
            FieldId::FILE_HASH_MD5,
            FieldId::FILE_HASH_SHA1,
            FieldId::FILE_HASH_SHA256,
            FieldId::FILE_HASH_SHA512,
        ] {
            if let Ok(next) = Slot::try_from(slots.len()) {
                slots.entry(id).or_insert(next);
            }
        }
        Self {
            rows,
            slots,
            time_sources,
            provider,
            event_id,
            imphash,
        }
    }

    fn slot(&self, id: FieldId) -> Option<Slot> {
        self.slots.get(&id).copied()
    }
}

/// An event's fields during normalisation: the parsed ones sorted by id,
/// plus the ones normalisation adds, with the first position of every table
/// name.
#[derive(Debug)]
pub(crate) struct Fields<'t> {
    table: &'t Resolved,
    base: Vec<(FieldId, Value)>,
    extra: Vec<(FieldId, Value)>,
    /// Per slot: index of the first value (`base` then `extra`), or ABSENT.
    first: Vec<u32>,
}

impl<'t> Fields<'t> {
    /// Takes the parsed fields (any order; order within a field is kept).
    pub(crate) fn new(table: &'t Resolved, mut base: Vec<(FieldId, Value)>) -> Self {
        base.sort_by_key(|(f, _)| *f);
        let mut first = vec![ABSENT; table.slots.len()];
        let mut prev = None;
        for (i, (id, _)) in base.iter().enumerate() {
            if prev != Some(*id) {
                prev = Some(*id);
                if let Some(s) = table.slot(*id) {
                    first[usize::from(s)] = i as u32;
                }
            }
        }
        Self {
            table,
            base,
            extra: Vec::with_capacity(24),
            first,
        }
    }

    fn slot_first(&self, s: Slot) -> Option<u32> {
        self.first
            .get(usize::from(s))
            .copied()
            .filter(|i| *i != ABSENT)
    }

    fn value_at(&self, i: usize) -> Option<&(FieldId, Value)> {
        match i.checked_sub(self.base.len()) {
            None => self.base.get(i),
            Some(j) => self.extra.get(j),
        }
    }

    /// True if the parsed record or an earlier rule set `id`.
    pub(crate) fn has(&self, id: FieldId) -> bool {
        match self.table.slot(id) {
            Some(s) => self.slot_first(s).is_some(),
            None => {
                self.base.binary_search_by_key(&id, |(f, _)| *f).is_ok()
                    || self.extra.iter().any(|(f, _)| *f == id)
            }
        }
    }

    fn first_of_slot(&self, s: Slot) -> Option<&Value> {
        self.slot_first(s)
            .and_then(|i| self.value_at(i as usize))
            .map(|(_, v)| v)
    }

    /// Adds a value (the caller checked absence where it matters).
    fn push(&mut self, id: FieldId, v: Value) {
        if let Some(s) = self.table.slot(id)
            && let Some(f) = self.first.get_mut(usize::from(s))
            && *f == ABSENT
        {
            *f = (self.base.len() + self.extra.len()) as u32;
        }
        self.extra.push((id, v));
    }

    /// Adds a value unless the field is already set.
    pub(crate) fn add_if_absent(&mut self, id: FieldId, v: Value) {
        if !self.has(id) {
            self.push(id, v);
        }
    }

    /// Adds aliases (several values per field allowed) for fields the record
    /// did not set itself.
    pub(crate) fn add_aliases(&mut self, aliases: &mut Vec<(FieldId, Value)>) {
        for (id, v) in aliases.drain(..) {
            if self.base.binary_search_by_key(&id, |(f, _)| *f).is_err() {
                self.push(id, v);
            }
        }
    }

    /// Clones of the values of the field in slot `s` (one for scalars).
    fn values_of_slot(&self, s: Slot) -> Vec<Value> {
        let Some(start) = self.slot_first(s).map(|i| i as usize) else {
            return Vec::new();
        };
        let clone = |(_, v): &(FieldId, Value)| v.clone();
        match start.checked_sub(self.base.len()) {
            None => {
                let id = self.base[start].0;
                self.base[start..]
                    .iter()
                    .take_while(|(f, _)| *f == id)
                    .map(clone)
                    .collect()
            }
            Some(j) => {
                let Some((id, _)) = self.extra.get(j) else {
                    return Vec::new();
                };
                self.extra[j..]
                    .iter()
                    .filter(|(f, _)| f == id)
                    .map(clone)
                    .collect()
            }
        }
    }

    /// The first value of `id` (tests).
    #[cfg(test)]
    pub(crate) fn first(&self, id: FieldId) -> Option<&Value> {
        let i = self.base.partition_point(|(f, _)| *f < id);
        match self.base.get(i) {
            Some((f, v)) if *f == id => Some(v),
            _ => self.extra.iter().find(|(f, _)| *f == id).map(|(_, v)| v),
        }
    }

    /// Moves everything into the builder.
    pub(crate) fn into_builder(self, b: &mut EventBuilder) {
        b.extend_fields(self.base);
        b.extend_fields(self.extra);
    }
}

/// Applies the mapping table (JSON records).
pub(crate) fn apply_table(fields: &mut Fields<'_>) {
    let table = fields.table;
    for row in &table.rows {
        if row.conv != Conv::Hashes && fields.has(row.target) {
            continue;
        }
        // The first source that yields a usable value wins (`src_ip: "-"`
        // falls through to the next candidate).
        for src in row.sources.iter().copied() {
            if fields.slot_first(src).is_some() && apply_row(table, row, src, fields) {
                break;
            }
        }
    }
    windows_category(table, fields);
}

/// Applies one row from one source; true if something was added.
fn apply_row(r: &Resolved, row: &Row, src: Slot, fields: &mut Fields<'_>) -> bool {
    let values = fields.values_of_slot(src);
    let mut added = false;
    for v in values {
        match row.conv {
            Conv::Hashes => {
                if let Value::Str(s) = &v {
                    added |= sysmon_hashes(s, r.imphash, fields);
                }
            }
            Conv::UserName => {
                if !added {
                    added = push_user_name(fields, row.target, &v.to_text());
                }
            }
            conv => {
                if let Some(out) = convert(conv, v) {
                    fields.push(row.target, out);
                    added = true;
                }
            }
        }
    }
    added
}

/// `DOMAIN\user` → `user` into `target`, and `user.domain` = `DOMAIN`
/// when absent; true if something was added (blank and `-` are skipped).
fn push_user_name(fields: &mut Fields<'_>, target: FieldId, text: &str) -> bool {
    let text = text.trim();
    if text.is_empty() || text == "-" {
        return false;
    }
    match text.split_once('\\') {
        Some((domain, user)) if !user.is_empty() => {
            fields.push(target, Value::from(user));
            if !domain.is_empty() {
                fields.add_if_absent(FieldId::USER_DOMAIN, Value::from(domain));
            }
        }
        _ => fields.push(target, Value::from(text)),
    }
    true
}

/// Fills `target` from one source value through `conv` unless it is already
/// set (the CEF and LEEF key tables); true if something was added.
pub(crate) fn map_value(fields: &mut Fields<'_>, target: FieldId, conv: Conv, v: Value) -> bool {
    if fields.has(target) {
        return false;
    }
    match conv {
        Conv::UserName => push_user_name(fields, target, &v.to_text()),
        Conv::Hashes => match &v {
            Value::Str(s) => sysmon_hashes(s, fields.table.imphash, fields),
            _ => false,
        },
        conv => match convert(conv, v) {
            Some(out) => {
                fields.push(target, out);
                true
            }
            None => false,
        },
    }
}

/// One value through a simple conversion.
fn convert(conv: Conv, v: Value) -> Option<Value> {
    match conv {
        Conv::Copy => Some(v),
        Conv::Text => match v {
            Value::Null => None,
            Value::Str(s) if s.trim().is_empty() => None,
            Value::Str(s) => Some(Value::Str(s)),
            other => Some(Value::from(other.to_text().into_owned())),
        },
        Conv::Int => match v {
            Value::Int(i) => Some(Value::Int(i)),
            other => other.as_i64().map(Value::Int),
        },
        Conv::Ip => {
            let s = v.as_str()?.trim();
            let bare = s
                .strip_prefix('[')
                .and_then(|x| x.strip_suffix(']'))
                .unwrap_or(s);
            bare.parse::<std::net::IpAddr>()
                .ok()
                .map(|_| Value::from(bare))
        }
        Conv::Basename => {
            let s = v.as_str()?;
            let base = s.rsplit(['\\', '/']).next().unwrap_or(s);
            (!base.is_empty()).then(|| Value::from(base))
        }
        Conv::AbsoluteUrl => {
            let s = v.as_str()?;
            let (scheme, rest) = s.split_once("://")?;
            let ok = !scheme.is_empty()
                && !rest.is_empty()
                && scheme
                    .bytes()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, b'+' | b'-' | b'.'));
            ok.then_some(v)
        }
        Conv::Lower => {
            let s = v.as_str()?.trim();
            (!s.is_empty()).then(|| Value::from(s.to_ascii_lowercase()))
        }
        Conv::UserName | Conv::Hashes => None,
    }
}

/// Splits Sysmon's `Hashes` into ECS hash fields.
fn sysmon_hashes(s: &str, imphash: Option<FieldId>, fields: &mut Fields<'_>) -> bool {
    let mut added = false;
    for part in s.split(',') {
        let Some((algo, hex)) = part.split_once('=') else {
            continue;
        };
        let hex = hex.trim();
        if hex.is_empty() {
            continue;
        }
        let target = match algo.trim().to_ascii_uppercase().as_str() {
            "MD5" => Some(FieldId::FILE_HASH_MD5),
            "SHA1" => Some(FieldId::FILE_HASH_SHA1),
            "SHA256" => Some(FieldId::FILE_HASH_SHA256),
            "SHA512" => Some(FieldId::FILE_HASH_SHA512),
            "IMPHASH" => imphash,
            _ => None,
        };
        if let Some(t) = target
            && !fields.has(t)
        {
            fields
                .extra
                .push((t, Value::from(hex.to_ascii_lowercase())));
            added = true;
        }
    }
    added
}

fn windows_category(r: &Resolved, fields: &mut Fields<'_>) {
    let (Some(p), Some(e)) = (r.provider, r.event_id) else {
        return;
    };
    if fields.has(FieldId::EVENT_CATEGORY) {
        return;
    }
    let Some(Value::Str(provider)) = fields.first_of_slot(p) else {
        return;
    };
    let Some(id) = fields.first_of_slot(e).and_then(Value::as_i64) else {
        return;
    };
    let category = WINDOWS_CATEGORIES
        .iter()
        .find(|(name, _)| **name == **provider)
        .and_then(|(_, ids)| ids.iter().find(|(i, _)| *i == id))
        .map(|(_, c)| *c);
    if let Some(c) = category {
        fields.add_if_absent(FieldId::EVENT_CATEGORY, Value::from(c));
    }
}

/// The event time from the first time source that parses.
pub(crate) fn event_time(fields: &Fields<'_>) -> Option<Timestamp> {
    fields
        .table
        .time_sources
        .iter()
        .find_map(|s| fields.first_of_slot(*s).and_then(time::from_value))
}

/// Fills `event.kind` and `@timestamp` (the event time, else the receive
/// time) and sets the builder's time.
pub(crate) fn finish(
    fields: &mut Fields<'_>,
    time: Option<Timestamp>,
    received_at: Timestamp,
    b: &mut EventBuilder,
) {
    fields.add_if_absent(FieldId::EVENT_KIND, Value::from("event"));
    if !fields.has(FieldId::TIMESTAMP) {
        fields.push(
            FieldId::TIMESTAMP,
            Value::from(time.unwrap_or(received_at).to_rfc3339()),
        );
    }
    if let Some(t) = time {
        b.set_time(t);
    }
}

#[cfg(test)]
mod tests {
    use vigil_model::FieldRegistry;

    use super::*;

    fn check(pairs: &[(&str, Value)], want: &[(&str, Option<Value>)]) {
        let reg = FieldRegistry::new();
        let mut names = Interner::new(&reg);
        let r = Resolved::new(&mut names);
        let base = pairs
            .iter()
            .map(|(n, v)| (names.intern(n).unwrap(), v.clone()))
            .collect();
        let mut f = Fields::new(&r, base);
        apply_table(&mut f);
        for (name, expect) in want {
            let id = names.intern(name).unwrap();
            assert_eq!(f.first(id), expect.as_ref(), "{name}");
        }
    }

    fn s(x: &str) -> Value {
        Value::from(x)
    }

    #[test]
    fn sysmon_process_creation() {
        check(
            &[
                ("EventID", Value::Int(1)),
                ("Provider_Name", s("Microsoft-Windows-Sysmon")),
                ("Image", s("C:\\Windows\\System32\\cmd.exe")),
                ("CommandLine", s("cmd /c whoami")),
                ("ProcessId", Value::Int(42)),
                ("ParentImage", s("C:\\x\\explorer.exe")),
                ("User", s("CORP\\alice")),
                ("Hashes", s("SHA1=AB,MD5=CD,SHA256=EF,IMPHASH=12")),
            ],
            &[
                ("event.code", Some(s("1"))),
                ("event.category", Some(s("process"))),
                (
                    "process.executable",
                    Some(s("C:\\Windows\\System32\\cmd.exe")),
                ),
                ("process.name", Some(s("cmd.exe"))),
                ("process.command_line", Some(s("cmd /c whoami"))),
                ("process.pid", Some(Value::Int(42))),
                ("process.parent.executable", Some(s("C:\\x\\explorer.exe"))),
                ("user.name", Some(s("alice"))),
                ("user.domain", Some(s("CORP"))),
                ("file.hash.sha1", Some(s("ab"))),
                ("file.hash.md5", Some(s("cd"))),
                ("file.hash.sha256", Some(s("ef"))),
                ("file.pe.imphash", Some(s("12"))),
            ],
        );
    }

    #[test]
    fn never_overwrites_and_validates() {
        check(
            &[
                ("process.command_line", s("original")),
                ("CommandLine", s("other")),
                ("src_ip", s("-")),
                ("SourceIp", s("10.0.0.1")),
                ("id.resp_h", s("fe80::1")),
                ("id.resp_p", s("443")),
                ("uri", s("/index.html")),
                ("host", s("web1")),
                ("TargetFilename", s("/tmp/x.sh")),
            ],
            &[
                ("process.command_line", Some(s("original"))),
                ("source.ip", Some(s("10.0.0.1"))),
                ("destination.ip", Some(s("fe80::1"))),
                ("destination.port", Some(Value::Int(443))),
                ("url.full", None),
                ("host.name", Some(s("web1"))),
                ("file.name", Some(s("x.sh"))),
            ],
        );
        check(
            &[("uri", s("https://e.com/a"))],
            &[("url.full", Some(s("https://e.com/a")))],
        );
        check(&[("url", s("javascript:alert(1)"))], &[("url.full", None)]);
    }

    #[test]
    fn aliases_for_windows_paths() {
        assert_eq!(
            plain_alias("Event.EventData.CommandLine"),
            Some("CommandLine")
        );
        assert_eq!(
            plain_alias("Event.UserData.LogFileCleared.SubjectUserName"),
            Some("SubjectUserName")
        );
        assert_eq!(plain_alias("Event.System.EventID"), None);
        assert_eq!(plain_alias("EventData.X"), None);
        assert_eq!(plain_alias("Event.EventData."), None);
    }
}
