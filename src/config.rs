//! `jobs.toml` → validated job specs.
//!
//! We walk toml's spanned document tree by hand instead of deriving serde
//! structs so that every error can name the file, line and column, the job and
//! the key, say what would be valid, and so that all errors in a file are
//! reported at once rather than only the first.

use crate::duration;
use crate::schedule::{CronSchedule, Every, Schedule};
use chrono_tz::Tz;
use std::collections::HashMap;
use std::fmt;
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::time::Duration;
use toml::de::{DeTable, DeValue};

/// The default grace between SIGTERM and SIGKILL.
pub const DEFAULT_KILL_GRACE: Duration = Duration::from_secs(10);
pub const DEFAULT_SHELL: &str = "/bin/sh";

/// A loaded, valid configuration.
#[derive(Debug, Clone)]
pub struct Config {
    pub path: PathBuf,
    /// In the order they appear in the file; shared with the scheduler's
    /// engine rather than copied (10,000 jobs are 10,000 of these).
    pub jobs: Vec<std::sync::Arc<Job>>,
    pub scheduler: SchedulerSettings,
    /// `[cluster]`: several hosts share one PostgreSQL database.
    pub cluster: Option<ClusterSettings>,
    /// Positions in `jobs`, sorted by name: [`Config::job`] in O(log n)
    /// (the loop looks up every job at start-up and at a reload; with
    /// 100,000 jobs a linear search made that minutes). Rebuilt by
    /// [`Config::retain`]; stale only if `jobs` is changed in place, and
    /// then never wrong, only slow.
    by_name: Vec<u32>,
}

/// `[cluster]`: how the hosts that share a PostgreSQL database claim fires
/// and watch each other. Every duration is timed by the database's clock,
/// except the trust deadline, which a host keeps on its own monotonic one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClusterSettings {
    /// A run's lease and a host's heartbeat last this long unrenewed.
    pub lease: Duration,
    /// A host that is not a job's preferred one claims its fire only if it
    /// is still unclaimed after this long.
    pub takeover_delay: Duration,
    /// Above this difference between its clock and the database's, a host
    /// claims nothing.
    pub max_skew: Duration,
    /// A run whose lease expired this long ago is marked `lost`.
    pub lost_grace: Duration,
}

impl Default for ClusterSettings {
    fn default() -> Self {
        ClusterSettings {
            lease: Duration::from_secs(30),
            takeover_delay: Duration::from_secs(2),
            max_skew: Duration::from_secs(2),
            lost_grace: Duration::from_secs(10),
        }
    }
}

impl ClusterSettings {
    /// How often a host beats and renews its runs' leases.
    pub fn beat(&self) -> Duration {
        (self.lease / 6).max(Duration::from_millis(100))
    }

    /// How long after its last renewal that worked a host still trusts its
    /// leases: a third of the lease short of it, so that the children are
    /// stopped before anyone may call the run lost.
    pub fn trust(&self) -> Duration {
        self.lease - self.lease / 3
    }
}

/// `on_lost`: what follows when a run's host is gone.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Hash)]
pub enum OnLost {
    /// Record the run `lost` and say so; run nothing.
    #[default]
    Alert,
    /// Start the next attempt at once, on a host that is alive.
    Retry,
}

/// `[scheduler]`: settings of the loop as a whole.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SchedulerSettings {
    /// At most this many runs at once across all jobs; `None`: no limit.
    pub max_concurrent: Option<usize>,
    /// How many fires may wait for a free slot before new ones are skipped.
    pub max_queued: usize,
    /// Delete history rows scheduled longer ago than this.
    pub keep: Option<Duration>,
    /// Keep at most this many rows per job.
    pub keep_runs: Option<u64>,
    /// Serve `/health` and `/metrics` here (`schedule run --http` wins).
    pub http: Option<std::net::SocketAddr>,
    /// Where the jobs' output lines go besides the history.
    pub job_output: JobOutput,
    /// `passthrough`: each line starts with `[JOB] `.
    pub job_output_prefix: bool,
    /// The dashboard's actions (trigger, pause, resume) need this token;
    /// without one they are off. `SCHEDULE_HTTP_TOKEN` wins.
    pub http_token: Option<String>,
    /// The dashboard's read-only pages and API need the token too.
    pub http_token_read: bool,
    /// The SQLite database's mode (and its `-wal`/`-shm`'s): 0600 unless
    /// an operator group may read the history (`"0640"`).
    pub db_mode: u32,
}

/// `[scheduler] job_output`: what the scheduler does with each line a job
/// writes (the history keeps the tails whatever this says).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum JobOutput {
    /// A log line of the scheduler's, tagged with the job, run and stream.
    #[default]
    Log,
    /// Written through untouched: stdout to stdout, stderr to stderr.
    Passthrough,
    /// Nowhere.
    None,
}

impl Default for SchedulerSettings {
    fn default() -> Self {
        SchedulerSettings {
            max_concurrent: None,
            max_queued: 1000,
            keep: None,
            keep_runs: None,
            http: None,
            job_output: JobOutput::Log,
            job_output_prefix: false,
            http_token: None,
            http_token_read: false,
            db_mode: 0o600,
        }
    }
}

/// What a fire does when the job's previous run is still going.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Hash)]
pub enum Overlap {
    /// Record the fire `skipped`.
    #[default]
    Skip,
    /// Keep one pending fire; start it when the running one ends.
    Queue,
    /// Run side by side.
    Allow,
    /// Terminate the running one, then start.
    Replace,
}

/// What happens to fires missed while no scheduler ran.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Hash)]
pub enum Catchup {
    /// Record them `missed`; run nothing (cron).
    #[default]
    Skip,
    /// Run the most recent one, now.
    Latest,
    /// Run every one inside the window, oldest first.
    All,
}

pub const DEFAULT_RETRY_BACKOFF: Duration = Duration::from_secs(10);
pub const DEFAULT_RETRY_BACKOFF_MAX: Duration = Duration::from_secs(600);
pub const DEFAULT_CATCHUP_WINDOW: Duration = Duration::from_secs(3600);
pub const DEFAULT_HOOK_TIMEOUT: Duration = Duration::from_secs(30);

impl Config {
    fn new(path: PathBuf, jobs: Vec<std::sync::Arc<Job>>, scheduler: SchedulerSettings) -> Config {
        let mut config = Config {
            path,
            jobs,
            scheduler,
            cluster: None,
            by_name: Vec::new(),
        };
        config.index();
        config
    }

    fn index(&mut self) {
        let jobs = &self.jobs;
        let mut by_name: Vec<u32> = (0..jobs.len() as u32).collect();
        by_name.sort_unstable_by(|&a, &b| jobs[a as usize].name.cmp(&jobs[b as usize].name));
        self.by_name = by_name;
    }

