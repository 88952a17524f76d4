//! `schedule next`: the next fire instants of a job or an expression; how
//! users (and tests) check the schedule semantics.

use chrono::{DateTime, SecondsFormat, Utc};
use chrono_tz::Tz;
use serde::Serialize;

use crate::cli::{Global, NextArgs};
use crate::config::{self, did_you_mean};
use crate::duration;
use crate::error::Error;
use crate::output;
use crate::schedule::{CronSchedule, Every, Schedule};

#[derive(Debug, Serialize)]
struct Instant {
    /// UTC.
    at: DateTime<Utc>,
    /// The same instant in the display zone, with its offset.
    local: String,
}

pub fn run(global: &Global, args: &NextArgs) -> Result<(), Error> {
    let tz = args
        .tz
        .as_deref()
        .map(|name| {
            name.parse::<Tz>().map_err(|_| {
                let names: Vec<&str> = chrono_tz::TZ_VARIANTS.iter().map(|t| t.name()).collect();
                Error::Usage(format!(
                    "unknown time zone `{name}` for --tz; use an IANA name such as \
                     `Europe/Berlin` or `UTC`{}",
                    did_you_mean(name, &names)
                ))
            })
        })
        .transpose()?;
    let after = match &args.after {
        None => Utc::now(),
        Some(text) => DateTime::parse_from_rfc3339(text)
            .map_err(|e| {
                Error::Usage(format!(
                    "invalid --after `{text}`: {e}; expected RFC3339 such as 2026-11-01T00:00:00Z"
                ))
            })?
            .with_timezone(&Utc),
    };

    let target = args.target.trim();
    let (schedule, zone) = if let Some(interval) = target.strip_prefix("every ") {
        let interval = duration::parse(interval)
            .map_err(|e| Error::Usage(format!("invalid interval: {e}")))?;
        let every =
            Every::new(interval).map_err(|e| Error::Usage(format!("invalid interval: {e}")))?;
        (Schedule::Every(every), tz.unwrap_or(Tz::UTC))
    } else if target.starts_with('@') || target.contains(char::is_whitespace) {
        let zone = tz.unwrap_or(Tz::UTC);
        let cron = CronSchedule::parse(target, zone)
            .map_err(|e| Error::Usage(format!("invalid cron expression `{target}`: {e}")))?;
        (Schedule::Cron(Box::new(cron)), zone)
    } else {
        let config = config::load(&global.config)?;
        let job = super::find_job(&config, target)?;
        if !job.enabled {
            tracing::warn!(job = %job.name, "the job is disabled: these are the instants it would fire at");
        }
        let shown = if global.utc { Tz::UTC } else { job.timezone };
        (job.schedule.clone(), tz.unwrap_or(shown))
    };

    let instants: Vec<Instant> = schedule
        .upcoming(after, args.count as usize)
        .into_iter()
        .map(|at| Instant {
            at,
            local: at
                .with_timezone(&zone)
                .to_rfc3339_opts(SecondsFormat::AutoSi, false),
        })
        .collect();
    if instants.is_empty()
        && let Schedule::Cron(cron) = &schedule
        && cron.never_fires()
    {
        tracing::warn!(
            schedule = %schedule,
            "never fires: no date matches its day-of-month and month fields"
        );
    }
    if args.json {
        return super::print(&output::json(&instants));
    }
    let mut text = String::new();
    for i in &instants {
        text.push_str(&i.local);
        text.push('\n');
    }
    super::print(&text)
}
