//! `schedule`: a cron-style job scheduler for the command line.
//!
//! The binary is a thin shell around [`run`]; each module owns one thing
//! (see ARCHITECTURE.md for how they fit together).

pub mod addr;
pub mod check;
pub mod cli;
pub mod cluster;
pub mod commands;
pub mod config;
pub mod dashboard;
pub mod domain;
pub mod duration;
pub mod engine;
pub mod error;
pub mod hooks;
pub mod http;
pub mod import;
pub mod memory;
pub mod monitor;
pub mod notify;
pub mod output;
pub mod process;
pub mod runner;
pub mod schedule;
pub mod scheduler;
pub mod signals;
pub mod store;
pub mod timer;
pub mod watch;

pub use error::Error;

/// Runs one parsed command line.
pub fn run(cli: cli::Cli) -> Result<(), Error> {
    use cli::Command;
    match cli.command {
        Command::Run(args) => commands::run::run(&cli.global, &args),
        Command::List(args) => commands::list::run(&cli.global, &args),
        Command::History(args) => commands::history::run(&cli.global, &args),
        Command::Status(args) => commands::status::run(&cli.global, &args),
        Command::Logs(args) => commands::logs::run(&cli.global, &args),
        Command::Next(args) => commands::next::run(&cli.global, &args),
        Command::Check(args) => commands::check::run(&cli.global, &args),
        Command::Show(args) => commands::show::run(&cli.global, &args),
        Command::Trigger(args) => commands::trigger::run(&cli.global, &args),
        Command::Pause(args) => commands::pause::run(&cli.global, &args, true),
        Command::Resume(args) => commands::pause::run(&cli.global, &args, false),
        Command::Stats(args) => commands::stats::run(&cli.global, &args),
        Command::Init(args) => commands::init::run(&cli.global, &args),
        Command::Import(args) => commands::import::run(&args),
        Command::Completions(args) => commands::completions::run(&args),
        Command::Complete(args) => commands::completions::complete(&cli.global, &args),
    }
}
