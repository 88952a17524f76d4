//! The foreground loop of `schedule run`: the async shell around the
//! policy [`Engine`].
//!
//! # Theory of operation
//!
//! The engine knows every timer (scheduled fires, jitter delays, retry
//! backoffs) and decides what happens; this loop sleeps until the engine's
//! next wake, carries out its [`Action`]s (write a row, spawn a run, signal
//! a run) and reports back what happened (a run ended). Nothing polls: with
//! no timer due and no run ending, the process is asleep. It sleeps on the
//! wall clock (`timer.rs`), which also wakes it when the clock is set; every
//! wake hands the engine the wall clock, and fires it finds late are caught
//! up by each job's policy. Without timerfd, tokio's monotonic timers stand
//! in, and no sleep is longer than [`MAX_SLEEP`].
//!
//! At a fire the order is: write the cheap `running` row (the claim), spawn
//! the child, then everything else. Each run is a task of its own that
//! reports its child's pid and its [`Outcome`] over a channel; the loop,
//! which owns the store, records them.
//!
//! Reload: SIGHUP, or a change to the config file (inotify on its folder, so
//! that editors that replace the file are seen), re-reads the config. A config
//! that fails to load is rejected whole and the old one stays.
//!
//! Shutdown (SIGINT or SIGTERM): no new runs start and waiting fires are
//! recorded `cancelled`; running ones get the shutdown grace to finish, then
//! their process groups are terminated (SIGTERM, SIGKILL after each job's
//! kill grace) and recorded `cancelled`. A second signal kills them at once.
//! Every run still gets its row completed before the process exits.

use chrono::{DateTime, Utc};
use nix::sys::inotify::{AddWatchFlags, InitFlags, Inotify};
use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;
use tokio::signal::unix::{Signal, SignalKind, signal};
use tokio::sync::{mpsc, watch};
use tokio::time::{Instant, sleep_until};

use crate::config::{self, Config};
use crate::duration;
use crate::engine::{Action, Engine, Fire, Token};
use crate::error::Error;
use crate::monitor::{Monitor, Probe, Snapshot};
use crate::runner::{self, Control, RunInfo};
use crate::store::{NewRun, Outcome, RunStore, SqliteStore, Status};

/// The longest the loop sleeps before looking at the wall clock again, when
/// it sleeps on tokio's monotonic timers (no timerfd).
pub const MAX_SLEEP: Duration = Duration::from_secs(60);
/// The longest it sleeps on the wall-clock timer, which also wakes it when
/// the clock is set: with nothing due, once an hour is enough (for clean-up).
const IDLE_WAKE: Duration = Duration::from_secs(3600);
/// How soon a run end that could not be written is tried again.
const SAVE_RETRY: Duration = Duration::from_secs(1);
/// How long shutdown keeps trying to write run ends before giving up.
const UNSAVED_PATIENCE: Duration = Duration::from_secs(30);
/// Editors write a file in several steps; reload once they are done.
const RELOAD_SETTLE: Duration = Duration::from_millis(200);
/// After the database changed, when to look at pauses and requests: soon,
/// and again a little later, in case the first look came before the
/// writer's commit was visible.
const DB_SETTLE: Duration = Duration::from_millis(30);
const DB_RECHECK: Duration = Duration::from_millis(500);
/// Without inotify, how often pause, resume and trigger are looked for.
const CONTROL_POLL: Duration = Duration::from_secs(2);
/// How much of a run's output `trigger --wait` gets live.
const LIVE_CAP: usize = 8 << 20;
/// How many fires one clean-up step deletes, in one short transaction.
const PRUNE_BATCH: usize = 2000;
/// History clean-up (`keep`, `keep_runs`) runs at most this often.
const PRUNE_EVERY: Duration = Duration::from_secs(3600);

pub struct Options {
    pub config_path: PathBuf,
    pub db_path: PathBuf,
    pub shutdown_grace: Duration,
    pub host: String,
}

/// What run tasks tell the loop.
enum Event {
    Spawned {
        run_id: i64,
        child_pid: u32,
    },
    Output {
        run_id: i64,
        stream: &'static str,
        data: Vec<u8>,
    },
    Finished {
        token: Token,
        outcome: Outcome,
    },
}

