//! `schedule run --http ADDR`: a small HTTP server for `/health` and
//! `/metrics`.
//!
//! It runs on a thread of its own, with its own single-threaded tokio
//! runtime, so that it can still answer (503) when the scheduler loop is
//! stuck in a blocking call. The address is bound before the thread starts:
//! a bad address or a port in use is an error at start-up, before any run.
//!
//! Limits, so that clients cannot starve the scheduler: at most
//! [`MAX_CONNECTIONS`] at once (more are closed at once), a request's
//! headers within [`HEADER_TIMEOUT`], a connection for at most
//! [`CONNECTION_LIFETIME`] (idle keep-alives included), and no new
//! connection while fewer than [`FD_RESERVE`] file descriptors are free, so
//! that a job can always be spawned.

use http_body_util::Full;
use hyper::body::{Bytes, Incoming};
use hyper::{Method, Request, Response, StatusCode};
use std::net::SocketAddr;
use std::sync::Arc;

use crate::dashboard::Dashboard;
use crate::error::Error;
use crate::monitor::{self, Monitor};

/// Connections served at once; a monitoring system needs one or two.
pub const MAX_CONNECTIONS: usize = 64;
/// How long a client may take to send a request's headers.
pub const HEADER_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(5);
/// How long one connection may stay open, requests and idle time included.
pub const CONNECTION_LIFETIME: std::time::Duration = std::time::Duration::from_secs(30);
/// File descriptors kept free for jobs (pipes, the database, hooks): a new
/// connection is closed at once when fewer are left.
pub const FD_RESERVE: u64 = 64;

/// How many more files this process may open, if it can tell.
fn free_fds() -> Option<u64> {
    let (soft, _) =
        nix::sys::resource::getrlimit(nix::sys::resource::Resource::RLIMIT_NOFILE).ok()?;
    let open = std::fs::read_dir("/proc/self/fd").ok()?.count() as u64;
    Some(soft.saturating_sub(open))
}

/// Raises the soft limit on open files to the hard limit (as systemd does
/// for services), so that the reserve above is rarely touched.
pub fn raise_fd_limit() {
    use nix::sys::resource::{Resource, getrlimit, setrlimit};
    if let Ok((soft, hard)) = getrlimit(Resource::RLIMIT_NOFILE)
        && soft < hard
        && let Err(e) = setrlimit(Resource::RLIMIT_NOFILE, hard, hard)
    {
        tracing::debug!(error = %e, soft, hard, "cannot raise the open files limit");
    }
}

/// The dashboard, once the config it shows is loaded: the server is up
/// before that when `--http` is given, and says it is starting.
pub type Pages = Arc<std::sync::OnceLock<Dashboard>>;

/// Binds `addr` and serves from a thread of its own; returns the address
/// bound (port 0 picks a free one).
pub fn serve(
    addr: SocketAddr,
    monitor: Arc<Monitor>,
    dashboard: Pages,
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

async fn accept(listener: std::net::TcpListener, monitor: Arc<Monitor>, dashboard: Pages) {
    let listener = match tokio::net::TcpListener::from_std(listener) {
        Ok(listener) => listener,
        Err(e) => {
            tracing::error!(error = %e, "the HTTP server cannot start");
            return;
        }
    };
    let slots = Arc::new(tokio::sync::Semaphore::new(MAX_CONNECTIONS));
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
        // Over the limits: closed at once (dropped), costing nothing.
        let Ok(permit) = Arc::clone(&slots).try_acquire_owned() else {
            continue;
        };
        if free_fds().is_some_and(|free| free < FD_RESERVE) {
            continue;
        }
        let monitor = Arc::clone(&monitor);
        let dashboard = Arc::clone(&dashboard);
        tokio::spawn(async move {
            let _permit = permit;
            let service = hyper::service::service_fn(move |req| {
                let monitor = Arc::clone(&monitor);
                let dashboard = Arc::clone(&dashboard);
                async move {
                    Ok::<_, std::convert::Infallible>(respond(req, &monitor, &dashboard).await)
                }
            });
            let io = hyper_util::rt::TokioIo::new(stream);
            // A client that goes away, or is too slow, is no news.
            let connection = hyper::server::conn::http1::Builder::new()
                .timer(hyper_util::rt::TokioTimer::new())
                .header_read_timeout(HEADER_TIMEOUT)
                .serve_connection(io, service);
            let _ = tokio::time::timeout(CONNECTION_LIFETIME, connection).await;
        });
    }
}

async fn respond(
    req: Request<Incoming>,
    monitor: &Monitor,
    dashboard: &std::sync::OnceLock<Dashboard>,
) -> Response<Full<Bytes>> {
    let Some(dashboard) = dashboard.get() else {
        return starting(req.uri().path());
    };
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

/// Any request while the config loads: 503, and `/health` says why in
/// its usual JSON, at once (no loop to ask yet).
fn starting(path: &str) -> Response<Full<Bytes>> {
    let reason = "starting: the scheduler is loading its config";
    match path {
        "/health" | "/healthz" => {
            let body = serde_json::json!({
                "status": "starting",
                "reason": reason,
                "version": env!("CARGO_PKG_VERSION"),
                "last_tick": serde_json::Value::Null,
                "db_ok": serde_json::Value::Null,
            });
            reply(
                StatusCode::SERVICE_UNAVAILABLE,
                "application/json",
                format!("{body}\n"),
            )
        }
        _ => reply(
            StatusCode::SERVICE_UNAVAILABLE,
            "text/plain; charset=utf-8",
            format!("{reason}\n"),
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
