//! Schedule math, with no I/O: parse a `cron` expression or an `every`
//! interval, and find the next fire instant after a given instant.
//!
//! croner does the field parsing and the wall-clock search. This module adds
//! what cron(5) and cron(8) users expect and croner does differently:
//!
//! - **The day rule.** cron(5) ANDs day-of-month with day-of-week when either
//!   field *starts with* `*` (so `*/2` counts); croner only when a field *is*
//!   `*`. We force croner's AND mode (`+` on the weekday field) in that case.
//! - **Daylight saving.** cron(8) calls a job fixed-time unless its minute or
//!   hour field starts with `*`. A fixed-time job whose wall-clock time is
//!   skipped by a forward jump runs once, at the first instant after the
//!   jump; in a repeated hour it runs only on the first pass. croner calls a
//!   job fixed-time only when second, minute and hour are single values, so
//!   `15 1-3 * * *` would run twice at fall-back. For fixed-time jobs we walk
//!   the naive wall clock with croner and resolve each match to an instant
//!   ourselves; wildcard jobs use croner's zoned search, which already
//!   follows the wall clock of each real instant.
//! - **Field-level errors.** croner's messages do not say which field is
//!   wrong; we parse each field on its own to find out.
//! - **Size.** croner's parsed form holds a 5,000-entry year table; we keep
//!   what it parsed as bit masks (`pattern.rs`) and search with those.

use chrono::{DateTime, LocalResult, NaiveDateTime, Offset, TimeDelta, TimeZone, Timelike, Utc};
use chrono_tz::Tz;
use croner::parser::{CronParser, Seconds, Year};
use pattern::Pattern;

mod pattern;
mod syntax;
use std::fmt;
use std::time::Duration;

/// When a job fires.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Schedule {
    Cron(Box<CronSchedule>),
    Every(Every),
}

impl Schedule {
    /// The first fire instant strictly after `after`, or `None` when there is
    /// none (only for expressions that can never fire).
    pub fn next_after(&self, after: DateTime<Utc>) -> Option<DateTime<Utc>> {
        match self {
            Schedule::Cron(c) => c.next_after(after),
            Schedule::Every(e) => e.next_after(after),
        }
    }

    /// The next fire after `after`: after the fire `after` names, or, for a
    /// plain instant (`slot: None`), strictly after it. Several fires can
    /// share an instant (a fixed-time job's local times that a
    /// daylight-saving jump skips all run at the end of the jump, as in
    /// cron(8)); they are told apart by their slot.
    pub fn next_fire(&self, after: DateTime<Utc>, slot: Option<u32>) -> Option<FirePoint> {
        match self {
            Schedule::Cron(c) => c.next_fire(after, slot),
            Schedule::Every(e) => e.next_after(after).map(FirePoint::at),
        }
    }

    /// The next `count` fires after `after`, each skipped local time its own.
    pub fn upcoming_fires(&self, after: DateTime<Utc>, count: usize) -> Vec<FirePoint> {
        match self {
            Schedule::Cron(c) => c.upcoming_points(after, count),
            Schedule::Every(_) => self
                .upcoming(after, count)
                .into_iter()
                .map(FirePoint::at)
                .collect(),
        }
    }

    /// The next `count` fire instants after `after`.
    pub fn upcoming(&self, after: DateTime<Utc>, count: usize) -> Vec<DateTime<Utc>> {
        let mut out = Vec::with_capacity(count.min(1024));
        let mut t = after;
        while out.len() < count {
            match self.next_after(t) {
                Some(next) => {
                    out.push(next);
                    t = next;
                }
                None => break,
            }
        }
        out
    }
}

impl fmt::Display for Schedule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Schedule::Cron(c) => f.write_str(&c.text),
            Schedule::Every(e) => write!(f, "every {}", crate::duration::format(e.interval)),
        }
    }
}

/// A fixed interval: the fire instants are the multiples of it since the
/// Unix epoch, so every process computes the same instants.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Every {
    pub interval: Duration,
}

impl Every {
    /// The longest interval we accept: a hundred years.
    pub const MAX: Duration = Duration::from_secs(100 * 365 * 86_400);