/// A run the loop started.
struct Running {
    run_id: i64,
    scheduled_for: DateTime<Utc>,
    job: String,
    control: watch::Sender<Control>,
}

pub struct Scheduler {
    engine: Engine,
    config: Config,
    store: Box<dyn RunStore>,
    host: String,
    pid: u32,
    runs: HashMap<Token, Running>,
    events_tx: mpsc::UnboundedSender<Event>,
    events_rx: mpsc::UnboundedReceiver<Event>,
    /// Ends of runs that could not be written yet (a locked or full
    /// database); retried until they are, so no run stays `running`.
    unsaved: Vec<(i64, Outcome)>,
    next_prune: Instant,
    /// `PRAGMA data_version` when we last read the controls.
    last_data_version: Option<i64>,
    /// `trigger --wait` requests whose run has not started: their output is
    /// streamed through the database.
    streamed: std::collections::HashSet<i64>,
    /// Bytes of live output passed on, per streamed run.
    live_bytes: HashMap<i64, usize>,
    /// A clean-up thread is at work.
    pruning: Arc<AtomicBool>,
    /// systemd's notify socket, when run as a `Type=notify` service.
    notifier: Option<crate::notify::Notifier>,
    /// When the loop next tells systemd's watchdog it is alive.
    next_watchdog: Option<Instant>,
    /// `--http`: metrics to count, and probes from `/health` to answer.
    monitor: Option<Arc<Monitor>>,
    probes: Option<mpsc::UnboundedReceiver<Probe>>,
    /// The last history write failed with this (for `/health`).
    write_error: Option<String>,
}

impl Scheduler {
    pub fn new(config: Config, store: Box<dyn RunStore>, host: String) -> Scheduler {
        let (events_tx, events_rx) = mpsc::unbounded_channel();
        let pid = std::process::id();
        let seed = u64::from(pid) ^ Utc::now().timestamp_nanos_opt().unwrap_or_default() as u64;
        Scheduler {
            engine: Engine::new(&config, seed),
            config,
            store,
            host,
            pid,
            runs: HashMap::new(),
            events_tx,
            events_rx,
            unsaved: Vec::new(),
            next_prune: Instant::now(),
            last_data_version: None,
            streamed: Default::default(),
            live_bytes: HashMap::new(),
            pruning: Arc::new(AtomicBool::new(false)),
            notifier: crate::notify::Notifier::from_env(),
            next_watchdog: None,
            monitor: None,
            probes: None,
            write_error: None,
        }
    }

    /// Counts into `monitor` and answers its probes.
    pub fn monitored(
        mut self,
        monitor: Arc<Monitor>,
        probes: mpsc::UnboundedReceiver<Probe>,
    ) -> Scheduler {
        self.monitor = Some(monitor);
        self.probes = Some(probes);
        self
    }

