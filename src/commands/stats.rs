//! `schedule stats`: per job, how often it ran, how often it worked, how
//! long it took and how late it started.

use chrono::{DateTime, Utc};
use serde::Serialize;
use std::collections::BTreeMap;
use std::time::Duration;

use crate::cli::{Global, StatsArgs};
use crate::commands::history::parse_since;
use crate::domain::{StatRow, Status};
use crate::duration;
use crate::error::Error;
use crate::output;
use crate::store::Mode;

/// One job's numbers.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct JobStats {
    pub job: String,
    /// Runs that started and ended.
    pub runs: u64,
    pub succeeded: u64,
    /// `failed`, `timed_out` and `interrupted`.
    pub failures: u64,
    /// Stopped by a shutdown or a newer fire: neither success nor failure.
    pub cancelled: u64,
    /// Fires that did not run: `skipped`, `missed` (each counted fire).
    pub not_run: u64,
    /// `succeeded` / (`succeeded` + `failures`), 0 to 1; `None` without either.
    pub success_rate: Option<f64>,
    pub duration_p50_ms: Option<i64>,
    pub duration_p95_ms: Option<i64>,
    pub duration_max_ms: Option<i64>,
    /// Mean of started − scheduled, over first attempts (a retry starts
    /// late on purpose).
    pub mean_start_delay_ms: Option<i64>,
    pub last_success: Option<DateTime<Utc>>,
    pub last_failure: Option<DateTime<Utc>>,
}

pub fn run(global: &Global, args: &StatsArgs) -> Result<(), Error> {
    let now = Utc::now();
    let since = parse_since(&args.since, now).map_err(Error::Usage)?;
    let (_, mut store) = super::open_store(global, Mode::Read)?;
    let config = super::config_for_reading(global);
    if let Some(job) = &args.job {
        super::known_job(config.as_ref(), store.as_mut(), job)?;
    }
    let stats = summarize(&store.stat_rows(args.job.as_deref(), since)?);
    if args.json {
        return super::print(&output::json(&stats));
    }
    if stats.is_empty() {
        return super::print("no runs in that period\n");
    }
    super::print(&(render(&stats, global.look(), now) + "\n"))
}

/// The numbers of each job, in name order.
pub fn summarize(rows: &[StatRow]) -> Vec<JobStats> {
    let mut by_job: BTreeMap<&str, Vec<&StatRow>> = BTreeMap::new();
    for row in rows {
        by_job.entry(&row.job).or_default().push(row);
    }
    by_job
        .into_iter()
        .map(|(job, rows)| {
            let ended: Vec<&&StatRow> = rows
                .iter()
                .filter(|r| r.started_at.is_some() && r.status != Status::Running)
                .collect();
            let succeeded = ended
                .iter()
                .filter(|r| r.status == Status::Succeeded)
                .count() as u64;
            let failures = ended
                .iter()
                .filter(|r| {
                    matches!(
                        r.status,
                        Status::Failed | Status::TimedOut | Status::Interrupted | Status::Lost
                    )
                })
                .count() as u64;
            let cancelled = ended
                .iter()
                .filter(|r| r.status == Status::Cancelled)
                .count() as u64;
            let not_run = rows
                .iter()
                .filter(|r| matches!(r.status, Status::Skipped | Status::Missed))
                .map(|r| r.missed_count.unwrap_or(1))
                .sum::<u64>();
            let mut durations: Vec<i64> = ended.iter().filter_map(|r| r.duration_ms).collect();
            durations.sort_unstable();
            let delays: Vec<i64> = ended
                .iter()
                .filter(|r| r.attempt == 1)
                .filter_map(|r| Some((r.started_at? - r.scheduled_for).num_milliseconds()))
                .collect();
            let last = |pred: &dyn Fn(Status) -> bool| {
                ended
                    .iter()
                    .filter(|r| pred(r.status))
                    .filter_map(|r| r.finished_at.or(r.started_at))
                    .max()
            };
            let runs = ended.len() as u64;
            JobStats {
                job: job.to_string(),
                runs,
                succeeded,
                failures,
                cancelled,
                not_run,
                success_rate: (succeeded + failures > 0)
                    .then(|| succeeded as f64 / (succeeded + failures) as f64),
                duration_p50_ms: percentile(&durations, 50),
                duration_p95_ms: percentile(&durations, 95),
                duration_max_ms: durations.last().copied(),
                mean_start_delay_ms: (!delays.is_empty())
                    .then(|| delays.iter().sum::<i64>() / delays.len() as i64),
                last_success: last(&|s| s == Status::Succeeded),
                last_failure: last(&|s| {
                    matches!(
                        s,
                        Status::Failed | Status::TimedOut | Status::Interrupted | Status::Lost
                    )
                }),
            }
        })
        .collect()
}

/// Nearest-rank percentile of sorted values.
fn percentile(sorted: &[i64], p: usize) -> Option<i64> {
    if sorted.is_empty() {
        return None;
    }
    let rank = (p * sorted.len()).div_ceil(100).max(1);
    sorted.get(rank - 1).copied()
}

