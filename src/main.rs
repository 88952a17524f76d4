use clap::FromArgMatches;
use schedule::cli::{Command, LogFormat};
use schedule::output::ColorChoice;
use std::io::IsTerminal;
use std::process::ExitCode;
use tracing_subscriber::EnvFilter;

/// `schedule --version`: the version, the commit and the build date (from
/// build.rs). Set here, not in cli.rs, so that the generated man page and
/// completions do not change with every commit.
const VERSION: &str = concat!(env!("CARGO_PKG_VERSION"), " (", env!("SCHEDULE_BUILD"), ")");

fn main() -> ExitCode {
    // Before anything else: a SIGHUP or SIGTERM during start-up waits for
    // the scheduler's loop instead of killing the process (signals.rs).
    schedule::signals::block();
    let matches = schedule::cli::command().version(VERSION).get_matches();
    let cli = schedule::cli::Cli::from_arg_matches(&matches).unwrap_or_else(|e| e.exit());
    if !matches!(cli.command, Command::Run(_)) {
        schedule::signals::unblock();
    }
    init_logging(&cli);
    match schedule::run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            if !matches!(e, schedule::Error::JobExit(_)) {
                eprintln!("error: {e}");
            }
            ExitCode::from(e.exit_code().clamp(0, 255) as u8)
        }
    }
}

/// Logs go to stderr. The scheduler narrates at `info`; the other commands
/// print their own answers and log only warnings (`trigger` already shows
/// the job's output, so no second copy as log lines). `-v`/`-q` move the
/// level; `RUST_LOG`, when set, decides instead.
fn init_logging(cli: &schedule::cli::Cli) {
    const LEVELS: [&str; 5] = ["error", "warn", "info", "debug", "trace"];
    let base: i32 = if matches!(cli.command, Command::Run(_)) {
        2
    } else {
        1
    };
    let level = (base + i32::from(cli.global.verbose) - i32::from(cli.global.quiet)).clamp(0, 4);
    let filter = EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| EnvFilter::new(LEVELS[level as usize]));
    let builder = tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        // A closed stderr (`schedule run 2>&1 | head`) must not bring the
        // scheduler down: the default reports write errors with eprintln!,
        // which panics on a broken pipe.
        .log_internal_errors(false)
        .with_env_filter(filter);
    match cli.global.log_format {
        LogFormat::Json => builder
            .json()
            .flatten_event(true)
            .with_current_span(false)
            .init(),
        LogFormat::Text => {
            // `--color` decides for the logs too; `auto` looks at stderr,
            // where they go.
            let color = match cli.global.color {
                ColorChoice::Always => true,
                ColorChoice::Never => false,
                ColorChoice::Auto => {
                    std::io::stderr().is_terminal()
                        && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
                }
            };
            builder.with_ansi(color).init()
        }
    }
}
