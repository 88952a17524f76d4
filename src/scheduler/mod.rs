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
//! The loop never waits on the database: the store lives on a thread of its
//! own ([`Worker`]), and its answers come back as [`Event`]s beside the ends
//! of runs, signals and probes. At a fire the order is still: write the
//! `running` row (the claim; every fire of one instant in one transaction),
//! spawn the child once the claim is written, then everything else. While a
//! claim waits (a locked database), timers, timeouts, kill graces, signals,
//! `/health`, hooks and the ends of other runs go on. A fire whose claim
//! cannot be written is not run: it is recorded `missed` with the reason
//! once the database is back, so no fire goes without a row. Each run is a
//! task of its own that reports its child's pid and its [`Outcome`] over a
//! channel; the loop hands them to the store.
//!
//! Reload: SIGHUP, or a change to the config file (inotify on the file, and
//! on its folder for the file being replaced, so that editors that rename a
//! new file over it are seen; `crate::watch`), re-reads the config. A config
//! that fails to load is rejected whole and the old one stays.
//!
//! Shutdown (SIGINT or SIGTERM): no new runs start and waiting fires are
//! recorded `cancelled`; running ones get the shutdown grace to finish, then
//! their process groups are terminated (SIGTERM, SIGKILL after each job's
//! kill grace) and recorded `cancelled`. A second signal kills them at once.
//! Every run still gets its row completed before the process exits.

use chrono::{DateTime, TimeDelta, Utc};
use std::collections::{HashMap, HashSet};
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;
use tokio::signal::unix::{Signal, SignalKind, signal};
use tokio::sync::{mpsc, watch};
use tokio::time::{Instant, sleep_until};

mod cluster;

use crate::config::{self, Config, Job};
use crate::domain::{ClaimOutcome, Ended, NewRun, NotRun, NotRunRecord, Outcome, Request, Trigger};
use crate::duration;
use crate::engine::{Action, Engine, Fire, Token};
use crate::error::Error;
use crate::monitor::{Monitor, Probe, Snapshot};
use crate::runner::{self, Control, RunInfo};
use crate::store::{self, Location, Mode, StoreError, Worker};

/// The longest the loop sleeps before looking at the wall clock again, when
/// it sleeps on tokio's monotonic timers (no timerfd).
pub const MAX_SLEEP: Duration = Duration::from_secs(60);
/// The longest it sleeps on the wall-clock timer, which also wakes it when
/// the clock is set: with nothing due, once an hour is enough (for clean-up).
const IDLE_WAKE: Duration = Duration::from_secs(3600);
/// How soon a row that could not be written is tried again.
const SAVE_RETRY: Duration = Duration::from_secs(1);
/// How long shutdown keeps trying to write rows before giving up.
const UNSAVED_PATIENCE: Duration = Duration::from_secs(30);
/// A store call waiting this long makes `/health` blame the database.
const DB_STALL: Duration = Duration::from_secs(2);
/// Editors write a file in several steps; reload once they are done.
const RELOAD_SETTLE: Duration = Duration::from_millis(200);
/// How long after a SIGCHLD the orphans are looked for: one look for the
/// many runs that end in a burst, and an orphan's zombie lingers no longer.
const REAP_SETTLE: Duration = Duration::from_millis(100);
/// After the database changed, when to look at pauses and requests: soon,
/// and again a little later, in case the first look came before the
/// writer's commit was visible.
const DB_SETTLE: Duration = Duration::from_millis(30);
const DB_RECHECK: Duration = Duration::from_millis(500);
/// Without a change feed, how often pause, resume and trigger are looked for.
const CONTROL_POLL: Duration = Duration::from_secs(2);
/// A turn of the loop that comes this long after the last one followed a
/// stall (a stopped process, a big reload): runs may have ended meanwhile.
const STALL: Duration = Duration::from_millis(250);
/// How long before its instant a scheduled fire is claimed, so that its
/// row is written by then and only the spawn is left at the instant (the
/// run still starts at its instant, never before). Not in a cluster, where
/// the database's clock decides when a fire may be claimed.
const LEAD: Duration = Duration::from_millis(10);
/// How long before a held run's instant its timer rings; the loop then
/// waits out the rest on that timer, blocked, and spawns at the instant
/// with nothing of its own turn in between. Longer than a turn and a
/// wake-up on a busy machine; short enough that blocking the loop for it
/// delays nothing else that matters.
const LAST_STRETCH: Duration = Duration::from_micros(500);
/// How much of a run's output `trigger --wait` gets live.
const LIVE_CAP: usize = 8 << 20;
/// The scheduler's row in `status` is written when its state (jobs, runs
/// going, fires queued) changes, at most this often.
const STATUS_EVERY: Duration = Duration::from_secs(5);
/// How long after start-up or a reload the loop hands back the pages that
/// only they used (memory.rs): long enough for the first turns, and the
/// store's start-up writes, to be done with.
const TRIM_AFTER: Duration = Duration::from_secs(1);
/// How many fires one clean-up step deletes, in one short transaction.
const PRUNE_BATCH: usize = 2000;
/// History clean-up (`keep`, `keep_runs`) runs at most this often.
const PRUNE_EVERY: Duration = Duration::from_secs(3600);

pub struct Options {
    pub config_path: PathBuf,
    pub location: Location,
    pub shutdown_grace: Duration,
    pub host: String,
}

/// What run tasks and the store's thread tell the loop.
enum Event {
    Spawned {
        run_id: i64,
        child_pid: u32,
    },
    /// A batch of [`Event::Spawned`] pids was written (or not).
    PidsSaved,
    Output {
        run_id: i64,
        stream: &'static str,
        data: Vec<u8>,
    },
    Finished {
        token: Token,
        outcome: Outcome,
    },
    /// The claims of one batch of fires were written (or not).
    Claimed {
        claims: Vec<Claim>,
        result: store::Result<Vec<Option<i64>>>,
    },
    /// Rows of fires that did not run were written (or not).
    Recorded(Vec<(Unrecorded, store::Result<Option<i64>>)>),
    /// Ends of runs were written (or not), in one transaction.
    Saved(Vec<Unsaved>, store::Result<()>),
    /// What `pause`, `resume` and `trigger` asked for, if anyone wrote.
    Controls(Option<Controls>),
    /// The config, re-read on a thread of its own.
    Loaded(Box<Result<Config, config::ConfigError>>),
    /// Whether the database's files are still in place, then what came
    /// with the look.
    Checked(store::Result<()>, Box<Event>),
    /// A cluster host's claims came back.
    ClusterClaimed {
        claims: Vec<Claim>,
        result: store::Result<Vec<ClaimOutcome>>,
    },
    /// Whether the fires this host stood by for have rows.
    StandbyChecked {
        fires: Vec<Fire>,
        /// How many looks at each failed before.
        tries: Vec<u8>,
        result: store::Result<Vec<bool>>,
    },
    /// A job the engine found overdue, and its last success in the whole
    /// cluster's history.
    OverdueChecked {
        job: String,
        last_success: Option<DateTime<Utc>>,
        result: store::Result<Option<DateTime<Utc>>>,
    },
}

/// The paused jobs and the new `schedule trigger` requests, as read.
struct Controls {
    /// The pause version read with `paused`, to acknowledge once applied.
    version: Option<i64>,
    paused: store::Result<Vec<String>>,
    requests: store::Result<Vec<Request>>,
    /// Runs someone started to follow with `schedule logs`.
    follows: store::Result<Vec<i64>>,
}

/// A fire whose claim is on its way to the database.
struct Claim {
    token: Token,
    fire: Fire,
    job: Arc<Job>,
    started_at: DateTime<Utc>,
}

/// A fire that did not run, with its row still to write.
#[derive(Clone)]
struct Unrecorded {
    fire: Fire,
    record: NotRunRecord,
}

/// A run's end still to write.
#[derive(Clone)]
struct Unsaved {
    run_id: i64,
    job: String,
    outcome: Outcome,
    /// It failed to be written before.
    retried: bool,
}

