//! The JSON the pages poll: `/api/jobs`, `/api/runs?job=&status=&limit=`,
//! `/api/runs/ID`. The field names are those of `--json` (`schedule list`,
//! `history`, `show`), and stable in the same way.

use chrono::{DateTime, Utc};
use serde::Serialize;
use std::collections::HashMap;

use super::JobView;
use crate::domain::{HistoryQuery, RunRecord, Status};

/// One job: the fields of `schedule list --json`, and `running`.
#[derive(Debug, Serialize)]
pub struct JobJson {
    pub job: String,
    pub schedule: String,
    pub timezone: String,
    pub command: String,
    pub enabled: bool,
    pub paused: bool,
    pub next_run: Option<DateTime<Utc>>,
    pub last_run: Option<LastRun>,
    pub overdue: bool,
    /// As in `list --json`; the dashboard is served by the running scheduler.
    pub scheduler_running: bool,
    /// Runs going now.
    pub running: usize,
}

#[derive(Debug, Serialize)]
pub struct LastRun {
    pub id: i64,
    pub status: Status,
    pub scheduled_for: DateTime<Utc>,
    pub started_at: Option<DateTime<Utc>>,
    pub finished_at: Option<DateTime<Utc>>,
    pub exit_code: Option<i32>,
    /// The host whose scheduler ran it.
    pub host: String,
    /// As in `list --json`: never, while the scheduler serving it runs.
    pub orphaned: bool,
}

pub fn jobs(views: &[JobView]) -> Vec<JobJson> {
    views
        .iter()
        .map(|v| JobJson {
            job: v.job.name.to_string(),
            schedule: v.job.schedule.to_string(),
            timezone: v.job.settings.timezone.name().to_string(),
            command: v.job.command.to_string(),
            enabled: v.job.settings.enabled,
            paused: v.paused,
            next_run: v.next,
            last_run: v.recent.first().map(|r| LastRun {
                id: r.id,
                status: r.status,
                scheduled_for: r.scheduled_for,
                started_at: r.started_at,
                finished_at: r.finished_at,
                exit_code: r.exit_code,
                host: r.host.clone(),
                orphaned: false,
            }),
            overdue: v.overdue,
            scheduler_running: true,
            running: v.running,
        })
        .collect()
}

/// `/api/runs`' query: `job`, `status` (a status word, or `failures` for
/// what `history --failed` shows), `limit` (1 to 1000, 50 by default).
#[derive(Debug, Clone)]
pub struct RunsQuery {
    pub job: Option<String>,
    pub status: Option<StatusFilter>,
    pub limit: usize,
}

#[derive(Debug, Clone, Copy)]
pub enum StatusFilter {
    Failures,
    Is(Status),
}

impl RunsQuery {
    pub fn parse(q: &HashMap<String, String>) -> Result<RunsQuery, String> {
        let limit = match q.get("limit").filter(|l| !l.is_empty()) {
            None => 50,
            Some(l) => match l.parse::<usize>() {
                Ok(n) if (1..=1000).contains(&n) => n,
                _ => return Err(format!("limit `{l}` is not a number from 1 to 1000")),
            },
        };
        let status = match q.get("status").filter(|s| !s.is_empty()) {
            None => None,
            Some(s) if s == "failures" => Some(StatusFilter::Failures),
            Some(s) => Some(StatusFilter::Is(s.parse::<Status>().map_err(|e| {
                let words: Vec<&str> = Status::ALL.iter().map(|s| s.as_str()).collect();
                format!("{e}; use one of {} or `failures`", words.join(", "))
            })?)),
        };
        Ok(RunsQuery {
            job: q.get("job").filter(|j| !j.is_empty()).cloned(),
            status,
            limit,
        })
    }

    /// What to ask the store.
    pub fn history_query(&self) -> HistoryQuery {
        HistoryQuery {
            job: self.job.clone(),
            failed_only: matches!(self.status, Some(StatusFilter::Failures)),
            statuses: match self.status {
                Some(StatusFilter::Is(s)) => vec![s],
                _ => Vec::new(),
            },
            limit: self.limit,
            ..Default::default()
        }
    }

    pub fn filter(&self, runs: Vec<RunRecord>) -> Vec<RunRecord> {
        runs.into_iter()
            .filter(|r| match self.status {
                Some(StatusFilter::Is(s)) => r.status == s,
                _ => true,
            })
            .take(self.limit)
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn q(s: &str) -> Result<RunsQuery, String> {
        RunsQuery::parse(&super::super::parse_form(s))
    }

    #[test]
    fn runs_queries_are_checked_not_trusted() {
        let d = q("").unwrap();
        assert_eq!((d.job, d.limit), (None, 50));
        let f = q("job=backup&status=failures&limit=5").unwrap();
        assert!(f.history_query().failed_only);
        assert_eq!(f.history_query().limit, 5);
        let one = q("status=skipped&limit=10").unwrap();
        assert!(!one.history_query().failed_only);
        // The store filters by status itself.
        assert_eq!(one.history_query().limit, 10);
        assert_eq!(one.history_query().statuses, [Status::Skipped]);
        for bad in [
            "limit=0",
            "limit=1001",
            "limit=-1",
            "limit=1e3",
            "status=ok",
        ] {
            assert!(q(bad).is_err(), "{bad}");
        }
        assert!(q("status=nope").unwrap_err().contains("failures"));
    }
}
