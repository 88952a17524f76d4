//! The policies on a simulated clock: each test runs minutes or days of
//! schedule in milliseconds.

use super::*;
use crate::domain::Status;
use std::path::Path;

/// How a simulated run ends, from the word the tests use.
fn ended(status: Status) -> Ended {
    match status {
        Status::Succeeded => Ended::Succeeded,
        Status::Failed => Ended::Failed,
        Status::TimedOut => Ended::TimedOut,
        Status::Cancelled => Ended::Cancelled,
        other => panic!("a run cannot end {other}"),
    }
}

/// Epoch-aligned start: 2026-11-21T00:00:00Z.
const T0: i64 = 1_795_219_200;

fn at(secs: f64) -> DateTime<Utc> {
    DateTime::from_timestamp_millis(T0 * 1000 + (secs * 1000.0).round() as i64).unwrap()
}

fn secs(t: DateTime<Utc>) -> f64 {
    (t.timestamp_millis() - T0 * 1000) as f64 / 1000.0
}

fn config(toml: &str) -> Config {
    crate::config::parse(Path::new("jobs.toml"), toml).unwrap()
}

/// What happened, in order, for assertions.
#[derive(Debug, Clone, PartialEq)]
enum Seen {
    /// (job, scheduled_for, attempt, trigger, started at)
    Started(String, f64, u32, Trigger, f64),
    /// (job, scheduled_for, attempt, status, missed_count)
    Recorded(String, f64, u32, Status, Option<u64>),
    /// (job, scheduled_for, attempt, status, ended at)
    Ended(String, f64, u32, Status, f64),
    /// (job, when the engine said so, last success)
    Overdue(String, f64, Option<f64>),
    /// (job, when)
    Recovered(String, f64),
}

/// A value per (job, attempt): how long a run takes, how it ends.
type PerAttempt<T> = Box<dyn Fn(&str, u32) -> T>;

/// The shell, simulated: runs take `duration(job, attempt)` and end with
/// `outcome(job, attempt)`; a terminated run ends 0.1 s later, cancelled.
struct Sim {
    engine: Engine,
    now: DateTime<Utc>,
    running: HashMap<Token, (Fire, DateTime<Utc>, Ended)>,
    seen: Vec<Seen>,
    reasons: Vec<String>,
    /// Hook commands asked for, in order.
    hooks: Vec<String>,
    /// Retry and give-up notices, in order.
    notes: Vec<String>,
    duration: PerAttempt<f64>,
    outcome: PerAttempt<Status>,
    /// The database does not answer: claims never come back.
    claims_hang: bool,
    /// The clock steps back the engine reported.
    clock_steps: Vec<(TimeDelta, bool)>,
    /// Every fire started, whole.
    fires: Vec<Fire>,
    /// Fires whose last attempt ended, and how.
    fire_ends: Vec<(String, Ended)>,
    unclaimed: Vec<Token>,
    /// Fires handed to the cluster to stand by for.
    standby: Vec<Fire>,
}

impl Sim {
    fn new(toml: &str, duration: impl Fn(&str, u32) -> f64 + 'static) -> Sim {
        Sim {
            engine: Engine::new(&config(toml), 7),
            now: at(-0.5),
            running: HashMap::new(),
            seen: Vec::new(),
            reasons: Vec::new(),
            hooks: Vec::new(),
            notes: Vec::new(),
            duration: Box::new(duration),
            outcome: Box::new(|_, _| Status::Succeeded),
            claims_hang: false,
            clock_steps: Vec::new(),
            fires: Vec::new(),
            fire_ends: Vec::new(),
            unclaimed: Vec::new(),
            standby: Vec::new(),
        }
    }

    fn failing(mut self, outcome: impl Fn(&str, u32) -> Status + 'static) -> Sim {
        self.outcome = Box::new(outcome);
        self
    }

    fn start(&mut self, last_fires: &[(&str, f64)]) {
        self.start_with(last_fires, &[]);
    }

    /// Starts with each job's last fire and last success known.
    fn start_with(&mut self, last_fires: &[(&str, f64)], last_successes: &[(&str, f64)]) {
        let map = |pairs: &[(&str, f64)]| {
            pairs
                .iter()
                .map(|(j, t)| (j.to_string(), at(*t)))
                .collect::<HashMap<_, _>>()
        };
        let actions = self
            .engine
            .startup(self.now, &map(last_fires), &map(last_successes));
        self.apply(actions);
    }

    fn apply(&mut self, actions: Vec<Action>) {
        for action in actions {
            match action {
                Action::Start { token, fire, .. } => {
                    self.fires.push(fire.clone());
                    if self.claims_hang {
                        self.unclaimed.push(token);
                        self.seen.push(Seen::Started(
                            fire.job.clone(),
                            secs(fire.scheduled_for),
                            fire.attempt,
                            fire.trigger,
                            secs(self.now),
                        ));
                        continue;
                    }
                    self.engine.spawned(token);
                    let took = (self.duration)(&fire.job, fire.attempt);
                    let status = ended((self.outcome)(&fire.job, fire.attempt));
                    self.seen.push(Seen::Started(
                        fire.job.clone(),
                        secs(fire.scheduled_for),
                        fire.attempt,
                        fire.trigger,
                        secs(self.now),
                    ));
                    let end = self.now + TimeDelta::milliseconds((took * 1000.0) as i64);
                    self.running.insert(token, (fire, end, status));
                }
                Action::Record {
                    fire,
                    status,
                    reason,
                    missed_count,
                    ..
                } => {
                    self.seen.push(Seen::Recorded(
                        fire.job,
                        secs(fire.scheduled_for),
                        fire.attempt,
                        status.into(),
                        missed_count,
                    ));
                    self.reasons.push(reason);
                }
                Action::Hook { command, .. } => self.hooks.push(command),
                Action::Overdue { job, last_success } => {
                    self.seen
                        .push(Seen::Overdue(job, secs(self.now), last_success.map(secs)))
                }
                Action::Recovered { job } => self.seen.push(Seen::Recovered(job, secs(self.now))),
                Action::ClockBack { by, everything } => self.clock_steps.push((by, everything)),
                Action::FireEnded { job, status } => self.fire_ends.push((job, status)),
                Action::Standby { fire } => self.standby.push(fire),
                Action::Retrying {
                    job,
                    attempt,
                    attempts,
                    ..
                } => self
                    .notes
                    .push(format!("{job}: retrying (attempt {attempt} of {attempts})")),
                Action::GaveUp { job, attempts } => self
                    .notes
                    .push(format!("{job}: gave up after {attempts} attempts")),
                Action::Terminate { token } => {
                    let end = self.now + TimeDelta::milliseconds(100);
                    if let Some(run) = self.running.get_mut(&token) {
                        run.1 = run.1.min(end);
                        run.2 = Ended::Cancelled;
                    }
                }
            }
        }
    }

    /// Runs the world until `until` (seconds from T0).
    fn run_until(&mut self, until: f64) {
        let until = at(until);
        loop {
            let next_end = self.running.iter().map(|(t, r)| (r.1, *t)).min();
            let wake = self.engine.next_wake();
            let step = match (next_end, wake) {
                (Some((end, _)), Some(w)) => end.min(w),
                (Some((end, _)), None) => end,
                (None, Some(w)) => w,
                (None, None) => break,
            };
            if step > until {
                break;
            }
            self.now = self.now.max(step);
            if let Some((end, token)) = next_end
                && end <= self.now
            {
                let (fire, _, status) = self.running.remove(&token).unwrap();
                self.seen.push(Seen::Ended(
                    fire.job.clone(),
                    secs(fire.scheduled_for),
                    fire.attempt,
                    status.into(),
                    secs(self.now),
                ));
                let actions = self.engine.finished(token, Some(status), self.now);
                self.apply(actions);
                continue;
            }
            let actions = self.engine.tick(self.now);
            self.apply(actions);
        }
        self.now = until;
    }

