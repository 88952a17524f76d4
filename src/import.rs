//! A crontab → a `jobs.toml`, so that moving over from cron is one command
//! (`schedule import crontab FILE`). Pure: text in, text out, no I/O.
//!
//! It reads a crontab as cron(8) does (Debian's Vixie cron): blank lines and
//! `#` comments; `NAME=value` lines, which set the environment of the
//! entries after them (optional matching quotes around the value, no
//! expansion); entries of five time fields or an `@` macro, then, in a
//! system crontab (`/etc/crontab`, `/etc/cron.d/*`), a user, then the
//! command, where the first unescaped `%` starts the command's stdin.
//!
//! What does not carry over is said in the output, as TOML comments next to
//! the job: the user column (jobs run as the scheduler's user), `MAILTO`
//! (schedule sends no mail; an `on_failure` hook is suggested), `@reboot`
//! (a disabled job with `run_on_start` and a placeholder schedule), and
//! lines that cannot be converted (kept as comments, with the reason).
//!
//! The output is written by hand, because it carries comments, but every
//! string goes through the `toml` crate's serializer, so quoting is right.

use crate::schedule::CronSchedule;
use chrono_tz::Tz;
use std::collections::{BTreeMap, HashSet};

/// How to read the crontab.
#[derive(Debug, Clone)]
pub struct Options {
    /// Shown in the output's header and in warnings.
    pub source: String,
    /// Entries have a user field between the schedule and the command.
    pub system: bool,
    /// The zone cron ran in (its local time), used unless `CRON_TZ`/`TZ`.
    pub timezone: Tz,
    /// Where `timezone` came from, for the comment beside it.
    pub timezone_origin: String,
}

/// The converted file and what did not convert.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Conversion {
    pub toml: String,
    /// How many jobs it has.
    pub jobs: usize,
    /// Lines kept as comments: where and why.
    pub skipped: Vec<Skipped>,
}

/// A crontab line that could not be converted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Skipped {
    pub line: usize,
    pub column: usize,
    pub reason: String,
}

/// The state cron keeps while it reads a crontab: what the `NAME=value`
/// lines so far have set.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
struct Environment {
    vars: BTreeMap<String, String>,
    shell: Option<String>,
    mailto: Option<String>,
    cron_tz: Option<String>,
    tz: Option<String>,
}

impl Environment {
    /// `CRON_TZ`, else `TZ`: the zone the schedule is read in.
    fn zone_name(&self) -> Option<&str> {
        self.cron_tz.as_deref().or(self.tz.as_deref())
    }
}

/// One converted entry.
struct Job {
    name: String,
    line: usize,
    source_line: String,
    cron: String,
    command: String,
    notes: Vec<String>,
    reboot: bool,
    env: Environment,
    timezone: Tz,
}

const MACROS: &[&str] = &[
    "@yearly",
    "@annually",
    "@monthly",
    "@weekly",
    "@daily",
    "@midnight",
    "@hourly",
];

