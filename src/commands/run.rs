//! `schedule run`: load the config, take the database, start the loop.

use crate::cli::{Global, RunArgs};
use crate::config;
use crate::domain::Role;
use crate::error::Error;
use crate::http;
use crate::monitor::Monitor;
use crate::scheduler::{Options, Scheduler};
use crate::store::{self, Mode, Worker};
use std::sync::Arc;

pub fn run(global: &Global, args: &RunArgs) -> Result<(), Error> {
    http::raise_fd_limit();
    // With --http, /health answers from the start: 503 "starting" while
    // the config loads.
    let early = match args.http {
        Some(addr) => Some(serve(addr, None)?),
        None => None,
    };
    // Bad config is reported before anything is opened or written. A big
    // one takes seconds to load and check, during which a stop is answered.
    let path = global.config.clone();
    let http = args.http;
    let loaded = crate::signals::unless_stopped("load", move || {
        let config = config::load(&path)?;
        let notes = match http.or(config.scheduler.http) {
            Some(_) => check_notes(&path, &config),
            None => Default::default(),
        };
        Ok::<_, Error>((config, notes))
    })
    .map_err(|e| Error::Runtime(format!("cannot load the config: {e}")))?;
    let Some(loaded) = loaded else {
        tracing::info!("stopped while loading the config; nothing ran: scheduler stopped");
        return Ok(());
    };
    let (config, notes) = loaded?;
    crate::memory::release_freed_heap();
    // As PID 1 the kernel hands us every orphan; elsewhere we ask for what
    // our jobs leave behind, to reap it and to find it at a timeout.
    if std::process::id() != 1 && !crate::process::become_subreaper() {
        tracing::warn!("cannot become the child subreaper: orphans of jobs go to init");
    }
    let location = global.location()?;
    let host = args.host.clone().unwrap_or_else(hostname);
    let existed = store::exists(&location);
    if config.cluster.is_some() && matches!(location, store::Location::Sqlite(_)) {
        return Err(Error::Usage(format!(
            "{}: [cluster] needs a PostgreSQL database that the hosts share (--db \
             postgres://… or SCHEDULE_DB); `{location}` is a SQLite file, which serves one \
             scheduler: remove [cluster] to use it",
            global.config.display()
        )));
    }
    // One scheduler holds the database, or several hosts share it as a
    // cluster, each with its heartbeat.
    let (mut lock, member) = match &config.cluster {
        None => (
            Some(
                store::lock_with_mode(&location, &host, Role::Scheduler, config.scheduler.db_mode)
                    .map_err(|e| Error::from_lock(&location, e))?,
            ),
            None,
        ),
        Some(settings) => {
            let (hashes, config_hash) = {
                let jobs: Vec<(String, String)> = config
                    .jobs
                    .iter()
                    .map(|j| (j.name.to_string(), crate::cluster::definition_hash(j)))
                    .collect();
                let all = crate::cluster::config_hash(&jobs);
                (jobs, all)
            };
            let member = store::join(
                &location,
                store::MemberSettings {
                    name: host.clone(),
                    version: env!("CARGO_PKG_VERSION").to_string(),
                    lease: settings.lease,
                    lost_grace: settings.lost_grace,
                    beat: settings.beat(),
                    trust: settings.trust(),
                    max_skew: settings.max_skew,
                    config_hash,
                    jobs: hashes,
                },
            )
            .map_err(|e| Error::from_lock(&location, e))?;
            (None, Some(member))
        }
    };
    // A port in use is found before the database is written.
    let monitor = match (early, config.scheduler.http) {
        (Some(served), _) => {
            let _ = served.pages.set(dashboard(&config, notes, &location));
            Some((served.monitor, served.probes))
        }
        (None, Some(addr)) => {
            let pages = dashboard(&config, notes, &location);
            // The lock made an empty database file; a failed start leaves
            // nothing behind.
            let served = serve(addr, Some(pages)).inspect_err(|_| {
                if !existed {
                    store::discard_empty(&location);
                }
            })?;
            Some((served.monitor, served.probes))
        }
        (None, None) => None,
    };
    let mut store = store::open(&location, Mode::Write)?;
    if let (Some((member, _)), Some(c)) = (&member, store.cluster()) {
        c.link(member.link());
    }
    let worker = Worker::spawn(store)
        .map_err(|e| Error::Runtime(format!("cannot start the store's thread: {e}")))?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| Error::Runtime(format!("cannot start the async runtime: {e}")))?;
    let opts = Options {
        config_path: global.config.clone(),
        location,
        shutdown_grace: args.shutdown_grace,
        host: host.clone(),
    };
    let cluster = config.cluster.clone();
    let mut scheduler = Scheduler::new(config, worker, host);
    if let Some((monitor, probes)) = monitor {
        scheduler = scheduler.monitored(monitor, probes);
    }
    if let (Some((member, beats)), Some(settings)) = (member, cluster) {
        tracing::info!(
            host = %opts.host,
            first = member.first,
            lease = %crate::duration::format(settings.lease),
            takeover_delay = %crate::duration::format(settings.takeover_delay),
            "joined the cluster"
        );
        scheduler = scheduler.in_cluster(member, beats, settings);
    }
    let lost = lock.as_mut().and_then(|l| l.lost());
    let result = runtime.block_on(scheduler.run(&opts, lost));
    drop(lock);
    result
}

