//! Linux syslog authentication messages (sshd, sudo, PAM) parsed into
//! fields, so Sigma rules and correlations (SSH brute force) can group by
//! user and source address. Pure string work, no I/O.
//!
//! Fields added (ECS names): `user.name`, `source.ip`, `source.port`,
//! `event.outcome` (`success`/`failure`), `event.action`
//! (`ssh_login`, `ssh_invalid_user`, `sudo`, `pam_auth`), and for sudo
//! `user.target.name` and `process.command_line`.

use vigil_model::{Event, EventBuilder, FieldId, FieldRegistry, Value};

/// What an authentication message says.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct AuthInfo {
    /// `event.action`.
    pub action: &'static str,
    /// `event.outcome`: `success` or `failure`.
    pub outcome: Option<&'static str>,
    /// The (claimed) user.
    pub user: Option<String>,
    /// The remote address.
    pub source_ip: Option<String>,
    /// The remote port.
    pub source_port: Option<i64>,
    /// sudo: the user the command runs as.
    pub target_user: Option<String>,
    /// sudo: the command.
    pub command: Option<String>,
}

fn word_after<'a>(s: &'a str, key: &str) -> Option<&'a str> {
    let i = s.find(key)?;
    s[i + key.len()..].split_whitespace().next()
}

fn kv<'a>(s: &'a str, key: &str) -> Option<&'a str> {
    // `key=value` terminated by whitespace or `;`.
    let mut from = 0;
    while let Some(i) = s[from..].find(key) {
        let at = from + i;
        let before_ok = at == 0 || s[..at].ends_with([' ', ';', '\t']);
        let rest = &s[at + key.len()..];
        if before_ok && let Some(v) = rest.strip_prefix('=') {
            let end = v.find([' ', ';', '\t']).unwrap_or(v.len());
            return Some(v[..end].trim()).filter(|x| !x.is_empty());
        }
        from = at + key.len();
    }
    None
}

/// Parses an sshd, sudo or PAM message from `program`.
pub fn parse_auth_message(program: &str, msg: &str) -> Option<AuthInfo> {
    let msg = msg.trim();
    if msg.starts_with("pam_unix(") && msg.contains("authentication failure") {
        return Some(AuthInfo {
            action: "pam_auth",
            outcome: Some("failure"),
            user: kv(msg, "user").map(str::to_string),
            source_ip: kv(msg, "rhost").map(str::to_string),
            ..AuthInfo::default()
        });
    }
    match program {
        "sshd" => {
            let (outcome, rest) = if let Some(r) = msg.strip_prefix("Failed ") {
                ("failure", r)
            } else if let Some(r) = msg.strip_prefix("Accepted ") {
                ("success", r)
            } else if let Some(r) = msg.strip_prefix("Invalid user ") {
                let user = r.split(" from ").next().map(|u| u.trim().to_string());
                return Some(AuthInfo {
                    action: "ssh_invalid_user",
                    outcome: Some("failure"),
                    user: user.filter(|u| !u.is_empty()),
                    source_ip: word_after(r, " from ").map(str::to_string),
                    source_port: word_after(r, " port ").and_then(|p| p.parse().ok()),
                    ..AuthInfo::default()
                });
            } else {
                return None;
            };
            // `<method> for [invalid user ]<user> from <ip> port <port> ssh2`
            let after_for = rest.split_once(" for ")?.1;
            let after_for = after_for.strip_prefix("invalid user ").unwrap_or(after_for);
            let (user, tail) = after_for.rsplit_once(" from ")?;
            Some(AuthInfo {
                action: "ssh_login",
                outcome: Some(outcome),
                user: Some(user.trim().to_string()),
                source_ip: tail.split_whitespace().next().map(str::to_string),
                source_port: word_after(tail, "port ").and_then(|p| p.parse().ok()),
                ..AuthInfo::default()
            })
        }
        "sudo" => {
            // `bob : TTY=pts/0 ; PWD=/home/bob ; USER=root ; COMMAND=/bin/ls`
            // `bob : 3 incorrect password attempts ; TTY=… ; COMMAND=…`
            let (user, rest) = msg.split_once(" : ")?;
            let failed = rest.contains("incorrect password") || rest.contains("NOT in sudoers");
            let command = rest
                .find("COMMAND=")
                .map(|i| rest[i + 8..].trim().to_string());
            Some(AuthInfo {
                action: "sudo",
                outcome: Some(if failed { "failure" } else { "success" }),
                user: Some(user.trim().to_string()),
                target_user: kv(rest, "USER").map(str::to_string),
                command,
                ..AuthInfo::default()
            })
        }
        _ => None,
    }
}

