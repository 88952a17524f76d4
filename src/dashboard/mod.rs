//! The web dashboard on `--http`: the jobs, their runs and failures, a
//! timeline, a small JSON API, and (with a token) trigger, pause and resume.
//!
//! `http.rs` hands every request that is not `/health` or `/metrics` to
//! [`Dashboard::respond`]. The pages are rendered on the server with maud
//! (which escapes every value it interpolates, so a job's output is always
//! text), with a stylesheet and a small script of our own embedded in the
//! binary; nothing is fetched from elsewhere, and every page reads with
//! JavaScript off.
//!
//! Where the data comes from: the jobs from the config the scheduler
//! started with; their live state (next fire, running, overdue) from the
//! loop's probe [`Snapshot`](crate::monitor::Snapshot); the history from a
//! store connection of the dashboard's own, used on tokio's blocking pool,
//! never on the loop's thread (a slow query must not delay a fire) and never
//! through the loop's store worker (a page must not queue behind the writes
//! of a burst). Actions go through the database, as `schedule pause` and
//! `trigger` do, and reach the loop the same way.

mod api;
mod auth;
pub mod pages;
pub mod timeline;

use chrono::{DateTime, Utc};
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::{Bytes, Incoming};
use hyper::header::{self, HeaderValue};
use hyper::{Method, Request, Response, StatusCode};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use crate::config::Job;
use crate::domain::{HistoryQuery, RunRecord};
use crate::monitor::Monitor;
use crate::store::{self, Location, Mode, Store};

pub use auth::Auth;

/// The stylesheet and the script, served under `/assets/`.
const STYLE: &str = include_str!("style.css");
const SCRIPT: &str = include_str!("app.js");

/// How many runs the strip of each job shows.
pub const STRIP: usize = 30;

/// What the dashboard knows from the start: the jobs, the database, the
/// token.
pub struct Dashboard {
    jobs: Vec<Arc<Job>>,
    /// What `schedule check` says about each job, by name.
    notes: HashMap<String, Vec<String>>,
    location: Location,
    store: Arc<Mutex<Option<Box<dyn Store>>>>,
    auth: Auth,
}

type Reply = Response<Full<Bytes>>;

/// One job as the jobs page shows it.
pub struct JobView {
    pub job: Arc<Job>,
    pub paused: bool,
    pub next: Option<DateTime<Utc>>,
    pub running: usize,
    pub overdue: bool,
    /// Its newest runs, newest first.
    pub recent: Vec<RunRecord>,
}

impl Dashboard {
    pub fn new(
        jobs: Vec<Arc<Job>>,
        notes: HashMap<String, Vec<String>>,
        location: Location,
        token: Option<String>,
        token_read: bool,
    ) -> Dashboard {
        Dashboard {
            jobs,
            notes,
            location,
            store: Arc::new(Mutex::new(None)),
            auth: Auth::new(token, token_read),
        }
    }