    pub fn job(&self, name: &str) -> Option<&Job> {
        let name_at = |i: u32| self.jobs.get(i as usize).map(|j| &*j.name);
        if self.by_name.len() == self.jobs.len()
            && let Ok(k) = self
                .by_name
                .binary_search_by(|&i| name_at(i).unwrap_or_default().cmp(name))
            && name_at(self.by_name[k]) == Some(name)
        {
            return Some(&self.jobs[self.by_name[k] as usize]);
        }
        // `jobs` was changed in place since the index was built.
        self.jobs.iter().find(|j| &*j.name == name).map(|j| &**j)
    }

    /// Keeps only the jobs `keep` says yes to, in their order.
    pub fn retain(&mut self, keep: impl FnMut(&std::sync::Arc<Job>) -> bool) {
        self.jobs.retain(keep);
        self.index();
    }

    /// The jobs with a dead-man alert (`expect_success_within`).
    pub fn watched_jobs(&self) -> Vec<&str> {
        self.jobs
            .iter()
            .filter(|j| j.settings.expect_success_within.is_some())
            .map(|j| &*j.name)
            .collect()
    }
}

/// One job with its defaults applied: what is its own (name, command,
/// schedule) and its settings, which it shares with every job whose settings
/// are equal (most jobs of a file take all of theirs from `[defaults]`).
/// Boxed strings rather than `String`s: 16 bytes each instead of 24, and a
/// job's text never grows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Job {
    pub name: Box<str>,
    pub schedule: Schedule,
    /// The shell command, or the exec form's words joined for display.
    pub command: Box<str>,
    /// `command = ["prog", "arg"]`: run the program directly, no shell.
    pub exec: Option<Box<[String]>>,
    /// One allocation per distinct set of settings in a config, not one per
    /// job (see [`Interner`]).
    pub settings: std::sync::Arc<Settings>,
}

/// The settings a job may inherit from `[defaults]` (the keys of
/// `SETTING_KEYS`), with their defaults applied.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Settings {
    pub shell: Box<str>,
    pub timezone: Tz,
    pub timeout: Option<Duration>,
    pub kill_grace: Duration,
    /// Added to the scheduler's own environment; sorted by name.
    pub env: Vec<(String, String)>,
    /// Working directory; relative paths are taken from the config file's folder.
    pub dir: Option<PathBuf>,
    pub enabled: bool,
    pub overlap: Overlap,
    /// How many times a `failed` or `timed_out` run is tried again.
    pub retries: u32,
    pub retry_backoff: Duration,
    pub retry_backoff_max: Duration,
    pub catchup: Catchup,
    pub catchup_window: Duration,
    pub run_on_start: bool,
    /// Each fire starts up to this much later, at random.
    pub jitter: Duration,
    /// A shell command run after the fire's last attempt failed or timed out.
    pub on_failure: Option<String>,
    /// A shell command run after a run succeeded.
    pub on_success: Option<String>,
    /// How long a hook may run before it is killed.
    pub hook_timeout: Duration,
    /// Dead-man alert: the job is overdue when it has not succeeded for
    /// this long (since its last success, or since the scheduler started).
    pub expect_success_within: Option<Duration>,
    /// `[cluster]`: only hosts whose name matches one of these patterns
    /// (`*` and `?` wildcards) run the job; empty: any host.
    pub hosts: Vec<String>,
    /// `[cluster]`: what follows a run whose host is gone.
    pub on_lost: OnLost,
}

/// Hands out one shared [`Settings`] per distinct value: with 10,000 jobs
/// that all inherit `[defaults]`, one allocation instead of 10,000 copies of
/// a struct of about 300 bytes with its strings.
#[derive(Default)]
pub struct Interner {
    seen: std::collections::HashSet<std::sync::Arc<Settings>>,
}

impl Interner {
    pub fn intern(&mut self, settings: Settings) -> std::sync::Arc<Settings> {
        if let Some(shared) = self.seen.get(&settings) {
            return std::sync::Arc::clone(shared);
        }
        let shared = std::sync::Arc::new(settings);
        self.seen.insert(std::sync::Arc::clone(&shared));
        shared
    }
}

/// One problem in a config file, with where it is.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Diagnostic {
    pub path: String,
    pub line: usize,
    pub column: usize,
    pub job: Option<String>,
    pub key: Option<String>,
    pub message: String,
    /// The source line, shown under the message with a caret.
    #[serde(skip)]
    pub source_line: String,
    #[serde(skip)]
    pub span_len: usize,
}

use unicode_width::{UnicodeWidthChar, UnicodeWidthStr};

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}:{}: ", self.path, self.line, self.column)?;
        match (&self.job, &self.key) {
            (Some(job), Some(key)) => write!(f, "job `{job}`, key `{key}`: ")?,
            (Some(job), None) => write!(f, "job `{job}`: ")?,
            (None, Some(key)) => write!(f, "key `{key}`: ")?,
            (None, None) => {}
        }
        writeln!(f, "{}", self.message)?;
        let gutter = " ".repeat(self.line.to_string().len());
        writeln!(f, "{gutter} |")?;
        writeln!(f, "{} | {}", self.line, self.source_line)?;
        // The caret sits under the span as the terminal shows it: a wide
        // character takes two columns, a combining mark none.
        let before: String = self
            .source_line
            .chars()
            .take(self.column.saturating_sub(1))
            .collect();
        let pad: String = before
            .chars()
            .map(|c| {
                if c == '\t' {
                    "\t".to_string()
                } else {
                    " ".repeat(UnicodeWidthChar::width(c).unwrap_or(0))
                }
            })
            .collect();
        let span: String = self
            .source_line
            .chars()
            .skip(self.column.saturating_sub(1))
            .take(self.span_len)
            .collect();
        let carets = UnicodeWidthStr::width(span.as_str()).max(1);
        write!(f, "{gutter} | {pad}{}", "^".repeat(carets))
    }
}

/// Why a config could not be loaded.
#[derive(Debug)]
pub enum ConfigError {
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    Invalid(Vec<Diagnostic>),
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ConfigError::Read { path, source } => {
                write!(f, "cannot read config `{}`: {source}", path.display())?;
                if source.kind() == std::io::ErrorKind::NotFound {
                    write!(
                        f,
                        "\nhint: write a jobs.toml (see the README), or point at one with \
                         --config or SCHEDULE_CONFIG"
                    )?;
                }
                Ok(())
            }
            ConfigError::Invalid(diags) => {
                for (i, d) in diags.iter().enumerate() {
                    if i > 0 {
                        writeln!(f)?;
                        write!(f, "error: ")?;
                    }
                    write!(f, "{d}")?;
                }
                Ok(())
            }
        }
    }
}

