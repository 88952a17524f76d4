//! A cron pattern in 40 bytes, and the search for its next wall-clock match.
//!
//! croner parses and validates the expressions, but its parsed form keeps a
//! 5,000-byte year table per expression (and filling it is most of the cost
//! of parsing): 10,000 jobs would hold 50 MB. We copy what croner parsed
//! into bit masks and search with them. The day rules are croner's own
//! (`L`, `W`, `LW`, `nL`, `n#k`, and how day-of-month and day-of-week
//! combine), so the two agree; a test checks that they do on many
//! expressions and instants.

use chrono::{Datelike, NaiveDate, NaiveDateTime, NaiveTime, Timelike, Weekday};
use croner::Cron;
use croner::CronComponent;

// croner's flags per field value (`croner::component`, not exported). The
// test below fails if they ever change.
const ALL_BIT: u8 = 1;
const NTH_1ST_BIT: u8 = 1 << 1;
const NTH_2ND_BIT: u8 = 1 << 2;
const NTH_3RD_BIT: u8 = 1 << 3;
const NTH_4TH_BIT: u8 = 1 << 4;
const NTH_5TH_BIT: u8 = 1 << 5;
const LAST_BIT: u8 = 1 << 6;
const CLOSEST_WEEKDAY_BIT: u8 = 1 << 7;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Pattern {
    seconds: u64,
    minutes: u64,
    hours: u32,
    /// Bit d for day d of the month (1-31).
    days: u32,
    /// `dW`: the weekday nearest day d.
    days_weekday: u32,
    /// Bit m for month m (1-12).
    months: u16,
    /// Bit w for weekday w (0 = Sunday).
    weekdays: u8,
    /// `wL`: the last such weekday of the month.
    weekdays_last: u8,
    /// `w#k`: the k-th such weekday, one mask per k.
    weekdays_nth: [u8; 5],
    /// `L` in the day-of-month field; with `W` anywhere in it, `LW`.
    last_day: bool,
    any_weekday_rule: bool,
    star_dom: bool,
    star_dow: bool,
    dom_and_dow: bool,
}

fn bits(component: &CronComponent, range: std::ops::RangeInclusive<u16>, bit: u8) -> u64 {
    range
        .filter(|&v| component.is_bit_set(v, bit).unwrap_or(false))
        .fold(0, |mask, v| mask | 1 << v)
}

impl Pattern {
    pub fn from_croner(cron: &Cron) -> Pattern {
        let p = &cron.pattern;
        let dow = |bit| {
            // croner turns 7 into 0 itself; fold it in case it did not.
            let mask = bits(&p.days_of_week, 0..=7, bit);
            ((mask | mask >> 7) & 0x7f) as u8
        };
        Pattern {
            seconds: bits(&p.seconds, 0..=59, ALL_BIT),
            minutes: bits(&p.minutes, 0..=59, ALL_BIT),
            hours: bits(&p.hours, 0..=23, ALL_BIT) as u32,
            days: bits(&p.days, 1..=31, ALL_BIT) as u32,
            days_weekday: bits(&p.days, 1..=31, CLOSEST_WEEKDAY_BIT) as u32,
            months: bits(&p.months, 1..=12, ALL_BIT) as u16,
            weekdays: dow(ALL_BIT),
            weekdays_last: dow(LAST_BIT),
            weekdays_nth: [
                dow(NTH_1ST_BIT),
                dow(NTH_2ND_BIT),
                dow(NTH_3RD_BIT),
                dow(NTH_4TH_BIT),
                dow(NTH_5TH_BIT),
            ],
            last_day: p.days.is_feature_enabled(LAST_BIT),
            any_weekday_rule: p.days.is_feature_enabled(CLOSEST_WEEKDAY_BIT),
            star_dom: p.is_dom_wildcard(),
            star_dow: p.is_dow_wildcard(),
            dom_and_dow: p.matches_dom_and_dow(),
        }
    }

    /// Whether the pattern's day fields match `date` (croner's rules).
    pub fn day_matches(&self, date: NaiveDate) -> bool {
        let day = date.day();
        let length = days_in_month(date);
        let weekday = date.weekday();
        let mut day_matches = self.days & (1 << day) != 0;
        if !day_matches && self.last_day {
            day_matches = if self.any_weekday_rule {
                let last = date.with_day(length).map_or(weekday, |d| d.weekday());
                day == last_weekday_of_month(length, last)
            } else {
                day == length
            };
        }
        if !day_matches && self.days_weekday != 0 {
            day_matches = self.closest_weekday(length, day, weekday);
        }
        let w = 1u8 << weekday.num_days_from_sunday();
        let nth = ((day - 1) / 7) as usize;
        let dow_matches = self.weekdays & w != 0
            || (nth < 5 && self.weekdays_nth[nth] & w != 0)
            || (self.weekdays_last & w != 0 && day + 7 > length);
        if (day_matches && self.star_dow) || (dow_matches && self.star_dom) {
            true
        } else if !self.star_dom && !self.star_dow {
            if self.dom_and_dow {
                day_matches && dow_matches
            } else {
                day_matches || dow_matches
            }
        } else {
            false
        }
    }

