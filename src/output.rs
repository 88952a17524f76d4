//! Tables, times and JSON for people and scripts, from plain data: pure
//! functions, so that what the commands print is tested without a clock.

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use serde::Serialize;
use std::time::Duration;
use tabled::builder::Builder;
use tabled::settings::Style;

use crate::duration;

/// A table with a header row and no borders, like `systemctl list-timers`.
pub fn table<const N: usize>(
    header: [&str; N],
    rows: impl IntoIterator<Item = [String; N]>,
) -> String {
    let mut builder = Builder::default();
    builder.push_record(header);
    for row in rows {
        builder.push_record(row);
    }
    let mut table = builder.build();
    table.with(Style::blank());
    // tabled pads the last column too; trailing blanks help nobody.
    table
        .to_string()
        .lines()
        .map(str::trim_end)
        .collect::<Vec<_>>()
        .join("\n")
}

/// `2026-11-21 14:00:00 CET`: the wall clock of a zone, with its abbreviation.
pub fn local_time(t: DateTime<Utc>, tz: Tz) -> String {
    t.with_timezone(&tz)
        .format("%Y-%m-%d %H:%M:%S %Z")
        .to_string()
}

/// `2026-11-21 13:00:00`: UTC, for columns whose header says so.
pub fn utc_time(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%d %H:%M:%S").to_string()
}

/// `in 3m 04s`, `42s ago`, `now`.
pub fn relative(t: DateTime<Utc>, now: DateTime<Utc>) -> String {
    let delta = t - now;
    let ms = delta.num_milliseconds();
    if ms.abs() < 1000 {
        return "now".into();
    }
    let d = Duration::from_millis(ms.unsigned_abs());
    let text = if d.as_secs() < 60 {
        format!("{}s", d.as_secs())
    } else {
        duration::human(d)
    };
    if ms > 0 {
        format!("in {text}")
    } else {
        format!("{text} ago")
    }
}

/// Cuts `text` to `width` characters, ending in `…` when cut.
pub fn ellipsize(text: &str, width: usize) -> String {
    if text.chars().count() <= width {
        return text.to_string();
    }
    let mut out: String = text.chars().take(width.saturating_sub(1)).collect();
    out.push('…');
    out
}

/// Pretty JSON with a trailing newline.
pub fn json<T: Serialize + ?Sized>(value: &T) -> String {
    let mut s = serde_json::to_string_pretty(value).unwrap_or_else(|_| "null".into());
    s.push('\n');
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn at(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    #[test]
    fn relative_forms() {
        let now = at("2026-11-21T12:00:00Z");
        assert_eq!(relative(at("2026-11-21T12:03:12Z"), now), "in 3m 12s");
        assert_eq!(relative(at("2026-11-21T11:59:18Z"), now), "42s ago");
        assert_eq!(relative(at("2026-11-21T12:00:00.400Z"), now), "now");
        assert_eq!(relative(at("2026-11-21T14:05:00Z"), now), "in 2h 05m");
        assert_eq!(relative(at("2026-11-18T10:00:00Z"), now), "3d 2h ago");
    }

    #[test]
    fn local_time_uses_the_zone_abbreviation() {
        let t = Utc.with_ymd_and_hms(2026, 11, 21, 13, 0, 0).unwrap();
        assert_eq!(
            local_time(t, chrono_tz::Europe::Berlin),
            "2026-11-21 14:00:00 CET"
        );
        assert_eq!(local_time(t, Tz::UTC), "2026-11-21 13:00:00 UTC");
    }

    #[test]
    fn tables_align_columns_without_trailing_blanks() {
        let t = table(
            ["NAME", "NEXT"],
            [
                ["a".to_string(), "in 1s".to_string()],
                ["long-name".to_string(), "-".to_string()],
            ],
        );
        let lines: Vec<&str> = t.lines().collect();
        assert_eq!(lines.len(), 3);
        assert!(lines.iter().all(|l| !l.ends_with(' ')));
        let col = lines[0].find("NEXT").unwrap();
        assert_eq!(lines[1].find("in 1s"), Some(col));
    }

    #[test]
    fn ellipsize_cuts_long_text() {
        assert_eq!(ellipsize("short", 10), "short");
        assert_eq!(ellipsize("a long line of text", 8), "a long …");
    }
}
