//! Real cron lines (`tests/fixtures/cron-corpus.txt`) against a reference
//! written from cron(5) and cron(8) alone, by brute force: for each minute,
//! does the line match? Nothing here shares code with `src/schedule.rs`.
//!
//! The reference knows fields, names, lists, ranges, steps, the macros, the
//! day rule (both day fields restricted: either matches; else both must),
//! day-of-week ranges that wrap (schedule's documented rule), and cron(8)'s
//! daylight-saving rules: a fixed-time job (minute and hour fields not
//! starting with `*`) reads the wall clock, runs a repeated time on the first
//! pass and a skipped time at the jump; a wildcard job runs at every real
//! instant whose wall clock matches.

use chrono::{
    DateTime, Datelike, LocalResult, NaiveDate, NaiveDateTime, TimeDelta, TimeZone, Timelike, Utc,
};
use chrono_tz::Tz;
use schedule::schedule::{CronSchedule, Schedule};

const MONTHS: [&str; 12] = [
    "jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec",
];
const DAYS: [&str; 7] = ["sun", "mon", "tue", "wed", "thu", "fri", "sat"];

/// A line as cron(5) reads it: the set of values of each field.
#[derive(Debug)]
struct Reference {
    minutes: Vec<bool>,
    hours: Vec<bool>,
    days: Vec<bool>,
    months: Vec<bool>,
    weekdays: Vec<bool>,
    either_day: bool,
    fixed_time: bool,
}

/// One field's values, or `None` when cron rejects it.
fn field(text: &str, low: u32, high: u32, names: &[&str], wraps: bool) -> Option<Vec<bool>> {
    let mut set = vec![false; high as usize + 1];
    let number = |s: &str| -> Option<u32> {
        if !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()) {
            return s.parse().ok().filter(|v| (low..=high).contains(v));
        }
        let at = names.iter().position(|n| n.eq_ignore_ascii_case(s))?;
        Some(at as u32 + if names.len() == 12 { 1 } else { 0 })
    };
    for item in text.split(',') {
        let (range, step) = match item.split_once('/') {
            Some((r, s)) => {
                if !s.bytes().all(|b| b.is_ascii_digit()) {
                    return None;
                }
                (r, Some(s.parse::<u32>().ok().filter(|&s| s > 0)?))
            }
            None => (item, None),
        };
        let (from, to) = if range == "*" {
            (low, high)
        } else if let Some((a, b)) = range.split_once('-') {
            (number(a)?, number(b)?)
        } else {
            // A single value; cron takes no step after it.
            if step.is_some() {
                return None;
            }
            let v = number(range)?;
            (v, v)
        };
        let step = step.unwrap_or(1);
        let values: Vec<u32> = if from <= to {
            (from..=to).step_by(step as usize).collect()
        } else if wraps {
            // Round the week: days 0-6, with 7 as Sunday.
            (from..=to + 7)
                .step_by(step as usize)
                .map(|v| v % 7)
                .collect()
        } else {
            return None;
        };
        for v in values {
            set[v as usize] = true;
        }
    }
    Some(set)
}

fn reference(line: &str) -> Option<Reference> {
    let line = match line.to_ascii_lowercase().as_str() {
        "@yearly" | "@annually" => "0 0 1 1 *".to_string(),
        "@monthly" => "0 0 1 * *".to_string(),
        "@weekly" => "0 0 * * 0".to_string(),
        "@daily" | "@midnight" => "0 0 * * *".to_string(),
        "@hourly" => "0 * * * *".to_string(),
        other if other.starts_with('@') => return None,
        _ => line.to_string(),
    };
    let f: Vec<&str> = line.split_whitespace().collect();
    if f.len() != 5 {
        return None;
    }
    let mut weekdays = field(f[4], 0, 7, &DAYS, true)?;
    if weekdays[7] {
        weekdays[0] = true;
    }
    weekdays.truncate(7);
    Some(Reference {
        minutes: field(f[0], 0, 59, &[], false)?,
        hours: field(f[1], 0, 23, &[], false)?,
        days: field(f[2], 1, 31, &[], false)?,
        months: field(f[3], 1, 12, &MONTHS, false)?,
        weekdays,
        either_day: !f[2].starts_with('*') && !f[4].starts_with('*'),
        fixed_time: !f[0].starts_with('*') && !f[1].starts_with('*'),
    })
}

impl Reference {
    fn date_matches(&self, d: NaiveDate) -> bool {
        let dom = self.days[d.day() as usize];
        let dow = self.weekdays[d.weekday().num_days_from_sunday() as usize];
        self.months[d.month() as usize]
            && if self.either_day {
                dom || dow
            } else {
                dom && dow
            }
    }