/// The HTTP server, and the ends of its monitor the loop takes over.
struct Served {
    monitor: Arc<Monitor>,
    probes: tokio::sync::mpsc::UnboundedReceiver<crate::monitor::Probe>,
    pages: http::Pages,
}

/// Serves /health, /metrics and the dashboard on `addr`; with no pages yet,
/// it answers that it is starting until they are set.
fn serve(
    addr: std::net::SocketAddr,
    pages: Option<crate::dashboard::Dashboard>,
) -> Result<Served, Error> {
    let (monitor, probes) = Monitor::new();
    let monitor = Arc::new(monitor);
    let cell = http::Pages::default();
    if let Some(pages) = pages {
        let _ = cell.set(pages);
    }
    let bound = http::serve(addr, Arc::clone(&monitor), Arc::clone(&cell))?;
    tracing::info!(address = %bound, "serving /health and /metrics");
    Ok(Served {
        monitor,
        probes,
        pages: cell,
    })
}

/// What `schedule check` says of each job, for the dashboard.
fn check_notes(path: &std::path::Path, config: &config::Config) -> Notes {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let search = std::env::var("PATH").ok();
    let mut notes = Notes::default();
    for w in crate::check::warnings(config, &text, chrono::Utc::now(), search.as_deref()) {
        notes.entry(w.job).or_default().push(w.message);
    }
    notes
}

type Notes = std::collections::HashMap<String, Vec<String>>;

/// The dashboard on `--http`: the jobs as the config has them now, what
/// `schedule check` says of each, and the token (`SCHEDULE_HTTP_TOKEN`
/// wins over `[scheduler] http_token`).
fn dashboard(
    config: &config::Config,
    notes: Notes,
    location: &store::Location,
) -> crate::dashboard::Dashboard {
    let token = std::env::var("SCHEDULE_HTTP_TOKEN")
        .ok()
        .map(|t| t.trim().to_string())
        .filter(|t| !t.is_empty())
        .or_else(|| config.scheduler.http_token.clone());
    crate::dashboard::Dashboard::new(
        config.jobs.clone(),
        notes,
        location.clone(),
        token,
        config.scheduler.http_token_read,
    )
}

/// This machine's name, as recorded with each run.
pub fn hostname() -> String {
    nix::unistd::gethostname()
        .ok()
        .and_then(|h| h.into_string().ok())
        .unwrap_or_else(|| "localhost".to_string())
}
