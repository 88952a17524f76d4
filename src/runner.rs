//! One run of one command: spawn it in its own process group, capture and
//! log its output, enforce its timeout, stop it on request, and say how it
//! ended.
//!
//! Each run is `shell -c command` with stdin from /dev/null. The child leads
//! a new process group so that a timeout or a shutdown reaches everything it
//! started: SIGTERM to the group, then SIGKILL to whatever is left after the
//! job's `kill_grace`. A run ends when the shell exits; a background
//! grandchild that keeps the output pipes open does not hold it up: we wait
//! a short drain window for the rest of the output, then record the run,
//! while the pipes are still read (and logged) until the grandchild is done.

use chrono::{DateTime, SecondsFormat, Utc};
use nix::sys::signal::{Signal, killpg};
use nix::unistd::Pid;
use std::os::unix::process::ExitStatusExt;
use std::process::ExitStatus;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncReadExt};
use tokio::sync::watch;
use tokio::time::{Instant, sleep, sleep_until};

use crate::config::Job;
use crate::domain::{Ended, Outcome};
use crate::process;

/// How much of each stream the history keeps: the last 64 KiB.
pub const TAIL_BYTES: usize = 64 * 1024;
/// How long we keep reading after the shell exits, for output still in the pipes.
const DRAIN: Duration = Duration::from_millis(500);
/// How often a stopping run checks whether its group is gone: soon at
/// first, then less often, since each check may read /proc.
const MIN_POLL: Duration = Duration::from_millis(10);
const MAX_POLL: Duration = Duration::from_millis(200);
/// A log line longer than this is split.
const MAX_LOG_LINE: usize = 8 * 1024;

/// What the scheduler asks of a running run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Control {
    /// Carry on.
    Run,
    /// Stop gracefully: SIGTERM, then SIGKILL after the job's kill grace.
    Terminate,
    /// The same, because a newer fire replaces this run.
    Replace,
    /// Stop now: SIGKILL.
    Kill,
}

