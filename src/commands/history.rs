//! `schedule history`: recorded runs, newest first.

use chrono::{DateTime, NaiveDate, Utc};

use crate::cli::{Global, HistoryArgs};
use crate::domain::{HistoryQuery, RunRecord};
use crate::duration;
use crate::error::Error;
use crate::output;
use crate::runner::signal_name;
use crate::store::Mode;

pub fn run(global: &Global, args: &HistoryArgs) -> Result<(), Error> {
    let now = Utc::now();
    let since = args
        .since
        .as_deref()
        .map(|s| parse_since(s, now))
        .transpose()
        .map_err(Error::Usage)?;
    let (_, mut store) = super::open_store(global, Mode::Read)?;
    let config = super::config_for_reading(global);
    if let Some(job) = &args.job {
        super::known_job(config.as_ref(), store.as_mut(), job)?;
    }
    let query = HistoryQuery {
        job: args.job.clone(),
        failed_only: args.failed,
        statuses: args.status.clone(),
        host: args.host.clone(),
        since,
        limit: args.limit,
        oldest_first: args.reverse,
    };
    let runs = store.history(&query)?;
    if args.json {
        return super::print(&output::json(&runs));
    }
    if runs.is_empty() {
        return super::print("no runs match\n");
    }
    let look = global.look();
    let mut text = render(&runs, &global.zones(), look, now) + "\n";
    // On a terminal, say when there is more than the limit shows.
    if look.width.is_some() && runs.len() == args.limit {
        let total = store.count(&query)?;
        text.push_str(&footer(runs.len(), total));
    }
    super::print(&text)
}

/// `showing 20 of 1,234 runs; --limit to see more`, or nothing when every
/// run is shown.
pub fn footer(shown: usize, total: u64) -> String {
    if shown as u64 >= total {
        return String::new();
    }
    format!(
        "showing {} of {} runs; --limit to see more\n",
        thousands(shown as u64),
        thousands(total)
    )
}

/// `1,234,567`.
pub fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// `2h` (ago), `2026-11-01` (UTC midnight) or an RFC3339 instant.
pub fn parse_since(text: &str, now: DateTime<Utc>) -> Result<DateTime<Utc>, String> {
    if let Ok(t) = DateTime::parse_from_rfc3339(text) {
        return Ok(t.with_timezone(&Utc));
    }
    if let Ok(d) = NaiveDate::parse_from_str(text, "%Y-%m-%d") {
        return Ok(d.and_hms_opt(0, 0, 0).unwrap_or_default().and_utc());
    }
    match duration::parse(text) {
        Ok(d) => chrono::TimeDelta::from_std(d)
            .ok()
            .and_then(|d| now.checked_sub_signed(d))
            .ok_or_else(|| format!("--since `{text}` reaches too far back")),
        Err(_) => Err(format!(
            "invalid --since `{text}`: expected a duration ago (`2h`, `7d`), a date \
             (`2026-11-01`) or an RFC3339 instant (`2026-11-01T09:00:00Z`)"
        )),
    }
}

