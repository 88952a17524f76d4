//! Tables, times and JSON for people and scripts, from plain data: pure
//! functions, so that what the commands print is tested without a clock.

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use serde::Serialize;
use std::io::IsTerminal;
use std::time::Duration;

use crate::domain::Status;
use crate::duration;

/// How output looks: decided once per command from the flags, the
/// environment and whether stdout is a terminal.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Look {
    /// ANSI colours for statuses.
    pub color: bool,
    /// Cut tables to this many columns.
    pub width: Option<usize>,
    /// Show times in UTC instead of each job's zone.
    pub utc: bool,
}

/// `--color`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum ColorChoice {
    /// When stdout is a terminal and `NO_COLOR` is not set.
    #[default]
    Auto,
    Always,
    Never,
}

impl Look {
    pub fn detect(color: ColorChoice, utc: bool) -> Look {
        let terminal = std::io::stdout().is_terminal();
        let color = match color {
            ColorChoice::Always => true,
            ColorChoice::Never => false,
            ColorChoice::Auto => {
                terminal && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
            }
        };
        let width = terminal
            .then(terminal_size::terminal_size)
            .flatten()
            .map(|(w, _)| usize::from(w.0));
        Look { color, width, utc }
    }

    /// The status word, coloured when colour is on.
    pub fn status(&self, status: Status) -> String {
        let code = match status {
            Status::Succeeded => "32",
            Status::Failed | Status::Interrupted => "31",
            Status::TimedOut => "35",
            Status::Cancelled | Status::Missed => "33",
            Status::Running => "36",
            Status::Skipped => "2",
        };
        self.paint(code, status.as_str())
    }

    /// `text` in the SGR colour `code` when colour is on.
    pub fn paint(&self, code: &str, text: &str) -> String {
        if self.color {
            format!("\x1b[{code}m{text}\x1b[0m")
        } else {
            text.to_string()
        }
    }
}

/// A table with a header row and no borders, like `systemctl list-timers`,
/// cut to `width` columns when given (the last column gives way first,
/// with an ellipsis) rather than wrapped.
pub fn table<const N: usize>(
    header: [&str; N],
    rows: impl IntoIterator<Item = [String; N]>,
    width: Option<usize>,
) -> String {
    let mut rows: Vec<[String; N]> = rows.into_iter().collect();
    let header: [String; N] = header.map(String::from);
    let mut widths = [0; N];
    for row in std::iter::once(&header).chain(&rows) {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(visible_width(cell));
        }
    }
    // Each cell is padded by a blank on either side, and cells are parted
    // by one more; the last one's right padding is trimmed.
    let total = |widths: &[usize; N]| widths.iter().map(|w| w + 3).sum::<usize>() - 2;
    if let Some(width) = width
        && N > 0
        && total(&widths) > width
    {
        // The last column (a note, a command, a time) gives way first, to
        // no less than 12; then the widest column, one at a time.
        let excess = total(&widths) - width;
        widths[N - 1] = widths[N - 1]
            .saturating_sub(excess)
            .max(12.min(widths[N - 1]));
        while total(&widths) > width {
            let widest = (0..N).max_by_key(|&i| (widths[i], i)).unwrap_or(0);
            if widths[widest] <= 1 {
                break;
            }
            widths[widest] -= 1;
        }
        for row in &mut rows {
            for (cell, &w) in row.iter_mut().zip(&widths) {
                if visible_width(cell) > w {
                    *cell = ellipsize(cell, w);
                }
            }
        }
    }
    let mut out = String::new();
    for row in std::iter::once(&header).chain(&rows) {
        let mut line = String::new();
        for (i, (cell, &w)) in row.iter().zip(&widths).enumerate() {
            if i > 0 {
                line.push(' ');
            }
            line.push(' ');
            line.push_str(cell);
            let pad = w.saturating_sub(visible_width(cell)) + 1;
            line.extend(std::iter::repeat_n(' ', pad));
        }
        // Trailing blanks help nobody.
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out.pop();
    out
}

/// Columns a string takes on a terminal: characters, less colour codes.
fn visible_width(s: &str) -> usize {
    let mut width = 0;
    let mut in_escape = false;
    for c in s.chars() {
        match (in_escape, c) {
            (false, '\x1b') => in_escape = true,
            (true, 'm') => in_escape = false,
            (true, _) => {}
            (false, _) => width += 1,
        }
    }
    width
}

/// `2026-11-21 14:00:00 CET`: the wall clock of a zone, with its abbreviation.
pub fn local_time(t: DateTime<Utc>, tz: Tz) -> String {
    t.with_timezone(&tz)
        .format("%Y-%m-%d %H:%M:%S %Z")
        .to_string()
}

/// The NEXT RUN cell of `list` and `check`: the local time and how far off,
/// or why there is none.
pub fn next_run(
    next: Option<DateTime<Utc>>,
    enabled: bool,
    paused: bool,
    tz: Tz,
    now: DateTime<Utc>,
) -> String {
    match next {
        _ if !enabled => "disabled".to_string(),
        _ if paused => "paused".to_string(),
        None => "never".to_string(),
        Some(t) => format!("{} ({})", local_time(t, tz), relative(t, now)),
    }
}

