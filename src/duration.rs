//! Human durations (`30s`, `5m`, `1h30m`) as written in `jobs.toml` and on the
//! command line, and the short forms we print back.
//!
//! One grammar everywhere keeps `timeout`, `every`, `kill_grace`,
//! `--shutdown-grace` and `--since` consistent: a sequence of whole numbers,
//! each followed by a unit.

use std::time::Duration;

const UNITS: &[(&str, u64)] = &[
    ("ms", 1),
    ("s", 1_000),
    ("m", 60_000),
    ("h", 3_600_000),
    ("d", 86_400_000),
    ("w", 604_800_000),
];

/// What a valid duration looks like, for error messages.
pub const VALID: &str =
    "a whole number followed by a unit (ms, s, m, h, d, w), e.g. `30s`, `5m`, `1h30m`";

/// Parses `1h30m`, `90s`, `250ms`, `2d`. Zero is allowed here; callers that
/// need a positive duration say so themselves.
pub fn parse(text: &str) -> Result<Duration, String> {
    let s = text.trim();
    if s.is_empty() {
        return Err(format!("empty duration; expected {VALID}"));
    }
    if s.starts_with('-') {
        return Err(format!("`{text}` is negative; expected {VALID}"));
    }
    let mut total: u64 = 0;
    let mut rest = s;
    while !rest.is_empty() {
        let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
        if digits == 0 {
            return Err(format!("`{text}` is not a duration; expected {VALID}"));
        }
        let number: u64 = rest[..digits]
            .parse()
            .map_err(|_| format!("`{text}` is too large"))?;
        rest = &rest[digits..];
        let unit_len = rest.bytes().take_while(u8::is_ascii_alphabetic).count();
        let unit = &rest[..unit_len];
        if unit.is_empty() {
            return Err(format!(
                "`{text}` has a number without a unit; expected {VALID}"
            ));
        }
        let Some(&(_, millis)) = UNITS.iter().find(|(name, _)| *name == unit) else {
            return Err(format!(
                "`{text}` has an unknown unit `{unit}`; expected {VALID}"
            ));
        };
        total = number
            .checked_mul(millis)
            .and_then(|part| total.checked_add(part))
            .ok_or_else(|| format!("`{text}` is too large"))?;
        rest = rest[unit_len..].trim_start();
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
