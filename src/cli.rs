//! The command-line definition, and nothing else: the doc comments are the
//! `--help` text, and completions are generated from this same definition.

use clap::{Args, Parser, Subcommand};
use std::path::PathBuf;

const EXAMPLES: &str = "\
Examples:
  schedule run                        run the jobs in ./jobs.toml, history in schedule.db beside it
  schedule list                       what runs next, and how each job last ended
  schedule history --failed           the runs that went wrong
  schedule next '0 9 * * MON-FRI' --tz Europe/Berlin
                                      check an expression before you use it";

/// A cron-style job scheduler: jobs in jobs.toml, history in SQLite.
#[derive(Debug, Parser)]
#[command(name = "schedule", version, after_help = EXAMPLES, max_term_width = 100)]
pub struct Cli {
    #[command(flatten)]
    pub global: Global,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Args)]
pub struct Global {
    /// The jobs file
    #[arg(
        long,
        global = true,
        env = "SCHEDULE_CONFIG",
        default_value = "jobs.toml",
        value_name = "PATH"
    )]
    pub config: PathBuf,
    /// The history database: a SQLite file (created by `schedule run`;
    /// default: schedule.db beside the config file) or a
    /// postgres://user@host/db URL
    #[arg(long, global = true, env = "SCHEDULE_DB", value_name = "PATH|URL")]
    pub db: Option<String>,
    /// Colour statuses: auto (when stdout is a terminal and NO_COLOR is unset),
    /// always or never
    #[arg(long, global = true, value_enum, default_value_t, value_name = "WHEN")]
    pub color: crate::output::ColorChoice,
    /// Show times in UTC instead of each job's time zone
    #[arg(long, global = true)]
    pub utc: bool,
    /// Log more (-v: debug, -vv: trace); RUST_LOG, when set, decides instead
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,
    /// Log less (-q: warnings and errors only, -qq: errors only)
    #[arg(short, long, global = true, action = clap::ArgAction::Count, conflicts_with = "verbose")]
    pub quiet: u8,
    /// Log lines as text or as JSON objects (one per line)
    #[arg(
        long,
        global = true,
        value_enum,
        default_value_t,
        value_name = "FORMAT"
    )]
    pub log_format: LogFormat,
}

impl Global {
    /// Where the history lives: `--db`, else `schedule.db` beside the
    /// config file.
    pub fn location(&self) -> Result<crate::store::Location, crate::Error> {
        match &self.db {
            Some(db) => crate::store::Location::parse(db)
                .map_err(|e| crate::Error::Usage(format!("--db `{db}`: {e}"))),
            None => Ok(crate::store::Location::beside(&self.config)),
        }
    }
}

/// `--log-format`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum LogFormat {
    #[default]
    Text,
    Json,
}

impl Global {
    /// How this command's output looks.
    pub fn look(&self) -> crate::output::Look {
        crate::output::Look::detect(self.color, self.utc)
    }