    fn started(&self, job: &str) -> Vec<f64> {
        self.seen
            .iter()
            .filter_map(|s| match s {
                Seen::Started(j, sched, ..) if j == job => Some(*sched),
                _ => None,
            })
            .collect()
    }

    fn recorded(&self, job: &str, status: Status) -> Vec<f64> {
        self.seen
            .iter()
            .filter_map(|s| match s {
                Seen::Recorded(j, sched, _, st, _) if j == job && *st == status => Some(*sched),
                _ => None,
            })
            .collect()
    }

    fn max_concurrent_seen(&self) -> usize {
        let mut running = 0usize;
        let mut max = 0;
        for s in &self.seen {
            match s {
                Seen::Started(..) => {
                    running += 1;
                    max = max.max(running);
                }
                Seen::Ended(..) => running -= 1,
                Seen::Recorded(..) | Seen::Overdue(..) | Seen::Recovered(..) => {}
            }
        }
        max
    }
}

const PER_SECOND: &str = "cron = \"* * * * * *\"\ncommand = \"x\"\n";

#[test]
fn overlap_skip_records_fires_that_come_while_running() {
    let mut sim = Sim::new(&format!("[jobs.a]\n{PER_SECOND}"), |_, _| 2.5);
    sim.start(&[]);
    sim.run_until(9.5);
    assert_eq!(sim.started("a"), [0.0, 3.0, 6.0, 9.0]);
    assert_eq!(
        sim.recorded("a", Status::Skipped),
        [1.0, 2.0, 4.0, 5.0, 7.0, 8.0]
    );
    assert!(
        sim.reasons[0].contains("still running"),
        "{:?}",
        sim.reasons
    );
}

#[test]
fn overlap_queue_keeps_one_pending_fire() {
    let mut sim = Sim::new(
        &format!("[jobs.a]\n{PER_SECOND}overlap = \"queue\"\n"),
        |_, _| 2.5,
    );
    sim.start(&[]);
    sim.run_until(8.0);
    // 0 runs 0–2.5; 1 waits and runs 2.5–5.0; 2 finds 1 waiting: skipped;
    // 3 waits (1 is running), runs 5.0–7.5; 4 skipped; 5 waits...
    assert_eq!(sim.started("a"), [0.0, 1.0, 3.0, 5.0]);
    assert_eq!(sim.recorded("a", Status::Skipped), [2.0, 4.0, 6.0, 7.0]);
    let starts: Vec<f64> = sim
        .seen
        .iter()
        .filter_map(|s| match s {
            Seen::Started(_, _, _, _, t) => Some(*t),
            _ => None,
        })
        .collect();
    assert_eq!(starts, [0.0, 2.5, 5.0, 7.5]);
    assert_eq!(sim.max_concurrent_seen(), 1);
}

#[test]
fn overlap_allow_runs_side_by_side() {
    let mut sim = Sim::new(
        &format!("[jobs.a]\n{PER_SECOND}overlap = \"allow\"\n"),
        |_, _| 2.5,
    );
    sim.start(&[]);
    sim.run_until(5.0);
    assert_eq!(sim.started("a"), [0.0, 1.0, 2.0, 3.0, 4.0, 5.0]);
    assert_eq!(sim.max_concurrent_seen(), 3);
}

#[test]
fn overlap_replace_cancels_the_running_run_then_starts() {
    let mut sim = Sim::new(
        &format!("[jobs.a]\n{PER_SECOND}overlap = \"replace\"\n"),
        |_, _| 10.0,
    );
    sim.start(&[]);
    sim.run_until(2.5);
    let ended: Vec<_> = sim
        .seen
        .iter()
        .filter_map(|s| match s {
            Seen::Ended(_, sched, _, st, t) => Some((*sched, *st, *t)),
            _ => None,
        })
        .collect();
    assert_eq!(
        ended,
        [(0.0, Status::Cancelled, 1.1), (1.0, Status::Cancelled, 2.1)]
    );
    let starts: Vec<_> = sim
        .seen
        .iter()
        .filter_map(|s| match s {
            Seen::Started(_, sched, _, _, t) => Some((*sched, *t)),
            _ => None,
        })
        .collect();
    // The new fire starts once the old run has ended, never beside it.
    assert_eq!(starts, [(0.0, 0.0), (1.0, 1.1), (2.0, 2.1)]);
    assert_eq!(sim.max_concurrent_seen(), 1);
}

#[test]
fn max_concurrent_queues_fires_in_order() {
    let jobs: String = (1..=5)
        .map(|i| format!("[jobs.j{i}]\nevery = \"1h\"\ncommand = \"x\"\n"))
        .collect();
    let mut sim = Sim::new(
        &format!("[scheduler]\nmax_concurrent = 2\n{jobs}"),
        |_, _| 1.5,
    );
    // Every hour at T0: all five due at once.
    sim.now = at(-1.0);
    sim.start(&[]);
    sim.run_until(10.0);
    let starts: Vec<_> = sim
        .seen
        .iter()
        .filter_map(|s| match s {
            Seen::Started(j, sched, _, _, t) => Some((j.clone(), *sched, *t)),
            _ => None,
        })
        .collect();
    assert_eq!(starts.len(), 5);
    assert_eq!(sim.max_concurrent_seen(), 2);
    let started_at: Vec<f64> = starts.iter().map(|s| s.2).collect();
    assert_eq!(started_at, [0.0, 0.0, 1.5, 1.5, 3.0]);
    // Each keeps its scheduled instant; the wait shows in its start.
    assert!(starts.iter().all(|s| s.1 == 0.0));
}

#[test]
fn a_full_queue_skips_with_the_reason() {
    let jobs: String = (1..=4)
        .map(|i| format!("[jobs.j{i}]\nevery = \"1h\"\ncommand = \"x\"\n"))
        .collect();
    let mut sim = Sim::new(
        &format!("[scheduler]\nmax_concurrent = 1\nmax_queued = 2\n{jobs}"),
        |_, _| 1.0,
    );
    sim.now = at(-1.0);
    sim.start(&[]);
    sim.run_until(10.0);
    let skipped: Vec<_> = (1..=4)
        .flat_map(|i| sim.recorded(&format!("j{i}"), Status::Skipped))
        .collect();
    assert_eq!(skipped.len(), 1);
    assert!(
        sim.reasons.iter().any(|r| r.contains("max_queued = 2")),
        "{:?}",
        sim.reasons
    );
    assert_eq!(sim.max_concurrent_seen(), 1);
}

#[test]
fn a_queued_fire_still_obeys_its_overlap_policy() {
    // j1 and j3 hold both slots; z's fires at 0, 1 and 2 s wait in the
    // queue. When the slots free, z's first starts and its others, now
    // overlapping it, are skipped (overlap = skip).
    let toml = "[scheduler]\nmax_concurrent = 2\n[jobs.j1]\nevery = \"1h\"\ncommand = \"x\"\n[jobs.j3]\nevery = \"1h\"\ncommand = \"x\"\n[jobs.z]\ncron = \"* * * * * *\"\ncommand = \"x\"\n";
    let mut sim = Sim::new(toml, |job, _| if job == "z" { 1.0 } else { 2.5 });
    sim.now = at(-0.5);
    sim.start(&[]);
    sim.run_until(2.9);
    assert_eq!(sim.started("j1"), [0.0]);
    assert_eq!(sim.started("j3"), [0.0]);
    assert_eq!(sim.started("z"), [0.0]);
    assert_eq!(sim.recorded("z", Status::Skipped), [1.0, 2.0]);
    assert_eq!(sim.max_concurrent_seen(), 2);
}

