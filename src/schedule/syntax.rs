//! Checks on the text of a cron line that croner does not make, done before
//! croner sees it, each with the byte range at fault so that a config error
//! can point at it:
//!
//! - **Empty list items** (`0 22, 10 * * *`, `1,,2`, `1,`): Debian cron and
//!   cronie reject them; croner would read the first as a six-field line.
//! - **Quartz lines** (`?`, a seventh year field): Quartz counts seconds
//!   first and numbers weekdays 1 = Sunday, so the same text means another
//!   schedule here. We reject them and give the cron line that means the same.
//! - **A single number with a step** (`1/6`): cron rejects it; the hint keeps
//!   the start (`1-23/6`), unlike croner's (`*/6`, another schedule).
//! - **Ranges that wrap** (`22-2`, `FRI-MON`): a day-of-week wrap names the
//!   days users mean and is rewritten as a list (`5,6,0,1`); in any other
//!   field it is an error whose hint splits it in two (`22-23,0-2`).

use std::ops::Range;

use super::CronError;

/// Field names, lowest and highest value, in the six-field order.
const BOUNDS: [(&str, u32, u32); 6] = [
    ("second", 0, 59),
    ("minute", 0, 59),
    ("hour", 0, 23),
    ("day-of-month", 1, 31),
    ("month", 1, 12),
    ("day-of-week", 0, 7),
];

const MONTHS: [&str; 12] = [
    "JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC",
];
const DAYS: [&str; 7] = ["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"];

/// A whitespace-separated word of the line and where it starts.
#[derive(Debug, Clone, Copy)]
struct Token<'a> {
    text: &'a str,
    at: usize,
}

fn tokens(line: &str) -> Vec<Token<'_>> {
    let mut out = Vec::new();
    let mut start = None;
    for (i, c) in line.char_indices() {
        match (c.is_whitespace(), start) {
            (true, Some(s)) => {
                out.push(Token {
                    text: &line[s..i],
                    at: s,
                });
                start = None;
            }
            (false, None) => start = Some(i),
            _ => {}
        }
    }
    if let Some(s) = start {
        out.push(Token {
            text: &line[s..],
            at: s,
        });
    }
    out
}

fn error(field: Option<&'static str>, span: Range<usize>, message: String) -> CronError {
    CronError {
        field,
        message,
        span: Some(span),
    }
}

/// Checks a trimmed line (not a macro) and returns it as croner should read
/// it: unchanged, or with day-of-week wraps written out as lists.
pub(super) fn check(line: &str) -> Result<String, CronError> {
    if line.starts_with('@') {
        return Ok(line.to_string());
    }
    let words = tokens(line);
    quartz(line, &words)?;
    empty_items(line, &words)?;
    let first = match words.len() {
        5 => 1,
        6 => 0,
        _ => return Ok(line.to_string()), // split_fields says what is wrong
    };
    let mut out = Vec::with_capacity(words.len());
    for (k, word) in words.iter().enumerate() {
        out.push(field_items(first + k, *word)?);
    }
    Ok(out.join(" "))
}

/// `,` with nothing on one side: at the start or end of a field, doubled,
/// or beside a space that split the field in two.
fn empty_items(line: &str, words: &[Token]) -> Result<(), CronError> {
    let bytes = line.as_bytes();
    for (i, _) in line.match_indices(',') {
        let before = i.checked_sub(1).map(|j| bytes[j]);
        let after = bytes.get(i + 1).copied();
        let space = |b: Option<u8>| b.is_some_and(|b| b.is_ascii_whitespace());
        // The field the comma is in, when the line has a field count we read.
        let field = words
            .iter()
            .position(|w| w.at <= i && i < w.at + w.text.len())
            .and_then(|k| match words.len() {
                5 => Some(BOUNDS[k + 1].0),
                6 => Some(BOUNDS[k].0),
                _ => None,
            });
        let problem = if space(after) {
            let left = line[..i].rsplit(char::is_whitespace).next().unwrap_or("");
            let right = line[i + 1..].split_whitespace().next().unwrap_or("");
            let joined = format!("{},{}", &line[..i], line[i + 1..].trim_start());
            Some(format!(
                "the space after the `,` split the field in two (`{left},` and `{right}`), so \
                 the list has an empty item and every later field moved one place; a list has \
                 no spaces: write `{joined}`, or drop the comma"
            ))
        } else if space(before) {
            Some(
                "the space before the `,` split the field, so the list has an empty item; a \
                 list has no spaces: remove the space, or drop the comma"
                    .into(),
            )
        } else if after.is_none() || before.is_none() {
            Some("a list item is empty: the `,` has nothing on one side; drop it".into())
        } else if after == Some(b',') {
            Some("a list item is empty: two `,` in a row; drop one".into())
        } else {
            None
        };
        if let Some(message) = problem {
            // A space moved the fields: which one this is would be a guess.
            let field = if space(after) || space(before) {
                None
            } else {
                field
            };
            return Err(error(field, i..i + 1, message));
        }
    }
    Ok(())
}

