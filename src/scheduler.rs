//! The foreground loop of `schedule run`.
//!
//! # Theory of operation
//!
//! The loop keeps each enabled job's next fire instant in a min-heap and
//! sleeps until the earliest one. Nothing polls: with no job due and no run
//! ending, the process is asleep. Tokio's timers follow the monotonic clock,
//! which stops during suspend and ignores wall-clock steps, so no sleep is
//! longer than [`MAX_SLEEP`]; on every wake the loop re-reads the wall clock.
//!
//! At a fire the order is: write the cheap `running` row (the claim), spawn
//! the child, then everything else. Each run is a task of its own that
//! reports its [`Outcome`] back over a channel; the loop, which owns the
//! store, records it. A job whose previous run is still going when it is due
//! again gets a `skipped` row instead of a second run.
//!
//! Shutdown (SIGINT or SIGTERM): no new runs start; running ones get the
//! shutdown grace to finish, then their process groups are terminated
//! (SIGTERM, SIGKILL after each job's kill grace) and recorded `cancelled`.
//! A second signal kills them at once. Every run still gets its row
//! completed before the process exits.

use chrono::{DateTime, TimeDelta, Utc};
use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;
use tokio::signal::unix::{SignalKind, signal};
use tokio::sync::{mpsc, watch};
use tokio::time::{Instant, sleep_until};

use crate::config::{Config, Job};
use crate::duration;
use crate::error::Error;
use crate::runner::{self, Control, RunInfo};
use crate::store::{NewRun, Outcome, RunStore, Status};

/// The longest the loop sleeps before looking at the wall clock again.
pub const MAX_SLEEP: Duration = Duration::from_secs(60);
/// A fire found later than this on waking (after a suspend, a stopped
/// process, a clock step) was missed, not merely late: it is not run.
pub const MISSED_AFTER: TimeDelta = TimeDelta::seconds(30);
/// How soon a run end that could not be written is tried again.
const SAVE_RETRY: Duration = Duration::from_secs(1);
/// How long shutdown keeps trying to write run ends before giving up.
const UNSAVED_PATIENCE: Duration = Duration::from_secs(30);

pub struct Options {
    pub config_path: PathBuf,
    pub db_path: PathBuf,
    pub shutdown_grace: Duration,
    pub host: String,
}

struct Slot {
    job: Arc<Job>,
    running: Option<Running>,
}

struct Running {
    run_id: i64,
    control: watch::Sender<Control>,
}

/// What run tasks tell the loop.
enum Event {
    Spawned {
        run_id: i64,
        child_pid: u32,
    },
    Finished {
        slot: usize,
        run_id: i64,
        outcome: Outcome,
    },
}

pub struct Scheduler {
    slots: Vec<Slot>,
    /// (next fire in ms since the epoch, slot index), earliest first.
    queue: BinaryHeap<Reverse<(i64, usize)>>,
    store: Box<dyn RunStore>,
    host: String,
    pid: u32,
    events_tx: mpsc::UnboundedSender<Event>,
    events_rx: mpsc::UnboundedReceiver<Event>,
    /// Ends of runs that could not be written yet (a locked or full
    /// database); retried until they are, so no run stays `running`.
    unsaved: Vec<(i64, Outcome)>,
}

impl Scheduler {
    pub fn new(config: &Config, store: Box<dyn RunStore>, host: String) -> Scheduler {
        let (events_tx, events_rx) = mpsc::unbounded_channel();
        let slots = config
            .jobs
            .iter()
            .map(|job| Slot {
                job: Arc::new(job.clone()),
                running: None,
            })
            .collect();
        Scheduler {
            slots,
            queue: BinaryHeap::new(),
            store,
            host,
            pid: std::process::id(),
            events_tx,
            events_rx,
            unsaved: Vec::new(),
        }
    }