/// Converts crontab bytes (lines that are not UTF-8 are kept as comments).
pub fn crontab(bytes: &[u8], options: &Options) -> Conversion {
    let mut env = Environment::default();
    // The environment before the first entry becomes `[defaults]`.
    let mut defaults: Option<Environment> = None;
    let mut items: Vec<Item> = Vec::new();
    let mut skipped = Vec::new();
    let mut names = HashSet::new();
    let mut previous_comment: Option<String> = None;

    let lines: Vec<&[u8]> = bytes.split(|b| *b == b'\n').collect();
    let count = if bytes.ends_with(b"\n") {
        lines.len() - 1
    } else {
        lines.len()
    };
    for (index, raw) in lines.into_iter().take(count).enumerate() {
        let number = index + 1;
        let raw = raw.strip_suffix(b"\r").unwrap_or(raw);
        let Ok(text) = std::str::from_utf8(raw) else {
            let reason = "the line is not valid UTF-8".to_string();
            skipped.push(Skipped {
                line: number,
                column: 1,
                reason: reason.clone(),
            });
            items.push(Item::Skipped {
                line: number,
                text: String::from_utf8_lossy(raw).into_owned(),
                reason,
            });
            previous_comment = None;
            continue;
        };
        let trimmed = text.trim_start();
        if trimmed.is_empty() {
            previous_comment = None;
            continue;
        }
        if let Some(comment) = trimmed.strip_prefix('#') {
            previous_comment = Some(comment.trim().to_string());
            continue;
        }
        let comment = previous_comment.take();
        let assignment = parse_assignment(trimmed).map(|a| {
            a.and_then(|(name, value)| match name.as_str() {
                "SHELL" if value.trim().is_empty() => Err(
                    "SHELL is empty, so cron could not run the entries after it; they keep \
                     the shell from before"
                        .to_string(),
                ),
                _ => Ok((name, value)),
            })
        });
        match assignment {
            Some(Ok((name, value))) => {
                match name.as_str() {
                    "SHELL" => env.shell = Some(value),
                    "MAILTO" => env.mailto = Some(value),
                    "CRON_TZ" => env.cron_tz = Some(value),
                    "TZ" => {
                        env.tz = Some(value.clone());
                        env.vars.insert(name, value);
                    }
                    _ => {
                        env.vars.insert(name, value);
                    }
                }
                continue;
            }
            Some(Err(reason)) => {
                let column = text.len() - trimmed.len() + 1;
                skipped.push(Skipped {
                    line: number,
                    column,
                    reason: reason.clone(),
                });
                items.push(Item::Skipped {
                    line: number,
                    text: text.to_string(),
                    reason,
                });
                continue;
            }
            None => {}
        }
        defaults.get_or_insert_with(|| env.clone());
        match entry(text, number, &env, options) {
            Ok(mut job) => {
                let base = comment
                    .as_deref()
                    .and_then(description_name)
                    .unwrap_or_else(|| format!("line-{number}"));
                job.name = unique(&base, &mut names);
                items.push(Item::Job(Box::new(job)));
            }
            Err((column, reason)) => {
                skipped.push(Skipped {
                    line: number,
                    column,
                    reason: reason.clone(),
                });
                items.push(Item::Skipped {
                    line: number,
                    text: text.to_string(),
                    reason,
                });
            }
        }
    }

    let defaults = defaults.unwrap_or(env);
    let jobs = items.iter().filter(|i| matches!(i, Item::Job(_))).count();
    Conversion {
        toml: render(&items, &defaults, options),
        jobs,
        skipped,
    }
}

enum Item {
    Job(Box<Job>),
    Skipped {
        line: usize,
        text: String,
        reason: String,
    },
}

/// `NAME=value` as cron reads it: `None` when the line is not an
/// assignment (so it is an entry), an error when it is a broken one.
fn parse_assignment(line: &str) -> Option<Result<(String, String), String>> {
    let end = line
        .find(|c: char| c == '=' || c.is_whitespace())
        .unwrap_or(line.len());
    let (name, rest) = line.split_at(end);
    let value = rest.trim_start().strip_prefix('=')?;
    let name = unquote(name).unwrap_or(name);
    if name.is_empty() || name.contains('\0') {
        return Some(Err("an assignment needs a name before `=`".into()));
    }
    let value = value.trim();
    let value = match value.chars().next() {
        Some(q @ ('"' | '\'')) => match unquote(value) {
            Some(inner) => inner,
            None => {
                return Some(Err(format!(
                    "the value starts with {q} but does not end with one; close the quote"
                )));
            }
        },
        _ => value,
    };
    if value.contains('\0') {
        return Some(Err("the value contains a NUL character".into()));
    }
    Some(Ok((name.to_string(), value.to_string())))
}

/// The inside of `"..."` or `'...'`.
fn unquote(s: &str) -> Option<&str> {
    let q = s.chars().next().filter(|c| *c == '"' || *c == '\'')?;
    let inner = s.get(1..)?.strip_suffix(q)?;
    Some(inner)
}

/// Splits off the next whitespace-separated word: (word, its byte offset, rest).
fn next_word(s: &str, offset: usize) -> Option<(&str, usize, &str, usize)> {
    let start = s.len() - s.trim_start().len();
    let s2 = &s[start..];
    if s2.is_empty() {
        return None;
    }
    let end = s2.find(char::is_whitespace).unwrap_or(s2.len());
    Some((&s2[..end], offset + start, &s2[end..], offset + start + end))
}