#[test]
fn retries_back_off_exponentially_with_a_cap() {
    let toml = "[jobs.a]\nevery = \"1h\"\ncommand = \"x\"\nretries = 4\nretry_backoff = \"10s\"\nretry_backoff_max = \"25s\"\n";
    let mut sim = Sim::new(toml, |_, _| 1.0).failing(|_, _| Status::Failed);
    sim.now = at(-1.0);
    sim.start(&[]);
    sim.run_until(300.0);
    let attempts: Vec<_> = sim
        .seen
        .iter()
        .filter_map(|s| match s {
            Seen::Started(_, sched, attempt, trigger, t) => Some((*sched, *attempt, *trigger, *t)),
            _ => None,
        })
        .collect();
    assert_eq!(attempts.len(), 5, "{attempts:?}");
    for (i, a) in attempts.iter().enumerate() {
        assert_eq!(a.0, 0.0, "same scheduled_for");
        assert_eq!(a.1, i as u32 + 1);
        assert_eq!(
            a.2,
            if i == 0 {
                Trigger::Schedule
            } else {
                Trigger::Retry
            }
        );
    }
    // Gaps between an attempt's end and the next start: 10, 20, 25 (cap), 25,
    // each plus at most 10 % jitter.
    let gaps: Vec<f64> = attempts
        .windows(2)
        .map(|w| w[1].3 - (w[0].3 + 1.0))
        .collect();
    for (gap, base) in gaps.iter().zip([10.0, 20.0, 25.0, 25.0]) {
        assert!(
            *gap >= base && *gap <= base * 1.1 + 0.001,
            "gap {gap} for base {base}: {gaps:?}"
        );
    }
    // Each retry is announced, and so is giving up after the last attempt.
    assert_eq!(
        sim.notes,
        [
            "a: retrying (attempt 2 of 5)",
            "a: retrying (attempt 3 of 5)",
            "a: retrying (attempt 4 of 5)",
            "a: retrying (attempt 5 of 5)",
            "a: gave up after 5 attempts",
        ]
    );
}

#[test]
fn a_retry_that_succeeds_ends_the_retries_and_cancelled_runs_are_not_retried() {
    let toml = "[jobs.a]\nevery = \"1h\"\ncommand = \"x\"\nretries = 5\nretry_backoff = \"1s\"\n";
    let mut sim = Sim::new(toml, |_, _| 1.0).failing(|_, attempt| {
        if attempt < 2 {
            Status::TimedOut
        } else {
            Status::Succeeded
        }
    });
    sim.now = at(-1.0);
    sim.start(&[]);
    sim.run_until(100.0);
    assert_eq!(sim.started("a").len(), 2);

    let mut sim = Sim::new(toml, |_, _| 1.0).failing(|_, _| Status::Cancelled);
    sim.now = at(-1.0);
    sim.start(&[]);
    sim.run_until(100.0);
    assert_eq!(sim.started("a").len(), 1);
}

#[test]
fn shutdown_cancels_pending_retries_and_queued_fires() {
    let toml = "[scheduler]\nmax_concurrent = 1\n[jobs.a]\nevery = \"1h\"\ncommand = \"x\"\nretries = 3\nretry_backoff = \"1m\"\n[jobs.b]\nevery = \"1h\"\ncommand = \"x\"\n";
    let mut sim = Sim::new(toml, |_, _| 1.0).failing(|job, _| {
        if job == "a" {
            Status::Failed
        } else {
            Status::Succeeded
        }
    });
    sim.now = at(-1.0);
    sim.start(&[]);
    // a runs 0–1 and fails (retry armed for ~61 s); b waited and runs 1–2.
    sim.run_until(1.5);
    let actions = sim.engine.shutdown();
    sim.apply(actions);
    let cancelled = sim.recorded("a", Status::Cancelled);
    assert_eq!(cancelled, [0.0]);
    assert!(sim.reasons.last().unwrap().contains("retry was dropped"));
    // b's run finishes; nothing new starts after shutdown.
    sim.run_until(200.0);
    assert_eq!(sim.started("a"), [0.0]);
    assert_eq!(sim.started("b"), [0.0]);
}

#[test]
fn catchup_skip_records_each_missed_fire() {
    let toml = "[jobs.a]\ncron = \"* * * * *\"\ncommand = \"x\"\n";
    let mut sim = Sim::new(toml, |_, _| 1.0);
    sim.now = at(30.0);
    // Last recorded fire five minutes before T0.
    sim.start(&[("a", -300.0)]);
    assert_eq!(
        sim.recorded("a", Status::Missed),
        [-240.0, -180.0, -120.0, -60.0, 0.0]
    );
    assert!(sim.started("a").is_empty());
    sim.run_until(61.0);
    assert_eq!(sim.started("a"), [60.0]);
}

#[test]
fn catchup_latest_runs_the_newest_missed_fire_now() {
    let toml = "[jobs.a]\ncron = \"* * * * *\"\ncommand = \"x\"\ncatchup = \"latest\"\n";
    let mut sim = Sim::new(toml, |_, _| 1.0);
    sim.now = at(30.0);
    sim.start(&[("a", -300.0)]);
    assert_eq!(
        sim.recorded("a", Status::Missed),
        [-240.0, -180.0, -120.0, -60.0]
    );
    assert_eq!(
        sim.seen.last(),
        Some(&Seen::Started("a".into(), 0.0, 1, Trigger::Catchup, 30.0))
    );
}

#[test]
fn catchup_all_runs_every_missed_fire_one_after_another() {
    let toml = "[jobs.a]\ncron = \"* * * * *\"\ncommand = \"x\"\ncatchup = \"all\"\n";
    let mut sim = Sim::new(toml, |_, _| 5.0);
    sim.now = at(30.0);
    sim.start(&[("a", -180.0)]);
    sim.run_until(55.0);
    let starts: Vec<_> = sim
        .seen
        .iter()
        .filter_map(|s| match s {
            Seen::Started(_, sched, _, trigger, t) => Some((*sched, *trigger, *t)),
            _ => None,
        })
        .collect();
    assert_eq!(
        starts,
        [
            (-120.0, Trigger::Catchup, 30.0),
            (-60.0, Trigger::Catchup, 35.0),
            (0.0, Trigger::Catchup, 40.0)
        ]
    );
    assert_eq!(sim.max_concurrent_seen(), 1);
}

