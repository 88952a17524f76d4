//! `schedule check`: validate the config, run nothing.

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::check::{self, Warning};
use crate::cli::{CheckArgs, Global};
use crate::config::{self, ConfigError, Diagnostic};
use crate::error::Error;
use crate::output;

#[derive(Serialize)]
struct Report<'a> {
    valid: bool,
    jobs: Vec<JobSummary>,
    warnings: &'a [Warning],
    errors: &'a [Diagnostic],
}

#[derive(Serialize)]
struct JobSummary {
    job: String,
    schedule: String,
    timezone: String,
    enabled: bool,
    next_run: Option<DateTime<Utc>>,
}

pub fn run(global: &Global, args: &CheckArgs) -> Result<(), Error> {
    let now = Utc::now();
    let config = match config::load(&global.config) {
        Ok(config) => config,
        Err(ConfigError::Invalid(diags)) => {
            if args.json {
                let report = Report {
                    valid: false,
                    jobs: Vec::new(),
                    warnings: &[],
                    errors: &diags,
                };
                super::print(&output::json(&report))?;
            }
            return Err(Error::Config(ConfigError::Invalid(diags)));
        }
        Err(e) => return Err(e.into()),
    };
    let path = std::env::var("PATH").ok();
    // It loaded, so it reads; the text places warnings and errors.
    let text = std::fs::read_to_string(&global.config).unwrap_or_default();
    let errors = check::errors(&config, &text, path.as_deref());
    if !errors.is_empty() {
        if args.json {
            let report = Report {
                valid: false,
                jobs: Vec::new(),
                warnings: &[],
                errors: &errors,
            };
            super::print(&output::json(&report))?;
        }
        return Err(Error::Config(ConfigError::Invalid(errors)));
    }
    let warnings = check::warnings(&config, &text, now, path.as_deref());
    let jobs: Vec<JobSummary> = config
        .jobs
        .iter()
        .map(|j| JobSummary {
            job: j.name.to_string(),
            schedule: j.schedule.to_string(),
            timezone: j.settings.timezone.name().to_string(),
            enabled: j.settings.enabled,
            next_run: j
                .settings
                .enabled
                .then(|| j.schedule.next_after(now))
                .flatten(),
        })
        .collect();
    if args.json {
        let report = Report {
            valid: true,
            jobs,
            warnings: &warnings,
            errors: &[],
        };
        super::print(&output::json(&report))?;
    } else {
        let enabled = config.jobs.iter().filter(|j| j.settings.enabled).count();
        let mut text = format!(
            "{} is valid: {}, {enabled} enabled\n",
            global.config.display(),
            output::plural(config.jobs.len(), "job", "jobs")
        );
        if !jobs.is_empty() {
            let rows = config.jobs.iter().zip(&jobs).map(|(job, s)| {
                let tz = if global.utc {
                    chrono_tz::Tz::UTC
                } else {
                    job.settings.timezone
                };
                let next = output::next_run(s.next_run, s.enabled, false, tz, now);
                [
                    s.job.clone().into(),
                    s.schedule.clone().into(),
                    s.timezone.clone().into(),
                    next,
                ]
            });
            text.push_str(&output::table(
                [
                    output::Column::new("NAME", 10),
                    output::Column::new("SCHEDULE", 5),
                    output::Column::new("TIMEZONE", 4),
                    output::Column::new("NEXT RUN", 8),
                ],
                rows,
                global.look().width,
            ));
            text.push('\n');
        }
        super::print(&text)?;
        for w in &warnings {
            eprintln!(
                "warning: {}:{}:{}: job `{}`, key `{}`: {}",
                w.path, w.line, w.column, w.job, w.key, w.message
            );
        }
    }
    if args.strict && !warnings.is_empty() {
        return Err(Error::Usage(format!(
            "{} and --strict",
            output::plural(warnings.len(), "warning", "warnings")
        )));
    }
    Ok(())
}
