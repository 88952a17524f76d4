//! `schedule check`'s warnings: what a valid config says that its author
//! probably did not mean. Errors stop a config from loading (see
//! `config.rs`); warnings only point at surprises: cron's day rule, uneven
//! steps, daylight-saving jumps, disabled jobs, commands not on PATH.

use chrono::{DateTime, Datelike, Utc};
use serde::Serialize;
use std::path::{Path, PathBuf};

use crate::config::{Config, Job};
use crate::schedule::{CronSchedule, Schedule};

/// One surprise, about one job and key, and where the key is set.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Warning {
    pub path: String,
    pub line: usize,
    pub column: usize,
    pub job: String,
    pub key: &'static str,
    pub message: String,
}

/// Every warning for `config` (whose file reads `text`), looking a year
/// ahead of `now`, with commands looked up on `path` (the scheduler's
/// `PATH`).
pub fn warnings(
    config: &Config,
    text: &str,
    now: DateTime<Utc>,
    path: Option<&str>,
) -> Vec<Warning> {
    let locator = crate::config::Locator::new(&config.path, text);
    let mut out = Vec::new();
    for job in &config.jobs {
        let mut warn = |key: &'static str, message: String| {
            let at = locator.locate(&job.name, key, String::new());
            out.push(Warning {
                path: at.diagnostic.path,
                line: at.diagnostic.line,
                column: at.diagnostic.column,
                job: job.name.to_string(),
                key,
                message,
            })
        };
        if !job.settings.enabled {
            warn(
                "enabled",
                "the job is disabled: it is listed but never fires".into(),
            );
        }
        // A cut-off host stops its runs at the end of its trust window;
        // the others may call them lost a lease + lost_grace after its
        // last renewal. A kill grace longer than the gap between the two
        // lets a run outlive its lease.
        if let Some(c) = &config.cluster {
            let room = (c.lease - c.trust() + c.lost_grace).saturating_sub(c.beat());
            if job.settings.kill_grace > room {
                warn(
                    "kill_grace",
                    format!(
                        "with [cluster] lease = {} and lost_grace = {}, a host cut off from the \
                         database has {} between stopping a run and another host calling it \
                         lost; a kill_grace of {} lets the run go on after that (raise \
                         lost_grace, or shorten kill_grace)",
                        crate::duration::format(c.lease),
                        crate::duration::format(c.lost_grace),
                        crate::duration::format(room),
                        crate::duration::format(job.settings.kill_grace)
                    ),
                );
            }
        }
        if config.cluster.is_none() && !job.settings.hosts.is_empty() {
            warn(
                "hosts",
                "`hosts` only applies to a cluster: without a [cluster] table this scheduler \
                 runs the job whatever its host's name"
                    .into(),
            );
        }
        if config.cluster.is_none() && job.settings.on_lost != crate::config::OnLost::Alert {
            warn(
                "on_lost",
                "`on_lost` only applies to a cluster: without a [cluster] table a run whose \
                 scheduler dies is marked interrupted at the next start"
                    .into(),
            );
        }
        if let Schedule::Cron(cron) = &job.schedule {
            if job.settings.enabled && cron.never_fires() {
                warn(
                    "cron",
                    "never fires: no date matches its day-of-month and month fields (cron \
                     accepts the line and never runs it too); `enabled = false` says so more \
                     clearly"
                        .into(),
                );
            }
            for msg in extensions(cron) {
                warn("cron", msg);
            }
            if let Some(msg) = day_rule(cron, now) {
                warn("cron", msg);
            }
            for msg in uneven_steps(cron) {
                warn("cron", msg);
            }
            for msg in dst(cron, now) {
                warn("cron", msg);
            }
        }
        if let Schedule::Every(every) = &job.schedule {
            for (key, msg) in every_by_the_clock(job, every.interval, now) {
                warn(key, msg);
            }
        }
        if let Some(msg) = missing_command(job, path) {
            warn("command", msg);
        }
        if let Some(msg) = relative_dir_missing(job, &locator) {
            warn("dir", msg);
        }
    }
    out
}

