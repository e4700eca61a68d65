//! Stopping a replica without dropping a request: on SIGTERM (or Ctrl-C) `/readyz` answers 503
//! at once, the replica keeps serving for the shutdown delay so the load balancer takes it out
//! first, then stops taking connections and lets the requests in flight finish (the drain).
//! A second signal ends it: no more delay, no more drain. While stopping, every answer closes its
//! connection, so no client is left holding a kept-alive connection that the stop would cut
//! under its next request.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use axum::extract::{Request, State};
use axum::http::header::CONNECTION;
use axum::http::HeaderValue;
use axum::middleware::Next;
use axum::response::Response;

/// Whether the process is stopping (readiness reads it), and whether a second signal said to
/// hurry.
#[derive(Debug, Clone, Default)]
pub struct Stopping {
    stopping: Arc<AtomicBool>,
    hurried: Arc<AtomicBool>,
}

impl Stopping {
    pub fn is_stopping(&self) -> bool {
        self.stopping.load(Ordering::Relaxed)
    }

    /// After the first signal: ends at the end of the drain, or at once on another signal.
    pub async fn drain(&self, drain: Duration) {
        if self.hurried.load(Ordering::Relaxed) {
            return;
        }
        tokio::select! {
            () = tokio::time::sleep(drain) => {}
            () = signal() => tracing::info!("another signal: stopping now"),
        }
    }

    /// Waits for the first signal, marks the process stopping, then waits out `delay` or a
    /// second signal: when this returns, the server stops taking connections.
    pub async fn wait(self, delay: Duration) {
        signal().await;
        self.stopping.store(true, Ordering::Relaxed);
        if delay.is_zero() {
            tracing::info!("shutting down");
            return;
        }
        tracing::info!(
            seconds = delay.as_secs_f64(),
            "shutting down: not ready, serving on while the load balancer lets go \
             (ICANTKUBE_SHUTDOWN_DELAY; a second signal stops at once)"
        );
        tokio::select! {
            () = tokio::time::sleep(delay) => {}
            () = signal() => {
                tracing::info!("second signal: stopping now");
                self.hurried.store(true, Ordering::Relaxed);
            }
        }
    }
}

/// Middleware: `Connection: close` on every answer once the process is stopping.
pub async fn close_connections(
    State(stopping): State<Stopping>,
    request: Request,
    next: Next,
) -> Response {
    let mut response = next.run(request).await;
    if stopping.is_stopping() {
        response
            .headers_mut()
            .insert(CONNECTION, HeaderValue::from_static("close"));
    }
    response
}

async fn signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = terminate => {},
    }
}
