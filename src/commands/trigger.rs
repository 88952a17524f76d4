//! `schedule trigger JOB [--wait]`: run a job now.
//!
//! With a scheduler running on the database (it holds the lock), the run is
//! handed to it through the `requests` table, so the job's overlap policy and
//! `max_concurrent` still apply; with `--wait` we follow the run's row and
//! its live output, which the scheduler writes to `live_output`. Without a
//! scheduler, this command takes the lock and runs the job itself.

use chrono::Utc;
use std::io::Write;
use std::time::{Duration, Instant};

use crate::cli::{Global, TriggerArgs};
use crate::config::{self, Job};
use crate::domain::{NewRun, Role, RunRecord, Status, Trigger};
use crate::error::Error;
use crate::runner::{self, Control, RunInfo};
use crate::store::{self, Location, Lock, Mode, Worker};

/// How often a waiting client looks at the database.
const POLL: Duration = Duration::from_millis(100);
/// How long a running scheduler may take to pick up a request.
const PICKUP: Duration = Duration::from_secs(30);

pub fn run(global: &Global, args: &TriggerArgs) -> Result<(), Error> {
    let config = config::load(&global.config)?;
    let job = super::find_job(&config, &args.job)?.clone();
    let host = super::run::hostname();
    let location = global.location()?;
    match store::lock_with_mode(&location, &host, Role::Trigger, config.scheduler.db_mode) {
        Ok(lock) => run_here(&location, &job, args.wait, &host, lock),
        Err(store::LockError::Held(holder)) if holder.role == Role::Scheduler => {
            hand_off(&location, &job, args.wait, holder.pid)
        }
        Err(e) => Err(Error::from_lock(&location, e)),
    }
}

/// No scheduler runs: run the job in this process, holding the database's
/// lock (as `trigger`) so that no scheduler starts beside it and takes its
/// run for a dead scheduler's.
fn run_here(
    location: &Location,
    job: &Job,
    wait: bool,
    host: &str,
    _lock: Lock,
) -> Result<(), Error> {
    let mut store = store::open(location, Mode::Write)?;
    let now = Utc::now();
    let new_run = NewRun {
        job: job.name.clone(),
        scheduled_for: now,
        attempt: 1,
        trigger: Trigger::Manual,
        started_at: now,
        host: host.to_string(),
        pid: std::process::id(),
    };
    let Some(run_id) = store.claim(std::slice::from_ref(&new_run))?[0] else {
        return Err(Error::Runtime(
            "this instant was already recorded for the job; try again".into(),
        ));
    };
    eprintln!(
        "running `{}` here (no scheduler is running on {location}): run {run_id}",
        job.name,
    );
    // The database is written off the runtime's thread, as the scheduler
    // does: a PostgreSQL store drives a runtime of its own.
    let store = Worker::spawn(store)
        .map_err(|e| Error::Runtime(format!("cannot start the store's thread: {e}")))?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| Error::Runtime(format!("cannot start the async runtime: {e}")))?;
    let outcome = runtime.block_on(async {
        use tokio::signal::unix::{SignalKind, signal};
        let (live_tx, mut live_rx) =
            tokio::sync::mpsc::unbounded_channel::<(&'static str, Vec<u8>)>();
        let echo = tokio::spawn(async move {
            while let Some((stream, data)) = live_rx.recv().await {
                if wait {
                    write_chunk(stream, &data);
                }
            }
        });
        let (control, control_rx) = tokio::sync::watch::channel(Control::Run);
        let info = RunInfo {
            run_id,
            scheduled_for: now,
            live: Some(live_tx),
        };
        // The job leads its own process group, so Ctrl-C reaches only us:
        // stop the job (a second signal kills it) and record its end.
        let mut sigint = signal(SignalKind::interrupt()).ok();
        let mut sigterm = signal(SignalKind::terminate()).ok();
        let outcome = {
            let run = runner::run(job, &info, control_rx, |pid| {
                // Where a later `schedule run` finds what is left if we die.
                store.send(move |s| {
                    let _ = s.set_child_pid(run_id, pid);
                });
            });
            tokio::pin!(run);
            let mut signals = 0;
            loop {
                tokio::select! {
                    outcome = &mut run => break outcome,
                    Some(_) = async { sigint.as_mut()?.recv().await } => signals += 1,
                    Some(_) = async { sigterm.as_mut()?.recv().await } => signals += 1,
                }
                let _ = control.send(if signals > 1 {
                    Control::Kill
                } else {
                    Control::Terminate
                });
            }
        };
        drop(info);
        // A background process may hold the pipes open: do not wait for it.
        let _ = tokio::time::timeout(Duration::from_millis(200), echo).await;
        let ended = store.call(move |s| {
            s.finish(run_id, &outcome)?;
            s.run(run_id)
        });
        ended.await
    });
    let record = outcome
        .ok_or_else(|| Error::Runtime("the store's thread is gone".into()))??
        .ok_or_else(|| Error::Runtime(format!("run {run_id} vanished from the history")))?;
    finish(&record, wait)
}

