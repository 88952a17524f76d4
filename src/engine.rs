//! The policy core of the scheduler: which fire starts, waits, is skipped,
//! retried or caught up, and when.
//!
//! It does no I/O and reads no clock. Time comes in as an argument and
//! randomness (jitter) from a seeded generator; decisions go out as
//! [`Action`]s that the async shell in `scheduler.rs` carries out (write a
//! row, spawn a child, signal a run). That keeps every policy testable with
//! a simulated clock: hours of schedule are checked in milliseconds.
//!
//! The life of a fire: a timer pops (its schedule, a jitter delay or a retry
//! backoff) → the job's **overlap** policy decides against its running runs
//! → the global **concurrency** limit decides against all running runs (a
//! FIFO queue, bounded) → [`Action::Start`]. When a run ends, a failure may
//! arm a **retry** timer, and the freed slot goes to the job's waiting fire,
//! its catch-up backlog, then the global queue.

use chrono::{DateTime, TimeDelta, Utc};
use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap, VecDeque};
use std::hash::BuildHasher;
use std::sync::Arc;

use crate::config::{Catchup, Config, Job, Overlap, SchedulerSettings};
use crate::domain::{Ended, NotRun, Trigger};
use crate::schedule::{FirePoint, Schedule};

/// A fire found later than this when its timer pops was missed (the loop
/// slept through it: suspend, a stopped process, a clock step), and the
/// job's catch-up policy decides what happens to it.
pub const LATE: TimeDelta = TimeDelta::seconds(10);
/// The clock going back by more than this is a step, not jitter.
const CLOCK_STEP: TimeDelta = TimeDelta::seconds(1);
/// cron(8): a step back of three hours or more runs everything on the new
/// time, fixed-time jobs included.
const BIG_STEP_BACK: TimeDelta = TimeDelta::hours(3);
/// At most this many missed fires are handled one by one; older ones inside
/// the window are counted with those outside it.
const MAX_CATCHUP_FIRES: usize = 10_000;
/// Counting missed cron fires stops here (a per-second job down for 115
/// days); the count then says "at least".
const MAX_COUNTED: u64 = 10_000_000;

/// Identifies a run the engine started, until it ends.
pub type Token = u64;

/// One firing of a job. Its identity in the history is
/// `(job, scheduled_for, attempt)`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fire {
    pub job: String,
    pub scheduled_for: DateTime<Utc>,
    /// Tells apart fires of one instant: the local times a daylight-saving
    /// jump skipped, and wildcard runs after the clock went back.
    pub slot: u32,
    /// The skipped local time this fire stands for.
    pub nominal: Option<chrono::NaiveDateTime>,
    pub attempt: u32,
    pub trigger: Trigger,
    /// The `schedule trigger` request behind a manual fire.
    pub request: Option<i64>,
}

/// What the shell must do.
#[derive(Debug, Clone)]
pub enum Action {
    /// Write the `running` row, spawn the child, and report back with
    /// [`Engine::finished`] (also when the row could not be written).
    Start {
        token: Token,
        fire: Fire,
        job: Arc<Job>,
    },
    /// Write a row for a fire that does not run.
    Record {
        fire: Fire,
        status: NotRun,
        reason: String,
        missed_count: Option<u64>,
        /// Skipped because the job is paused: counted into the pause's row.
        paused: bool,
    },
    /// A failed attempt will be tried again after `delay`, as attempt
    /// `attempt` of `attempts`: for the log.
    Retrying {
        job: String,
        delay: std::time::Duration,
        attempt: u32,
        attempts: u32,
    },
    /// The last of a fire's `attempts` failed: no retry follows.
    GaveUp { job: String, attempts: u32 },
    /// Stop a run gracefully (SIGTERM, SIGKILL after its kill grace): a
    /// newer fire replaces it.
    Terminate { token: Token },
    /// Run the job's hook for the run that just ended (`on_success`, or
    /// `on_failure` once no retry follows).
    Hook { command: String, job: Arc<Job> },
    /// The job has not succeeded within its `expect_success_within`: warn,
    /// once, until it succeeds again.
    Overdue {
        job: String,
        last_success: Option<DateTime<Utc>>,
    },
    /// An overdue job succeeded.
    Recovered { job: String },
    /// A fire's last attempt ended: no retry follows. What `/metrics`
    /// counts as the fire's outcome.
    FireEnded { job: String, status: Ended },
    /// The wall clock went back by this much: wildcard jobs follow the new
    /// time, fixed-time jobs wait for the time they were at (cron(8)).
    ClockBack { by: TimeDelta, everything: bool },
    /// In a cluster, another host is the job's preferred one: see whether
    /// it claimed the fire after the takeover delay, and hand the fire back
    /// with [`Engine::take_over`] if it did not. The fire holds no slot
    /// meanwhile.
    Standby { fire: Fire },
}

pub use crate::cluster::Part;

/// A timer other than a job's next scheduled fire (those are the heap's
/// entries alone: see [`Due`]).
enum Timer {
    /// A fire whose start was delayed by jitter.
    Jittered(Box<Fire>),
    /// The next attempt at a failed fire.
    Retry(Box<Fire>),
    /// The job's dead-man deadline (`expect_success_within`).
    Deadline { job: String, at: DateTime<Utc> },
}

/// An entry of the timer heap: the earliest first, then in the order armed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
struct Due {
    /// Milliseconds since the Unix epoch.
    at: i64,
    seq: u64,
    /// A job's scheduled fire: the job's position in `Engine::jobs`, and the
    /// fire's slot of its instant. It is the job's current timer while the
    /// job's `next` is that fire (a reload or a clock step may have moved it
    /// since). [`NOT_SCHEDULED`]: the timer is in `Engine::timer_data`
    /// under `seq`.
    job: u32,
    slot: u32,
}

const NOT_SCHEDULED: u32 = u32::MAX;

/// One job's state. An idle job (nothing running, waiting or watched) has
/// only this: what a busy one needs more is boxed in [`Busy`].
struct JobState {
    job: Arc<Job>,
    next: Option<FirePoint>,
    /// Gone from the config; kept until its runs end.
    removed: bool,
    busy: Option<Box<Busy>>,
}

