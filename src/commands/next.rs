//! `schedule next`: the next fire instants of a job or an expression; how
//! users (and tests) check the schedule semantics.

use chrono::Datelike;
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
    /// The local time a daylight-saving jump skipped, that this fire
    /// stands for (it runs at the end of the jump).
    #[serde(skip_serializing_if = "Option::is_none")]
    nominal: Option<String>,
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
        Some(text) => parse_after(text).map_err(Error::Usage)?,
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
            .map_err(|e| Error::Usage(config::invalid_cron(target, &e.to_string())))?;
        (Schedule::Cron(Box::new(cron)), zone)
    } else {
        let config = config::load(&global.config)?;
        let job = super::find_job(&config, target)?;
        if !job.settings.enabled {
            eprintln!(
                "warning: job `{}` is disabled: these are the instants it would fire at",
                job.name
            );
        }
        (job.schedule.clone(), tz.unwrap_or(job.settings.timezone))
    };
    // --utc shows UTC whatever zone the times are counted in.
    let zone = if global.utc { Tz::UTC } else { zone };

    let instants: Vec<Instant> = schedule
        .upcoming_fires(after, args.count as usize)
        .into_iter()
        .map(|p| Instant {
            at: p.at,
            local: p
                .at
                .with_timezone(&zone)
                .to_rfc3339_opts(SecondsFormat::Millis, false),
            nominal: p.nominal.map(|n| n.format("%Y-%m-%dT%H:%M:%S").to_string()),
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
    if !instants.is_empty() && instants.len() < args.count as usize {
        let last = instants.last().map_or(0, |i| i.at.year());
        eprintln!(
            "warning: only {} of the {} fires asked for: the next one would be after the latest \
             instant schedule can count to (year {}); the last shown is in year {last}",
            instants.len(),
            args.count,
            DateTime::<Utc>::MAX_UTC.year()
        );
    }
    if args.json {
        return super::print(&output::json(&instants));
    }
    // On a terminal, for people: the weekday and how far away. Piped, for
    // programs: RFC 3339.
    use std::io::IsTerminal;
    let terminal = std::io::stdout().is_terminal();
    super::print(&lines(&instants, zone, terminal.then(Utc::now)))
}

/// One instant per line: RFC 3339 in `zone`, or with `now` as a person
/// reads it, `Mon 2026-11-23 09:00:00 CET (in 2d 3h)`.
fn lines(instants: &[Instant], zone: Tz, now: Option<DateTime<Utc>>) -> String {
    let mut text = String::new();
    for i in instants {
        match now {
            Some(now) => text.push_str(&format!(
                "{} ({})",
                output::day_time(i.at, zone),
                output::relative(i.at, now)
            )),
            None => {
                let local = i.at.with_timezone(&zone);
                text.push_str(&local.to_rfc3339_opts(SecondsFormat::AutoSi, false));
            }
        }
        if let Some(nominal) = &i.nominal {
            text.push_str(&format!(
                " (for {} local time, skipped by the daylight-saving change)",
                nominal.replace('T', " ")
            ));
        }
        text.push('\n');
    }
    text
}

/// `--after`: an RFC3339 instant, or a date (its UTC midnight, as
/// `history --since` takes it). A date and time without `Z` or an offset
/// is refused with the two ways to say which zone.
pub fn parse_after(text: &str) -> Result<DateTime<Utc>, String> {
    let text = text.trim();
    if let Ok(t) = DateTime::parse_from_rfc3339(text) {
        return Ok(t.with_timezone(&Utc));
    }
    if let Ok(d) = chrono::NaiveDate::parse_from_str(text, "%Y-%m-%d") {
        return Ok(d.and_hms_opt(0, 0, 0).unwrap_or_default().and_utc());
    }
    let naive = [
        "%Y-%m-%dT%H:%M:%S%.f",
        "%Y-%m-%d %H:%M:%S%.f",
        "%Y-%m-%dT%H:%M",
        "%Y-%m-%d %H:%M",
    ]
    .iter()
    .any(|f| chrono::NaiveDateTime::parse_from_str(text, f).is_ok());
    if naive {
        return Err(format!(
            "--after `{text}` has no time zone; add `Z` for UTC (`{text}Z`) or an offset \
             (`{text}+01:00`)"
        ));
    }
    Err(format!(
        "invalid --after `{text}`: expected a date (`2026-11-20`, UTC midnight) or an RFC3339 \
         instant (`2026-11-20T10:00:00Z`)"
    ))
}

#[cfg(test)]
mod tests {
    use super::{Instant, lines, parse_after};
    use chrono::{DateTime, Utc};

    #[test]
    fn a_terminal_gets_the_weekday_and_how_far_a_pipe_rfc3339() {
        let at = |s: &str| s.parse::<DateTime<Utc>>().unwrap();
        let instants = [Instant {
            at: at("2026-11-23T08:00:00Z"),
            local: String::new(),
            nominal: None,
        }];
        let berlin = chrono_tz::Europe::Berlin;
        assert_eq!(
            lines(&instants, berlin, Some(at("2026-11-21T05:00:00Z"))),
            "Mon 2026-11-23 09:00:00 CET (in 2d 3h)\n"
        );
        assert_eq!(
            lines(&instants, berlin, None),
            "2026-11-23T09:00:00+01:00\n"
        );
    }

    #[test]
    fn after_takes_dates_and_instants_and_asks_for_a_zone() {
        assert_eq!(
            parse_after("2026-11-20").unwrap().to_rfc3339(),
            "2026-11-20T00:00:00+00:00"
        );
        assert_eq!(
            parse_after("2026-11-20T10:00:00+01:00")
                .unwrap()
                .to_rfc3339(),
            "2026-11-20T09:00:00+00:00"
        );
        let e = parse_after("2026-11-20T10:00:00").unwrap_err();
        assert!(
            e.contains("add `Z` for UTC (`2026-11-20T10:00:00Z`)"),
            "{e}"
        );
        assert!(!e.contains("premature"), "{e}");
        assert!(
            parse_after("tomorrow")
                .unwrap_err()
                .contains("expected a date")
        );
    }
}
