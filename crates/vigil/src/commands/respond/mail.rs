//! E-mail for `notify` steps: one SMTP session per message through the
//! `[respond.smtp]` relay (lettre's connection over tokio and rustls with
//! ring).
//!
//! The relay's host goes through the egress guard like a webhook's, and the
//! connection is made to the addresses the guard cleared — no second lookup
//! that a rebinding name could answer differently. `starttls` is required
//! when configured (a relay that does not offer it is refused, never
//! silently used in plain text), and credentials are never sent over a
//! plain connection. The step's idempotency key rides in the
//! `Message-ID` and an `X-Vigil-Idempotency-Key` header so a receiver can
//! recognise a repeat.

use std::net::SocketAddr;
use std::time::Duration;

use lettre::message::header::{ContentType, HeaderName, HeaderValue};
use lettre::message::{Mailbox, Message};
use lettre::transport::smtp::authentication::{Credentials, Mechanism};
use lettre::transport::smtp::client::{AsyncSmtpConnection, Certificate, TlsParameters};
use lettre::transport::smtp::extension::ClientId;

use super::{SmtpSection, SmtpTls};

/// One e-mail to send.
#[derive(Debug, Clone)]
pub struct Mail<'a> {
    /// Recipients.
    pub to: &'a [String],
    /// Subject.
    pub subject: &'a str,
    /// Plain-text body.
    pub text: &'a str,
    /// The step's idempotency key.
    pub key: &'a str,
}

/// Why a message was not sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MailError {
    /// What went wrong, for the run log.
    pub message: String,
    /// A temporary failure (a 4xx reply, a connection that failed before
    /// the message was handed over).
    pub retryable: bool,
}

fn fail(message: impl Into<String>, retryable: bool) -> MailError {
    MailError {
        message: message.into(),
        retryable,
    }
}

fn smtp_err(what: &str, e: &lettre::transport::smtp::Error) -> MailError {
    let retryable = e.is_transient() || e.is_timeout();
    fail(format!("{what}: {e}"), retryable)
}

/// The `Message-ID` local part for `key`: its letters, digits and dots;
/// anything else becomes a dot.
fn message_id(key: &str) -> String {
    let local: String = key
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' {
                c
            } else {
                '.'
            }
        })
        .collect();
    format!("<{}@vigil>", local.trim_matches('.'))
}

/// Builds the RFC 5322 message.
pub fn build(cfg: &SmtpSection, mail: &Mail<'_>) -> Result<Message, MailError> {
    let from: Mailbox = cfg
        .from
        .parse()
        .map_err(|e| fail(format!("[respond.smtp] from {:?}: {e}", cfg.from), false))?;
    let mut b = Message::builder()
        .from(from)
        .subject(mail.subject)
        .message_id(Some(message_id(mail.key)))
        .header(ContentType::TEXT_PLAIN);
    for t in mail.to {
        let mb: Mailbox = t
            .trim()
            .parse()
            .map_err(|e| fail(format!("recipient {t:?}: {e}"), false))?;
        b = b.to(mb);
    }
    let mut m = b
        .body(mail.text.to_string())
        .map_err(|e| fail(format!("cannot build the message: {e}"), false))?;
    m.headers_mut().insert_raw(HeaderValue::new(
        HeaderName::new_from_ascii_str("X-Vigil-Idempotency-Key"),
        mail.key.to_string(),
    ));
    Ok(m)
}

fn tls_parameters(cfg: &SmtpSection) -> Result<TlsParameters, MailError> {
    let mut b = TlsParameters::builder(cfg.host.trim().to_string());
    if let Some(path) = &cfg.ca_file {
        let pem = std::fs::read(path).map_err(|e| {
            fail(
                format!("[respond.smtp] ca_file {}: {e}", path.display()),
                false,
            )
        })?;
        let cert = Certificate::from_pem(&pem).map_err(|e| {
            fail(
                format!("[respond.smtp] ca_file {}: {e}", path.display()),
                false,
            )
        })?;
        b = b.add_root_certificate(cert);
    }
    b.build_rustls()
        .map_err(|e| fail(format!("TLS settings for {}: {e}", cfg.host), false))
}

