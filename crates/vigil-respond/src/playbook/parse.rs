//! Playbook loading: YAML to [`Playbook`], then validation of everything
//! that can be checked before a run (ids, templates, expressions,
//! durations, destinations' form, roles), with the line of the offending
//! step in every error.

use std::collections::HashSet;

use vigil_model::Role;

use super::model::{Action, AuthSpec, NotifyChannel, Playbook, Step, Trigger};
use super::template::Templates;
use crate::clocks::Span;
use crate::error::Location;
use crate::{Error, Result};

/// Largest playbook file.
pub const MAX_BYTES: usize = 1 << 20;
/// Most steps in one playbook, nested ones included.
pub const MAX_STEPS: usize = 500;
/// Deepest nesting of `if` / `for_each` / approval branches.
pub const MAX_DEPTH: usize = 8;
/// Most retries of an HTTP step.
pub const MAX_RETRIES: u32 = 20;

/// Blocklist kinds a step may add to.
pub const BLOCKLIST_KINDS: [&str; 5] = ["ip", "cidr", "domain", "url", "hash"];

/// Parses and validates one playbook. `file` names it in errors.
pub fn parse(file: &str, text: &str) -> Result<Playbook> {
    let err = |location: Location, msg: String| Error::Playbook {
        file: file.to_string(),
        location,
        msg,
    };
    if text.len() > MAX_BYTES {
        return Err(err(
            Location::default(),
            format!(
                "file is {} bytes, more than the {MAX_BYTES}-byte limit",
                text.len()
            ),
        ));
    }
    let pb: Playbook = yaml_serde::from_str(text).map_err(|e| {
        let (mut line, mut column) = e
            .location()
            .map(|l| (l.line(), l.column()))
            .unwrap_or((0, 0));
        let msg = e.to_string();
        let msg = match msg.find(" at line ") {
            Some(i) => msg[..i].to_string(),
            None => msg,
        };
        // Errors raised inside a step name it (`step `x`: …`): point at the
        // step's own line rather than the start of the list.
        if let Some(rest) = msg.split("step `").nth(1)
            && let Some(id) = rest.split('`').next()
            && let Some(l) = step_line(text, id)
        {
            line = l;
            column = 0;
        }
        err(
            Location {
                line,
                column,
                path: String::new(),
            },
            msg,
        )
    })?;
    let mut v = Validator {
        text,
        templates: Templates::new(),
        ids: HashSet::new(),
        count: 0,
    };
    v.playbook(&pb)
        .map_err(|(path, step, msg)| err(v.locate(&path, step.as_deref()), msg))?;
    Ok(pb)
}

type Problem = (String, Option<String>, String);

struct Validator<'a> {
    text: &'a str,
    templates: Templates,
    ids: HashSet<String>,
    count: usize,
}

fn valid_id(s: &str) -> bool {
    let b = s.as_bytes();
    !b.is_empty()
        && b.len() <= 64
        && b[0].is_ascii_alphanumeric()
        && b.iter()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == b'-' || *c == b'_')
}

/// The 1-based line of `id: STEP` in a playbook's text.
fn step_line(text: &str, id: &str) -> Option<usize> {
    text.lines()
        .position(|l| {
            let t = l.trim_start().trim_start_matches("- ").trim_start();
            t.strip_prefix("id:")
                .map(|r| r.trim().trim_matches(['"', '\'']) == id)
                .unwrap_or(false)
        })
        .map(|l| l + 1)
}