    fn matches(&self, wall: NaiveDateTime) -> bool {
        self.date_matches(wall.date())
            && self.hours[wall.hour() as usize]
            && self.minutes[wall.minute() as usize]
    }

    /// The first `count` fires after `after`, up to `until`.
    fn fires(
        &self,
        tz: Tz,
        after: DateTime<Utc>,
        until: DateTime<Utc>,
        count: usize,
    ) -> Vec<DateTime<Utc>> {
        let mut out = Vec::new();
        if self.fixed_time {
            // Walk the wall clock; map each match to one instant.
            let mut date = after.with_timezone(&tz).date_naive() - TimeDelta::days(1);
            let last = until.with_timezone(&tz).date_naive() + TimeDelta::days(1);
            while date <= last && out.len() < count {
                if self.date_matches(date) {
                    for h in (0..24).filter(|&h| self.hours[h as usize]) {
                        for m in (0..60).filter(|&m| self.minutes[m as usize]) {
                            let wall = date.and_hms_opt(h, m, 0).unwrap();
                            let t = resolve(tz, wall);
                            if t > after && t <= until && out.last() != Some(&t) {
                                out.push(t);
                            }
                        }
                    }
                }
                date = date.succ_opt().unwrap();
            }
            out.truncate(count);
        } else {
            // Every real minute, by the hour; an hour whose two ends fall on
            // days that do not match is skipped whole.
            let mut hour = DateTime::from_timestamp(after.timestamp() / 3600 * 3600, 0).unwrap();
            while hour <= until && out.len() < count {
                let ends = [hour, hour + TimeDelta::minutes(59)];
                if ends
                    .iter()
                    .any(|t| self.date_matches(t.with_timezone(&tz).date_naive()))
                {
                    for m in 0..60 {
                        let t = hour + TimeDelta::minutes(m);
                        if t > after
                            && t <= until
                            && out.len() < count
                            && self.matches(t.with_timezone(&tz).naive_local())
                        {
                            out.push(t);
                        }
                    }
                }
                hour += TimeDelta::hours(1);
            }
        }
        out
    }
}

/// A wall time's instant by cron(8): the first pass of a repeated time, the
/// jump for a skipped one.
fn resolve(tz: Tz, wall: NaiveDateTime) -> DateTime<Utc> {
    for k in 0..=24 * 60 {
        match tz.from_local_datetime(&(wall + TimeDelta::minutes(k))) {
            LocalResult::Single(t) | LocalResult::Ambiguous(t, _) => return t.with_timezone(&Utc),
            LocalResult::None => {}
        }
    }
    panic!("no instant within a day of {wall} in {tz}");
}

/// (marker, line) for each entry of the corpus.
fn corpus() -> Vec<(char, String)> {
    let text = include_str!("fixtures/cron-corpus.txt");
    text.lines()
        .map(|l| l.split(" #").next().unwrap().trim())
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(|l| match l.split_once(' ') {
            Some((m @ ("!" | "~" | "x"), rest)) => {
                (m.chars().next().unwrap(), rest.trim().to_string())
            }
            _ => (' ', l.to_string()),
        })
        .collect()
}

fn utc(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
}

/// Starts just before each change in New York and Berlin (00:30 local on the
/// day), at a year's end, and before a leap day.
const STARTS: [&str; 7] = [
    "2026-03-08T05:30:00Z",
    "2026-11-01T04:30:00Z",
    "2026-03-28T23:30:00Z",
    "2026-10-24T22:30:00Z",
    "2026-12-31T12:00:00Z",
    "2028-02-27T00:00:00Z",
    "2026-06-15T09:41:00Z",
];
const ZONES: [&str; 3] = ["UTC", "America/New_York", "Europe/Berlin"];
/// Fires compared per start: four hours of an every-minute job, so that
/// the whole of each change is inside.
const COUNT: usize = 240;

#[test]
fn the_corpus_is_a_few_hundred_lines() {
    let c = corpus();
    assert!(c.len() >= 300, "{}", c.len());
    assert!(c.iter().filter(|(m, _)| *m == ' ').count() >= 250);
    assert!(c.iter().filter(|(m, _)| *m == '!').count() >= 30);
}