/// What makes every run of a job fail, found on this machine rather than
/// in the file: a `dir` given as an absolute path that does not exist, a
/// `shell` that cannot be found. Errors for `schedule check`, each where
/// the key is set (a relative `dir` only warns: it may be made later).
pub fn errors(config: &Config, text: &str, path: Option<&str>) -> Vec<crate::config::Diagnostic> {
    let locator = crate::config::Locator::new(&config.path, text);
    let mut out = Vec::new();
    for job in &config.jobs {
        if let Some(dir) = &job.settings.dir {
            let at = locator.locate(&job.name, "dir", String::new());
            let absolute = at
                .raw
                .as_deref()
                .is_none_or(|raw| Path::new(raw).is_absolute());
            if absolute && !dir.is_dir() {
                let why = if dir.exists() {
                    "is not a directory"
                } else {
                    "does not exist"
                };
                let mut d = at.diagnostic;
                d.message = format!(
                    "`{}` {why}, so every run would fail to start; give an existing directory",
                    dir.display()
                );
                out.push(d);
            }
        }
        if job.exec.is_none() && !shell_exists(&job.settings.shell, path) {
            let mut d = locator.locate(&job.name, "shell", String::new()).diagnostic;
            d.message = format!(
                "the shell `{}` {}, so every run would fail to start; give one that exists, \
                 such as `/bin/sh` or `bash`",
                job.settings.shell,
                if job.settings.shell.contains('/') {
                    "does not exist or is not executable"
                } else {
                    "is not found on PATH"
                }
            );
            out.push(d);
        }
    }
    out.sort_by_key(|d| (d.line, d.column));
    out
}

fn shell_exists(shell: &str, path: Option<&str>) -> bool {
    if shell.contains('/') {
        return is_executable(Path::new(shell));
    }
    path.unwrap_or("")
        .split(':')
        .filter(|d| !d.is_empty())
        .any(|dir| is_executable(&Path::new(dir).join(shell)))
}

/// A relative `dir` (resolved beside the config) that is not there yet.
fn relative_dir_missing(job: &Job, locator: &crate::config::Locator) -> Option<String> {
    let dir = job.settings.dir.as_ref()?;
    let raw = locator.locate(&job.name, "dir", String::new()).raw?;
    if Path::new(&raw).is_absolute() || dir.is_dir() {
        return None;
    }
    let here = if Path::new(&raw) == dir.as_path() {
        String::new()
    } else {
        format!(" (here `{}`)", dir.display())
    };
    Some(format!(
        "`{raw}`{here} does not exist yet; runs fail to start until it does"
    ))
}

/// `every` counts from the Unix epoch in UTC: a time zone changes nothing,
/// and a whole number of days fires at 00:00 UTC (19:00 in New York), a
/// whole number of weeks on Thursdays, the epoch's weekday.
fn every_by_the_clock(
    job: &Job,
    interval: std::time::Duration,
    now: DateTime<Utc>,
) -> Vec<(&'static str, String)> {
    const DAY: u64 = 86_400;
    let mut out = Vec::new();
    let secs = interval.as_secs();
    let whole_days = interval.subsec_nanos() == 0 && secs > 0 && secs.is_multiple_of(DAY);
    let every = crate::duration::format(interval);
    let next = job
        .schedule
        .next_after(now)
        .map(|t| t.with_timezone(&job.settings.timezone));
    let cron_form = if secs.is_multiple_of(7 * DAY) && whole_days {
        "cron = \"0 2 * * MON\""
    } else {
        "cron = \"0 2 * * *\""
    };
    if job.settings.timezone != chrono_tz::Tz::UTC {
        let when = next.map_or(String::new(), |t| {
            format!(" (next at {} {})", t.format("%H:%M"), t.format("%Z"))
        });
        out.push((
            "timezone",
            format!(
                "`every = \"{every}\"` counts from the Unix epoch in UTC, so `timezone = \"{}\"` \
                 changes nothing{when}; for a time of day in this zone use cron, e.g. `{cron_form}`",
                job.settings.timezone.name()
            ),
        ));
    }
    if whole_days {
        let when = next.map_or(String::new(), |t| {
            if secs.is_multiple_of(7 * DAY) {
                format!(
                    "on {}s at {} {} (the epoch's weekday and hour)",
                    t.format("%A"),
                    t.format("%H:%M"),
                    t.format("%Z")
                )
            } else {
                format!(
                    "at {} {} (the epoch's hour)",
                    t.format("%H:%M"),
                    t.format("%Z")
                )
            }
        });
        out.push((
            "every",
            format!(
                "`every = \"{every}\"` is a whole number of days: it fires {when}, not at a time \
                 you chose; for a time of day use cron, e.g. `{cron_form}`"
            ),
        ));
    }
    out
}