    pub fn new(interval: Duration) -> Result<Every, String> {
        if interval.is_zero() {
            return Err("the interval must be positive".into());
        }
        if interval > Every::MAX {
            return Err("the interval is longer than 100 years; use a cron expression".into());
        }
        Ok(Every { interval })
    }

    /// `None` only past the end of time as chrono knows it.
    pub fn next_after(&self, after: DateTime<Utc>) -> Option<DateTime<Utc>> {
        let step = self.interval.as_millis() as i64;
        let t = after.timestamp_millis();
        let next = t.div_euclid(step).checked_add(1)?.checked_mul(step)?;
        DateTime::from_timestamp_millis(next)
    }
}

impl Schedule {
    /// The schedule in words, for the common forms (`every 5 minutes`,
    /// `at 09:00 on Mon-Fri`, `at minute 30 of every hour`); `None` for what
    /// words would only blur.
    pub fn in_words(&self) -> Option<String> {
        match self {
            Schedule::Every(e) => Some(format!("every {}", crate::duration::human(e.interval))),
            Schedule::Cron(c) => words(&c.fields()),
        }
    }
}

/// Words for cron fields (second, minute, hour, day of month, month, day of
/// week), as written.
fn words(f: &[String; 6]) -> Option<String> {
    let num = |s: &str| s.parse::<u32>().ok();
    let step = |s: &str| s.strip_prefix("*/").and_then(num);
    let plural = |n: u32, one: &str| {
        if n == 1 {
            one.to_string()
        } else {
            format!("{n} {one}s")
        }
    };
    let [sec, min, hour, dom, month, dow] = f;
    let days = match (dom.as_str(), month.as_str(), dow.as_str()) {
        ("*", "*", "*") => String::new(),
        ("*", "*", d) => format!(" on {}", weekdays(d)?),
        (d, "*", "*") => format!(" on day {d} of the month"),
        (d, m, "*") if num(d).is_some() => {
            const MONTHS: [&str; 12] = [
                "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
            ];
            let month = MONTHS.get((num(m)? as usize).checked_sub(1)?)?;
            format!(" on {d} {month}")
        }
        _ => return None,
    };
    let every = |what: &str| format!("every {what}{days}");
    let text = match (sec.as_str(), min.as_str(), hour.as_str()) {
        ("*", "*", "*") => every("second"),
        (s, "*", "*") if step(s).is_some() => every(&plural(step(s)?, "second")),
        ("0", "*", "*") => every("minute"),
        ("0", m, "*") if step(m).is_some() => every(&plural(step(m)?, "minute")),
        ("0", m, "*") if num(m).is_some() => format!("at minute {m} of every hour{days}"),
        ("0", m, h) if num(m).is_some() && step(h).is_some() => {
            format!("at minute {m} of every {}{days}", plural(step(h)?, "hour"))
        }
        ("0", m, h) if num(m).is_some() && num(h).is_some() => {
            format!("at {:02}:{:02}{days}", num(h)?, num(m)?)
        }
        _ => return None,
    };
    Some(text)
}

/// `1-5` → `Mon-Fri`, `SAT,SUN` → `Sat, Sun`.
fn weekdays(field: &str) -> Option<String> {
    const NAMES: [&str; 8] = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];
    let day = |s: &str| -> Option<&'static str> {
        match s.parse::<usize>() {
            Ok(n) => NAMES.get(n).copied(),
            Err(_) => NAMES.iter().find(|n| n.eq_ignore_ascii_case(s)).copied(),
        }
    };
    let parts: Option<Vec<String>> = field
        .split(',')
        .map(|part| match part.split_once('-') {
            Some((a, b)) => Some(format!("{}-{}", day(a)?, day(b)?)),
            None => day(part).map(str::to_string),
        })
        .collect();
    Some(parts?.join(", "))
}

/// One fire of a schedule: its instant, its slot among the fires of that
/// instant (0 but for the local times a daylight-saving jump skipped), and
/// the local time it stands for when that is not the instant's own.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FirePoint {
    pub at: DateTime<Utc>,
    pub slot: u32,
    /// The skipped local time this fire is the catch-up of.
    pub nominal: Option<NaiveDateTime>,
}

