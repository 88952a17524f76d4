//! `schedule run`: load the config, take the database, start the loop.

use crate::cli::{Global, RunArgs};
use crate::config;
use crate::error::Error;
use crate::http;
use crate::monitor::Monitor;
use crate::scheduler::{Options, Scheduler};
use crate::store::{Role, SchedulerLock, SqliteStore};
use std::sync::Arc;

pub fn run(global: &Global, args: &RunArgs) -> Result<(), Error> {
    // Bad config is reported before anything is opened or written.
    let config = config::load(&global.config)?;
    let host = hostname();
    let _lock = SchedulerLock::acquire(&global.db, &host, Role::Scheduler)?;
    // A port in use is found before the database is created or touched.
    let monitor = match args.http.or(config.scheduler.http) {
        Some(addr) => {
            let (monitor, probes) = Monitor::new();
            let monitor = Arc::new(monitor);
            let bound = http::serve(addr, Arc::clone(&monitor))?;
            tracing::info!(address = %bound, "serving /health and /metrics");
            Some((monitor, probes))
        }
        None => None,
    };
    let store = SqliteStore::open(&global.db, true)?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| Error::Runtime(format!("cannot start the async runtime: {e}")))?;
    let opts = Options {
        config_path: global.config.clone(),
        db_path: global.db.clone(),
        shutdown_grace: args.shutdown_grace,
        host: host.clone(),
    };
    let mut scheduler = Scheduler::new(config, Box::new(store), host);
    if let Some((monitor, probes)) = monitor {
        scheduler = scheduler.monitored(monitor, probes);
    }
    runtime.block_on(scheduler.run(&opts))
}

/// This machine's name, as recorded with each run.
pub fn hostname() -> String {
    nix::unistd::gethostname()
        .ok()
        .and_then(|h| h.into_string().ok())
        .unwrap_or_else(|| "localhost".to_string())
}