    /// Each job's time zone from the config, for showing times; empty when
    /// the config cannot be read (history outlives configs) or with --utc.
    pub fn zones(&self) -> std::collections::HashMap<String, chrono_tz::Tz> {
        if self.utc {
            return Default::default();
        }
        crate::config::load(&self.config)
            .map(|c| {
                c.jobs
                    .iter()
                    .map(|j| (j.name.to_string(), j.settings.timezone))
                    .collect()
            })
            .unwrap_or_default()
    }
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the scheduler in the foreground until Ctrl-C or SIGTERM
    ///
    /// Each job fires at its next instant as `shell -c command`, in its own
    /// process group. Every run is recorded in the history database before
    /// it starts and completed when it ends. On SIGINT or SIGTERM no new run
    /// starts; running jobs get the shutdown grace to finish, then are
    /// terminated and recorded `cancelled`. A second signal kills them at once.
    #[command(
        after_help = "Examples:\n  schedule run\n  schedule --config /etc/schedule/jobs.toml --db /var/lib/schedule/history.db run\n  schedule run --http 127.0.0.1:9090\n  RUST_LOG=debug schedule run --shutdown-grace 2m"
    )]
    Run(RunArgs),
    /// Show each job's schedule, next run and last run, as systemd's list-timers
    ///
    /// NEXT RUN and LEFT: when the job fires next and how long until then;
    /// LAST RUN and PASSED: how its last run went, when, and how long ago;
    /// COMMAND: what it runs (the first to be cut on a narrow terminal).
    #[command(
        after_help = "Examples:\n  schedule list\n  schedule list backup sync\n  schedule list --failed\n  schedule list --json | jq '.[] | select(.enabled)'"
    )]
    List(ListArgs),
    /// Whether a scheduler is running on this database, and what it is doing
    ///
    /// Its pid and host, since when, its config and database, its version,
    /// how many jobs, runs going and fires queued, and the other schedulers
    /// this database has seen. Exit 0 when one is running, 3 when none is
    /// (as `systemctl status`).
    #[command(
        after_help = "Examples:\n  schedule status\n  schedule status --json | jq .runs_going\n  schedule status >/dev/null || echo 'no scheduler'"
    )]
    Status(StatusArgs),
    /// Print a run's output; with --follow, its new lines until it ends
    ///
    /// JOB means the job's current run, or its last one; a number is a run
    /// id. Lines are marked `out |` (stdout) or `err |` (stderr). A running
    /// run's output is passed on by the scheduler from when it is asked
    /// for; an ended run's is the 64 KiB of each stream the history keeps.
    #[command(
        after_help = "Examples:\n  schedule logs backup\n  schedule logs backup --follow\n  schedule logs 42 --tail 20\n  schedule logs backup --since 24h\n  schedule logs backup -f --raw | jq ."
    )]
    Logs(LogsArgs),
    /// Show recorded runs, newest first
    #[command(
        after_help = "Examples:\n  schedule history\n  schedule history backup -n 50\n  schedule history --failed --since 24h\n  schedule history --status timed_out --status interrupted\n  schedule history backup --reverse --since 7d\n  schedule history --host worker-2 --since 2026-11-01 --json"
    )]
    History(HistoryArgs),
    /// Print the next fire instants of a job or of a cron expression
    ///
    /// An argument with a space, or starting with `@` or `every `, is an
    /// expression and needs no config file; anything else names a job.
    #[command(
        after_help = "Examples:\n  schedule next backup\n  schedule next '15 1-3 * * *' --tz America/New_York --after 2026-11-01T00:00:00-04:00\n  schedule next '@daily' --count 3 --json\n  schedule next 'every 90s'"
    )]
    Next(NextArgs),
    /// Run a job now, outside its schedule
    ///
    /// With a scheduler running on the same database, the run is handed to
    /// it, so the job's overlap policy and max_concurrent still apply.
    /// Without one, this command runs the job itself. Either way the run is
    /// recorded with trigger `manual`.
    #[command(
        after_help = "Examples:\n  schedule trigger backup\n  schedule trigger backup --wait && echo 'backup ok'"
    )]
    Trigger(TriggerArgs),
    /// Pause jobs: their fires are recorded `skipped` until resumed
    ///
    /// Stored in the database, so it survives restarts; a running scheduler
    /// notices at once.
    #[command(after_help = "Examples:\n  schedule pause backup\n  schedule pause --all")]
    Pause(PauseArgs),
    /// Resume paused jobs
    #[command(after_help = "Examples:\n  schedule resume backup\n  schedule resume --all")]
    Resume(PauseArgs),
    /// Show everything about one run
    #[command(
        after_help = "Examples:\n  schedule show 42\n  schedule history --failed --limit 1 --json | jq '.[0].id' | xargs schedule show\n  schedule show 42 --json"
    )]
    Show(ShowArgs),
    /// Per-job statistics: runs, success rate, durations, delays
    #[command(
        after_help = "Examples:\n  schedule stats\n  schedule stats backup --since 30d\n  schedule stats --json"
    )]
    Stats(StatsArgs),
    /// Validate the config without running anything
    ///
    /// Exit 0 with a summary when it is valid, 2 with every error when it is
    /// not. Warnings (cron's day rule, uneven steps, daylight-saving jumps,
    /// lines that never fire, the `#`/`L`/`W` extensions, disabled jobs,
    /// commands not on PATH) do not fail the check unless --strict.
    #[command(
        after_help = "Examples:\n  schedule check\n  schedule --config /etc/schedule/jobs.toml check --strict\n  schedule check --json | jq '.warnings'"
    )]
    Check(CheckArgs),
    /// Write a commented jobs.toml to start from
    ///
    /// It has two example jobs and the common settings, commented. An existing
    /// file is never overwritten (exit 2).
    #[command(
        after_help = "Examples:\n  schedule init\n  schedule init /etc/schedule/jobs.toml\n  schedule init && schedule check"
    )]
    Init(InitArgs),
    /// Print a jobs.toml converted from another scheduler's file
    ///
    /// The converted file goes to stdout, notes and lines that could not be
    /// converted to stderr; nothing is written.
    #[command(
        after_help = "Examples:\n  schedule import crontab /etc/crontab > jobs.toml\n  crontab -l | schedule import crontab - > jobs.toml"
    )]
    Import(ImportArgs),
    /// Print the job names, for the completion scripts
    #[command(name = "__complete", hide = true)]
    Complete(CompleteArgs),
    /// Print a shell completion script
    ///
    /// The bash, zsh and fish scripts complete job names for trigger, pause,
    /// resume, history, next and stats, from the config (`--config` on the
    /// command line, SCHEDULE_CONFIG, or ./jobs.toml).
    #[command(
        after_help = "Examples:\n  schedule completions bash > ~/.local/share/bash-completion/completions/schedule\n  schedule completions zsh > ~/.zfunc/_schedule\n  schedule completions fish > ~/.config/fish/completions/schedule.fish"
    )]
    Completions(CompletionsArgs),
}