#[test]
fn every_valid_line_fires_when_the_reference_says() {
    let mut compared = 0;
    let mut failures = Vec::new();
    for (marker, line) in corpus() {
        if marker != ' ' {
            continue;
        }
        let r = reference(&line).unwrap_or_else(|| panic!("the reference rejects `{line}`"));
        for zone in ZONES {
            let tz: Tz = zone.parse().unwrap();
            let schedule = match CronSchedule::parse(&line, tz) {
                Ok(c) => Schedule::Cron(Box::new(c)),
                Err(e) => {
                    failures.push(format!("`{line}`: rejected: {e}"));
                    break;
                }
            };
            for start in STARTS {
                let after = utc(start);
                let until = after + TimeDelta::days(400);
                let want = r.fires(tz, after, until, COUNT);
                let got: Vec<_> = schedule
                    .upcoming(after, COUNT)
                    .into_iter()
                    .filter(|t| *t <= until)
                    .collect();
                compared += 1;
                if got != want {
                    let i = got
                        .iter()
                        .zip(&want)
                        .position(|(a, b)| a != b)
                        .unwrap_or(got.len().min(want.len()));
                    failures.push(format!(
                        "`{line}` in {zone} after {start}: fire {i}: schedule {:?}, reference {:?} ({} vs {} fires)",
                        got.get(i).map(|t| t.with_timezone(&tz).to_rfc3339()),
                        want.get(i).map(|t| t.with_timezone(&tz).to_rfc3339()),
                        got.len(),
                        want.len()
                    ));
                }
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {compared} differ:\n{}",
        failures.len(),
        failures.join("\n")
    );
    assert!(compared > 5000, "{compared}");
}

#[test]
fn lines_real_cron_rejects_are_rejected() {
    for (marker, line) in corpus() {
        if marker != '!' {
            continue;
        }
        assert!(reference(&line).is_none(), "the reference accepts `{line}`");
        match CronSchedule::parse(&line, Tz::UTC) {
            Ok(_) => panic!("schedule accepts `{line}`"),
            Err(e) => assert!(!e.message.is_empty(), "`{line}`"),
        }
    }
}

#[test]
fn wrapping_ranges_outside_day_of_week_are_rejected_with_the_split_range() {
    for (marker, line) in corpus() {
        if marker != 'x' {
            continue;
        }
        let e = CronSchedule::parse(&line, Tz::UTC).expect_err(&line);
        assert!(
            e.message.contains("wraps") && e.message.contains("write it as"),
            "`{line}`: {e}"
        );
    }
}

#[test]
fn extensions_are_accepted() {
    for (marker, line) in corpus() {
        if marker == '~' {
            let c = CronSchedule::parse(&line, Tz::UTC).unwrap_or_else(|e| panic!("`{line}`: {e}"));
            assert!(!c.never_fires(), "`{line}`");
        }
    }
}

/// The reference is only worth something if it can tell lines apart.
#[test]
fn the_reference_knows_the_day_rule_and_the_dst_rules() {
    let ny: Tz = "America/New_York".parse().unwrap();
    let after = utc("2026-11-01T00:00:00Z");
    let until = after + TimeDelta::days(40);
    // Both restricted: the 1st or a Monday.
    let either = reference("0 0 1 * MON")
        .unwrap()
        .fires(Tz::UTC, after, until, 3);
    assert_eq!(
        either,
        [
            utc("2026-11-02T00:00:00Z"),
            utc("2026-11-09T00:00:00Z"),
            utc("2026-11-16T00:00:00Z")
        ]
    );
    let both = reference("0 0 */2 * MON")
        .unwrap()
        .fires(Tz::UTC, after, until, 2);
    assert_eq!(
        both,
        [utc("2026-11-09T00:00:00Z"), utc("2026-11-23T00:00:00Z")]
    );
    // Fall back: 01:30 once for a fixed-time job, twice for a wildcard one.
    let fixed = reference("30 1 * * *")
        .unwrap()
        .fires(ny, after, utc("2026-11-01T12:00:00Z"), 5);
    assert_eq!(fixed, [utc("2026-11-01T05:30:00Z")]);
    let wild = reference("30 * * * *").unwrap().fires(
        ny,
        utc("2026-11-01T04:45:00Z"),
        utc("2026-11-01T07:00:00Z"),
        5,
    );
    assert_eq!(
        wild,
        [utc("2026-11-01T05:30:00Z"), utc("2026-11-01T06:30:00Z")]
    );
    // Spring forward: 02:30 runs at 03:00 EDT.
    let gap = reference("30 2 * * *").unwrap().fires(
        ny,
        utc("2026-03-08T00:00:00Z"),
        utc("2026-03-08T12:00:00Z"),
        5,
    );
    assert_eq!(gap, [utc("2026-03-08T07:00:00Z")]);
}