/// The part of a job's state that a job has once it fired, waits, is
/// watched by a dead-man alert or is caught up (about 130 bytes, which
/// 10,000 idle jobs would carry for nothing).
#[derive(Default)]
struct Busy {
    running: Vec<Token>,
    /// `queue` and `replace`: the one fire waiting for the running run.
    waiting: Option<Box<Fire>>,
    /// `catchup = "all"`: missed fires still to run, oldest first.
    backlog: VecDeque<Fire>,
    /// When a run of the job last succeeded, as far as is known.
    last_success: Option<DateTime<Utc>>,
    /// The armed dead-man deadline; reaching it makes the job overdue.
    deadline: Option<DateTime<Utc>>,
    /// Overdue since this deadline, until a run succeeds.
    overdue: Option<DateTime<Utc>>,
    /// The latest instant the job's schedule fired at.
    fired_until: Option<DateTime<Utc>>,
    /// After the clock went back: fires up to this instant run again, as
    /// the pass-th run of their instant.
    rerun: Option<(DateTime<Utc>, u32)>,
}

impl JobState {
    fn new(job: Arc<Job>) -> JobState {
        JobState {
            job,
            next: None,
            removed: false,
            busy: None,
        }
    }

    /// For a change: the busy part, made when the job has none yet.
    fn busy(&mut self) -> &mut Busy {
        self.busy.get_or_insert_with(Default::default)
    }

    fn running(&self) -> &[Token] {
        self.busy.as_ref().map_or(&[], |b| &b.running)
    }

    fn last_success(&self) -> Option<DateTime<Utc>> {
        self.busy.as_ref().and_then(|b| b.last_success)
    }
}

/// What `/health`, `/metrics` and the logs tell of a job.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JobStatus {
    pub name: String,
    pub next: Option<DateTime<Utc>>,
    pub running: usize,
    pub last_success: Option<DateTime<Utc>>,
    /// Overdue since this instant (`expect_success_within` passed).
    pub overdue_since: Option<DateTime<Utc>>,
}

pub struct Engine {
    /// Every job's state; a position freed by a removed job is taken by the
    /// next job added. A scheduled timer names its job by its position.
    jobs: Vec<Option<JobState>>,
    free: Vec<u32>,
    /// Positions in `jobs`, found by the job's name (hashed with `hasher`):
    /// 4 bytes a job and no copy of its name, where a map keyed by name
    /// would hold a name and a pointer.
    index: hashbrown::HashTable<u32>,
    hasher: std::hash::RandomState,
    settings: SchedulerSettings,
    timers: BinaryHeap<Reverse<Due>>,
    timer_data: HashMap<u64, Timer>,
    next_seq: u64,
    /// Fires waiting for a free slot under `max_concurrent`, oldest first.
    queue: VecDeque<Fire>,
    runs: HashMap<Token, Fire>,
    /// Runs whose claim has not come back from the database yet: they hold
    /// their job and their slot, but a fire turned away because of them was
    /// turned away by the database, not by the job.
    claiming: HashMap<Token, DateTime<Utc>>,
    /// The time the engine was last handed: when a claim was sent, and
    /// how a step of the clock back is seen.
    clock: DateTime<Utc>,
    /// How many times the clock went back.
    passes: u32,
    next_token: Token,
    rng: Rng,
    shutting_down: bool,
    /// Jobs paused with `schedule pause`: their fires are skipped.
    paused: std::collections::HashSet<String>,
    /// When `startup` ran: dead-man deadlines of jobs never seen to succeed
    /// count from here.
    started: DateTime<Utc>,
    /// In a cluster: the jobs this host does not lead (absent: leads).
    parts: HashMap<String, Part>,
    /// One host of a cluster ([`Engine::set_parts`] was called).
    cluster: bool,
    /// Fires taken over from their lead: they may wait in a queue, and are
    /// not stood by for again when they come out of it.
    taken_over: std::collections::HashSet<(String, DateTime<Utc>, u32, u32)>,
    /// `run_on_start` jobs run at `startup` (in a cluster, only when the
    /// first host starts).
    run_on_start: bool,
}

impl Engine {
    pub fn new(config: &Config, seed: u64) -> Engine {
        let mut engine = Engine {
            jobs: Vec::with_capacity(config.jobs.len()),
            free: Vec::new(),
            index: hashbrown::HashTable::with_capacity(config.jobs.len()),
            hasher: std::hash::RandomState::new(),
            settings: config.scheduler.clone(),
            // One scheduled fire a job.
            timers: BinaryHeap::with_capacity(config.jobs.len()),
            timer_data: HashMap::new(),
            next_seq: 0,
            queue: VecDeque::new(),
            runs: HashMap::new(),
            claiming: HashMap::new(),
            clock: DateTime::<Utc>::MIN_UTC,
            passes: 0,
            next_token: 1,
            rng: Rng::new(seed),
            shutting_down: false,
            paused: Default::default(),
            started: DateTime::<Utc>::MIN_UTC,
            parts: HashMap::new(),
            cluster: false,
            taken_over: Default::default(),
            run_on_start: true,
        };
        for job in &config.jobs {
            engine.insert(Arc::clone(job));
        }
        engine
    }

    /// Starts the schedule: catches up on fires missed since each job's
    /// last recorded one (`last_fires`), then runs `run_on_start` jobs.
    /// `last_successes` start the dead-man clocks.
    pub fn startup(
        &mut self,
        now: DateTime<Utc>,
        last_fires: &HashMap<String, DateTime<Utc>>,
        last_successes: &HashMap<String, DateTime<Utc>>,
    ) -> Vec<Action> {
        let mut out = Vec::new();
        self.started = now;
        self.clock = now;
        for job in self.sorted_jobs() {
            let name = &*job.name;
            if !job.settings.enabled {
                continue;
            }
            if let Some(&at) = last_successes.get(name)
                && let Some(state) = self.state_mut(name)
            {
                state.busy().last_success = Some(at);
            }
            self.arm_deadline(name);
            match last_fires.get(name) {
                Some(&last) => self.catch_up(name, last, now, false, &mut out),
                None => self.arm_next(name, now),
            }
            if job.settings.run_on_start && self.run_on_start {
                let fire = Fire {
                    job: name.to_string(),
                    // The history keeps milliseconds: so does the fire.
                    scheduled_for: DateTime::from_timestamp_millis(now.timestamp_millis())
                        .unwrap_or(now),
                    slot: 0,
                    nominal: None,
                    attempt: 1,
                    trigger: Trigger::Startup,
                    request: None,
                };
                self.dispatch(fire, &mut out);
            }
        }
        out
    }