/// Where a copy of a run's output goes while someone follows it:
/// (`"stdout"` or `"stderr"`, bytes).
pub type Live = Arc<dyn Fn(&'static str, Vec<u8>) + Send + Sync>;

/// Identifies a run in logs and in the child's environment.
#[derive(Clone)]
pub struct RunInfo {
    pub run_id: i64,
    pub scheduled_for: DateTime<Utc>,
    /// Where a copy of each output chunk goes, for `schedule trigger
    /// --wait` and `schedule logs --follow`.
    pub live: Option<Live>,
    /// Whether `live` gets the chunks: always without it; with it, from
    /// when it turns true, starting with each stream's output so far (one
    /// chunk per stream, empty when there was none). Until then a chunk
    /// costs one flag read.
    pub follow: Option<watch::Receiver<bool>>,
    /// Where each line goes besides the tail (`[scheduler] job_output`).
    pub output: crate::config::JobOutput,
    /// With `Passthrough`: start each line with `[JOB] `.
    pub prefix: bool,
}

/// Runs `job` once and returns how it ended. Never fails: a command that
/// cannot be spawned is a `failed` run with the reason. `spawned` gets the
/// child's pid, which is also its process group id.
pub async fn run(
    job: &Job,
    info: &RunInfo,
    control: watch::Receiver<Control>,
    spawned: impl FnOnce(u32),
) -> Outcome {
    match start(job, info) {
        Ok(child) => {
            if let Some(pid) = child.pid() {
                spawned(pid);
            }
            child.finish(job, info, control).await
        }
        Err(failed) => *failed,
    }
}

/// A run whose child is running, until [`Started::finish`] says how it ended.
pub struct Started {
    child: tokio::process::Child,
    /// The read ends of its stdout and stderr.
    output: [std::os::fd::OwnedFd; 2],
    /// Ours until this run is over: the orphan reaper leaves it to tokio.
    _own: Option<process::OwnChild>,
    started: Instant,
}

/// Spawns the run's child, at once: the scheduler calls it where the claim
/// comes back, so that nothing else the loop has to do stands between the
/// row and the start. A command that cannot be spawned is the `failed`
/// outcome, with the reason.
pub fn start(job: &Job, info: &RunInfo) -> Result<Started, Box<Outcome>> {
    prepare(job, info.run_id, info.scheduled_for).spawn(job)
}

/// A run's command, built and not spawned yet: a run held until its
/// instant is built while it waits, its stdin and output pipes open, so
/// that the instant costs the spawn alone.
pub struct Prepared {
    cmd: tokio::process::Command,
    /// The read ends of the child's stdout and stderr, or why they could
    /// not be made (out of descriptors): the spawn reports it.
    output: std::io::Result<[std::os::fd::OwnedFd; 2]>,
}

/// Gives `cmd` /dev/null for stdin and a pipe each for stdout and stderr;
/// the read ends are ours. All close-on-exec: the child gets its copies
/// through the spawn's dup2, and no other child inherits them.
fn own_stdio(cmd: &mut tokio::process::Command) -> std::io::Result<[std::os::fd::OwnedFd; 2]> {
    let null = std::fs::File::open("/dev/null")?;
    let (out, out_w) = std::io::pipe()?;
    let (err, err_w) = std::io::pipe()?;
    cmd.stdin(null).stdout(out_w).stderr(err_w);
    Ok([out.into(), err.into()])
}

/// Builds the command of run `run_id` of `job`.
pub fn prepare(job: &Job, run_id: i64, scheduled_for: DateTime<Utc>) -> Prepared {
    // The exec form saves a process: no shell between us and the program.
    let mut cmd = match job.exec.as_deref() {
        Some([program, args @ ..]) => {
            let mut cmd = tokio::process::Command::new(program);
            cmd.args(args);
            cmd
        }
        _ => {
            let mut cmd = tokio::process::Command::new(&*job.settings.shell);
            cmd.arg("-c").arg(&*job.command);
            cmd
        }
    };
    cmd.envs(job.settings.env.iter().map(|(k, v)| (k, v)))
        .env("SCHEDULE_JOB", &*job.name)
        .env("SCHEDULE_RUN_ID", run_id.to_string())
        .env(
            "SCHEDULE_SCHEDULED_FOR",
            scheduled_for.to_rfc3339_opts(SecondsFormat::AutoSi, true),
        )
        .process_group(0);
    if let Some(dir) = &job.settings.dir {
        cmd.current_dir(dir);
    }
    let output = own_stdio(&mut cmd);
    Prepared { cmd, output }
}

impl Prepared {
    /// Spawns it (`job`: the one it was prepared for, named in the reason
    /// when it cannot be spawned).
    pub fn spawn(self, job: &Job) -> Result<Started, Box<Outcome>> {
        let started = Instant::now();
        let program = match job.exec.as_deref() {
            Some([program, ..]) => program.as_str(),
            _ => &*job.settings.shell,
        };
        let Prepared { mut cmd, output } = self;
        // On the loop's thread, which waits while the vfork'd child execs. Off
        // it (tokio's blocking pool) a burst of 1,000 on two cores went no
        // faster (BENCHMARKS.md) and a lone run paid a thread's wake-up.
        let spawned = output.and_then(|output| Ok((process::spawn(&mut cmd)?, output)));
        // Our copies of the child's ends close here: the output reaches its
        // end when the child's last writer is done.
        drop(cmd);
        match spawned {
            Ok(((child, own), output)) => Ok(Started {
                child,
                output,
                _own: own,
                started,
            }),
            Err(e) => {
                let reason = match &job.settings.dir {
                    Some(dir) if !dir.is_dir() => {
                        format!(
                            "cannot start the job: its dir `{}` does not exist",
                            dir.display()
                        )
                    }
                    _ => format!("cannot start `{program}`: {e}"),
                };
                Err(Box::new(Outcome {
                    status: Ended::Failed,
                    finished_at: Utc::now(),
                    exit_code: None,
                    signal: None,
                    duration_ms: started.elapsed().as_millis() as i64,
                    stdout_tail: String::new(),
                    stderr_tail: String::new(),
                    reason: Some(reason),
                }))
            }
        }
    }
}

impl Started {
    /// The child's pid, which is also its process group id.
    pub fn pid(&self) -> Option<u32> {
        self.child.id()
    }

    /// Captures the output, enforces the timeout, stops the run on request
    /// and says how it ended.
    pub async fn finish(
        self,
        job: &Job,
        info: &RunInfo,
        mut control: watch::Receiver<Control>,
    ) -> Outcome {
        let Started {
            mut child,
            output: [out, err],
            _own,
            started,
        } = self;
        let pgid = child.id().map(|id| Pid::from_raw(id as i32));

        let stdout = Arc::new(Mutex::new(Tail::default()));
        let stderr = Arc::new(Mutex::new(Tail::default()));
        let readers = [
            reader(out, &job.name, "stdout").map(|pipe| {
                tokio::spawn(capture(
                    pipe,
                    stdout.clone(),
                    job.name.to_string(),
                    "stdout",
                    info.clone(),
                ))
            }),
            reader(err, &job.name, "stderr").map(|pipe| {
                tokio::spawn(capture(
                    pipe,
                    stderr.clone(),
                    job.name.to_string(),
                    "stderr",
                    info.clone(),
                ))
            }),
        ];

        let timeout_at = job.settings.timeout.map(|t| started + t);
        let (exit, end) = tokio::select! {
            exit = child.wait() => (exit.ok(), End::Exited),
            _ = sleep_until(timeout_at.unwrap_or(started)), if timeout_at.is_some() => {
                (stop(&mut child, pgid, info.run_id, job.settings.kill_grace, &mut control, false).await, End::TimedOut)
            }
            why = stop_requested(&mut control) => {
                let kill = why == Control::Kill;
                (stop(&mut child, pgid, info.run_id, job.settings.kill_grace, &mut control, kill).await, End::Cancelled(why))
            }
        };

        // The run ends with the shell; the drain below is our bookkeeping.
        let finished_at = Utc::now();
        let duration_ms = started.elapsed().as_millis() as i64;

        // Output still in the pipes arrives within the drain window. A
        // background grandchild that holds them open does not keep the run
        // going; its readers carry on (logging, discarding) until it closes them,
        // so it is not killed by SIGPIPE as it would be if we let go of the pipes.
        let drain_until = Instant::now() + DRAIN;
        for reader in readers.into_iter().flatten() {
            let _ = tokio::time::timeout_at(drain_until, reader).await;
        }
        let take = |tail: &Arc<Mutex<Tail>>| {
            let mut tail = tail.lock().unwrap_or_else(|p| p.into_inner());
            std::mem::take(&mut *tail).into_string()
        };

        let (status, reason) = match (end, exit) {
            (End::TimedOut, _) => (
                Ended::TimedOut,
                Some(format!(
                    "timed out after {}",
                    crate::duration::format(job.settings.timeout.unwrap_or_default())
                )),
            ),
            (End::Cancelled(why), _) => (
                Ended::Cancelled,
                Some(
                    match why {
                        Control::Replace => "replaced by a newer fire (overlap = \"replace\")",
                        _ => "stopped because the scheduler shut down",
                    }
                    .to_string(),
                ),
            ),
            (_, Some(exit)) if exit.success() => (Ended::Succeeded, None),
            (_, Some(exit)) => (
                Ended::Failed,
                exit.signal()
                    .map(|s| format!("killed by {}", signal_name(s))),
            ),
            (_, None) => (
                Ended::Failed,
                Some("lost track of the child process".to_string()),
            ),
        };
        Outcome {
            status,
            finished_at,
            exit_code: exit.and_then(|e| e.code()),
            signal: exit.and_then(|e| e.signal()),
            duration_ms,
            stdout_tail: take(&stdout),
            stderr_tail: take(&stderr),
            reason,
        }
    }
}

/// The read end of a run's output pipe, on the runtime's reactor. None if
/// it cannot be registered (the reactor is out of memory): the output is
/// then lost, and the child gets SIGPIPE if it writes.
fn reader(
    fd: std::os::fd::OwnedFd,
    job: &str,
    stream: &str,
) -> Option<tokio::net::unix::pipe::Receiver> {
    tokio::net::unix::pipe::Receiver::from_owned_fd(fd)
        .inspect_err(|e| tracing::warn!(job, error = %e, "cannot read the job's {stream}"))
        .ok()
}

/// Why the wait for the child ended.
enum End {
    Exited,
    TimedOut,
    Cancelled(Control),
}

/// Resolves with the request when the scheduler asks the run to stop.
/// Pending forever if the scheduler goes away.
async fn stop_requested(control: &mut watch::Receiver<Control>) -> Control {
    loop {
        match *control.borrow_and_update() {
            Control::Run => {}
            other => return other,
        }
        if control.changed().await.is_err() {
            std::future::pending::<()>().await;
        }
    }
}

/// Stops the whole process group: SIGTERM, then SIGKILL to whatever is left
/// after `grace` (at once if `kill_now`, or when a kill is requested during
/// the grace). Returns the shell's exit status once no process of the group
/// is left, or after a bounded wait.
async fn stop(
    child: &mut tokio::process::Child,
    pgid: Option<Pid>,
    run_id: i64,
    grace: Duration,
    control: &mut watch::Receiver<Control>,
    kill_now: bool,
) -> Option<ExitStatus> {
    let Some(pgid) = pgid else {
        // The child was already reaped; nothing to signal.
        return child.wait().await.ok();
    };
    let mut exit = None;
    if !kill_now {
        let _ = killpg(pgid, Signal::SIGTERM);
        // And what the run left outside its group (`setsid`): ours as
        // subreaper, known by the run's id in its environment.
        process::signal_marked(run_id, Signal::SIGTERM);
        let deadline = Instant::now() + grace;
        let mut kill_requested = false;
        let mut watching = true;
        let mut poll = MIN_POLL;
        // Wait for the leader, then for the rest of its group.
        loop {
            if exit.is_none() {
                exit = child.try_wait().ok().flatten();
            }
            if exit.is_some() && !process::group_alive(pgid) {
                return exit;
            }
            if kill_requested || Instant::now() >= deadline {
                break;
            }
            // Only a change can escalate to a kill: the current value is
            // what brought us here, and re-reading it would never wait.
            tokio::select! {
                _ = sleep(poll) => poll = (poll * 2).min(MAX_POLL),
                changed = control.changed(), if watching => match changed {
                    Ok(()) => kill_requested = *control.borrow_and_update() == Control::Kill,
                    Err(_) => watching = false,
                },
            }
        }
    }
    let _ = killpg(pgid, Signal::SIGKILL);
    process::signal_marked(run_id, Signal::SIGKILL);
    if exit.is_none() {
        exit = child.wait().await.ok();
    }
    // SIGKILL cannot be caught; the group empties as soon as the kernel has
    // torn the processes down.
    let limit = Instant::now() + Duration::from_secs(5);
    let mut poll = MIN_POLL;
    while process::group_alive(pgid) && Instant::now() < limit {
        sleep(poll).await;
        poll = (poll * 2).min(MAX_POLL);
    }
    exit
}

/// "SIGTERM" for 15.
pub fn signal_name(signal: i32) -> String {
    Signal::try_from(signal).map_or_else(|_| format!("signal {signal}"), |s| s.as_str().to_string())
}

/// Reads one output stream to its end: keeps the tail and logs each line.
async fn capture(
    mut pipe: impl AsyncRead + Unpin,
    tail: Arc<Mutex<Tail>>,
    job: String,
    stream: &'static str,
    info: RunInfo,
) {
    use crate::config::JobOutput;
    let RunInfo {
        run_id,
        live,
        mut follow,
        output,
        prefix,
        ..
    } = info;
    let mut buf = vec![0u8; 8192];
    let mut following = live.is_some() && follow.as_mut().is_none_or(|f| *f.borrow_and_update());
    let mut line: Vec<u8> = Vec::new();
    let prefix = prefix.then(|| format!("[{job}] "));
    let log = |line: &[u8]| match output {
        JobOutput::Log => {
            let text = String::from_utf8_lossy(line);
            tracing::info!(target: "schedule::job", job = %job, run_id, stream = %stream, "{}", text.trim_end_matches('\r'));
        }
        JobOutput::Passthrough => {
            // One write per line, so lines of jobs running side by side
            // never mix.
            let mut text = Vec::with_capacity(line.len() + 32);
            if let Some(prefix) = &prefix {
                text.extend_from_slice(prefix.as_bytes());
            }
            text.extend_from_slice(line);
            text.push(b'\n');
            use std::io::Write;
            let _ = if stream == "stderr" {
                std::io::stderr().lock().write_all(&text)
            } else {
                let mut out = std::io::stdout().lock();
                out.write_all(&text).and_then(|_| out.flush())
            };
        }
        JobOutput::None => {}
    };
    loop {
        let watching = !following && live.is_some() && follow.is_some();
        let read = tokio::select! {
            read = pipe.read(&mut buf) => read,
            changed = async { follow.as_mut().expect("watching").changed().await }, if watching => {
                match changed {
                    Ok(()) if *follow.as_mut().expect("watching").borrow_and_update() => {
                        // Someone follows from now: what came so far first.
                        following = true;
                        let so_far = tail.lock().unwrap_or_else(|p| p.into_inner()).bytes.clone();
                        if let Some(live) = &live {
                            live(stream, so_far);
                        }
                    }
                    Ok(()) => {}
                    Err(_) => follow = None,
                }
                continue;
            }
        };
        let n = match read {
            Ok(0) | Err(_) => break,
            Ok(n) => n,
        };
        let chunk = &buf[..n];
        tail.lock().unwrap_or_else(|p| p.into_inner()).push(chunk);
        if following && let Some(live) = &live {
            live(stream, chunk.to_vec());
        }
        for piece in chunk.split_inclusive(|&b| b == b'\n') {
            line.extend_from_slice(piece);
            if line.ends_with(b"\n") {
                log(&line[..line.len() - 1]);
                line.clear();
            } else if line.len() >= MAX_LOG_LINE {
                log(&line);
                line.clear();
            }
        }
    }
    if !line.is_empty() {
        log(&line);
    }
}

/// The last [`TAIL_BYTES`] of a stream.
#[derive(Default)]
struct Tail {
    bytes: Vec<u8>,
    /// Whether the start of the stream was dropped.
    cut: bool,
}

impl Tail {
    fn push(&mut self, chunk: &[u8]) {
        self.bytes.extend_from_slice(chunk);
        // Trim in batches, not on every write.
        if self.bytes.len() > 2 * TAIL_BYTES {
            let cut = self.bytes.len() - TAIL_BYTES;
            self.bytes.drain(..cut);
            self.cut = true;
        }
    }

    fn into_string(self) -> String {
        let start = self.bytes.len().saturating_sub(TAIL_BYTES);
        let mut bytes = &self.bytes[start..];
        let cut = self.cut || start > 0;
        // Do not start in the middle of a UTF-8 sequence.
        while let Some((&b, rest)) = bytes.split_first() {
            if cut && (b & 0xC0) == 0x80 {
                bytes = rest;
            } else {
                break;
            }
        }
        String::from_utf8_lossy(bytes).into_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tail_keeps_the_last_64_kib() {
        let mut tail = Tail::default();
        for i in 0..100_000u32 {
            tail.push(format!("{i}\n").as_bytes());
        }
        let text = tail.into_string();
        assert!(text.len() <= TAIL_BYTES);
        assert!(text.len() > TAIL_BYTES - 16);
        assert!(text.ends_with("99999\n"));
    }

    #[test]
    fn tail_does_not_start_inside_a_character() {
        let mut tail = Tail::default();
        tail.push("é".repeat(TAIL_BYTES).as_bytes());
        tail.push(b"x");
        let text = tail.into_string();
        assert!(!text.contains('\u{FFFD}'), "no replacement character");
        assert!(text.ends_with("éx"));
    }

    #[test]
    fn signal_names() {
        assert_eq!(signal_name(15), "SIGTERM");
        assert_eq!(signal_name(9), "SIGKILL");
        assert_eq!(signal_name(200), "signal 200");
    }
}