    /// Answers one request; never panics on what the client sent.
    pub async fn respond(&self, req: Request<Incoming>, monitor: &Monitor) -> Reply {
        let path = req.uri().path().to_string();
        let query = parse_form(req.uri().query().unwrap_or(""));
        let who = self.auth.who(req.headers());
        if path.starts_with("/assets/") {
            return asset(&path);
        }
        if req.method() == Method::POST {
            return self.post(req, &path, who).await;
        }
        if req.method() != Method::GET && req.method() != Method::HEAD {
            return text(StatusCode::METHOD_NOT_ALLOWED, "only GET, HEAD and POST\n");
        }
        if path == "/login" {
            return html(StatusCode::OK, pages::login(None));
        }
        if self.auth.read_needs_token() && !who.known() {
            if path.starts_with("/api/") {
                return json(
                    StatusCode::UNAUTHORIZED,
                    &error_body("this dashboard needs its token: Authorization: Bearer TOKEN"),
                );
            }
            return redirect("/login");
        }
        let view = self.auth.view(&who);
        let now = Utc::now();
        let result = match path.as_str() {
            "/" => self
                .jobs_page(monitor, now, STRIP)
                .await
                .map(|jobs| html(StatusCode::OK, pages::jobs(&jobs, now, &view))),
            "/failures" => self
                .read(|s| {
                    s.history(&HistoryQuery {
                        failed_only: true,
                        limit: 200,
                        ..Default::default()
                    })
                })
                .await
                .map(|runs| html(StatusCode::OK, pages::failures(&runs, now, &view))),
            "/timeline" => {
                let window = timeline::Window::parse(query.get("window").map(String::as_str));
                let since = now - window.span();
                let jobs = self.jobs_page(monitor, now, 0).await;
                match jobs {
                    Ok(jobs) => self
                        .read(move |s| {
                            s.history(&HistoryQuery {
                                since: Some(since),
                                limit: 20_000,
                                ..Default::default()
                            })
                        })
                        .await
                        .map(|runs| {
                            html(
                                StatusCode::OK,
                                pages::timeline(&jobs, &runs, window, now, &view),
                            )
                        }),
                    Err(e) => Err(e),
                }
            }
            "/api/jobs" => self
                .jobs_page(monitor, now, 1)
                .await
                .map(|jobs| json(StatusCode::OK, &api::jobs(&jobs))),
            "/api/runs" => match api::RunsQuery::parse(&query) {
                Err(msg) => Ok(json(StatusCode::BAD_REQUEST, &error_body(&msg))),
                Ok(q) => {
                    let history = q.history_query();
                    self.read(move |s| s.history(&history))
                        .await
                        .map(|runs| json(StatusCode::OK, &q.filter(runs)))
                }
            },
            p if p.starts_with("/api/runs/") => match p["/api/runs/".len()..].parse::<i64>() {
                Err(_) => Ok(json(StatusCode::NOT_FOUND, &error_body("no such run"))),
                Ok(id) => self.read(move |s| s.run(id)).await.map(|run| match run {
                    Some(run) => json(StatusCode::OK, &run),
                    None => json(StatusCode::NOT_FOUND, &error_body("no such run")),
                }),
            },
            p if p.starts_with("/runs/") => match p["/runs/".len()..].parse::<i64>() {
                Err(_) => Ok(not_found(&view)),
                Ok(id) => self.read(move |s| s.run(id)).await.map(|run| match run {
                    Some(run) => {
                        let tz = self.zone(&run.job);
                        html(StatusCode::OK, pages::run(&run, tz, now, &view))
                    }
                    None => not_found(&view),
                }),
            },
            p if p.starts_with("/jobs/") => {
                let name = decode(&p["/jobs/".len()..]);
                match self.jobs.iter().find(|j| *j.name == *name).cloned() {
                    None => Ok(not_found(&view)),
                    Some(job) => {
                        let n = job.name.to_string();
                        let paused = self.read(|s| s.paused()).await;
                        self.read(move |s| {
                            s.history(&HistoryQuery {
                                job: Some(n),
                                limit: 200,
                                ..Default::default()
                            })
                        })
                        .await
                        .and_then(|runs| Ok((runs, paused?)))
                        .map(|(runs, paused)| {
                            let notes = self.notes.get(&*job.name).cloned().unwrap_or_default();
                            let paused = paused.iter().any(|p| *p == *job.name);
                            html(
                                StatusCode::OK,
                                pages::job(&job, &runs, paused, &notes, now, &view),
                            )
                        })
                    }
                }
            }
            _ => Ok(not_found(&view)),
        };
        result.unwrap_or_else(|e| {
            if path.starts_with("/api/") {
                json(StatusCode::SERVICE_UNAVAILABLE, &error_body(&e))
            } else {
                html(
                    StatusCode::SERVICE_UNAVAILABLE,
                    pages::error("The history cannot be read", &e, &view),
                )
            }
        })
    }