/// The value of a number or a name in field `index`.
fn value(index: usize, text: &str) -> Option<u32> {
    if !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit()) {
        return text.parse().ok();
    }
    let upper = text.to_ascii_uppercase();
    let names: &[&str] = match index {
        4 => &MONTHS,
        5 => &DAYS,
        _ => return None,
    };
    let first = if index == 4 { 1 } else { 0 };
    names
        .iter()
        .position(|n| *n == upper)
        .map(|p| p as u32 + first)
}

/// Writes `v` as a name when the user wrote names.
fn show(index: usize, v: u32, as_name: bool) -> String {
    match (index, as_name) {
        (4, true) => MONTHS[(v - 1) as usize].to_string(),
        (5, true) => DAYS[(v % 7) as usize].to_string(),
        _ => v.to_string(),
    }
}

/// One field: single numbers with a step and wrapping ranges. Returns the
/// field as croner should read it.
fn field_items(index: usize, word: Token) -> Result<String, CronError> {
    let (name, low, high) = BOUNDS[index];
    // The highest value a range may end at: Saturday, not Sunday again.
    let top = if index == 5 { 6 } else { high };
    let mut items = Vec::new();
    let mut offset = word.at;
    for item in word.text.split(',') {
        let span = offset..offset + item.len();
        offset += item.len() + 1;
        let (base, step) = match item.split_once('/') {
            Some((b, s)) => (b, Some(s)),
            None => (item, None),
        };
        let step_n = step.and_then(|s| s.parse::<u32>().ok()).filter(|&s| s > 0);
        let in_range = |v: u32| (low..=high).contains(&v);
        if let (Some(start), Some(step_text)) = (value(index, base).filter(|&v| in_range(v)), step)
        {
            let as_name = !base.bytes().all(|b| b.is_ascii_digit());
            let range = format!("{base}-{}/{step_text}", show(index, top, as_name));
            let mut message = format!(
                "`{item}` is not valid: a step needs a range or `*` before it (cron rejects \
                 `{item}` too); `{range}` keeps the start"
            );
            if let Some(s) = step_n {
                let listed: Vec<String> = (start..=top)
                    .step_by(s as usize)
                    .map(|v| v.to_string())
                    .collect();
                let from_low: Vec<String> = (low..=top)
                    .step_by(s as usize)
                    .map(|v| v.to_string())
                    .collect();
                message.push_str(&format!(" ({})", listed.join(",")));
                if start != low {
                    message.push_str(&format!(
                        "; `*/{s}` would be another schedule ({})",
                        from_low.join(",")
                    ));
                }
            }
            return Err(error(Some(name), span, message));
        }
        let Some((a, b)) = base.split_once('-') else {
            items.push(item.to_string());
            continue;
        };
        let (Some(from), Some(to)) = (value(index, a), value(index, b)) else {
            items.push(item.to_string());
            continue;
        };
        // A Sunday written 7 is still the end of a week that starts on it.
        if from <= to || from > high || to > high {
            items.push(item.to_string());
            continue;
        }
        let every = step_n.unwrap_or(1) as usize;
        if step.is_some() && step_n.is_none() {
            items.push(item.to_string()); // croner names the bad step
            continue;
        }
        if index == 5 {
            // The days it names, from `from` round the week to `to`.
            let days: Vec<String> = (from..=to + 7)
                .step_by(every)
                .map(|d| (d % 7).to_string())
                .collect();
            items.push(days.join(","));
            continue;
        }
        let as_name = !a.bytes().all(|c| c.is_ascii_digit());
        let hint = if every == 1 {
            format!(
                "{a}-{},{}-{b}",
                show(index, high, as_name),
                show(index, low, as_name)
            )
        } else {
            let size = high - low + 1;
            let values: Vec<String> = (from..=to + size)
                .step_by(every)
                .map(|v| show(index, low + (v - low) % size, as_name))
                .collect();
            values.join(",")
        };
        return Err(error(
            Some(name),
            span,
            format!(
                "`{item}` is not valid: the range wraps past {} back to {} (only day-of-week \
                 ranges may wrap); write it as `{hint}`",
                show(index, high, as_name),
                show(index, low, as_name)
            ),
        ));
    }
    Ok(items.join(","))
}