    /// Runs until SIGINT or SIGTERM, then shuts down as described above.
    pub async fn run(mut self, opts: &Options) -> Result<(), Error> {
        let listen = |kind: SignalKind, name: &str| {
            signal(kind).map_err(|e| Error::Runtime(format!("cannot listen for {name}: {e}")))
        };
        let mut sigint = listen(SignalKind::interrupt(), "SIGINT")?;
        let mut sigterm = listen(SignalKind::terminate(), "SIGTERM")?;
        let mut sighup = listen(SignalKind::hangup(), "SIGHUP")?;
        // SQLite writes the WAL beside the file the path resolves to.
        let db_file = std::fs::canonicalize(&opts.db_path).unwrap_or_else(|_| opts.db_path.clone());
        let mut watcher = Watcher::new(&opts.config_path, &db_file);
        if watcher.is_none() {
            tracing::warn!(
                "cannot watch the config file and database: reload with SIGHUP; pause, resume \
                 and trigger are noticed every {}s",
                CONTROL_POLL.as_secs()
            );
        }

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
        let names: Vec<&str> = self.config.jobs.iter().map(|j| j.name.as_str()).collect();
        let last_fires = self.store.last_fires(&names)?;
        for job in self.config.jobs.iter().filter(|j| !j.enabled) {
            tracing::info!(job = %job.name, "job disabled: it will not fire");
        }
        tracing::info!(
            config = %opts.config_path.display(),
            jobs = self.config.jobs.len(),
            db = %opts.db_path.display(),
            pid = self.pid,
            "scheduler started"
        );
        // Requests left from before this start: nobody waits for them now.
        let stale = Utc::now() - chrono::TimeDelta::seconds(30);
        if let Err(e) = self
            .store
            .fail_open_requests(Some(stale), "no scheduler took it in time")
        {
            tracing::warn!(error = %e, "cannot expire old trigger requests");
        }
        let last_successes = self.store.last_successes(&self.config.watched_jobs())?;
        self.last_data_version = self.store.data_version().ok();
        self.read_controls();
        let actions = self
            .engine
            .startup(Utc::now(), &last_fires, &last_successes);
        self.execute(actions);
        release_freed_memory();
        if let Some(notifier) = &self.notifier {
            notifier.send("READY=1");
            self.next_watchdog = notifier.watchdog.map(|w| Instant::now() + w);
        }

        let mut reload_at: Option<Instant> = None;
        // Without inotify, look at the controls now and then instead.
        let mut control_poll = watcher.is_none().then(|| Instant::now() + CONTROL_POLL);
        let mut control_checks: [Option<Instant>; 2] = [None, None];
        let wall_timer = crate::timer::WallTimer::new();
        if wall_timer.is_none() {
            tracing::debug!(
                "no timerfd: sleeping on monotonic timers, looking at the clock each minute"
            );
        }
        loop {
            let now = Utc::now();
            if let Some(monitor) = &self.monitor {
                monitor.beat(now);
            }
            let actions = self.engine.tick(now);
            self.execute(actions);
            self.save_unsaved();
            self.prune(&opts.db_path);
            // The watchdog hears from the loop itself: a stuck loop goes quiet.
            if let (Some(notifier), Some(due)) = (&self.notifier, self.next_watchdog)
                && Instant::now() >= due
            {
                notifier.send("WATCHDOG=1");
                self.next_watchdog = notifier.watchdog.map(|w| Instant::now() + w);
            }
            let cap = match (&wall_timer, self.unsaved.is_empty()) {
                (_, false) => SAVE_RETRY,
                (Some(_), true) => IDLE_WAKE,
                (None, true) => MAX_SLEEP,
            };
            let now = Utc::now();
            let cap_at = now + chrono::TimeDelta::from_std(cap).unwrap_or_default();
            let wake_at = self.engine.next_wake().map_or(cap_at, |at| at.min(cap_at));
            let mut wake = self.next_watchdog;
            match &wall_timer {
                Some(timer) => timer.set(wake_at),
                None => {
                    let ms = (wake_at - now).num_milliseconds().max(0) as u64;
                    let at = Instant::now() + Duration::from_millis(ms);
                    wake = Some(wake.map_or(at, |w| w.min(at)));
                }
            }
            tokio::select! {
                _ = ring(&wall_timer) => {}
                _ = sleep_until(wake.unwrap_or_else(Instant::now)), if wake.is_some() => {}
                Some(event) = self.events_rx.recv() => self.handle(event),
                Some(probe) = next_probe(&mut self.probes) => {
                    let _ = probe.send(self.snapshot());
                }
                _ = sighup.recv() => {
                    tracing::info!("SIGHUP: reloading the config");
                    self.reload(opts);
                }
                change = next_change(&mut watcher) => match change {
                    Some(Change::Config) => reload_at = Some(Instant::now() + RELOAD_SETTLE),
                    Some(Change::Database) => {
                        // The event can come before the writer's commit is
                        // visible: look once it settled, and once more later.
                        // A stream of writes must not put the looks off.
                        let now = Instant::now();
                        control_checks[0].get_or_insert(now + DB_SETTLE);
                        control_checks[1].get_or_insert(now + DB_RECHECK);
                    }
                    None => {
                        watcher = None; // the watch thread ended
                        control_poll = Some(Instant::now() + CONTROL_POLL);
                    }
                },
                _ = sleep_until(control_checks[0].unwrap_or_else(Instant::now)), if control_checks[0].is_some() => {
                    control_checks[0] = None;
                    self.controls_changed();
                }
                _ = sleep_until(control_checks[1].unwrap_or_else(Instant::now)), if control_checks[1].is_some() => {
                    control_checks[1] = None;
                    self.controls_changed();
                }
                _ = sleep_until(control_poll.unwrap_or_else(Instant::now)), if control_poll.is_some() => {
                    control_poll = Some(Instant::now() + CONTROL_POLL);
                    self.controls_changed();
                }
                _ = sleep_until(reload_at.unwrap_or_else(Instant::now)), if reload_at.is_some() => {
                    reload_at = None;
                    tracing::info!("the config file changed: reloading it");
                    self.reload(opts);
                }
                _ = sigint.recv() => { self.shutdown("SIGINT", opts, &mut sigint, &mut sigterm).await; break; }
                _ = sigterm.recv() => { self.shutdown("SIGTERM", opts, &mut sigint, &mut sigterm).await; break; }
            }
        }
        tracing::info!("scheduler stopped");
        Ok(())
    }