    /// `POST /login` and the actions, `POST /jobs/NAME/{trigger,pause,resume}`.
    async fn post(&self, req: Request<Incoming>, path: &str, who: auth::Who) -> Reply {
        if !auth::same_origin(req.headers()) {
            return text(StatusCode::FORBIDDEN, "cross-origin request refused\n");
        }
        let bearer = matches!(who, auth::Who::Bearer);
        let body = match Limited::new(req.into_body(), 16 * 1024).collect().await {
            Ok(body) => body.to_bytes(),
            Err(_) => return text(StatusCode::PAYLOAD_TOO_LARGE, "the form is too large\n"),
        };
        let form = parse_form(&String::from_utf8_lossy(&body));
        if path == "/login" {
            return match self.auth.login(form.get("token").map(String::as_str)) {
                Some(cookie) => {
                    let mut reply = redirect("/");
                    if let Ok(value) = HeaderValue::from_str(&cookie) {
                        reply.headers_mut().insert(header::SET_COOKIE, value);
                    }
                    reply
                }
                None => html(
                    StatusCode::UNAUTHORIZED,
                    pages::login(Some(if self.auth.enabled() {
                        "That is not the token."
                    } else {
                        "No token is configured: actions are off."
                    })),
                ),
            };
        }
        let Some(rest) = path.strip_prefix("/jobs/") else {
            return text(StatusCode::NOT_FOUND, "nothing to post here\n");
        };
        let Some((name, action)) = rest.rsplit_once('/') else {
            return text(StatusCode::NOT_FOUND, "nothing to post here\n");
        };
        if let Err((code, msg)) = self.auth.allow_action(&who, form.get("csrf")) {
            return text(code, &format!("{msg}\n"));
        }
        let name = decode(name);
        let Some(job) = self.jobs.iter().find(|j| *j.name == *name) else {
            return text(StatusCode::NOT_FOUND, &format!("no job `{name}`\n"));
        };
        let job = job.name.to_string();
        let now = Utc::now();
        let done = match action {
            "pause" | "resume" => {
                let paused = action == "pause";
                let j = job.clone();
                self.read(move |s| s.set_paused(&[&*j], paused, now))
                    .await
                    .map(|()| None)
            }
            "trigger" => {
                let j = job.clone();
                self.read(move |s| s.add_request(&j, now, false))
                    .await
                    .map(Some)
            }
            _ => return text(StatusCode::NOT_FOUND, "unknown action\n"),
        };
        match done {
            Err(e) => text(StatusCode::SERVICE_UNAVAILABLE, &format!("{e}\n")),
            Ok(request) if bearer => json(
                StatusCode::OK,
                &serde_json::json!({ "job": job, "action": action, "request_id": request }),
            ),
            Ok(_) => redirect(&format!("/jobs/{job}")),
        }
    }

    /// The jobs with their live state and their `runs` newest runs: the
    /// strip needs 30, the API the last one (one query for all jobs).
    async fn jobs_page(
        &self,
        monitor: &Monitor,
        now: DateTime<Utc>,
        runs: usize,
    ) -> Result<Vec<JobView>, String> {
        let snapshot = monitor.probe().await;
        let names: Vec<String> = self.jobs.iter().map(|j| j.name.to_string()).collect();
        let (paused, mut recent) = self
            .read(move |s| {
                let paused = s.paused()?;
                let mut recent = HashMap::new();
                if runs == 1 {
                    let names: Vec<&str> = names.iter().map(String::as_str).collect();
                    for (name, run) in s.last_runs(&names)? {
                        recent.insert(name, vec![run]);
                    }
                    return Ok((paused, recent));
                }
                for name in names.into_iter().filter(|_| runs > 0) {
                    let runs = s.history(&HistoryQuery {
                        job: Some(name.clone()),
                        limit: runs,
                        ..Default::default()
                    })?;
                    recent.insert(name, runs);
                }
                Ok((paused, recent))
            })
            .await?;
        let live: HashMap<&str, _> = snapshot
            .as_ref()
            .map(|s| s.jobs.iter().map(|j| (j.name.as_str(), j)).collect())
            .unwrap_or_default();
        Ok(self
            .jobs
            .iter()
            .map(|job| {
                let state = live.get(&*job.name);
                let next = match state {
                    Some(s) => s.next,
                    None => job
                        .settings
                        .enabled
                        .then(|| job.schedule.next_after(now))
                        .flatten(),
                };
                JobView {
                    job: Arc::clone(job),
                    paused: paused.iter().any(|p| *p == *job.name),
                    next: next.filter(|_| job.settings.enabled),
                    running: state.map_or(0, |s| s.running),
                    overdue: state.is_some_and(|s| s.overdue_since.is_some()),
                    recent: recent.remove(&*job.name).unwrap_or_default(),
                }
            })
            .collect())
    }

    fn zone(&self, job: &str) -> chrono_tz::Tz {
        self.jobs
            .iter()
            .find(|j| &*j.name == job)
            .map_or(chrono_tz::Tz::UTC, |j| j.settings.timezone)
    }

    /// Runs `f` on the dashboard's own store connection, on the blocking
    /// pool; a failed call drops the connection so the next one reopens it.
    /// The connection may write: the actions (pause, resume, trigger) do.
    async fn read<T: Send + 'static>(
        &self,
        f: impl FnOnce(&mut dyn Store) -> store::Result<T> + Send + 'static,
    ) -> Result<T, String> {
        let cell = Arc::clone(&self.store);
        let location = self.location.clone();
        let work = tokio::task::spawn_blocking(move || {
            let mut guard = cell.lock().unwrap_or_else(|p| p.into_inner());
            if guard.is_none() {
                *guard = Some(store::open(&location, Mode::Write).map_err(|e| e.to_string())?);
            }
            let Some(store) = guard.as_mut() else {
                return Err("no store".to_string());
            };
            let result = f(store.as_mut()).map_err(|e| e.to_string());
            if result.is_err() {
                *guard = None;
            }
            result
        });
        work.await.map_err(|e| format!("the query failed: {e}"))?
    }
}