/// One entry line → a job, or (column, reason).
fn entry(
    text: &str,
    line: usize,
    env: &Environment,
    options: &Options,
) -> Result<Job, (usize, String)> {
    let column = |offset: usize| text[..offset].chars().count() + 1;
    let mut rest = text;
    let mut offset = 0;
    let mut fields: Vec<(&str, usize)> = Vec::new();
    let mut reboot = false;
    let cron;
    let (first, at, after, off) = next_word(rest, offset).ok_or((1, "empty entry".to_string()))?;
    if first.starts_with('@') {
        if first == "@reboot" {
            reboot = true;
            cron = "@yearly".to_string();
        } else if MACROS.contains(&first) {
            cron = first.to_string();
        } else {
            return Err((
                column(at),
                format!(
                    "unknown macro `{first}`; cron(8) knows @reboot, {}",
                    MACROS.join(", ")
                ),
            ));
        }
        rest = after;
        offset = off;
    } else {
        fields.push((first, at));
        rest = after;
        offset = off;
        for _ in 1..5 {
            match next_word(rest, offset) {
                Some((word, at, after, off)) => {
                    fields.push((word, at));
                    rest = after;
                    offset = off;
                }
                None => {
                    return Err((
                        column(text.len()),
                        format!(
                            "only {} time fields; an entry has five (minute, hour, day of \
                             month, month, day of week), then {}the command",
                            fields.len(),
                            if options.system {
                                "the user, then "
                            } else {
                                ""
                            }
                        ),
                    ));
                }
            }
        }
        for (field, at) in &fields {
            if let Some(c) = field
                .chars()
                .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '*' | ',' | '-' | '/')))
            {
                return Err((
                    column(*at),
                    format!(
                        "the field `{field}` has `{c}`, which cron(5) does not know; a field \
                         is made of numbers, names, `*`, lists `a,b`, ranges `a-b` and steps `/n`"
                    ),
                ));
            }
        }
        cron = fields.iter().map(|(f, _)| *f).collect::<Vec<_>>().join(" ");
    }

    let zone_name = env.zone_name();
    let timezone = match zone_name {
        None => options.timezone,
        Some(name) => name.trim_start_matches(':').parse::<Tz>().map_err(|_| {
            (
                1,
                format!(
                    "its time zone `{name}` (from CRON_TZ or TZ above) is not an IANA name \
                     such as `Europe/Berlin` or `UTC`"
                ),
            )
        })?,
    };
    if let Err(e) = CronSchedule::parse(&cron, timezone) {
        let at = match e.field {
            Some(name) => ["minute", "hour", "day-of-month", "month", "day-of-week"]
                .iter()
                .position(|f| *f == name)
                .and_then(|i| fields.get(i))
                .map_or(0, |(_, at)| *at),
            None => 0,
        };
        return Err((column(at), format!("invalid schedule `{cron}`: {e}")));
    }

    let mut notes = Vec::new();
    if env.cron_tz.is_none() && env.tz.is_some() {
        notes.push(
            "NOTE: the time zone comes from TZ; Debian's cron reads the schedule in local \
             time and only passes TZ on to the command: check that this zone is meant."
                .into(),
        );
    }
    if options.system {
        let Some((user, _, after, off)) = next_word(rest, offset) else {
            return Err((
                column(text.len()),
                "no user and command after the schedule (a system crontab has a user field)".into(),
            ));
        };
        notes.push(format!(
            "cron ran this as `{user}`; here it runs as the user of `schedule run`."
        ));
        rest = after;
        offset = off;
    }
    let command_start = offset + (rest.len() - rest.trim_start().len());
    let raw_command = rest.trim();
    if raw_command.is_empty() {
        return Err((
            column(command_start),
            "no command after the schedule".into(),
        ));
    }
    if !options.system && raw_command.split_whitespace().next() == Some("root") {
        notes.push(
            "NOTE: `root` looks like the user field of a system crontab; if it is one, \
             import it with --system."
                .into(),
        );
    }
    let (command, stdin) = split_percent(raw_command);
    let command = match stdin {
        None => command,
        Some(input) => {
            notes.push(
                "cron fed the text after `%` to stdin (more `%`s as newlines); here `printf` does."
                    .into(),
            );
            pipe_stdin(&input, &command)
        }
    };
    if command.trim().is_empty() {
        return Err((
            column(command_start),
            "the command before the first `%` is empty".into(),
        ));
    }
    Ok(Job {
        name: String::new(),
        line,
        source_line: text.to_string(),
        cron,
        command,
        notes,
        reboot,
        env: env.clone(),
        timezone,
    })
}