    /// What `/health` and `/metrics` see of the loop.
    fn snapshot(&self) -> Snapshot {
        Snapshot {
            at: Utc::now(),
            jobs: self.engine.status(),
            running: self.engine.running(),
            queued: self.engine.queued(),
            write_error: self.write_error.clone(),
        }
    }

    /// Remembers how the last history write went, for `/health`.
    fn wrote<T>(&mut self, result: &Result<T, Error>) {
        match result {
            Ok(_) => self.write_error = None,
            Err(e) => self.write_error = Some(e.to_string()),
        }
    }

    fn execute(&mut self, actions: Vec<Action>) {
        // Catching up can record thousands of missed fires: one log line
        // per job says it all.
        let mut missed: HashMap<String, (u64, DateTime<Utc>, DateTime<Utc>)> = HashMap::new();
        // A work list, not recursion: a fire that cannot start frees its
        // slot for the next, and a long backlog must not grow the stack.
        let mut work: std::collections::VecDeque<Action> = actions.into();
        while let Some(action) = work.pop_front() {
            match action {
                Action::Start { token, fire, job } => work.extend(self.start(token, fire, job)),
                Action::Record {
                    fire,
                    status,
                    reason,
                    missed_count,
                } => {
                    if status == Status::Missed {
                        let at = fire.scheduled_for;
                        let entry = missed.entry(fire.job.clone()).or_insert((0, at, at));
                        entry.0 += missed_count.unwrap_or(1);
                        entry.1 = entry.1.min(at);
                        entry.2 = entry.2.max(at);
                    } else {
                        tracing::info!(job = %fire.job, scheduled_for = %fire.scheduled_for.to_rfc3339(), status = %status, %reason, "fire not run");
                    }
                    let mut fire = fire;
                    let recorded = loop {
                        let row = new_run(&self.host, self.pid, &fire, Utc::now());
                        match self.store.record(&row, status, &reason, missed_count) {
                            // Two manual requests in one millisecond: the
                            // later one moves on by a millisecond.
                            Ok(None) if fire.request.is_some() => {
                                fire.scheduled_for += chrono::TimeDelta::milliseconds(1)
                            }
                            other => break other,
                        }
                    };
                    self.wrote(&recorded);
                    match recorded {
                        Ok(Some(id)) => {
                            if let Some(monitor) = &self.monitor {
                                monitor.recorded(&fire.job, status, missed_count.unwrap_or(1));
                            }
                            self.link_request(&fire, id);
                        }
                        Ok(None) => {}
                        Err(e) => {
                            tracing::error!(job = %fire.job, error = %e, "cannot record a fire that did not run");
                            self.fail_request(
                                &fire,
                                &format!("the scheduler could not record it: {e}"),
                            );
                        }
                    }
                }
                // Only `finished` with a run's outcome yields hooks, and
                // `handle` takes them out first.
                Action::Hook { .. } => {}
                Action::Overdue { job, last_success } => {
                    let within = self
                        .config
                        .job(&job)
                        .and_then(|j| j.expect_success_within)
                        .map(duration::format)
                        .unwrap_or_default();
                    let last_success = last_success.map(|t| t.to_rfc3339());
                    let last_success = last_success.as_deref().map(tracing::field::display);
                    tracing::warn!(job = %job, expect_success_within = %within, last_success, "job overdue: no successful run within expect_success_within");
                }
                Action::Recovered { job } => {
                    tracing::info!(job = %job, "overdue job succeeded again");
                }
                Action::Terminate { token } => {
                    if let Some(run) = self.runs.get(&token) {
                        tracing::info!(job = %run.job, run_id = run.run_id, "terminating the run: a newer fire replaces it");
                        let _ = run.control.send(Control::Replace);
                    }
                }
            }
        }
        for (job, (count, first, last)) in missed {
            tracing::warn!(job = %job, count, first = %first.to_rfc3339(), last = %last.to_rfc3339(), "fires missed (each row says why)");
        }
    }