    /// When the engine next has something to do, if ever.
    pub fn next_wake(&self) -> Option<DateTime<Utc>> {
        self.timers
            .peek()
            .and_then(|Reverse(due)| DateTime::from_timestamp_millis(due.at))
    }

    /// When [`Engine::tick_ahead`] with `lead` may have something to do,
    /// after `now`: `lead` before the next timer if that is a fire without
    /// jitter (whether it is taken ahead is decided then: its job may be
    /// running now and idle by then, and the wake need not move), else at it,
    /// as it is once its lead has begun and it was not taken.
    pub fn next_wake_ahead(&self, now: DateTime<Utc>, lead: TimeDelta) -> Option<DateTime<Utc>> {
        let Reverse(due) = self.timers.peek()?;
        let at = DateTime::from_timestamp_millis(due.at)?;
        let early = at - lead;
        Some(if early > now && self.may_be_ahead(due) {
            early
        } else {
            at
        })
    }

    /// Whether a timer is a job's scheduled fire without jitter.
    fn may_be_ahead(&self, due: &Due) -> bool {
        due.job != NOT_SCHEDULED
            && self.jobs[due.job as usize]
                .as_ref()
                .is_some_and(|s| s.job.settings.jitter.is_zero())
    }

    /// Whether a timer may be handled before its instant: a job's scheduled
    /// fire without jitter, whose run the caller starts at the fire's
    /// `scheduled_for` (every other timer's work is due at its instant),
    /// and only while nothing that may change by the instant would decide
    /// it otherwise: the job runs nothing and a slot is free (a run that
    /// ends in those milliseconds must not turn the fire into a skip).
    fn ahead(&self, due: &Due) -> bool {
        self.may_be_ahead(due)
            && self
                .settings
                .max_concurrent
                .is_none_or(|max| self.runs.len() < max)
            && self.jobs[due.job as usize]
                .as_ref()
                .is_some_and(|s| s.running().is_empty())
    }

    /// Handles every timer due at `now`.
    pub fn tick(&mut self, now: DateTime<Utc>) -> Vec<Action> {
        self.tick_ahead(now, TimeDelta::zero())
    }

    /// Handles every timer due at `now`, and the scheduled fires without
    /// jitter due by `now + lead`: their claims can be written before
    /// their instant, and the caller starts each run at its fire's
    /// `scheduled_for`. Everything else sees `now`.
    pub fn tick_ahead(&mut self, now: DateTime<Utc>, lead: TimeDelta) -> Vec<Action> {
        let mut out = Vec::new();
        self.observe(now, &mut out);
        let ahead = (now + lead).timestamp_millis();
        while let Some(&Reverse(due)) = self.timers.peek() {
            if due.at > now.timestamp_millis() && !(due.at <= ahead && self.ahead(&due)) {
                break;
            }
            self.timers.pop();
            if due.job != NOT_SCHEDULED {
                self.scheduled(due, now, &mut out);
                continue;
            }
            let Some(timer) = self.timer_data.remove(&due.seq) else {
                continue;
            };
            match timer {
                Timer::Jittered(fire) | Timer::Retry(fire) => self.dispatch(*fire, &mut out),
                Timer::Deadline { job, at } => {
                    if let Some(state) = self.state_mut(&job)
                        && !state.removed
                        && let Some(busy) = state.busy.as_mut()
                        && busy.deadline == Some(at)
                    {
                        busy.deadline = None;
                        busy.overdue = Some(at);
                        out.push(Action::Overdue {
                            job,
                            last_success: busy.last_success,
                        });
                    }
                }
            }
        }
        out
    }

    /// A run's claim was written and its child is starting.
    pub fn spawned(&mut self, token: Token) {
        self.claiming.remove(&token);
    }

    /// A run ended (`status`), or never started (`None`: its row could not
    /// be written).
    pub fn finished(
        &mut self,
        token: Token,
        status: Option<Ended>,
        now: DateTime<Utc>,
    ) -> Vec<Action> {
        let mut out = Vec::new();
        self.observe(now, &mut out);
        self.claiming.remove(&token);
        let Some(fire) = self.runs.remove(&token) else {
            return out;
        };
        let Some(state) = self.state_mut(&fire.job) else {
            return out;
        };
        let job = Arc::clone(&state.job);
        let removed = state.removed;
        let busy = state.busy();
        busy.running.retain(|&t| t != token);
        if status == Some(Ended::Succeeded) {
            busy.last_success = Some(now);
            if busy.overdue.take().is_some() {
                out.push(Action::Recovered {
                    job: fire.job.clone(),
                });
            }
            self.arm_deadline(&fire.job);
        }
        let failed = status.is_some_and(Ended::is_retryable);
        if failed && !self.shutting_down && !removed && fire.attempt <= job.settings.retries {
            let delay = self.backoff(&job, fire.attempt);
            let retry = Fire {
                attempt: fire.attempt + 1,
                trigger: Trigger::Retry,
                request: None,
                ..fire.clone()
            };
            out.push(Action::Retrying {
                job: fire.job.clone(),
                delay: delay.to_std().unwrap_or_default(),
                attempt: fire.attempt + 1,
                attempts: job.settings.retries + 1,
            });
            self.arm(now + delay, Timer::Retry(Box::new(retry)));
        } else {
            if let Some(status) = status {
                out.push(Action::FireEnded {
                    job: fire.job.clone(),
                    status,
                });
            }
            if failed && job.settings.retries > 0 && fire.attempt > job.settings.retries {
                out.push(Action::GaveUp {
                    job: fire.job.clone(),
                    attempts: fire.attempt,
                });
            }
            let hook = match status {
                Some(Ended::Succeeded) => job.settings.on_success.clone(),
                Some(Ended::Failed | Ended::TimedOut) => job.settings.on_failure.clone(),
                _ => None,
            };
            if let Some(command) = hook {
                out.push(Action::Hook {
                    command,
                    job: Arc::clone(&job),
                });
            }
        }
        if self.shutting_down {
            return out;
        }
        // The freed slot goes to the fires that queued for one first, then
        // to the job's own waiting fire or backlog (which queue behind them
        // when the slots are full).
        self.drain_queue(&mut out);
        self.job_idle(&fire.job, &mut out);
        self.drain_queue(&mut out);
        out
    }