/// A line with `?` or seven fields is Quartz's (or AWS EventBridge's):
/// reject it with the cron line that means the same.
fn quartz(line: &str, words: &[Token]) -> Result<(), CronError> {
    let has_q = |k: usize| words.get(k).is_some_and(|w| w.text.contains('?'));
    let any_q = words.iter().any(|w| w.text.contains('?'));
    // (second, minute, hour, dom, month, dow, year) as positions in `words`.
    let (layout, origin) = match words.len() {
        7 => (
            [
                Some(0),
                Some(1),
                Some(2),
                Some(3),
                Some(4),
                Some(5),
                Some(6),
            ],
            "a Quartz",
        ),
        6 if has_q(3) || has_q(5) => (
            [Some(0), Some(1), Some(2), Some(3), Some(4), Some(5), None],
            "a Quartz",
        ),
        6 if has_q(2) || has_q(4) => (
            [None, Some(0), Some(1), Some(2), Some(3), Some(4), Some(5)],
            "an AWS EventBridge",
        ),
        _ if any_q => {
            let q = line.find('?').unwrap_or(0);
            return Err(error(
                None,
                q..q + 1,
                "`?` is Quartz syntax, not cron's; cron writes `*` for a day field it does \
                 not restrict"
                    .into(),
            ));
        }
        _ => return Ok(()),
    };
    let get = |slot: usize| layout[slot].map(|k| words[k].text);
    let mut fields: Vec<String> = (0..6)
        .map(|slot| get(slot).unwrap_or("0").replace('?', "*"))
        .collect();
    let numbered_weekdays = fields[5].bytes().any(|b| b.is_ascii_digit());
    fields[5] = shift_weekdays(&fields[5]);
    for (index, field) in fields.iter_mut().enumerate() {
        *field = with_ranged_steps(index, field);
    }
    let year = get(6).filter(|y| *y != "*" && *y != "?");
    let seconds_first = layout[0].is_some();
    let traits = if seconds_first {
        "seconds first, a year last if any, `?` for an open day field, weekdays 1 = Sunday"
    } else {
        "minutes first, a year last, `?` for an open day field, weekdays 1 = Sunday"
    };
    let mut message = format!(
        "{}this is {origin} line ({traits}), not cron (read as cron, its fields mean something else)",
        if words.len() == 7 {
            "found 7 fields: "
        } else {
            ""
        },
    );
    let six = fields.join(" ");
    if super::CronSchedule::parse(&six, chrono_tz::Tz::UTC).is_ok() {
        let five = fields[1..].join(" ");
        let line = if fields[0] == "0" {
            format!("`{five}` (with seconds: `{six}`)")
        } else {
            format!("`{six}`")
        };
        message.push_str(&format!("; in cron: {line}"));
        if let Some(year) = year {
            message.push_str(&format!(
                ", with no year: cron has no year field (`{year}`)"
            ));
        }
    } else {
        message.push_str("; write it in cron's five fields: minute hour day-of-month month day-of-week (0 or 7 = Sunday)");
    }
    if numbered_weekdays && origin == "a Quartz" && seconds_first {
        message.push_str(
            "; if it comes from Spring, whose weekdays are numbered as in cron, write \
             `*` for `?`",
        );
    }
    // The whole line is at fault: no narrower span.
    Err(CronError {
        field: None,
        message,
        span: None,
    })
}