/// A scheduler runs: hand the run to it, and follow it with `--wait`.
fn hand_off(location: &Location, job: &Job, wait: bool, pid: Option<u32>) -> Result<(), Error> {
    let mut store = store::open(location, Mode::Read)?;
    let request = store.add_request(&job.name, Utc::now(), wait)?;
    let scheduler = pid.map_or("the running scheduler".to_string(), |p| {
        format!("the running scheduler (pid {p})")
    });
    eprintln!("`{}` handed to {scheduler}", job.name);
    if !wait {
        return Ok(());
    }
    let asked = Instant::now();
    let scheduler_gone = || super::running_scheduler(location).is_none();
    let run_id = loop {
        let state = store.request_state(request)?;
        if let Some(error) = state.error {
            return Err(Error::Runtime(format!(
                "`{}` was not run: {error}",
                job.name
            )));
        }
        if let Some(run_id) = state.run_id {
            break run_id;
        }
        let gone = scheduler_gone();
        if !state.taken && (gone || asked.elapsed() > PICKUP) && store.withdraw_request(request)? {
            return Err(Error::Runtime(if gone {
                format!("{scheduler} stopped before it took the request; nothing was run")
            } else {
                format!(
                    "{scheduler} did not take the request within {}s; nothing was run",
                    PICKUP.as_secs()
                )
            }));
        }
        if state.taken && gone {
            return Err(Error::Runtime(format!(
                "{scheduler} stopped before the run started"
            )));
        }
        std::thread::sleep(POLL);
    };
    eprintln!("run {run_id}");
    let mut seen = 0;
    let mut polls: u32 = 0;
    loop {
        // Read the state first: output written before the end is all in.
        let record = store
            .run(run_id)?
            .ok_or_else(|| Error::Runtime(format!("run {run_id} vanished from the history")))?;
        for chunk in store.output_after(run_id, seen)? {
            write_chunk(&chunk.stream, &chunk.data);
            seen = chunk.seq;
        }
        if record.status != Status::Running {
            store.delete_output(run_id)?;
            return finish(&record, true);
        }
        polls += 1;
        if polls.is_multiple_of(10) && scheduler_gone() {
            return Err(Error::Runtime(format!(
                "{scheduler} stopped during run {run_id}; the next `schedule run` marks it interrupted"
            )));
        }
        std::thread::sleep(POLL);
    }
}

/// Writes a chunk of the job's output where the job wrote it.
fn write_chunk(stream: &str, data: &[u8]) {
    let _ = if stream == "stderr" {
        std::io::stderr().write_all(data)
    } else {
        std::io::stdout()
            .write_all(data)
            .and_then(|_| std::io::stdout().flush())
    };
}

/// Says how the run ended; with `--wait`, exits as the job did.
fn finish(record: &RunRecord, wait: bool) -> Result<(), Error> {
    let mut summary = format!("run {} of `{}`: {}", record.id, record.job, record.status);
    if let Some(reason) = &record.reason {
        summary.push_str(&format!(" ({reason})"));
    }
    eprintln!("{summary}");
    let code = exit_code(record);
    if wait && code != 0 {
        return Err(Error::JobExit(code));
    }
    Ok(())
}

/// The job's exit code; 128 + n for a signal, as shells do; 1 when it did
/// not run.
pub fn exit_code(record: &RunRecord) -> i32 {
    match (record.status, record.exit_code, record.signal) {
        (Status::Succeeded, _, _) => 0,
        (_, Some(code), _) if code != 0 => code,
        (_, _, Some(signal)) => 128 + signal,
        _ => 1,
    }
}
