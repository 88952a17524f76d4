//! `schedule run --http ADDR`: a small HTTP server for `/health` and
//! `/metrics`.
//!
//! It runs on a thread of its own, with its own single-threaded tokio
//! runtime, so that it can still answer (503) when the scheduler loop is
//! stuck in a blocking call. The address is bound before the thread starts:
//! a bad address or a port in use is an error at start-up, before any run.

use http_body_util::Full;
use hyper::body::{Bytes, Incoming};
use hyper::{Method, Request, Response, StatusCode};
use std::net::SocketAddr;
use std::sync::Arc;

use crate::dashboard::Dashboard;
use crate::error::Error;
use crate::monitor::{self, Monitor};

/// Binds `addr` and serves from a thread of its own; returns the address
/// bound (port 0 picks a free one).
pub fn serve(
    addr: SocketAddr,
    monitor: Arc<Monitor>,
    dashboard: Arc<Dashboard>,
) -> Result<SocketAddr, Error> {
    let listener = std::net::TcpListener::bind(addr).map_err(|e| {
        let hint = match e.kind() {
            std::io::ErrorKind::AddrInUse => {
                "; another program listens there: pick another port with --http"
            }
            std::io::ErrorKind::AddrNotAvailable => {
                "; no interface of this machine has that address"
            }
            std::io::ErrorKind::PermissionDenied => "; ports below 1024 need privileges",
            _ => "",
        };
        Error::Usage(format!("cannot listen on {addr} for --http: {e}{hint}"))
    })?;
    let bound = listener
        .local_addr()
        .map_err(|e| Error::Runtime(format!("cannot read the --http address: {e}")))?;
    listener
        .set_nonblocking(true)
        .map_err(|e| Error::Runtime(format!("cannot set up the --http listener: {e}")))?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| Error::Runtime(format!("cannot start the HTTP server: {e}")))?;
    std::thread::Builder::new()
        .name("http".into())
        .spawn(move || runtime.block_on(accept(listener, monitor, dashboard)))
        .map_err(|e| Error::Runtime(format!("cannot start the HTTP server: {e}")))?;
    Ok(bound)
}

async fn accept(listener: std::net::TcpListener, monitor: Arc<Monitor>, dashboard: Arc<Dashboard>) {
    let listener = match tokio::net::TcpListener::from_std(listener) {
        Ok(listener) => listener,
        Err(e) => {
            tracing::error!(error = %e, "the HTTP server cannot start");
            return;
        }
    };
    loop {
        let stream = match listener.accept().await {
            Ok((stream, _)) => stream,
            Err(e) => {
                // Out of file descriptors, say: wait rather than spin.
                tracing::warn!(error = %e, "the HTTP server cannot accept a connection");
                tokio::time::sleep(std::time::Duration::from_millis(100)).await;
                continue;
            }
        };
        let monitor = Arc::clone(&monitor);
        let dashboard = Arc::clone(&dashboard);
        tokio::spawn(async move {
            let service = hyper::service::service_fn(move |req| {
                let monitor = Arc::clone(&monitor);
                let dashboard = Arc::clone(&dashboard);
                async move {
                    Ok::<_, std::convert::Infallible>(respond(req, &monitor, &dashboard).await)
                }
            });
            let io = hyper_util::rt::TokioIo::new(stream);
            // A client that goes away is no news.
            let _ = hyper::server::conn::http1::Builder::new()
                .serve_connection(io, service)
                .await;
        });
    }
}

async fn respond(
    req: Request<Incoming>,
    monitor: &Monitor,
    dashboard: &Dashboard,
) -> Response<Full<Bytes>> {
    // Everything but health and metrics is the dashboard's (dashboard/).
    if !matches!(req.uri().path(), "/health" | "/healthz" | "/metrics") {
        return dashboard.respond(req, monitor).await;
    }
    if req.method() != Method::GET && req.method() != Method::HEAD {
        return reply(
            StatusCode::METHOD_NOT_ALLOWED,
            "text/plain; charset=utf-8",
            "only GET and HEAD\n".into(),
        );
    }
    match req.uri().path() {
        "/health" | "/healthz" => {
            let answer = monitor.probe().await;
            let (code, body) =
                monitor::health(answer.as_ref(), monitor.last_beat(), chrono::Utc::now());
            let code = StatusCode::from_u16(code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
            reply(code, "application/json", format!("{body}\n"))
        }
        "/metrics" => {
            let answer = monitor.probe().await;
            reply(
                StatusCode::OK,
                "application/openmetrics-text; version=1.0.0; charset=utf-8",
                monitor.metrics(answer.as_ref()),
            )
        }
        _ => reply(
            StatusCode::NOT_FOUND,
            "text/plain; charset=utf-8",
            "not found; try /health or /metrics\n".into(),
        ),
    }
}

fn reply(code: StatusCode, content_type: &str, body: String) -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::new(Bytes::from(body)));
    *response.status_mut() = code;
    if let Ok(value) = content_type.parse() {
        response
            .headers_mut()
            .insert(hyper::header::CONTENT_TYPE, value);
    }
    response
}
