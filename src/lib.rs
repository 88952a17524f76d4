//! `schedule`: a cron-style job scheduler for the command line.
pub mod config;
pub mod duration;
pub mod error;
pub mod schedule;
pub mod store;
