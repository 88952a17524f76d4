//! Human durations (`30s`, `5m`, `1h30m`) as written in `jobs.toml` and on the
//! command line, and the short forms we print back.
//!
//! One grammar everywhere keeps `timeout`, `every`, `kill_grace`,
//! `--shutdown-grace` and `--since` consistent: a sequence of whole numbers,
//! each followed by a unit, spelt short (`5m`) or as people write it
//! (`5 minutes`, `5min`), each unit once. Hand-written rather than
//! `humantime`, which takes `1s1s`, months and nanoseconds, and whose errors
//! would need translating anyway.

use std::time::Duration;

const UNITS: &[(&str, u64)] = &[
    ("ms", 1),
    ("s", 1_000),
    ("m", 60_000),
    ("h", 3_600_000),
    ("d", 86_400_000),
    ("w", 604_800_000),
];

/// The spellings people write for each unit of [`UNITS`].
const SPELLINGS: &[(&str, &[&str])] = &[
    (
        "ms",
        &[
            "ms",
            "msec",
            "msecs",
            "millis",
            "millisecond",
            "milliseconds",
        ],
    ),
    ("s", &["s", "sec", "secs", "second", "seconds"]),
    ("m", &["m", "min", "mins", "minute", "minutes"]),
    ("h", &["h", "hr", "hrs", "hour", "hours"]),
    ("d", &["d", "day", "days"]),
    ("w", &["w", "week", "weeks"]),
];

/// What a valid duration looks like, for error messages.
pub const VALID: &str = "whole numbers each followed by a unit (ms, s, m, h, d, w, or spelt out: \
     `min`, `minutes`, `hours`...), e.g. `30s`, `5m`, `1h30m`, `2 hours`";

/// Parses `1h30m`, `90s`, `250ms`, `2d`, and the spellings people use:
/// `5 minutes`, `10 s`, `5min`, `1h 30m`, `2 hours`. Each unit at most
/// once (`1s1s` is a typo, not two seconds). Zero is allowed here; callers
/// that need a positive duration say so themselves.
pub fn parse(text: &str) -> Result<Duration, String> {
    let s = text.trim();
    if s.is_empty() {
        return Err(format!("empty duration; expected {VALID}"));
    }
    if s.starts_with('-') {
        return Err(format!("`{text}` is negative; expected {VALID}"));
    }
    let mut total: u64 = 0;
    let mut seen: Vec<&str> = Vec::new();
    let mut rest = s;
    while !rest.is_empty() {
        let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
        if digits == 0 {
            return Err(format!("`{text}` is not a duration; expected {VALID}"));
        }
        let number: u64 = rest[..digits]
            .parse()
            .map_err(|_| format!("`{text}` is too large"))?;
        rest = rest[digits..].trim_start();
        let unit_len = rest.bytes().take_while(u8::is_ascii_alphabetic).count();
        let unit = &rest[..unit_len];
        if unit.is_empty() {
            let hint = if rest.starts_with(['.', ',']) {
                "; use a smaller unit for a fraction (`90m`, not `1.5h`)"
            } else {
                ""
            };
            return Err(format!(
                "`{text}` has a number without a unit{hint}; expected {VALID}"
            ));
        }
        let lower = unit.to_ascii_lowercase();
        let Some(&(canonical, _)) = SPELLINGS
            .iter()
            .find(|(_, names)| names.contains(&lower.as_str()))
        else {
            return Err(format!(
                "`{text}` has an unknown unit `{unit}`; expected {VALID}"
            ));
        };
        if seen.contains(&canonical) {
            return Err(format!(
                "`{text}` gives the unit `{canonical}` twice; write each unit once, e.g. `1h30m`"
            ));
        }
        seen.push(canonical);
        let millis = UNITS
            .iter()
            .find(|(name, _)| *name == canonical)
            .map_or(1, |&(_, m)| m);
        total = number
            .checked_mul(millis)
            .and_then(|part| total.checked_add(part))
            .ok_or_else(|| format!("`{text}` is too large"))?;
        rest = rest[unit_len..].trim_start();
        // `1h, 30m` and `1 hour and 30 minutes` read well too.
        rest = rest.strip_prefix(',').unwrap_or(rest).trim_start();
        if let Some(after) = rest.strip_prefix("and ") {
            rest = after.trim_start();
        }
    }
    Ok(Duration::from_millis(total))
}

