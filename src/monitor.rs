//! What the outside world can see of a running scheduler: `/health` and
//! `/metrics` (served by `http.rs`).
//!
//! A scheduler that silently stopped is the failure that matters most, so
//! health is never inferred from the HTTP server being up: the server asks
//! the loop itself (a [`Probe`] over a channel) and the loop answers with a
//! [`Snapshot`] of its state. A loop that does not answer within
//! [`PROBE_WAIT`] is stuck, and `/health` says 503. Asking wakes the loop,
//! so an idle scheduler needs no periodic heartbeat of its own.
//!
//! Counters and histograms (runs, durations, start delays, hook failures)
//! are counted by the loop as things happen; per-job gauges (next fire,
//! running, last success, overdue) are filled from the snapshot at each
//! scrape, so a job removed by a reload disappears from them.

use chrono::{DateTime, SecondsFormat, Utc};
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::metrics::info::Info;
use prometheus_client::registry::Registry;
use std::sync::Mutex;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::time::Duration;
use tokio::sync::{mpsc, oneshot};

use crate::domain::{Ended, Status};

/// The outcomes a fire's series are declared for.
const FIRE_OUTCOMES: &[Status] = &[
    Status::Succeeded,
    Status::Failed,
    Status::TimedOut,
    Status::Cancelled,
    Status::Skipped,
    Status::Missed,
];

fn labels(job: &str, status: Status) -> RunLabels {
    RunLabels {
        job: job.to_string(),
        status: status.as_str().to_string(),
    }
}
use crate::engine::JobStatus;

/// How long `/health` waits for the loop to answer before calling it stuck.
pub const PROBE_WAIT: Duration = Duration::from_secs(2);

/// The loop's state, as it answered a probe.
#[derive(Debug, Clone)]
pub struct Snapshot {
    /// When the loop answered.
    pub at: DateTime<Utc>,
    pub jobs: Vec<JobStatus>,
    pub running: usize,
    pub queued: usize,
    /// The last history write failed, with this error.
    pub write_error: Option<String>,
    /// A call to the history database has been waiting this long.
    pub db_stalled: Option<Duration>,
    /// In a cluster: what this host may not do, and why.
    pub cluster: Option<ClusterHealth>,
}

/// A cluster host's view of itself, for `/health`.
#[derive(Debug, Clone, Default)]
pub struct ClusterHealth {
    pub host: String,
    pub live_hosts: usize,
    pub skew_ms: i64,
    /// Why this host claims nothing now, if it does not.
    pub cannot_claim: Option<String>,
    /// Jobs this host does not run because its definition differs: (job, why).
    pub mismatched: Vec<(String, String)>,
}

