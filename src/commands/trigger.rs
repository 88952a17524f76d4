//! `schedule trigger JOB [--wait]`: run a job now.
//!
//! With a scheduler running on the database (it holds the lock), the run is
//! handed to it through the `requests` table, so the job's overlap policy and
//! `max_concurrent` still apply; with `--wait` we follow the run's row and
//! its live output, which the scheduler writes to `live_output`. Without a
//! scheduler, this command takes the lock and runs the job itself.

use chrono::Utc;
use std::io::Write;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use crate::cli::{Global, TriggerArgs};
use crate::config::Job;
use crate::domain::{NewRun, Role, RunRecord, Status, Trigger};
use crate::error::Error;
use crate::runner::{self, Control, RunInfo};
use crate::store::{self, Location, Lock, Mode, Worker};

/// How often a waiting client looks at the database.
const POLL: Duration = Duration::from_millis(100);
/// How long a running scheduler may take to pick up a request.
const PICKUP: Duration = Duration::from_secs(30);

pub fn run(global: &Global, args: &TriggerArgs) -> Result<(), Error> {
    let config = super::config_for_acting(global)?;
    let job = super::find_job(&config, &args.job)?.clone();
    let host = super::run::hostname();
    let location = global.location()?;
    match store::lock_with_mode(&location, &host, Role::Trigger, config.scheduler.db_mode) {
        Ok(lock) => run_here(&location, &job, args.wait, &host, lock, global.quiet),
        Err(store::LockError::Held(holder)) if holder.role == Role::Scheduler => {
            hand_off(&location, &job, args.wait, holder.pid, global.quiet)
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
    quiet: u8,
) -> Result<(), Error> {
    let mut store = store::open(location, Mode::Write)?;
    let now = Utc::now();
    let new_run = NewRun {
        job: job.name.to_string(),
        scheduled_for: now,
        slot: 0,
        nominal: None,
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
    say(
        quiet,
        &format!(
            "running `{}` here (no scheduler is running on {location}): run {run_id}",
            job.name,
        ),
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
            live: Some(std::sync::Arc::new(move |stream, data| {
                let _ = live_tx.send((stream, data));
            })),
            follow: None,
            output: crate::config::JobOutput::Log,
            prefix: false,
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
            let mut first: Option<&str> = None;
            let mut outcome = loop {
                let name = tokio::select! {
                    outcome = &mut run => break outcome,
                    Some(_) = async { sigint.as_mut()?.recv().await } => "Ctrl-C (SIGINT)",
                    Some(_) = async { sigterm.as_mut()?.recv().await } => "SIGTERM",
                };
                signals += 1;
                first.get_or_insert(name);
                let _ = control.send(if signals > 1 {
                    Control::Kill
                } else {
                    Control::Terminate
                });
            };
            // Not "the scheduler shut down": no scheduler was involved.
            if let Some(name) = first
                && outcome.status == crate::domain::Ended::Cancelled
            {
                outcome.reason = Some(format!("stopped by {name} of `schedule trigger`"));
            }
            outcome
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
    finish(&record, wait, quiet)
}

/// A scheduler runs: hand the run to it, and follow it with `--wait`.
fn hand_off(
    location: &Location,
    job: &Job,
    wait: bool,
    pid: Option<u32>,
    quiet: u8,
) -> Result<(), Error> {
    let mut store = store::open(location, Mode::Write)?;
    let request = store.add_request(&job.name, Utc::now(), wait)?;
    let scheduler = pid.map_or("the running scheduler".to_string(), |p| {
        format!("the running scheduler (pid {p})")
    });
    say(quiet, &format!("`{}` handed to {scheduler}", job.name));
    if !wait {
        return Ok(());
    }
    catch_interrupt();
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
        if INTERRUPTED.load(Ordering::Relaxed) {
            if !state.taken && store.withdraw_request(request)? {
                eprintln!("stopped waiting; the request was withdrawn and nothing was run");
                return Err(Error::JobExit(130));
            }
            eprintln!(
                "stopped waiting; {scheduler} took the request and the run goes on there \
                 (`schedule history {}` shows it)",
                job.name
            );
            return Err(Error::JobExit(130));
        }
        if state.taken && gone {
            return Err(Error::Runtime(format!(
                "{scheduler} stopped before the run started"
            )));
        }
        std::thread::sleep(POLL);
    };
    say(quiet, &format!("run {run_id}"));
    let mut record = follow(store.as_mut(), run_id, true, &scheduler, location)?;
    // A failed attempt that the job retries: follow the fire to its last
    // attempt, and exit as that one did.
    while matches!(record.status, Status::Failed | Status::TimedOut)
        && record.attempt <= job.settings.retries
    {
        let wait = retry_wait(job, record.attempt);
        say(
            quiet,
            &format!(
                "run {} of `{}`: {} (attempt {} of {}); a retry follows in about {}",
                record.id,
                job.name,
                record.status,
                record.attempt,
                job.settings.retries + 1,
                crate::duration::human(wait)
            ),
        );
        let Some(next) = next_attempt(store.as_mut(), &record, wait, location)? else {
            say(
                quiet,
                &format!(
                    "no attempt {} came (the scheduler stopped, or its config changed); \
                     `schedule history {}` shows the fire",
                    record.attempt + 1,
                    job.name
                ),
            );
            break;
        };
        say(
            quiet,
            &format!("run {next} (attempt {})", record.attempt + 1),
        );
        // Retries are not streamed: their output comes when they end.
        record = follow(store.as_mut(), next, false, &scheduler, location)?;
        write_chunk("stdout", record.stdout_tail.as_bytes());
        write_chunk("stderr", record.stderr_tail.as_bytes());
    }
    finish(&record, true, quiet)
}

/// The longest a retry of `attempt` should take to start: the engine's
/// backoff (doubling, capped, plus up to 10 %) and time to pick it up.
fn retry_wait(job: &Job, attempt: u32) -> Duration {
    let doubled = job
        .settings
        .retry_backoff
        .saturating_mul(1u32 << (attempt.saturating_sub(1)).min(20));
    doubled.min(job.settings.retry_backoff_max).mul_f64(1.1)
}

/// The row of the attempt after `record`'s, once the scheduler wrote it;
/// `None` when it did not come within `wait` and a grace, or the
/// scheduler stopped.
fn next_attempt(
    store: &mut dyn store::Store,
    record: &RunRecord,
    wait: Duration,
    location: &Location,
) -> Result<Option<i64>, Error> {
    let deadline = Instant::now() + wait + PICKUP;
    let query = crate::domain::HistoryQuery {
        job: Some(record.job.clone()),
        since: Some(record.scheduled_for),
        limit: 100,
        ..Default::default()
    };
    let mut polls: u32 = 0;
    while Instant::now() < deadline && !INTERRUPTED.load(Ordering::Relaxed) {
        let next = store
            .history(&query)?
            .into_iter()
            .find(|r| r.scheduled_for == record.scheduled_for && r.attempt == record.attempt + 1);
        if let Some(next) = next {
            return Ok(Some(next.id));
        }
        polls += 1;
        if polls.is_multiple_of(10) && super::running_scheduler(location).is_none() {
            return Ok(None);
        }
        std::thread::sleep(POLL);
    }
    Ok(None)
}

/// Follows run `run_id` until it ends, writing its live output (`live`).
fn follow(
    store: &mut dyn store::Store,
    run_id: i64,
    live: bool,
    scheduler: &str,
    location: &Location,
) -> Result<RunRecord, Error> {
    let mut seen = 0;
    let mut polls: u32 = 0;
    loop {
        // Read the state first: output written before the end is all in.
        let record = store
            .run(run_id)?
            .ok_or_else(|| Error::Runtime(format!("run {run_id} vanished from the history")))?;
        if live {
            for chunk in store.output_after(run_id, seen)? {
                write_chunk(&chunk.stream, &chunk.data);
                seen = chunk.seq;
            }
        }
        if record.status == Status::Running && INTERRUPTED.load(Ordering::Relaxed) {
            let stop = match record.child_pid {
                Some(pid) => format!("; to stop it: kill -TERM -{pid} (its process group)"),
                None => String::new(),
            };
            eprintln!(
                "\nstopped following run {run_id}: it goes on in {scheduler}; \
                 `schedule show {run_id}` shows how it ended{stop}"
            );
            return Err(Error::JobExit(130));
        }
        if record.status != Status::Running {
            if live {
                store.delete_output(run_id)?;
            }
            return Ok(record);
        }
        polls += 1;
        if polls.is_multiple_of(10) && super::running_scheduler(location).is_none() {
            return Err(Error::Runtime(format!(
                "{scheduler} stopped during run {run_id}; the next `schedule run` marks it interrupted"
            )));
        }
        std::thread::sleep(POLL);
    }
}

/// Set by SIGINT/SIGTERM while a handed-off run is followed.
static INTERRUPTED: AtomicBool = AtomicBool::new(false);

extern "C" fn on_interrupt(_: libc::c_int) {
    INTERRUPTED.store(true, Ordering::Relaxed);
}

/// Ctrl-C of a `trigger --wait` that handed the run off stops the waiting,
/// not the run: the loops look at [`INTERRUPTED`] and say so.
fn catch_interrupt() {
    use nix::sys::signal::{SaFlags, SigAction, SigHandler, SigSet, Signal, sigaction};
    let action = SigAction::new(
        SigHandler::Handler(on_interrupt),
        SaFlags::SA_RESTART,
        SigSet::empty(),
    );
    for signal in [Signal::SIGINT, Signal::SIGTERM] {
        // SAFETY: the handler only stores to an atomic.
        let _ = unsafe { sigaction(signal, &action) };
    }
}

/// Narration on stderr, which `-q` silences.
fn say(quiet: u8, line: &str) {
    if quiet == 0 {
        eprintln!("{line}");
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
/// `-q` keeps the line of a run that went wrong; `-qq` drops it too.
fn finish(record: &RunRecord, wait: bool, quiet: u8) -> Result<(), Error> {
    let mut summary = format!("run {} of `{}`: {}", record.id, record.job, record.status);
    if record.attempt > 1 {
        summary.push_str(&format!(" (attempt {})", record.attempt));
    }
    if let Some(reason) = &record.reason {
        summary.push_str(&format!(" ({reason})"));
    }
    let code = exit_code(record);
    if quiet == 0 || (quiet == 1 && code != 0) {
        eprintln!("{summary}");
    }
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