/// Sends `mail` through the relay at `addrs` (already cleared by the egress
/// guard; tried in order). Returns the relay's reply to the message.
pub async fn send(
    cfg: &SmtpSection,
    addrs: &[SocketAddr],
    password: Option<String>,
    mail: &Mail<'_>,
) -> Result<String, MailError> {
    let message = build(cfg, mail)?;
    let credentials = match (&cfg.username, password) {
        (Some(user), Some(pass)) => Some(Credentials::new(user.clone(), pass)),
        (Some(_), None) => {
            return Err(fail(
                "[respond.smtp] username needs password_secret".to_string(),
                false,
            ));
        }
        (None, _) => None,
    };
    if credentials.is_some() && cfg.tls == SmtpTls::None {
        return Err(fail(
            "[respond.smtp]: credentials are never sent over a plain connection; use tls = \"starttls\" or \"tls\"",
            false,
        ));
    }
    let hello = ClientId::Domain(cfg.helo.clone().unwrap_or_else(|| "localhost".into()));
    let timeout = Some(Duration::from_secs(cfg.timeout_secs.clamp(1, 600)));
    let wrapper = match cfg.tls {
        SmtpTls::Tls => Some(tls_parameters(cfg)?),
        SmtpTls::None | SmtpTls::Starttls => None,
    };
    let mut last = None;
    let mut conn = None;
    for addr in addrs {
        match AsyncSmtpConnection::connect_tokio1(*addr, timeout, &hello, wrapper.clone(), None)
            .await
        {
            Ok(c) => {
                conn = Some(c);
                break;
            }
            Err(e) => last = Some(smtp_err(&format!("smtp {addr}"), &e)),
        }
    }
    let Some(mut conn) = conn else {
        return Err(last.unwrap_or_else(|| fail(format!("smtp {}: no address", cfg.host), true)));
    };
    let host = cfg.host.trim();
    if cfg.tls == SmtpTls::Starttls {
        let params = tls_parameters(cfg)?;
        if let Err(e) = conn.starttls(params, &hello).await {
            conn.abort().await;
            return Err(smtp_err(&format!("smtp {host}: STARTTLS"), &e));
        }
    }
    if let Some(c) = &credentials
        && let Err(e) = conn.auth(&[Mechanism::Plain, Mechanism::Login], c).await
    {
        conn.abort().await;
        return Err(smtp_err(&format!("smtp {host}: authentication"), &e));
    }
    let reply = match conn.send(message.envelope(), &message.formatted()).await {
        Ok(r) => r,
        Err(e) => {
            conn.abort().await;
            return Err(smtp_err(&format!("smtp {host}: sending"), &e));
        }
    };
    let _ = conn.quit().await;
    Ok(format!(
        "{} {}",
        reply.code(),
        reply.message().collect::<Vec<_>>().join(" ")
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cfg() -> SmtpSection {
        SmtpSection {
            host: "mail.example.com".into(),
            port: None,
            tls: SmtpTls::Starttls,
            username: None,
            password_secret: None,
            from: "Vigil <vigil@example.com>".into(),
            ca_file: None,
            helo: None,
            timeout_secs: 30,
        }
    }

    #[test]
    fn message_has_headers_body_and_key() {
        let to = vec![
            "soc@example.com".to_string(),
            "Ann <ann@example.org>".into(),
        ];
        let m = build(
            &cfg(),
            &Mail {
                to: &to,
                subject: "Incident 7",
                text: "line one\n.dot line\n",
                key: "run-1:notify:0",
            },
        )
        .unwrap();
        let text = String::from_utf8(m.formatted()).unwrap();
        assert!(
            text.contains("From: Vigil <vigil@example.com>\r\n"),
            "{text}"
        );
        assert!(
            text.contains("To: soc@example.com, Ann <ann@example.org>\r\n"),
            "{text}"
        );
        assert!(text.contains("Subject: Incident 7\r\n"), "{text}");
        assert!(
            text.contains("Message-ID: <run-1.notify.0@vigil>\r\n"),
            "{text}"
        );
        assert!(
            text.contains("X-Vigil-Idempotency-Key: run-1:notify:0\r\n"),
            "{text}"
        );
        assert!(text.contains(".dot line"), "{text}");
        assert_eq!(m.envelope().to().len(), 2);
    }

    #[test]
    fn bad_addresses_are_named() {
        let to = vec!["not an address".to_string()];
        let e = build(
            &cfg(),
            &Mail {
                to: &to,
                subject: "s",
                text: "t",
                key: "k",
            },
        )
        .unwrap_err();
        assert!(
            e.message.contains("not an address") && !e.retryable,
            "{e:?}"
        );
    }

    #[test]
    fn default_ports_follow_the_tls_mode() {
        let mut c = cfg();
        assert_eq!(c.port(), 587);
        c.tls = SmtpTls::Tls;
        assert_eq!(c.port(), 465);
        c.tls = SmtpTls::None;
        assert_eq!(c.port(), 25);
        c.port = Some(2525);
        assert_eq!(c.port(), 2525);
    }
}