/// Quartz weekday numbers (1 = Sunday ... 7 = Saturday) as cron's (0-6);
/// a number after `/` or `#` is a count, not a day.
fn shift_weekdays(field: &str) -> String {
    let mut out = String::new();
    let mut prev = ' ';
    let mut chars = field.chars().peekable();
    while let Some(c) = chars.next() {
        if c.is_ascii_digit() {
            let mut n = c.to_string();
            while let Some(d) = chars.peek().filter(|d| d.is_ascii_digit()) {
                n.push(*d);
                chars.next();
            }
            let shifted = match n.parse::<u32>() {
                Ok(v @ 1..=7) if prev != '/' && prev != '#' => (v - 1).to_string(),
                _ => n.clone(),
            };
            out.push_str(&shifted);
            prev = '0';
        } else {
            out.push(c);
            prev = c;
        }
    }
    out
}

/// `0/15` (Quartz's single number with a step) as cron's `0-59/15`.
fn with_ranged_steps(index: usize, field: &str) -> String {
    let (_, low, high) = BOUNDS[index];
    let top = if index == 5 { 6 } else { high };
    field
        .split(',')
        .map(|item| match item.split_once('/') {
            Some((base, step)) if value(index, base) == Some(low) => format!("*/{step}"),
            Some((base, step)) if value(index, base).is_some() => {
                let as_name = !base.bytes().all(|b| b.is_ascii_digit());
                format!("{base}-{}/{step}", show(index, top, as_name))
            }
            _ => item.to_string(),
        })
        .collect::<Vec<_>>()
        .join(",")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err(line: &str) -> CronError {
        check(line).unwrap_err()
    }

    #[test]
    fn empty_items_point_at_the_comma() {
        let e = err("0 22, 10 * * *");
        assert_eq!(e.span, Some(4..5));
        assert!(
            e.message.contains("space after the `,` split the field"),
            "{e}"
        );
        assert!(e.message.contains("`0 22,10 * * *`"), "{e}");
        let e = err("0 22, * * *");
        assert_eq!(e.span, Some(4..5));
        let e = err("0 ,22 * * *");
        assert_eq!(e.span, Some(2..3));
        assert!(e.message.contains("space before"), "{e}");
        let e = err("0 22,,23 * * *");
        assert_eq!((e.span.clone(), e.field), (Some(4..5), Some("hour")));
        let e = err("0 0 * * 1,");
        assert_eq!(
            (e.span.clone(), e.field),
            (Some(9..10), Some("day-of-week"))
        );
        let e = err(",0 0 * * 1");
        assert_eq!((e.span.clone(), e.field), (Some(0..1), Some("minute")));
        assert!(check("0 1,2 * * 1,3").is_ok());
    }

    #[test]
    fn a_single_number_with_a_step_keeps_its_start_in_the_hint() {
        let e = err("0 1/6 * * *");
        assert_eq!((e.span.clone(), e.field), (Some(2..5), Some("hour")));
        assert!(
            e.message.contains("`1-23/6` keeps the start (1,7,13,19)"),
            "{e}"
        );
        assert!(
            e.message
                .contains("`*/6` would be another schedule (0,6,12,18)"),
            "{e}"
        );
        let e = err("5/15 * * * *");
        assert!(e.message.contains("`5-59/15`"), "{e}");
        let e = err("0 0 * * MON/2");
        assert!(e.message.contains("`MON-SAT/2`"), "{e}");
    }

    /// Random lines of cron characters: an answer for each, never a panic.
    #[test]
    fn any_line_gets_an_answer() {
        let alphabet: Vec<char> = "0123456789*/-,? LW#JANMONSUNFRIDECsat@\t".chars().collect();
        let mut seed: u64 = 0x9e37_79b9_7f4a_7c15;
        for _ in 0..20_000 {
            let len = (seed >> 59) as usize + 1;
            let line: String = (0..len * 2)
                .map(|_| {
                    seed = seed
                        .wrapping_mul(6_364_136_223_846_793_005)
                        .wrapping_add(1_442_695_040_888_963_407);
                    alphabet[(seed >> 33) as usize % alphabet.len()]
                })
                .collect();
            if let Err(e) = super::super::CronSchedule::parse(&line, chrono_tz::Tz::UTC)
                && let Some(span) = &e.span
            {
                assert!(span.end <= line.len(), "{line:?}: {e:?}");
            }
        }
    }

    #[test]
    fn out_of_range_starts_are_left_to_the_range_check() {
        let e = super::super::CronSchedule::parse("70/5 * * * *", chrono_tz::Tz::UTC).unwrap_err();
        assert!(!e.message.contains("70-59"), "{e}");
        assert_eq!(e.field, Some("minute"));
    }

    #[test]
    fn day_of_week_wraps_are_the_days_they_name() {
        assert_eq!(check("0 0 * * FRI-MON").unwrap(), "0 0 * * 5,6,0,1");
        assert_eq!(check("0 0 * * 5-1").unwrap(), "0 0 * * 5,6,0,1");
        assert_eq!(check("0 0 * * 6-0").unwrap(), "0 0 * * 6,0");
        assert_eq!(check("0 0 * * 5-0").unwrap(), "0 0 * * 5,6,0");
        assert_eq!(check("0 0 * * sat-sun").unwrap(), "0 0 * * 6,0");
        assert_eq!(check("0 0 * * 1,FRI-MON/2").unwrap(), "0 0 * * 1,5,0");
        assert_eq!(check("0 0 * * 7-1").unwrap(), "0 0 * * 0,1");
        assert_eq!(check("0 0 * * MON-FRI").unwrap(), "0 0 * * MON-FRI");
        assert_eq!(check("0 0 * * 5-7").unwrap(), "0 0 * * 5-7");
    }

    #[test]
    fn other_wraps_are_errors_with_the_split_range() {
        let e = err("0 22-2 * * *");
        assert_eq!((e.span.clone(), e.field), (Some(2..6), Some("hour")));
        assert!(e.message.contains("`22-23,0-2`"), "{e}");
        assert!(err("50-10 * * * *").message.contains("`50-59,0-10`"));
        assert!(err("0 0 * NOV-FEB *").message.contains("`NOV-DEC,JAN-FEB`"));
        assert!(err("0 0 * 11-2 *").message.contains("`11-12,1-2`"));
        assert!(err("0 0 25-5 * *").message.contains("`25-31,1-5`"));
        assert!(err("0 22-2/2 * * *").message.contains("`22,0,2`"));
    }

    #[test]
    fn quartz_lines_get_the_cron_line_that_means_the_same() {
        let e = err("0 0 12 ? * 2");
        assert!(e.message.contains("Quartz"), "{e}");
        assert!(
            e.message
                .contains("in cron: `0 12 * * 1` (with seconds: `0 0 12 * * 1`)"),
            "{e}"
        );
        let e = err("0 0/15 * * * ?");
        assert!(e.message.contains("`*/15 * * * *`"), "{e}");
        let e = err("0 30 9 ? * MON-FRI 2027");
        assert!(e.message.contains("`30 9 * * MON-FRI`"), "{e}");
        assert!(e.message.contains("no year"), "{e}");
        let e = err("0 0 9 ? * 6L");
        assert!(e.message.contains("`0 9 * * 5L`"), "{e}");
        let e = err("0 12 ? * 2 *");
        assert!(e.message.contains("AWS EventBridge"), "{e}");
        assert!(e.message.contains("`0 12 * * 1`"), "{e}");
        let e = err("0 12 * * ?");
        assert!(e.message.contains("`?` is Quartz syntax"), "{e}");
        assert_eq!(e.span, Some(9..10));
    }
}