/// Returns `event` with the fields of its sshd/sudo/PAM message added
/// (existing fields are kept; nothing is added when the message is not an
/// authentication message). Reads `log.syslog.appname` and `message`.
pub fn enrich_syslog_event(event: &Event, registry: &FieldRegistry) -> Event {
    let program = event
        .get_str(FieldId::LOG_SYSLOG_APPNAME)
        .unwrap_or_default();
    let Some(msg) = event.get_str(FieldId::MESSAGE) else {
        return event.clone();
    };
    let Some(info) = parse_auth_message(program, msg) else {
        return event.clone();
    };
    let mut b = EventBuilder::new(
        event.tenant,
        event.received_at,
        &event.source,
        event.format,
        event.raw.clone(),
    )
    .id(event.id);
    if let Some(t) = event.time {
        b.set_time(t);
    }
    if let Some(h) = &event.host {
        b.set_host(h);
    }
    b.extend_fields(event.fields().to_vec());
    let mut add = |name: &str, v: Value| {
        if let Some(id) = registry.intern(name) {
            b.push_if_absent(id, v);
        }
    };
    add("event.action", Value::from(info.action));
    if let Some(o) = info.outcome {
        add("event.outcome", Value::from(o));
    }
    if let Some(u) = info.user {
        add("user.name", Value::from(u));
    }
    if let Some(ip) = info.source_ip {
        add("source.ip", Value::from(ip));
    }
    if let Some(p) = info.source_port {
        add("source.port", Value::Int(p));
    }
    if let Some(t) = info.target_user {
        add("user.target.name", Value::from(t));
    }
    if let Some(c) = info.command {
        add("process.command_line", Value::from(c));
    }
    b.build()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(program: &str, msg: &str, expect: &str) {
        let got = match parse_auth_message(program, msg) {
            Some(i) => format!(
                "{} {} user={} ip={} port={} target={} cmd={}",
                i.action,
                i.outcome.unwrap_or("-"),
                i.user.as_deref().unwrap_or("-"),
                i.source_ip.as_deref().unwrap_or("-"),
                i.source_port.map(|p| p.to_string()).unwrap_or("-".into()),
                i.target_user.as_deref().unwrap_or("-"),
                i.command.as_deref().unwrap_or("-"),
            ),
            None => "none".into(),
        };
        assert_eq!(got, expect, "{program}: {msg}");
    }

    #[test]
    fn sshd_and_sudo() {
        check(
            "sshd",
            "Failed password for root from 10.0.0.5 port 52144 ssh2",
            "ssh_login failure user=root ip=10.0.0.5 port=52144 target=- cmd=-",
        );
        check(
            "sshd",
            "Failed password for invalid user admin from 2001:db8::1 port 22 ssh2",
            "ssh_login failure user=admin ip=2001:db8::1 port=22 target=- cmd=-",
        );
        check(
            "sshd",
            "Accepted publickey for bob from 192.168.1.9 port 40000 ssh2: RSA SHA256:abc",
            "ssh_login success user=bob ip=192.168.1.9 port=40000 target=- cmd=-",
        );
        check(
            "sshd",
            "Invalid user oracle from 1.2.3.4 port 1111",
            "ssh_invalid_user failure user=oracle ip=1.2.3.4 port=1111 target=- cmd=-",
        );
        check(
            "sshd",
            "pam_unix(sshd:auth): authentication failure; logname= uid=0 euid=0 tty=ssh ruser= rhost=1.2.3.4  user=root",
            "pam_auth failure user=root ip=1.2.3.4 port=- target=- cmd=-",
        );
        check("sshd", "Server listening on 0.0.0.0 port 22.", "none");
        check(
            "sudo",
            "  bob : TTY=pts/0 ; PWD=/home/bob ; USER=root ; COMMAND=/bin/cat /etc/shadow",
            "sudo success user=bob ip=- port=- target=root cmd=/bin/cat /etc/shadow",
        );
        check(
            "sudo",
            "eve : 3 incorrect password attempts ; TTY=pts/1 ; PWD=/ ; USER=root ; COMMAND=/bin/sh",
            "sudo failure user=eve ip=- port=- target=root cmd=/bin/sh",
        );
        check("sudo", "garbage", "none");
        check("cron", "Failed password for root from 1.2.3.4", "none");
    }
}