#[test]
fn fires_older_than_the_window_make_one_row_with_their_count() {
    // A per-second job down for a week: 604,800 missed fires, of which the
    // last hour (3,600) is inside the window and the rest is one row.
    let toml = "[jobs.a]\nevery = \"1s\"\ncommand = \"x\"\ncatchup_window = \"1h\"\n";
    let mut sim = Sim::new(toml, |_, _| 0.1);
    sim.now = at(0.5);
    sim.start(&[("a", -604_800.0)]);
    let missed: Vec<_> = sim
        .seen
        .iter()
        .filter_map(|s| match s {
            Seen::Recorded(_, sched, _, Status::Missed, count) => Some((*sched, *count)),
            _ => None,
        })
        .collect();
    assert_eq!(missed.len(), 1 + 3600);
    // Stamped with the newest of them, where the next start-up resumes.
    assert_eq!(missed[0], (-3600.0, Some(604_800 - 3600)));
    assert!(
        sim.reasons[0].contains("601200 fires"),
        "{}",
        sim.reasons[0]
    );
    assert_eq!(missed[1].0, -3599.0);
    assert_eq!(missed.last().unwrap().0, 0.0);

    // The same with cron, counted by walking the schedule.
    let toml = "[jobs.a]\ncron = \"* * * * * *\"\ncommand = \"x\"\ncatchup_window = \"10s\"\n";
    let mut sim = Sim::new(toml, |_, _| 0.1);
    sim.now = at(0.5);
    sim.start(&[("a", -3600.0)]);
    let missed: Vec<_> = sim
        .seen
        .iter()
        .filter_map(|s| match s {
            Seen::Recorded(_, sched, _, Status::Missed, count) => Some((*sched, *count)),
            _ => None,
        })
        .collect();
    assert_eq!(missed[0], (-10.0, Some(3600 - 10)));
    assert_eq!(missed.len(), 11);
}

#[test]
fn a_job_never_seen_before_has_nothing_to_catch_up() {
    let toml = "[jobs.a]\ncron = \"* * * * *\"\ncommand = \"x\"\ncatchup = \"all\"\n";
    let mut sim = Sim::new(toml, |_, _| 1.0);
    sim.now = at(30.0);
    sim.start(&[]);
    assert!(sim.seen.is_empty());
}

#[test]
fn a_long_sleep_of_the_loop_applies_the_catchup_policy() {
    let toml = "[jobs.a]\ncron = \"* * * * * *\"\ncommand = \"x\"\ncatchup = \"latest\"\n";
    let mut sim = Sim::new(toml, |_, _| 0.1);
    sim.now = at(-0.5);
    sim.start(&[]);
    sim.run_until(2.5);
    assert_eq!(sim.started("a"), [0.0, 1.0, 2.0]);
    // The process is stopped for a minute; the timer for 3 s pops at 63.2 s.
    sim.now = at(63.2);
    let actions = sim.engine.tick(sim.now);
    sim.apply(actions);
    assert_eq!(sim.recorded("a", Status::Missed).len(), 60, "3..=62 missed");
    assert_eq!(sim.started("a"), [0.0, 1.0, 2.0, 63.0]);
    sim.run_until(64.5);
    assert_eq!(sim.started("a"), [0.0, 1.0, 2.0, 63.0, 64.0]);
}

#[test]
fn a_late_but_not_missed_fire_still_runs() {
    let mut sim = Sim::new(&format!("[jobs.a]\n{PER_SECOND}"), |_, _| 0.1);
    sim.start(&[]);
    sim.now = at(5.0); // the 0 s timer pops 5 s late: under LATE
    let actions = sim.engine.tick(sim.now);
    sim.apply(actions);
    assert_eq!(sim.started("a"), [0.0]);
    assert!(sim.recorded("a", Status::Missed).is_empty());
}

#[test]
fn run_on_start_runs_once_at_start_up() {
    let toml = "[jobs.a]\nevery = \"1h\"\ncommand = \"x\"\nrun_on_start = true\n[jobs.b]\nevery = \"1h\"\ncommand = \"x\"\n";
    let mut sim = Sim::new(toml, |_, _| 1.0);
    sim.now = at(10.0);
    sim.start(&[]);
    assert_eq!(
        sim.seen,
        [Seen::Started("a".into(), 10.0, 1, Trigger::Startup, 10.0)]
    );
}

#[test]
fn jitter_delays_the_start_but_keeps_the_scheduled_instant() {
    let toml = "[jobs.a]\ncron = \"* * * * *\"\ncommand = \"x\"\njitter = \"30s\"\n";
    let mut sim = Sim::new(toml, |_, _| 1.0);
    sim.start(&[]);
    sim.run_until(600.0);
    let starts: Vec<_> = sim
        .seen
        .iter()
        .filter_map(|s| match s {
            Seen::Started(_, sched, _, _, t) => Some((*sched, *t)),
            _ => None,
        })
        .collect();
    assert_eq!(starts.len(), 10);
    let delays: Vec<f64> = starts.iter().map(|(sched, t)| t - sched).collect();
    assert!(starts.iter().all(|(sched, _)| sched % 60.0 == 0.0));
    assert!(
        delays.iter().all(|d| (0.0..=30.0).contains(d)),
        "{delays:?}"
    );
    assert!(
        delays.iter().any(|d| *d > 1.0),
        "jitter spreads starts: {delays:?}"
    );
}

#[test]
fn reload_adds_removes_and_changes_jobs() {
    let mut sim = Sim::new(
        "[jobs.a]\ncron = \"* * * * * *\"\ncommand = \"x\"\n[jobs.b]\ncron = \"* * * * * *\"\ncommand = \"x\"\n",
        |_, _| 0.5,
    );
    sim.start(&[]);
    sim.run_until(1.7);
    let actions = sim.engine.reload(
        &config("[jobs.a]\ncron = \"*/2 * * * * *\"\ncommand = \"x\"\n[jobs.c]\nevery = \"1s\"\ncommand = \"x\"\n"),
        sim.now,
    );
    sim.apply(actions);
    sim.run_until(6.0);
    assert_eq!(sim.started("a"), [0.0, 1.0, 2.0, 4.0, 6.0]);
    assert_eq!(sim.started("b"), [0.0, 1.0]);
    assert_eq!(sim.started("c"), [2.0, 3.0, 4.0, 5.0, 6.0]);
}

#[test]
fn reload_leaves_running_runs_alone() {
    let mut sim = Sim::new(
        "[jobs.a]\nevery = \"1h\"\ncommand = \"x\"\nretries = 2\n",
        |_, _| 5.0,
    )
    .failing(|_, _| Status::Failed);
    sim.now = at(-1.0);
    sim.start(&[]);
    sim.run_until(1.0);
    let actions = sim.engine.reload(
        &config("[jobs.other]\nevery = \"1h\"\ncommand = \"x\"\n"),
        sim.now,
    );
    sim.apply(actions);
    assert_eq!(sim.engine.running(), 1);
    sim.run_until(100.0);
    // It ran to its end; a removed job is not retried.
    assert!(
        sim.seen
            .contains(&Seen::Ended("a".into(), 0.0, 1, Status::Failed, 5.0))
    );
    assert_eq!(sim.started("a"), [0.0]);
}

#[test]
fn a_paused_job_skips_its_fires_but_runs_when_asked() {
    let mut sim = Sim::new(
        &format!("[jobs.a]\n{PER_SECOND}[jobs.b]\n{PER_SECOND}"),
        |_, _| 0.1,
    );
    sim.start(&[]);
    sim.engine.set_paused(["a".to_string()]);
    sim.run_until(1.5);
    assert_eq!(sim.started("a"), Vec::<f64>::new());
    assert_eq!(sim.recorded("a", Status::Skipped), [0.0, 1.0]);
    assert!(sim.reasons[0].contains("paused"));
    assert_eq!(sim.started("b"), [0.0, 1.0]);
    let actions = sim.engine.request("a", at(1.5), 1);
    sim.apply(actions);
    assert_eq!(
        sim.seen.last(),
        Some(&Seen::Started("a".into(), 1.5, 1, Trigger::Manual, 1.5))
    );
    sim.engine.set_paused([]);
    sim.run_until(2.5);
    assert_eq!(sim.started("a"), [1.5, 2.0]);
}

