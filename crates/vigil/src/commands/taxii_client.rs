//! TAXII 2.1 client for `taxii` feeds: polls one remote collection's
//! objects incrementally — `added_after` the `X-TAXII-Date-Added-Last` of
//! the previous sync, following `next` while `more` is true — with Basic or
//! bearer credentials. Answers are bounded in size and page count.

use anyhow::{Context, Result, bail};
use serde_json::Value;

use crate::commands::feeds::{Credentials, read_bounded};

/// The TAXII 2.1 media type.
const TAXII_MEDIA: &str = "application/taxii+json;version=2.1";

/// Objects per request asked of the server.
const PAGE: u32 = 1000;

/// Limits of one poll.
#[derive(Debug, Clone, Copy)]
pub struct PollLimits {
    /// Largest single answer, bytes.
    pub max_page_bytes: usize,
    /// Most objects in total.
    pub max_objects: usize,
    /// Most pages.
    pub max_pages: usize,
}

/// What one poll read.
#[derive(Debug, Default)]
pub struct Poll {
    /// The objects, in the server's order.
    pub objects: Vec<Value>,
    /// The newest `X-TAXII-Date-Added-Last` seen (the next `added_after`).
    pub cursor: Option<String>,
    /// Pages read.
    pub pages: usize,
    /// True when a limit stopped the poll before `more` was false.
    pub truncated: bool,
}

/// `…/collections/<id>/` → `…/collections/<id>/objects/`.
fn objects_url(collection: &str) -> String {
    let base = if collection.ends_with('/') {
        collection.to_owned()
    } else {
        format!("{collection}/")
    };
    if base.ends_with("/objects/") {
        base
    } else {
        format!("{base}objects/")
    }
}

/// Reads a TAXII error message's title and description, if the body is one.
fn taxii_error(body: &[u8]) -> String {
    match serde_json::from_slice::<Value>(body) {
        Ok(v) if v["title"].is_string() => {
            let t = v["title"].as_str().unwrap_or_default();
            match v["description"].as_str() {
                Some(d) => format!("{t}: {d}"),
                None => t.to_owned(),
            }
        }
        _ => String::from_utf8_lossy(&body[..body.len().min(200)]).into_owned(),
    }
}

/// Polls `collection` (its URL) for objects added after `added_after`.
pub async fn poll(
    http: &reqwest::Client,
    collection: &str,
    creds: &Credentials,
    added_after: Option<&str>,
    limits: PollLimits,
) -> Result<Poll> {
    let url = objects_url(collection);
    let mut out = Poll {
        cursor: added_after.map(str::to_owned),
        ..Poll::default()
    };
    let mut next: Option<String> = None;
    loop {
        if out.pages >= limits.max_pages || out.objects.len() >= limits.max_objects {
            out.truncated = true;
            break;
        }
        let mut query: Vec<(&str, String)> = vec![("limit", PAGE.to_string())];
        if let Some(a) = added_after {
            query.push(("added_after", a.to_owned()));
        }
        if let Some(n) = &next {
            query.push(("next", n.clone()));
        }
        let mut u = reqwest::Url::parse(&url).with_context(|| format!("bad TAXII URL {url}"))?;
        u.query_pairs_mut()
            .extend_pairs(query.iter().map(|(k, v)| (*k, v.as_str())));
        let req = creds.apply(http.get(u).header(reqwest::header::ACCEPT, TAXII_MEDIA));
        let resp = req
            .send()
            .await
            .with_context(|| format!("cannot reach the TAXII server at {url}"))?;
        let status = resp.status();
        let last = resp
            .headers()
            .get("x-taxii-date-added-last")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let content_type = resp
            .headers()
            .get(reqwest::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .replace(' ', "");
        let body = read_bounded(resp, limits.max_page_bytes).await?;
        if !status.is_success() {
            bail!(
                "TAXII server answered {status} for {url}: {}",
                taxii_error(&body)
            );
        }
        if !content_type.starts_with("application/taxii+json") {
            bail!("TAXII server answered {content_type:?}, not {TAXII_MEDIA}");
        }
        let envelope: Value = serde_json::from_slice(&body)
            .with_context(|| format!("page {} of {url} is not JSON", out.pages + 1))?;
        out.pages += 1;
        if let Some(objs) = envelope.get("objects").and_then(Value::as_array) {
            out.objects.extend(objs.iter().cloned());
        }
        if let Some(l) = last {
            // RFC 3339 UTC timestamps of one server order as text.
            if out.cursor.as_deref().is_none_or(|c| c < l.as_str()) {
                out.cursor = Some(l);
            }
        }
        let more = envelope
            .get("more")
            .and_then(Value::as_bool)
            .unwrap_or(false);
        next = envelope
            .get("next")
            .and_then(Value::as_str)
            .map(str::to_owned);
        if !more || next.is_none() {
            break;
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn objects_url_from_a_collection_url() {
        let want = "http://h/api/collections/c1/objects/";
        for given in [
            "http://h/api/collections/c1/",
            "http://h/api/collections/c1",
            "http://h/api/collections/c1/objects/",
        ] {
            assert_eq!(objects_url(given), want, "{given}");
        }
    }

    #[test]
    fn error_messages_are_read() {
        assert_eq!(
            taxii_error(br#"{"title":"Forbidden","description":"no","http_status":"403"}"#),
            "Forbidden: no"
        );
        assert_eq!(taxii_error(b"plain"), "plain");
    }
}