/// The table, one line per run: times in each job's zone (`zones`; UTC for
/// a job it does not know), statuses in colour when `look` says so.
pub fn render(
    runs: &[RunRecord],
    zones: &std::collections::HashMap<String, chrono_tz::Tz>,
    look: output::Look,
    now: DateTime<Utc>,
) -> String {
    use output::{Cell, Column};
    let tz = |r: &RunRecord| zones.get(&r.job).copied().unwrap_or(chrono_tz::Tz::UTC);
    let columns = [
        Column::new("ID", 8),
        Column::new("JOB", 9),
        Column::new("SCHEDULED", 7),
        Column::new("STARTED", 3),
        Column::new("DURATION", 5).short("TOOK"),
        Column::new("STATUS", 10),
        Column::new("EXIT", 6),
        Column::new("TRY", 1).droppable(),
        Column::new("TRIGGER", 0).droppable(),
        Column::new("NOTE", 2).cut_first().droppable(),
    ];
    let rows = runs.iter().map(|r| {
        let exit = match (r.exit_code, r.signal) {
            (Some(code), _) => code.to_string(),
            (None, Some(sig)) => signal_name(sig),
            (None, None) => "-".to_string(),
        };
        let started = match r.started_at {
            None => Cell::from("-"),
            Some(t) => Cell::forms(vec![
                output::time_after(t, r.scheduled_for, tz(r)),
                output::short_time(t, tz(r), r.scheduled_for),
            ]),
        };
        [
            r.id.to_string().into(),
            r.job.clone().into(),
            output::when(r.scheduled_for, tz(r), now),
            started,
            r.duration_ms
                .map_or("-".into(), |ms| {
                    duration::human(std::time::Duration::from_millis(ms.max(0) as u64))
                })
                .into(),
            look.status(r.status).into(),
            exit.into(),
            r.attempt.to_string().into(),
            r.trigger.to_string().into(),
            output::ellipsize(&note(r, tz(r)), 60).into(),
        ]
    });
    // Runs of several hosts (a cluster): which host ran each, after the job.
    let hosts: std::collections::HashSet<&str> = runs.iter().map(|r| r.host.as_str()).collect();
    if hosts.len() < 2 {
        return output::table(columns, rows, look.width);
    }
    let with_host = |mut cells: Vec<Cell>, host: Cell| {
        cells.insert(2, host);
        cells
    };
    let mut columns: Vec<Column> = columns.into_iter().collect();
    columns.insert(2, Column::new("HOST", 7).droppable());
    let columns: [Column; 11] = columns.try_into().unwrap_or_else(|_| unreachable!());
    let rows = rows.zip(runs).map(|(cells, r)| {
        let cells = with_host(cells.into_iter().collect(), r.host.clone().into());
        let cells: [Cell; 11] = cells.try_into().unwrap_or_else(|_| unreachable!());
        cells
    });
    output::table(columns, rows, look.width)
}

/// Why a run ended as it did: the recorded reason, else the last line the
/// job wrote to stderr when it did not succeed.
fn note(r: &RunRecord, tz: chrono_tz::Tz) -> String {
    if let Some(reason) = &r.reason {
        // A pause's row counts the fires it skipped.
        return match (r.missed_count, r.last_scheduled_for) {
            (Some(n), Some(last)) if n > 1 => format!(
                "{n} fires to {}: {reason}",
                output::time_after(last, r.scheduled_for, tz)
            ),
            _ => reason.clone(),
        };
    }
    if let Some(nominal) = &r.nominal {
        return format!(
            "for {}, skipped by the clock change",
            nominal.replace('T', " ")
        );
    }
    if r.status == crate::domain::Status::Succeeded {
        return String::new();
    }
    let line = r
        .stderr_tail
        .lines()
        .rev()
        .map(output::plain)
        .find(|l| !l.trim().is_empty())
        .unwrap_or_default();
    line.trim().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_footer_counts_with_separators_and_only_when_runs_are_left_out() {
        assert_eq!(
            footer(20, 1234),
            "showing 20 of 1,234 runs; --limit to see more\n"
        );
        assert_eq!(footer(20, 20), "");
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(1_000), "1,000");
        assert_eq!(thousands(1_234_567), "1,234,567");
    }

    #[test]
    fn since_accepts_durations_dates_and_instants() {
        let now = DateTime::parse_from_rfc3339("2026-11-21T12:00:00Z")
            .unwrap()
            .with_timezone(&Utc);
        assert_eq!(
            parse_since("2h", now).unwrap().to_rfc3339(),
            "2026-11-21T10:00:00+00:00"
        );
        assert_eq!(
            parse_since("2026-11-01", now).unwrap().to_rfc3339(),
            "2026-11-01T00:00:00+00:00"
        );
        assert_eq!(
            parse_since("2026-11-01T09:00:00+01:00", now)
                .unwrap()
                .to_rfc3339(),
            "2026-11-01T08:00:00+00:00"
        );
        assert!(
            parse_since("yesterday", now)
                .unwrap_err()
                .contains("expected a duration ago")
        );
    }
}