#[test]
fn a_manual_run_obeys_the_overlap_policy() {
    let mut sim = Sim::new("[jobs.a]\nevery = \"1h\"\ncommand = \"x\"\n", |_, _| 10.0);
    sim.now = at(-1.0);
    sim.start(&[]);
    sim.run_until(1.0);
    let actions = sim.engine.request("a", at(1.0), 1);
    sim.apply(actions);
    assert_eq!(sim.recorded("a", Status::Skipped), [1.0]);
    let actions = sim.engine.request("nope", at(1.0), 2);
    sim.apply(actions);
    assert_eq!(sim.recorded("nope", Status::Cancelled), [1.0]);
}

#[test]
fn a_restart_does_not_count_the_same_missed_fires_again() {
    // Hourly, window 10 min, down for five hours: one count row. A restart
    // ten minutes later, before the next fire, finds nothing new.
    let toml = "[jobs.a]\nevery = \"1h\"\ncommand = \"x\"\ncatchup_window = \"10m\"\n";
    let mut sim = Sim::new(toml, |_, _| 1.0);
    sim.now = at(1800.0);
    sim.start(&[("a", -18000.0)]);
    let Seen::Recorded(_, stamped, _, Status::Missed, Some(5)) = sim.seen[0] else {
        panic!("{:?}", sim.seen);
    };
    let mut again = Sim::new(toml, |_, _| 1.0);
    again.now = at(2400.0);
    again.start(&[("a", stamped)]);
    assert_eq!(again.seen, []);
}

#[test]
fn the_global_queue_is_served_before_a_job_s_own_waiting_fires() {
    // `a` (overlap = queue) always has a fire waiting when its run ends; `b`
    // queued for the only slot at 0 s and must get it.
    let toml = "[scheduler]\nmax_concurrent = 1\n[jobs.a]\ncron = \"* * * * * *\"\ncommand = \"x\"\noverlap = \"queue\"\n[jobs.b]\nevery = \"1h\"\ncommand = \"x\"\n";
    let mut sim = Sim::new(toml, |job, _| if job == "a" { 1.5 } else { 0.1 });
    sim.now = at(-0.5);
    sim.start(&[]);
    sim.run_until(10.0);
    assert_eq!(sim.started("b"), [0.0]);

    // Nor does a long catch-up backlog keep other jobs waiting.
    let toml = "[scheduler]\nmax_concurrent = 1\n[jobs.a]\ncron = \"0 * * * * *\"\ncommand = \"x\"\ncatchup = \"all\"\n[jobs.b]\nevery = \"1h\"\ncommand = \"x\"\n";
    let mut sim = Sim::new(toml, |job, _| if job == "a" { 5.0 } else { 0.1 });
    sim.now = at(-0.5);
    sim.start(&[("a", -3600.0)]);
    sim.run_until(30.0);
    let b: Vec<f64> = sim
        .seen
        .iter()
        .filter_map(|s| match s {
            Seen::Started(j, _, _, _, t) if j == "b" => Some(*t),
            _ => None,
        })
        .collect();
    assert_eq!(b.len(), 1);
    assert!(b[0] <= 10.0, "b waited behind the whole backlog: {b:?}");
}

#[test]
fn under_replace_an_older_fire_never_kills_a_newer_one() {
    // The fire at 0 s fails and its retry comes due while the fire at 5 s
    // runs: the retry is superseded, the newer run goes on.
    let toml = "[jobs.a]\nevery = \"5s\"\ncommand = \"x\"\noverlap = \"replace\"\nretries = 1\nretry_backoff = \"3s\"\n";
    let mut sim = Sim::new(toml, |_, _| 3.0).failing(|_, attempt| {
        if attempt == 1 {
            Status::Failed
        } else {
            Status::Succeeded
        }
    });
    sim.now = at(-0.5);
    sim.start(&[]);
    sim.run_until(9.0);
    assert!(
        !sim.seen
            .iter()
            .any(|s| matches!(s, Seen::Ended(_, sched, 1, Status::Cancelled, _) if *sched == 5.0)),
        "{:#?}",
        sim.seen
    );
    assert!(
        sim.seen
            .iter()
            .any(|s| matches!(s, Seen::Recorded(_, sched, 2, Status::Skipped, _) if *sched == 0.0)),
        "{:#?}",
        sim.seen
    );
}

#[test]
fn shutdown_records_every_kind_of_waiting_fire() {
    let toml = "[scheduler]\nmax_concurrent = 2\n[jobs.q]\ncron = \"* * * * * *\"\ncommand = \"x\"\noverlap = \"queue\"\n[jobs.r]\nevery = \"1h\"\ncommand = \"x\"\n[jobs.s]\nevery = \"1h\"\ncommand = \"x\"\n[jobs.j]\ncron = \"* * * * * *\"\ncommand = \"x\"\njitter = \"10m\"\n";
    let mut sim = Sim::new(toml, |_, _| 100.0);
    sim.now = at(-0.2);
    sim.start(&[]);
    sim.run_until(1.1);
    // Running: two of the jobs due at 0 s; queued for a slot: the third;
    // `q` has a fire waiting for its run; `j` has jittered starts pending.
    assert_eq!(sim.engine.running(), 2);
    assert!(sim.engine.queued() >= 1);
    let before = sim.seen.len();
    let actions = sim.engine.shutdown();
    sim.apply(actions);
    let cancelled: Vec<&Seen> = sim.seen[before..].iter().collect();
    assert!(
        cancelled
            .iter()
            .all(|s| matches!(s, Seen::Recorded(_, _, _, Status::Cancelled, _))),
        "{cancelled:#?}"
    );
    let jobs: std::collections::BTreeSet<&str> = cancelled
        .iter()
        .map(|s| match s {
            Seen::Recorded(j, ..) => j.as_str(),
            _ => "",
        })
        .collect();
    assert!(jobs.contains("j"), "jittered fires: {cancelled:#?}");
    assert!(cancelled.len() >= 3, "{cancelled:#?}");
    sim.run_until(500.0);
    assert_eq!(
        sim.seen
            .iter()
            .filter(|s| matches!(s, Seen::Started(..)))
            .count(),
        2,
        "nothing starts after shutdown"
    );
}

#[test]
fn hooks_follow_the_last_attempt_only() {
    let toml = "[jobs.a]\nevery = \"1h\"\ncommand = \"x\"\nretries = 2\nretry_backoff = \"1s\"\non_failure = \"alert\"\non_success = \"cheer\"\n";
    // Fails twice, then succeeds: no failure hook, one success hook.
    let mut sim = Sim::new(toml, |_, _| 1.0).failing(|_, attempt| {
        if attempt < 3 {
            Status::Failed
        } else {
            Status::Succeeded
        }
    });
    sim.now = at(-1.0);
    sim.start(&[]);
    sim.run_until(100.0);
    assert_eq!(sim.hooks, ["cheer"]);
    // Fails every time: one failure hook, after the third attempt.
    let mut sim = Sim::new(toml, |_, _| 1.0).failing(|_, _| Status::Failed);
    sim.now = at(-1.0);
    sim.start(&[]);
    sim.run_until(100.0);
    assert_eq!(sim.started("a").len(), 3);
    assert_eq!(sim.hooks, ["alert"]);
    // Cancelled runs get no hook.
    let mut sim = Sim::new(toml, |_, _| 1.0).failing(|_, _| Status::Cancelled);
    sim.now = at(-1.0);
    sim.start(&[]);
    sim.run_until(100.0);
    assert!(sim.hooks.is_empty());
}