/// A run the loop started.
struct Running {
    run_id: i64,
    scheduled_for: DateTime<Utc>,
    job: String,
    control: watch::Sender<Control>,
    /// Set to pass the run's output on through `live_output`.
    follow: watch::Sender<bool>,
}

/// When the loop should next wake for something other than a fire.
#[derive(Default)]
struct Wakes {
    reload: Option<Instant>,
    /// Without a change feed: the next look at the controls.
    control_poll: Option<Instant>,
    /// After a change: a first look, and a second one a little later.
    control_checks: [Option<Instant>; 2],
    /// Rows that could not be written are tried again then.
    retry: Option<Instant>,
    /// The state changed since the status row was written: write it then.
    status: Option<Instant>,
    /// A child ended: look for orphans to reap then.
    reap: Option<Instant>,
    /// Start-up or a reload is over: hand back the memory it used then.
    trim: Option<Instant>,
}

pub struct Scheduler {
    engine: Engine,
    config: Config,
    store: Worker,
    host: String,
    pid: u32,
    runs: HashMap<Token, Running>,
    events_tx: mpsc::UnboundedSender<Event>,
    events_rx: mpsc::UnboundedReceiver<Event>,
    /// Rows that could not be written yet (a locked or unreachable
    /// database); retried until they are, so no fire goes unrecorded and
    /// no run stays `running`.
    unsaved: Vec<Unsaved>,
    unrecorded: Vec<Unrecorded>,
    next_prune: Instant,
    /// `trigger --wait` requests whose run has not started: their output is
    /// streamed through the database.
    streamed: HashSet<i64>,
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
    /// The last history write failed, with this error (for `/health`).
    write_error: Option<String>,
    wakes: Wakes,
    /// Why the scheduler must stop (its lease was taken over).
    fatal: Option<String>,
    /// Runs a newer fire replaced while their claims were on their way.
    replace_on_spawn: HashSet<Token>,
    /// This scheduler's row in `status`, as last written, and when.
    status: Option<(crate::domain::SchedulerStatus, Instant)>,
    /// Claims and ends waiting for the batch on its way to come back.
    batches: Batches,
    /// The config file reloads read (set by the first reload).
    config_path: Option<PathBuf>,
    /// A reload's thread is reading the config; another was asked for
    /// meanwhile.
    reloading: bool,
    reload_again: bool,
    /// Shutting down: a config read now is not applied.
    stopping: bool,
    /// The database's files were deleted, replaced or cut (for `/health`).
    file_error: Option<String>,
    /// One host of several on the database (`[cluster]`).
    cluster: Option<Box<cluster::InCluster>>,
    /// Claimed ahead of their instant ([`LEAD`]): each starts at its fire's
    /// `scheduled_for`, or by `until` (the monotonic clock) if the wall
    /// clock is set back meanwhile.
    held: Vec<Held>,
}

struct Held {
    claim: Claim,
    run_id: i64,
    until: Instant,
    /// Its command, built while it waits.
    prepared: runner::Prepared,
}

/// At most one batch of claims and one of run ends on its way to the
/// database; what comes meanwhile waits here for the next.
#[derive(Default)]
struct Batches {
    claims_in_flight: bool,
    claims: Vec<Claim>,
    saves_in_flight: bool,
    saves: Vec<Unsaved>,
    pids_in_flight: bool,
    pids: Vec<(i64, u32)>,
}

impl Scheduler {
    pub fn new(config: Config, store: Worker, host: String) -> Scheduler {
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
            unrecorded: Vec::new(),
            next_prune: Instant::now(),
            streamed: Default::default(),
            live_bytes: HashMap::new(),
            pruning: Arc::new(AtomicBool::new(false)),
            notifier: crate::notify::Notifier::from_env(),
            next_watchdog: None,
            monitor: None,
            probes: None,
            write_error: None,
            wakes: Wakes::default(),
            fatal: None,
            replace_on_spawn: HashSet::new(),
            batches: Batches::default(),
            status: None,
            config_path: None,
            reloading: false,
            reload_again: false,
            stopping: false,
            file_error: None,
            cluster: None,
            held: Vec::new(),
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
        self.declare_series();
        self
    }

    /// Every job's counters at 0 from the start, so that the first failure
    /// after a start is an increase.
    fn declare_series(&self) {
        if let Some(monitor) = &self.monitor {
            let names: Vec<&str> = self.config.jobs.iter().map(|j| &*j.name).collect();
            monitor.declare(&names);
        }
    }

    /// Runs `work` on the store's thread; its answer comes back as an event.
    fn db(&self, work: impl FnOnce(&mut dyn store::Store) -> Event + Send + 'static) {
        let events = self.events_tx.clone();
        self.store.send(move |s| {
            let _ = events.send(work(s));
        });
    }

