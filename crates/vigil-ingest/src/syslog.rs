//! Syslog records: RFC 5424 and RFC 3164 lines through `syslog_loose`, with
//! Vigil's choices on top.
//!
//! - **Year of RFC 3164 dates** (`Jun 14 15:16:01` has none): the year of
//!   the receive time, or the year before when that date would lie more than
//!   one day after the receive time (a December line received in January).
//!   Re-parsing with the stored receive time gives the same answer.
//! - **Zone**: a timestamp without an offset is UTC; offsets in the line
//!   (RFC 5424, RFC 3339 inside RFC 3164) are honoured.
//! - **Lines that are not syslog** (no timestamp where a header should be) are
//!   kept as message-only events: `message` = the line and
//!   `tags` = `syslog_unparsed`. Only empty or non-UTF-8 records are errors.
//! - A UTF-8 BOM at the start of the RFC 5424 MSG is dropped.
//! - **CEF and LEEF bodies**: a MSG starting with `CEF:` or `LEEF:` (also
//!   when an RFC 3164 parser took `CEF` for the tag, as in `host CEF:0|…`)
//!   is parsed into the `cef.*` / `leef.*` fields and their ECS mapping, on
//!   top of the header fields, which win where both set a field (a header
//!   `host.name` stays). `message` comes from the payload (`msg`, else the
//!   CEF name or the whole LEEF payload). The payload's device time (`rt`, `devTime`) wins over the
//!   header time: it carries a year and usually milliseconds. A malformed
//!   payload makes the record an error with the CEF/LEEF reason. A bare
//!   `CEF:`/`LEEF:` record without any syslog header (some senders omit
//!   it) is parsed the same way instead of being kept as unparsed text.
//!
//! Fields: `log.syslog.facility.code`/`.name`, `log.syslog.severity.code`/
//! `.name`, `log.syslog.version` (RFC 5424), `host.name`, `log.syslog.appname`
//! and `process.name`, `process.pid` (numeric PROCID) or `log.syslog.procid`,
//! `log.syslog.msgid`, `log.syslog.structured_data.<id>.<param>`, `message`,
//! `@timestamp`, `event.kind`.

use chrono::{Datelike, TimeZone, Utc};
use syslog_loose::{IncompleteDate, ProcId, Protocol, Variant};
use vigil_model::{Event, EventBuilder, EventFormat, FieldId, Timestamp, Value};

use crate::ParseOptions;
use crate::context::Ctx;
use crate::ecs::{self, Fields};
use crate::kv::Payload;

/// Tag on records kept as message-only events.
pub const UNPARSED_TAG: &str = "syslog_unparsed";

const DAY_MICROS: i64 = 86_400_000_000;

/// The year for an RFC 3164 date without one (see the module docs).
fn resolve_year(received: Timestamp, (mon, day, h, mi, s): IncompleteDate) -> i32 {
    let year = received.to_datetime().map_or(1970, |d| d.year());
    let at = |y: i32| {
        Utc.with_ymd_and_hms(y, mon, day, h, mi, s)
            .single()
            .map(Timestamp::from)
    };
    match at(year) {
        Some(t) if t.as_micros() > received.as_micros().saturating_add(DAY_MICROS) => year - 1,
        Some(_) => year,
        // 29 February outside a leap year: the nearest earlier leap year's
        // date is wrong too, so let the parser reject it.
        None => year,
    }
}