impl FirePoint {
    pub fn at(at: DateTime<Utc>) -> FirePoint {
        FirePoint {
            at,
            slot: 0,
            nominal: None,
        }
    }
}

/// A parsed cron expression bound to its time zone.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CronSchedule {
    /// The expression as the user wrote it, for display.
    text: Box<str>,
    pattern: Pattern,
    tz: Tz,
    fixed_time: bool,
}

/// Why a cron expression was rejected.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CronError {
    /// The field at fault, when one can be named (`minute`, `day-of-week`, ...).
    pub field: Option<&'static str>,
    pub message: String,
    /// The bytes at fault in the text given to [`CronSchedule::parse`], when
    /// they are narrower than the whole line (a `,`, a list item).
    pub span: Option<std::ops::Range<usize>>,
}

impl fmt::Display for CronError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.field {
            Some(field) => write!(f, "{field} field: {}", self.message),
            None => f.write_str(&self.message),
        }
    }
}

const MACROS: &[(&str, &str)] = &[
    ("@yearly", "0 0 1 1 *"),
    ("@annually", "0 0 1 1 *"),
    ("@monthly", "0 0 1 * *"),
    ("@weekly", "0 0 * * 0"),
    ("@daily", "0 0 * * *"),
    ("@midnight", "0 0 * * *"),
    ("@hourly", "0 * * * *"),
];

/// Field names and valid values in the 6-field order we hand to croner.
const FIELDS: [(&str, &str); 6] = [
    ("second", "0-59"),
    ("minute", "0-59"),
    ("hour", "0-23"),
    (
        "day-of-month",
        "1-31, L (the last day), nW (the weekday nearest day n)",
    ),
    ("month", "1-12 or JAN-DEC"),
    (
        "day-of-week",
        "0-7 (0 and 7 are Sunday) or SUN-SAT, nL (the last such day), n#k (the k-th)",
    ),
];

const MONTH_NAMES: &[&str] = &[
    "JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC",
];
const DAY_NAMES: &[&str] = &["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"];

impl CronSchedule {
    pub fn parse(text: &str, tz: Tz) -> Result<CronSchedule, CronError> {
        let trimmed = text.trim();
        let lead = text.len() - text.trim_start().len();
        let written = syntax::check(trimmed).map_err(|mut e| {
            e.span = e.span.map(|r| r.start + lead..r.end + lead);
            e
        })?;
        let mut fields = split_fields(&written)?;
        for (i, field) in fields.iter().enumerate() {
            check_names(i, field)?;
        }

        let starts_wild = |f: &str| f.starts_with('*') || f.starts_with('?');
        // cron(8): fixed-time unless the minute or hour field starts with `*`.
        let fixed_time = !starts_wild(&fields[1]) && !starts_wild(&fields[2]);
        // cron(5): a day must match both fields when either starts with `*`.
        if (starts_wild(&fields[3]) || starts_wild(&fields[5])) && !fields[5].starts_with('+') {
            fields[5].insert(0, '+');
        }

        // A single year: croner fills a table entry for each year a field
        // allows, and we keep no years anyway.
        let parser = CronParser::builder()
            .seconds(Seconds::Required)
            .year(Year::Required)
            .build();
        let parse = |fields: &[&str]| parser.parse(&format!("{} 2000", fields.join(" ")));
        let all: Vec<&str> = fields.iter().map(String::as_str).collect();
        let cron = parse(&all).map_err(|whole| {
            // Find the field at fault by parsing each one among neutral others.
            for i in 0..6 {
                let mut probe: [&str; 6] = ["0", "0", "0", "*", "*", "*"];
                probe[i] = fields[i].trim_start_matches('+');
                if let Err(e) = parse(&probe) {
                    let (name, valid) = FIELDS[i];
                    return CronError {
                        field: Some(name),
                        message: format!(
                            "`{}` is not valid ({}); valid values: {valid}, with `*`, lists \
                             `a,b`, ranges `a-b` and steps `/n`",
                            fields[i].trim_start_matches('+'),
                            croner_reason(&e)
                        ),
                        span: None,
                    };
                }
            }
            CronError {
                field: None,
                message: croner_reason(&whole),
                span: None,
            }
        })?;

        // An expression that matches no real day (`0 0 30 2 *`) is kept:
        // cron installs it and never runs it; `check` warns.
        Ok(CronSchedule {
            text: Box::from(trimmed),
            pattern: Pattern::from_croner(&cron),
            tz,
            fixed_time,
        })
    }