    /// Applies a new config: added jobs are scheduled from now, removed ones
    /// stop firing, changed ones use their new settings from their next
    /// fire. Running runs are not touched.
    pub fn reload(&mut self, config: &Config, now: DateTime<Utc>) -> Vec<Action> {
        let mut out = Vec::new();
        self.observe(now, &mut out);
        self.settings = config.scheduler.clone();
        for old in self.sorted_jobs() {
            let name = &*old.name;
            if config.job(name).is_none() {
                let state = self.state_mut(name).expect("listed");
                state.removed = true;
                state.next = None;
                let dropped: Vec<Fire> = match state.busy.as_mut() {
                    Some(busy) => busy
                        .waiting
                        .take()
                        .map(|fire| *fire)
                        .into_iter()
                        .chain(busy.backlog.drain(..))
                        .collect(),
                    None => Vec::new(),
                };
                for fire in dropped {
                    out.push(record(
                        fire,
                        NotRun::Cancelled,
                        "the job was removed from the config",
                    ));
                }
                if state.running().is_empty() {
                    self.remove(name);
                }
            }
        }
        for job in &config.jobs {
            let new = Arc::clone(job);
            match self.state_mut(&job.name) {
                Some(state) => {
                    let reschedule = state.removed
                        || state.job.schedule != job.schedule
                        || state.job.settings.timezone != job.settings.timezone
                        || state.job.settings.enabled != job.settings.enabled;
                    let rewatch = state.removed
                        || state.job.settings.expect_success_within
                            != job.settings.expect_success_within
                        || state.job.settings.enabled != job.settings.enabled;
                    state.job = new;
                    state.removed = false;
                    if reschedule {
                        state.next = None;
                        if job.settings.enabled {
                            self.arm_next(&job.name, now);
                        }
                    }
                    if rewatch {
                        self.arm_deadline(&job.name);
                    }
                }
                None => {
                    self.insert(new);
                    if job.settings.enabled {
                        self.arm_next(&job.name, now);
                    }
                    // A job added now is watched from now, not from start-up.
                    self.arm_deadline_from(&job.name, now);
                }
            }
        }
        self.drain_queue(&mut out);
        out
    }

    /// Stops deciding: nothing new starts. Fires that were waiting (for a
    /// slot, a running run, a retry backoff or a jitter delay) are recorded
    /// `cancelled`; running runs are the shell's to stop.
    pub fn shutdown(&mut self) -> Vec<Action> {
        self.shutting_down = true;
        let mut out = self.shutdown_records();
        if self.cluster {
            // A scheduled fire this host did not start is the other hosts'
            // to run: a row now would tell them it was taken care of.
            out.retain(|a| {
                !matches!(a, Action::Record { fire, .. }
                    if fire.request.is_none()
                        && matches!(fire.trigger, Trigger::Schedule | Trigger::Catchup))
            });
        }
        out
    }

    fn shutdown_records(&mut self) -> Vec<Action> {
        let mut out = Vec::new();
        let mut timers: Vec<(u64, Timer)> = self.timer_data.drain().collect();
        timers.sort_by_key(|(seq, _)| *seq);
        for (_, timer) in timers {
            match timer {
                Timer::Deadline { .. } => {}
                Timer::Retry(fire) => out.push(record(
                    *fire,
                    NotRun::Cancelled,
                    "the retry was dropped: the scheduler shut down",
                )),
                Timer::Jittered(fire) => out.push(record(
                    *fire,
                    NotRun::Cancelled,
                    "the scheduler shut down before the jittered start",
                )),
            }
        }
        self.timers.clear();
        for fire in self.queue.drain(..) {
            out.push(record(
                fire,
                NotRun::Cancelled,
                "the scheduler shut down before a slot was free",
            ));
        }
        for job in self.sorted_jobs() {
            let state = self.state_mut(&job.name).expect("listed");
            let Some(busy) = state.busy.as_mut() else {
                continue;
            };
            for fire in busy
                .waiting
                .take()
                .map(|fire| *fire)
                .into_iter()
                .chain(busy.backlog.drain(..))
            {
                out.push(record(
                    fire,
                    NotRun::Cancelled,
                    "the scheduler shut down before it could start",
                ));
            }
        }
        out
    }

    /// The jobs `schedule pause` paused, as stored. Returns the jobs this
    /// paused and those it resumed, by name.
    pub fn set_paused(
        &mut self,
        paused: impl IntoIterator<Item = String>,
    ) -> (Vec<String>, Vec<String>) {
        let paused: std::collections::HashSet<String> = paused.into_iter().collect();
        let mut newly: Vec<String> = paused.difference(&self.paused).cloned().collect();
        let mut resumed: Vec<String> = self.paused.difference(&paused).cloned().collect();
        newly.sort();
        resumed.sort();
        self.paused = paused;
        (newly, resumed)
    }

    /// `schedule trigger`: runs the job now, through its overlap policy and
    /// the concurrency limit. A paused job runs too: someone asked for it.
    /// What this host does with the job's fires.
    pub fn part(&self, job: &str) -> Part {
        self.parts.get(job).copied().unwrap_or(Part::Lead)
    }

    /// `run_on_start` jobs do not run at [`Engine::startup`]: the cluster
    /// was already running when this host joined it.
    pub fn skip_run_on_start(&mut self) {
        self.run_on_start = false;
    }

    /// In a cluster: what this host does with each job's fires from now on
    /// (jobs not named are led here).
    pub fn set_parts(&mut self, parts: HashMap<String, Part>) {
        self.parts = parts;
        self.cluster = true;
    }

