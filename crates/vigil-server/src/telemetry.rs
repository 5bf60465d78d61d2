//! HTTP metrics: requests by route and status, request and store latency,
//! authentication failures. Recorded by middleware, exposed on `/metrics`.

use std::future::Future;
use std::time::Instant;

use axum::extract::{MatchedPath, Request, State};
use axum::http::Method;
use axum::middleware::Next;
use axum::response::Response;
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::{Registry, Unit};

use crate::auth::AuthFailure;
use crate::state::AppState;

#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
struct RequestLabels {
    method: &'static str,
    route: String,
    status: u16,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
struct RouteLabels {
    route: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
struct ReasonLabels {
    reason: &'static str,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
struct OpLabels {
    op: &'static str,
}

type HistogramFamily<L> = Family<L, Histogram, fn() -> Histogram>;

fn latency_histogram() -> Histogram {
    // 1 ms … ~33 s.
    Histogram::new(exponential_buckets(0.001, 2.0, 16))
}

/// The server's own metrics.
#[derive(Debug, Clone)]
pub(crate) struct HttpMetrics {
    requests: Family<RequestLabels, Counter>,
    duration: HistogramFamily<RouteLabels>,
    auth_failures: Family<ReasonLabels, Counter>,
    /// Token secrets checked with argon2 (cache misses).
    pub(crate) token_verifications: Counter,
    store: HistogramFamily<OpLabels>,
}

impl Default for HttpMetrics {
    fn default() -> Self {
        Self {
            requests: Family::default(),
            duration: Family::new_with_constructor(latency_histogram),
            auth_failures: Family::default(),
            token_verifications: Counter::default(),
            store: Family::new_with_constructor(latency_histogram),
        }
    }
}

impl HttpMetrics {
    pub(crate) fn register(&self, reg: &mut Registry) {
        reg.register(
            "vigil_http_requests",
            "HTTP requests by method, route and status",
            self.requests.clone(),
        );
        reg.register_with_unit(
            "vigil_http_request_duration",
            "HTTP request latency by route",
            Unit::Seconds,
            self.duration.clone(),
        );
        reg.register(
            "vigil_http_auth_failures",
            "Requests refused by authentication or role, by reason",
            self.auth_failures.clone(),
        );
        reg.register(
            "vigil_http_token_verifications",
            "Token secrets checked with argon2 (verification cache misses)",
            self.token_verifications.clone(),
        );
        reg.register_with_unit(
            "vigil_http_store_query_duration",
            "Latency of store calls made by HTTP handlers, by operation",
            Unit::Seconds,
            self.store.clone(),
        );
    }

    pub(crate) fn auth_failure(&self, f: AuthFailure) {
        self.auth_failures
            .get_or_create(&ReasonLabels { reason: f.as_str() })
            .inc();
    }
}

/// The route template a response was produced for, set by [`label_route`].
#[derive(Debug, Clone)]
struct RouteLabel(String);

/// Route middleware: tags the response with its route template.
pub(crate) async fn label_route(req: Request, next: Next) -> Response {
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map(|m| m.as_str().to_owned());
    let mut res = next.run(req).await;
    if let Some(route) = route {
        res.extensions_mut().insert(RouteLabel(route));
    }
    res
}

/// The method as a label; unusual methods share one value so that clients
/// cannot grow the label set.
fn method_label(m: &Method) -> &'static str {
    match *m {
        Method::GET => "GET",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::DELETE => "DELETE",
        Method::HEAD => "HEAD",
        Method::PATCH => "PATCH",
        Method::OPTIONS => "OPTIONS",
        _ => "other",
    }
}

/// Outer middleware: counts and times every request by route and status.
pub(crate) async fn track(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let start = Instant::now();
    let method = method_label(req.method());
    let res = next.run(req).await;
    let route = res
        .extensions()
        .get::<RouteLabel>()
        .map_or_else(|| "unmatched".to_owned(), |r| r.0.clone());
    let m = &state.inner.http;
    m.duration
        .get_or_create(&RouteLabels {
            route: route.clone(),
        })
        .observe(start.elapsed().as_secs_f64());
    m.requests
        .get_or_create(&RequestLabels {
            method,
            route,
            status: res.status().as_u16(),
        })
        .inc();
    res
}

impl AppState {
    /// Runs a store call and records its latency under `op`.
    pub(crate) async fn timed<T>(&self, op: &'static str, fut: impl Future<Output = T>) -> T {
        let start = Instant::now();
        let out = fut.await;
        self.inner
            .http
            .store
            .get_or_create(&OpLabels { op })
            .observe(start.elapsed().as_secs_f64());
        out
    }
}