impl std::error::Error for ConfigError {}

/// The largest config `load` reads: far above any real one (100,000 jobs
/// are about 6 MiB), and a limit for a path that names something endless.
pub const MAX_CONFIG_BYTES: u64 = 16 << 20;

pub fn load(path: &Path) -> Result<Config, ConfigError> {
    let read_error = |source| ConfigError::Read {
        path: path.to_path_buf(),
        source,
    };
    let text = read_config(path).map_err(read_error)?;
    parse(path, &text).map_err(ConfigError::Invalid)
}

/// Reads a config file: only a regular file (a FIFO, a device or a folder
/// would block or never end; opened non-blocking so that a FIFO cannot hold
/// up the open itself), at most [`MAX_CONFIG_BYTES`], UTF-8.
fn read_config(path: &Path) -> std::io::Result<String> {
    use std::io::Read;
    use std::os::unix::fs::OpenOptionsExt;
    let file = std::fs::File::options()
        .read(true)
        .custom_flags(libc::O_NONBLOCK | libc::O_CLOEXEC)
        .open(path)?;
    let meta = file.metadata()?;
    if !meta.file_type().is_file() {
        return Err(std::io::Error::other(
            "not a regular file (a FIFO, a device or a folder); point at a jobs.toml file",
        ));
    }
    let mut bytes = Vec::with_capacity(meta.len().min(MAX_CONFIG_BYTES) as usize);
    file.take(MAX_CONFIG_BYTES + 1).read_to_end(&mut bytes)?;
    if bytes.len() as u64 > MAX_CONFIG_BYTES {
        return Err(std::io::Error::other(format!(
            "larger than {} MiB; a config is at most that",
            MAX_CONFIG_BYTES >> 20
        )));
    }
    String::from_utf8(bytes).map_err(|_| {
        std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            "stream did not contain valid UTF-8",
        )
    })
}

const JOB_ONLY_KEYS: &[&str] = &["cron", "every", "command"];
const SETTING_KEYS: &[&str] = &[
    "timezone",
    "timeout",
    "kill_grace",
    "shell",
    "env",
    "dir",
    "enabled",
    "overlap",
    "retries",
    "retry_backoff",
    "retry_backoff_max",
    "catchup",
    "catchup_window",
    "run_on_start",
    "jitter",
    "on_failure",
    "on_success",
    "hook_timeout",
    "expect_success_within",
    "hosts",
    "on_lost",
];
const TOP_LEVEL_KEYS: &[&str] = &["defaults", "jobs", "scheduler", "cluster"];
const CLUSTER_KEYS: &[&str] = &["lease", "takeover_delay", "max_skew", "lost_grace"];
const SCHEDULER_KEYS: &[&str] = &[
    "max_concurrent",
    "max_queued",
    "keep",
    "keep_runs",
    "http",
    "job_output",
    "job_output_prefix",
    "http_token",
    "http_token_read",
    "db_mode",
];

/// `db_mode = "0640"`: octal permission bits for the database; the owner
/// must read and write it, nobody may execute it, and others (not the
/// owner, not the group) get nothing: a reader can stall the scheduler.
pub fn parse_db_mode(text: &str) -> Result<u32, String> {
    let invalid = || {
        format!(
            "invalid db_mode `{text}`: write the file's permission bits in octal, \"0600\" (the \
             default: only the scheduler's user) or \"0640\" (its group reads the history too)"
        )
    };
    let digits = text.strip_prefix("0o").unwrap_or(text);
    if digits.is_empty() || digits.len() > 4 || !digits.bytes().all(|b| (b'0'..=b'7').contains(&b))
    {
        return Err(invalid());
    }
    let mode = u32::from_str_radix(digits, 8).map_err(|_| invalid())?;
    if mode & 0o600 != 0o600 || mode & 0o7111 != 0 || mode & 0o007 != 0 {
        return Err(format!(
            "{}; the owner needs read and write (6), nothing may be executable or set-id, and \
             others (the last digit) get nothing",
            invalid()
        ));
    }
    Ok(mode)
}