    /// A fire this host stood by for was not claimed by the preferred host:
    /// it is dispatched here as any other.
    pub fn take_over(&mut self, fire: Fire) -> Vec<Action> {
        let mut out = Vec::new();
        if self.taken_over.len() > 100_000 {
            self.taken_over.clear(); // fires recorded without starting
        }
        self.taken_over.insert(taken_key(&fire));
        self.dispatch_as(fire, true, &mut out);
        out
    }

    /// Another host's run of the job succeeded at `at` (the cluster's
    /// history says so): the dead-man clock starts over from there.
    pub fn succeeded_elsewhere(&mut self, job: &str, at: DateTime<Utc>) {
        let Some(state) = self.state_mut(job) else {
            return;
        };
        if state.last_success().is_some_and(|t| t >= at) {
            return;
        }
        state.busy().last_success = Some(at);
        self.arm_deadline_from(job, at);
    }

    pub fn request(&mut self, job: &str, at: DateTime<Utc>, request: i64) -> Vec<Action> {
        // `at` is the client's clock, maybe another host's: it does not move
        // ours, or a client's clock ahead would look like ours going back.
        let mut out = Vec::new();
        let fire = Fire {
            job: job.to_string(),
            scheduled_for: at,
            slot: 0,
            nominal: None,
            attempt: 1,
            trigger: Trigger::Manual,
            request: Some(request),
        };
        self.dispatch(fire, &mut out);
        out
    }

    /// How many runs are going.
    pub fn running(&self) -> usize {
        self.runs.len()
    }

    /// How many fires wait for a free slot.
    pub fn queued(&self) -> usize {
        self.queue.len()
    }

    /// Every configured job's state, by name.
    pub fn status(&self) -> Vec<JobStatus> {
        let mut jobs: Vec<JobStatus> = self
            .jobs
            .iter()
            .flatten()
            .filter(|state| !state.removed)
            .map(|state| JobStatus {
                name: state.job.name.to_string(),
                next: state.next.map(|p| p.at),
                running: state.running().len(),
                last_success: state.last_success(),
                overdue_since: state.busy.as_ref().and_then(|b| b.overdue),
            })
            .collect();
        jobs.sort_by(|a, b| a.name.cmp(&b.name));
        jobs
    }

    /// Arms the job's dead-man deadline from its last success, or from
    /// start-up when it has none.
    fn arm_deadline(&mut self, name: &str) {
        let from = self
            .state(name)
            .and_then(JobState::last_success)
            .unwrap_or(self.started);
        self.arm_deadline_from(name, from);
    }

    /// `expect_success_within` after `from`; a job without one, or disabled,
    /// is never overdue.
    fn arm_deadline_from(&mut self, name: &str, from: DateTime<Utc>) {
        let Some(state) = self.state_mut(name) else {
            return;
        };
        let within = state
            .job
            .settings
            .expect_success_within
            .filter(|_| state.job.settings.enabled)
            .and_then(|w| TimeDelta::from_std(w).ok());
        // A new deadline starts over: past already, it warns again.
        let Some(within) = within else {
            if let Some(busy) = state.busy.as_mut() {
                busy.overdue = None;
                busy.deadline = None;
            }
            return;
        };
        let at = from + within;
        let busy = state.busy();
        busy.overdue = None;
        busy.deadline = Some(at);
        self.arm(
            at,
            Timer::Deadline {
                job: name.to_string(),
                at,
            },
        );
    }

    /// Takes the time handed in as the engine's clock, noticing when it
    /// went back.
    fn observe(&mut self, now: DateTime<Utc>, out: &mut Vec<Action>) {
        if now < self.clock - CLOCK_STEP {
            self.clock_went_back(self.clock - now, now, out);
        }
        self.clock = now;
    }

    /// The clock went back by `by`. cron(8): by less than 3 hours, fixed-time
    /// jobs do not run again for the repeated span (their next fire stays
    /// where it was) and wildcard jobs run on the new time at once; by more,
    /// everything runs on the new time. Fires of instants that already ran
    /// get a slot of their own, so the history keeps both runs.
    fn clock_went_back(&mut self, by: TimeDelta, now: DateTime<Utc>, out: &mut Vec<Action>) {
        self.passes += 1;
        let everything = by >= BIG_STEP_BACK;
        out.push(Action::ClockBack { by, everything });
        let pass = self.passes;
        for job in self.sorted_jobs() {
            let state = self.state_mut(&job.name).expect("listed");
            let fixed = matches!(&job.schedule, Schedule::Cron(c) if c.is_fixed_time());
            if state.removed || !job.settings.enabled || (fixed && !everything) {
                continue;
            }
            if let Some(busy) = state.busy.as_mut() {
                busy.rerun = busy.fired_until.map(|t| (t, pass));
            }
            self.arm_next(&job.name, now);
        }
    }

    /// A scheduled timer popped: fire now, or catch up when it is late.
    fn scheduled(&mut self, due: Due, now: DateTime<Utc>, out: &mut Vec<Action>) {
        let Some(state) = self.jobs[due.job as usize].as_mut() else {
            return;
        };
        let Some(point) = state
            .next
            .filter(|p| p.at.timestamp_millis() == due.at && p.slot == due.slot)
        else {
            return; // superseded by a reload or a clock step
        };
        if state.removed {
            return;
        }
        let at = point.at;
        let job = Arc::clone(&state.job);
        let name = &*job.name;
        state.next = None;
        if now - at > LATE {
            // The loop slept through this fire: the catch-up policy decides.
            self.catch_up(name, at - TimeDelta::milliseconds(1), now, true, out);
            return;
        }
        let busy = state.busy();
        // A run again of an instant that ran before the clock went back.
        let rerun = match busy.rerun {
            Some((until, pass)) if at <= until => 1000 * pass,
            _ => 0,
        };
        busy.fired_until = Some(busy.fired_until.map_or(at, |t| t.max(at)));
        if let Some(next) = job.schedule.next_fire(at, Some(point.slot)) {
            state.next = Some(next);
            self.arm_due(next.at, due.job, next.slot);
        }
        let fire = Fire {
            job: name.to_string(),
            scheduled_for: at,
            slot: point.slot + rerun,
            nominal: point.nominal,
            attempt: 1,
            trigger: Trigger::Schedule,
            request: None,
        };
        if job.settings.jitter.is_zero() {
            self.dispatch(fire, out);
        } else {
            let range = job.settings.jitter.as_millis() as u64 + 1;
            // In a cluster every host must draw the same delay for a fire,
            // or a standing-by host's would often come before the lead's.
            let delay = if self.cluster {
                crate::cluster::spread(&fire.job, fire.scheduled_for.timestamp_millis()) % range
            } else {
                self.rng.below(range)
            };
            self.arm(
                now + TimeDelta::milliseconds(delay as i64),
                Timer::Jittered(Box::new(fire)),
            );
        }
    }

