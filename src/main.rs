use clap::Parser;
use std::io::IsTerminal;
use std::process::ExitCode;
use tracing_subscriber::EnvFilter;

fn main() -> ExitCode {
    let cli = schedule::cli::Cli::parse();
    let color = std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none();
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_ansi(color)
        // A closed stderr (`schedule run 2>&1 | head`) must not bring the
        // scheduler down: the default reports write errors with eprintln!,
        // which panics on a broken pipe.
        .log_internal_errors(false)
        // The scheduler narrates at `info`; the other commands print their
        // own answers and log only warnings (`trigger` already shows the
        // job's output, so no second copy as log lines).
        .with_env_filter(EnvFilter::try_from_default_env().unwrap_or_else(|_| {
            let scheduler = matches!(cli.command, schedule::cli::Command::Run(_));
            EnvFilter::new(if scheduler { "info" } else { "warn" })
        }))
        .init();
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