/// Parses config text; `path` is used for messages and relative `dir`s.
pub fn parse(path: &Path, text: &str) -> Result<Config, Vec<Diagnostic>> {
    let mut cx = Context {
        path: path.display().to_string(),
        text,
        diags: Vec::new(),
    };
    let doc = match DeTable::parse(text) {
        Ok(doc) => doc,
        Err(e) => {
            let span = e.span().unwrap_or(0..0);
            cx.error(span, None, None, format!("invalid TOML: {}", e.message()));
            return Err(cx.diags);
        }
    };

    let mut defaults = Layer::default();
    let mut scheduler = SchedulerSettings::default();
    let mut cluster: Option<ClusterSettings> = None;
    let mut job_tables = Vec::new();
    for (key, value) in doc.get_ref() {
        match key.get_ref().as_ref() {
            "defaults" => match value.get_ref() {
                DeValue::Table(t) => {
                    for (k, v) in t {
                        let name = k.get_ref().as_ref();
                        if JOB_ONLY_KEYS.contains(&name) {
                            cx.error(
                                k.span(),
                                None,
                                Some(name),
                                format!(
                                    "`{name}` belongs to a job (`[jobs.NAME]`), not to [defaults]"
                                ),
                            );
                        } else if !defaults.set(&mut cx, None, name, v) {
                            cx.unknown_key(k.span(), None, name, SETTING_KEYS);
                        }
                    }
                }
                other => cx.type_error(value.span(), None, Some("defaults"), "a table", other),
            },
            "jobs" => match value.get_ref() {
                DeValue::Table(t) => job_tables.extend(t.iter()),
                other => cx.type_error(value.span(), None, Some("jobs"), "a table", other),
            },
            "scheduler" => match value.get_ref() {
                DeValue::Table(t) => {
                    for (k, v) in t {
                        let key = k.get_ref().as_ref();
                        match key {
                            "max_concurrent" => {
                                scheduler.max_concurrent =
                                    cx.integer(None, key, v, 1, 1_000_000).map(|n| n as usize)
                            }
                            "max_queued" => {
                                if let Some(n) = cx.integer(None, key, v, 0, 10_000_000) {
                                    scheduler.max_queued = n as usize;
                                }
                            }
                            "keep" => scheduler.keep = cx.duration(None, key, v, true),
                            "keep_runs" => {
                                scheduler.keep_runs = cx.integer(None, key, v, 1, i64::MAX as u64)
                            }
                            "http" => {
                                if let Some(text) = cx.string(None, key, v) {
                                    match crate::addr::parse_addr(text) {
                                        Ok(addr) => scheduler.http = Some(addr),
                                        Err(msg) => cx.error(v.span(), None, Some(key), msg),
                                    }
                                }
                            }
                            "job_output" => {
                                if let Some(mode) = cx.choice(
                                    None,
                                    key,
                                    v,
                                    &[
                                        ("log", JobOutput::Log),
                                        ("passthrough", JobOutput::Passthrough),
                                        ("none", JobOutput::None),
                                    ],
                                ) {
                                    scheduler.job_output = mode;
                                }
                            }
                            "job_output_prefix" => {
                                if let Some(on) = cx.boolean(None, key, v) {
                                    scheduler.job_output_prefix = on;
                                }
                            }
                            "http_token" => {
                                if let Some(text) = cx.string(None, key, v) {
                                    if text.trim().len() < 16 {
                                        let msg = "the token must have at least 16 characters \
                                                   (try `head -c 24 /dev/urandom | base64`)"
                                            .to_string();
                                        cx.error(v.span(), None, Some(key), msg);
                                    } else {
                                        scheduler.http_token = Some(text.trim().to_string());
                                    }
                                }
                            }
                            "http_token_read" => {
                                if let Some(b) = cx.boolean(None, key, v) {
                                    scheduler.http_token_read = b;
                                }
                            }
                            "db_mode" => {
                                if let Some(text) = cx.string(None, key, v) {
                                    match parse_db_mode(text) {
                                        Ok(mode) => scheduler.db_mode = mode,
                                        Err(msg) => cx.error(v.span(), None, Some(key), msg),
                                    }
                                }
                            }
                            _ => cx.unknown_key(k.span(), None, key, SCHEDULER_KEYS),
                        }
                    }
                }
                other => cx.type_error(value.span(), None, Some("scheduler"), "a table", other),
            },
            "cluster" => match value.get_ref() {
                DeValue::Table(t) => {
                    let c = cluster.get_or_insert_with(ClusterSettings::default);
                    for (k, v) in t {
                        let key = k.get_ref().as_ref();
                        let slot = match key {
                            "lease" => &mut c.lease,
                            "takeover_delay" => &mut c.takeover_delay,
                            "max_skew" => &mut c.max_skew,
                            "lost_grace" => &mut c.lost_grace,
                            _ => {
                                cx.unknown_key(k.span(), None, key, CLUSTER_KEYS);
                                continue;
                            }
                        };
                        if let Some(d) = cx.duration(None, key, v, key == "lease") {
                            *slot = d;
                        }
                    }
                    if c.lease < Duration::from_secs(1) {
                        let span = t
                            .iter()
                            .find(|(k, _)| k.get_ref() == "lease")
                            .map_or(value.span(), |(_, v)| v.span());
                        let msg = format!(
                            "a lease of {} is too short to renew over a network; give at \
                             least 1s (the default is 30s)",
                            duration::format(c.lease)
                        );
                        cx.error(span, None, Some("lease"), msg);
                    }
                }
                other => cx.type_error(value.span(), None, Some("cluster"), "a table", other),
            },
            other => {
                let msg = format!(
                    "unknown top-level key `{other}`; valid: {}{}",
                    list(TOP_LEVEL_KEYS),
                    did_you_mean(other, TOP_LEVEL_KEYS)
                );
                cx.error(key.span(), None, Some(other), msg);
            }
        }
    }
    // Keep the file's order: the map itself is sorted by name.
    job_tables.sort_by_key(|(k, _)| k.span().start);

    let base_dir = path.parent().unwrap_or(Path::new(""));
    let mut jobs = Vec::with_capacity(job_tables.len());
    let mut interner = Interner::default();
    for (key, value) in job_tables {
        let name = key.get_ref().as_ref();
        if let Err(msg) = check_job_name(name) {
            cx.error(key.span(), Some(name), None, msg);
            continue;
        }
        let DeValue::Table(table) = value.get_ref() else {
            cx.type_error(value.span(), Some(name), None, "a table", value.get_ref());
            continue;
        };
        if let Some(msg) = dotted_name(name, table) {
            cx.error(key.span(), Some(name), None, msg);
            continue;
        }
        if let Some(job) = job_from_table(
            &mut cx,
            name,
            key.span(),
            table,
            &defaults,
            base_dir,
            &mut interner,
        ) {
            jobs.push(std::sync::Arc::new(job));
        }
    }

    if cx.diags.is_empty() {
        let mut config = Config::new(path.to_path_buf(), jobs, scheduler);
        config.cluster = cluster;
        Ok(config)
    } else {
        // Read top to bottom, whichever check found them.
        cx.diags.sort_by_key(|d| (d.line, d.column));
        Err(cx.diags)
    }
}

type Spanned<T> = (T, Range<usize>);

/// The settings one table gives (`[defaults]` or a job's): unset where it
/// says nothing.
#[derive(Default, Clone)]
struct Layer {
    timezone: Option<Spanned<Tz>>,
    timeout: Option<Duration>,
    kill_grace: Option<Duration>,
    shell: Option<Box<str>>,
    env: Vec<(String, String)>,
    dir: Option<String>,
    enabled: Option<bool>,
    overlap: Option<Overlap>,
    retries: Option<u32>,
    retry_backoff: Option<Duration>,
    retry_backoff_max: Option<Duration>,
    catchup: Option<Catchup>,
    catchup_window: Option<Duration>,
    run_on_start: Option<bool>,
    jitter: Option<Duration>,
    on_failure: Option<String>,
    on_success: Option<String>,
    hook_timeout: Option<Duration>,
    expect_success_within: Option<Duration>,
    hosts: Option<Vec<String>>,
    on_lost: Option<OnLost>,
}