/// Parses one syslog line (the caller checked the size).
pub(crate) fn parse(line: &[u8], ctx: &mut Ctx<'_>, opts: &ParseOptions) -> Result<Event, String> {
    let text = std::str::from_utf8(line)
        .map_err(|e| format!("invalid UTF-8 at byte {}", e.valid_up_to()))?;
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    if text.trim().is_empty() {
        return Err("empty syslog record".into());
    }
    let received = opts.received_at;
    let get_year = move |d: IncompleteDate| resolve_year(received, d);
    let mut fields: Vec<(FieldId, Value)> = Vec::with_capacity(16);
    let mut time = None;
    let mut payload = None;
    let parsed =
        syslog_loose::parse_message_with_year_exact_tz(text, get_year, Some(Utc), Variant::Either)
            // The parser is lenient: without a PRI and a timestamp it has only
            // guessed a header out of free text.
            .ok()
            .filter(|m| m.facility.is_some() || m.timestamp.is_some());
    match parsed {
        Some(msg) => {
            let body = msg.msg.strip_prefix('\u{feff}').unwrap_or(msg.msg);
            let tagged = matches!(msg.appname, Some("CEF" | "LEEF")) && msg.procid.is_none();
            payload = match embedded(text, body, tagged.then_some(msg.appname).flatten()) {
                Some(Ok(p)) => Some(p),
                Some(Err(reason)) => return Err(reason),
                None => None,
            };
            let tagged = tagged && payload.is_some();
            if let Some(f) = msg.facility {
                fields.push((FieldId::LOG_SYSLOG_FACILITY_CODE, Value::Int(f as i64)));
                push_named(ctx, &mut fields, "log.syslog.facility.name", f.as_str());
            }
            if let Some(s) = msg.severity {
                fields.push((FieldId::LOG_SYSLOG_SEVERITY_CODE, Value::Int(s as i64)));
                push_named(ctx, &mut fields, "log.syslog.severity.name", s.as_str());
            }
            if let Protocol::RFC5424(v) = msg.protocol {
                fields.push((FieldId::LOG_SYSLOG_VERSION, Value::Int(i64::from(v))));
            }
            if let Some(h) = msg.hostname.filter(|h| !h.is_empty()) {
                fields.push((FieldId::HOST_NAME, Value::from(h)));
            }
            if let Some(app) = msg.appname.filter(|a| !a.is_empty() && !tagged) {
                fields.push((FieldId::LOG_SYSLOG_APPNAME, Value::from(app)));
                fields.push((FieldId::PROCESS_NAME, Value::from(app)));
            }
            match msg.procid {
                Some(ProcId::PID(pid)) => {
                    fields.push((FieldId::PROCESS_PID, Value::Int(i64::from(pid))))
                }
                Some(ProcId::Name(name)) if !name.is_empty() => {
                    push_named(ctx, &mut fields, "log.syslog.procid", name);
                }
                _ => {}
            }
            if let Some(id) = msg.msgid.filter(|m| !m.is_empty()) {
                fields.push((FieldId::LOG_SYSLOG_MSGID, Value::from(id)));
            }
            for element in &msg.structured_data {
                for (param, value) in element.params() {
                    ctx.path.clear();
                    ctx.path.push_str("log.syslog.structured_data.");
                    ctx.path.push_str(element.id);
                    ctx.path.push('.');
                    ctx.path.push_str(param);
                    if let Some(id) = ctx.names.intern(&ctx.path) {
                        fields.push((id, Value::from(value)));
                    }
                }
            }
            if let Some(p) = &payload {
                p.push_fields(&mut ctx.names, &mut fields);
            } else if !body.is_empty() {
                fields.push((FieldId::MESSAGE, Value::from(body)));
            }
            time = msg.timestamp.map(|t| Timestamp::from(t.to_utc()));
        }
        None => match Payload::detect(text.trim()) {
            // A bare CEF/LEEF record sent without a syslog header.
            Some(Ok(p)) => {
                p.push_fields(&mut ctx.names, &mut fields);
                payload = Some(p);
            }
            Some(Err(reason)) => return Err(reason),
            None => {
                fields.push((FieldId::MESSAGE, Value::from(text.trim_end())));
                push_named(ctx, &mut fields, "tags", UNPARSED_TAG);
            }
        },
    }
    let mut fields = Fields::new(&ctx.ecs, fields);
    if let Some(p) = &payload
        && let Some(t) = p.normalise(&mut ctx.names, &mut fields, opts.received_at)
    {
        time = Some(t);
    }
    let mut b = EventBuilder::new(
        opts.tenant,
        opts.received_at,
        &opts.source,
        EventFormat::Syslog,
        line,
    );
    ecs::finish(&mut fields, time, opts.received_at, &mut b);
    fields.into_builder(&mut b);
    Ok(b.build())
}