    /// A `dW` day of the pattern that resolves to `day`.
    fn closest_weekday(&self, length: u32, day: u32, weekday: Weekday) -> bool {
        let first = day.saturating_sub(2).max(1);
        let last = (day + 2).min(length);
        (first..=last)
            .filter(|d| self.days_weekday & (1 << d) != 0)
            .any(|d| {
                let target = match weekday_shift(weekday, d as i32 - day as i32) {
                    Weekday::Sat if d > 1 => d - 1,
                    Weekday::Sat => d + 2,
                    Weekday::Sun if d < length => d + 1,
                    Weekday::Sun => d - 2,
                    _ => d,
                };
                target == day
            })
    }

    /// The first wall-clock time strictly after `after` that matches, within
    /// the next 400 years (a whole Gregorian cycle: after that, never).
    pub fn next_after(&self, after: NaiveDateTime) -> Option<NaiveDateTime> {
        let start = after.with_nanosecond(0)? + chrono::TimeDelta::seconds(1);
        let mut date = start.date();
        let mut from = Some(start.time());
        let limit = date.year() + 400;
        while date.year() <= limit {
            if self.months & (1 << date.month()) == 0 {
                // Skip the rest of the month.
                date = first_of_next_month(date)?;
                from = None;
                continue;
            }
            if self.day_matches(date)
                && let Some(time) = self.time_from(from.unwrap_or(NaiveTime::MIN))
            {
                return Some(date.and_time(time));
            }
            date = date.succ_opt()?;
            from = None;
        }
        None
    }

    /// The first matching time of day at or after `from`.
    fn time_from(&self, from: NaiveTime) -> Option<NaiveTime> {
        let (h0, m0, s0) = (from.hour(), from.minute(), from.second());
        let mut h = next_bit(u64::from(self.hours), h0)?;
        loop {
            let mut m = next_bit(self.minutes, if h == h0 { m0 } else { 0 });
            while let Some(minute) = m {
                let s_from = if h == h0 && minute == m0 { s0 } else { 0 };
                if let Some(s) = next_bit(self.seconds, s_from) {
                    return NaiveTime::from_hms_opt(h, minute, s);
                }
                m = next_bit(self.minutes, minute + 1);
            }
            h = next_bit(u64::from(self.hours), h + 1)?;
        }
    }
}

/// The lowest set bit at or above `from`.
fn next_bit(mask: u64, from: u32) -> Option<u32> {
    if from >= 64 {
        return None;
    }
    let rest = mask >> from;
    (rest != 0).then(|| from + rest.trailing_zeros())
}

fn days_in_month(date: NaiveDate) -> u32 {
    let first = date.with_day(1).expect("every month has a first");
    let next = first_of_next_month(first).expect("within chrono's range");
    (next - first).num_days() as u32
}

fn first_of_next_month(date: NaiveDate) -> Option<NaiveDate> {
    let (y, m) = if date.month() == 12 {
        (date.year() + 1, 1)
    } else {
        (date.year(), date.month() + 1)
    };
    NaiveDate::from_ymd_opt(y, m, 1)
}

fn weekday_shift(weekday: Weekday, days: i32) -> Weekday {
    let n = (weekday.num_days_from_monday() as i32 + days).rem_euclid(7);
    Weekday::try_from(n as u8).expect("0..7 is a weekday")
}

fn last_weekday_of_month(length: u32, last: Weekday) -> u32 {
    match last {
        Weekday::Sat => length - 1,
        Weekday::Sun => length - 2,
        _ => length,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use croner::parser::{CronParser, Seconds, Year};

    fn croner(expr: &str) -> Cron {
        CronParser::builder()
            .seconds(Seconds::Required)
            .year(Year::Disallowed)
            .build()
            .parse(expr)
            .unwrap()
    }

    /// Agrees with croner's own search on expressions that use every rule,
    /// from instants across several years.
    #[test]
    fn the_next_match_is_croner_s() {
        let exprs = [
            "0 0 0 * * *",
            "0 */7 * * * *",
            "*/13 5-10 1,13 * * *",
            "0 30 2 * * *",
            "0 0 0 1 * MON",
            "0 0 0 1 * +MON",
            "0 0 12 */2 * *",
            "0 0 12 * * +*/2",
            "0 15 10 L * *",
            "0 15 10 LW * *",
            "0 15 10 15W * *",
            "0 15 10 1W,31W * *",
            "0 0 9 * * 5L",
            "0 0 9 * * 1#2",
            "0 0 9 * * 0#5,SAT#1",
            "0 0 0 29 2 *",
            "0 0 0 31 * *",
            "30 45 23 * DEC SUN",
            "0 0 0 * * 7",
            "0 0 6-18/4 * JAN-MAR,OCT MON-FRI",
        ];
        let mut starts = Vec::new();
        let mut t = NaiveDate::from_ymd_opt(2023, 12, 30)
            .unwrap()
            .and_hms_opt(23, 59, 59)
            .unwrap();
        while t.year() < 2029 {
            starts.push(t);
            t += chrono::TimeDelta::seconds(86_400 * 9 + 3_607 * 5 + 13);
        }
        for expr in exprs {
            let cron = croner(expr);
            let pattern = Pattern::from_croner(&cron);
            for &start in &starts {
                let mut a = start;
                let mut b = start;
                for _ in 0..4 {
                    let want = cron.find_next_occurrence(&a, false).ok();
                    let got = pattern.next_after(b);
                    assert_eq!(got, want, "{expr} after {b}");
                    let Some(next) = got else { break };
                    a = next;
                    b = next;
                }
            }
        }
    }

    #[test]
    fn a_pattern_is_small() {
        assert!(std::mem::size_of::<Pattern>() <= 48);
    }
}