impl Layer {
    /// Takes one key; returns false when the key is not a setting.
    fn set(
        &mut self,
        cx: &mut Context,
        job: Option<&str>,
        key: &str,
        value: &toml::Spanned<DeValue>,
    ) -> bool {
        let span = value.span();
        match key {
            "timezone" => {
                if let Some(s) = cx.string(job, key, value) {
                    match s.parse::<Tz>() {
                        Ok(tz) => self.timezone = Some((tz, span)),
                        Err(_) => {
                            let names: Vec<&str> =
                                chrono_tz::TZ_VARIANTS.iter().map(|t| t.name()).collect();
                            let msg = format!(
                                "unknown time zone `{s}`; use an IANA name such as \
                                 `Europe/Berlin`, `America/New_York` or `UTC`{}",
                                did_you_mean(s, &names)
                            );
                            cx.error(span, job, Some(key), msg);
                        }
                    }
                }
            }
            "timeout" => {
                self.timeout = cx.duration(job, key, value, true);
            }
            "kill_grace" => {
                self.kill_grace = cx.duration(job, key, value, false);
            }
            "shell" => {
                if let Some(s) = cx.string(job, key, value) {
                    if s.trim().is_empty() {
                        cx.error(
                            span,
                            job,
                            Some(key),
                            "the shell is empty; give a path such as `/bin/sh` or `/bin/bash`"
                                .into(),
                        );
                    } else {
                        self.shell = Some(Box::from(s));
                    }
                }
            }
            "env" => match value.get_ref() {
                DeValue::Table(t) => {
                    for (k, v) in t {
                        let name = k.get_ref().as_ref();
                        if name.is_empty() || name.contains('=') || name.contains('\0') {
                            cx.error(
                                k.span(),
                                job,
                                Some(key),
                                format!("`{name}` is not a valid environment variable name"),
                            );
                            continue;
                        }
                        match v.get_ref() {
                            DeValue::String(s) if !s.contains('\0') => {
                                self.env.retain(|(n, _)| n != name);
                                self.env.push((name.to_string(), s.to_string()));
                            }
                            other => {
                                let msg = format!(
                                    "the value of `{name}` must be a string (write `{name} = \"...\"`), found {}",
                                    describe(other)
                                );
                                cx.error(v.span(), job, Some(key), msg);
                            }
                        }
                    }
                }
                other => cx.type_error(
                    span,
                    job,
                    Some(key),
                    "a table such as `{ NAME = \"value\" }`",
                    other,
                ),
            },
            "dir" => {
                if let Some(s) = cx.string(job, key, value) {
                    if s.is_empty() {
                        cx.error(
                            span,
                            job,
                            Some(key),
                            "the directory is empty; give a path or leave `dir` out".into(),
                        );
                    } else {
                        self.dir = Some(s.to_string());
                    }
                }
            }
            "enabled" => self.enabled = cx.boolean(job, key, value),
            "run_on_start" => self.run_on_start = cx.boolean(job, key, value),
            "overlap" => {
                self.overlap = cx.choice(
                    job,
                    key,
                    value,
                    &[
                        ("skip", Overlap::Skip),
                        ("queue", Overlap::Queue),
                        ("allow", Overlap::Allow),
                        ("replace", Overlap::Replace),
                    ],
                )
            }
            "catchup" => {
                self.catchup = cx.choice(
                    job,
                    key,
                    value,
                    &[
                        ("skip", Catchup::Skip),
                        ("latest", Catchup::Latest),
                        ("all", Catchup::All),
                    ],
                )
            }
            "retries" => self.retries = cx.integer(job, key, value, 0, 1000).map(|n| n as u32),
            "retry_backoff" => self.retry_backoff = cx.duration(job, key, value, false),
            "retry_backoff_max" => self.retry_backoff_max = cx.duration(job, key, value, false),
            "catchup_window" => self.catchup_window = cx.duration(job, key, value, true),
            "jitter" => self.jitter = cx.duration(job, key, value, false),
            "on_failure" | "on_success" => {
                if let Some(text) = cx.string(job, key, value) {
                    if text.trim().is_empty() {
                        cx.error(
                            value.span(),
                            job,
                            Some(key),
                            "the hook is empty; give a shell command or leave it out".into(),
                        );
                    } else if key == "on_failure" {
                        self.on_failure = Some(text.to_string());
                    } else {
                        self.on_success = Some(text.to_string());
                    }
                }
            }
            "hook_timeout" => self.hook_timeout = cx.duration(job, key, value, true),
            "expect_success_within" => {
                self.expect_success_within = cx.duration(job, key, value, true)
            }
            "on_lost" => {
                self.on_lost = cx.choice(
                    job,
                    key,
                    value,
                    &[("alert", OnLost::Alert), ("retry", OnLost::Retry)],
                )
            }
            "hosts" => match value.get_ref() {
                DeValue::Array(items) => {
                    let mut patterns = Vec::new();
                    for item in items {
                        match item.get_ref() {
                            DeValue::String(p) if !p.trim().is_empty() => {
                                patterns.push(p.trim().to_string())
                            }
                            other => {
                                let msg = format!(
                                    "each entry of `hosts` is a host name or a pattern such as \
                                     \"backup-*\", found {}",
                                    describe(other)
                                );
                                cx.error(item.span(), job, Some(key), msg);
                            }
                        }
                    }
                    if items.is_empty() {
                        let msg = "`hosts = []` would let no host run the job; leave `hosts` \
                                   out to let any host run it"
                            .to_string();
                        cx.error(span, job, Some(key), msg);
                    }
                    self.hosts = Some(patterns);
                }
                other => cx.type_error(
                    span,
                    job,
                    Some(key),
                    "a list of host names or patterns such as `[\"backup-*\"]`",
                    other,
                ),
            },
            _ => return false,
        }
        true
    }

    /// The job's own settings on top of the defaults.
    fn over(mut self, defaults: &Layer) -> Layer {
        let mut env = defaults.env.clone();
        for (name, value) in std::mem::take(&mut self.env) {
            env.retain(|(n, _)| *n != name);
            env.push((name, value));
        }
        env.sort();
        Layer {
            timezone: self.timezone.or_else(|| defaults.timezone.clone()),
            timeout: self.timeout.or(defaults.timeout),
            kill_grace: self.kill_grace.or(defaults.kill_grace),
            shell: self.shell.or_else(|| defaults.shell.clone()),
            env,
            dir: self.dir.or_else(|| defaults.dir.clone()),
            enabled: self.enabled.or(defaults.enabled),
            overlap: self.overlap.or(defaults.overlap),
            retries: self.retries.or(defaults.retries),
            retry_backoff: self.retry_backoff.or(defaults.retry_backoff),
            retry_backoff_max: self.retry_backoff_max.or(defaults.retry_backoff_max),
            catchup: self.catchup.or(defaults.catchup),
            catchup_window: self.catchup_window.or(defaults.catchup_window),
            run_on_start: self.run_on_start.or(defaults.run_on_start),
            jitter: self.jitter.or(defaults.jitter),
            on_failure: self.on_failure.or_else(|| defaults.on_failure.clone()),
            on_success: self.on_success.or_else(|| defaults.on_success.clone()),
            hook_timeout: self.hook_timeout.or(defaults.hook_timeout),
            expect_success_within: self
                .expect_success_within
                .or(defaults.expect_success_within),
            hosts: self.hosts.or_else(|| defaults.hosts.clone()),
            on_lost: self.on_lost.or(defaults.on_lost),
        }
    }
}

