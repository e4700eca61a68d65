//! Serving the app's port: connections accepted under a cap, HTTP/1.1 with a deadline for
//! each request's headers (which also closes connections left idle), and a graceful stop.
//!
//! `axum::serve` sets no header deadline and no cap: half-sent requests could pile up until
//! the file descriptors ran out. HTTP/1.1 only: a proxy in front speaks it, and a cleartext
//! HTTP/2 client is not a browser.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::Request;
use axum::Router;
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpListener;
use tokio::sync::Semaphore;
use tower::ServiceExt;

use crate::configuration::ConnectionSettings;

/// Largest request line and headers, together: a larger head gets 431. Without it hyper took
/// whatever fitted its read buffer (about 400 KiB), so a request with a 100 KiB header was
/// served; no browser or gateway sends that (a session cookie is under 100 bytes, proxies
/// allow 8 to 32 KiB).
const MAX_HEAD_BYTES: usize = 64 * 1024;

/// Serves `router` on `listener` until `stop` completes, then lets the open connections finish
/// their requests (the caller bounds how long). Handlers see the peer's address as
/// `ConnectInfo<SocketAddr>`.
pub async fn serve(
    listener: TcpListener,
    router: Router,
    limits: ConnectionSettings,
    stop: impl Future<Output = ()>,
) {
    let open = Arc::new(Semaphore::new(limits.max_connections));
    let graceful = GracefulShutdown::new();
    let mut http = http1::Builder::new();
    http.timer(TokioTimer::new())
        .header_read_timeout(limits.header_timeout)
        .max_header_size(MAX_HEAD_BYTES);
    tokio::pin!(stop);
    loop {
        // A free slot first: at the cap, new clients wait in the kernel's accept queue.
        let slot = tokio::select! {
            slot = open.clone().acquire_owned() => slot.expect("the semaphore is never closed"),
            () = &mut stop => break,
        };
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(error) => {
                    // Out of file descriptors, say: wait for connections to close.
                    tracing::warn!(%error, "accepting a connection failed");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            },
            () = &mut stop => break,
        };
        let service = router
            .clone()
            .map_request(move |request: Request<Incoming>| {
                let mut request = request.map(Body::new);
                request.extensions_mut().insert(ConnectInfo(peer));
                request
            });
        let connection = graceful
            .watch(http.serve_connection(TokioIo::new(stream), TowerToHyperService::new(service)));
        tokio::spawn(async move {
            if let Err(error) = connection.await {
                tracing::debug!(%error, %peer, "connection ended with an error");
            }
            drop(slot);
        });
    }
    drop(listener);
    graceful.shutdown().await;
}
