//! `on_success` and `on_failure`: a shell command run after a run ends, told
//! about the run through its environment and given the run's output on
//! stdin. A hook runs beside everything else: it never holds up the loop or
//! another job, it is killed (its whole process group) after its
//! `hook_timeout`, and its own failure is only logged.

use chrono::{DateTime, SecondsFormat, Utc};
use std::process::Stdio;
use std::sync::Arc;
use tokio::io::AsyncWriteExt;

use crate::config::Job;
use crate::domain::Outcome;

/// Starts `command` for the run that ended with `outcome`.
pub fn spawn(
    command: String,
    job: Arc<Job>,
    run_id: i64,
    scheduled_for: DateTime<Utc>,
    outcome: &Outcome,
    monitor: Option<Arc<crate::monitor::Monitor>>,
) {
    let which = if outcome.status == crate::domain::Status::Succeeded {
        "on_success"
    } else {
        "on_failure"
    };
    let mut cmd = tokio::process::Command::new(&*job.settings.shell);
    cmd.arg("-c")
        .arg(&command)
        .envs(job.settings.env.iter().map(|(k, v)| (k, v)))
        .env("SCHEDULE_JOB", &*job.name)
        .env("SCHEDULE_RUN_ID", run_id.to_string())
        .env("SCHEDULE_STATUS", outcome.status.as_str())
        .env(
            "SCHEDULE_EXIT_CODE",
            outcome.exit_code.map(|c| c.to_string()).unwrap_or_default(),
        )
        .env(
            "SCHEDULE_SCHEDULED_FOR",
            scheduled_for.to_rfc3339_opts(SecondsFormat::AutoSi, true),
        )
        .env("SCHEDULE_DURATION_MS", outcome.duration_ms.to_string())
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .process_group(0)
        .kill_on_drop(true);
    if let Some(dir) = &job.settings.dir {
        cmd.current_dir(dir);
    }
    // The output the run left: stdout's tail, then stderr's.
    let mut input = outcome.stdout_tail.clone().into_bytes();
    input.extend_from_slice(outcome.stderr_tail.as_bytes());
    let timeout = job.settings.hook_timeout;
    let name = job.name.clone();
    tokio::spawn(async move {
        let failed = || {
            if let Some(monitor) = &monitor {
                monitor.hook_failed(&name, which);
            }
        };
        // Ours until the hook is over: the orphan reaper leaves it to tokio.
        let (mut child, _own) = match crate::process::spawn(&mut cmd) {
            Ok(spawned) => spawned,
            Err(e) => {
                tracing::warn!(job = %name, run_id, hook = which, error = %e, "hook not started");
                failed();
                return;
            }
        };
        if let Some(mut stdin) = child.stdin.take() {
            // A hook that does not read its input must not block us.
            let _ = tokio::time::timeout(timeout, stdin.write_all(&input)).await;
        }
        let pgid = child.id();
        match tokio::time::timeout(timeout, child.wait_with_output()).await {
            Ok(Ok(out)) if out.status.success() => {
                tracing::info!(job = %name, run_id, hook = which, "hook ran");
            }
            Ok(Ok(out)) => {
                let stderr = String::from_utf8_lossy(&out.stderr);
                let last = stderr
                    .lines()
                    .rev()
                    .find(|l| !l.trim().is_empty())
                    .unwrap_or("");
                // `exit_code=7` or `signal=9`, and stderr's last line if any.
                let exit_code = out.status.code();
                let signal = std::os::unix::process::ExitStatusExt::signal(&out.status);
                let last = Some(last.trim())
                    .filter(|l| !l.is_empty())
                    .map(tracing::field::display);
                tracing::warn!(job = %name, run_id, hook = which, exit_code, signal, stderr = last, "hook failed");
                failed();
            }
            Ok(Err(e)) => {
                tracing::warn!(job = %name, run_id, hook = which, error = %e, "hook failed");
                failed();
            }
            Err(_) => {
                if let Some(pgid) = pgid {
                    let _ = nix::sys::signal::killpg(
                        nix::unistd::Pid::from_raw(pgid as i32),
                        nix::sys::signal::Signal::SIGKILL,
                    );
                }
                tracing::warn!(job = %name, run_id, hook = which, timeout = %crate::duration::format(timeout), "hook timed out and was killed");
                failed();
            }
        }
    });
}