fn job_from_table(
    cx: &mut Context,
    name: &str,
    name_span: Range<usize>,
    table: &DeTable,
    defaults: &Layer,
    base_dir: &Path,
    interner: &mut Interner,
) -> Option<Job> {
    let before = cx.diags.len();
    let job = Some(name);
    let mut own = Layer::default();
    let mut cron: Option<Spanned<String>> = None;
    let mut every: Option<Spanned<Duration>> = None;
    let mut command: Option<Box<str>> = None;
    let mut exec: Option<Box<[String]>> = None;
    let mut first_schedule_key: Option<Range<usize>> = None;
    for (k, v) in table {
        let key = k.get_ref().as_ref();
        match key {
            "cron" => {
                first_schedule_key.get_or_insert(k.span());
                cron = cx.string(job, key, v).map(|s| (s.to_string(), v.span()));
            }
            "every" => {
                first_schedule_key.get_or_insert(k.span());
                if let Some(d) = cx.duration(job, key, v, true) {
                    every = Some((d, v.span()));
                }
            }
            "command" if matches!(v.get_ref(), DeValue::Array(_)) => {
                if let Some(words) = exec_words(cx, job, v) {
                    command = Some(display_words(&words).into_boxed_str());
                    exec = Some(words.into_boxed_slice());
                }
            }
            "command" => {
                if let Some(s) = cx.string(job, key, v) {
                    if s.trim().is_empty() {
                        cx.error(
                            v.span(),
                            job,
                            Some(key),
                            "the command is empty; give a shell command such as `echo hello`"
                                .into(),
                        );
                    } else if s.contains('\0') {
                        cx.error(
                            v.span(),
                            job,
                            Some(key),
                            "the command contains a NUL byte (`\\u0000`), which no program \
                             can be given; remove it (write `\\\\0` if the command itself \
                             should see a backslash and a zero)"
                                .into(),
                        );
                    } else {
                        command = Some(Box::from(s));
                    }
                }
            }
            _ => {
                if !own.set(cx, job, key, v) {
                    let valid: Vec<&str> =
                        JOB_ONLY_KEYS.iter().chain(SETTING_KEYS).copied().collect();
                    cx.unknown_key(k.span(), job, key, &valid);
                }
            }
        }
    }
    let has_cron = table.keys().any(|k| k.get_ref() == "cron");
    let has_every = table.keys().any(|k| k.get_ref() == "every");
    let has_command = table.keys().any(|k| k.get_ref() == "command");
    if has_cron && has_every {
        let span = table
            .keys()
            .filter(|k| k.get_ref() == "every" || k.get_ref() == "cron")
            .map(|k| k.span())
            .max_by_key(|s| s.start)
            .unwrap_or(name_span.clone());
        cx.error(
            span,
            job,
            None,
            "has both `cron` and `every`; give exactly one".into(),
        );
    } else if !has_cron && !has_every {
        cx.error(
            name_span.clone(),
            job,
            None,
            "has no schedule; add `cron = \"0 2 * * *\"` or `every = \"5m\"`".into(),
        );
    }
    if !has_command {
        cx.error(
            name_span,
            job,
            None,
            "has no `command`; add `command = \"...\"`".into(),
        );
    }

    let settings = own.over(defaults);
    let timezone = settings.timezone.as_ref().map_or(Tz::UTC, |(tz, _)| *tz);
    let schedule = match (cron, every) {
        (Some((text, span)), None) => match CronSchedule::parse(&text, timezone) {
            Ok(c) => Some(Schedule::Cron(Box::new(c))),
            Err(e) => {
                let (at, msg) = match not_cron(&text, timezone) {
                    Some(msg) => (span, msg),
                    None => (
                        narrow_span(cx.text, span, &text, e.span.clone()),
                        invalid_cron(&text, &e.to_string()),
                    ),
                };
                cx.error(at, job, Some("cron"), msg);
                None
            }
        },
        (None, Some((interval, span))) => match Every::new(interval) {
            Ok(e) => Some(Schedule::Every(e)),
            Err(msg) => {
                cx.error(span, job, Some("every"), msg);
                None
            }
        },
        _ => None,
    };
    if cx.diags.len() > before {
        return None;
    }
    let settings = Settings {
        shell: settings.shell.unwrap_or_else(|| Box::from(DEFAULT_SHELL)),
        timezone,
        timeout: settings.timeout,
        kill_grace: settings.kill_grace.unwrap_or(DEFAULT_KILL_GRACE),
        env: settings.env,
        dir: settings.dir.map(|d| base_dir.join(d)),
        enabled: settings.enabled.unwrap_or(true),
        overlap: settings.overlap.unwrap_or_default(),
        retries: settings.retries.unwrap_or(0),
        retry_backoff: settings.retry_backoff.unwrap_or(DEFAULT_RETRY_BACKOFF),
        retry_backoff_max: settings
            .retry_backoff_max
            .unwrap_or(DEFAULT_RETRY_BACKOFF_MAX),
        catchup: settings.catchup.unwrap_or_default(),
        catchup_window: settings.catchup_window.unwrap_or(DEFAULT_CATCHUP_WINDOW),
        run_on_start: settings.run_on_start.unwrap_or(false),
        jitter: settings.jitter.unwrap_or_default(),
        on_failure: settings.on_failure,
        on_success: settings.on_success,
        hook_timeout: settings.hook_timeout.unwrap_or(DEFAULT_HOOK_TIMEOUT),
        expect_success_within: settings.expect_success_within,
        hosts: settings.hosts.unwrap_or_default(),
        on_lost: settings.on_lost.unwrap_or_default(),
    };
    Some(Job {
        name: Box::from(name),
        schedule: schedule?,
        command: command?,
        exec,
        settings: interner.intern(settings),
    })
}

/// "invalid cron expression `TEXT`: WHY", with croner's own words for a
/// number outside its field ("(Number out of bounds)") said plainly.
pub fn invalid_cron(text: &str, why: &str) -> String {
    let why = why.replace(" is not valid (Number out of bounds)", " is out of range");
    format!("invalid cron expression `{text}`: {why}")
}

/// A `cron` value that is something else people paste: a whole crontab
/// line (schedule and command), or supercronic's `@every 5m`.
fn not_cron(text: &str, timezone: Tz) -> Option<String> {
    let text = text.trim();
    if let Some(rest) = text.strip_prefix("@every") {
        let rest = rest.trim();
        let example = if duration::parse(rest).is_ok() {
            rest
        } else {
            "5m"
        };
        return Some(format!(
            "`{text}` is supercronic's form; here write `every = \"{example}\"` instead of `cron`"
        ));
    }
    let fields: Vec<&str> = text.split_whitespace().collect();
    let schedule_len = if text.starts_with('@') { 1 } else { 5 };
    if fields.len() <= schedule_len {
        return None;
    }
    let schedule = fields[..schedule_len].join(" ");
    CronSchedule::parse(&schedule, timezone).ok()?;
    let command = fields[schedule_len..].join(" ");
    Some(format!(
        "`{text}` looks like a crontab line, schedule and command; here the command goes in \
         its own key: `cron = \"{schedule}\"` and `command = \"{command}\"`"
    ))
}