/// `#`, `L` and `W` are not cron(5)'s: other crons read them differently.
fn extensions(cron: &CronSchedule) -> Vec<String> {
    let f = cron.fields();
    let mut out = Vec::new();
    let (dom, dow) = (f[3].to_ascii_uppercase(), f[5].to_ascii_uppercase());
    if dow.contains('#') {
        out.push(format!(
            "`{}` uses `#` (the n-th weekday of the month), an extension: schedule and croner \
             read `1#1` as the first Monday, Debian's cron runs it every Monday (it ignores \
             what follows the day), cronie rejects the line",
            f[5]
        ));
    }
    let last_weekday = dow.split(',').any(|item| item.ends_with('L'));
    if dom.contains('L') || dom.contains('W') || last_weekday {
        let field = if last_weekday { &f[5] } else { &f[3] };
        out.push(format!(
            "`{field}` uses `L` or `W` (the last day, the nearest weekday), an extension: \
             Debian's cron rejects the line, and crons other than Quartz and croner read it \
             differently or not at all"
        ));
    }
    out
}

/// Both day fields restricted: cron runs the job on either.
fn day_rule(cron: &CronSchedule, now: DateTime<Utc>) -> Option<String> {
    let f = cron.fields();
    let wild = |s: &str| s.starts_with('*') || s.starts_with('?');
    if wild(&f[3]) || wild(&f[5]) {
        return None;
    }
    let days: Vec<String> = Schedule::Cron(Box::new(cron.clone()))
        .upcoming(now, 4)
        .into_iter()
        .map(|t| {
            let local = t.with_timezone(&cron.timezone());
            format!("{} ({})", local.format("%Y-%m-%d"), local.weekday())
        })
        .collect();
    Some(format!(
        "both day fields are restricted (day-of-month `{}`, day-of-week `{}`), so cron's day rule \
         runs it on days that match EITHER; next: {}. To need both, make one field `*` and test \
         the other in the command",
        f[3],
        f[5],
        days.join(", ")
    ))
}

/// `*/7` in a 60-minute hour: :56 then :00.
fn uneven_steps(cron: &CronSchedule) -> Vec<String> {
    // (field index, name, lowest, size, the unit of `every` that fits).
    const FIELDS: [(usize, &str, u32, u32, &str); 4] = [
        (0, "second", 0, 60, "s"),
        (1, "minute", 0, 60, "m"),
        (2, "hour", 0, 24, "h"),
        (4, "month", 1, 12, ""),
    ];
    let mut out = Vec::new();
    for (index, name, low, size, unit) in FIELDS {
        for part in cron.fields()[index].split(',') {
            let Some((range, step)) = part.split_once('/') else {
                continue;
            };
            let Ok(step) = step.parse::<u32>() else {
                continue;
            };
            let (start, end) = match range {
                "*" => (low, low + size - 1),
                r => match r.split_once('-') {
                    Some((a, b)) => match (a.parse::<u32>(), b.parse::<u32>()) {
                        (Ok(a), Ok(b)) => (a, b),
                        _ => continue,
                    },
                    None => continue,
                },
            };
            let len = end.saturating_sub(start) + 1;
            if step == 0 || step >= len {
                continue;
            }
            let last = start + (len - 1) / step * step;
            if range == "*" {
                // A whole cycle: the step must also carry over evenly into
                // the next hour, day or year.
                let gap = size - (last - start);
                if gap == step {
                    continue;
                }
                let hint = if unit.is_empty() {
                    String::new()
                } else {
                    format!("; for an even rhythm use `every = \"{step}{unit}\"`")
                };
                out.push(format!(
                    "`{part}` in the {name} field does not divide evenly: it runs at {name} \
                     {last} and then at {start} again, {gap} later, not {step}{hint}"
                ));
            } else if last != end {
                // A window: it is fine to restart at its beginning, but the
                // step should reach its end.
                out.push(format!(
                    "`{part}` in the {name} field never reaches {end}: the last {name} it runs \
                     at is {last}"
                ));
            }
        }
    }
    out
}