/// The table.
pub fn render(stats: &[JobStats], look: output::Look, now: DateTime<Utc>) -> String {
    let ms = |v: Option<i64>| {
        v.map_or("-".into(), |ms| {
            duration::human(Duration::from_millis(ms.max(0) as u64))
        })
    };
    use output::{Cell, Column};
    let ago = |t: Option<DateTime<Utc>>| match t {
        None => Cell::from("-"),
        Some(t) => Cell::forms(vec![
            output::relative(t, now),
            output::relative_short(t, now),
        ]),
    };
    output::table(
        [
            Column::new("JOB", 10),
            Column::new("RUNS", 6),
            Column::new("OK", 8),
            Column::new("FAILED", 7).short("FAIL"),
            Column::new("NOT RUN", 3).droppable(),
            Column::new("P50", 5),
            Column::new("P95", 2).droppable(),
            Column::new("MAX", 1).droppable(),
            Column::new("MEAN DELAY", 0).short("DELAY").droppable(),
            Column::new("LAST SUCCESS", 9).short("LAST OK"),
            Column::new("LAST FAILURE", 9).short("LAST FAIL"),
        ],
        stats.iter().map(|s| {
            [
                s.job.clone().into(),
                s.runs.to_string().into(),
                s.success_rate
                    .map_or("-".into(), |r| format!("{:.0}%", r * 100.0))
                    .into(),
                s.failures.to_string().into(),
                s.not_run.to_string().into(),
                ms(s.duration_p50_ms).into(),
                ms(s.duration_p95_ms).into(),
                ms(s.duration_max_ms).into(),
                ms(s.mean_start_delay_ms).into(),
                ago(s.last_success),
                ago(s.last_failure),
            ]
        }),
        look.width,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(job: &str, status: Status, at: i64, took: i64, delay: i64) -> StatRow {
        let t = |s: i64| DateTime::from_timestamp(1_800_000_000 + s, 0).unwrap();
        let ran = !matches!(status, Status::Skipped | Status::Missed);
        StatRow {
            job: job.into(),
            status,
            attempt: 1,
            missed_count: None,
            scheduled_for: t(at),
            started_at: ran.then(|| t(at) + chrono::TimeDelta::milliseconds(delay)),
            finished_at: ran.then(|| t(at) + chrono::TimeDelta::milliseconds(delay + took)),
            duration_ms: ran.then_some(took),
        }
    }

    #[test]
    fn per_job_rates_percentiles_delays_and_last_times() {
        let mut rows = Vec::new();
        for i in 0..20 {
            let status = if i % 5 == 4 {
                Status::Failed
            } else {
                Status::Succeeded
            };
            rows.push(row("a", status, i * 60, (i + 1) * 100, 10));
        }
        rows.push(row("a", Status::Skipped, 2000, 0, 0));
        rows.push(row("b", Status::TimedOut, 0, 5000, 30));
        let mut counted = row("b", Status::Missed, 10, 0, 0);
        counted.missed_count = Some(5000);
        rows.push(counted);
        rows.push(row("c", Status::Cancelled, 0, 100, 0));
        let mut retry = row("c", Status::Succeeded, 0, 100, 1_800_000);
        retry.attempt = 2;
        rows.push(retry);
        let stats = summarize(&rows);
        assert_eq!(stats.len(), 3);
        let a = &stats[0];
        assert_eq!((a.runs, a.succeeded, a.failures, a.not_run), (20, 16, 4, 1));
        assert_eq!(a.success_rate, Some(0.8));
        assert_eq!(a.duration_p50_ms, Some(1000));
        assert_eq!(a.duration_p95_ms, Some(1900));
        assert_eq!(a.duration_max_ms, Some(2000));
        assert_eq!(a.mean_start_delay_ms, Some(10));
        // The last success is the run at 18 min (19 min failed).
        assert_eq!(
            a.last_success.unwrap().timestamp(),
            1_800_000_000 + 18 * 60 + 1900 / 1000
        );
        let b = &stats[1];
        assert_eq!((b.runs, b.failures, b.success_rate), (1, 1, Some(0.0)));
        assert_eq!(b.last_success, None);
        assert_eq!(b.not_run, 5000, "a counted missed row is its count");
        // A cancelled run is neither; a retry's planned wait is no delay.
        let c = &stats[2];
        assert_eq!((c.cancelled, c.success_rate), (1, Some(1.0)));
        assert_eq!(c.mean_start_delay_ms, Some(0));
    }

    #[test]
    fn percentiles_by_nearest_rank() {
        assert_eq!(percentile(&[], 50), None);
        assert_eq!(percentile(&[7], 95), Some(7));
        assert_eq!(percentile(&[1, 2, 3, 4], 50), Some(2));
        assert_eq!(percentile(&(1..=100).collect::<Vec<_>>(), 95), Some(95));
    }
}