fn overdue(sim: &Sim) -> Vec<(String, f64, Option<f64>)> {
    sim.seen
        .iter()
        .filter_map(|s| match s {
            Seen::Overdue(job, when, last) => Some((job.clone(), *when, *last)),
            _ => None,
        })
        .collect()
}

#[test]
fn a_job_that_never_succeeds_is_overdue_once_its_window_passes_and_warned_once() {
    let toml = format!("[jobs.a]\n{PER_SECOND}expect_success_within = \"10s\"\n");
    let mut sim = Sim::new(&toml, |_, _| 0.1).failing(|_, _| Status::Failed);
    sim.start(&[]);
    sim.run_until(9.0);
    assert!(overdue(&sim).is_empty());
    assert_eq!(sim.engine.status()[0].overdue_since, None);
    sim.run_until(60.0);
    // Counted from start-up (-0.5 s), once, however many failures follow.
    assert_eq!(overdue(&sim), vec![("a".to_string(), 9.5, None)]);
    assert_eq!(sim.engine.status()[0].overdue_since, Some(at(9.5)));
}

#[test]
fn a_success_ends_overdue_and_restarts_the_window() {
    let toml = format!("[jobs.a]\n{PER_SECOND}expect_success_within = \"10s\"\n");
    let mut sim = Sim::new(&toml, |_, _| 0.1).failing(|_, _| Status::Failed);
    sim.start(&[]);
    sim.run_until(20.0);
    sim.outcome = Box::new(|_, _| Status::Succeeded);
    sim.run_until(21.5);
    let recovered: Vec<&Seen> = sim
        .seen
        .iter()
        .filter(|s| matches!(s, Seen::Recovered(..)))
        .collect();
    // The fire of 21 s ends at 21.1 s.
    assert_eq!(recovered, vec![&Seen::Recovered("a".into(), 21.1)]);
    let status = &sim.engine.status()[0];
    assert_eq!(status.overdue_since, None);
    assert_eq!(status.last_success, Some(at(21.1)));
    // Failing again: overdue 10 s after the last success, not before.
    sim.outcome = Box::new(|_, _| Status::Failed);
    sim.run_until(31.0);
    assert_eq!(overdue(&sim).len(), 1);
    sim.run_until(31.2);
    assert_eq!(overdue(&sim)[1], ("a".to_string(), 31.1, Some(21.1)));
}

#[test]
fn an_old_last_success_makes_the_job_overdue_at_start_up() {
    let toml = "[jobs.a]\nevery = \"1h\"\ncommand = \"x\"\nexpect_success_within = \"60s\"\n\
                [jobs.b]\nevery = \"1h\"\ncommand = \"x\"\nexpect_success_within = \"1h\"\n\
                [jobs.c]\nevery = \"1h\"\ncommand = \"x\"\n";
    let mut sim = Sim::new(toml, |_, _| 0.1);
    sim.start_with(&[], &[("a", -100.0), ("b", -100.0), ("c", -1e6)]);
    sim.run_until(1.0);
    assert_eq!(overdue(&sim), vec![("a".to_string(), -0.5, Some(-100.0))]);
    let status = sim.engine.status();
    assert_eq!(status[1].overdue_since, None);
    // Without expect_success_within a job is never overdue.
    sim.run_until(10_000.0);
    assert!(overdue(&sim).iter().all(|(job, ..)| job != "c"));
}

#[test]
fn a_reload_that_drops_the_setting_ends_overdue_and_one_that_adds_it_starts_from_now() {
    let with = format!("[jobs.a]\n{PER_SECOND}expect_success_within = \"5s\"\n");
    let without = format!("[jobs.a]\n{PER_SECOND}");
    let mut sim = Sim::new(&with, |_, _| 0.1).failing(|_, _| Status::Failed);
    sim.start(&[]);
    sim.run_until(10.0);
    assert_eq!(overdue(&sim).len(), 1);
    let actions = sim.engine.reload(&config(&without), sim.now);
    sim.apply(actions);
    assert_eq!(sim.engine.status()[0].overdue_since, None);
    sim.run_until(100.0);
    assert_eq!(overdue(&sim).len(), 1);
    // Added back at 100 s: since start-up it never succeeded, so the
    // window counts from start-up and the deadline has passed.
    let actions = sim.engine.reload(&config(&with), sim.now);
    sim.apply(actions);
    sim.run_until(100.5);
    assert_eq!(overdue(&sim).len(), 2);
}

#[test]
fn a_fire_turned_away_by_a_claim_still_on_its_way_says_the_database_is_why() {
    let toml = "[jobs.tick]\nevery = \"1s\"\ncommand = \"true\"\n";
    let mut sim = Sim::new(toml, |_, _| 0.2);
    sim.claims_hang = true;
    sim.start(&[]);
    sim.run_until(3.5);
    // The first fire's claim hangs: the next ones are missed for the
    // database, not skipped for the job.
    let missed: Vec<f64> = sim
        .seen
        .iter()
        .filter_map(|s| match s {
            Seen::Recorded(_, at, _, Status::Missed, _) => Some(*at),
            _ => None,
        })
        .collect();
    assert_eq!(missed, [1.0, 2.0, 3.0]);
    assert!(
        sim.reasons
            .iter()
            .all(|r| r.starts_with("database unavailable")),
        "{:?}",
        sim.reasons
    );
    // Once the claim comes back failed, the job fires again as usual.
    let token = sim.unclaimed.pop().unwrap();
    sim.claims_hang = false;
    let actions = sim.engine.finished(token, None, sim.now);
    sim.apply(actions);
    sim.run_until(5.5);
    assert!(
        sim.seen
            .iter()
            .any(|s| matches!(s, Seen::Started(_, at, ..) if *at == 4.0))
    );
    // And with claims written, an overlapping fire is skipped for the job.
    let mut slow = Sim::new(toml, |_, _| 1.5);
    slow.start(&[]);
    slow.run_until(1.5);
    assert!(
        slow.seen
            .iter()
            .any(|s| matches!(s, Seen::Recorded(_, _, _, Status::Skipped, _)))
    );
    assert!(
        slow.reasons.iter().all(|r| r.contains("still running")),
        "{:?}",
        slow.reasons
    );
}

/// `0 0 30 2 *` has no next fire: the engine arms nothing for it and
/// catch-up finds nothing to run; the other jobs run as usual.
#[test]
fn a_job_that_never_fires_arms_nothing_and_others_run() {
    let toml = "[jobs.never]\ncron = \"0 0 30 2 *\"\ncommand = \"x\"\ncatchup = \"all\"\n\
                [jobs.b]\n\
                every = \"10s\"\ncommand = \"x\"\n";
    let mut sim = Sim::new(toml, |_, _| 0.1);
    // A last fire a year back: catch-up finds nothing to run.
    sim.start(&[("never", -365.0 * 86_400.0)]);
    sim.run_until(35.0);
    assert_eq!(sim.started("never"), Vec::<f64>::new());
    assert_eq!(sim.recorded("never", Status::Skipped), Vec::<f64>::new());
    assert_eq!(sim.started("b"), [0.0, 10.0, 20.0, 30.0]);
    // With only that job, the engine has nothing to wake for.
    let mut alone = Sim::new(
        "[jobs.never]\ncron = \"0 0 30 2 *\"\ncommand = \"x\"\n",
        |_, _| 0.1,
    );
    alone.start(&[]);
    assert_eq!(alone.engine.next_wake(), None);
}