/// A fixed-time job's wall-clock times that its zone skips or repeats in the
/// coming year.
fn dst(cron: &CronSchedule, now: DateTime<Utc>) -> Vec<String> {
    let tz = cron.timezone();
    let mut out = Vec::new();
    let mut seen_gap = false;
    let mut seen_repeat = false;
    let surprises = cron.dst_surprises(now, 366);
    for s in &surprises {
        let runs_at = s.runs_at.with_timezone(&tz).format("%H:%M:%S %Z");
        let wall = s.wall.format("%Y-%m-%d %H:%M:%S");
        if s.skipped && !seen_gap {
            seen_gap = true;
            // Each skipped time is a run of its own at the jump, and the
            // landing time's own run comes on top when it matches.
            let skipped = surprises
                .iter()
                .filter(|o| o.skipped && o.runs_at == s.runs_at)
                .count();
            let landing = cron
                .upcoming_points(s.runs_at - chrono::TimeDelta::seconds(1), skipped + 1)
                .iter()
                .filter(|p| p.at == s.runs_at)
                .count();
            let runs = match landing {
                1 => "once".to_string(),
                2 => "twice".to_string(),
                n => format!("{n} times"),
            };
            let own = if landing > skipped {
                ", the last for its own time"
            } else {
                ""
            };
            out.push(format!(
                "{wall} does not exist in {tz} (the clocks jump forward); like cron, the job runs \
                 {runs} at {runs_at}, the first instant after the jump (once for each skipped \
                 time{own})"
            ));
        } else if !s.skipped && !seen_repeat {
            seen_repeat = true;
            out.push(format!(
                "{wall} happens twice in {tz} (the clocks go back); like cron, the job runs only \
                 the first time, at {runs_at}"
            ));
        }
    }
    out
}

/// Shell words that need no program on PATH.
const SHELL_WORDS: &[&str] = &[
    "!", ".", ":", "[", "[[", "alias", "break", "case", "cd", "command", "continue", "echo",
    "eval", "exec", "exit", "export", "false", "for", "function", "if", "kill", "printf", "pwd",
    "read", "return", "set", "shift", "source", "test", "trap", "true", "type", "ulimit", "umask",
    "unset", "until", "wait", "while", "{", "(",
];

/// Programs that run the next word as the command.
const WRAPPERS: &[&str] = &[
    "env", "exec", "nice", "nohup", "sudo", "time", "timeout", "command", "stdbuf", "ionice",
    "chrt",
];

/// The command's first word is neither a shell word nor a program we can
/// find. Only for POSIX shells, which the word splitting below imitates.
fn missing_command(job: &Job, path: Option<&str>) -> Option<String> {
    if let Some(program) = job.exec.as_ref().and_then(|words| words.first()) {
        return missing_program(job, path, program);
    }
    let shell = Path::new(&*job.settings.shell).file_name()?.to_str()?;
    if !matches!(
        shell,
        "sh" | "bash" | "dash" | "zsh" | "ksh" | "ash" | "mksh" | "busybox"
    ) {
        return None;
    }
    let words = shell_words(&job.command);
    let mut words = words.iter().map(String::as_str).peekable();
    let word = loop {
        let word = words.next()?;
        if word.contains('=') && !word.starts_with('=') {
            continue; // VAR=value
        }
        if WRAPPERS.contains(&word) {
            // Their options, `env`'s assignments and `timeout`'s duration.
            while let Some(next) = words.peek() {
                let skip = next.starts_with('-')
                    || (word == "env" && next.contains('='))
                    || (word == "timeout" && next.starts_with(|c: char| c.is_ascii_digit()))
                    || (word == "nice" && next.parse::<i32>().is_ok());
                if !skip {
                    break;
                }
                words.next();
            }
            continue;
        }
        break word;
    };
    if word.is_empty() || SHELL_WORDS.contains(&word) || word.contains('$') || word.contains('`') {
        return None;
    }
    missing_program(job, path, word)
}