    /// The zone whose wall clock the expression reads.
    pub fn timezone(&self) -> Tz {
        self.tz
    }

    /// The six fields as written: second, minute, hour, day-of-month, month,
    /// day-of-week.
    pub fn fields(&self) -> [String; 6] {
        split_fields(&self.text).expect("split when parsed")
    }

    /// The wall-clock times a fixed-time job is due at in the `days` after
    /// `from` that its zone skips or repeats, with the instant it runs at.
    /// Empty for wildcard jobs, which follow real instants.
    pub fn dst_surprises(&self, from: DateTime<Utc>, days: i64) -> Vec<DstSurprise> {
        let mut out = Vec::new();
        if !self.fixed_time {
            return out;
        }
        let mut wall = from.with_timezone(&self.tz).naive_local();
        let until = wall + TimeDelta::days(days);
        for _ in 0..100_000 {
            let Some(next) = self.pattern.next_after(wall) else {
                break;
            };
            if next > until {
                break;
            }
            wall = next;
            let surprise = match self.tz.from_local_datetime(&wall) {
                LocalResult::Single(_) => continue,
                LocalResult::Ambiguous(first, _) => DstSurprise {
                    wall,
                    skipped: false,
                    runs_at: first.with_timezone(&Utc),
                },
                LocalResult::None => match first_after_gap(self.tz, wall) {
                    Some(t) => DstSurprise {
                        wall,
                        skipped: true,
                        runs_at: t.with_timezone(&Utc),
                    },
                    None => continue,
                },
            };
            out.push(surprise);
        }
        out
    }

    /// Each wall-clock time of a fixed-time job in the `days` after `from`
    /// that a forward jump skips, with the instant after the jump. cron(8)
    /// runs one catch-up per skipped time (`0,30 2 * * *` runs twice at
    /// 03:00 in New York on 2026-03-08); the engine does not use this yet: it
    /// runs the job once at the jump. Empty for wildcard jobs.
    pub fn skipped_by_gaps(&self, from: DateTime<Utc>, days: i64) -> Vec<DstSurprise> {
        self.dst_surprises(from, days)
            .into_iter()
            .filter(|s| s.skipped)
            .collect()
    }

    /// Whether no date matches the day and month fields (`0 0 30 2 *`).
    /// cron installs such a line and never runs it, and so do we.
    pub fn never_fires(&self) -> bool {
        // The pattern searches a whole 400-year Gregorian cycle.
        self.pattern
            .next_after(DateTime::UNIX_EPOCH.naive_utc())
            .is_none()
    }

    /// Whether cron(8)'s daylight-saving rules treat the job as fixed-time.
    pub fn is_fixed_time(&self) -> bool {
        self.fixed_time
    }

    /// See [`Schedule::next_fire`].
    pub fn next_fire(&self, after: DateTime<Utc>, slot: Option<u32>) -> Option<FirePoint> {
        if !self.fixed_time {
            return self.next_wildcard_after(after).map(FirePoint::at);
        }
        if let Some(slot) = slot {
            let walls = self.walls_at(after);
            if let Some(&wall) = walls.get(slot as usize + 1) {
                return Some(self.point(after, slot + 1, wall));
            }
        }
        let at = self.next_fixed_after(after)?;
        let wall = self.walls_at(at).first().copied()?;
        Some(self.point(at, 0, wall))
    }

    /// The next `count` fires after `after` (see [`Schedule::upcoming_fires`]).
    pub fn upcoming_points(&self, after: DateTime<Utc>, count: usize) -> Vec<FirePoint> {
        let mut out: Vec<FirePoint> = Vec::with_capacity(count.min(1024));
        let mut cursor = (after, None);
        while out.len() < count {
            let Some(next) = self.next_fire(cursor.0, cursor.1) else {
                break;
            };
            cursor = (next.at, Some(next.slot));
            out.push(next);
        }
        out
    }