/// The CEF or LEEF payload of a syslog body. `tag` is `CEF`/`LEEF` when the
/// header parser took the format name for the tag (`host CEF:0|…`): the
/// payload then starts at that tag in `text`.
fn embedded<'a>(
    text: &'a str,
    body: &'a str,
    tag: Option<&str>,
) -> Option<Result<Payload<'a>, String>> {
    if let Some(tag) = tag {
        let offset = (body.as_ptr() as usize).checked_sub(text.as_ptr() as usize)?;
        let start = text.get(..offset)?.rfind(tag)?;
        return Payload::detect(text.get(start..)?);
    }
    Payload::detect(body.trim_start())
}

fn push_named(ctx: &mut Ctx<'_>, fields: &mut Vec<(FieldId, Value)>, name: &str, v: &str) {
    if let Some(id) = ctx.names.intern(name) {
        fields.push((id, Value::from(v)));
    }
}

#[cfg(test)]
mod tests {
    use vigil_model::{FieldRegistry, TenantId};

    use super::*;

    /// Received 2024-01-02T00:00:00Z.
    const RECEIVED: i64 = 1_704_153_600;

    /// Parses `line` and renders `name=value` lines sorted, or the error.
    fn render(line: &str) -> String {
        let reg = FieldRegistry::new();
        let mut ctx = Ctx::new(&reg);
        let opts = ParseOptions::new(TenantId::DEFAULT, "test", Timestamp::from_secs(RECEIVED));
        crate::test_util::render_event(parse(line.as_bytes(), &mut ctx, &opts), &reg, |_, _| true)
    }

    fn check(line: &str, expect: &str) {
        crate::test_util::check_lines(&render(line), expect, line);
    }

    #[test]
    fn rfc5424_with_sd_and_bom() {
        check(
            "<165>1 2003-10-11T22:14:15.003Z mymachine.example.com evntslog 8710 ID47 [exampleSDID@32473 iut=\"3\" eventSource=\"Application\"][meta x=\"a\\\"b\"] \u{feff}An application event",
            "
            @timestamp=2003-10-11T22:14:15.003000Z
            event.kind=event
            host.name=mymachine.example.com
            log.syslog.appname=evntslog
            log.syslog.facility.code=20
            log.syslog.facility.name=local4
            log.syslog.msgid=ID47
            log.syslog.severity.code=5
            log.syslog.severity.name=notice
            log.syslog.structured_data.exampleSDID@32473.eventSource=Application
            log.syslog.structured_data.exampleSDID@32473.iut=3
            log.syslog.structured_data.meta.x=a\"b
            log.syslog.version=1
            message=An application event
            process.name=evntslog
            process.pid=8710
            time=2003-10-11T22:14:15.003000Z
            ",
        );
    }

    #[test]
    fn rfc5424_nil_values_and_offset() {
        check(
            "<34>1 2024-05-01T12:00:00+02:00 - su - - - 'su root' failed",
            "
            @timestamp=2024-05-01T10:00:00.000000Z
            event.kind=event
            log.syslog.appname=su
            log.syslog.facility.code=4
            log.syslog.facility.name=auth
            log.syslog.severity.code=2
            log.syslog.severity.name=crit
            log.syslog.version=1
            message='su root' failed
            process.name=su
            time=2024-05-01T10:00:00.000000Z
            ",
        );
    }

    #[test]
    fn rfc3164_year_rollback() {
        // A December line received on 2 January belongs to the previous year.
        check(
            "<38>Dec 31 23:59:58 combo sshd[19939]: Accepted password for root",
            "
            @timestamp=2023-12-31T23:59:58.000000Z
            event.kind=event
            host.name=combo
            log.syslog.appname=sshd
            log.syslog.facility.code=4
            log.syslog.facility.name=auth
            log.syslog.severity.code=6
            log.syslog.severity.name=info
            message=Accepted password for root
            process.name=sshd
            process.pid=19939
            time=2023-12-31T23:59:58.000000Z
            ",
        );
        // Up to a day ahead is clock skew, not last year.
        assert!(render("Jan  2 12:00:00 h app: x").contains("time=2024-01-02T12:00:00.000000Z"));
    }

