//! `schedule pause` and `schedule resume`: stored in the database, so they
//! survive restarts; a running scheduler notices at once.

use chrono::Utc;

use crate::cli::{Global, PauseArgs};
use crate::error::Error;
use crate::store::{self, Mode};

/// How long `pause` waits for a running scheduler to acknowledge it.
const ACK_WAIT: std::time::Duration = std::time::Duration::from_secs(5);

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
        let mut jobs: Vec<&str> = config.jobs.iter().map(|j| &*j.name).collect();
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
                _ => jobs.push(&*super::find_job(&config, name)?.name),
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
    // Said only once the scheduler says so: it acknowledges the version of
    // the pauses it applied.
    let who = match super::running_scheduler(&location) {
        Some(pid) => {
            let scheduler = pid.map_or("the running scheduler".to_string(), |p| {
                format!("the running scheduler (pid {p})")
            });
            let (version, _) = store.controls()?;
            let deadline = std::time::Instant::now() + ACK_WAIT;
            loop {
                if store.controls()?.1 >= version {
                    break format!("{scheduler} applied it");
                }
                if std::time::Instant::now() >= deadline {
                    break format!(
                        "{scheduler} has not applied it yet (no answer within {}s); it applies \
                         it when it next reads the database",
                        ACK_WAIT.as_secs()
                    );
                }
                std::thread::sleep(std::time::Duration::from_millis(50));
            }
        }
        None => "no scheduler is running; it applies when one starts".to_string(),
    };
    super::print(&format!("{verb}: {}\n{effect}; {who}\n", jobs.join(", ")))
}