/// `a=1&b=x+y` → a map; the last of a repeated key wins.
pub fn parse_form(s: &str) -> HashMap<String, String> {
    s.split('&')
        .filter(|p| !p.is_empty())
        .map(|p| match p.split_once('=') {
            Some((k, v)) => (decode(k), decode(v)),
            None => (decode(p), String::new()),
        })
        .collect()
}

/// Percent-decoding (and `+` as a space), lossy on bad UTF-8.
pub fn decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' => {
                let hex = bytes
                    .get(i + 1..i + 3)
                    .filter(|h| h.iter().all(u8::is_ascii_hexdigit))
                    .and_then(|h| std::str::from_utf8(h).ok())
                    .and_then(|h| u8::from_str_radix(h, 16).ok());
                match hex {
                    Some(b) => {
                        out.push(b);
                        i += 2;
                    }
                    None => out.push(b'%'),
                }
            }
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn error_body(msg: &str) -> serde_json::Value {
    serde_json::json!({ "error": msg })
}

/// The content hash that versions the asset URLs, so they can be cached
/// for a year.
pub fn asset_version() -> String {
    let mut h: u64 = 0xcbf29ce484222325;
    for b in STYLE.bytes().chain(SCRIPT.bytes()) {
        h ^= b as u64;
        h = h.wrapping_mul(0x100000001b3);
    }
    format!("{:012x}", h & 0xffff_ffff_ffff)
}

fn asset(path: &str) -> Reply {
    let (body, kind) = match path {
        "/assets/style.css" => (STYLE, "text/css; charset=utf-8"),
        "/assets/app.js" => (SCRIPT, "text/javascript; charset=utf-8"),
        _ => return text(StatusCode::NOT_FOUND, "no such asset\n"),
    };
    let mut reply = respond_with(StatusCode::OK, kind, body.to_string());
    reply.headers_mut().insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=31536000, immutable"),
    );
    reply
}

fn not_found(view: &pages::AuthView) -> Reply {
    html(
        StatusCode::NOT_FOUND,
        pages::error("Not found", "There is nothing here.", view),
    )
}

fn html(code: StatusCode, markup: maud::Markup) -> Reply {
    let mut reply = respond_with(code, "text/html; charset=utf-8", markup.into_string());
    let headers = reply.headers_mut();
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    reply
}

fn json<T: serde::Serialize + ?Sized>(code: StatusCode, value: &T) -> Reply {
    let mut reply = respond_with(code, "application/json", crate::output::json(value));
    reply
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    reply
}

fn text(code: StatusCode, body: &str) -> Reply {
    respond_with(code, "text/plain; charset=utf-8", body.to_string())
}

fn redirect(to: &str) -> Reply {
    let mut reply = respond_with(
        StatusCode::SEE_OTHER,
        "text/plain; charset=utf-8",
        String::new(),
    );
    if let Ok(value) = HeaderValue::from_str(to) {
        reply.headers_mut().insert(header::LOCATION, value);
    }
    reply
}

fn respond_with(code: StatusCode, kind: &str, body: String) -> Reply {
    let mut reply = Response::new(Full::new(Bytes::from(body)));
    *reply.status_mut() = code;
    let headers = reply.headers_mut();
    if let Ok(value) = HeaderValue::from_str(kind) {
        headers.insert(header::CONTENT_TYPE, value);
    }
    // Nothing but our own assets, and no inline script: a job's output that
    // slipped through as markup still could not run.
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(
            "default-src 'none'; style-src 'self'; script-src 'self'; img-src 'self'; \
             connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
        ),
    );
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("same-origin"),
    );
    reply
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forms_decode_without_panicking_on_junk() {
        let f = parse_form("job=a%2Fb&status=failed+x&limit=%&x=%zz&y=%4");
        assert_eq!(f["job"], "a/b");
        assert_eq!(f["status"], "failed x");
        assert_eq!(f["limit"], "%");
        assert_eq!(f["x"], "%zz");
        assert_eq!(f["y"], "%4");
        assert_eq!(decode("%E2%9C%93"), "✓");
        assert_eq!(decode("%ff"), "\u{fffd}");
    }
}