    /// Runs until SIGINT or SIGTERM, then shuts down as described above.
    pub async fn run(mut self, opts: &Options) -> Result<(), Error> {
        let mut sigint = signal(SignalKind::interrupt())
            .map_err(|e| Error::Runtime(format!("cannot listen for SIGINT: {e}")))?;
        let mut sigterm = signal(SignalKind::terminate())
            .map_err(|e| Error::Runtime(format!("cannot listen for SIGTERM: {e}")))?;

        let mut sighup = signal(SignalKind::hangup())
            .map_err(|e| Error::Runtime(format!("cannot listen for SIGHUP: {e}")))?;

        for orphan in self.store.interrupt_orphans()? {
            // Leftovers of the dead scheduler's run would overlap the next.
            let killed = match orphan.child_pid {
                Some(pgid) if orphan.host == self.host => crate::process::kill_leftovers(
                    nix::unistd::Pid::from_raw(pgid as i32),
                    orphan.id,
                ),
                _ => 0,
            };
            tracing::warn!(
                job = %orphan.job,
                run_id = orphan.id,
                scheduler_pid = orphan.pid,
                host = %orphan.host,
                killed_leftover_processes = killed,
                "run marked interrupted: the scheduler that started it is gone"
            );
        }
        let now = Utc::now();
        for (index, slot) in self.slots.iter().enumerate() {
            if !slot.job.enabled {
                tracing::info!(job = %slot.job.name, "job disabled: it will not fire");
                continue;
            }
            match slot.job.schedule.next_after(now) {
                Some(next) => self.queue.push(Reverse((next.timestamp_millis(), index))),
                None => {
                    tracing::warn!(job = %slot.job.name, "the job has no future fire: it will not run")
                }
            }
        }
        tracing::info!(
            config = %opts.config_path.display(),
            jobs = self.slots.len(),
            db = %opts.db_path.display(),
            pid = self.pid,
            "scheduler started"
        );

        loop {
            self.fire_due();
            self.save_unsaved();
            let wake = self.next_wake();
            tokio::select! {
                _ = sleep_until(wake) => {}
                Some(event) = self.events_rx.recv() => self.handle(event),
                _ = sighup.recv() => {
                    // Closing the terminal must not take the jobs down.
                    tracing::warn!("SIGHUP ignored: stop the scheduler with SIGINT or SIGTERM");
                }
                _ = sigint.recv() => { self.shutdown("SIGINT", opts, &mut sigint, &mut sigterm).await; break; }
                _ = sigterm.recv() => { self.shutdown("SIGTERM", opts, &mut sigint, &mut sigterm).await; break; }
            }
        }
        tracing::info!("scheduler stopped");
        Ok(())
    }

    /// When to look again: the earliest fire, or [`MAX_SLEEP`] from now
    /// (a second when run ends are waiting to be saved).
    fn next_wake(&self) -> Instant {
        let now = Instant::now();
        if !self.unsaved.is_empty() {
            let retry = now + SAVE_RETRY;
            return self.queue.peek().map_or(retry, |&Reverse((at_ms, _))| {
                let until = (at_ms - Utc::now().timestamp_millis()).max(0) as u64;
                retry.min(now + Duration::from_millis(until))
            });
        }
        let Some(Reverse((at_ms, _))) = self.queue.peek() else {
            return now + MAX_SLEEP;
        };
        let until = at_ms - Utc::now().timestamp_millis();
        let until = Duration::from_millis(until.max(0) as u64);
        now + until.min(MAX_SLEEP)
    }

    /// Starts (or skips) every fire that is due, and queues each job's next.
    fn fire_due(&mut self) {
        let now = Utc::now();
        while let Some(&Reverse((at_ms, index))) = self.queue.peek() {
            if at_ms > now.timestamp_millis() {
                break;
            }
            self.queue.pop();
            let scheduled_for = DateTime::from_timestamp_millis(at_ms).unwrap_or(now);
            let schedule = &self.slots[index].job.schedule;
            let mut next = schedule.next_after(scheduled_for);
            if now - scheduled_for > MISSED_AFTER {
                // The loop did not run for a while: run nothing from the gap.
                let resume = schedule.next_after(now);
                tracing::warn!(
                    job = %self.slots[index].job.name,
                    missed_from = %scheduled_for.to_rfc3339(),
                    resumes_at = ?resume.map(|t| t.to_rfc3339()),
                    "missed fires: the scheduler was not running (suspend, stop or clock step)"
                );
                next = resume;
            } else {
                self.fire(index, scheduled_for);
            }
            match next {
                Some(next) => self.queue.push(Reverse((next.timestamp_millis(), index))),
                None => {
                    tracing::warn!(job = %self.slots[index].job.name, "the job has no future fire: it will not run again")
                }
            }
        }
    }

    fn fire(&mut self, index: usize, scheduled_for: DateTime<Utc>) {
        let slot = &self.slots[index];
        let job = &slot.job;
        let started_at = Utc::now();
        let new_run = NewRun {
            job: &job.name,
            scheduled_for,
            started_at,
            host: &self.host,
            pid: self.pid,
        };
        if let Some(running) = &slot.running {
            let reason = format!("the previous run ({}) is still running", running.run_id);
            tracing::info!(job = %job.name, scheduled_for = %scheduled_for.to_rfc3339(), %reason, "fire skipped");
            if let Err(e) = self.store.record_skipped(&new_run, &reason) {
                tracing::error!(job = %job.name, error = %e, "cannot record a skipped fire");
            }
            return;
        }
        let run_id = match self.store.claim(&new_run) {
            Ok(Some(id)) => id,
            Ok(None) => {
                tracing::info!(job = %job.name, scheduled_for = %scheduled_for.to_rfc3339(), "fire already recorded; not running it twice");
                return;
            }
            Err(e) => {
                // No row, no run: a run must never go unrecorded.
                tracing::error!(job = %job.name, error = %e, "run not started: cannot record it");
                return;
            }
        };
        let (control, control_rx) = watch::channel(Control::Run);
        let job = Arc::clone(job);
        let events = self.events_tx.clone();
        let info = RunInfo {
            run_id,
            scheduled_for,
        };
        tokio::spawn(async move {
            let on_spawn = |child_pid| {
                let _ = events.send(Event::Spawned { run_id, child_pid });
            };
            let outcome = runner::run(&job, &info, control_rx, on_spawn).await;
            let _ = events.send(Event::Finished {
                slot: index,
                run_id,
                outcome,
            });
        });
        let delay_ms = (started_at - scheduled_for).num_milliseconds();
        tracing::info!(job = %self.slots[index].job.name, run_id, scheduled_for = %scheduled_for.to_rfc3339(), delay_ms, "run started");
        self.slots[index].running = Some(Running { run_id, control });
    }

