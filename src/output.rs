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
            Status::Failed | Status::Interrupted | Status::Lost => "31",
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

/// One column of a [`table`]: its header (and shorter ones), how much a
/// reader needs it, and how it gives way when the terminal is too narrow.
#[derive(Debug, Clone)]
pub struct Column {
    /// The header, then shorter forms used as the column compacts.
    headers: Vec<&'static str>,
    /// How much a reader needs the column: lower gives way first.
    rank: u8,
    /// Free text (a note, a command): cut to [`CUT_FIRST_FLOOR`] before
    /// anything else gives way.
    cut_first: bool,
    /// Left out entirely when compacting and cutting were not enough.
    droppable: bool,
}

/// What a cut-first column keeps before the others give way.
const CUT_FIRST_FLOOR: usize = 12;
/// What any column keeps before the last resort of cutting to one column.
const FLOOR: usize = 6;

impl Column {
    pub fn new(header: &'static str, rank: u8) -> Column {
        Column {
            headers: vec![header],
            rank,
            cut_first: false,
            droppable: false,
        }
    }

    /// A shorter header for when the column compacts.
    pub fn short(mut self, header: &'static str) -> Column {
        self.headers.push(header);
        self
    }

    /// Free text that is cut before anything else gives way.
    pub fn cut_first(mut self) -> Column {
        self.cut_first = true;
        self
    }

    /// May be left out on a narrow terminal.
    pub fn droppable(mut self) -> Column {
        self.droppable = true;
        self
    }
}

/// A cell's text, then shorter forms of the same thing (a time without its
/// date, a relative time in one unit): a column compacts, all its cells at
/// once, before it is cut.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cell(Vec<String>);

impl Cell {
    /// `forms`, longest first; an empty list is an empty cell.
    pub fn forms(forms: Vec<String>) -> Cell {
        if forms.is_empty() {
            Cell(vec![String::new()])
        } else {
            Cell(forms)
        }
    }

    fn at(&self, level: usize) -> &str {
        &self.0[level.min(self.0.len() - 1)]
    }
}

impl From<String> for Cell {
    fn from(text: String) -> Cell {
        Cell(vec![text])
    }
}

impl From<&str> for Cell {
    fn from(text: &str) -> Cell {
        Cell(vec![text.to_string()])
    }
}

/// tabled's [`Peaker`](tabled::settings::peaker::Peaker) for our columns:
/// the one that gives way next is the lowest-ranked that is still wider
/// than its floor (on a tie, the rightmost).
#[derive(Debug, Clone)]
struct GiveWay {
    /// Column indices, the first to give way first.
    order: Vec<usize>,
}

impl GiveWay {
    fn new(columns: &[&Column]) -> GiveWay {
        let mut order: Vec<usize> = (0..columns.len()).collect();
        order.sort_by_key(|&i| (columns[i].rank, std::cmp::Reverse(i)));
        GiveWay { order }
    }
}

impl tabled::settings::peaker::Peaker for GiveWay {
    fn peak(&mut self, mins: &[usize], widths: &[usize]) -> Option<usize> {
        self.order
            .iter()
            .copied()
            .find(|&i| widths[i] > mins.get(i).copied().unwrap_or(0) && widths[i] > 0)
    }
}