    /// The fires of `name` after `after` up to `now` were missed; apply the
    /// job's catch-up policy, then schedule its next fire after `now`.
    fn catch_up(
        &mut self,
        name: &str,
        after: DateTime<Utc>,
        now: DateTime<Utc>,
        asleep: bool,
        out: &mut Vec<Action>,
    ) {
        let job = Arc::clone(&self.state(name).expect("known job").job);
        let window_start = TimeDelta::from_std(job.settings.catchup_window)
            .ok()
            .and_then(|w| now.checked_sub_signed(w))
            .unwrap_or(DateTime::<Utc>::MIN_UTC);
        let missed = missed_fires(&job.schedule, after, window_start, now);
        let why = if asleep {
            "the scheduler was not running on time (a suspend, a stop or a clock step)"
        } else {
            "no scheduler was running"
        };
        let fire = |at: DateTime<Utc>, trigger| Fire {
            job: name.to_string(),
            scheduled_for: at,
            slot: 0,
            nominal: None,
            attempt: 1,
            trigger,
            request: None,
        };
        if let Some((first, last)) = missed.old_span {
            let fires = if missed.old_count == 1 {
                format!("1 fire at {} was", first.to_rfc3339())
            } else {
                format!(
                    "{}{} fires from {} to {} were",
                    if missed.old_count >= MAX_COUNTED {
                        "at least "
                    } else {
                        ""
                    },
                    missed.old_count,
                    first.to_rfc3339(),
                    last.to_rfc3339()
                )
            };
            let reason = format!(
                "{fires} missed: {why}; they are older than the catch-up window ({}) or past the \
                 {MAX_CATCHUP_FIRES} handled one by one",
                crate::duration::format(job.settings.catchup_window)
            );
            // Stamped with the newest of them, so that the next start-up
            // catches up from there and does not count them again.
            out.push(Action::Record {
                fire: fire(last, Trigger::Schedule),
                status: NotRun::Missed,
                reason,
                missed_count: Some(missed.old_count),
                paused: false,
            });
        }
        let mut in_window = missed.in_window;
        // After a stop, the newest fire is not late if it was due less than
        // LATE ago: it runs as scheduled, like any fire found on time. Older
        // ones (a per-second job's last ten) follow the catch-up policy, so
        // that a stop does not start a burst of overlapping runs.
        let on_time: Vec<DateTime<Utc>> = match in_window.last() {
            Some(&newest) if asleep && now - newest <= LATE => {
                in_window.pop().into_iter().collect()
            }
            _ => Vec::new(),
        };
        if !on_time.is_empty() && job.settings.catchup == Catchup::Latest {
            // The newest fire runs on time: the older ones were missed.
            let reason = format!("missed: {why}");
            for at in in_window.drain(..) {
                out.push(record(fire(at, Trigger::Schedule), NotRun::Missed, &reason));
            }
        }
        let reason = format!("missed: {why}");
        match job.settings.catchup {
            Catchup::Skip => {
                for at in in_window {
                    out.push(record(fire(at, Trigger::Schedule), NotRun::Missed, &reason));
                }
            }
            Catchup::Latest => {
                if let Some((&latest, older)) = in_window.split_last() {
                    for &at in older {
                        out.push(record(fire(at, Trigger::Schedule), NotRun::Missed, &reason));
                    }
                    self.dispatch(fire(latest, Trigger::Catchup), out);
                }
            }
            Catchup::All => {
                let busy = self.state_mut(name).expect("known job").busy();
                busy.backlog
                    .extend(in_window.into_iter().map(|at| fire(at, Trigger::Catchup)));
                if busy.running.is_empty() {
                    self.job_idle(name, out);
                }
            }
        }
        for at in on_time {
            self.dispatch(fire(at, Trigger::Schedule), out);
        }
        self.arm_next(name, now);
    }

    /// A fire whose time has come: the overlap policy, then the slot limit.
    fn dispatch(&mut self, fire: Fire, out: &mut Vec<Action>) {
        self.dispatch_as(fire, false, out)
    }

