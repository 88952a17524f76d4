//! Any text as jobs.toml: loading never panics, and every error it reports
//! renders with its place.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|text: &str| {
    match schedule::config::parse(std::path::Path::new("jobs.toml"), text) {
        Ok(config) => {
            for job in &config.jobs {
                let _ = job.schedule.next_after(chrono::Utc::now());
            }
        }
        Err(diags) => {
            for d in diags {
                let _ = d.to_string();
            }
        }
    }
});