    #[test]
    fn loghub_linux_line() {
        check(
            "Jun 14 15:16:01 combo sshd(pam_unix)[19939]: authentication failure; rhost=218.188.2.4 ",
            "
            @timestamp=2023-06-14T15:16:01.000000Z
            event.kind=event
            host.name=combo
            log.syslog.appname=sshd(pam_unix)
            message=authentication failure; rhost=218.188.2.4
            process.name=sshd(pam_unix)
            process.pid=19939
            time=2023-06-14T15:16:01.000000Z
            ",
        );
    }

    #[test]
    fn cef_in_rfc3164_tag_position() {
        // The header parser reads `CEF` as the tag: the payload is rebuilt
        // from it and no `process.name=CEF` is made up.
        check(
            "<134>Feb 14 19:04:54 fw1 CEF:0|Vendor|Prod|1.2|42|Port scan|7|src=10.0.0.5 suser=eve msg=scan from a \\= b",
            r"
            @timestamp=2023-02-14T19:04:54.000000Z
            cef.device_product=Prod
            cef.device_vendor=Vendor
            cef.device_version=1.2
            cef.extensions.msg=scan from a = b
            cef.extensions.src=10.0.0.5
            cef.extensions.suser=eve
            cef.name=Port scan
            cef.severity=7
            cef.signature_id=42
            cef.version=0
            event.code=42
            event.kind=event
            event.severity=7
            host.name=fw1
            log.syslog.facility.code=16
            log.syslog.facility.name=local0
            log.syslog.severity.code=6
            log.syslog.severity.name=info
            message=scan from a = b
            observer.product=Prod
            observer.vendor=Vendor
            observer.version=1.2
            source.ip=10.0.0.5
            time=2023-02-14T19:04:54.000000Z
            user.name=eve
            ",
        );
    }

    #[test]
    fn leef_in_rfc5424_with_device_time_and_bad_payload() {
        let got = render(
            "<13>1 2024-05-01T12:00:00Z gw qradar 77 - - LEEF:2.0|Lancope|StealthWatch|1.0|41|^|src=10.0.1.8^dst=10.0.0.5^devTime=May 01 2024 11:59:58",
        );
        for want in [
            "host.name=gw",
            "process.name=qradar",
            "process.pid=77",
            "leef.attributes.src=10.0.1.8",
            "source.ip=10.0.1.8",
            "destination.ip=10.0.0.5",
            "time=2024-05-01T11:59:58.000000Z",
        ] {
            assert!(got.lines().any(|l| l == want), "missing {want}:\n{got}");
        }
        assert_eq!(
            render("<13>1 2024-05-01T12:00:00Z gw app - - - CEF:0|V|P|1|s"),
            "error: CEF header has 4 of 7 fields before the extension"
        );
        // No header at all: still CEF, not `syslog_unparsed`.
        let bare = render("CEF:0|V|P|1|s|n|3|src=10.1.2.3");
        assert!(bare.contains("source.ip=10.1.2.3"), "{bare}");
        assert!(!bare.contains(UNPARSED_TAG), "{bare}");
    }

    #[test]
    fn not_syslog_is_kept_as_message() {
        check(
            "- 1117838570 2005.06.03 R02-M1-N0 RAS KERNEL INFO cache parity error",
            "
            @timestamp=2024-01-02T00:00:00.000000Z
            event.kind=event
            message=- 1117838570 2005.06.03 R02-M1-N0 RAS KERNEL INFO cache parity error
            tags=syslog_unparsed
            time=-
            ",
        );
        assert_eq!(render("   "), "error: empty syslog record");
        let reg = FieldRegistry::new();
        let mut ctx = Ctx::new(&reg);
        let opts = ParseOptions::new(TenantId::DEFAULT, "t", Timestamp::from_secs(RECEIVED));
        assert_eq!(
            parse(b"<13>\xff\xfe", &mut ctx, &opts).unwrap_err(),
            "invalid UTF-8 at byte 4"
        );
    }
}