/// cron(8): each local time a spring-forward jump skips runs at the end of
/// the jump, as a fire of its own; with `skip`, the ones that collide are
/// recorded skipped.
#[test]
fn each_time_a_jump_skips_is_a_fire_of_its_own_at_its_end() {
    // New York springs forward at 2026-03-08 02:00 EST (07:00 UTC).
    let start = DateTime::parse_from_rfc3339("2026-03-08T06:00:00Z").unwrap();
    let jump = DateTime::parse_from_rfc3339("2026-03-08T07:00:00Z")
        .unwrap()
        .with_timezone(&Utc);
    let offset = |t: DateTime<Utc>| (t - at(0.0)).num_milliseconds() as f64 / 1000.0;
    for (overlap, runs) in [("allow", 2), ("skip", 1)] {
        let toml = format!(
            "[jobs.a]\ncron = \"0,30 2 * * *\"\ntimezone = \"America/New_York\"\n\
             command = \"x\"\noverlap = \"{overlap}\"\n"
        );
        let mut sim = Sim::new(&toml, |_, _| 60.0);
        sim.now = start.with_timezone(&Utc);
        sim.start(&[]);
        sim.run_until(offset(jump) + 1.0);
        let fires: Vec<(DateTime<Utc>, u32, Option<String>)> = sim
            .fires
            .iter()
            .map(|f| (f.scheduled_for, f.slot, f.nominal.map(|n| n.to_string())))
            .collect();
        let all = [
            (jump, 0, Some("2026-03-08 02:00:00".to_string())),
            (jump, 1, Some("2026-03-08 02:30:00".to_string())),
        ];
        assert_eq!(fires, all[..runs], "overlap = {overlap}");
        let skipped = sim.recorded("a", Status::Skipped);
        assert_eq!(
            skipped.len(),
            2 - runs,
            "overlap = {overlap}: {:?}",
            sim.reasons
        );
    }
}

/// cron(8): the clock going back less than 3 hours runs wildcard jobs on
/// the new time at once, each a fire of its own beside the first run of
/// the same instant; fixed-time jobs do not run again for the repeated span.
/// Three hours or more: everything runs on the new time.
#[test]
fn when_the_clock_goes_back_wildcard_jobs_follow_it_and_fixed_ones_wait() {
    let toml = "[jobs.wild]\ncron = \"* * * * * *\"\ncommand = \"x\"\n\
                [jobs.fixed]\ncron = \"*/10 0 0 * * *\"\ncommand = \"x\"\n";
    let mut sim = Sim::new(toml, |_, _| 0.1);
    sim.start(&[]);
    sim.run_until(45.5);
    assert_eq!(sim.started("fixed"), [0.0, 10.0, 20.0, 30.0, 40.0]);
    sim.now = at(15.5); // 30 s back
    let actions = sim.engine.tick(sim.now);
    sim.apply(actions);
    sim.run_until(52.5);
    assert_eq!(sim.clock_steps.len(), 1);
    let (by, everything) = sim.clock_steps[0];
    assert!(!everything);
    assert!(
        by > TimeDelta::seconds(29) && by <= TimeDelta::seconds(30),
        "{by}"
    );
    // The repeated span is not run again by the fixed-time job.
    assert_eq!(sim.started("fixed"), [0.0, 10.0, 20.0, 30.0, 40.0, 50.0]);
    // The wildcard job runs 16..=45 again, as slot 1000, then 46.. as usual.
    let wild: Vec<(f64, u32)> = sim
        .fires
        .iter()
        .filter(|f| f.job == "wild")
        .map(|f| (secs(f.scheduled_for), f.slot))
        .collect();
    let again: Vec<(f64, u32)> = wild.iter().copied().skip(46).collect();
    let expected: Vec<(f64, u32)> = (16..=52)
        .map(|t| (t as f64, if t <= 45 { 1000 } else { 0 }))
        .collect();
    assert_eq!(again, expected);
    let ids: std::collections::HashSet<(i64, u32)> = wild
        .iter()
        .map(|(t, slot)| ((t * 1000.0) as i64, *slot))
        .collect();
    assert_eq!(
        ids.len(),
        wild.len(),
        "every fire has an identity of its own"
    );

    // Four hours back: the fixed-time job runs on the new time too.
    sim.now = at(52.5) - TimeDelta::hours(4);
    let actions = sim.engine.tick(sim.now);
    sim.apply(actions);
    assert_eq!(sim.clock_steps.len(), 2);
    assert!(
        sim.clock_steps[1].1,
        "a step of 3 hours or more moves everything"
    );
    let fixed_next = sim
        .engine
        .status()
        .into_iter()
        .find(|j| j.name == "fixed")
        .and_then(|j| j.next)
        .unwrap();
    assert_eq!(
        fixed_next,
        at(0.0),
        "the fixed-time job's next fire follows the clock back"
    );
}

/// A fire's outcome is told once, after its last attempt: what `/metrics`
/// counts per fire (attempts are counted apart).
#[test]
fn a_fire_ends_once_after_its_last_attempt() {
    let toml = "[jobs.a]\nevery = \"1h\"\ncommand = \"x\"\nretries = 2\nretry_backoff = \"1s\"\n\
                [jobs.b]\nevery = \"1h\"\ncommand = \"x\"\n";
    let mut sim = Sim::new(toml, |_, _| 0.1).failing(|job, _| {
        if job == "a" {
            Status::Failed
        } else {
            Status::Succeeded
        }
    });
    sim.start(&[]);
    sim.run_until(60.0);
    assert_eq!(
        sim.started("a").len(),
        3,
        "the first attempt and two retries"
    );
    let mut ends = sim.fire_ends.clone();
    ends.sort_by(|x, y| x.0.cmp(&y.0));
    assert_eq!(
        ends,
        [
            ("a".to_string(), Ended::Failed),
            ("b".to_string(), Ended::Succeeded)
        ]
    );
}

/// A `schedule trigger` always gets an answer, even during shutdown; and a
/// client's clock ahead of ours is not our clock going back.
#[test]
fn a_request_is_answered_at_shutdown_and_its_time_does_not_move_the_clock() {
    let toml = "[jobs.a]\nevery = \"1s\"\ncommand = \"x\"\n";
    let mut sim = Sim::new(toml, |_, _| 0.1);
    sim.start(&[]);
    sim.run_until(2.5);
    let ahead = sim.now + TimeDelta::hours(1);
    let actions = sim.engine.request("a", ahead, 7);
    sim.apply(actions);
    sim.run_until(4.5);
    assert!(sim.clock_steps.is_empty(), "{:?}", sim.clock_steps);
    let actions = sim.engine.shutdown();
    sim.apply(actions);
    let actions = sim.engine.request("a", sim.now, 8);
    let answered = actions.iter().any(|a| {
        matches!(a, Action::Record { fire, status: NotRun::Cancelled, .. } if fire.request == Some(8))
    });
    assert!(answered, "{actions:?}");
}
#[test]
fn after_a_stop_a_fire_less_than_late_is_run_and_older_ones_are_missed() {
    for catchup in ["skip", "latest"] {
        let mut sim = Sim::new(
            &format!("[jobs.a]\nevery = \"30s\"\ncatchup = \"{catchup}\"\ncommand = \"x\"\n"),
            |_, _| 0.1,
        );
        sim.now = at(-1.0);
        sim.start(&[]);
        sim.run_until(1.0);
        assert_eq!(sim.started("a"), [0.0], "{catchup}");
        // SIGSTOP for two minutes: the loop wakes 0.47 s after the fire at 120.
        sim.now = at(120.47);
        let actions = sim.engine.tick(sim.now);
        sim.apply(actions);
        assert_eq!(sim.started("a"), [0.0, 120.0], "{catchup}: {:?}", sim.seen);
        assert_eq!(
            sim.recorded("a", Status::Missed),
            [30.0, 60.0, 90.0],
            "{catchup}"
        );
    }
}