/// The inverse of [`parse`] for whole units: `1h30m`, `45s`, `250ms`, `0s`.
pub fn format(d: Duration) -> String {
    let mut millis = d.as_millis() as u64;
    if millis == 0 {
        return "0s".to_string();
    }
    let mut out = String::new();
    for &(name, size) in UNITS.iter().rev().filter(|(name, _)| *name != "w") {
        if millis >= size {
            out.push_str(&format!("{}{name}", millis / size));
            millis %= size;
        }
    }
    out
}

/// A compact, human reading of an elapsed time: `850ms`, `1.2s`, `3m 04s`,
/// `2h 05m`, `3d 4h`. Precision shrinks as the value grows.
pub fn human(d: Duration) -> String {
    let ms = d.as_millis() as u64;
    let secs = ms / 1000;
    match secs {
        0 => format!("{ms}ms"),
        1..60 => format!("{:.1}s", ms as f64 / 1000.0),
        60..3600 => format!("{}m {:02}s", secs / 60, secs % 60),
        3600..86400 => format!("{}h {:02}m", secs / 3600, secs % 3600 / 60),
        _ => format!("{}d {}h", secs / 86400, secs % 86400 / 3600),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_units_and_combinations() {
        assert_eq!(parse("30s"), Ok(Duration::from_secs(30)));
        assert_eq!(parse("5m"), Ok(Duration::from_secs(300)));
        assert_eq!(parse("1h30m"), Ok(Duration::from_secs(5400)));
        assert_eq!(parse("1h 30m"), Ok(Duration::from_secs(5400)));
        assert_eq!(parse("250ms"), Ok(Duration::from_millis(250)));
        assert_eq!(parse("2d"), Ok(Duration::from_secs(172_800)));
        assert_eq!(parse("1w"), Ok(Duration::from_secs(604_800)));
        assert_eq!(parse("0s"), Ok(Duration::ZERO));
    }

    #[test]
    fn rejects_what_is_not_a_duration() {
        for bad in [
            "",
            "5",
            "m",
            "5x",
            "-5m",
            "1.5h",
            "5m3",
            "99999999999999999999s",
        ] {
            assert!(parse(bad).is_err(), "{bad:?} should be rejected");
        }
        assert!(parse("5").unwrap_err().contains("without a unit"));
        assert!(parse("5x").unwrap_err().contains("unknown unit `x`"));
        assert!(parse("1.5h").unwrap_err().contains("`90m`, not `1.5h`"));
    }

    #[test]
    fn accepts_the_spellings_people_use() {
        let min5 = Ok(Duration::from_secs(300));
        assert_eq!(parse("5 minutes"), min5);
        assert_eq!(parse("5min"), min5);
        assert_eq!(parse("5 mins"), min5);
        assert_eq!(parse("5 Minutes"), min5);
        assert_eq!(parse("10 s"), Ok(Duration::from_secs(10)));
        assert_eq!(parse("10 seconds"), Ok(Duration::from_secs(10)));
        assert_eq!(parse("2 hours"), Ok(Duration::from_secs(7200)));
        assert_eq!(parse("1 hour 30 minutes"), Ok(Duration::from_secs(5400)));
        assert_eq!(parse("1h, 30m"), Ok(Duration::from_secs(5400)));
        assert_eq!(
            parse("1 hour and 30 minutes"),
            Ok(Duration::from_secs(5400))
        );
        assert_eq!(parse("1 day"), Ok(Duration::from_secs(86400)));
        assert_eq!(parse("2 weeks"), Ok(Duration::from_secs(1_209_600)));
        assert_eq!(parse("250 millis"), Ok(Duration::from_millis(250)));
    }

    #[test]
    fn a_unit_given_twice_is_a_typo() {
        assert!(parse("1s1s").unwrap_err().contains("the unit `s` twice"));
        assert!(
            parse("1 min 2m")
                .unwrap_err()
                .contains("the unit `m` twice")
        );
    }

    #[test]
    fn formats_back_to_the_same_grammar() {
        for text in ["30s", "5m", "1h30m", "250ms", "2d", "1d2h3m4s5ms"] {
            assert_eq!(format(parse(text).unwrap()), text);
        }
        assert_eq!(format(Duration::ZERO), "0s");
    }

    #[test]
    fn human_forms() {
        assert_eq!(human(Duration::from_millis(850)), "850ms");
        assert_eq!(human(Duration::from_millis(1234)), "1.2s");
        assert_eq!(human(Duration::from_secs(184)), "3m 04s");
        assert_eq!(human(Duration::from_secs(7500)), "2h 05m");
        assert_eq!(human(Duration::from_secs(3 * 86400 + 4 * 3600)), "3d 4h");
    }
}