/// When something happened after `reference`: the time of day alone on the
/// same day (`14:00:00.002`), else the full local time.
pub fn time_after(t: DateTime<Utc>, reference: DateTime<Utc>, tz: Tz) -> String {
    let (local, base) = (t.with_timezone(&tz), reference.with_timezone(&tz));
    if local.date_naive() == base.date_naive() {
        local.format("%H:%M:%S%.3f").to_string()
    } else {
        local_time(t, tz)
    }
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
    if visible_width(text) <= width {
        return text.to_string();
    }
    // Count only what shows; keep colour codes whole and close any left open.
    let mut out = String::new();
    let (mut shown, mut in_escape, mut coloured) = (0, false, false);
    for c in text.chars() {
        if in_escape {
            out.push(c);
            in_escape = c != 'm';
            continue;
        }
        if c == '\x1b' {
            out.push(c);
            in_escape = true;
            coloured = true;
            continue;
        }
        if shown + 1 >= width {
            break;
        }
        out.push(c);
        shown += 1;
    }
    if coloured {
        out.push_str("\x1b[0m");
    }
    out.push('…');
    out
}

/// Text a job wrote, made safe for a table cell: escape sequences and
/// other control characters removed.
pub fn plain(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut in_escape = false;
    for c in text.chars() {
        match (in_escape, c) {
            (false, '\x1b') => in_escape = true,
            (true, c) if c.is_ascii_alphabetic() => in_escape = false,
            (true, _) => {}
            (false, c) if c.is_control() => {}
            (false, c) => out.push(c),
        }
    }
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

    #[test]
    fn a_table_too_wide_gives_the_last_column_way_then_the_widest() {
        let rows = vec![[
            "1".to_string(),
            "a-very-long-job-name".to_string(),
            "a note that goes on and on".to_string(),
        ]];
        let full = table(["ID", "JOB", "NOTE"], rows.clone(), None);
        assert_eq!(
            full,
            " ID   JOB                    NOTE\n 1    a-very-long-job-name   a note that goes on and on"
        );
        // The note first, down to 12 columns.
        let cut = table(["ID", "JOB", "NOTE"], rows.clone(), Some(42));
        assert_eq!(
            cut.lines().nth(1),
            Some(" 1    a-very-long-job-name   a note that …")
        );
        // Then the widest column.
        let cut = table(["ID", "JOB", "NOTE"], rows, Some(30));
        assert_eq!(cut.lines().nth(1), Some(" 1    a-very-lon…   a note th…"));
        assert!(cut.lines().all(|l| visible_width(l) <= 30), "{cut}");
    }
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
            None,
        );
        let lines: Vec<&str> = t.lines().collect();
        assert_eq!(lines.len(), 3);
        assert!(lines.iter().all(|l| !l.ends_with(' ')));
        let col = lines[0].find("NEXT").unwrap();
        assert_eq!(lines[1].find("in 1s"), Some(col));
    }

    #[test]
    fn tables_are_cut_to_the_width_last_column_first() {
        let long = "x".repeat(200);
        let row = [
            "a-long-job-name".to_string(),
            "2026-11-21 12:00:00".to_string(),
            long,
        ];
        let t = table(["NAME", "WHEN", "NOTE"], [row.clone()], Some(60));
        assert!(t.lines().all(|l| l.chars().count() <= 60), "{t}");
        assert!(
            t.contains("a-long-job-name") && t.contains("2026-11-21 12:00:00"),
            "{t}"
        );
        assert!(t.contains('…'), "{t}");
        // Too narrow even then: every column gives way.
        let t = table(["NAME", "WHEN", "NOTE"], [row], Some(30));
        assert!(t.lines().all(|l| l.chars().count() <= 30), "{t}");
    }

    #[test]
    fn statuses_are_coloured_only_when_asked() {
        let plain = Look::default();
        assert_eq!(plain.status(Status::Failed), "failed");
        let color = Look {
            color: true,
            ..Look::default()
        };
        assert_eq!(color.status(Status::Failed), "\x1b[31mfailed\x1b[0m");
        // Colour codes do not count towards a column's width.
        let t = table(
            ["S", "X"],
            [
                [color.status(Status::Succeeded), "1".into()],
                ["failed".into(), "2".into()],
            ],
            None,
        );
        let lines: Vec<&str> = t.lines().collect();
        let strip = |l: &str| l.replace("\x1b[32m", "").replace("\x1b[0m", "");
        assert_eq!(strip(lines[1]).find('1'), lines[2].find('2'));
    }

    #[test]
    fn cutting_coloured_text_keeps_codes_whole_and_closes_them() {
        let coloured = "\x1b[33mcancelled\x1b[0m (5m ago)";
        let cut = ellipsize(coloured, 6);
        assert_eq!(cut, "\x1b[33mcance\x1b[0m…");
        assert_eq!(visible_width(&cut), 6);
        assert_eq!(plain("\x1b[31mERROR\x1b[0m disk\r\tfull"), "ERROR diskfull");
    }

    #[test]
    fn ellipsize_cuts_long_text() {
        assert_eq!(ellipsize("short", 10), "short");
        assert_eq!(ellipsize("a long line of text", 8), "a long …");
    }
}