    fn dispatch_as(&mut self, fire: Fire, taken_over: bool, out: &mut Vec<Action>) {
        // A scheduled fire of a job another host leads is that host's to
        // claim and to record; retries and requests stay with whoever has
        // them.
        let part = match fire.trigger {
            Trigger::Schedule | Trigger::Catchup
                if !taken_over && !self.taken_over.contains(&taken_key(&fire)) =>
            {
                self.part(&fire.job)
            }
            // The first host runs `run_on_start` jobs, if it may run them.
            Trigger::Startup if self.part(&fire.job) == Part::None => Part::None,
            _ => Part::Lead,
        };
        if part == Part::None {
            return;
        }
        if self.shutting_down {
            // A `schedule trigger` waits for an answer: it gets its row.
            if fire.request.is_some() {
                out.push(record(
                    fire,
                    NotRun::Cancelled,
                    "the scheduler is shutting down",
                ));
            }
            return;
        }
        let Some(state) = self
            .slot(&fire.job)
            .and_then(|slot| self.jobs[slot as usize].as_mut())
        else {
            out.push(record(
                fire,
                NotRun::Cancelled,
                "the job was removed from the config",
            ));
            return;
        };
        if state.removed {
            out.push(record(
                fire,
                NotRun::Cancelled,
                "the job was removed from the config",
            ));
            return;
        }
        if fire.trigger != Trigger::Manual && self.paused.contains(&fire.job) {
            if part == Part::Standby {
                // The lead records the pause's fires, once.
                return;
            }
            out.push(Action::Record {
                fire,
                status: NotRun::Skipped,
                reason: "paused (`schedule resume` resumes it)".to_string(),
                missed_count: None,
                paused: true,
            });
            return;
        }
        if part == Part::Standby {
            out.push(Action::Standby { fire });
            return;
        }
        if !state.running().is_empty() {
            let overlap = state.job.settings.overlap;
            let state = state.busy();
            match overlap {
                Overlap::Allow => {}
                Overlap::Skip => {
                    // A claim sent before this fire was even due, and not
                    // back yet: the database holds the job up, not a run.
                    let waiting_for_db = state.running.iter().all(|t| {
                        self.claiming
                            .get(t)
                            .is_some_and(|sent| *sent < fire.scheduled_for)
                    });
                    out.push(if waiting_for_db {
                        record(
                            fire,
                            NotRun::Missed,
                            "database unavailable: the previous fire's row is still being \
                             written, and nothing runs before its row is",
                        )
                    } else {
                        record(
                            fire,
                            NotRun::Skipped,
                            "the job's previous run is still running (overlap = \"skip\")",
                        )
                    });
                    return;
                }
                Overlap::Queue => {
                    if state.waiting.is_none() {
                        state.waiting = Some(Box::new(fire));
                    } else {
                        out.push(record(
                            fire,
                            NotRun::Skipped,
                            "a fire is already waiting for the running one to end (overlap = \"queue\")",
                        ));
                    }
                    return;
                }
                Overlap::Replace => {
                    // Only a newer fire replaces: a retry or catch-up of an
                    // older one must not kill what came after it.
                    let newest_running = state
                        .running
                        .iter()
                        .filter_map(|t| self.runs.get(t))
                        .map(|f| f.scheduled_for)
                        .chain(state.waiting.as_ref().map(|f| f.scheduled_for))
                        .max();
                    if newest_running.is_some_and(|newest| newest >= fire.scheduled_for) {
                        out.push(record(
                            fire,
                            NotRun::Skipped,
                            "superseded: a newer fire of the job is running or waiting (overlap = \"replace\")",
                        ));
                        return;
                    }
                    // Terminate once; the newest fire waits for the end.
                    if state.waiting.is_none() {
                        for &token in &state.running {
                            out.push(Action::Terminate { token });
                        }
                    }
                    if let Some(older) = state.waiting.replace(Box::new(fire)) {
                        out.push(record(
                            *older,
                            NotRun::Skipped,
                            "replaced by a newer fire (overlap = \"replace\")",
                        ));
                    }
                    return;
                }
            }
        }
        self.admit(fire, out);
    }

    /// The global limit: start now, wait in the FIFO queue, or skip.
    fn admit(&mut self, fire: Fire, out: &mut Vec<Action>) {
        let full = self
            .settings
            .max_concurrent
            .is_some_and(|max| self.runs.len() >= max);
        if !full {
            self.start(fire, out);
        } else if self.queue.len() < self.settings.max_queued {
            self.queue.push_back(fire);
        } else {
            let reason = format!(
                "max_concurrent ({}) runs are going and the queue of waiting fires is full \
                 (max_queued = {})",
                self.settings.max_concurrent.unwrap_or_default(),
                self.settings.max_queued
            );
            out.push(Action::Record {
                fire,
                status: NotRun::Skipped,
                reason,
                missed_count: None,
                paused: false,
            });
        }
    }

    fn start(&mut self, fire: Fire, out: &mut Vec<Action>) {
        if !self.taken_over.is_empty() {
            self.taken_over.remove(&taken_key(&fire));
        }
        let token = self.next_token;
        self.next_token += 1;
        let state = self
            .state_mut(&fire.job)
            .expect("dispatched fires have a job");
        let job = Arc::clone(&state.job);
        state.busy().running.push(token);
        self.runs.insert(token, fire.clone());
        self.claiming.insert(token, self.clock);
        out.push(Action::Start { token, fire, job });
    }

    /// A job's run ended: its waiting fire or catch-up backlog may go.
    fn job_idle(&mut self, name: &str, out: &mut Vec<Action>) {
        let Some(state) = self.state_mut(name) else {
            return;
        };
        if state.removed && state.running().is_empty() {
            self.remove(name);
            return;
        }
        // Waiting and catch-up fires run one after another, whatever the
        // overlap policy.
        let Some(busy) = state.busy.as_mut() else {
            return;
        };
        if !busy.running.is_empty() {
            return;
        }
        if let Some(fire) = busy.waiting.take() {
            self.admit(*fire, out);
        } else if let Some(fire) = busy.backlog.pop_front() {
            self.dispatch(fire, out);
        }
    }

    /// Starts queued fires while slots are free; each still obeys its job's
    /// overlap policy.
    fn drain_queue(&mut self, out: &mut Vec<Action>) {
        while self
            .settings
            .max_concurrent
            .is_none_or(|max| self.runs.len() < max)
        {
            let Some(fire) = self.queue.pop_front() else {
                break;
            };
            let before = self.queue.len();
            self.dispatch(fire, out);
            // A fire that went back into the queue (cannot happen with a
            // free slot, but never loop on it).
            if self.queue.len() > before {
                break;
            }
        }
    }

    fn arm_next(&mut self, name: &str, after: DateTime<Utc>) {
        let slot = self.slot(name).expect("known job");
        let state = self.jobs[slot as usize].as_mut().expect("known job");
        state.next = state.job.schedule.next_fire(after, None);
        if let Some(next) = state.next {
            self.arm_due(next.at, slot, next.slot);
        }
    }

    /// The job's position in `jobs`.
    fn slot(&self, name: &str) -> Option<u32> {
        let jobs = &self.jobs;
        self.index
            .find(self.hasher.hash_one(name), |&i| {
                jobs[i as usize]
                    .as_ref()
                    .is_some_and(|state| &*state.job.name == name)
            })
            .copied()
    }

    fn state(&self, name: &str) -> Option<&JobState> {
        self.jobs[self.slot(name)? as usize].as_ref()
    }

    fn state_mut(&mut self, name: &str) -> Option<&mut JobState> {
        let slot = self.slot(name)?;
        self.jobs[slot as usize].as_mut()
    }