    fn handle(&mut self, event: Event) {
        match event {
            Event::Spawned { run_id, child_pid } => {
                if let Err(e) = self.store.set_child_pid(run_id, child_pid) {
                    tracing::warn!(run_id, error = %e, "cannot record the child's pid");
                }
            }
            Event::Finished {
                slot,
                run_id,
                outcome,
            } => self.record_finished(slot, run_id, outcome),
        }
    }

    fn record_finished(&mut self, slot: usize, run_id: i64, outcome: Outcome) {
        let slot = &mut self.slots[slot];
        if slot.running.as_ref().is_some_and(|r| r.run_id == run_id) {
            slot.running = None;
        }
        let o = &outcome;
        let job = &slot.job.name;
        let duration = duration::human(Duration::from_millis(o.duration_ms.max(0) as u64));
        let exit = match (o.exit_code, o.signal) {
            (Some(code), _) => code.to_string(),
            (None, Some(signal)) => runner::signal_name(signal),
            (None, None) => "none".to_string(),
        };
        let status = o.status.as_str();
        match (o.status, &o.reason) {
            (Status::Succeeded, _) => {
                tracing::info!(job = %job, run_id, status = %status, exit = %exit, %duration, "run ended")
            }
            (_, Some(reason)) => {
                tracing::warn!(job = %job, run_id, status = %status, exit = %exit, %duration, %reason, "run ended")
            }
            (_, None) => {
                tracing::warn!(job = %job, run_id, status = %status, exit = %exit, %duration, "run ended")
            }
        }
        if let Err(e) = self.store.finish(run_id, o) {
            tracing::error!(job = %job, run_id, error = %e, "cannot record the end of a run; will retry");
            self.unsaved.push((run_id, outcome));
        }
    }

    /// Retries writing run ends that failed before; true when none is left.
    fn save_unsaved(&mut self) -> bool {
        let store = &mut self.store;
        self.unsaved
            .retain(|(run_id, outcome)| match store.finish(*run_id, outcome) {
                Ok(()) => {
                    tracing::info!(run_id, "recorded the end of the run after a retry");
                    false
                }
                Err(_) => true,
            });
        self.unsaved.is_empty()
    }

    fn running_count(&self) -> usize {
        self.slots.iter().filter(|s| s.running.is_some()).count()
    }

    fn signal_all(&self, control: Control) {
        for running in self.slots.iter().filter_map(|s| s.running.as_ref()) {
            let _ = running.control.send(control);
        }
    }

    async fn shutdown(
        &mut self,
        why: &str,
        opts: &Options,
        sigint: &mut tokio::signal::unix::Signal,
        sigterm: &mut tokio::signal::unix::Signal,
    ) {
        let running = self.running_count();
        tracing::info!(
            signal = why,
            running,
            grace = %duration::format(opts.shutdown_grace),
            "shutting down: no new runs; waiting for running ones"
        );
        let deadline = Instant::now() + opts.shutdown_grace;
        let mut terminating = false;
        while self.running_count() > 0 {
            tokio::select! {
                Some(event) = self.events_rx.recv() => self.handle(event),
                _ = sleep_until(deadline), if !terminating => {
                    terminating = true;
                    tracing::warn!(running = self.running_count(), "shutdown grace over: terminating running jobs");
                    self.signal_all(Control::Terminate);
                }
                // A kill is final: never downgrade it to a terminate.
                _ = sigint.recv() => { terminating = true; self.kill_all() }
                _ = sigterm.recv() => { terminating = true; self.kill_all() }
            }
        }
        // Every run's row must be complete before we go.
        let give_up = Instant::now() + UNSAVED_PATIENCE;
        while !self.save_unsaved() && Instant::now() < give_up {
            tokio::time::sleep(SAVE_RETRY).await;
        }
        for (run_id, _) in &self.unsaved {
            tracing::error!(
                run_id,
                "could not record the end of the run; it will show as interrupted"
            );
        }
    }

    fn kill_all(&self) {
        tracing::warn!(
            running = self.running_count(),
            "second signal: killing running jobs now"
        );
        self.signal_all(Control::Kill);
    }
}