/// `word` names no executable file, directly or on the job's PATH.
fn missing_program(job: &Job, path: Option<&str>, word: &str) -> Option<String> {
    let word = match (word.strip_prefix("~/"), std::env::var("HOME")) {
        (Some(rest), Ok(home)) => format!("{home}/{rest}"),
        _ => word.to_string(),
    };
    let found = if word.contains('/') {
        let file = PathBuf::from(&word);
        let file = match (&job.settings.dir, file.is_relative()) {
            (Some(dir), true) => dir.join(file),
            _ => file,
        };
        is_executable(&file)
    } else {
        let job_path = job
            .settings
            .env
            .iter()
            .find(|(k, _)| k == "PATH")
            .map(|(_, v)| v.as_str());
        job_path
            .or(path)
            .unwrap_or("")
            .split(':')
            .filter(|d| !d.is_empty())
            .any(|dir| is_executable(&Path::new(dir).join(&word)))
    };
    (!found).then(|| {
        format!(
            "`{word}`, the program the command starts, {}; the run will fail unless it \
             exists when the job fires",
            if !word.contains('/') {
                "is not found on PATH"
            } else if Path::new(&word).exists()
                || job
                    .settings
                    .dir
                    .as_ref()
                    .is_some_and(|d| d.join(&word).exists())
            {
                "is not executable (no x permission, or not a file)"
            } else {
                "does not exist (no such file)"
            }
        )
    })
}

/// The words of a shell command up to its first operator (`;`, `|`, `&`,
/// `<`, `>`, parentheses), with quotes removed: enough to find the program.
fn shell_words(command: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut word = String::new();
    let mut quote: Option<char> = None;
    let mut started = false;
    for c in command.chars() {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some(_), c) => word.push(c),
            (None, '\'' | '"') => {
                quote = Some(c);
                started = true;
            }
            (None, c) if c.is_whitespace() => {
                if started || !word.is_empty() {
                    words.push(std::mem::take(&mut word));
                    started = false;
                }
            }
            (None, ';' | '|' | '&' | '<' | '>' | '(' | ')') => {
                if started || !word.is_empty() {
                    words.push(std::mem::take(&mut word));
                    started = false;
                }
                if !words.is_empty() {
                    return words;
                }
            }
            (None, c) => word.push(c),
        }
    }
    if started || !word.is_empty() {
        words.push(word);
    }
    words
}

