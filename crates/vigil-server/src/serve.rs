//! Assembling the router (routes, authorization, metrics, problem details,
//! tracing) and serving it with graceful shutdown.

use std::future::Future;

use axum::Router;
use axum::middleware::{from_fn, from_fn_with_state};
use tower_http::trace::TraceLayer;

use crate::state::AppState;
use crate::tls::{ClientAddr, TlsConfig, TlsListener};
use crate::{auth, console, error, routes, telemetry};

/// The whole application: every route behind the authorization middleware,
/// with metrics, request tracing and problem details for every error.
pub fn router(state: AppState) -> Router {
    let (api, _doc) = routes::build(&state.config).split_for_parts();
    api.route_layer(from_fn_with_state(state.clone(), auth::authorize))
        .route_layer(from_fn(telemetry::label_route))
        .merge(console::router(state.clone()))
        .fallback(error::not_found)
        .layer(from_fn(error::finalize))
        .layer(from_fn_with_state(state.clone(), telemetry::track))
        .layer(TraceLayer::new_for_http())
        .with_state(state)
}

/// Serves [`router`] on `listener` until `shutdown` resolves, then stops
/// accepting and waits for in-flight requests to finish.
///
/// # Errors
///
/// An I/O error of the listener.
pub async fn serve(
    listener: tokio::net::TcpListener,
    state: AppState,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    if let Ok(addr) = listener.local_addr() {
        tracing::info!(%addr, "http api listening");
    }
    axum::serve(
        listener,
        router(state).into_make_service_with_connect_info::<ClientAddr>(),
    )
    .with_graceful_shutdown(shutdown)
    .await
}

/// Like [`serve`], over HTTPS with `tls` (the console's session cookie is
/// then always `Secure`).
///
/// # Errors
///
/// An I/O error of the listener.
pub async fn serve_tls(
    listener: tokio::net::TcpListener,
    tls: TlsConfig,
    mut state: AppState,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    if let Ok(addr) = listener.local_addr() {
        tracing::info!(%addr, "https api listening");
    }
    state.config.console.secure_cookies = true;
    let listener = TlsListener::new(listener, tls)?;
    axum::serve(
        listener,
        router(state).into_make_service_with_connect_info::<ClientAddr>(),
    )
    .with_graceful_shutdown(shutdown)
    .await
}