/// `[jobs.db.backup]`: TOML reads the dot as nesting, a job `db` holding a
/// table `backup`. Said once, with the fix, instead of "no schedule", "no
/// command" and "unknown key".
fn dotted_name(name: &str, table: &DeTable) -> Option<String> {
    let nested: Vec<&str> = table
        .iter()
        .filter(|(_, v)| matches!(v.get_ref(), DeValue::Table(_)))
        .map(|(k, _)| k.get_ref().as_ref())
        .collect();
    let first = nested.first()?;
    let own_keys = table.len() > nested.len();
    if own_keys {
        return None;
    }
    Some(format!(
        "`[jobs.{name}.{first}]` is read by TOML as a job `{name}` holding a table `{first}`; \
         to name a job with a dot, quote the name: `[jobs.\"{name}.{first}\"]`"
    ))
}

/// `command = ["prog", "arg", ...]`: strings, the first a program.
fn exec_words(
    cx: &mut Context,
    job: Option<&str>,
    value: &toml::Spanned<DeValue>,
) -> Option<Vec<String>> {
    let DeValue::Array(items) = value.get_ref() else {
        return None;
    };
    let mut words = Vec::new();
    for item in items {
        match item.get_ref() {
            DeValue::String(s) => words.push(s.to_string()),
            other => {
                cx.type_error(item.span(), job, Some("command"), "a string", other);
                return None;
            }
        }
    }
    if words.first().is_none_or(|w| w.trim().is_empty()) {
        cx.error(
            value.span(),
            job,
            Some("command"),
            "the exec form needs a program first, as in `[\"/usr/bin/backup\", \"--full\"]`".into(),
        );
        return None;
    }
    Some(words)
}

/// The exec form's words as a shell would need them, for display.
fn display_words(words: &[String]) -> String {
    let quote = |w: &String| {
        let plain = !w.is_empty()
            && w.chars()
                .all(|c| c.is_ascii_alphanumeric() || "-_./=:,+@%".contains(c));
        if plain {
            w.clone()
        } else {
            format!("'{}'", w.replace('\'', "'\\''"))
        }
    };
    words.iter().map(quote).collect::<Vec<_>>().join(" ")
}

/// Letters, digits, `-`, `_` and `.`: names appear in logs, tables and
/// shell completions, so nothing that needs quoting.
pub fn check_job_name(name: &str) -> Result<(), String> {
    if name.is_empty() {
        return Err("a job name cannot be empty".into());
    }
    if let Some(c) = name
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.')))
    {
        return Err(format!(
            "the job name `{name}` contains `{c}`; use letters, digits, `-`, `_` and `.`"
        ));
    }
    Ok(())
}

/// Where a job's `key` is given (see [`Locator::locate`]), with the value
/// as written when it is a string.
pub struct Located {
    pub diagnostic: Diagnostic,
    pub raw: Option<String>,
}

/// Where each job's keys are set in a config's text, read once: for
/// checks made after loading (`schedule check`), one look-up per finding
/// however big the file.
pub struct Locator<'t> {
    path: String,
    text: &'t str,
    line_starts: Vec<usize>,
    /// A job's header, and each of its keys' value span and string value.
    jobs: HashMap<String, (Range<usize>, Keys)>,
    defaults: Keys,
}

type Keys = HashMap<String, (Range<usize>, Option<String>)>;

impl<'t> Locator<'t> {
    pub fn new(path: &Path, text: &'t str) -> Locator<'t> {
        fn keys(value: &toml::Spanned<DeValue<'_>>) -> Keys {
            match value.get_ref() {
                DeValue::Table(t) => t
                    .iter()
                    .map(|(k, v)| {
                        let raw = match v.get_ref() {
                            DeValue::String(s) => Some(s.to_string()),
                            _ => None,
                        };
                        (k.get_ref().to_string(), (v.span(), raw))
                    })
                    .collect(),
                _ => Keys::new(),
            }
        }
        let mut jobs = HashMap::new();
        let mut defaults = Keys::new();
        if let Ok(doc) = DeTable::parse(text) {
            for (k, v) in doc.get_ref() {
                match (k.get_ref().as_ref(), v.get_ref()) {
                    ("defaults", _) => defaults = keys(v),
                    ("jobs", DeValue::Table(t)) => {
                        for (name, table) in t {
                            jobs.insert(name.get_ref().to_string(), (name.span(), keys(table)));
                        }
                    }
                    _ => {}
                }
            }
        }
        let line_starts = std::iter::once(0)
            .chain(text.match_indices('\n').map(|(i, _)| i + 1))
            .collect();
        Locator {
            path: path.display().to_string(),
            text,
            line_starts,
            jobs,
            defaults,
        }
    }

    /// A [`Diagnostic`] with `message` where `job`'s `key` is set: in its
    /// own table, else in `[defaults]`, else at the job's header.
    pub fn locate(&self, job: &str, key: &str, message: String) -> Located {
        let own = self.jobs.get(job);
        let value = own
            .and_then(|(_, keys)| keys.get(key))
            .or_else(|| self.defaults.get(key));
        let span = value
            .map(|(span, _)| span.clone())
            .or_else(|| own.map(|(header, _)| header.clone()))
            .unwrap_or(0..0);
        let text = self.text;
        let start = span.start.min(text.len());
        let line = self.line_starts.partition_point(|&s| s <= start);
        let line_start = self.line_starts[line.saturating_sub(1)];
        let line_end = text[start..].find('\n').map_or(text.len(), |i| start + i);
        let end = span.end.clamp(start, line_end);
        Located {
            diagnostic: Diagnostic {
                path: self.path.clone(),
                line,
                column: text[line_start..start].chars().count() + 1,
                job: Some(job.to_string()),
                key: Some(key.to_string()),
                message,
                source_line: text[line_start..line_end]
                    .trim_end_matches('\r')
                    .to_string(),
                span_len: text[start..end].chars().count(),
            },
            raw: value.and_then(|(_, raw)| raw.clone()),
        }
    }
}

/// The part of a string value's span that `inner` (a byte range of the
/// parsed string) covers, when the source holds the string as written
/// (quoted on one line, no escapes); else the whole value.
fn narrow_span(
    source: &str,
    value: Range<usize>,
    parsed: &str,
    inner: Option<Range<usize>>,
) -> Range<usize> {
    let Some(inner) = inner else {
        return value;
    };
    let body = value.start + 1..value.end.saturating_sub(1);
    match source.get(body.clone()) {
        Some(raw) if raw == parsed && inner.end <= raw.len() => {
            body.start + inner.start..body.start + inner.end
        }
        _ => value,
    }
}

struct Context<'a> {
    path: String,
    text: &'a str,
    diags: Vec<Diagnostic>,
}