fn is_executable(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn warn(toml: &str) -> Vec<Warning> {
        let config = crate::config::parse(Path::new("jobs.toml"), toml).unwrap();
        let now = DateTime::parse_from_rfc3339("2026-11-21T12:00:00Z")
            .unwrap()
            .with_timezone(&Utc);
        warnings(&config, toml, now, Some("/usr/bin:/bin"))
    }

    #[test]
    fn a_line_that_never_fires_is_a_warning() {
        let w = only("[jobs.a]\ncron = \"0 0 30 2 *\"\ncommand = \"true\"\n");
        assert_eq!(w.key, "cron");
        assert!(w.message.starts_with("never fires"), "{w:?}");
        assert!(w.message.contains("`enabled = false`"), "{w:?}");
        // Disabled, it says so already: one warning, about `enabled`.
        let w = only("[jobs.a]\ncron = \"0 0 31 2 *\"\ncommand = \"true\"\nenabled = false\n");
        assert_eq!(w.key, "enabled");
    }

    #[test]
    fn hash_l_and_w_are_called_extensions() {
        let w = only("[jobs.a]\ncron = \"0 9 * * 1#1\"\ncommand = \"true\"\n");
        assert!(
            w.message.contains("Debian's cron runs it every Monday"),
            "{w:?}"
        );
        assert!(w.message.contains("cronie rejects"), "{w:?}");
        for expr in ["0 9 L * *", "0 9 15W * *", "0 9 * * 5L"] {
            let w = only(&format!(
                "[jobs.a]\ncron = \"{expr}\"\ncommand = \"true\"\n"
            ));
            assert!(w.message.contains("extension"), "{expr}: {w:?}");
        }
        assert!(warn("[jobs.a]\ncron = \"0 9 * JUL SAT\"\ncommand = \"true\"\n").is_empty());
        assert!(warn("[jobs.a]\ncron = \"0 9 * * SAT\"\ncommand = \"true\"\n").is_empty());
    }

    fn only(toml: &str) -> Warning {
        let mut w = warn(toml);
        assert_eq!(w.len(), 1, "{w:#?}");
        w.remove(0)
    }

    #[test]
    fn a_kill_grace_that_outlasts_the_lease_is_pointed_out() {
        let w = only(
            "[cluster]\nlease = \"30s\"\nlost_grace = \"5s\"\n\
             [jobs.a]\nevery = \"5m\"\ncommand = \"true\"\nkill_grace = \"20s\"\n",
        );
        assert_eq!(w.key, "kill_grace");
        assert!(w.message.contains("10s between"), "{}", w.message);
        assert!(warn("[cluster]\n[jobs.a]\nevery = \"5m\"\ncommand = \"true\"\n").is_empty());
    }

    #[test]
    fn cluster_settings_without_a_cluster_are_pointed_out() {
        let w = only("[jobs.a]\nevery = \"5m\"\ncommand = \"true\"\nhosts = [\"disk-*\"]\n");
        assert_eq!((w.job.as_str(), w.key), ("a", "hosts"));
        assert_eq!(w.line, 4);
        let w = only("[jobs.a]\nevery = \"5m\"\ncommand = \"true\"\non_lost = \"retry\"\n");
        assert_eq!(w.key, "on_lost");
        assert!(
            warn("[cluster]\n[jobs.a]\nevery = \"5m\"\ncommand = \"true\"\nhosts = [\"d\"]\n")
                .is_empty()
        );
    }

    #[test]
    fn a_clean_config_has_no_warnings() {
        assert_eq!(
            warn(
                "[jobs.a]\ncron = \"0 2 * * *\"\ncommand = \"true\"\n[jobs.b]\nevery = \"5m\"\ncommand = \"ls /\"\n"
            ),
            []
        );
    }

    #[test]
    fn both_day_fields_restricted_says_which_days() {
        let w = only("[jobs.a]\ncron = \"0 0 1 * MON\"\ncommand = \"true\"\n");
        assert_eq!((w.job.as_str(), w.key), ("a", "cron"));
        assert!(w.message.contains("EITHER"), "{}", w.message);
        assert!(
            w.message.contains("2026-11-23 (Mon)") && w.message.contains("2026-12-01 (Tue)"),
            "{}",
            w.message
        );
    }

    #[test]
    fn uneven_steps_suggest_every() {
        let w = only("[jobs.a]\ncron = \"*/7 * * * *\"\ncommand = \"true\"\n");
        assert!(
            w.message.contains("minute 56 and then at 0 again, 4 later"),
            "{}",
            w.message
        );
        assert!(w.message.contains("every = \"7m\""), "{}", w.message);
        let w = only("[jobs.a]\ncron = \"0 */5 * * *\"\ncommand = \"true\"\n");
        assert!(
            w.message.contains("hour 20 and then at 0 again, 4 later"),
            "{}",
            w.message
        );
        // Even steps are fine.
        assert_eq!(
            warn("[jobs.a]\ncron = \"*/15 */6 * */3 *\"\ncommand = \"true\"\n"),
            []
        );
    }

    #[test]
    fn fixed_time_jobs_in_a_dst_gap_or_repeat_are_explained() {
        let w = warn(
            "[jobs.a]\ncron = \"30 2 * * *\"\ntimezone = \"Europe/Berlin\"\ncommand = \"true\"\n",
        );
        assert_eq!(w.len(), 2, "{w:#?}");
        assert!(
            w[0].message.contains("2027-03-28 02:30:00 does not exist")
                && w[0].message.contains("03:00:00 CEST"),
            "{}",
            w[0].message
        );
        assert!(
            w[1].message.contains("2027-10-31 02:30:00 happens twice")
                && w[1].message.contains("02:30:00 CEST"),
            "{}",
            w[1].message
        );
        // Wildcard jobs follow real instants: nothing to explain.
        assert_eq!(
            warn(
                "[jobs.a]\ncron = \"30 * * * *\"\ntimezone = \"Europe/Berlin\"\ncommand = \"true\"\n"
            ),
            []
        );
    }

    #[test]
    fn disabled_jobs_and_missing_programs() {
        let w = only("[jobs.a]\nevery = \"1m\"\ncommand = \"true\"\nenabled = false\n");
        assert_eq!(w.key, "enabled");
        let w = only("[jobs.a]\nevery = \"1m\"\ncommand = \"pg_dumpp --all > x\"\n");
        assert_eq!(w.key, "command");
        assert!(w.message.contains("`pg_dumpp`"), "{}", w.message);
        let w = only("[jobs.a]\nevery = \"1m\"\ncommand = \"./nope.sh\"\ndir = \"/tmp\"\n");
        assert!(w.message.contains("`./nope.sh`"), "{}", w.message);
        // The exec form's program, whatever the shell.
        let w = only(
            "[jobs.a]\nevery = \"1m\"\ncommand = [\"pg_dumpp\", \"--all\"]\nshell = \"/usr/bin/fish\"\n",
        );
        assert!(w.message.contains("`pg_dumpp`"), "{}", w.message);
        assert_eq!(
            warn("[jobs.a]\nevery = \"1m\"\ncommand = [\"sh\", \"-c\", \"nope\"]\n"),
            []
        );
        // Shell words, variables and env prefixes are not programs to find.
        assert_eq!(
            warn(
                "[jobs.a]\nevery = \"1m\"\ncommand = \"FOO=1 sh -c true\"\n[jobs.b]\nevery = \"1m\"\ncommand = \"if true; then :; fi\"\n[jobs.c]\nevery = \"1m\"\ncommand = \"$HOME/x\"\n"
            ),
            []
        );
        // A job's own PATH counts.
        let w =
            warn("[jobs.a]\nevery = \"1m\"\ncommand = \"ls\"\nenv = { PATH = \"/nonexistent\" }\n");
        assert_eq!(w.len(), 1);
    }

    #[test]
    fn windows_the_step_fills_are_fine_and_the_ones_it_misses_say_so() {
        assert_eq!(
            warn("[jobs.a]\ncron = \"0-30/10 1-5/2 * * *\"\ncommand = \"true\"\n"),
            []
        );
        assert_eq!(
            warn("[jobs.a]\ncron = \"0 9-17/2 * * MON-FRI\"\ncommand = \"true\"\n"),
            []
        );
        let w = only("[jobs.a]\ncron = \"0-30/7 * * * *\"\ncommand = \"true\"\n");
        assert!(
            w.message
                .contains("never reaches 30: the last minute it runs at is 28"),
            "{}",
            w.message
        );
    }

    #[test]
    fn the_program_is_found_past_quotes_operators_and_wrappers() {
        let clean = "[jobs.a]\nevery = \"1m\"\ncommand = 'FOO=\"a b\" ls'\n\
                     [jobs.b]\nevery = \"1m\"\ncommand = \"date>>/tmp/x.log\"\n\
                     [jobs.c]\nevery = \"1m\"\ncommand = \"ls;echo\"\n";
        assert_eq!(warn(clean), []);
        for missing in [
            "env FOO=1 nosuchprog_xyz",
            "exec nosuchprog_xyz",
            "timeout 5 nosuchprog_xyz -v",
            "nice -n 5 nosuchprog_xyz",
        ] {
            let w = only(&format!(
                "[jobs.a]\nevery = \"1m\"\ncommand = \"{missing}\"\n"
            ));
            assert!(
                w.message.contains("`nosuchprog_xyz`"),
                "{missing}: {}",
                w.message
            );
        }
        // Not a POSIX shell: not ours to parse.
        assert_eq!(
            warn(
                "[jobs.a]\nevery = \"1m\"\ncommand = \"print('hi')\"\nshell = \"/usr/bin/python3\"\n"
            ),
            []
        );
    }
}