/// cron(8)'s `%` rule: the first unescaped `%` ends the command and starts
/// its stdin, where each further unescaped `%` is a newline; `\%` is a `%`
/// in both (other backslashes stay).
pub fn split_percent(raw: &str) -> (String, Option<String>) {
    let mut command = String::new();
    let mut chars = raw.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' if chars.peek() == Some(&'%') => {
                command.push('%');
                chars.next();
            }
            '%' => {
                let mut input = String::new();
                while let Some(c) = chars.next() {
                    match c {
                        '\\' if chars.peek() == Some(&'%') => {
                            input.push('%');
                            chars.next();
                        }
                        '%' => input.push('\n'),
                        c => input.push(c),
                    }
                }
                return (command, Some(input));
            }
            c => command.push(c),
        }
    }
    (command, None)
}

/// `printf '%s' 'INPUT' | { COMMAND; }`: the same stdin, in shell.
fn pipe_stdin(input: &str, command: &str) -> String {
    let quoted = format!("'{}'", input.replace('\'', "'\\''"));
    let command = command.trim_end();
    // `{ cmd; }` breaks on a trailing `&`, `;` or comment; a newline does not.
    if command.contains('#') || command.ends_with('&') || command.ends_with(';') {
        format!("printf '%s' {quoted} | {{\n{command}\n}}")
    } else {
        format!("printf '%s' {quoted} | {{ {command}; }}")
    }
}

/// A job name from the comment line above an entry, unless the comment
/// looks like a commented-out entry or a drawing (`# *  *  *  *  * command`).
fn description_name(comment: &str) -> Option<String> {
    let first = comment.chars().next()?;
    if matches!(first, '*' | '|' | '@' | '.' | '-' | '=') {
        return None;
    }
    let words: Vec<&str> = comment.split_whitespace().collect();
    let looks_like_fields = words.len() > 5
        && words[..5].iter().all(|w| {
            w.chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '*' | ',' | '-' | '/'))
        })
        && words[..5]
            .iter()
            .any(|w| w.chars().any(|c| c.is_ascii_digit() || c == '*'));
    if looks_like_fields && CronSchedule::parse(&words[..5].join(" "), Tz::UTC).is_ok() {
        return None;
    }
    if matches!(parse_assignment(comment), Some(Ok(_))) {
        return None;
    }
    let slug = slugify(comment, 40);
    (!slug.is_empty()).then_some(slug)
}

/// Lowercase letters and digits, other runs as one `-`, at most `max`
/// bytes, cut at a `-`.
pub fn slugify(text: &str, max: usize) -> String {
    let mut slug = String::new();
    for c in text.chars() {
        if c.is_ascii_alphanumeric() {
            slug.push(c.to_ascii_lowercase());
        } else if !slug.is_empty() && !slug.ends_with('-') {
            slug.push('-');
        }
    }
    let mut slug = slug.trim_end_matches('-').to_string();
    if slug.len() > max {
        let cut = slug[..=max].rfind('-').filter(|i| *i > 0).unwrap_or(max);
        slug.truncate(cut);
    }
    slug
}

fn unique(base: &str, names: &mut HashSet<String>) -> String {
    let mut name = base.to_string();
    let mut n = 2;
    while !names.insert(name.clone()) {
        name = format!("{base}-{n}");
        n += 1;
    }
    name
}

/// A TOML string, quoted by the `toml` crate.
fn string(s: &str) -> String {
    toml::Value::String(s.to_string()).to_string()
}

/// A TOML key: bare when it can be.
fn key(s: &str) -> String {
    if !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
    {
        s.to_string()
    } else {
        string(s)
    }
}

/// Text for a `#` comment: one line, no control characters.
fn comment(s: &str) -> String {
    s.chars()
        .map(|c| if c.is_control() && c != '\t' { '?' } else { c })
        .collect()
}

/// A shell word: as is when plain, else single-quoted.
fn shell_word(s: &str) -> String {
    if !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || "@.-_+,:/".contains(c))
    {
        s.to_string()
    } else {
        format!("'{}'", s.replace('\'', "'\\''"))
    }
}