/// A table with a header row and no borders, like `systemctl list-timers`,
/// drawn by tabled and fitted to `width` columns when given, never wrapped.
/// What gives way, in order, until it fits:
/// 1. free-text columns ([`Column::cut_first`]: a note, a command) are cut
///    to a few columns;
/// 2. columns compact, the least needed first, by one step (times lose
///    their date and zone before anything is cut: `18:15:02 (2m ago)`);
/// 3. [`Column::droppable`] columns are left out, the least needed first,
///    then columns compact further (`18:15:02`);
/// 4. columns are cut, the least needed first, to a few columns each;
/// 5. the widest are cut until it fits;
///
/// then what room is left goes back, the most needed column first.
///
/// Widths are display widths (wide characters count two, combining marks
/// and colour codes nothing), and cuts never split a grapheme.
pub fn table<const N: usize>(
    columns: [Column; N],
    rows: impl IntoIterator<Item = [Cell; N]>,
    width: Option<usize>,
) -> String {
    use tabled::settings::peaker::Peaker;

    let rows: Vec<[Cell; N]> = rows.into_iter().collect();
    let mut level = [0usize; N];
    let mut shown = [true; N];
    // The widest form at each column's level.
    let natural = |c: usize, level: usize| {
        rows.iter()
            .map(|r| display_width(r[c].at(level)))
            .chain(std::iter::once(display_width(
                columns[c].headers[level.min(columns[c].headers.len() - 1)],
            )))
            .max()
            .unwrap_or(0)
    };
    let mut widths: [usize; N] = std::array::from_fn(|c| natural(c, 0));
    // Each cell is padded by a blank on either side and parted from the
    // next by one more; the last one's right padding is trimmed.
    let total = |widths: &[usize; N], shown: &[bool; N]| {
        (0..N)
            .filter(|&c| shown[c])
            .map(|c| widths[c] + 3)
            .sum::<usize>()
            .saturating_sub(2)
    };
    if let Some(width) = width {
        let all: Vec<&Column> = columns.iter().collect();
        let mut give_way = GiveWay::new(&all);
        // 1. Free text, down to a few columns.
        let floors: [usize; N] = std::array::from_fn(|c| {
            if columns[c].cut_first {
                CUT_FIRST_FLOOR.min(widths[c])
            } else {
                widths[c]
            }
        });
        while total(&widths, &shown) > width {
            match give_way.peak(&floors, &widths) {
                Some(c) => widths[c] -= 1,
                None => break,
            }
        }
        // 2. Compact, one step at a time, the least needed first: the
        // first step of each column, then (3.) drop what may be dropped,
        // then the further steps.
        for deepest in [1, usize::MAX] {
            'compact: while total(&widths, &shown) > width {
                for &c in &give_way.order {
                    let deeper = level[c] < deepest
                        && shown[c]
                        && (rows.iter().any(|r| r[c].0.len() > level[c] + 1)
                            || columns[c].headers.len() > level[c] + 1);
                    if deeper {
                        level[c] += 1;
                        widths[c] = widths[c].min(natural(c, level[c]));
                        continue 'compact;
                    }
                }
                break;
            }
            if deepest == 1 {
                for &c in &give_way.order {
                    if total(&widths, &shown) <= width {
                        break;
                    }
                    if columns[c].droppable {
                        shown[c] = false;
                    }
                }
            }
        }
        // 4. Cut, the least needed first, to a few columns each.
        let floors: [usize; N] = std::array::from_fn(|c| {
            if shown[c] {
                FLOOR.min(widths[c])
            } else {
                widths[c]
            }
        });
        while total(&widths, &shown) > width {
            match give_way.peak(&floors, &widths) {
                Some(c) => widths[c] -= 1,
                None => break,
            }
        }
        // 5. Then the widest, down to one column.
        let mut widest = tabled::settings::peaker::PriorityMax::right();
        let ones: [usize; N] = std::array::from_fn(|c| if shown[c] { 1 } else { widths[c] });
        while total(&widths, &shown) > width {
            match widest.peak(&ones, &widths) {
                Some(c) if widths[c] > ones[c] => widths[c] -= 1,
                _ => break,
            }
        }
    }
    if let Some(width) = width {
        // 6. What room is left goes back, to the most needed first: a
        // column left out, then its longer forms, then what was cut.
        let order: Vec<usize> = GiveWay::new(&columns.iter().collect::<Vec<_>>()).order;
        for &c in order.iter().rev() {
            if !shown[c] {
                shown[c] = true;
                if total(&widths, &shown) > width {
                    shown[c] = false;
                    continue;
                }
            }
            while level[c] > 0 {
                let mut wider = widths;
                wider[c] = natural(c, level[c] - 1);
                if total(&wider, &shown) > width {
                    break;
                }
                level[c] -= 1;
                widths = wider;
            }
            let room = width.saturating_sub(total(&widths, &shown));
            widths[c] = natural(c, level[c]).min(widths[c] + room).max(widths[c]);
        }
    }
    let visible: Vec<usize> = (0..N).filter(|&c| shown[c]).collect();
    let fit = |text: &str, c: usize| {
        if display_width(text) > widths[c] {
            ellipsize(text, widths[c])
        } else {
            text.to_string()
        }
    };
    let mut builder = tabled::builder::Builder::with_capacity(rows.len() + 1, visible.len());
    builder.push_record(visible.iter().map(|&c| {
        let headers = &columns[c].headers;
        fit(headers[level[c].min(headers.len() - 1)], c)
    }));
    for row in &rows {
        builder.push_record(visible.iter().map(|&c| fit(row[c].at(level[c]), c)));
    }
    let mut drawn = builder.build();
    drawn.with(tabled::settings::Style::blank());
    if let Some(width) = width {
        // Everything fits already; this only guards the measure.
        let shown_columns: Vec<&Column> = visible.iter().map(|&c| &columns[c]).collect();
        drawn.with(
            tabled::settings::Width::truncate(width + 1).priority(GiveWay::new(&shown_columns)),
        );
    }
    let drawn = drawn.to_string();
    let mut out = String::with_capacity(drawn.len());
    for line in drawn.lines() {
        // Trailing blanks help nobody.
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out.pop();
    out
}