    /// Claims the fire's row and spawns its run; when the row cannot be
    /// written, returns what the engine does instead.
    fn start(&mut self, token: Token, fire: Fire, job: std::sync::Arc<config::Job>) -> Vec<Action> {
        let started_at = Utc::now();
        let mut fire = fire;
        let claimed = loop {
            match self
                .store
                .claim(&new_run(&self.host, self.pid, &fire, started_at))
            {
                // Two manual requests in one millisecond: the later one moves
                // on by a millisecond.
                Ok(None) if fire.request.is_some() => {
                    fire.scheduled_for += chrono::TimeDelta::milliseconds(1)
                }
                other => break other,
            }
        };
        self.wrote(&claimed);
        let run_id = match claimed {
            Ok(Some(id)) => id,
            Ok(None) => {
                tracing::info!(job = %fire.job, scheduled_for = %fire.scheduled_for.to_rfc3339(), attempt = fire.attempt, "fire already recorded; not running it twice");
                return self.engine.finished(token, None, Utc::now());
            }
            Err(e) => {
                // No row, no run: a run must never go unrecorded.
                tracing::error!(job = %fire.job, error = %e, "run not started: cannot record it");
                self.fail_request(
                    &fire,
                    &format!("the scheduler could not record the run: {e}"),
                );
                return self.engine.finished(token, None, Utc::now());
            }
        };
        let streamed = self.link_request(&fire, run_id);
        let (control, control_rx) = watch::channel(Control::Run);
        let events = self.events_tx.clone();
        let live = streamed.then(|| {
            let (tx, mut rx) = mpsc::unbounded_channel::<(&'static str, Vec<u8>)>();
            let events = self.events_tx.clone();
            tokio::spawn(async move {
                while let Some((stream, data)) = rx.recv().await {
                    let _ = events.send(Event::Output {
                        run_id,
                        stream,
                        data,
                    });
                }
            });
            tx
        });
        let info = RunInfo {
            run_id,
            scheduled_for: fire.scheduled_for,
            live,
        };
        tokio::spawn(async move {
            let on_spawn = |child_pid| {
                let _ = events.send(Event::Spawned { run_id, child_pid });
            };
            let outcome = runner::run(&job, &info, control_rx, on_spawn).await;
            let _ = events.send(Event::Finished { token, outcome });
        });
        let delay = started_at - fire.scheduled_for;
        let delay_ms = delay.num_milliseconds();
        if let Some(monitor) = &self.monitor
            && fire.trigger == crate::store::Trigger::Schedule
            && fire.attempt == 1
        {
            monitor.run_started(&fire.job, delay);
        }
        tracing::info!(job = %fire.job, run_id, scheduled_for = %fire.scheduled_for.to_rfc3339(), attempt = fire.attempt, trigger = %fire.trigger, delay_ms, "run started");
        self.runs.insert(
            token,
            Running {
                run_id,
                scheduled_for: fire.scheduled_for,
                job: fire.job,
                control,
            },
        );
        Vec::new()
    }

    fn handle(&mut self, event: Event) {
        match event {
            Event::Spawned { run_id, child_pid } => {
                if let Err(e) = self.store.set_child_pid(run_id, child_pid) {
                    tracing::warn!(run_id, error = %e, "cannot record the child's pid");
                }
            }
            Event::Output {
                run_id,
                stream,
                data,
            } => {
                // A waiting client gets the first LIVE_CAP bytes; the rest
                // is in the run's tails, as for any run.
                let sent = self.live_bytes.entry(run_id).or_insert(0);
                if *sent >= LIVE_CAP {
                    return;
                }
                *sent += data.len();
                let result = if *sent >= LIVE_CAP {
                    self.store.append_output(
                        run_id,
                        "stderr",
                        b"\n[schedule: more output than --wait passes on; `schedule show` has its end]\n",
                    )
                } else {
                    self.store.append_output(run_id, stream, &data)
                };
                if let Err(e) = result {
                    tracing::warn!(run_id, error = %e, "cannot pass on the run's output");
                }
            }
            Event::Finished { token, outcome } => {
                let Some(run) = self.runs.remove(&token) else {
                    return;
                };
                self.live_bytes.remove(&run.run_id);
                self.record_finished(&run, outcome.clone());
                let actions = self
                    .engine
                    .finished(token, Some(outcome.status), Utc::now());
                // Hooks need this run's details; the rest is general.
                let (hooks, rest): (Vec<Action>, Vec<Action>) = actions
                    .into_iter()
                    .partition(|a| matches!(a, Action::Hook { .. }));
                for hook in hooks {
                    if let Action::Hook { command, job } = hook {
                        let monitor = self.monitor.clone();
                        crate::hooks::spawn(
                            command,
                            job,
                            run.run_id,
                            run.scheduled_for,
                            &outcome,
                            monitor,
                        );
                    }
                }
                self.execute(rest);
            }
        }
    }

    fn record_finished(&mut self, run: &Running, outcome: Outcome) {
        let o = &outcome;
        let (job, run_id) = (&run.job, run.run_id);
        let duration = duration::human(Duration::from_millis(o.duration_ms.max(0) as u64));
        let status = o.status.as_str();
        let signal = o.signal.map(runner::signal_name);
        // Optional fields are left out when absent.
        let display = tracing::field::display;
        let exit_code = o.exit_code;
        let signal = signal.as_deref().map(display);
        let reason = o.reason.as_deref().map(display);
        if o.status == Status::Succeeded {
            tracing::info!(job = %job, run_id, status = %status, exit_code, duration_ms = o.duration_ms, %duration, "run ended");
        } else {
            tracing::warn!(job = %job, run_id, status = %status, exit_code, signal, duration_ms = o.duration_ms, %duration, reason, "run ended");
        }
        if let Some(monitor) = &self.monitor {
            monitor.run_ended(job, o.status, o.duration_ms);
        }
        let finished = self.store.finish(run_id, o);
        self.wrote(&finished);
        if let Err(e) = finished {
            tracing::error!(job = %job, run_id, error = %e, "cannot record the end of a run; will retry");
            self.unsaved.push((run_id, outcome));
        }
    }

    /// Someone else wrote to the database: look at pauses and requests.
    fn controls_changed(&mut self) {
        let version = self.store.data_version().ok();
        if version.is_some() && version == self.last_data_version {
            return; // our own write
        }
        self.last_data_version = version;
        self.read_controls();
    }

    /// Applies `schedule pause`/`resume` and starts `schedule trigger` runs.
    fn read_controls(&mut self) {
        match self.store.paused() {
            Ok(paused) => self.engine.set_paused(paused),
            Err(e) => tracing::warn!(error = %e, "cannot read the paused jobs"),
        }
        let requests = match self.store.take_requests() {
            Ok(requests) => requests,
            Err(e) => {
                tracing::warn!(error = %e, "cannot read trigger requests");
                return;
            }
        };
        for request in requests {
            tracing::info!(job = %request.job, request = request.id, "run requested with `schedule trigger`");
            if request.stream {
                self.streamed.insert(request.id);
            }
            let actions = self
                .engine
                .request(&request.job, request.requested_at, request.id);
            self.execute(actions);
        }
    }

    /// Ties a manual fire's row to its `trigger` request; true when a
    /// client waits for the run's output.
    fn link_request(&mut self, fire: &Fire, run_id: i64) -> bool {
        let Some(request) = fire.request else {
            return false;
        };
        if let Err(e) = self.store.link_request(request, run_id) {
            tracing::warn!(request, error = %e, "cannot tell `schedule trigger` which run it started");
        }
        self.streamed.remove(&request)
    }

    /// Tells a waiting `schedule trigger` that its fire will never run.
    fn fail_request(&mut self, fire: &Fire, error: &str) {
        if let Some(request) = fire.request {
            self.streamed.remove(&request);
            if let Err(e) = self.store.fail_request(request, error) {
                tracing::warn!(request, error = %e, "cannot answer a `schedule trigger` request");
            }
        }
    }

    /// Retries writing run ends that failed before; true when none is left.
    fn save_unsaved(&mut self) -> bool {
        let store = &mut self.store;
        let mut last = None;
        self.unsaved
            .retain(|(run_id, outcome)| match store.finish(*run_id, outcome) {
                Ok(()) => {
                    tracing::info!(run_id, "recorded the end of the run after a retry");
                    last = Some(Ok(()));
                    false
                }
                Err(e) => {
                    last = Some(Err(e));
                    true
                }
            });
        if let Some(last) = last {
            self.wrote(&last);
        }
        self.unsaved.is_empty()
    }

    /// Applies `keep` and `keep_runs`, at most once an hour.
    fn prune(&mut self, db: &std::path::Path) {
        let settings = &self.config.scheduler;
        if Instant::now() < self.next_prune || self.pruning.load(Ordering::Relaxed) {
            return;
        }
        self.next_prune = Instant::now() + PRUNE_EVERY;
        let before = settings
            .keep
            .and_then(|k| chrono::TimeDelta::from_std(k).ok())
            .and_then(|k| Utc::now().checked_sub_signed(k));
        let keep_runs = settings.keep_runs;
        // Off the loop, on a connection of its own, in small steps: a first
        // clean-up of millions of rows must not hold up any fire.
        let pruning = Arc::clone(&self.pruning);
        pruning.store(true, Ordering::Relaxed);
        let db = db.to_path_buf();
        let spawned = std::thread::Builder::new()
            .name("prune".into())
            .spawn(move || {
                let result = SqliteStore::open(&db, false).and_then(|mut store| {
                    // Live output and requests nobody needs any more.
                    store.clean_controls(Utc::now() - chrono::TimeDelta::hours(1))?;
                    let mut total = 0;
                    if before.is_none() && keep_runs.is_none() {
                        return Ok(0);
                    }
                    loop {
                        let n = store.prune(before, keep_runs, PRUNE_BATCH)?;
                        if n == 0 {
                            return Ok(total);
                        }
                        total += n;
                        std::thread::sleep(Duration::from_millis(5));
                    }
                });
                match result {
                    Ok(0) => {}
                    Ok(n) => {
                        tracing::info!(deleted = n, "old history rows deleted (keep, keep_runs)")
                    }
                    Err(e) => tracing::warn!(error = %e, "cannot delete old history rows"),
                }
                pruning.store(false, Ordering::Relaxed);
            });
        if spawned.is_err() {
            self.pruning.store(false, Ordering::Relaxed);
        }
    }

    /// Re-reads the config; a config that fails to load changes nothing.
    fn reload(&mut self, opts: &Options) {
        match config::load(&opts.config_path) {
            Ok(new) => {
                let before = self.config.jobs.len();
                let actions = self.engine.reload(&new, Utc::now());
                if new.scheduler != self.config.scheduler {
                    self.next_prune = Instant::now();
                }
                if new.scheduler.http != self.config.scheduler.http {
                    tracing::warn!(
                        "[scheduler] http changed: it takes effect when the scheduler restarts"
                    );
                }
                self.config = new;
                tracing::info!(
                    jobs_before = before,
                    jobs = self.config.jobs.len(),
                    "config reloaded"
                );
                self.execute(actions);
                release_freed_memory();
            }
            Err(e) => {
                tracing::error!("config not reloaded; keeping the running one:\n{e}");
            }
        }
    }

    fn signal_all(&self, control: Control) {
        for run in self.runs.values() {
            let _ = run.control.send(control);
        }
    }

    async fn shutdown(
        &mut self,
        why: &str,
        opts: &Options,
        sigint: &mut Signal,
        sigterm: &mut Signal,
    ) {
        tracing::info!(
            signal = why,
            running = self.runs.len(),
            grace = %duration::format(opts.shutdown_grace),
            "shutting down: no new runs; waiting for running ones"
        );
        if let Some(notifier) = &self.notifier {
            notifier.send("STOPPING=1");
        }
        let actions = self.engine.shutdown();
        self.execute(actions);
        // A `trigger` that arrives now must not run at the next start.
        if let Err(e) = self.store.fail_open_requests(
            None,
            "the scheduler shut down before it could start the run",
        ) {
            tracing::warn!(error = %e, "cannot answer open trigger requests");
        }
        let deadline = Instant::now() + opts.shutdown_grace;
        let mut terminating = false;
        while !self.runs.is_empty() {
            tokio::select! {
                Some(event) = self.events_rx.recv() => self.handle(event),
                _ = sleep_until(deadline), if !terminating => {
                    terminating = true;
                    tracing::warn!(running = self.runs.len(), "shutdown grace over: terminating running jobs");
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
            running = self.runs.len(),
            "second signal: killing running jobs now"
        );
        self.signal_all(Control::Kill);
    }
}

/// The row of a fire.
fn new_run<'a>(host: &'a str, pid: u32, fire: &'a Fire, started_at: DateTime<Utc>) -> NewRun<'a> {
    NewRun {
        job: &fire.job,
        scheduled_for: fire.scheduled_for,
        attempt: fire.attempt,
        trigger: fire.trigger,
        started_at,
        host,
        pid,
    }
}

/// What changed on disk.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Change {
    /// The config file was written, replaced or moved into place.
    Config,
    /// The database (its WAL) was written: by us, or by `schedule pause`,
    /// `resume` or `trigger`.
    Database,
}

/// Watches the folders of the config file and of the database. A thread
/// blocked in `read` on the inotify fd costs nothing while idle and needs no
/// unsafe fd registration with tokio.
struct Watcher {
    changes: mpsc::UnboundedReceiver<Change>,
}

impl Watcher {
    fn new(config: &std::path::Path, db: &std::path::Path) -> Option<Watcher> {
        let folder = |p: &std::path::Path| match p.parent() {
            Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
            _ => PathBuf::from("."),
        };
        let config_name = config.file_name()?.to_owned();
        let db_name = db.file_name()?.to_owned();
        let mut wal_name = db_name.clone();
        wal_name.push("-wal");
        let inotify = Inotify::init(InitFlags::IN_CLOEXEC).ok()?;
        let flags = AddWatchFlags::IN_CLOSE_WRITE
            | AddWatchFlags::IN_MOVED_TO
            | AddWatchFlags::IN_CREATE
            | AddWatchFlags::IN_MODIFY;
        let config_wd = inotify.add_watch(&folder(config), flags).ok()?;
        let db_wd = inotify.add_watch(&folder(db), flags).ok()?;
        let (tx, changes) = mpsc::unbounded_channel();
        std::thread::Builder::new()
            .name("watch".into())
            .spawn(move || {
                while let Ok(events) = inotify.read_events() {
                    for event in events {
                        let Some(name) = event.name.as_deref() else {
                            continue;
                        };
                        let change = if event.wd == config_wd
                            && name == config_name
                            && !event.mask.contains(AddWatchFlags::IN_MODIFY)
                        {
                            Change::Config
                        } else if event.wd == db_wd && (name == wal_name || name == db_name) {
                            Change::Database
                        } else {
                            continue;
                        };
                        if tx.send(change).is_err() {
                            return;
                        }
                    }
                }
            })
            .ok()?;
        Some(Watcher { changes })
    }
}

/// Hands the memory freed after loading a config back to the system. glibc
/// keeps freed heap for reuse, and the parsed TOML of a big config is many
/// times the jobs it leaves: with 10,000 jobs, 6 MB of the scheduler's
/// resident memory.
fn release_freed_memory() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: malloc_trim only returns free heap pages; it has no
    // preconditions.
    unsafe {
        libc::malloc_trim(0);
    }
}

async fn ring(timer: &Option<crate::timer::WallTimer>) {
    match timer {
        Some(timer) => timer.ring().await,
        None => std::future::pending().await,
    }
}

async fn next_probe(probes: &mut Option<mpsc::UnboundedReceiver<Probe>>) -> Option<Probe> {
    match probes {
        Some(rx) => rx.recv().await,
        None => std::future::pending().await,
    }
}

/// The next change. Never resolves without a watcher (nor once its thread
/// ended).
async fn next_change(watcher: &mut Option<Watcher>) -> Option<Change> {
    match watcher {
        Some(w) => w.changes.recv().await,
        None => std::future::pending().await,
    }
}