/// The `on_failure` suggestion for `MAILTO`, as comment lines.
fn mailto_lines(out: &mut String, mailto: &str) {
    if mailto.is_empty() {
        out.push_str(
            "# MAILTO is empty: cron mailed nothing, and schedule sends no mail either.\n",
        );
        return;
    }
    let to: Vec<String> = mailto
        .split(|c: char| c == ',' || c.is_whitespace())
        .filter(|s| !s.is_empty())
        .map(shell_word)
        .collect();
    let hook = format!(
        "{{ echo \"Subject: $SCHEDULE_JOB $SCHEDULE_STATUS\"; echo; cat; }} | sendmail {}",
        to.join(" ")
    );
    out.push_str(&format!(
        "# MAILTO={}: cron mailed job output there; schedule sends no mail. To be\n\
         # mailed the output of a failed run, uncomment:\n# on_failure = {}\n",
        comment(mailto),
        string(&hook)
    ));
}

fn render(items: &[Item], defaults: &Environment, options: &Options) -> String {
    let mut out = String::new();
    out.push_str(&format!(
        "# Converted from {} by `schedule import crontab`.\n\
         # Unlike cron, every job runs as the user of `schedule run`, in its environment\n\
         # plus `env`, and its output goes to the history (`schedule history`), not to mail.\n\n",
        comment(&options.source)
    ));
    out.push_str("[defaults]\n");
    let default_zone = match defaults.zone_name() {
        Some(name) => {
            out.push_str("# From CRON_TZ or TZ in the crontab.\n");
            name.trim_start_matches(':')
                .parse::<Tz>()
                .unwrap_or(options.timezone)
        }
        None => {
            out.push_str(&format!(
                "# The time zone cron ran in: {}.\n",
                comment(&options.timezone_origin)
            ));
            options.timezone
        }
    };
    out.push_str(&format!("timezone = {}\n", string(default_zone.name())));
    if let Some(shell) = &defaults.shell {
        out.push_str(&format!("shell = {}\n", string(shell)));
    }
    if let Some(mailto) = &defaults.mailto {
        mailto_lines(&mut out, mailto);
    }
    if !defaults.vars.is_empty() {
        out.push_str("\n[defaults.env]\n");
        for (name, value) in &defaults.vars {
            out.push_str(&format!("{} = {}\n", key(name), string(value)));
        }
    }

    for item in items {
        out.push('\n');
        match item {
            Item::Skipped { line, text, reason } => {
                out.push_str(&format!(
                    "# NOT CONVERTED, line {line}: {}\n# {}\n",
                    comment(reason),
                    comment(text)
                ));
            }
            Item::Job(job) => render_job(&mut out, job, defaults, default_zone),
        }
    }
    out
}

fn render_job(out: &mut String, job: &Job, defaults: &Environment, default_zone: Tz) {
    out.push_str(&format!(
        "# line {}: {}\n",
        job.line,
        comment(job.source_line.trim())
    ));
    for note in &job.notes {
        out.push_str(&format!("# {}\n", comment(note)));
    }
    if job.reboot {
        out.push_str(
            "# NOTE: @reboot ran this when the machine started; `run_on_start` runs it when the\n\
             # scheduler starts. A job needs a schedule too: choose one in place of the\n\
             # placeholder `@yearly`, then delete `enabled = false`.\n",
        );
    }
    out.push_str(&format!("[jobs.{}]\n", key(&job.name)));
    if job.env.mailto != defaults.mailto
        && let Some(mailto) = &job.env.mailto
    {
        mailto_lines(out, mailto);
    }
    out.push_str(&format!("cron = {}\n", string(&job.cron)));
    if job.timezone != default_zone {
        out.push_str(&format!("timezone = {}\n", string(job.timezone.name())));
    }
    if job.env.shell != defaults.shell
        && let Some(shell) = &job.env.shell
    {
        out.push_str(&format!("shell = {}\n", string(shell)));
    }
    if job.reboot {
        out.push_str("run_on_start = true\nenabled = false\n");
    }
    out.push_str(&format!("command = {}\n", string(&job.command)));
    let changed: Vec<(&String, &String)> = job
        .env
        .vars
        .iter()
        .filter(|(name, value)| defaults.vars.get(*name) != Some(*value))
        .collect();
    if !changed.is_empty() {
        out.push_str(&format!("\n[jobs.{}.env]\n", key(&job.name)));
        for (name, value) in changed {
            out.push_str(&format!("{} = {}\n", key(name), string(value)));
        }
    }
}

#[cfg(test)]
mod tests;