    fn point(&self, at: DateTime<Utc>, slot: u32, wall: NaiveDateTime) -> FirePoint {
        let own = at.with_timezone(&self.tz).naive_local();
        FirePoint {
            at,
            slot,
            nominal: (wall != own).then_some(wall),
        }
    }

    /// The matching local times a fixed-time job runs at instant `at`, in
    /// order: the instant's own time, or the times a jump skipped just
    /// before it (and its own, if it matches too).
    fn walls_at(&self, at: DateTime<Utc>) -> Vec<NaiveDateTime> {
        let own = at.with_timezone(&self.tz).naive_local();
        let before = (at - TimeDelta::seconds(1))
            .with_timezone(&self.tz)
            .naive_local();
        let mut walls = Vec::new();
        let mut wall = before;
        // A gap is at most a day (Samoa, 2011): bounded.
        for _ in 0..100_000 {
            let Some(w) = self.pattern.next_after(wall) else {
                break;
            };
            if w > own {
                break;
            }
            let instant = match self.tz.from_local_datetime(&w) {
                LocalResult::Single(t) | LocalResult::Ambiguous(t, _) => Some(t),
                LocalResult::None => first_after_gap(self.tz, w),
            };
            if instant.map(|t| t.with_timezone(&Utc)) == Some(at) {
                walls.push(w);
            }
            wall = w;
        }
        walls
    }

    pub fn next_after(&self, after: DateTime<Utc>) -> Option<DateTime<Utc>> {
        if self.fixed_time {
            self.next_fixed_after(after)
        } else {
            self.next_wildcard_after(after)
        }
    }

    /// Wildcard jobs run at every real instant whose wall-clock time
    /// matches: both passes of a repeated time, none in a gap.
    fn next_wildcard_after(&self, after: DateTime<Utc>) -> Option<DateTime<Utc>> {
        let earliest = |wall: NaiveDateTime| {
            match self.tz.from_local_datetime(&wall) {
                LocalResult::Single(t) => Some(t).filter(|t| *t > after),
                LocalResult::Ambiguous(a, b) => [a, b].into_iter().find(|t| *t > after),
                LocalResult::None => None,
            }
            .map(|t| t.with_timezone(&Utc))
        };
        let wall_after = after.with_timezone(&self.tz).naive_local();
        let mut wall = wall_after;
        let mut next = None;
        // Ordinary times return at once; only gaps are stepped over.
        for _ in 0..10_000 {
            wall = self.pattern.next_after(wall)?;
            next = earliest(wall);
            if next.is_some() {
                break;
            }
        }
        let next = next?;
        // The clocks went back in between: the wall times just before
        // `after`'s come again, and their second pass may come sooner.
        let offset = |t: DateTime<Utc>| {
            TimeDelta::seconds(i64::from(
                t.with_timezone(&self.tz).offset().fix().local_minus_utc(),
            ))
        };
        let jump = offset(after) - offset(next);
        if jump <= TimeDelta::zero() {
            return Some(next);
        }
        let mut best = next;
        let mut wall = wall_after - jump;
        while let Some(w) = self.pattern.next_after(wall) {
            if w > wall_after {
                break;
            }
            if let Some(t) = earliest(w) {
                best = best.min(t);
                break; // wall order is instant order within one pass
            }
            wall = w;
        }
        Some(best)
    }

    /// Walks the wall clock and maps each matching wall time to one instant:
    /// itself, the first pass of a repeated time, or the end of a gap.
    fn next_fixed_after(&self, after: DateTime<Utc>) -> Option<DateTime<Utc>> {
        let mut wall = after.with_timezone(&self.tz).naive_local();
        // A repeated hour can hold up to 3600 matches that all map to instants
        // before `after` (when `after` is on the second pass); gaps and
        // ordinary times return at once.
        for _ in 0..10_000 {
            wall = self.pattern.next_after(wall)?;
            let instant = match self.tz.from_local_datetime(&wall) {
                LocalResult::Single(t) => t,
                LocalResult::Ambiguous(first, _) => first,
                LocalResult::None => first_after_gap(self.tz, wall)?,
            };
            let instant = instant.with_timezone(&Utc);
            if instant > after {
                return Some(instant);
            }
        }
        None
    }
}

