//! Test harness: the real router over a real SQLite store in a tempdir, a
//! real pipeline and a fixed clock; one token per role.
#![allow(dead_code)]

pub mod console;

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::body::{Body, Bytes};
use axum::http::{HeaderMap, Method, Request, StatusCode, header};
use tower::ServiceExt as _;
use vigil_model::{
    Clock, Detector, FieldRegistry, FixedClock, Principal, Role, Severity, TenantId, Timestamp,
};
use vigil_pipeline::{
    MatchDetector, MatchOp, MatchRule, Metrics, Pipeline, PipelineConfig, PipelineHandle,
};
use vigil_server::{AppState, ServerConfig};
use vigil_store::Store;

/// 2026-11-27T00:00:00Z.
pub const NOW: i64 = 1_795_737_600;

pub struct TestApp {
    pub dir: tempfile::TempDir,
    pub store: Store,
    pub handle: PipelineHandle,
    pub pipeline: Option<Pipeline>,
    pub clock: Arc<FixedClock>,
    pub state: AppState,
    pub router: Router,
    pub tokens: HashMap<Role, String>,
}

/// A reply: status, headers, body bytes.
pub struct Reply {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Bytes,
}

impl Reply {
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&self.body)))
    }

    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    pub fn content_type(&self) -> &str {
        self.headers
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
    }

    /// Asserts an RFC 9457 body with this status and returns it.
    pub fn problem(&self, status: u16) -> serde_json::Value {
        assert_eq!(self.status.as_u16(), status, "{}", self.text());
        assert_eq!(
            self.content_type(),
            "application/problem+json",
            "{}",
            self.text()
        );
        let p = self.json();
        assert_eq!(p["status"], status, "{p}");
        assert!(p["type"].as_str().is_some_and(|t| !t.is_empty()), "{p}");
        assert!(p["title"].as_str().is_some_and(|t| !t.is_empty()), "{p}");
        assert!(
            p["instance"].as_str().is_some_and(|t| t.starts_with('/')),
            "{p}"
        );
        p
    }
}

/// The rule the test detector raises alerts with: `user.name` = root.
pub fn root_rule() -> MatchRule {
    MatchRule {
        id: "root-user".into(),
        title: "Activity as root".into(),
        severity: Severity::High,
        field: "user.name".into(),
        op: MatchOp::Equals,
        value: Some("root".into()),
        tags: vec!["test".into()],
    }
}

impl TestApp {
    pub async fn start() -> Self {
        Self::with_config(ServerConfig::default()).await
    }

    pub async fn with_config(config: ServerConfig) -> Self {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = Store::open_sqlite(&dir.path().join("vigil.db"))
            .await
            .expect("open store");
        store
            .migrate(vigil_store::SIGMA_MIGRATIONS)
            .await
            .expect("migrate");
        store
            .migrate(vigil_store::INTEL_MIGRATIONS)
            .await
            .expect("migrate intel");
        store
            .migrate(vigil_store::VULN_MIGRATIONS)
            .await
            .expect("migrate vuln");
        let mut intel = vigil_store::INTEL_MIGRATIONS.to_vec();
        intel.extend_from_slice(vigil_store::INTEL_OPS_MIGRATIONS);
        store.migrate(&intel).await.expect("migrate intel");
        store
            .migrate(vigil_store::TAXII_MIGRATIONS)
            .await
            .expect("migrate taxii");
        store
            .migrate(vigil_store::RESPOND_MIGRATIONS)
            .await
            .expect("migrate respond");
        store
            .migrate(vigil_store::THREATS_MIGRATIONS)
            .await
            .expect("migrate threats");
        store
            .migrate(vigil_store::CONSOLE_MIGRATIONS)
            .await
            .expect("migrate console");
        let clock = Arc::new(FixedClock::new(Timestamp::from_secs(NOW)));
        let registry = Arc::new(FieldRegistry::new());
        let detectors: Vec<Box<dyn Detector>> = vec![Box::new(
            MatchDetector::new(vec![root_rule()], &registry).expect("rule"),
        )];
        let (handle, pipeline) = Pipeline::start(
            store.clone(),
            registry,
            detectors,
            clock.clone(),
            PipelineConfig::default(),
            Arc::new(Metrics::default()),
        )
        .await
        .expect("pipeline");
        let state = AppState::new(store.clone(), handle.clone(), clock.clone(), config);
        let router = vigil_server::router(state.clone());
        let mut app = Self {
            dir,
            store,
            handle,
            pipeline: Some(pipeline),
            clock,
            state,
            router,
            tokens: HashMap::new(),
        };
        for role in Role::ALL {
            let t = app
                .create_token(role.as_str(), role, TenantId::DEFAULT)
                .await;
            app.tokens.insert(role, t);
        }
        app
    }

    /// Creates a token directly in the store; returns its plaintext.
    pub async fn create_token(&self, name: &str, role: Role, tenant: TenantId) -> String {
        let by = Principal::system("test");
        let (_, plaintext) = self
            .store
            .create_token(tenant, name, role, None, &by, self.clock.now())
            .await
            .expect("create token");
        plaintext
    }

    pub fn token(&self, role: Role) -> &str {
        &self.tokens[&role]
    }

    /// Sends a request through the router (no socket).
    pub async fn send(&self, req: Request<Body>) -> Reply {
        let res = self.router.clone().oneshot(req).await.expect("infallible");
        let (parts, body) = res.into_parts();
        let body = axum::body::to_bytes(body, usize::MAX).await.expect("body");
        Reply {
            status: parts.status,
            headers: parts.headers,
            body,
        }
    }

    /// `method uri` with an optional bearer token and body.
    pub async fn call(&self, method: Method, uri: &str, token: Option<&str>, body: Body) -> Reply {
        let mut b = Request::builder().method(method).uri(uri);
        if let Some(t) = token {
            b = b.header(header::AUTHORIZATION, format!("Bearer {t}"));
        }
        self.send(b.body(body).expect("request")).await
    }

    pub async fn get(&self, uri: &str, role: Role) -> Reply {
        self.call(Method::GET, uri, Some(self.token(role)), Body::empty())
            .await
    }

    /// Posts NDJSON to the ingest route as admin.
    pub async fn ingest(&self, body: impl Into<Body>) -> Reply {
        let req = Request::post("/api/v1/ingest")
            .header(
                header::AUTHORIZATION,
                format!("Bearer {}", self.token(Role::Admin)),
            )
            .header(header::CONTENT_TYPE, "application/x-ndjson")
            .body(body.into())
            .expect("request");
        self.send(req).await
    }

    /// Waits until detection has evaluated everything committed.
    pub async fn wait_detected(&self) {
        for _ in 0..1000 {
            let s = self.handle.status();
            if s.detected_seq >= s.committed_seq {
                return;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        panic!("detection did not catch up: {:?}", self.handle.status());
    }

    pub async fn stop(mut self) {
        if let Some(p) = self.pipeline.take() {
            p.shutdown().await.expect("pipeline shutdown");
        }
    }
}

/// `n` NDJSON lines; every `root_every`-th has user root.
pub fn ndjson(n: usize, root_every: usize) -> String {
    let mut s = String::new();
    for i in 0..n {
        let user = if root_every > 0 && i % root_every == 0 {
            "root"
        } else {
            "alice"
        };
        s.push_str(&format!(
            "{{\"@timestamp\":\"2026-11-26T10:00:00Z\",\"n\":{i},\"user\":{{\"name\":\"{user}\"}},\"host\":{{\"name\":\"h{i}\"}}}}\n"
        ));
    }
    s
}