    /// Runs `work` on the store's thread and waits for it: for start-up
    /// and shutdown, when nothing else is going on.
    async fn db_now<T: Send + 'static>(
        &self,
        work: impl FnOnce(&mut dyn store::Store) -> store::Result<T> + Send + 'static,
    ) -> store::Result<T> {
        match self.store.call(work).await {
            Some(result) => result,
            None => Err(StoreError::new(
                "history database",
                store::Kind::Other,
                "the store's thread is gone",
            )),
        }
    }

    /// Runs until SIGINT or SIGTERM, then shuts down as described above.
    pub async fn run(
        mut self,
        opts: &Options,
        mut lost: Option<mpsc::UnboundedReceiver<String>>,
    ) -> Result<(), Error> {
        let listen = |kind: SignalKind, name: &str| {
            signal(kind).map_err(|e| Error::Runtime(format!("cannot listen for {name}: {e}")))
        };
        let mut sigint = listen(SignalKind::interrupt(), "SIGINT")?;
        let mut sigterm = listen(SignalKind::terminate(), "SIGTERM")?;
        let mut sighup = listen(SignalKind::hangup(), "SIGHUP")?;
        // Orphans reparented to us (as PID 1, or as child subreaper) are
        // reaped when a child ends.
        let mut sigchld = listen(SignalKind::child(), "SIGCHLD")?;
        // main blocked these before anything else; a signal that came since
        // is delivered now, to the handlers above: a SIGHUP reloads and a
        // SIGTERM stops once the loop runs.
        crate::signals::unblock();
        let mut watcher = Watcher::new(&opts.config_path);
        if watcher.is_none() {
            tracing::warn!("cannot watch the config file: reload with SIGHUP");
        }
        let (changed_tx, mut db_changes) = mpsc::unbounded_channel();
        if !store::watch(&opts.location, changed_tx) {
            tracing::warn!(
                "cannot watch the database: pause, resume and trigger are noticed every {}s",
                CONTROL_POLL.as_secs()
            );
            self.wakes.control_poll = Some(Instant::now() + CONTROL_POLL);
        }

        for orphan in self.db_now(|s| s.interrupt_orphans()).await? {
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
        let names: Vec<String> = self
            .config
            .jobs
            .iter()
            .map(|j| j.name.to_string())
            .collect();
        let watched: Vec<String> = self
            .config
            .watched_jobs()
            .iter()
            .map(|j| j.to_string())
            .collect();
        let (mut last_fires, last_successes) = self
            .db_now(move |s| {
                let names: Vec<&str> = names.iter().map(String::as_str).collect();
                let watched: Vec<&str> = watched.iter().map(String::as_str).collect();
                Ok((s.last_fires(&names)?, s.last_successes(&watched)?))
            })
            .await?;
        // Joining a live cluster: its hosts ran or recorded the fires
        // while this one was away, and are claiming the latest right now;
        // none of them is this host's to catch up or call missed.
        if self.cluster.as_ref().is_some_and(|c| !c.first()) {
            let now = Utc::now();
            for last in last_fires.values_mut() {
                *last = (*last).max(now);
            }
        }
        for job in self.config.jobs.iter().filter(|j| !j.settings.enabled) {
            tracing::info!(job = %job.name, "job disabled: it will not fire");
        }
        if self.config.jobs.is_empty() {
            tracing::warn!(
                config = %opts.config_path.display(),
                "the config has no jobs: nothing will run until it does (add `[jobs.NAME]` \
                 tables; the scheduler reloads the file when it changes)"
            );
        }
        tracing::info!(
            config = %opts.config_path.display(),
            jobs = self.config.jobs.len(),
            db = %opts.location,
            pid = self.pid,
            "scheduler started"
        );
        // Requests left from before this start: nobody waits for them now.
        let stale = Utc::now() - chrono::TimeDelta::seconds(30);
        if let Err(e) = self
            .db_now(move |s| s.fail_open_requests(Some(stale), "no scheduler took it in time"))
            .await
        {
            tracing::warn!(error = %e, "cannot expire old trigger requests");
        }
        // The cluster's view first: it says which jobs' requests are ours.
        self.join_view();
        // The first look at the controls: an answer comes as an event.
        self.read_controls(true);
        let actions = self
            .engine
            .startup(Utc::now(), &last_fires, &last_successes);
        self.log_next_fires(None);
        self.execute(actions);
        self.status = Some((
            crate::domain::SchedulerStatus {
                host: self.host.clone(),
                pid: self.pid,
                started_at: Utc::now(),
                updated_at: Utc::now(),
                stopped_at: None,
                version: env!("CARGO_PKG_VERSION").to_string(),
                config: opts.config_path.display().to_string(),
                db: opts.location.to_string(),
                jobs: 0,
                running: 0,
                queued: 0,
            },
            Instant::now(),
        ));
        self.write_status(true);
        crate::memory::release_freed_heap();
        self.wakes.trim = Some(Instant::now() + TRIM_AFTER);
        if let Some(notifier) = &self.notifier {
            notifier.send("READY=1");
            self.next_watchdog = notifier.watchdog.map(|w| Instant::now() + w);
        }

        let wall_timer = crate::timer::WallTimer::new();
        if wall_timer.is_none() {
            tracing::debug!(
                "no timerfd: sleeping on monotonic timers, looking at the clock each minute"
            );
        }
        let held_timer = wall_timer
            .as_ref()
            .and_then(|_| crate::timer::WallTimer::new());
        let mut last_turn = Instant::now();
        loop {
            // With nothing running, no run's end can be on its way: a long
            // sleep before a fire costs that fire no extra turns.
            let stalled = last_turn.elapsed() >= STALL && !self.runs.is_empty();
            self.take_known_events(stalled).await;
            last_turn = Instant::now();
            self.start_held(false, held_timer.as_ref());
            let now = Utc::now();
            if let Some(monitor) = &self.monitor {
                monitor.beat(now);
            }
            let lead = if self.cluster.is_some() {
                TimeDelta::zero()
            } else {
                TimeDelta::from_std(LEAD).unwrap_or_default()
            };
            let actions = self.engine.tick_ahead(now, lead);
            self.execute(actions);
            self.cluster_due();
            self.retry_writes();
            self.prune(&opts.location);
            self.write_status(false);
            // The watchdog hears from the loop itself: a stuck loop goes quiet.
            if let (Some(notifier), Some(due)) = (&self.notifier, self.next_watchdog)
                && Instant::now() >= due
            {
                notifier.send("WATCHDOG=1");
                self.next_watchdog = notifier.watchdog.map(|w| Instant::now() + w);
            }
            let cap = if wall_timer.is_some() {
                IDLE_WAKE
            } else {
                MAX_SLEEP
            };
            let now = Utc::now();
            let cap_at = now + chrono::TimeDelta::from_std(cap).unwrap_or_default();
            let mut wake_at = self
                .engine
                .next_wake_ahead(now, lead)
                .map_or(cap_at, |at| at.min(cap_at));
            // The held runs' instants on a timer of their own: the next
            // fire's stays armed once, not again after each held start.
            match (
                &held_timer,
                self.held.iter().map(|h| h.claim.fire.scheduled_for).min(),
            ) {
                (Some(timer), Some(at)) => {
                    timer.set(at - TimeDelta::from_std(LAST_STRETCH).unwrap_or_default())
                }
                (None, Some(at)) => wake_at = wake_at.min(at),
                (_, None) => {}
            }
            let mut wake = self
                .held
                .iter()
                .map(|h| h.until)
                .chain(self.next_watchdog)
                .min();
            match &wall_timer {
                Some(timer) => timer.set(wake_at),
                None => {
                    let ms = (wake_at - now).num_milliseconds().max(0) as u64;
                    let at = Instant::now() + Duration::from_millis(ms);
                    wake = Some(wake.map_or(at, |w| w.min(at)));
                }
            }
            let w = &self.wakes;
            let (retry, reload, poll, [check0, check1], status, reap, trim) = (
                w.retry,
                w.reload,
                w.control_poll,
                w.control_checks,
                w.status,
                w.reap,
                w.trim,
            );
            let cluster_wake = self.cluster.as_ref().and_then(|c| c.wake());
            tokio::select! {
                _ = ring(&wall_timer) => {}
                _ = ring(&held_timer), if !self.held.is_empty() => {}
                _ = sleep_until(wake.unwrap_or_else(Instant::now)), if wake.is_some() => {}
                Some(event) = self.events_rx.recv() => self.handle(event),
                Some(probe) = next_probe(&mut self.probes) => {
                    let _ = probe.send(self.snapshot());
                }
                _ = sigchld.recv() => {
                    self.wakes.reap.get_or_insert(Instant::now() + REAP_SETTLE);
                }
                _ = at(reap) => {
                    self.wakes.reap = None;
                    crate::process::reap_orphans();
                }
                _ = sighup.recv() => {
                    tracing::info!("SIGHUP: reloading the config");
                    self.reload(opts);
                }
                change = next_change(&mut watcher) => match change {
                    Some(()) => self.wakes.reload = Some(Instant::now() + RELOAD_SETTLE),
                    None => watcher = None, // the watch thread ended
                },
                Some(()) = db_changes.recv() => self.database_changed(),
                Some(beat) = cluster::InCluster::next_beat(&mut self.cluster) => self.on_beat(beat),
                _ = at(cluster_wake) => {}
                _ = at(check0) => { self.wakes.control_checks[0] = None; self.read_controls(false); }
                _ = at(check1) => { self.wakes.control_checks[1] = None; self.read_controls(false); }
                _ = at(poll) => {
                    self.wakes.control_poll = Some(Instant::now() + CONTROL_POLL);
                    self.read_controls(false);
                }
                _ = at(retry) => self.wakes.retry = None,
                _ = at(status) => self.wakes.status = None,
                _ = at(trim) => {
                    self.wakes.trim = None;
                    crate::memory::release_freed_heap();
                    let bytes = crate::memory::release_code_pages();
                    tracing::debug!(bytes, "handed back the pages only start-up used");
                }
                _ = at(reload) => {
                    self.wakes.reload = None;
                    tracing::info!("the config file changed: reloading it");
                    self.reload(opts);
                }
                Some(why) = next_lost(&mut lost) => {
                    tracing::error!(reason = %why, "the scheduler lost its hold on the database: stopping");
                    self.fatal = Some(why);
                    self.shutdown("lost lease", opts, &mut sigint, &mut sigterm).await;
                    break;
                }
                _ = sigint.recv() => { self.shutdown("SIGINT", opts, &mut sigint, &mut sigterm).await; break; }
                _ = sigterm.recv() => { self.shutdown("SIGTERM", opts, &mut sigint, &mut sigterm).await; break; }
            }
        }
        if let Some((status, _)) = &mut self.status {
            status.stopped_at = Some(Utc::now());
            status.running = 0;
            status.queued = 0;
        }
        self.write_status(true);
        // The stopped status row, and anything still queued, within the
        // same patience as the run ends.
        if tokio::time::timeout(UNSAVED_PATIENCE, self.store.call(|_| ()))
            .await
            .is_err()
        {
            tracing::error!(
                "the history database did not take the scheduler's last status in time"
            );
        }
        tracing::info!("scheduler stopped");
        match self.fatal.take() {
            Some(why) => Err(Error::Runtime(format!(
                "the scheduler stopped: {why} ({})",
                opts.location
            ))),
            None => Ok(()),
        }
    }

    /// Handles the events already sent before the engine decides anything,
    /// so that an overlap decision sees the run ends that are known: after
    /// a stall, the runs' tasks get a few turns first (they have not run
    /// while the loop was busy; a child's exit needs the runtime to poll
    /// its driver before the task can report it).
    async fn take_known_events(&mut self, after_stall: bool) {
        let turns = if after_stall { 8 } else { 0 };
        for turn in 0..=turns {
            if turn > 0 {
                tokio::task::yield_now().await;
            }
            while let Ok(event) = self.events_rx.try_recv() {
                self.handle(event);
            }
        }
    }

    /// What `/health` and `/metrics` see of the loop.
    fn snapshot(&self) -> Snapshot {
        Snapshot {
            at: Utc::now(),
            jobs: self.engine.status(),
            running: self.engine.running(),
            queued: self.engine.queued(),
            write_error: self.file_error.clone().or_else(|| self.write_error.clone()),
            db_stalled: self.store.stalled_for().filter(|d| *d >= DB_STALL),
            cluster: self.cluster.as_ref().map(|c| c.health()),
        }
    }

    /// Writes this scheduler's row in `status` when what it says changed:
    /// at once if the last write is [`STATUS_EVERY`] old, else at a wake
    /// then (an idle loop has no change, so no wake). `now`: regardless.
    fn write_status(&mut self, now: bool) {
        let Some((written, at)) = &self.status else {
            return;
        };
        let mut status = written.clone();
        if status.stopped_at.is_none() {
            // Cheap: this runs at every turn of the loop.
            status.jobs = self.config.jobs.len() as u64;
            status.running = self.engine.running() as u64;
            status.queued = self.engine.queued() as u64;
        }
        let changed = (
            status.jobs,
            status.running,
            status.queued,
            status.stopped_at,
        ) != (
            written.jobs,
            written.running,
            written.queued,
            written.stopped_at,
        );
        if !now && !changed {
            return;
        }
        let due = *at + STATUS_EVERY;
        if !now && Instant::now() < due {
            self.wakes.status.get_or_insert(due);
            return;
        }
        self.wakes.status = None;
        status.updated_at = Utc::now();
        self.status = Some((status.clone(), Instant::now()));
        self.store.send(move |s| {
            if let Err(e) = s.write_status(&status) {
                tracing::warn!(error = %e, "cannot write the scheduler's status row");
            }
        });
    }

    /// One line per job with its next fire: at start-up, and at a reload
    /// for the jobs it added or changed (`only`).
    fn log_next_fires(&self, only: Option<&HashSet<String>>) {
        let now = Utc::now();
        for job in self.engine.status() {
            let disabled = self
                .config
                .job(&job.name)
                .is_some_and(|j| !j.settings.enabled);
            if disabled || only.is_some_and(|only| !only.contains(&job.name)) {
                continue; // a disabled job has its own line
            }
            match job.next {
                Some(next) => {
                    let wait = (next - now).to_std().unwrap_or_default();
                    tracing::info!(job = %job.name, next = %next.to_rfc3339(), "job scheduled: next fire in {}", duration::human(wait));
                }
                None => tracing::info!(job = %job.name, "job scheduled: no next fire"),
            }
        }
    }

    /// Remembers how the last history write went, for `/health`.
    fn wrote<T>(&mut self, result: &store::Result<T>) {
        match result {
            Ok(_) => self.write_error = None,
            Err(e) => self.write_error = Some(e.to_string()),
        }
    }

    fn execute(&mut self, actions: Vec<Action>) {
        // Catching up can record thousands of missed fires: one log line
        // per job says it all.
        let mut missed: HashMap<String, (u64, DateTime<Utc>, DateTime<Utc>)> = HashMap::new();
        // Every fire due now is claimed in one transaction, and every row of
        // a fire that does not run is written in one call.
        let mut claims = Vec::new();
        let mut records = Vec::new();
        for action in actions {
            match action {
                // A fire claimed ahead starts at its instant, as its row says.
                Action::Start { token, fire, job } => claims.push(Claim {
                    token,
                    started_at: Utc::now().max(fire.scheduled_for),
                    fire,
                    job,
                }),
                Action::Record {
                    fire,
                    status,
                    reason,
                    missed_count,
                    paused,
                } => {
                    if status == NotRun::Missed {
                        let at = fire.scheduled_for;
                        let entry = missed.entry(fire.job.clone()).or_insert((0, at, at));
                        entry.0 += missed_count.unwrap_or(1);
                        entry.1 = entry.1.min(at);
                        entry.2 = entry.2.max(at);
                    } else if paused {
                        // Counted into the pause's row: no line per fire.
                        tracing::debug!(job = %fire.job, scheduled_for = %fire.scheduled_for.to_rfc3339(), "fire skipped: the job is paused");
                    } else {
                        tracing::info!(job = %fire.job, scheduled_for = %fire.scheduled_for.to_rfc3339_opts(chrono::SecondsFormat::Millis, true), status = %status, %reason, "fire not run");
                    }
                    records.push(Unrecorded {
                        fire,
                        record: NotRunRecord {
                            status,
                            reason,
                            missed_count,
                            paused,
                        },
                    });
                }
                Action::Retrying {
                    job,
                    delay,
                    attempt,
                    attempts,
                } => {
                    tracing::warn!(job = %job, attempt, attempts, "retrying in {} (attempt {attempt} of {attempts})", duration::human(delay));
                }
                Action::GaveUp { job, attempts } => {
                    tracing::error!(job = %job, attempts, "giving up: all {attempts} attempts failed");
                }
                // Only `finished` with a run's outcome yields hooks, and
                // `handle` takes them out first.
                Action::Hook { .. } => {}
                Action::Overdue { job, last_success } if self.cluster.is_some() => {
                    self.cluster_overdue(job, last_success)
                }
                Action::Overdue { job, last_success } => self.log_overdue(&job, last_success),
                Action::Recovered { job } => {
                    if self.cluster.as_ref().is_none_or(|c| c.housekeeper) {
                        tracing::info!(job = %job, "overdue job succeeded again");
                    }
                }
                Action::Standby { fire } => self.stand_by(fire),
                Action::FireEnded { job, status } => {
                    if let Some(monitor) = &self.monitor {
                        monitor.fire_ended(&job, status);
                    }
                }
                Action::ClockBack { by, everything } => {
                    let by = duration::human(by.to_std().unwrap_or_default());
                    if everything {
                        tracing::warn!(%by, "the clock went back (3h or more): every job runs on the new time");
                    } else {
                        tracing::warn!(%by, "the clock went back: wildcard jobs run on the new time, fixed-time jobs do not run again for the repeated span");
                    }
                }
                Action::Terminate { token } => match self.runs.get(&token) {
                    Some(run) => {
                        tracing::info!(job = %run.job, run_id = run.run_id, "terminating the run: a newer fire replaces it");
                        let _ = run.control.send(Control::Replace);
                    }
                    // Its claim is still on its way: replace it as it starts.
                    None => {
                        self.replace_on_spawn.insert(token);
                    }
                },
            }
        }
        self.claim(claims);
        self.record(records);
        for (job, (count, first, last)) in missed {
            tracing::warn!(job = %job, count, first = %first.to_rfc3339(), last = %last.to_rfc3339(), "fires missed (each row says why)");
        }
    }

    fn log_overdue(&self, job: &str, last_success: Option<DateTime<Utc>>) {
        let within = self
            .config
            .job(job)
            .and_then(|j| j.settings.expect_success_within)
            .map(duration::format)
            .unwrap_or_default();
        let last_success = last_success.map(|t| t.to_rfc3339());
        let last_success = last_success.as_deref().map(tracing::field::display);
        tracing::warn!(job = %job, expect_success_within = %within, last_success, "job overdue: no successful run within expect_success_within");
    }

    /// Sends the fires' claims to the database in one transaction; each
    /// run starts when its claim comes back written. While a batch is on its
    /// way, new claims wait and go together when it is back: under a burst,
    /// one commit takes many claims instead of one each.
    fn claim(&mut self, claims: Vec<Claim>) {
        if claims.is_empty() {
            return;
        }
        if self.batches.claims_in_flight {
            self.batches.claims.extend(claims);
            return;
        }
        if self.cluster.is_some() {
            self.cluster_claim(claims);
            return;
        }
        self.batches.claims_in_flight = true;
        let rows: Vec<NewRun> = claims
            .iter()
            .map(|c| new_run(&self.host, self.pid, &c.fire, c.started_at))
            .collect();
        self.db(move |s| Event::Claimed {
            result: s.claim(&rows),
            claims,
        });
    }

    fn record(&self, records: Vec<Unrecorded>) {
        if records.is_empty() {
            return;
        }
        let (host, pid) = (self.host.clone(), self.pid);
        self.db(move |s| {
            Event::Recorded(
                records
                    .into_iter()
                    .map(|r| {
                        let row = new_run(&host, pid, &r.fire, Utc::now());
                        let result = s.record(&row, &r.record);
                        (r, result)
                    })
                    .collect(),
            )
        });
    }

    /// The claims came back: start the runs whose rows were written.
    fn claimed(&mut self, claims: Vec<Claim>, result: store::Result<Vec<Option<i64>>>) {
        self.wrote(&result);
        let ids = match result {
            Ok(ids) => ids.into_iter().map(Ok).collect::<Vec<_>>(),
            Err(e) => {
                let message = e.to_string();
                let transient = e.is_transient();
                (0..claims.len())
                    .map(|_| Err((message.clone(), transient)))
                    .collect()
            }
        };
        let mut again = Vec::new();
        let mut actions = Vec::new();
        for (mut claim, id) in claims.into_iter().zip(ids) {
            match id {
                Ok(Some(run_id)) => self.spawn(claim, run_id),
                // Two manual requests in one millisecond: the later one
                // moves on by a millisecond.
                Ok(None) if claim.fire.request.is_some() => {
                    claim.fire.scheduled_for += chrono::TimeDelta::milliseconds(1);
                    again.push(claim);
                }
                Ok(None) => {
                    self.replace_on_spawn.remove(&claim.token);
                    tracing::info!(job = %claim.fire.job, scheduled_for = %claim.fire.scheduled_for.to_rfc3339_opts(chrono::SecondsFormat::Millis, true), attempt = claim.fire.attempt, "fire already recorded; not running it twice");
                    actions.extend(self.engine.finished(claim.token, None, Utc::now()));
                }
                Err((error, transient)) => {
                    self.replace_on_spawn.remove(&claim.token);
                    // No row, no run: a run must never go unrecorded. The
                    // fire gets its row, with the reason, when the
                    // database is back.
                    tracing::error!(job = %claim.fire.job, scheduled_for = %claim.fire.scheduled_for.to_rfc3339_opts(chrono::SecondsFormat::Millis, true), error = %error, "run not started: cannot record it");
                    self.fail_request(
                        &claim.fire,
                        &format!("the scheduler could not record the run: {error}"),
                    );
                    if transient {
                        let mut fire = claim.fire.clone();
                        fire.request = None;
                        self.unrecorded.push(Unrecorded {
                            fire,
                            record: NotRunRecord {
                                status: NotRun::Missed,
                                reason: format!("database unavailable: {error}"),
                                missed_count: None,
                                paused: false,
                            },
                        });
                        self.wakes.retry.get_or_insert(Instant::now() + SAVE_RETRY);
                    }
                    actions.extend(self.engine.finished(claim.token, None, Utc::now()));
                }
            }
        }
        self.claim(again);
        self.execute(actions);
    }

    /// Spawns the run of a claimed fire, or holds it until its instant if
    /// it was claimed ahead (not while stopping: the shutdown waits for
    /// the held ones in [`Scheduler::start_held`]).
    fn spawn(&mut self, claim: Claim, run_id: i64) {
        let early = (claim.fire.scheduled_for - Utc::now())
            .to_std()
            .unwrap_or_default();
        if !early.is_zero() && !self.stopping {
            self.held.push(Held {
                // By the wall clock, normally; this bound only if the clock
                // is set back meanwhile.
                until: Instant::now() + early.min(LEAD) + LEAD,
                prepared: runner::prepare(&claim.job, run_id, claim.fire.scheduled_for),
                claim,
                run_id,
            });
            return;
        }
        self.start_run(claim, run_id, None);
    }

    /// Starts every held run, waiting here for the last one's instant: a
    /// few milliseconds at most.
    async fn start_held_all(&mut self) {
        while let Some(wait) = self
            .held
            .iter()
            .map(|h| {
                let wall = (h.claim.fire.scheduled_for - Utc::now())
                    .to_std()
                    .unwrap_or_default();
                wall.min(h.until.saturating_duration_since(Instant::now()))
            })
            .max()
        {
            if wait.is_zero() {
                break;
            }
            tokio::time::sleep(wait).await;
        }
        self.start_held(true, None);
    }

    /// Starts the held runs whose instant has come (`all`: every one),
    /// waiting here on `timer` for an instant at most [`LAST_STRETCH`]
    /// away.
    fn start_held(&mut self, all: bool, timer: Option<&crate::timer::WallTimer>) {
        if self.held.is_empty() {
            return;
        }
        let (mut now, mut mono) = (Utc::now(), Instant::now());
        let ready =
            |h: &Held, now, mono| all || h.claim.fire.scheduled_for <= now || h.until <= mono;
        // The held timer rang this far ahead: from a ring at the instant,
        // the loop's turn (the poll, the tasks, this partition) would come
        // between the instant and the spawn.
        let soon = now + TimeDelta::from_std(LAST_STRETCH).unwrap_or_default();
        if let Some(at) = self
            .held
            .iter()
            .filter(|h| !ready(h, now, mono) && h.claim.fire.scheduled_for <= soon)
            .map(|h| h.claim.fire.scheduled_for)
            .max()
        {
            match timer {
                Some(timer) => timer.block_until(at, 4 * LAST_STRETCH),
                None => std::thread::sleep((at - now).to_std().unwrap_or_default()),
            }
            (now, mono) = (Utc::now(), Instant::now());
        }
        let (due, later): (Vec<Held>, Vec<Held>) = std::mem::take(&mut self.held)
            .into_iter()
            .partition(|h| ready(h, now, mono));
        self.held = later;
        for h in due {
            self.start_run(h.claim, h.run_id, Some(h.prepared));
        }
    }

    /// Spawns the run of a claimed fire, now.
    fn start_run(&mut self, claim: Claim, run_id: i64, prepared: Option<runner::Prepared>) {
        let Claim {
            token,
            fire,
            job,
            started_at,
        } = claim;
        self.engine.spawned(token);
        let streamed = self.link_request(&fire, run_id);
        let first = if self.replace_on_spawn.remove(&token) {
            Control::Replace
        } else {
            Control::Run
        };
        let (control, control_rx) = watch::channel(first);
        let events = self.events_tx.clone();
        // Every run can be followed; its output goes to the loop only while
        // someone does (`trigger --wait` from the start, `logs --follow`
        // from when it asks).
        let (follow, follow_rx) = watch::channel(streamed);
        let live: runner::Live = {
            let events = self.events_tx.clone();
            Arc::new(move |stream, data| {
                let _ = events.send(Event::Output {
                    run_id,
                    stream,
                    data,
                });
            })
        };
        let info = RunInfo {
            run_id,
            scheduled_for: fire.scheduled_for,
            live: Some(live),
            follow: Some(follow_rx),
            output: self.config.scheduler.job_output,
            prefix: self.config.scheduler.job_output_prefix,
        };
        // The child starts here, not when the task is first polled: that
        // would be after the rest of the loop's turn (the tick, the status,
        // the timer), all of it between the row and the start.
        let started = match prepared {
            Some(prepared) => prepared.spawn(&job),
            None => runner::start(&job, &info),
        };
        if let Ok(child) = &started
            && let Some(child_pid) = child.pid()
        {
            let _ = events.send(Event::Spawned { run_id, child_pid });
        }
        tokio::spawn(async move {
            let outcome = match started {
                Ok(child) => child.finish(&job, &info, control_rx).await,
                Err(failed) => *failed,
            };
            let _ = events.send(Event::Finished { token, outcome });
        });
        let delay = Utc::now() - fire.scheduled_for;
        let delay_ms = delay.num_milliseconds();
        if let Some(monitor) = &self.monitor
            && fire.trigger == Trigger::Schedule
            && fire.attempt == 1
        {
            monitor.run_started(&fire.job, delay);
        }
        let claim_ms = (Utc::now() - started_at).num_milliseconds();
        tracing::info!(job = %fire.job, run_id, scheduled_for = %fire.scheduled_for.to_rfc3339_opts(chrono::SecondsFormat::Millis, true), attempt = fire.attempt, trigger = %fire.trigger, delay_ms, claim_ms, "run started");
        self.runs.insert(
            token,
            Running {
                run_id,
                scheduled_for: fire.scheduled_for,
                job: fire.job,
                control,
                follow,
            },
        );
    }

    fn recorded(&mut self, results: Vec<(Unrecorded, store::Result<Option<i64>>)>) {
        let mut again = Vec::new();
        for (mut item, result) in results {
            self.wrote(&result);
            match result {
                Ok(Some(id)) => {
                    if let Some(monitor) = &self.monitor {
                        monitor.recorded(
                            &item.fire.job,
                            item.record.status.into(),
                            item.record.missed_count.unwrap_or(1),
                        );
                    }
                    self.link_request(&item.fire, id);
                }
                Ok(None) if item.fire.request.is_some() => {
                    item.fire.scheduled_for += chrono::TimeDelta::milliseconds(1);
                    again.push(item);
                }
                Ok(None) => {}
                Err(e) if e.is_transient() => {
                    if self.unrecorded.is_empty() {
                        tracing::error!(job = %item.fire.job, error = %e, "cannot record a fire that did not run; will retry");
                    }
                    self.unrecorded.push(item);
                    self.wakes.retry.get_or_insert(Instant::now() + SAVE_RETRY);
                }
                Err(e) => {
                    tracing::error!(job = %item.fire.job, error = %e, "cannot record a fire that did not run");
                    self.fail_request(
                        &item.fire,
                        &format!("the scheduler could not record it: {e}"),
                    );
                }
            }
        }
        self.record(again);
    }

    fn saved(&mut self, items: Vec<Unsaved>, result: store::Result<()>) {
        self.wrote(&result);
        for item in items {
            match &result {
                Ok(()) if item.retried => {
                    tracing::info!(job = %item.job, run_id = item.run_id, "recorded the end of the run after a retry");
                }
                Ok(()) => {}
                Err(e) => {
                    if !item.retried {
                        tracing::error!(job = %item.job, run_id = item.run_id, error = %e, "cannot record the end of a run; will retry");
                    }
                    self.unsaved.push(Unsaved {
                        retried: true,
                        ..item
                    });
                    self.wakes.retry.get_or_insert(Instant::now() + SAVE_RETRY);
                }
            }
        }
    }

    /// Sends again the rows that could not be written, once their retry is
    /// due.
    fn retry_writes(&mut self) {
        if self.wakes.retry.is_some() || (self.unsaved.is_empty() && self.unrecorded.is_empty()) {
            return;
        }
        let unsaved = std::mem::take(&mut self.unsaved);
        if !unsaved.is_empty() {
            self.save(unsaved);
        }
        let unrecorded = std::mem::take(&mut self.unrecorded);
        self.record(unrecorded);
    }

    /// Writes the pids of the children spawned since the last write, in
    /// one transaction; they are for finding what a run left behind after
    /// a crash, so a failed write is logged and not tried again.
    fn save_pids(&mut self) {
        if self.batches.pids_in_flight || self.batches.pids.is_empty() {
            return;
        }
        self.batches.pids_in_flight = true;
        let pids = std::mem::take(&mut self.batches.pids);
        self.db(move |s| {
            if let Err(e) = s.set_child_pids(&pids) {
                tracing::warn!(runs = pids.len(), error = %e, "cannot record the children's pids");
            }
            Event::PidsSaved
        });
    }

    /// Writes run ends, all in one transaction; as with claims, ends that
    /// come while a batch is on its way go with the next one.
    fn save(&mut self, items: Vec<Unsaved>) {
        if items.is_empty() {
            return;
        }
        if self.batches.saves_in_flight {
            self.batches.saves.extend(items);
            return;
        }
        self.batches.saves_in_flight = true;
        self.db(move |s| {
            let ends: Vec<(i64, &Outcome)> = items.iter().map(|i| (i.run_id, &i.outcome)).collect();
            let result = s.finish_all(&ends);
            Event::Saved(items, result)
        });
    }

    fn handle(&mut self, event: Event) {
        match event {
            Event::Spawned { run_id, child_pid } => {
                self.batches.pids.push((run_id, child_pid));
                self.save_pids();
            }
            Event::PidsSaved => {
                self.batches.pids_in_flight = false;
                self.save_pids();
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
                let (stream, data) = if *sent >= LIVE_CAP {
                    (
                        "stderr",
                        b"\n[schedule: more output than is passed on live; `schedule show` has its end]\n"
                            .to_vec(),
                    )
                } else {
                    (stream, data)
                };
                self.store.send(move |s| {
                    if let Err(e) = s.append_output(run_id, stream, &data) {
                        tracing::warn!(run_id, error = %e, "cannot pass on the run's output");
                    }
                });
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
            Event::Claimed { claims, result } => {
                self.batches.claims_in_flight = false;
                self.claimed(claims, result);
                let waiting = std::mem::take(&mut self.batches.claims);
                self.claim(waiting);
            }
            Event::ClusterClaimed { claims, result } => {
                self.batches.claims_in_flight = false;
                self.cluster_claimed(claims, result);
                let waiting = std::mem::take(&mut self.batches.claims);
                self.claim(waiting);
            }
            Event::StandbyChecked {
                fires,
                tries,
                result,
            } => self.standby_checked(fires, tries, result),
            Event::OverdueChecked {
                job,
                last_success,
                result,
            } => self.overdue_checked(job, last_success, result),
            Event::Recorded(results) => self.recorded(results),
            Event::Saved(items, result) => {
                self.batches.saves_in_flight = false;
                self.saved(items, result);
                let waiting = std::mem::take(&mut self.batches.saves);
                self.save(waiting);
            }
            Event::Controls(None) => {}
            Event::Controls(Some(controls)) => self.apply_controls(controls),
            Event::Loaded(result) => self.loaded(*result),
            Event::Checked(files, then) => {
                self.files_checked(files);
                self.handle(*then);
            }
        }
    }

    fn record_finished(&mut self, run: &Running, outcome: Outcome) {
        let o = &outcome;
        let (job, run_id) = (&run.job, run.run_id);
        let status = o.status.as_str();
        // Optional fields are left out when absent. A signal is its number,
        // as in `history --json`; the reason names it.
        let display = tracing::field::display;
        let exit_code = o.exit_code;
        let signal = o.signal;
        let reason = o.reason.as_deref().map(display);
        if o.status == Ended::Succeeded {
            tracing::info!(job = %job, run_id, status = %status, exit_code, duration_ms = o.duration_ms, "run ended");
        } else {
            tracing::warn!(job = %job, run_id, status = %status, exit_code, signal, duration_ms = o.duration_ms, reason, "run ended");
        }
        if let Some(monitor) = &self.monitor {
            monitor.run_ended(job, o.status, o.duration_ms);
        }
        self.save(vec![Unsaved {
            run_id,
            job: job.clone(),
            outcome,
            retried: false,
        }]);
    }

    /// Someone may have written to the database: look at pauses and
    /// requests once it settled, and once more later. A stream of writes
    /// must not put the looks off.
    fn database_changed(&mut self) {
        let now = Instant::now();
        let checks = &mut self.wakes.control_checks;
        checks[0].get_or_insert(now + DB_SETTLE);
        checks[1].get_or_insert(now + DB_RECHECK);
    }

    /// Asks the store for pauses and `schedule trigger` requests; `always`
    /// reads them even when nobody else wrote since the last look.
    fn read_controls(&self, always: bool) {
        self.db(move |s| {
            let files = s.check();
            let controls = if !always && !s.others_wrote().unwrap_or(true) {
                Event::Controls(None) // our own write
            } else {
                if always {
                    let _ = s.others_wrote();
                }
                Event::Controls(Some(Controls {
                    version: s.controls().ok().map(|(v, _)| v),
                    paused: s.paused(),
                    requests: s.take_requests(),
                    follows: s.take_follows(),
                }))
            };
            Event::Checked(files, Box::new(controls))
        });
    }

    /// Notes whether the database's files are in place: an error is logged
    /// once and shown on `/health` until they are back.
    fn files_checked(&mut self, files: store::Result<()>) {
        match files {
            Err(e) => {
                if self.file_error.is_none() {
                    tracing::error!(error = %e, "the database is gone from under the scheduler: runs are not recorded (nor started) until it is back");
                }
                self.file_error = Some(e.to_string());
            }
            Ok(()) => {
                if self.file_error.take().is_some() {
                    tracing::info!("the database is back in place");
                }
            }
        }
    }

    /// Applies `schedule pause`/`resume` and starts `schedule trigger` runs.
    fn apply_controls(
        &mut self,
        Controls {
            version,
            paused,
            requests,
            follows,
        }: Controls,
    ) {
        match paused {
            Ok(paused) => {
                let (paused, resumed) = self.engine.set_paused(paused);
                for job in paused {
                    tracing::info!(job = %job, "job paused: its fires are counted into one `skipped` row until it is resumed");
                }
                for job in resumed {
                    tracing::info!(job = %job, "job resumed");
                }
                // `schedule pause` waits for this to say it was applied.
                if let Some(version) = version {
                    self.store.send(move |s| {
                        if let Err(e) = s.applied(version) {
                            tracing::warn!(error = %e, "cannot acknowledge pause and resume");
                        }
                    });
                }
            }
            Err(e) => tracing::warn!(error = %e, "cannot read the paused jobs"),
        }
        match follows {
            Ok(follows) => {
                for run_id in follows {
                    if let Some(run) = self.runs.values().find(|r| r.run_id == run_id) {
                        tracing::debug!(job = %run.job, run_id, "`schedule logs` follows the run");
                        let _ = run.follow.send(true);
                    }
                }
            }
            Err(e) => tracing::warn!(error = %e, "cannot read who follows runs"),
        }
        let requests = match requests {
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
        self.store.send(move |s| {
            if let Err(e) = s.link_request(request, run_id) {
                tracing::warn!(request, error = %e, "cannot tell `schedule trigger` which run it started");
            }
        });
        self.streamed.remove(&request)
    }

    /// Tells a waiting `schedule trigger` that its fire will never run.
    fn fail_request(&mut self, fire: &Fire, error: &str) {
        if let Some(request) = fire.request {
            self.streamed.remove(&request);
            let error = error.to_string();
            self.store.send(move |s| {
                if let Err(e) = s.fail_request(request, &error) {
                    tracing::warn!(request, error = %e, "cannot answer a `schedule trigger` request");
                }
            });
        }
    }

    /// Applies `keep` and `keep_runs`, at most once an hour.
    fn prune(&mut self, location: &Location) {
        // In a cluster, the holder of the housekeeping lease cleans up.
        if self.cluster.as_ref().is_some_and(|c| !c.housekeeper) {
            return;
        }
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
        let location = location.clone();
        let spawned = std::thread::Builder::new()
            .name("prune".into())
            .spawn(move || {
                let result = store::open(&location, Mode::Write).and_then(|mut store| {
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

    /// Re-reads the config on a thread of its own (a big config takes a
    /// while to parse, and the loop goes on meanwhile); the answer comes
    /// back as [`Event::Loaded`]. A reload asked for while one is under way
    /// runs again once it is done.
    fn reload(&mut self, opts: &Options) {
        self.config_path = Some(opts.config_path.clone());
        self.start_reload();
    }

    fn start_reload(&mut self) {
        let Some(path) = self.config_path.clone() else {
            return;
        };
        if self.reloading {
            self.reload_again = true;
            return;
        }
        let events = self.events_tx.clone();
        let spawned = std::thread::Builder::new()
            .name("reload".into())
            .spawn(move || {
                let _ = events.send(Event::Loaded(Box::new(config::load(&path))));
            });
        match spawned {
            Ok(_) => self.reloading = true,
            Err(e) => tracing::error!(error = %e, "config not reloaded: cannot start a thread"),
        }
    }

    /// Applies a re-read config; a config that fails to load, or that has no
    /// job left while the running one has some, changes nothing.
    fn loaded(&mut self, result: Result<Config, config::ConfigError>) {
        self.reloading = false;
        if self.stopping {
            return;
        }
        match result {
            Ok(new) if new.jobs.is_empty() && !self.config.jobs.is_empty() => {
                tracing::error!(
                    config = %new.path.display(),
                    jobs = self.config.jobs.len(),
                    "config not reloaded: the file has no jobs now (emptied, or being \
                     written?); keeping the running one. To stop every job, set \
                     `enabled = false` on them"
                );
            }
            Ok(new) => {
                let before = self.config.jobs.len();
                let old: HashMap<&str, &Job> = self
                    .config
                    .jobs
                    .iter()
                    .map(|j| (&*j.name, j.as_ref()))
                    .collect();
                let mut added = Vec::new();
                let mut changed = Vec::new();
                for job in &new.jobs {
                    match old.get(&*job.name) {
                        None => added.push(job.name.to_string()),
                        Some(was) if **was != **job => changed.push(job.name.to_string()),
                        Some(_) => {}
                    }
                }
                let mut removed: Vec<String> = old
                    .keys()
                    .filter(|name| new.job(name).is_none())
                    .map(|name| name.to_string())
                    .collect();
                removed.sort();
                let actions = self.engine.reload(&new, Utc::now());
                if let Some(monitor) = &self.monitor {
                    let names: Vec<&str> = new.jobs.iter().map(|j| &*j.name).collect();
                    monitor.declare(&names);
                }
                if new.scheduler != self.config.scheduler {
                    self.next_prune = Instant::now();
                }
                if new.scheduler.http != self.config.scheduler.http {
                    tracing::warn!(
                        "[scheduler] http changed: it takes effect when the scheduler restarts"
                    );
                }
                self.config = new;
                let names = |names: &[String]| match names {
                    [] => "none".to_string(),
                    names => names.join(", "),
                };
                tracing::info!(
                    jobs_before = before,
                    jobs = self.config.jobs.len(),
                    added = %names(&added),
                    removed = %names(&removed),
                    changed = %names(&changed),
                    "config reloaded: {} added, {} removed, {} changed",
                    added.len(),
                    removed.len(),
                    changed.len(),
                );
                let fresh: HashSet<String> = added.into_iter().chain(changed).collect();
                self.cluster_reloaded();
                self.log_next_fires(Some(&fresh));
                self.execute(actions);
                crate::memory::release_freed_heap();
                self.wakes.trim = Some(Instant::now() + TRIM_AFTER);
            }
            Err(e) => {
                tracing::error!("config not reloaded; keeping the running one:\n{e}");
            }
        }
        if std::mem::take(&mut self.reload_again) {
            self.start_reload();
        }
    }

    fn signal_all(&self, control: Control) {
        for run in self.runs.values() {
            let _ = run.control.send(control);
        }
    }

    /// [`Self::all_written`], once the answers the store thread already sent
    /// are handled: it sends an answer before it counts its work done, so
    /// one may still be in the channel (a failed write to retry, say).
    fn drained_and_written(&mut self) -> bool {
        while let Ok(event) = self.events_rx.try_recv() {
            self.handle(event);
        }
        self.all_written()
    }

    /// Nothing is left to write: no claim, row or end on its way to the
    /// database, none waiting for a retry.
    fn all_written(&self) -> bool {
        self.store.outstanding() == 0
            && self.unsaved.is_empty()
            && self.unrecorded.is_empty()
            && self.batches.claims.is_empty()
            && self.batches.saves.is_empty()
    }

    async fn shutdown(
        &mut self,
        why: &str,
        opts: &Options,
        sigint: &mut Signal,
        sigterm: &mut Signal,
    ) {
        // Ctrl-C in a terminal leaves the cursor after `^C`.
        if why == "SIGINT" && std::io::IsTerminal::is_terminal(&std::io::stderr()) {
            eprintln!();
        }
        let signal = match why {
            "SIGINT" => Some(libc::SIGINT),
            "SIGTERM" => Some(libc::SIGTERM),
            _ => None,
        };
        let cause = signal.is_none().then_some(why);
        let running = self.runs.len();
        if running == 0 {
            tracing::info!(
                signal,
                cause,
                "shutting down: no new runs; nothing is running"
            );
        } else {
            tracing::info!(
                signal,
                cause,
                running,
                grace = %duration::format(opts.shutdown_grace),
                "shutting down: no new runs; waiting for the running ones to end"
            );
        }
        if let Some(notifier) = &self.notifier {
            notifier.send("STOPPING=1");
        }
        self.stopping = true;
        // Claimed ahead: they start at their instant, and stop with the rest.
        self.start_held_all().await;
        let actions = self.engine.shutdown();
        self.execute(actions);
        self.cluster_stop();
        // A `trigger` that arrives now must not run at the next start. In
        // a cluster the other hosts take it.
        if self.cluster.as_ref().is_none_or(|c| c.alone()) {
            self.store.send(|s| {
                if let Err(e) = s.fail_open_requests(
                    None,
                    "the scheduler shut down before it could start the run",
                ) {
                    tracing::warn!(error = %e, "cannot answer open trigger requests");
                }
            });
        }
        let deadline = Instant::now() + opts.shutdown_grace;
        let mut terminating = false;
        // After a second signal every run is killed, late ones included.
        let mut killing = false;
        // Claims on their way may still start runs; they are stopped with
        // the others.
        while !self.runs.is_empty() || self.engine.running() > 0 {
            let trust_wake = self.cluster.as_ref().and_then(|c| c.trust_wake());
            tokio::select! {
                Some(event) = self.events_rx.recv() => {
                    let spawned_late = matches!(event, Event::Claimed { .. } | Event::ClusterClaimed { .. });
                    self.handle(event);
                    if spawned_late && killing {
                        self.signal_all(Control::Kill);
                    } else if spawned_late && terminating {
                        self.signal_all(Control::Terminate);
                    }
                }
                _ = sleep_until(deadline), if !terminating => {
                    terminating = true;
                    tracing::warn!(running = self.runs.len(), "shutdown grace over: terminating running jobs");
                    self.signal_all(Control::Terminate);
                }
                // The heartbeat's news still counts: a run whose lease is
                // refused, or a trust window that ends, stops it.
                Some(beat) = cluster::InCluster::next_beat(&mut self.cluster) => self.on_beat(beat),
                _ = at(trust_wake) => self.check_trust(),
                // A kill is final: never downgrade it to a terminate.
                _ = sigint.recv() => { terminating = true; killing = true; self.kill_all() }
                _ = sigterm.recv() => { terminating = true; killing = true; self.kill_all() }
            }
        }
        // Every row must be complete before we go.
        let began = Instant::now();
        let give_up = began + UNSAVED_PATIENCE;
        let mut told = false;
        while !self.drained_and_written() && Instant::now() < give_up {
            if !told && began.elapsed() >= SAVE_RETRY {
                tracing::info!(
                    "waiting for the history database to take the last rows (up to {}s)",
                    UNSAVED_PATIENCE.as_secs()
                );
                told = true;
            }
            self.wakes.retry = None;
            self.retry_writes();
            tokio::select! {
                Some(event) = self.events_rx.recv() => self.handle(event),
                _ = tokio::time::sleep(SAVE_RETRY) => {}
            }
        }
        for item in &self.unsaved {
            tracing::error!(
                job = %item.job,
                run_id = item.run_id,
                "could not record the end of the run; it will show as interrupted"
            );
        }
        for item in &self.unrecorded {
            tracing::error!(
                job = %item.fire.job,
                scheduled_for = %item.fire.scheduled_for.to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
                reason = %item.record.reason,
                "could not record a fire that did not run"
            );
        }
        if self.store.outstanding() > 0 {
            tracing::error!(
                "the history database did not answer within {}s: the rows still on their way \
                 are lost; runs left `running` show as interrupted at the next start",
                UNSAVED_PATIENCE.as_secs()
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
fn new_run(host: &str, pid: u32, fire: &Fire, started_at: DateTime<Utc>) -> NewRun {
    NewRun {
        job: fire.job.clone(),
        scheduled_for: fire.scheduled_for,
        slot: fire.slot,
        nominal: fire
            .nominal
            .map(|n| n.format("%Y-%m-%dT%H:%M:%S").to_string()),
        attempt: fire.attempt,
        trigger: fire.trigger,
        started_at,
        host: host.to_string(),
        pid,
    }
}

/// Watches the config file, and its folder for the file being replaced
/// (editors rename a new file over it) or deleted (the failed reload says
/// so in the log, and the running config is kept): `crate::watch`.
struct Watcher {
    changes: mpsc::UnboundedReceiver<()>,
}

impl Watcher {
    fn new(config: &std::path::Path) -> Option<Watcher> {
        let folder = match config.parent() {
            Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
            _ => PathBuf::from("."),
        };
        let name = config.file_name()?.to_owned();
        let (tx, changes) = mpsc::unbounded_channel();
        crate::watch::spawn("watch", &folder, vec![name], move || tx.send(()).is_ok()).ok()?;
        Some(Watcher { changes })
    }
}

async fn ring(timer: &Option<crate::timer::WallTimer>) {
    match timer {
        Some(timer) => timer.ring().await,
        None => std::future::pending().await,
    }
}

/// Sleeps until `when`; never resolves without one.
async fn at(when: Option<Instant>) {
    match when {
        Some(when) => sleep_until(when).await,
        None => std::future::pending().await,
    }
}

async fn next_probe(probes: &mut Option<mpsc::UnboundedReceiver<Probe>>) -> Option<Probe> {
    match probes {
        Some(rx) => rx.recv().await,
        None => std::future::pending().await,
    }
}

async fn next_lost(lost: &mut Option<mpsc::UnboundedReceiver<String>>) -> Option<String> {
    match lost {
        Some(rx) => rx.recv().await,
        None => std::future::pending().await,
    }
}

/// The next change of the config file. Never resolves without a watcher
/// (nor once its thread ended).
async fn next_change(watcher: &mut Option<Watcher>) -> Option<()> {
    match watcher {
        Some(w) => w.changes.recv().await,
        None => std::future::pending().await,
    }
}