impl Context<'_> {
    fn error(&mut self, span: Range<usize>, job: Option<&str>, key: Option<&str>, message: String) {
        let start = span.start.min(self.text.len());
        let line_start = self.text[..start].rfind('\n').map_or(0, |i| i + 1);
        let line_end = self.text[start..]
            .find('\n')
            .map_or(self.text.len(), |i| start + i);
        let source_line = self.text[line_start..line_end].trim_end_matches('\r');
        let line = self.text[..start].matches('\n').count() + 1;
        let column = self.text[line_start..start].chars().count() + 1;
        let end = span.end.clamp(start, line_end);
        self.diags.push(Diagnostic {
            path: self.path.clone(),
            line,
            column,
            job: job.map(str::to_string),
            key: key.map(str::to_string),
            message,
            source_line: source_line.to_string(),
            span_len: self.text[start..end].chars().count(),
        });
    }

    fn unknown_key(&mut self, span: Range<usize>, job: Option<&str>, key: &str, valid: &[&str]) {
        let msg = format!(
            "unknown key `{key}`; valid keys: {}{}",
            list(valid),
            did_you_mean(key, valid)
        );
        self.error(span, job, Some(key), msg);
    }

    fn type_error(
        &mut self,
        span: Range<usize>,
        job: Option<&str>,
        key: Option<&str>,
        expected: &str,
        found: &DeValue,
    ) {
        let msg = format!("expected {expected}, found {}", describe(found));
        self.error(span, job, key, msg);
    }

    fn string<'v>(
        &mut self,
        job: Option<&str>,
        key: &str,
        value: &'v toml::Spanned<DeValue>,
    ) -> Option<&'v str> {
        match value.get_ref() {
            DeValue::String(s) => Some(s.as_ref()),
            other => {
                self.type_error(value.span(), job, Some(key), "a string", other);
                None
            }
        }
    }

    fn boolean(
        &mut self,
        job: Option<&str>,
        key: &str,
        value: &toml::Spanned<DeValue>,
    ) -> Option<bool> {
        match value.get_ref() {
            DeValue::Boolean(b) => Some(*b),
            other => {
                self.type_error(value.span(), job, Some(key), "`true` or `false`", other);
                None
            }
        }
    }

    /// A whole number in `min..=max`.
    fn integer(
        &mut self,
        job: Option<&str>,
        key: &str,
        value: &toml::Spanned<DeValue>,
        min: u64,
        max: u64,
    ) -> Option<u64> {
        let parsed = match value.get_ref() {
            DeValue::Integer(i) => {
                let digits = i.as_str().replace('_', "");
                let digits = digits
                    .trim_start_matches("0x")
                    .trim_start_matches("0o")
                    .trim_start_matches("0b");
                i64::from_str_radix(digits, i.radix()).ok()
            }
            other => {
                let expected = format!("a whole number from {min} to {max}");
                self.type_error(value.span(), job, Some(key), &expected, other);
                return None;
            }
        };
        match parsed {
            Some(n) if n >= 0 && (min..=max).contains(&(n as u64)) => Some(n as u64),
            _ => {
                let shown = match value.get_ref() {
                    DeValue::Integer(i) => i.as_str().to_string(),
                    other => describe(other),
                };
                let msg = format!(
                    "`{shown}` is out of range for `{key}`; give a whole number from {min} to {max}"
                );
                self.error(value.span(), job, Some(key), msg);
                None
            }
        }
    }

    /// One of a fixed set of words.
    fn choice<T: Copy>(
        &mut self,
        job: Option<&str>,
        key: &str,
        value: &toml::Spanned<DeValue>,
        choices: &[(&str, T)],
    ) -> Option<T> {
        let text = self.string(job, key, value)?;
        if let Some((_, v)) = choices.iter().find(|(name, _)| *name == text) {
            return Some(*v);
        }
        let names: Vec<&str> = choices.iter().map(|(n, _)| *n).collect();
        let msg = format!(
            "`{text}` is not one of {}{}",
            list(&names),
            did_you_mean(text, &names)
        );
        self.error(value.span(), job, Some(key), msg);
        None
    }

    fn duration(
        &mut self,
        job: Option<&str>,
        key: &str,
        value: &toml::Spanned<DeValue>,
        positive: bool,
    ) -> Option<Duration> {
        let text = self.string(job, key, value)?;
        match duration::parse(text) {
            Ok(d) if d > crate::schedule::Every::MAX => {
                self.error(
                    value.span(),
                    job,
                    Some(key),
                    format!("`{text}` is longer than 100 years"),
                );
                None
            }
            Ok(d) if positive && d.is_zero() => {
                self.error(
                    value.span(),
                    job,
                    Some(key),
                    format!("`{text}` is zero; give a positive duration such as `30s` or `5m`"),
                );
                None
            }
            Ok(d) => Some(d),
            Err(msg) => {
                self.error(value.span(), job, Some(key), msg);
                None
            }
        }
    }
}

fn describe(value: &DeValue) -> String {
    match value {
        DeValue::String(s) => format!("the string \"{s}\""),
        DeValue::Integer(i) => format!("the integer {}", i.as_str()),
        DeValue::Float(x) => format!("the float {}", x.as_str()),
        DeValue::Boolean(b) => format!("the boolean {b}"),
        DeValue::Datetime(d) => format!("the date-time {d}"),
        DeValue::Array(_) => "an array".into(),
        DeValue::Table(_) => "a table".into(),
    }
}

fn list(items: &[&str]) -> String {
    items
        .iter()
        .map(|k| format!("`{k}`"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// "; did you mean `x`?" for the closest candidate within a small edit distance.
pub fn did_you_mean(word: &str, candidates: &[&str]) -> String {
    let lower = word.to_lowercase();
    candidates
        .iter()
        .map(|c| (edit_distance(&lower, &c.to_lowercase()), c))
        .filter(|(d, c)| *d <= (c.len() / 3).max(1))
        .min_by_key(|(d, _)| *d)
        .map(|(_, c)| format!("; did you mean `{c}`?"))
        .unwrap_or_default()
}

fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1];
        for (j, cb) in b.iter().enumerate() {
            let cost = usize::from(ca != *cb);
            cur.push((prev[j] + cost).min(prev[j + 1] + 1).min(cur[j] + 1));
        }
        prev = cur;
    }
    prev[b.len()]
}

#[cfg(test)]
mod tests;
