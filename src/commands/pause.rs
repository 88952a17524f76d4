//! `schedule pause` and `schedule resume`: stored in the database, so they
//! survive restarts; a running scheduler notices at once.

use chrono::Utc;

use crate::cli::{Global, PauseArgs};
use crate::error::Error;
use crate::store::{self, Mode};

pub fn run(global: &Global, args: &PauseArgs, pause: bool) -> Result<(), Error> {
    let config = super::config_for_acting(global)?;
    let location = global.location()?;
    // Resuming also reaches jobs that are paused but gone from the config
    // (so that one added back later does not come back paused).
    let paused = if !pause && store::exists(&location) {
        store::open(&location, Mode::Read)?.paused()?
    } else {
        Vec::new()
    };
    let jobs: Vec<&str> = if args.all {
        let mut jobs: Vec<&str> = config.jobs.iter().map(|j| j.name.as_str()).collect();
        jobs.extend(
            paused
                .iter()
                .map(String::as_str)
                .filter(|p| config.job(p).is_none()),
        );
        jobs
    } else {
        let mut jobs = Vec::new();
        for name in &args.jobs {
            match paused.iter().find(|p| *p == name) {
                Some(p) if config.job(p).is_none() => jobs.push(p.as_str()),
                _ => jobs.push(super::find_job(&config, name)?.name.as_str()),
            }
        }
        jobs
    };
    // Only now, with every name checked: bad input changes nothing.
    let mut store = store::open(&location, Mode::Write)?;
    store.set_paused(&jobs, pause, Utc::now())?;
    let (verb, effect) = if pause {
        (
            "paused",
            "their fires are recorded `skipped` until `schedule resume`",
        )
    } else {
        ("resumed", "they fire on schedule again")
    };
    let who = match super::running_scheduler(&location) {
        Some(Some(pid)) => format!("the running scheduler (pid {pid}) applies it now"),
        Some(None) => "the running scheduler applies it now".to_string(),
        None => "no scheduler is running; it applies when one starts".to_string(),
    };
    super::print(&format!("{verb}: {}\n{effect}; {who}\n", jobs.join(", ")))
}