impl Validator<'_> {
    /// The line of `id: STEP` (or of the top-level key the path starts
    /// with).
    fn locate(&self, path: &str, step: Option<&str>) -> Location {
        let line = match step {
            Some(id) => step_line(self.text, id).map(|l| l - 1),
            None => {
                let key = path.split(['.', '[']).next().unwrap_or("");
                self.text
                    .lines()
                    .position(|l| l.starts_with(&format!("{key}:")))
            }
        };
        Location {
            line: line.map_or(0, |l| l + 1),
            column: 0,
            path: path.to_string(),
        }
    }

    fn playbook(&mut self, pb: &Playbook) -> Result<(), Problem> {
        let top = |path: &str, msg: String| (path.to_string(), None, msg);
        if !valid_id(&pb.id) {
            return Err(top(
                "id",
                format!(
                    "playbook id {:?} must be 1–64 characters of a-z, 0-9, - and _",
                    pb.id
                ),
            ));
        }
        if pb.name.trim().is_empty() {
            return Err(top("name", "name is empty".into()));
        }
        if pb.concurrency == 0 {
            return Err(top("concurrency", "concurrency must be at least 1".into()));
        }
        self.roles(&pb.approvers).map_err(|m| top("approvers", m))?;
        self.trigger(&pb.trigger).map_err(|m| top("trigger", m))?;
        if pb.steps.is_empty() {
            return Err(top("steps", "a playbook needs at least one step".into()));
        }
        self.steps(&pb.steps, "steps", 1)
    }

    fn roles(&self, roles: &[Role]) -> Result<(), String> {
        match roles
            .iter()
            .find(|r| matches!(r, Role::Ingest | Role::Feed | Role::Viewer))
        {
            Some(r) => Err(format!("role {r} cannot approve; use analyst or admin")),
            None => Ok(()),
        }
    }

    fn expr(&self, e: &str) -> Result<(), String> {
        self.templates.check_expr(e).map_err(|e| e.to_string())
    }

    fn tmpl(&self, t: &str) -> Result<(), String> {
        self.templates.check_template(t).map_err(|e| e.to_string())
    }

    fn trigger(&self, t: &Trigger) -> Result<(), String> {
        let cond = match t {
            Trigger::Alert(a) => {
                for e in &a.entities {
                    const KNOWN: [&str; 8] = [
                        "host",
                        "user",
                        "source_ip",
                        "destination_ip",
                        "process",
                        "command_line",
                        "file_hash",
                        "domain",
                    ];
                    if !KNOWN.contains(&e.as_str()) {
                        return Err(format!("unknown entity {e:?}; one of {}", KNOWN.join(", ")));
                    }
                }
                a.condition.as_deref()
            }
            Trigger::Incident(i) => i.condition.as_deref(),
            Trigger::Sighting(s) => {
                if s.min_confidence > 100 {
                    return Err("min_confidence is 0–100".into());
                }
                s.condition.as_deref()
            }
            Trigger::Finding(f) => {
                for d in &f.decisions {
                    if ![
                        "defer",
                        "scheduled",
                        "out_of_cycle",
                        "out-of-cycle",
                        "immediate",
                    ]
                    .contains(&d.to_ascii_lowercase().as_str())
                    {
                        return Err(format!(
                            "unknown SSVC decision {d:?}; one of defer, scheduled, out_of_cycle, immediate"
                        ));
                    }
                }
                f.condition.as_deref()
            }
            Trigger::Schedule(s) => {
                super::cron::Cron::parse(&s.cron).map_err(|e| format!("cron: {e}"))?;
                None
            }
            Trigger::Manual(m) => {
                if let Some(bad) = m.inputs.iter().find(|i| !valid_id(i)) {
                    return Err(format!("input name {bad:?} must be a-z, 0-9, - and _"));
                }
                None
            }
        };
        match cond {
            Some(c) => self.expr(c).map_err(|e| format!("condition: {e}")),
            None => Ok(()),
        }
    }

    fn steps(&mut self, steps: &[Step], path: &str, depth: usize) -> Result<(), Problem> {
        if depth > MAX_DEPTH {
            return Err((
                path.into(),
                None,
                format!("steps nest deeper than {MAX_DEPTH} levels"),
            ));
        }
        for (i, s) in steps.iter().enumerate() {
            let p = format!("{path}[{i}]");
            self.count += 1;
            if self.count > MAX_STEPS {
                return Err((p, None, format!("more than {MAX_STEPS} steps")));
            }
            let at = |field: &str, msg: String| (format!("{p}.{field}"), Some(s.id.clone()), msg);
            if !valid_id(&s.id) {
                return Err((
                    format!("{p}.id"),
                    None,
                    format!(
                        "step id {:?} must be 1–64 characters of a-z, 0-9, - and _",
                        s.id
                    ),
                ));
            }
            if !self.ids.insert(s.id.clone()) {
                return Err(at("id", format!("step id {:?} is used twice", s.id)));
            }
            if let Some(w) = &s.when {
                self.expr(w).map_err(|m| at("when", m))?;
            }
            match &s.action {
                Action::If(spec) => {
                    self.expr(&spec.condition)
                        .map_err(|m| at("if.condition", m))?;
                    if spec.then.is_empty() && spec.otherwise.is_empty() {
                        return Err(at("if", "an `if` needs `then` or `else` steps".into()));
                    }
                    self.steps(&spec.then, &format!("{p}.if.then"), depth + 1)?;
                    self.steps(&spec.otherwise, &format!("{p}.if.else"), depth + 1)?;
                }
                Action::ForEach(spec) => {
                    self.expr(&spec.items)
                        .map_err(|m| at("for_each.items", m))?;
                    if !valid_id(&spec.var) || spec.var.contains('-') {
                        return Err(at(
                            "for_each.as",
                            format!("loop variable {:?} must be a-z, 0-9 and _", spec.var),
                        ));
                    }
                    if [
                        "alert", "incident", "sighting", "finding", "vars", "steps", "inputs",
                        "run", "playbook",
                    ]
                    .contains(&spec.var.as_str())
                    {
                        return Err(at(
                            "for_each.as",
                            format!("loop variable {:?} would hide the run context", spec.var),
                        ));
                    }
                    if spec.steps.is_empty() {
                        return Err(at("for_each.steps", "a for_each needs steps".into()));
                    }
                    self.steps(&spec.steps, &format!("{p}.for_each.steps"), depth + 1)?;
                }
                Action::Set(vars) => {
                    if vars.is_empty() {
                        return Err(at("set", "nothing to set".into()));
                    }
                    for (name, v) in vars {
                        if !valid_id(name) || name.contains('-') {
                            return Err(at(
                                "set",
                                format!("variable name {name:?} must be a-z, 0-9 and _"),
                            ));
                        }
                        self.templates
                            .check_json(v)
                            .map_err(|e| at(&format!("set.{name}"), e.to_string()))?;
                    }
                }
                Action::Enrich(e) => {
                    let given = [&e.intel, &e.asset, &e.attack];
                    if given.iter().all(|x| x.is_none()) {
                        return Err(at(
                            "enrich",
                            "give at least one of intel, asset, attack".into(),
                        ));
                    }
                    for (name, t) in ["intel", "asset", "attack"].iter().zip(given) {
                        if let Some(t) = t {
                            self.tmpl(t).map_err(|m| at(&format!("enrich.{name}"), m))?;
                        }
                    }
                }
                Action::CreateIncident(c) => {
                    if c.title.trim().is_empty() {
                        return Err(at("create_incident.title", "title is empty".into()));
                    }
                    for (f, t) in [
                        ("title", Some(&c.title)),
                        ("description", Some(&c.description)),
                        ("severity", c.severity.as_ref()),
                        ("category", c.category.as_ref()),
                    ] {
                        if let Some(t) = t {
                            self.tmpl(t)
                                .map_err(|m| at(&format!("create_incident.{f}"), m))?;
                        }
                    }
                }
                Action::UpdateIncident(u) => {
                    if let Some(st) = &u.status
                        && !st.contains("{{")
                    {
                        st.parse::<crate::incident::IncidentStatus>()
                            .map_err(|e| at("update_incident.status", e.to_string()))?;
                    }
                    for (f, t) in [
                        ("incident", &u.incident),
                        ("status", &u.status),
                        ("severity", &u.severity),
                        ("assignee", &u.assignee),
                    ] {
                        if let Some(t) = t {
                            self.tmpl(t)
                                .map_err(|m| at(&format!("update_incident.{f}"), m))?;
                        }
                    }
                }
                Action::AddTask(t) => {
                    self.tmpl(&t.title).map_err(|m| at("add_task.title", m))?;
                    self.tmpl(&t.description)
                        .map_err(|m| at("add_task.description", m))?;
                }
                Action::AddNote(n) => self.tmpl(&n.text).map_err(|m| at("add_note.text", m))?,
                Action::Blocklist(b) => {
                    if !BLOCKLIST_KINDS.contains(&b.kind.as_str()) {
                        return Err(at(
                            "blocklist.kind",
                            format!(
                                "unknown kind {:?}; one of {}",
                                b.kind,
                                BLOCKLIST_KINDS.join(", ")
                            ),
                        ));
                    }
                    Span::parse(&b.ttl).map_err(|e| at("blocklist.ttl", e.to_string()))?;
                    self.tmpl(&b.value).map_err(|m| at("blocklist.value", m))?;
                    self.tmpl(&b.reason)
                        .map_err(|m| at("blocklist.reason", m))?;
                    if b.reason.trim().is_empty() {
                        return Err(at(
                            "blocklist.reason",
                            "a blocklist entry needs a reason".into(),
                        ));
                    }
                }
                Action::Http(h) => {
                    self.url(&h.url).map_err(|m| at("http.url", m))?;
                    if !["GET", "POST", "PUT", "PATCH", "DELETE"]
                        .contains(&h.method.to_ascii_uppercase().as_str())
                    {
                        return Err(at(
                            "http.method",
                            format!(
                                "method {:?} is not one of GET, POST, PUT, PATCH, DELETE",
                                h.method
                            ),
                        ));
                    }
                    for (name, v) in &h.headers {
                        let lower = name.to_ascii_lowercase();
                        if [
                            "authorization",
                            "proxy-authorization",
                            "cookie",
                            "x-api-key",
                        ]
                        .contains(&lower.as_str())
                        {
                            return Err(at(
                                &format!("http.headers.{name}"),
                                format!(
                                    "credentials are never inline: use `auth: {{bearer: {{secret: NAME}}}}` instead of a {name} header"
                                ),
                            ));
                        }
                        if lower == "idempotency-key"
                            || lower == "content-length"
                            || lower == "host"
                        {
                            return Err(at(
                                &format!("http.headers.{name}"),
                                format!("the {name} header is set by Vigil"),
                            ));
                        }
                        self.tmpl(v)
                            .map_err(|m| at(&format!("http.headers.{name}"), m))?;
                    }
                    if let Some(b) = &h.body {
                        self.templates
                            .check_json(b)
                            .map_err(|e| at("http.body", e.to_string()))?;
                    }
                    match &h.auth {
                        Some(AuthSpec::Bearer { secret })
                        | Some(AuthSpec::Basic { secret, .. })
                            if secret.trim().is_empty() =>
                        {
                            return Err(at("http.auth", "secret name is empty".into()));
                        }
                        _ => {}
                    }
                    if let Some(hm) = &h.hmac
                        && (hm.secret.trim().is_empty() || hm.header.trim().is_empty())
                    {
                        return Err(at(
                            "http.hmac",
                            "hmac needs a secret name and a header".into(),
                        ));
                    }
                    Span::parse(&h.timeout).map_err(|e| at("http.timeout", e.to_string()))?;
                    Span::parse(&h.backoff).map_err(|e| at("http.backoff", e.to_string()))?;
                    if h.retries > MAX_RETRIES {
                        return Err(at("http.retries", format!("at most {MAX_RETRIES} retries")));
                    }
                }
                Action::Notify(n) => {
                    match n.channel {
                        NotifyChannel::Slack | NotifyChannel::Webhook => match &n.url {
                            Some(u) => self.url(u).map_err(|m| at("notify.url", m))?,
                            None => {
                                return Err(at(
                                    "notify.url",
                                    "a slack or webhook notification needs a url".into(),
                                ));
                            }
                        },
                        NotifyChannel::Email => {
                            if n.to.is_empty() {
                                return Err(at("notify.to", "an e-mail needs recipients".into()));
                            }
                            if let Some(bad) =
                                n.to.iter().find(|t| !t.contains("{{") && !t.contains('@'))
                            {
                                return Err(at(
                                    "notify.to",
                                    format!("{bad:?} is not an e-mail address"),
                                ));
                            }
                        }
                    }
                    self.tmpl(&n.text).map_err(|m| at("notify.text", m))?;
                    if let Some(s) = &n.subject {
                        self.tmpl(s).map_err(|m| at("notify.subject", m))?;
                    }
                }
                Action::Approval(a) => {
                    self.roles(&a.roles).map_err(|m| at("approval.roles", m))?;
                    Span::parse(&a.timeout).map_err(|e| at("approval.timeout", e.to_string()))?;
                    self.tmpl(&a.message)
                        .map_err(|m| at("approval.message", m))?;
                    self.steps(&a.on_deny, &format!("{p}.approval.on_deny"), depth + 1)?;
                    self.steps(
                        &a.on_timeout,
                        &format!("{p}.approval.on_timeout"),
                        depth + 1,
                    )?;
                }
            }
        }
        Ok(())
    }

    fn url(&self, u: &str) -> Result<(), String> {
        if u.contains("{{") || u.contains("{%") {
            // Checked again after rendering, by the egress guard.
            return self.tmpl(u);
        }
        let parsed = url::Url::parse(u).map_err(|e| format!("{u:?} is not a URL: {e}"))?;
        if !["http", "https"].contains(&parsed.scheme()) {
            return Err(format!("{u}: only http and https URLs"));
        }
        if !parsed.username().is_empty() || parsed.password().is_some() {
            return Err(format!(
                "{u}: credentials are never inline; use `auth` with a secret name"
            ));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = r#"
id: contain-ssh
name: Contain SSH brute force
trigger:
  alert:
    rules: ["builtin-ssh-*"]
    min_level: high
    entities: [source_ip]
steps:
  - id: case
    create_incident:
      title: "SSH brute force from {{ alert.entities.source_ip }}"
  - id: hook
    http:
      url: https://hooks.example.com/vigil
      body: { ip: "{{ alert.entities.source_ip }}" }
      hmac: { secret: hook-key }
  - id: ok
    approval:
      timeout: 4h
      on_timeout:
        - id: late-note
          add_note: { text: "nobody approved" }
  - id: block
    blocklist: { kind: ip, value: "{{ alert.entities.source_ip }}", ttl: 24h, reason: ssh brute force }
"#;

    fn check(text: &str) -> std::result::Result<Playbook, String> {
        parse("pb.yml", text).map_err(|e| e.to_string())
    }

    #[test]
    fn good_playbook_loads() {
        let pb = check(GOOD).unwrap();
        assert_eq!(pb.steps.len(), 4);
        assert_eq!(pb.concurrency, 10);
        assert_eq!(pb.approvers, vec![Role::Analyst, Role::Admin]);
        assert!(matches!(pb.trigger, Trigger::Alert(_)));
    }

    #[test]
    fn errors_name_file_line_and_reason() {
        // Unknown key in a step: line of that step's id.
        let bad = GOOD.replace(
            "  - id: block\n    blocklist:",
            "  - id: block\n    blocklst:",
        );
        let e = check(&bad).unwrap_err();
        assert!(e.starts_with("pb.yml: line "), "{e}");
        assert!(e.contains("unknown step key `blocklst`"), "{e}");
        // Template syntax error: the step's line and path.
        let bad = GOOD.replace(
            "{{ alert.entities.source_ip }}\"\n  - id: hook",
            "{{ alert.entities. }}\"\n  - id: hook",
        );
        let e = check(&bad).unwrap_err();
        assert!(
            e.contains("line 10 (steps[0].create_incident.title)"),
            "{e}"
        );
        // Two actions in one step.
        let bad = GOOD.replace(
            "  - id: case\n",
            "  - id: case\n    add_note: { text: x }\n",
        );
        assert!(check(&bad).unwrap_err().contains("exactly one action"));
        // Duplicate ids, nested included.
        let bad = GOOD.replace("id: late-note", "id: hook");
        assert!(check(&bad).unwrap_err().contains("used twice"));
    }

    #[test]
    fn inline_credentials_and_bad_values_are_refused() {
        let with_header = GOOD.replace(
            "      hmac: { secret: hook-key }",
            "      headers: { Authorization: \"Bearer abc\" }",
        );
        assert!(check(&with_header).unwrap_err().contains("never inline"));
        let with_userinfo =
            GOOD.replace("https://hooks.example.com", "https://u:p@hooks.example.com");
        assert!(check(&with_userinfo).unwrap_err().contains("never inline"));
        assert!(
            check(&GOOD.replace("ttl: 24h", "ttl: forever"))
                .unwrap_err()
                .contains("ttl")
        );
        assert!(
            check(&GOOD.replace("kind: ip", "kind: asn"))
                .unwrap_err()
                .contains("unknown kind")
        );
        assert!(
            check(&GOOD.replace("timeout: 4h", "timeout: 4h\n      roles: [viewer]"))
                .unwrap_err()
                .contains("cannot approve")
        );
        assert!(
            check(&GOOD.replace("url: https", "url: ftp"))
                .unwrap_err()
                .contains("http")
        );
        assert!(
            check(&GOOD.replace("entities: [source_ip]", "entities: [mac]"))
                .unwrap_err()
                .contains("unknown entity")
        );
        assert!(
            check(&GOOD.replace("id: contain-ssh", "id: Contain SSH"))
                .unwrap_err()
                .contains("playbook id")
        );
    }

    #[test]
    fn yaml_errors_carry_the_parser_location() {
        let e = parse("x.yml", "id: a\nname: b\ntrigger: {manual: {}}\nsteps: [\n").unwrap_err();
        match e {
            Error::Playbook { location, .. } => assert!(location.line >= 4, "{location:?}"),
            other => panic!("{other}"),
        }
        assert!(
            check("id: a\nname: b\ntrigger: {manual: {}}\nsteps: []\n")
                .unwrap_err()
                .contains("at least one step")
        );
        assert!(check("id: a\nname: b\ntrigger: {webhook: {}}\nsteps: []\n").is_err());
    }

    #[test]
    fn schedule_and_nesting() {
        let pb = "id: a\nname: b\ntrigger: {schedule: {cron: \"0 7 * * 1-5\"}}\nsteps:\n  - id: s\n    set: {x: 1}\n";
        check(pb).unwrap();
        assert!(
            check(&pb.replace("0 7 * * 1-5", "61 * * * *"))
                .unwrap_err()
                .contains("cron")
        );
        let mut deep = String::from("id: a\nname: b\ntrigger: {manual: {}}\nsteps:\n");
        let mut indent = String::from("  ");
        for i in 0..10 {
            deep.push_str(&format!("{indent}- id: s{i}\n{indent}  if:\n{indent}    condition: \"true\"\n{indent}    then:\n"));
            indent.push_str("      ");
        }
        deep.push_str(&format!("{indent}- id: leaf\n{indent}  set: {{x: 1}}\n"));
        assert!(check(&deep).unwrap_err().contains("deeper"));
    }

    #[test]
    fn arbitrary_text_never_panics() {
        use proptest::prelude::*;
        proptest!(ProptestConfig::with_cases(300), |(s in "\\PC{0,300}")| {
            let _ = parse("fuzz.yml", &s);
        });
        proptest!(ProptestConfig::with_cases(300), |(cut in 0usize..GOOD.len())| {
            let _ = parse("fuzz.yml", &GOOD[..cut]);
        });
    }
}