/// Columns a string takes on a terminal: its display width (wide
/// characters two, combining marks and joiners none), less colour codes.
pub fn display_width(s: &str) -> usize {
    use unicode_width::UnicodeWidthStr;
    if !s.contains('\x1b') {
        return s.width();
    }
    let mut width = 0;
    let mut rest = s;
    while !rest.is_empty() {
        if rest.starts_with('\x1b') {
            let end = rest.find('m').map_or(rest.len(), |i| i + 1);
            rest = &rest[end..];
        } else {
            let end = rest.find('\x1b').unwrap_or(rest.len());
            width += rest[..end].width();
            rest = &rest[end..];
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

/// `Mon 2026-11-23 09:00:00 CET`: [`local_time`] with the weekday.
pub fn day_time(t: DateTime<Utc>, tz: Tz) -> String {
    t.with_timezone(&tz)
        .format("%a %Y-%m-%d %H:%M:%S %Z")
        .to_string()
}

/// A time as `list` shows it, as systemd's `list-timers` does: the weekday
/// when it is more than a day from `now`; then shorter forms (`Mon 11-23
/// 09:00`, `09:00:00` on `now`'s day).
pub fn timer_time(t: DateTime<Utc>, tz: Tz, now: DateTime<Utc>) -> Vec<String> {
    let far = (t - now).num_seconds().abs() > 86_400;
    let local = t.with_timezone(&tz);
    let full = if far {
        day_time(t, tz)
    } else {
        local_time(t, tz)
    };
    let short = if local.date_naive() == now.with_timezone(&tz).date_naive() {
        local.format("%H:%M:%S").to_string()
    } else if far {
        local.format("%a %m-%d %H:%M").to_string()
    } else {
        local.format("%m-%d %H:%M").to_string()
    };
    vec![full, short]
}

/// How far `t` is from `now`, without `in`/`ago` (the column says which):
/// `3m 04s`, then `3m`.
pub fn distance(t: DateTime<Utc>, now: DateTime<Utc>) -> Cell {
    let strip = |s: String| {
        s.trim_start_matches("in ")
            .trim_end_matches(" ago")
            .to_string()
    };
    Cell::forms(vec![strip(relative(t, now)), strip(relative_short(t, now))])
}

/// The NEXT RUN cell of `list` and `check`: the local time and how far off
/// (see [`when`]), or why there is none.
pub fn next_run(
    next: Option<DateTime<Utc>>,
    enabled: bool,
    paused: bool,
    tz: Tz,
    now: DateTime<Utc>,
) -> Cell {
    match next {
        _ if !enabled => "disabled".into(),
        _ if paused => "paused".into(),
        None => "never".into(),
        Some(t) => when(t, tz, now),
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

/// A time as a table cell: `2026-11-21 14:00:00 CET (in 3m 04s)`, then
/// shorter forms for a narrow terminal: `14:00:00 (in 3m)` (`11-22 02:30`
/// on another day than `now`'s), then `14:00:00`.
pub fn when(t: DateTime<Utc>, tz: Tz, now: DateTime<Utc>) -> Cell {
    let short = short_time(t, tz, now);
    Cell::forms(vec![
        format!("{} ({})", local_time(t, tz), relative(t, now)),
        format!("{short} ({})", relative_short(t, now)),
        short,
    ])
}

/// `14:00:00` on `now`'s day in `tz`, else `11-22 02:30`.
pub fn short_time(t: DateTime<Utc>, tz: Tz, now: DateTime<Utc>) -> String {
    let local = t.with_timezone(&tz);
    if local.date_naive() == now.with_timezone(&tz).date_naive() {
        local.format("%H:%M:%S").to_string()
    } else {
        local.format("%m-%d %H:%M").to_string()
    }
}

/// [`relative`] in its largest unit only: `in 3m`, `42s ago`, `2h ago`.
pub fn relative_short(t: DateTime<Utc>, now: DateTime<Utc>) -> String {
    let ms = (t - now).num_milliseconds();
    if ms.abs() < 1000 {
        return "now".into();
    }
    let secs = ms.unsigned_abs() / 1000;
    let text = match secs {
        0..60 => format!("{secs}s"),
        60..3600 => format!("{}m", secs / 60),
        3600..86400 => format!("{}h", secs / 3600),
        _ => format!("{}d", secs / 86400),
    };
    if ms > 0 {
        format!("in {text}")
    } else {
        format!("{text} ago")
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

/// Cuts `text` to `width` display columns, ending in `…` when cut: whole
/// graphemes only (an accent stays on its letter, a wide character is not
/// halved), colour codes kept whole and closed when left open.
pub fn ellipsize(text: &str, width: usize) -> String {
    use unicode_segmentation::UnicodeSegmentation;
    use unicode_width::UnicodeWidthStr;
    if display_width(text) <= width {
        return text.to_string();
    }
    if width == 0 {
        return String::new();
    }
    let mut out = String::new();
    let (mut shown, mut coloured) = (0, false);
    let mut rest = text;
    'outer: while !rest.is_empty() {
        if rest.starts_with('\x1b') {
            let end = rest.find('m').map_or(rest.len(), |i| i + 1);
            out.push_str(&rest[..end]);
            coloured = true;
            rest = &rest[end..];
            continue;
        }
        let end = rest.find('\x1b').unwrap_or(rest.len());
        for g in rest[..end].graphemes(true) {
            // One column stays for the ellipsis.
            if shown + g.width() + 1 > width {
                break 'outer;
            }
            out.push_str(g);
            shown += g.width();
        }
        rest = &rest[end..];
    }
    if coloured {
        out.push_str("\x1b[0m");
    }
    out.push('…');
    out
}

/// Text a job wrote, made safe for a table cell: escape sequences (CSI,
/// OSC with its text, DCS and the other string sequences, two-byte ones)
/// and other control characters removed.
pub fn plain(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for piece in pieces(text) {
        if let Piece::Text(c) = piece
            && !c.is_control()
        {
            out.push(c);
        }
    }
    out
}

/// Job output made safe to print on a terminal, for `schedule show`:
/// escape sequences and control characters are shown as `\x1b`-style
/// escapes (tabs and newlines kept), and a line redrawn with `\r` (a
/// progress bar) shows only its last state.
pub fn for_terminal(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for (i, line) in text.split('\n').enumerate() {
        if i > 0 {
            out.push('\n');
        }
        let line = line.strip_suffix('\r').unwrap_or(line);
        let line = line.rsplit('\r').next().unwrap_or(line);
        for c in line.chars() {
            match c {
                '\t' => out.push('\t'),
                c if (c as u32) < 0x20 || c as u32 == 0x7f => {
                    out.push_str(&format!("\\x{:02x}", c as u32))
                }
                c if c.is_control() => out.push_str(&format!("\\u{{{:x}}}", c as u32)),
                c => out.push(c),
            }
        }
    }
    out
}

/// A character of text, or an escape sequence (left out whole).
enum Piece {
    Text(char),
    Escape,
}

/// Splits text into characters and whole escape sequences (ECMA-48).
fn pieces(text: &str) -> impl Iterator<Item = Piece> + '_ {
    let mut chars = text.chars().peekable();
    std::iter::from_fn(move || {
        let c = chars.next()?;
        // The string sequences (OSC, DCS, SOS, PM, APC) run to BEL or ST.
        let string_body = |chars: &mut std::iter::Peekable<std::str::Chars<'_>>| {
            while let Some(c) = chars.next() {
                match c {
                    '\x07' | '\u{9c}' => break,
                    '\x1b' if chars.peek() == Some(&'\\') => {
                        chars.next();
                        break;
                    }
                    _ => {}
                }
            }
        };
        // CSI: parameters and intermediates, then one final byte.
        let csi_body = |chars: &mut std::iter::Peekable<std::str::Chars<'_>>| {
            for c in chars.by_ref() {
                if ('\x40'..='\x7e').contains(&c) || !('\x20'..='\x7e').contains(&c) {
                    break;
                }
            }
        };
        Some(match c {
            '\x1b' => {
                match chars.next() {
                    Some('[') => csi_body(&mut chars),
                    Some(']' | 'P' | 'X' | '^' | '_') => string_body(&mut chars),
                    Some(c) if ('\x20'..='\x2f').contains(&c) => {
                        // nF: intermediates, then a final byte.
                        while chars.next_if(|c| ('\x20'..='\x2f').contains(c)).is_some() {}
                        chars.next();
                    }
                    _ => {} // a two-byte sequence (ESC c, ESC 7, ...)
                }
                Piece::Escape
            }
            '\u{9b}' => {
                csi_body(&mut chars);
                Piece::Escape
            }
            '\u{9d}' | '\u{90}' | '\u{98}' | '\u{9e}' | '\u{9f}' => {
                string_body(&mut chars);
                Piece::Escape
            }
            c => Piece::Text(c),
        })
    })
}

/// `1 job`, `2 jobs`, `0 jobs`.
pub fn plural(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

/// Pretty JSON with a trailing newline, every instant in one form: RFC3339
/// in UTC with milliseconds, `2026-11-20T10:00:00.000Z` (chrono writes as
/// many digits as it has, and none for a whole second).
pub fn json<T: Serialize + ?Sized>(value: &T) -> String {
    let mut value = serde_json::to_value(value).unwrap_or_default();
    millis_everywhere(&mut value, None);
    let mut s = serde_json::to_string_pretty(&value).unwrap_or_else(|_| "null".into());
    s.push('\n');
    s
}

/// Keys whose values are text a job or a person wrote, never instants.
const FREE_TEXT: &[&str] = &[
    "stdout_tail",
    "stderr_tail",
    "reason",
    "command",
    "message",
    "job",
    "schedule",
];

fn millis_everywhere(value: &mut serde_json::Value, key: Option<&str>) {
    use serde_json::Value;
    match value {
        Value::String(s) if !key.is_some_and(|k| FREE_TEXT.contains(&k)) => {
            if let Some(t) = utc_instant(s) {
                *s = t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
            }
        }
        Value::Array(items) => items.iter_mut().for_each(|v| millis_everywhere(v, key)),
        Value::Object(map) => map
            .iter_mut()
            .for_each(|(k, v)| millis_everywhere(v, Some(k.as_str()))),
        _ => {}
    }
}

/// `s` as chrono writes a UTC instant: `YYYY-MM-DDTHH:MM:SS[.fff…]Z`.
fn utc_instant(s: &str) -> Option<DateTime<Utc>> {
    let b = s.as_bytes();
    let shaped = b.len() >= 20 && b[4] == b'-' && b[10] == b'T' && s.ends_with('Z');
    shaped
        .then(|| DateTime::parse_from_rfc3339(s).ok())
        .flatten()
        .map(|t| t.with_timezone(&Utc))
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

    fn cells<const N: usize>(row: [&str; N]) -> [Cell; N] {
        row.map(Cell::from)
    }

    #[test]
    fn tables_align_columns_without_trailing_blanks() {
        let t = table(
            [Column::new("NAME", 1), Column::new("NEXT", 1)],
            [cells(["a", "in 1s"]), cells(["long-name", "-"])],
            None,
        );
        assert_eq!(t, " NAME        NEXT\n a           in 1s\n long-name   -");
    }

    #[test]
    fn free_text_gives_way_first_then_the_least_needed_column() {
        let rows = vec![cells([
            "1",
            "a-very-long-job-name",
            "a note that goes on and on",
        ])];
        let columns = || {
            [
                Column::new("ID", 5),
                Column::new("JOB", 9),
                Column::new("NOTE", 0).cut_first(),
            ]
        };
        let full = table(columns(), rows.clone(), None);
        assert_eq!(
            full,
            " ID   JOB                    NOTE\n 1    a-very-long-job-name   a note that goes on and on"
        );
        // The note first, down to 12 columns.
        let cut = table(columns(), rows.clone(), Some(42));
        assert_eq!(
            cut.lines().nth(1),
            Some(" 1    a-very-long-job-name   a note that …")
        );
        // Then the others, least needed first (the note again, then ID is
        // already narrow, so the job).
        let cut = table(columns(), rows, Some(30));
        assert!(cut.lines().all(|l| display_width(l) <= 30), "{cut}");
        assert_eq!(cut.lines().nth(1), Some(" 1    a-very-long-jo…   a not…"));
    }

    #[test]
    fn times_compact_before_they_are_cut_and_droppable_columns_go() {
        let now = at("2026-11-21T12:00:00Z");
        let row = [
            Cell::from("backup"),
            when(at("2026-11-21T11:15:02Z"), Tz::UTC, now),
            Cell::from("schedule"),
        ];
        let columns = || {
            [
                Column::new("JOB", 9),
                Column::new("WHEN", 8),
                Column::new("TRIGGER", 0).droppable(),
            ]
        };
        let full = table(columns(), [row.clone()], None);
        assert_eq!(
            full.lines().nth(1),
            Some(" backup   2026-11-21 11:15:02 UTC (44m 58s ago)   schedule")
        );
        let t = table(columns(), [row.clone()], Some(40));
        assert_eq!(
            t.lines().nth(1),
            Some(" backup   11:15:02 (44m ago)   schedule")
        );
        let t = table(columns(), [row.clone()], Some(30));
        assert_eq!(t.lines().nth(1), Some(" backup   11:15:02 (44m ago)"));
        let t = table(columns(), [row], Some(20));
        assert_eq!(t, " JOB      WHEN\n backup   11:15:02");
    }

    #[test]
    fn every_width_keeps_headers_and_cells_aligned() {
        let rows = vec![
            cells(["heartbeat", "running", "日本語のメモはとても長いです"]),
            cells(["e\u{301}te\u{301}", "failed", "👨‍👩‍👧 family 🎉 party"]),
        ];
        for width in [10, 20, 30, 40, 60, 80, 200] {
            let t = table(
                [
                    Column::new("JOB", 9),
                    Column::new("STATUS", 10),
                    Column::new("NOTE", 0).cut_first(),
                ],
                rows.clone(),
                Some(width),
            );
            let lines: Vec<&str> = t.lines().collect();
            assert_eq!(lines.len(), 3, "{t}");
            assert!(
                lines.iter().all(|l| display_width(l) <= width),
                "{width}:\n{t}"
            );
            // The STATUS column starts at the same display column on every line.
            let col = |l: &str, word: &str| l.find(word).map(|i| display_width(&l[..i]));
            if let Some(c) = col(lines[0], "STATUS") {
                assert_eq!(col(lines[1], "runn"), Some(c), "{width}:\n{t}");
                assert_eq!(col(lines[2], "fail"), Some(c), "{width}:\n{t}");
            }
        }
    }

    #[test]
    fn display_width_counts_wide_characters_and_skips_marks_and_codes() {
        assert_eq!(display_width("日本"), 4);
        assert_eq!(display_width("e\u{301}"), 1);
        assert_eq!(display_width("\x1b[31mfailed\x1b[0m"), 6);
        assert_eq!(display_width("👍"), 2);
    }

    #[test]
    fn cuts_keep_graphemes_whole() {
        // An accent stays on its letter.
        assert_eq!(
            ellipsize("e\u{301}e\u{301}e\u{301}e\u{301}", 3),
            "e\u{301}e\u{301}…"
        );
        // A wide character is not halved: 2 + 2 + the ellipsis would be 5.
        assert_eq!(ellipsize("日本語", 4), "日…");
        assert_eq!(display_width(&ellipsize("日本語のメモ", 7)), 7);
        // A family emoji (joined by ZWJ) is one grapheme.
        let family = "👨‍👩‍👧 and more";
        assert_eq!(ellipsize(family, 3), "👨‍👩‍👧…");
        assert_eq!(ellipsize(family, 2), "…");
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
            [Column::new("S", 1), Column::new("X", 1)],
            [
                [color.status(Status::Succeeded).into(), "1".into()],
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
        assert_eq!(display_width(&cut), 6);
        assert_eq!(plain("\x1b[31mERROR\x1b[0m disk\r\tfull"), "ERROR diskfull");
    }

    #[test]
    fn json_instants_always_carry_milliseconds_in_utc() {
        #[derive(Serialize)]
        struct Row {
            whole: DateTime<Utc>,
            fraction: DateTime<Utc>,
            none: Option<DateTime<Utc>>,
            reason: String,
            list: Vec<DateTime<Utc>>,
        }
        let text = json(&Row {
            whole: at("2026-11-20T10:00:00Z"),
            fraction: at("2026-11-20T10:00:00.5Z"),
            none: None,
            reason: "2026-11-20T10:00:00Z".into(),
            list: vec![at("2026-11-20T10:00:00.123456Z")],
        });
        let v: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!(v["whole"], "2026-11-20T10:00:00.000Z");
        assert_eq!(v["fraction"], "2026-11-20T10:00:00.500Z");
        assert_eq!(v["none"], serde_json::Value::Null);
        assert_eq!(v["list"][0], "2026-11-20T10:00:00.123Z");
        // What a job wrote is left as it was.
        assert_eq!(v["reason"], "2026-11-20T10:00:00Z");
        assert!(text.ends_with("}\n"));
    }

    #[test]
    fn ellipsize_cuts_long_text() {
        assert_eq!(ellipsize("short", 10), "short");
        assert_eq!(ellipsize("a long line of text", 8), "a long …");
    }
}

#[cfg(test)]
mod escape_tests {
    use super::*;

    #[test]
    fn plain_strips_osc_titles_csi_and_two_byte_escapes_whole() {
        assert_eq!(
            plain("normal\x1b]0;OWNED-TITLE\x07\x1b[31mRED\x1b[0m\x1bc\x1b(B end"),
            "normalRED end"
        );
        assert_eq!(plain("a\x1b]2;t\x1b\\b\u{9b}2Jc\u{9d}x\u{9c}d"), "abcd");
        assert_eq!(plain("tab\there\r\n"), "tabhere");
    }

    #[test]
    fn for_terminal_escapes_controls_keeps_tabs_and_newlines_and_shows_the_last_progress() {
        assert_eq!(
            for_terminal("\x1b]0;T\x07x\ty\n10%\r50%\r100%\ndone\r\n\u{9b}"),
            "\\x1b]0;T\\x07x\ty\n100%\ndone\n\\u{9b}"
        );
    }
}