#[test]
fn in_a_cluster_a_job_another_host_leads_is_stood_by_for_and_holds_no_slot() {
    let jobs = "[scheduler]\nmax_concurrent = 1\n[jobs.mine]\nevery = \"1h\"\ncommand = \"x\"\n\
                [jobs.theirs]\nevery = \"1h\"\ncommand = \"x\"\n\
                [jobs.never]\nevery = \"1h\"\ncommand = \"x\"\n";
    let mut sim = Sim::new(jobs, |_, _| 5.0);
    sim.engine.set_parts(
        [
            ("theirs".to_string(), Part::Standby),
            ("never".to_string(), Part::None),
        ]
        .into(),
    );
    sim.now = at(-1.0);
    sim.start(&[]);
    sim.run_until(1.0);
    // `mine` runs; `theirs` waits for the takeover look, without taking
    // the one slot; `never` is neither run nor recorded here.
    assert_eq!(sim.started("mine"), [0.0]);
    let stood: Vec<&str> = sim.standby.iter().map(|f| f.job.as_str()).collect();
    assert_eq!(stood, ["theirs"]);
    assert!(sim.started("never").is_empty() && sim.recorded("never", Status::Skipped).is_empty());
    // Its lead did not claim it: taken over, it obeys max_concurrent like
    // any fire, and runs once `mine` ends.
    let fire = sim.standby.remove(0);
    let actions = sim.engine.take_over(fire);
    sim.apply(actions);
    assert!(sim.started("theirs").is_empty(), "queued behind mine");
    sim.run_until(6.0);
    assert_eq!(sim.started("theirs"), [0.0], "{:?}", sim.seen);
}

#[test]
fn in_a_cluster_only_the_lead_records_a_paused_job_s_fires() {
    let jobs = format!("[jobs.a]\n{PER_SECOND}[jobs.b]\n{PER_SECOND}");
    let mut sim = Sim::new(&jobs, |_, _| 0.1);
    sim.engine
        .set_parts([("b".to_string(), Part::Standby)].into());
    sim.start(&[]);
    sim.engine.set_paused(["a".to_string(), "b".to_string()]);
    sim.run_until(3.5);
    assert_eq!(sim.recorded("a", Status::Skipped).len(), 4);
    assert!(sim.recorded("b", Status::Skipped).is_empty());
    assert!(
        sim.standby.is_empty(),
        "a paused fire is not taken over either"
    );
}

#[test]
fn in_a_cluster_run_on_start_is_left_to_the_first_host() {
    let jobs = "[jobs.a]\nevery = \"1h\"\ncommand = \"x\"\nrun_on_start = true\n";
    let mut first = Sim::new(jobs, |_, _| 0.1);
    first.start(&[]);
    first.run_until(1.0);
    let on_start = |sim: &Sim| {
        sim.fires
            .iter()
            .filter(|f| f.trigger == Trigger::Startup)
            .count()
    };
    assert_eq!(on_start(&first), 1);
    let mut later = Sim::new(jobs, |_, _| 0.1);
    later.engine.skip_run_on_start();
    later.start(&[]);
    later.run_until(1.0);
    assert_eq!(on_start(&later), 0);
}

#[test]
fn an_idle_job_costs_the_engine_little() {
    // Per job, the engine keeps a state, a position in its name index and
    // one scheduled timer in the heap; 10,000 idle jobs are meant to cost a
    // few hundred bytes each in all (BENCHMARKS.md, "Memory and start-up").
    // What a running, waiting or watched job needs more belongs in `Busy`:
    // a field added to `JobState` or `Due` is paid by every idle job, and
    // this fails.
    assert!(std::mem::size_of::<Option<JobState>>() <= 48);
    assert!(std::mem::size_of::<Reverse<Due>>() <= 24);
}

#[test]
fn a_fire_without_jitter_is_handed_out_ahead_and_every_other_timer_at_its_instant() {
    let toml = "[jobs.plain]\ncron = \"* * * * * *\"\ncommand = \"x\"\n\
                [jobs.spread]\ncron = \"* * * * * *\"\ncommand = \"x\"\njitter = \"1s\"\n";
    let mut engine = Engine::new(&config(toml), 7);
    let lead = TimeDelta::milliseconds(5);
    let actions = engine.startup(at(0.5), &HashMap::new(), &HashMap::new());
    assert!(actions.iter().all(|a| !matches!(a, Action::Start { .. })));
    // Both jobs fire at 1 s; only the plain one may be taken 5 ms early.
    assert_eq!(engine.next_wake_ahead(at(0.5), lead), Some(at(0.995)));
    assert_eq!(engine.next_wake(), Some(at(1.0)));
    let early = engine.tick_ahead(at(0.994), lead);
    assert!(
        early.iter().all(|a| !matches!(a, Action::Start { .. })),
        "{early:?}"
    );
    let started: Vec<(String, f64)> = engine
        .tick_ahead(at(0.995), lead)
        .into_iter()
        .filter_map(|a| match a {
            Action::Start { fire, .. } => Some((fire.job, secs(fire.scheduled_for))),
            _ => None,
        })
        .collect();
    assert_eq!(started, vec![("plain".to_string(), 1.0)]);
    // The jittered fire is not looked at before its instant.
    assert_eq!(engine.next_wake_ahead(at(0.995), lead), Some(at(1.0)));
    assert!(engine.tick_ahead(at(0.999), lead).is_empty());
}

#[test]
fn a_fire_whose_job_is_still_running_waits_for_its_instant() {
    let toml = "[jobs.slow]\ncron = \"* * * * * *\"\ncommand = \"x\"\n";
    let mut engine = Engine::new(&config(toml), 7);
    let lead = TimeDelta::milliseconds(5);
    engine.startup(at(0.5), &HashMap::new(), &HashMap::new());
    let token = engine
        .tick_ahead(at(0.995), lead)
        .into_iter()
        .find_map(|a| match a {
            Action::Start { token, .. } => Some(token),
            _ => None,
        })
        .expect("the first fire is taken ahead");
    engine.spawned(token);
    // The wake stays 5 ms ahead (the run may be over by then, and the
    // timer need not move when it ends)...
    assert_eq!(engine.next_wake_ahead(at(0.995), lead), Some(at(1.995)));
    // ...but while it runs, the fire is not taken: a run that ends before
    // 2 s must leave it to run, not to be skipped. Then it waits for its
    // instant, or for a turn after the run's end.
    assert!(engine.tick_ahead(at(1.995), lead).is_empty());
    assert_eq!(engine.next_wake_ahead(at(1.995), lead), Some(at(2.0)));
    engine.finished(token, Some(Ended::Succeeded), at(1.997));
    let started = engine.tick_ahead(at(1.997), lead);
    assert!(
        started.iter().any(|a| matches!(a, Action::Start { .. })),
        "{started:?}"
    );
}