/// A question to the loop; it answers on the channel.
pub type Probe = oneshot::Sender<Snapshot>;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct HostLabel {
    host: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct JobLabel {
    job: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RunLabels {
    job: String,
    status: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct HookLabels {
    job: String,
    hook: String,
}

type Histograms = Family<JobLabel, Histogram, fn() -> Histogram>;
type Timestamps = Family<JobLabel, Gauge<f64, AtomicU64>>;

fn duration_buckets() -> Histogram {
    Histogram::new([
        0.01, 0.1, 0.5, 1.0, 5.0, 10.0, 30.0, 60.0, 300.0, 900.0, 1800.0, 3600.0, 14400.0,
    ])
}

fn delay_buckets() -> Histogram {
    Histogram::new([
        0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
    ])
}

pub struct Monitor {
    registry: Registry,
    /// Fires by their final outcome.
    runs: Family<RunLabels, Counter>,
    /// Every attempt's end.
    attempts: Family<RunLabels, Counter>,
    run_duration: Histograms,
    start_delay: Histograms,
    hook_failures: Family<HookLabels, Counter>,
    running: Family<JobLabel, Gauge>,
    next_fire: Timestamps,
    last_success: Timestamps,
    overdue: Family<JobLabel, Gauge>,
    queue_depth: Gauge,
    last_tick: Gauge<f64, AtomicU64>,
    cluster_claims: Family<HostLabel, Counter>,
    cluster_takeovers: Family<HostLabel, Counter>,
    cluster_lost: Family<HostLabel, Counter>,
    cluster_skew: Family<HostLabel, Gauge<f64, AtomicU64>>,
    cluster_hosts: Gauge,
    /// When the loop last went round, in ms since the epoch.
    heartbeat: AtomicI64,
    probes: mpsc::UnboundedSender<Probe>,
    /// The last answer, for `/metrics` while the loop does not answer.
    last: Mutex<Option<Snapshot>>,
}

impl Monitor {
    /// The monitor, and the end of the probe channel the loop listens on.
    pub fn new() -> (Monitor, mpsc::UnboundedReceiver<Probe>) {
        let (probes, rx) = mpsc::unbounded_channel();
        let mut registry = Registry::default();
        let runs = Family::<RunLabels, Counter>::default();
        let attempts = Family::<RunLabels, Counter>::default();
        let run_duration = Histograms::new_with_constructor(duration_buckets as fn() -> Histogram);
        let start_delay = Histograms::new_with_constructor(delay_buckets as fn() -> Histogram);
        let hook_failures = Family::<HookLabels, Counter>::default();
        let running = Family::<JobLabel, Gauge>::default();
        let next_fire = Timestamps::default();
        let last_success = Timestamps::default();
        let overdue = Family::<JobLabel, Gauge>::default();
        let queue_depth = Gauge::default();
        let last_tick = Gauge::<f64, AtomicU64>::default();
        let cluster_claims = Family::<HostLabel, Counter>::default();
        let cluster_takeovers = Family::<HostLabel, Counter>::default();
        let cluster_lost = Family::<HostLabel, Counter>::default();
        let cluster_skew = Family::<HostLabel, Gauge<f64, AtomicU64>>::default();
        let cluster_hosts = Gauge::default();
        registry.register(
            "schedule",
            "The running version of schedule",
            Info::new(vec![("version", env!("CARGO_PKG_VERSION"))]),
        );
        registry.register(
            "schedule_runs",
            "Fires by job and final outcome: the status of a fire's last attempt, or why it did \
             not run (missed fires by their count); a fire with retries counts once",
            runs.clone(),
        );
        registry.register(
            "schedule_attempts",
            "Attempts by job and how they ended: a fire retried twice counts three",
            attempts.clone(),
        );
        registry.register(
            "schedule_run_duration_seconds",
            "How long runs took, from start to end",
            run_duration.clone(),
        );
        registry.register(
            "schedule_start_delay_seconds",
            "How late scheduled runs started: started minus scheduled instant",
            start_delay.clone(),
        );
        registry.register(
            "schedule_hook_failures",
            "on_success and on_failure hooks that failed, timed out or did not start",
            hook_failures.clone(),
        );
        registry.register(
            "schedule_running",
            "Runs going now, by job",
            running.clone(),
        );
        registry.register(
            "schedule_next_fire_timestamp_seconds",
            "When each job fires next (Unix time)",
            next_fire.clone(),
        );
        registry.register(
            "schedule_last_success_timestamp_seconds",
            "When each job last succeeded (Unix time); absent when never seen to",
            last_success.clone(),
        );
        registry.register(
            "schedule_job_overdue",
            "1 when the job has not succeeded within its expect_success_within",
            overdue.clone(),
        );
        registry.register(
            "schedule_queue_depth",
            "Fires waiting for a free slot under max_concurrent",
            queue_depth.clone(),
        );
        registry.register(
            "schedule_last_tick_timestamp_seconds",
            "When the scheduler loop last answered (Unix time)",
            last_tick.clone(),
        );
        registry.register(
            "schedule_cluster_claims",
            "Fires this host claimed and ran, in a cluster",
            cluster_claims.clone(),
        );
        registry.register(
            "schedule_cluster_takeovers",
            "Fires this host claimed because their preferred host had not after the takeover \
             delay (included in schedule_cluster_claims)",
            cluster_takeovers.clone(),
        );
        registry.register(
            "schedule_cluster_lost_runs",
            "Runs of other hosts this host marked lost: their leases expired",
            cluster_lost.clone(),
        );
        registry.register(
            "schedule_cluster_clock_skew_seconds",
            "The database's clock minus this host's, as measured at the last heartbeat",
            cluster_skew.clone(),
        );
        registry.register(
            "schedule_cluster_hosts",
            "Hosts with a live heartbeat in the cluster, this one included",
            cluster_hosts.clone(),
        );
        let monitor = Monitor {
            registry,
            runs,
            attempts,
            run_duration,
            start_delay,
            hook_failures,
            running,
            next_fire,
            last_success,
            overdue,
            queue_depth,
            last_tick,
            cluster_claims,
            cluster_takeovers,
            cluster_lost,
            cluster_skew,
            cluster_hosts,
            heartbeat: AtomicI64::new(0),
            probes,
            last: Mutex::new(None),
        };
        (monitor, rx)
    }

    /// This host claimed a fire (`takeover`: one its preferred host left).
    pub fn cluster_claimed(&self, host: &str, takeover: bool) {
        let label = HostLabel {
            host: host.to_string(),
        };
        self.cluster_claims.get_or_create(&label).inc();
        if takeover {
            self.cluster_takeovers.get_or_create(&label).inc();
        }
    }

    /// This host marked `n` runs of other hosts lost.
    pub fn cluster_lost(&self, host: &str, n: u64) {
        let label = HostLabel {
            host: host.to_string(),
        };
        self.cluster_lost.get_or_create(&label).inc_by(n);
    }

    /// What the last heartbeat saw.
    pub fn cluster_view(&self, host: &str, live_hosts: usize, skew_ms: i64) {
        let label = HostLabel {
            host: host.to_string(),
        };
        // Every series of the host from the start, so a first one is an increase.
        let _ = self.cluster_claims.get_or_create(&label);
        let _ = self.cluster_takeovers.get_or_create(&label);
        let _ = self.cluster_lost.get_or_create(&label);
        self.cluster_skew
            .get_or_create(&label)
            .set(skew_ms as f64 / 1000.0);
        self.cluster_hosts.set(live_hosts as i64);
    }

    /// The loop went round.
    pub fn beat(&self, now: DateTime<Utc>) {
        self.heartbeat
            .store(now.timestamp_millis(), Ordering::Relaxed);
    }

    /// Every job × outcome series at 0, so that `increase()` sees a job's
    /// first failure after a start (a series that appears with its first
    /// event has no earlier value to increase from). At start-up and on
    /// reload.
    pub fn declare(&self, jobs: &[&str]) {
        for job in jobs {
            for status in FIRE_OUTCOMES {
                drop(self.runs.get_or_create(&labels(job, *status)));
            }
            for status in Ended::ALL {
                drop(self.attempts.get_or_create(&labels(job, (*status).into())));
            }
        }
    }

    /// A fire was recorded without running, with `status` (`count` fires
    /// for a summary row of missed ones): its final outcome.
    pub fn recorded(&self, job: &str, status: Status, count: u64) {
        self.runs.get_or_create(&labels(job, status)).inc_by(count);
    }

    /// A fire's last attempt ended with `status`.
    pub fn fire_ended(&self, job: &str, status: Ended) {
        self.runs.get_or_create(&labels(job, status.into())).inc();
    }

    pub fn run_started(&self, job: &str, delay: chrono::TimeDelta) {
        let seconds = delay.num_microseconds().unwrap_or(i64::MAX) as f64 / 1e6;
        self.start_delay
            .get_or_create(&job_label(job))
            .observe(seconds.max(0.0));
    }

    /// An attempt ended with `status`.
    pub fn run_ended(&self, job: &str, status: Ended, duration_ms: i64) {
        self.attempts
            .get_or_create(&labels(job, status.into()))
            .inc();
        self.run_duration
            .get_or_create(&job_label(job))
            .observe(duration_ms.max(0) as f64 / 1000.0);
    }

    pub fn hook_failed(&self, job: &str, hook: &str) {
        self.hook_failures
            .get_or_create(&HookLabels {
                job: job.to_string(),
                hook: hook.to_string(),
            })
            .inc();
    }

    /// Asks the loop for its state; `None` when it did not answer in time.
    pub async fn probe(&self) -> Option<Snapshot> {
        let (tx, rx) = oneshot::channel();
        self.probes.send(tx).ok()?;
        let snapshot = tokio::time::timeout(PROBE_WAIT, rx).await.ok()?.ok()?;
        *self.last.lock().unwrap_or_else(|e| e.into_inner()) = Some(snapshot.clone());
        Some(snapshot)
    }

    /// When the loop last went round, if ever.
    pub fn last_beat(&self) -> Option<DateTime<Utc>> {
        match self.heartbeat.load(Ordering::Relaxed) {
            0 => None,
            ms => DateTime::from_timestamp_millis(ms),
        }
    }

    /// The metrics in Prometheus' text format, with the gauges of the
    /// freshest snapshot (`fresh`, or the last one when the loop did not
    /// answer).
    pub fn metrics(&self, fresh: Option<&Snapshot>) -> String {
        let last = self.last.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(snapshot) = fresh.or(last.as_ref()) {
            self.fill_gauges(snapshot);
        }
        drop(last);
        let mut out = String::new();
        // Writing to a String cannot fail.
        let _ = prometheus_client::encoding::text::encode(&mut out, &self.registry);
        out
    }

    fn fill_gauges(&self, snapshot: &Snapshot) {
        self.running.clear();
        self.next_fire.clear();
        self.last_success.clear();
        self.overdue.clear();
        let seconds = |t: DateTime<Utc>| t.timestamp_millis() as f64 / 1000.0;
        for job in &snapshot.jobs {
            let label = job_label(&job.name);
            self.running.get_or_create(&label).set(job.running as i64);
            if let Some(next) = job.next {
                self.next_fire.get_or_create(&label).set(seconds(next));
            }
            if let Some(at) = job.last_success {
                self.last_success.get_or_create(&label).set(seconds(at));
            }
            self.overdue
                .get_or_create(&label)
                .set(i64::from(job.overdue_since.is_some()));
        }
        self.queue_depth.set(snapshot.queued as i64);
        self.last_tick.set(seconds(snapshot.at));
    }
}

fn job_label(job: &str) -> JobLabel {
    JobLabel {
        job: job.to_string(),
    }
}

/// `/health`: the status code and the JSON body.
///
/// `answer` is the loop's answer to a probe just now, `None` when it gave
/// none within [`PROBE_WAIT`]; `last_beat` is when it last went round.
pub fn health(
    answer: Option<&Snapshot>,
    last_beat: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
) -> (u16, serde_json::Value) {
    let stamp = |t: DateTime<Utc>| t.to_rfc3339_opts(SecondsFormat::Millis, true);
    let version = env!("CARGO_PKG_VERSION");
    let Some(s) = answer else {
        let ago = last_beat.map(|t| (now - t).num_milliseconds().max(0) as f64 / 1000.0);
        let reason = match ago {
            Some(ago) => format!(
                "the scheduler loop did not answer within {}s; it last went round {ago:.1}s ago",
                PROBE_WAIT.as_secs()
            ),
            None => "the scheduler loop has not started".to_string(),
        };
        return (
            503,
            serde_json::json!({
                "status": "unhealthy",
                "reason": reason,
                "version": version,
                "last_tick": last_beat.map(stamp),
                "db_ok": serde_json::Value::Null,
            }),
        );
    };
    let overdue: Vec<&str> = s
        .jobs
        .iter()
        .filter(|j| j.overdue_since.is_some())
        .map(|j| j.name.as_str())
        .collect();
    let db_trouble = match (&s.db_stalled, &s.write_error) {
        (Some(waited), _) => Some(format!(
            "the history database has not answered for {:.1}s; fires wait for it",
            waited.as_secs_f64()
        )),
        (None, Some(e)) => Some(format!("the last history write failed: {e}")),
        (None, None) => None,
    };
    let cluster_trouble = s.cluster.as_ref().and_then(|c| {
        let mut why: Vec<String> = c.cannot_claim.iter().cloned().collect();
        if !c.mismatched.is_empty() {
            let jobs: Vec<&str> = c.mismatched.iter().map(|(j, _)| j.as_str()).collect();
            why.push(format!(
                "this host's definition of {} differs from the other hosts': it does not run {}",
                jobs.join(", "),
                if jobs.len() == 1 { "it" } else { "them" }
            ));
        }
        (!why.is_empty()).then(|| why.join("; "))
    });
    let (code, status, reason) = match (db_trouble, overdue.is_empty()) {
        (Some(trouble), _) => (503, "unhealthy", Some(trouble)),
        (None, _) if cluster_trouble.is_some() => (200, "degraded", cluster_trouble),
        (None, false) => (
            200,
            "degraded",
            Some(format!(
                "overdue (no success within expect_success_within): {}",
                overdue.join(", ")
            )),
        ),
        (None, true) => (200, "ok", None),
    };
    let mut body = serde_json::json!({
        "status": status,
        "version": version,
        "jobs": s.jobs.len(),
        "running": s.running,
        "queued": s.queued,
        "last_tick": stamp(s.at),
        "db_ok": s.write_error.is_none() && s.db_stalled.is_none(),
        "overdue": overdue,
    });
    if let Some(reason) = reason {
        body["reason"] = reason.into();
    }
    if let Some(c) = &s.cluster {
        body["cluster"] = serde_json::json!({
            "host": c.host,
            "live_hosts": c.live_hosts,
            "skew_ms": c.skew_ms,
            "claiming": c.cannot_claim.is_none(),
            "mismatched_jobs": c.mismatched.iter().map(|(j, _)| j).collect::<Vec<_>>(),
        });
    }
    (code, body)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> DateTime<Utc> {
        s.parse().unwrap()
    }

    fn job(name: &str, overdue: Option<&str>) -> JobStatus {
        JobStatus {
            name: name.into(),
            next: Some(at("2026-11-21T12:00:00Z")),
            running: 1,
            last_success: Some(at("2026-11-20T12:00:00Z")),
            overdue_since: overdue.map(at),
        }
    }

    fn snapshot(jobs: Vec<JobStatus>, write_error: Option<&str>) -> Snapshot {
        Snapshot {
            at: at("2026-11-21T10:00:00Z"),
            jobs,
            running: 1,
            queued: 0,
            write_error: write_error.map(String::from),
            db_stalled: None,
            cluster: None,
        }
    }

    #[test]
    fn a_database_that_does_not_answer_is_the_reason_given() {
        let mut s = snapshot(vec![job("a", None)], None);
        s.db_stalled = Some(Duration::from_millis(7200));
        let (code, body) = health(Some(&s), Some(s.at), s.at);
        assert_eq!(code, 503);
        assert_eq!(body["db_ok"], false);
        let reason = body["reason"].as_str().unwrap();
        assert!(
            reason.contains("history database has not answered for 7.2s"),
            "{reason}"
        );
    }

    #[test]
    fn a_loop_that_answers_is_healthy() {
        let s = snapshot(vec![job("a", None)], None);
        let (code, body) = health(Some(&s), Some(s.at), s.at);
        assert_eq!(code, 200);
        assert_eq!(body["status"], "ok");
        assert_eq!(body["jobs"], 1);
        assert_eq!(body["running"], 1);
        assert_eq!(body["db_ok"], true);
        assert_eq!(body["last_tick"], "2026-11-21T10:00:00.000Z");
    }

    #[test]
    fn a_loop_that_does_not_answer_is_stuck_whatever_it_said_before() {
        let last = at("2026-11-21T10:00:00Z");
        let (code, body) = health(None, Some(last), at("2026-11-21T10:01:30Z"));
        assert_eq!(code, 503);
        assert_eq!(body["status"], "unhealthy");
        let reason = body["reason"].as_str().unwrap();
        assert!(reason.contains("did not answer within 2s"), "{reason}");
        assert!(reason.contains("90.0s ago"), "{reason}");
    }

    #[test]
    fn a_failed_history_write_is_unhealthy() {
        let s = snapshot(vec![job("a", None)], Some("database is locked"));
        let (code, body) = health(Some(&s), Some(s.at), s.at);
        assert_eq!(code, 503);
        assert_eq!(body["db_ok"], false);
        assert!(
            body["reason"]
                .as_str()
                .unwrap()
                .contains("database is locked")
        );
    }

    #[test]
    fn an_overdue_job_degrades_but_stays_200() {
        let s = snapshot(
            vec![job("a", None), job("b", Some("2026-11-21T09:00:00Z"))],
            None,
        );
        let (code, body) = health(Some(&s), Some(s.at), s.at);
        assert_eq!(code, 200);
        assert_eq!(body["status"], "degraded");
        assert_eq!(body["overdue"], serde_json::json!(["b"]));
    }

    #[test]
    fn metrics_count_runs_and_show_each_job_of_the_snapshot() {
        let (monitor, _rx) = Monitor::new();
        monitor.declare(&["a", "b"]);
        // One fire that succeeded; one that failed, was retried and failed
        // again: three attempts, two fires.
        monitor.run_ended("a", Ended::Succeeded, 1500);
        monitor.fire_ended("a", Ended::Succeeded);
        monitor.run_ended("a", Ended::Failed, 10);
        monitor.run_ended("a", Ended::Failed, 10);
        monitor.fire_ended("a", Ended::Failed);
        monitor.recorded("b", Status::Missed, 7);
        monitor.hook_failed("a", "on_failure");
        let s = snapshot(
            vec![job("a", None), job("b", Some("2026-11-21T09:00:00Z"))],
            None,
        );
        let text = monitor.metrics(Some(&s));
        for line in [
            "schedule_info{version=\"",
            "schedule_runs_total{job=\"a\",status=\"succeeded\"} 1\n",
            "schedule_runs_total{job=\"a\",status=\"failed\"} 1\n",
            "schedule_attempts_total{job=\"a\",status=\"failed\"} 2\n",
            "schedule_attempts_total{job=\"a\",status=\"succeeded\"} 1\n",
            "schedule_runs_total{job=\"b\",status=\"missed\"} 7\n",
            // Declared at 0 before any event.
            "schedule_runs_total{job=\"b\",status=\"failed\"} 0\n",
            "schedule_attempts_total{job=\"b\",status=\"timed_out\"} 0\n",
            "schedule_run_duration_seconds_count{job=\"a\"} 3\n",
            "schedule_run_duration_seconds_bucket{le=\"5.0\",job=\"a\"} 3\n",
            "schedule_run_duration_seconds_bucket{le=\"1.0\",job=\"a\"} 2\n",
            "schedule_hook_failures_total{job=\"a\",hook=\"on_failure\"} 1\n",
            "schedule_running{job=\"b\"} 1\n",
            "schedule_next_fire_timestamp_seconds{job=\"a\"} 1795262400.0\n",
            "schedule_job_overdue{job=\"a\"} 0\n",
            "schedule_job_overdue{job=\"b\"} 1\n",
            "schedule_queue_depth 0\n",
        ] {
            assert!(text.contains(line), "no {line:?} in\n{text}");
        }
        // A job gone from the next snapshot is gone from the gauges.
        let text = monitor.metrics(Some(&snapshot(vec![job("a", None)], None)));
        assert!(!text.contains("schedule_job_overdue{job=\"b\"}"), "{text}");
    }
}
