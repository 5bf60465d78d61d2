//! Acceptance with real shippers: util-linux `logger` over UDP and TCP in
//! RFC 3164 and RFC 5424 (octet-counted and newline-framed), and an
//! rsyslogd started here with its own configuration, pid file and work
//! directory, forwarding a file (imfile) to the TCP listeners with omfwd.
//! Events must be stored with the sender's host, program, time and message.
//!
//! Without the tools these tests say "skipped" and pass, except under
//! CI=true, where `.ci/run` installs them and a missing one is a failure.
#![allow(clippy::unwrap_used)]

mod common;

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use vigil_listeners::{Framing, Protocol, SyslogListenerConfig};
use vigil_model::Timestamp;

use common::{Harness, Stored, have, hostname};

fn now() -> Timestamp {
    Timestamp::from_micros(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_micros() as i64,
    )
}

/// The event's time lies in [from, to], widened to whole seconds (RFC 3164
/// has no fractions).
fn assert_time_between(e: &Stored, from: Timestamp, to: Timestamp) {
    let t = e.time.expect("event time").as_micros();
    let lo = from.as_micros() / 1_000_000 * 1_000_000 - 1_000_000;
    let hi = to.as_micros() + 1_000_000;
    assert!(lo <= t && t <= hi, "time {t} not in [{lo}, {hi}]: {e:?}");
}

fn find<'a>(events: &'a [Stored], message: &str) -> &'a Stored {
    events
        .iter()
        .find(|e| e.message.as_deref() == Some(message))
        .unwrap_or_else(|| panic!("no event with message {message:?} in {events:#?}"))
}

#[tokio::test]
async fn logger_udp_and_tcp_rfc3164_and_rfc5424() {
    if !have("logger", "bsdutils") {
        return;
    }
    let mut h = Harness::start(vec![
        SyslogListenerConfig::new("udp", Protocol::Udp, "127.0.0.1:0"),
        SyslogListenerConfig::new("tcp", Protocol::Tcp, "127.0.0.1:0"),
    ])
    .await;
    let host = hostname();
    let short = host.split('.').next().unwrap().to_owned();
    let cases: [(&str, &[&str], &str); 6] = [
        ("udp", &["--udp", "--rfc3164"], "udp-3164"),
        ("udp", &["--udp", "--rfc5424"], "udp-5424"),
        ("tcp", &["--tcp", "--rfc3164"], "tcp-3164"),
        ("tcp", &["--tcp", "--rfc5424"], "tcp-5424"),
        (
            "tcp",
            &["--tcp", "--rfc3164", "--octet-count"],
            "tcp-3164-oc",
        ),
        (
            "tcp",
            &["--tcp", "--rfc5424", "--octet-count"],
            "tcp-5424-oc",
        ),
    ];
    let from = now();
    for (listener, flags, tag) in cases {
        let addr = h.addr(listener);
        let status = Command::new("logger")
            .args(flags)
            .args(["--server", "127.0.0.1", "--port", &addr.port().to_string()])
            .args(["-t", tag, "-p", "auth.warning", "--"])
            .arg(format!("hello from {tag}: user=alice"))
            // RFC 3164 carries local time without a zone; Vigil reads it
            // as UTC (documented), so the sender runs in UTC here.
            .env("TZ", "UTC")
            .stdin(Stdio::null())
            .status()
            .unwrap();
        assert!(status.success(), "logger {flags:?} failed");
    }
    let events = h.wait_events(6).await;
    let to = now();
    for (_, flags, tag) in cases {
        let e = find(&events, &format!("hello from {tag}: user=alice"));
        assert_eq!(e.program.as_deref(), Some(tag), "{e:?}");
        assert_eq!(e.appname.as_deref(), Some(tag));
        // RFC 3164 logger sends the short name; RFC 5424 may send the
        // fully qualified one, depending on the resolver.
        let got = e.host.as_deref().expect("host");
        assert_eq!(got.split('.').next(), Some(short.as_str()), "{e:?}");
        if flags.contains(&"--rfc3164") {
            assert_eq!(got, short);
        }
        assert_time_between(e, from, to);
    }
    for l in ["udp", "tcp"] {
        let s = h.snapshot(l);
        assert_eq!(s.rejected + s.dropped, 0, "{l}: {s:?}");
    }
    h.shutdown().await;
}

