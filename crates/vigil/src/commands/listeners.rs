//! `vigil listeners status`: the configured listeners, and when a token is
//! given, the running server's counters for them (scraped from its
//! `/metrics`) plus the kernel's UDP drop counts on this host.

use std::collections::HashMap;
use std::process::ExitCode;

use anyhow::{Context, Result, bail};
use serde::Serialize;

use crate::cli::ListenersStatusArgs;
use crate::config::Config;
use crate::output::{self, Row};

/// One listener's line.
#[derive(Debug, Serialize)]
struct StatusRow {
    name: String,
    protocol: String,
    listen: String,
    framing: String,
    enabled: bool,
    /// Live counters by short name (`received`, `parsed`, …), when the
    /// server was queried.
    #[serde(skip_serializing_if = "Option::is_none")]
    counters: Option<Counters>,
    /// Datagrams the kernel dropped on this UDP socket (`/proc/net/udp`).
    #[serde(skip_serializing_if = "Option::is_none")]
    kernel_drops: Option<u64>,
}

#[derive(Debug, Default, Clone, Copy, Serialize, PartialEq)]
struct Counters {
    received: u64,
    parsed: u64,
    rejected: u64,
    dropped: u64,
    bytes: u64,
    errors: u64,
    queue_depth: i64,
    connections: i64,
}

impl Row for StatusRow {
    fn headers() -> &'static [&'static str] {
        &[
            "NAME",
            "PROTOCOL",
            "LISTEN",
            "FRAMING",
            "ENABLED",
            "RECEIVED",
            "PARSED",
            "REJECTED",
            "DROPPED",
            "KERNEL DROPS",
            "BYTES",
            "ERRORS",
            "QUEUE",
            "CONNECTIONS",
        ]
    }

    fn cells(&self) -> Vec<String> {
        let c = |f: fn(&Counters) -> String| self.counters.as_ref().map_or("-".into(), f);
        vec![
            self.name.clone(),
            self.protocol.clone(),
            self.listen.clone(),
            self.framing.clone(),
            self.enabled.to_string(),
            c(|c| c.received.to_string()),
            c(|c| c.parsed.to_string()),
            c(|c| c.rejected.to_string()),
            c(|c| c.dropped.to_string()),
            self.kernel_drops.map_or("-".into(), |d| d.to_string()),
            c(|c| c.bytes.to_string()),
            c(|c| c.errors.to_string()),
            c(|c| c.queue_depth.to_string()),
            c(|c| c.connections.to_string()),
        ]
    }
}

pub async fn status(cfg: Config, args: ListenersStatusArgs) -> Result<ExitCode> {
    let live = match &args.token {
        Some(token) => {
            let base = args
                .url
                .clone()
                .unwrap_or_else(|| format!("http://{}", cfg.server.listen));
            Some(scrape(&base, token).await?)
        }
        None => None,
    };
    let rows: Vec<StatusRow> = cfg
        .listeners
        .syslog
        .iter()
        .map(|l| StatusRow {
            name: l.name.clone(),
            protocol: l.protocol.to_string(),
            listen: l.listen.clone(),
            framing: if l.protocol == vigil_listeners::Protocol::Udp {
                "-".into()
            } else {
                l.framing.to_string()
            },
            enabled: l.enabled,
            counters: live
                .as_ref()
                .map(|m| m.get(&l.name).copied().unwrap_or_default()),
            kernel_drops: (l.protocol == vigil_listeners::Protocol::Udp && l.enabled)
                .then(|| l.socket_addr().ok())
                .flatten()
                .and_then(vigil_listeners::kernel_udp_drops),
        })
        .collect();
    if rows.is_empty() && args.format == crate::cli::OutputFormat::Table {
        println!("No listeners configured (add [[listeners.syslog]] to the configuration).");
        return Ok(ExitCode::SUCCESS);
    }
    output::print(&rows, args.format)?;
    Ok(ExitCode::SUCCESS)
}

/// Fetches `/metrics` and picks the listener families out of it.
async fn scrape(base: &str, token: &str) -> Result<HashMap<String, Counters>> {
    let url = format!("{}/metrics", base.trim_end_matches('/'));
    let resp = reqwest::Client::new()
        .get(&url)
        .bearer_auth(token)
        .timeout(std::time::Duration::from_secs(10))
        .send()
        .await
        .with_context(|| format!("cannot reach the server at {url} (is `vigil serve` running?)"))?;
    let status = resp.status();
    if !status.is_success() {
        bail!("{url} answered {status} (the token needs the admin, analyst or viewer role)");
    }
    let text = resp.text().await.context("reading /metrics")?;
    Ok(parse_metrics(&text))
}

/// Listener counters from Prometheus text exposition.
fn parse_metrics(text: &str) -> HashMap<String, Counters> {
    let mut out: HashMap<String, Counters> = HashMap::new();
    for line in text.lines() {
        let Some(rest) = line.strip_prefix("vigil_listener_") else {
            continue;
        };
        let Some((name, rest)) = rest.split_once('{') else {
            continue;
        };
        let Some((labels, value)) = rest.split_once('}') else {
            continue;
        };
        let Some(listener) = labels.split(',').find_map(|kv| {
            kv.trim()
                .strip_prefix("listener=\"")
                .and_then(|v| v.strip_suffix('"'))
        }) else {
            continue;
        };
        let Ok(v) = value.trim().parse::<f64>() else {
            continue;
        };
        let c = out.entry(listener.to_owned()).or_default();
        let u = v.max(0.0) as u64;
        match name {
            "received_total" => c.received = u,
            "parsed_total" => c.parsed = u,
            "rejected_total" => c.rejected = u,
            "dropped_total" => c.dropped = u,
            "bytes_total" => c.bytes = u,
            "errors_total" => c.errors = u,
            "queue_depth" => c.queue_depth = v as i64,
            "connections" => c.connections = v as i64,
            _ => {}
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn metrics_text_to_counters() {
        let text = "# HELP vigil_listener_received_total Messages received\n\
vigil_listener_received_total{listener=\"u\",protocol=\"udp\"} 12\n\
vigil_listener_dropped_total{listener=\"u\",protocol=\"udp\"} 2\n\
vigil_listener_queue_depth{listener=\"u\",protocol=\"udp\"} 3\n\
vigil_listener_connections{listener=\"t\",protocol=\"tcp\"} 1\n\
vigil_events_ingested_total 10\n";
        let m = parse_metrics(text);
        assert_eq!(
            m["u"],
            Counters {
                received: 12,
                dropped: 2,
                queue_depth: 3,
                ..Counters::default()
            }
        );
        assert_eq!(m["t"].connections, 1);
        assert_eq!(m.len(), 2);
    }
}