/// Second, minute, hour, day-of-month, month, day-of-week, as written
/// (macros expanded, a missing seconds field as `0`). Not kept with the
/// schedule: only `check` asks for them again.
fn split_fields(trimmed: &str) -> Result<[String; 6], CronError> {
    let expanded = if trimmed.starts_with('@') {
        let lower = trimmed.to_ascii_lowercase();
        match MACROS.iter().find(|(name, _)| *name == lower) {
            Some((_, fields)) => *fields,
            None if lower == "@reboot" => {
                return Err(CronError {
                    field: None,
                    message: "`@reboot` is not a schedule here; give the job a schedule and \
                                  set `run_on_start = true`"
                        .into(),

                    span: None,
                });
            }
            None => {
                let names: Vec<&str> = MACROS.iter().map(|(n, _)| *n).collect();
                return Err(CronError {
                    field: None,
                    message: format!("unknown macro `{trimmed}`; valid: {}", names.join(" ")),
                    span: None,
                });
            }
        }
    } else {
        trimmed
    };
    let given: Vec<&str> = expanded.split_whitespace().collect();
    let fields: [String; 6] = match given.len() {
        5 => std::array::from_fn(|i| {
            if i == 0 {
                "0".into()
            } else {
                given[i - 1].into()
            }
        }),
        6 => std::array::from_fn(|i| given[i].into()),
        n => {
            return Err(CronError {
                field: None,
                message: format!(
                    "expected 5 fields (minute hour day-of-month month day-of-week) or 6 \
                         with a leading seconds field, found {n}"
                ),
                span: None,
            });
        }
    };
    Ok(fields)
}

/// A wall-clock time of a fixed-time job that its zone skips or repeats.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DstSurprise {
    pub wall: NaiveDateTime,
    /// Skipped by a forward jump (else repeated by a backward one).
    pub skipped: bool,
    /// When the job runs instead: after the jump, or on the first pass.
    pub runs_at: DateTime<Utc>,
}

/// The first real instant after a wall-clock time that a forward jump skipped:
/// the instant of the jump. Real zones jump on whole minutes.
fn first_after_gap(tz: Tz, wall: NaiveDateTime) -> Option<DateTime<Tz>> {
    let mut probe = wall.with_second(0)?.with_nanosecond(0)? + TimeDelta::minutes(1);
    // Real gaps are an hour or less; Samoa skipped a whole day in 2011.
    let limit = wall + TimeDelta::days(3);
    while probe < limit {
        match tz.from_local_datetime(&probe) {
            LocalResult::Single(t) | LocalResult::Ambiguous(t, _) => return Some(t),
            LocalResult::None => probe += TimeDelta::minutes(1),
        }
    }
    None
}

/// Letters are only valid as month names, weekday names and `L`/`W`; croner
/// would otherwise read `MON` in the month field as January.
fn check_names(index: usize, field: &str) -> Result<(), CronError> {
    let upper = field.to_ascii_uppercase();
    for word in upper
        .split(|c: char| !c.is_ascii_alphabetic())
        .filter(|w| !w.is_empty())
    {
        let ok = match index {
            3 => matches!(word, "L" | "W" | "LW"),
            4 => MONTH_NAMES.contains(&word),
            5 => DAY_NAMES.contains(&word) || word == "L",
            _ => false,
        };
        if !ok {
            let (name, valid) = FIELDS[index];
            return Err(CronError {
                field: Some(name),
                message: format!(
                    "`{field}` is not valid (`{word}` is not allowed here); valid values: {valid}"
                ),
                span: None,
            });
        }
    }
    Ok(())
}

fn croner_reason(e: &croner::errors::CronError) -> String {
    use croner::errors::CronError as E;
    match e {
        E::InvalidPattern(m) | E::IllegalCharacters(m) | E::ComponentError(m) => {
            m.trim_end_matches('.').to_string()
        }
        other => other.to_string().trim_end_matches('.').to_string(),
    }
}

#[cfg(test)]
mod tests;