#[tokio::test]
async fn rsyslog_forwards_a_file_over_tcp() {
    if !have("rsyslogd", "rsyslog") {
        return;
    }
    let mut octet = SyslogListenerConfig::new("octet", Protocol::Tcp, "127.0.0.1:0");
    octet.framing = Framing::OctetCounting;
    let mut nl = SyslogListenerConfig::new("nl", Protocol::Tcp, "127.0.0.1:0");
    nl.framing = Framing::Newline;
    let mut h = Harness::start(vec![octet, nl]).await;
    let dir = tempfile::tempdir().unwrap();
    let work = dir.path().join("work");
    std::fs::create_dir(&work).unwrap();
    let lines = 50;
    for name in ["octet", "nl"] {
        let text: String = (0..lines)
            .map(|i| format!("{name} line {i} from a file\n"))
            .collect();
        std::fs::write(dir.path().join(format!("{name}.log")), text).unwrap();
    }
    let d = dir.path().display();
    let conf = format!(
        r#"global(workDirectory="{work}")
module(load="imfile" mode="polling" pollingInterval="1")
input(type="imfile" file="{d}/octet.log" tag="appoctet" ruleset="octet")
input(type="imfile" file="{d}/nl.log" tag="appnl" ruleset="nl")
ruleset(name="octet") {{
  action(type="omfwd" target="127.0.0.1" port="{p1}" protocol="tcp"
         tcp_framing="octet-counted" template="RSYSLOG_SyslogProtocol23Format")
}}
ruleset(name="nl") {{
  action(type="omfwd" target="127.0.0.1" port="{p2}" protocol="tcp"
         template="RSYSLOG_ForwardFormat")
}}
"#,
        work = work.display(),
        p1 = h.addr("octet").port(),
        p2 = h.addr("nl").port(),
    );
    let conf_path = dir.path().join("rsyslog.conf");
    std::fs::write(&conf_path, conf).unwrap();
    let from = now();
    struct Kill(std::process::Child);
    impl Drop for Kill {
        fn drop(&mut self) {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }
    let mut guard = Kill(
        Command::new("rsyslogd")
            .arg("-n")
            .arg("-f")
            .arg(&conf_path)
            .arg("-i")
            .arg(dir.path().join("rsyslogd.pid"))
            .env("TZ", "UTC")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap(),
    );
    let started = Instant::now();
    // Bounded wait: rsyslogd exits at once on a bad configuration.
    let events = loop {
        if let Ok(Some(status)) = guard.0.try_wait() {
            let mut err = String::new();
            if let Some(mut e) = guard.0.stderr.take() {
                use std::io::Read;
                let _ = e.read_to_string(&mut err);
            }
            panic!("rsyslogd exited with {status}: {err}");
        }
        let n = h.store.count_events(None).await.unwrap();
        if n >= 2 * lines as u64 {
            break h.events().await;
        }
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "only {n} events arrived from rsyslogd"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    let to = now();
    let host = hostname();
    for (name, program) in [("octet", "appoctet"), ("nl", "appnl")] {
        let mine: Vec<&Stored> = events
            .iter()
            .filter(|e| e.source.starts_with(&format!("syslog:tcp:{name}@")))
            .collect();
        assert_eq!(mine.len(), lines, "{name}");
        for (i, e) in mine.iter().enumerate() {
            assert_eq!(
                e.message.as_deref(),
                Some(format!("{name} line {i} from a file").as_str()),
                "{e:?}"
            );
            assert_eq!(e.program.as_deref(), Some(program), "{e:?}");
            assert_eq!(
                e.host.as_deref().map(|h| h.split('.').next().unwrap_or(h)),
                Some(host.split('.').next().unwrap()),
                "{e:?}"
            );
            assert_time_between(e, from, to);
        }
    }
    drop(guard);
    h.shutdown().await;
}