#[derive(Debug, Args)]
pub struct RunArgs {
    /// How long running jobs may take to finish after Ctrl-C or SIGTERM
    #[arg(long, default_value = "30s", value_name = "DURATION", value_parser = parse_duration)]
    pub shutdown_grace: std::time::Duration,
    /// Serve /health and /metrics on this address (a bare port listens on
    /// loopback); overrides `[scheduler] http`
    #[arg(long, value_name = "ADDR", env = "SCHEDULE_HTTP", value_parser = crate::addr::parse_addr)]
    pub http: Option<std::net::SocketAddr>,
    /// This host's name in the history and, with [cluster], among the
    /// hosts (default: the machine's host name)
    #[arg(long, value_name = "NAME", env = "SCHEDULE_HOST", value_parser = parse_host)]
    pub host: Option<String>,
}

fn parse_host(text: &str) -> Result<String, String> {
    let name = text.trim();
    if name.is_empty()
        || name.len() > 253
        || name.chars().any(|c| c.is_control() || c.is_whitespace())
    {
        return Err(format!(
            "invalid host name `{}`: give 1 to 253 characters without spaces or control \
             characters, such as `web-1`",
            text.escape_debug()
        ));
    }
    Ok(name.to_string())
}

#[derive(Debug, Args)]
pub struct ListArgs {
    /// Only these jobs
    #[arg(value_name = "JOB")]
    pub jobs: Vec<String>,
    /// Only the jobs whose last run went wrong (failed, timed_out,
    /// interrupted)
    #[arg(long)]
    pub failed: bool,
    /// Print JSON instead of a table
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct StatusArgs {
    /// Print JSON instead of text
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct LogsArgs {
    /// A job (its current or last run) or a run id
    #[arg(value_name = "JOB|RUN_ID")]
    pub target: String,
    /// Keep printing the run's new lines until it ends
    #[arg(short, long)]
    pub follow: bool,
    /// Only the last N lines of the output so far
    #[arg(long, value_name = "N")]
    pub tail: Option<usize>,
    /// Every run of JOB started since then, oldest first: a duration ago
    /// (`2h`), a date or an RFC3339 instant
    #[arg(long, value_name = "WHEN")]
    pub since: Option<String>,
    /// The job's lines unmarked, stdout to stdout and stderr to stderr
    #[arg(long)]
    pub raw: bool,
}

#[derive(Debug, Args)]
pub struct HistoryArgs {
    /// Only this job's runs
    pub job: Option<String>,
    /// Only runs that went wrong: failed, timed_out, interrupted (a failure
    /// that a later attempt retried is left out)
    #[arg(long)]
    pub failed: bool,
    /// Only rows with this status: running, succeeded, failed, timed_out,
    /// cancelled, interrupted, skipped, missed (repeatable, or
    /// comma-separated)
    #[arg(long, value_name = "STATUS", value_delimiter = ',', value_parser = parse_status)]
    pub status: Vec<crate::domain::Status>,
    /// Only runs of the scheduler on this host
    #[arg(long, value_name = "HOST")]
    pub host: Option<String>,
    /// At most this many runs
    #[arg(short = 'n', long, default_value_t = 20, value_name = "N")]
    pub limit: usize,
    /// Oldest first: the oldest N runs that match
    #[arg(long)]
    pub reverse: bool,
    /// Only runs scheduled since then: a duration ago (`2h`, `7d`), a date
    /// (`2026-11-01`, UTC midnight) or an RFC3339 instant
    #[arg(long, value_name = "WHEN")]
    pub since: Option<String>,
    /// Print JSON instead of a table
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct NextArgs {
    /// A job name, or an expression: `0 2 * * *`, `@daily`, `every 5m`
    #[arg(value_name = "JOB|EXPRESSION")]
    pub target: String,
    /// How many instants (1 to 100000)
    #[arg(long, short = 'n', default_value_t = 5, value_name = "N",
          value_parser = clap::value_parser!(u32).range(1..=100_000))]
    pub count: u32,
    /// Start after this instant instead of now: RFC3339 with `Z` or an
    /// offset (2026-11-20T10:00:00Z), or a date (2026-11-20, UTC midnight)
    #[arg(long, value_name = "WHEN")]
    pub after: Option<String>,
    /// The time zone (IANA name) an expression is counted in and times are
    /// shown in; default: the job's, or UTC for an expression. --utc shows
    /// UTC instead
    #[arg(long, value_name = "ZONE")]
    pub tz: Option<String>,
    /// Print JSON instead of one instant per line
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct TriggerArgs {
    /// The job to run
    pub job: String,
    /// Wait for the end, stream the job's output, and exit with its exit code
    #[arg(long)]
    pub wait: bool,
}

#[derive(Debug, Args)]
pub struct PauseArgs {
    /// The jobs
    #[arg(required_unless_present = "all", conflicts_with = "all")]
    pub jobs: Vec<String>,
    /// Every job in the config
    #[arg(long)]
    pub all: bool,
}

#[derive(Debug, Args)]
pub struct ShowArgs {
    /// The run's id (the ID column of `schedule history`)
    pub run_id: i64,
    /// Print JSON instead of text
    #[arg(long)]
    pub json: bool,
    /// Print the job's output as it wrote it; on a terminal, control
    /// characters and escape sequences are otherwise shown escaped
    #[arg(long)]
    pub raw: bool,
}

#[derive(Debug, Args)]
pub struct StatsArgs {
    /// Only this job
    pub job: Option<String>,
    /// Over the runs scheduled since then: a duration ago (`7d`), a date or
    /// an RFC3339 instant
    #[arg(long, default_value = "7d", value_name = "WHEN")]
    pub since: String,
    /// Print JSON instead of a table
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct CheckArgs {
    /// Fail (exit 2) on warnings too
    #[arg(long)]
    pub strict: bool,
    /// Print JSON instead of text
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct InitArgs {
    /// Where to write it; default: the --config path (./jobs.toml)
    #[arg(value_name = "PATH")]
    pub path: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct ImportArgs {
    #[command(subcommand)]
    pub source: ImportSource,
}

#[derive(Debug, Subcommand)]
pub enum ImportSource {
    /// Convert a crontab: its entries, variables, CRON_TZ, macros and `%`
    ///
    /// Each entry becomes a job, named after the comment line right above it
    /// (else `line-N`). What does not carry over (the user field, MAILTO,
    /// @reboot) is said in comments beside the job; a line that cannot be
    /// converted is kept as a comment with the reason.
    #[command(
        after_help = "Examples:\n  crontab -l | schedule import crontab - > jobs.toml\n  schedule import crontab /etc/cron.d/sysstat\n  schedule import crontab --system --tz Europe/Berlin backup.cron > jobs.toml && schedule check"
    )]
    Crontab(CrontabArgs),
}

#[derive(Debug, Args)]
pub struct CrontabArgs {
    /// The crontab, or `-` for stdin
    #[arg(value_name = "FILE")]
    pub file: PathBuf,
    /// Entries have a user field (as in /etc/crontab and /etc/cron.d/*, which
    /// are recognised by their path)
    #[arg(long)]
    pub system: bool,
    /// The time zone cron ran the file in (IANA name); default: this
    /// machine's, from TZ or /etc/localtime
    #[arg(long, value_name = "ZONE")]
    pub tz: Option<String>,
}

#[derive(Debug, Args)]
pub struct CompleteArgs {
    /// What to list
    pub what: CompleteWhat,
}

/// `schedule __complete WHAT`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum CompleteWhat {
    /// The names of the jobs in the config
    Jobs,
}

#[derive(Debug, Args)]
pub struct CompletionsArgs {
    /// The shell
    pub shell: clap_complete::Shell,
}

/// The definition as parsed, helped and documented: [`Cli`], with the
/// global flags that mean nothing to `completions` (`--config`, `--db`,
/// `--utc`, ...) left out of its help.
pub fn command() -> clap::Command {
    let cmd = <Cli as clap::CommandFactory>::command();
    // clap copies a global flag into a subcommand only where the
    // subcommand has none of that name: give `completions` hidden ones.
    let globals: Vec<clap::Arg> = cmd
        .get_arguments()
        .filter(|a| a.is_global_set())
        .map(|a| a.clone().global(false).hide(true))
        .collect();
    cmd.mut_subcommand("completions", |sub| sub.args(globals))
}

/// Parses the process's arguments against [`command`].
pub fn parse() -> Cli {
    use clap::FromArgMatches;
    Cli::from_arg_matches(&command().get_matches()).unwrap_or_else(|e| e.exit())
}

fn parse_status(s: &str) -> Result<crate::domain::Status, String> {
    s.parse().map_err(|e: String| {
        let words: Vec<&str> = crate::domain::Status::ALL
            .iter()
            .map(|s| s.as_str())
            .collect();
        format!("{e}; expected one of {}", words.join(", "))
    })
}

fn parse_duration(s: &str) -> Result<std::time::Duration, String> {
    crate::duration::parse(s)
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn the_cli_definition_is_consistent() {
        Cli::command().debug_assert();
        command().debug_assert();
    }
}