    /// Adds a job the engine does not know yet.
    fn insert(&mut self, job: Arc<Job>) {
        let hash = self.hasher.hash_one(&*job.name);
        let state = Some(JobState::new(job));
        let slot = match self.free.pop() {
            Some(slot) => {
                self.jobs[slot as usize] = state;
                slot
            }
            None => {
                self.jobs.push(state);
                (self.jobs.len() - 1) as u32
            }
        };
        let (jobs, hasher) = (&self.jobs, &self.hasher);
        self.index.insert_unique(hash, slot, |&i| {
            let state = jobs[i as usize].as_ref().expect("indexed jobs are there");
            hasher.hash_one(&*state.job.name)
        });
    }

    /// Forgets a job. A scheduled timer of its left in the heap is stale:
    /// should the job that takes its position next wait for a fire of the
    /// same instant and slot, that timer starts it, at its time, and the
    /// job's own timer is then the stale one.
    fn remove(&mut self, name: &str) {
        let jobs = &self.jobs;
        let found = self.index.find_entry(self.hasher.hash_one(name), |&i| {
            jobs[i as usize]
                .as_ref()
                .is_some_and(|state| &*state.job.name == name)
        });
        if let Ok(entry) = found {
            let (slot, _) = entry.remove();
            self.jobs[slot as usize] = None;
            self.free.push(slot);
        }
    }

    /// Every job the engine knows (removed ones with runs going too), by
    /// name.
    fn sorted_jobs(&self) -> Vec<Arc<Job>> {
        let mut jobs: Vec<Arc<Job>> = self
            .jobs
            .iter()
            .flatten()
            .map(|state| Arc::clone(&state.job))
            .collect();
        jobs.sort_by(|a, b| a.name.cmp(&b.name));
        jobs
    }

    fn arm(&mut self, at: DateTime<Utc>, timer: Timer) {
        let seq = self.arm_due(at, NOT_SCHEDULED, 0);
        self.timer_data.insert(seq, timer);
    }

    fn arm_due(&mut self, at: DateTime<Utc>, job: u32, slot: u32) -> u64 {
        let seq = self.next_seq;
        self.next_seq += 1;
        self.timers.push(Reverse(Due {
            at: at.timestamp_millis(),
            seq,
            job,
            slot,
        }));
        seq
    }

    /// `retry_backoff × 2^(attempt-1)`, capped, plus up to 10 % at random.
    fn backoff(&mut self, job: &Job, attempt: u32) -> TimeDelta {
        let base = job.settings.retry_backoff.as_millis() as u64;
        let doubled = base.saturating_mul(1u64 << (attempt.saturating_sub(1)).min(40));
        let capped = doubled.min(job.settings.retry_backoff_max.as_millis() as u64);
        let jitter = self.rng.below(capped / 10 + 1);
        TimeDelta::milliseconds((capped + jitter) as i64)
    }
}

fn record(fire: Fire, status: NotRun, reason: &str) -> Action {
    Action::Record {
        fire,
        status,
        reason: reason.to_string(),
        missed_count: None,
        paused: false,
    }
}

/// Fires missed after `after` up to `now`, split at the window's start.
struct Missed {
    /// Newest last.
    in_window: Vec<DateTime<Utc>>,
    old_count: u64,
    old_span: Option<(DateTime<Utc>, DateTime<Utc>)>,
}

fn missed_fires(
    schedule: &Schedule,
    after: DateTime<Utc>,
    window_start: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Missed {
    let mut missed = Missed {
        in_window: Vec::new(),
        old_count: 0,
        old_span: None,
    };
    let note_old = |m: &mut Missed, first: DateTime<Utc>, last: DateTime<Utc>, count: u64| {
        m.old_count += count;
        m.old_span = Some((m.old_span.map_or(first, |(f, _)| f), last));
    };
    // The fires before the window are only counted: arithmetic for
    // `every`, a bounded walk for cron.
    let mut cursor = after;
    if window_start > after {
        match schedule {
            Schedule::Every(every) => {
                let step = every.interval.as_millis() as i64;
                if let Some(first) = every.next_after(after) {
                    let end = window_start.min(now + TimeDelta::milliseconds(1));
                    if first < end {
                        let count = ((end - first).num_milliseconds() - 1) / step + 1;
                        let last = first + TimeDelta::milliseconds((count - 1) * step);
                        note_old(&mut missed, first, last, count as u64);
                        cursor = last;
                    }
                }
            }
            Schedule::Cron(_) => {
                let mut count = 0u64;
                let (mut first, mut last) = (None, None);
                while let Some(t) = schedule.next_after(cursor) {
                    if t >= window_start || t > now || count >= MAX_COUNTED {
                        break;
                    }
                    first.get_or_insert(t);
                    last = Some(t);
                    count += 1;
                    cursor = t;
                }
                if let (Some(first), Some(last)) = (first, last) {
                    note_old(&mut missed, first, last, count);
                }
                if count >= MAX_COUNTED {
                    // Skip the rest of the uncounted stretch.
                    cursor = cursor.max(window_start - TimeDelta::milliseconds(1));
                }
            }
        }
    }
    while let Some(t) = schedule.next_after(cursor) {
        if t > now {
            break;
        }
        missed.in_window.push(t);
        cursor = t;
    }
    // Keep the newest ones; count the rest as old.
    if missed.in_window.len() > MAX_CATCHUP_FIRES {
        let extra = missed.in_window.len() - MAX_CATCHUP_FIRES;
        let first = missed.in_window[0];
        let last = missed.in_window[extra - 1];
        missed.in_window.drain(..extra);
        note_old(&mut missed, first, last, extra as u64);
    }
    missed
}

/// A small xorshift generator: jitter needs spread, not cryptography, and
/// tests need it seeded.
struct Rng(u64);

impl Rng {
    fn new(seed: u64) -> Rng {
        Rng(seed | 1)
    }

    /// Uniform-enough in `0..n` (n > 0).
    fn below(&mut self, n: u64) -> u64 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0 = x;
        x % n.max(1)
    }
}

#[cfg(test)]
mod tests;

fn taken_key(fire: &Fire) -> (String, DateTime<Utc>, u32, u32) {
    (
        fire.job.clone(),
        fire.scheduled_for,
        fire.slot,
        fire.attempt,
    )
}
