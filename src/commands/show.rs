//! `schedule show RUN_ID`: everything about one run, for the person
//! finding out why it failed.

use chrono::{DateTime, Utc};
use chrono_tz::Tz;

use crate::cli::{Global, ShowArgs};
use crate::domain::{RunRecord, Status};
use crate::duration;
use crate::error::Error;
use crate::output;
use crate::runner::signal_name;
use crate::store::Mode;

pub fn run(global: &Global, args: &ShowArgs) -> Result<(), Error> {
    let (location, mut store) = super::open_store(global, Mode::Read)?;
    super::config_for_reading(global);
    let Some(mut run) = store.run(args.run_id)? else {
        return Err(Error::Usage(format!(
            "no run {} in {location}; `schedule history` lists the ids",
            args.run_id,
        )));
    };
    if args.json {
        return super::print(&output::json(&run));
    }
    // A job's output must not drive the operator's terminal (titles,
    // clearing the screen): escaped there unless --raw asks for the bytes.
    if !args.raw && std::io::IsTerminal::is_terminal(&std::io::stdout()) {
        run.stdout_tail = output::for_terminal(&run.stdout_tail);
        run.stderr_tail = output::for_terminal(&run.stderr_tail);
    }
    // Times in the job's zone when the config still knows the job.
    let tz = global.zones().get(&run.job).copied().unwrap_or(Tz::UTC);
    let mut text = render(&run, tz, global.look(), Utc::now());
    if run.status == Status::Running {
        // A run a `trigger --wait` follows streams its output as it goes.
        let chunks = store.output_after(run.id, 0)?;
        if !chunks.is_empty() {
            text.push_str("\noutput so far:\n");
            let mut all = Vec::new();
            for chunk in chunks {
                all.extend_from_slice(&chunk.data);
            }
            for line in String::from_utf8_lossy(&all).lines() {
                text.push_str("  ");
                text.push_str(line);
                text.push('\n');
            }
        }
    }
    super::print(&text)
}

/// The text form; `now` for the relative times.
pub fn render(run: &RunRecord, tz: Tz, look: output::Look, now: DateTime<Utc>) -> String {
    let time = |t: DateTime<Utc>| {
        format!(
            "{} ({})",
            output::local_time(t, tz),
            output::relative(t, now)
        )
    };
    let mut lines: Vec<(&str, String)> = Vec::new();
    let status = match &run.reason {
        Some(reason) => format!("{} ({reason})", look.status(run.status)),
        None => look.status(run.status),
    };
    lines.push(("status", status));
    lines.push((
        "trigger",
        format!("{}, attempt {}", run.trigger, run.attempt),
    ));
    lines.push(("scheduled", time(run.scheduled_for)));
    if let Some(nominal) = &run.nominal {
        lines.push((
            "stands for",
            format!(
                "{} local time, skipped by a daylight-saving change",
                nominal.replace('T', " ")
            ),
        ));
    }
    if let Some(started) = run.started_at {
        let delay = (started - run.scheduled_for).num_milliseconds().max(0) as u64;
        lines.push((
            "started",
            format!(
                "{}, {} after its scheduled time",
                time(started),
                duration::human(std::time::Duration::from_millis(delay))
            ),
        ));
    }
    if let Some(finished) = run.finished_at {
        lines.push(("finished", time(finished)));
    }
    if let Some(ms) = run.duration_ms {
        lines.push((
            "duration",
            duration::human(std::time::Duration::from_millis(ms.max(0) as u64)),
        ));
    }
    let exit = match (run.exit_code, run.signal) {
        (Some(code), _) => format!("exit code {code}"),
        (None, Some(signal)) => format!("killed by {}", signal_name(signal)),
        (None, None) => "-".to_string(),
    };
    lines.push(("exit", exit));
    if let Some(count) = run.missed_count {
        let count = usize::try_from(count).unwrap_or(usize::MAX);
        let fires = output::plural(count, "fire", "fires");
        match run.last_scheduled_for {
            // A pause's row: the fires it skipped, up to its last.
            Some(last) => lines.push(("skipped", format!("{fires}, the last {}", time(last)))),
            None => lines.push(("missed", fires)),
        }
    }
    let mut host = format!("{} (scheduler pid {}", run.host, run.pid);
    if let Some(child) = run.child_pid {
        host.push_str(&format!(", job pid {child}"));
    }
    host.push(')');
    lines.push(("host", host));

    let mut text = format!("run {} of job `{}`\n", run.id, run.job);
    for (label, value) in lines {
        text.push_str(&format!("  {label:<10} {value}\n"));
    }
    if run.status == Status::Running {
        text.push_str(
            "\nstdout, stderr: saved when the run ends (`schedule trigger JOB --wait` shows \
             a run's output as it goes)\n",
        );
        return text;
    }
    for (name, tail) in [("stdout", &run.stdout_tail), ("stderr", &run.stderr_tail)] {
        if tail.is_empty() {
            text.push_str(&format!("\n{name}: (empty)\n"));
        } else {
            text.push_str(&format!("\n{name} (last 64 KiB):\n"));
            for line in tail.lines() {
                text.push_str("  ");
                text.push_str(line);
                text.push('\n');
            }
        }
    }
    text
}
