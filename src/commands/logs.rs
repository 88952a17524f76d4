//! `schedule logs JOB|RUN_ID [--follow]`: a run's output, as `kubectl logs`.
//!
//! An ended run's output is the tail of each stream that its row keeps
//! (stdout first, then stderr: the history does not keep how they
//! interleaved). A running run's output lives only in the scheduler, which
//! passes it on through the database's `live_output` once asked: this
//! command writes a `follows` row, the scheduler notices (as it notices
//! `pause`), and its run sends what it has so far, then each new chunk,
//! until it ends. Nothing is written for runs nobody follows.

use chrono::Utc;
use std::io::Write;
use std::time::{Duration, Instant};

use crate::cli::{Global, LogsArgs};
use crate::domain::{HistoryQuery, RunRecord, Status};
use crate::error::Error;
use crate::store::{self, Location, Mode, Store};

/// How often the database is read for new output.
const POLL: Duration = Duration::from_millis(200);
/// How long the output so far of a running run may take to come.
const SNAPSHOT_WAIT: Duration = Duration::from_secs(3);

pub fn run(global: &Global, args: &LogsArgs) -> Result<(), Error> {
    let since = args
        .since
        .as_deref()
        .map(|s| super::history::parse_since(s, Utc::now()))
        .transpose()
        .map_err(Error::Usage)?;
    let location = global.location()?;
    let target = Target::parse(&args.target);
    if let (Target::Job(job), Ok(config)) = (&target, crate::config::load(&global.config)) {
        super::find_job(&config, job)?;
    }
    if let (Target::Run(_), Some(_)) = (&target, since) {
        return Err(Error::Usage(
            "--since picks runs of a job: give a job name, not a run id".into(),
        ));
    }
    // Following a run asks the scheduler for its output: a write.
    let mut store = store::open(&location, Mode::Write)?;
    let mut out = Printer::new(args.raw);
    let run = match (&target, since) {
        (Target::Run(id), _) => store.run(*id)?.ok_or_else(|| {
            Error::Usage(format!(
                "no run {id} in {location}; `schedule history` lists the ids"
            ))
        })?,
        (Target::Job(job), Some(since)) => {
            // Every run since then, oldest first; the last one as below.
            let runs = ran(store.as_mut(), job, Some(since), true, 10_000)?;
            let Some((last, earlier)) = runs.split_last() else {
                return Err(Error::Runtime(format!(
                    "`{job}` has not run since {}",
                    since.to_rfc3339()
                )));
            };
            for run in earlier {
                out.header(run);
                out.ended(run, args.tail);
            }
            out.header(last);
            last.clone()
        }
        (Target::Job(job), None) => {
            // Its current run, else its last.
            let running = store.history(&HistoryQuery {
                job: Some(job.clone()),
                statuses: vec![Status::Running],
                limit: 1,
                ..Default::default()
            })?;
            match running.into_iter().next() {
                Some(run) => run,
                // A few rows back: fires cancelled before they started
                // have no output and are passed over.
                None => ran(store.as_mut(), job, None, false, 50)?
                    .into_iter()
                    .next()
                    .ok_or_else(|| Error::Runtime(format!("`{job}` has not run yet")))?,
            }
        }
    };
    if run.status != Status::Running {
        if run.started_at.is_none() {
            eprintln!(
                "run {} of `{}` did not run ({}): it has no output",
                run.id, run.job, run.status
            );
            return Ok(());
        }
        out.ended(&run, args.tail);
        return Ok(());
    }
    follow(&location, store.as_mut(), &run, args, &mut out)
}

/// What the command line names.
enum Target {
    Run(i64),
    Job(String),
}

impl Target {
    fn parse(text: &str) -> Target {
        match text.parse::<i64>() {
            Ok(id) => Target::Run(id),
            Err(_) => Target::Job(text.to_string()),
        }
    }
}

/// The job's runs that started, newest first (oldest first with
/// `oldest_first`).
fn ran(
    store: &mut dyn Store,
    job: &str,
    since: Option<chrono::DateTime<Utc>>,
    oldest_first: bool,
    limit: usize,
) -> Result<Vec<RunRecord>, Error> {
    Ok(store
        .history(&HistoryQuery {
            job: Some(job.to_string()),
            statuses: Status::ALL
                .iter()
                .copied()
                .filter(|s| !matches!(s, Status::Skipped | Status::Missed))
                .collect(),
            since,
            limit,
            oldest_first,
            ..Default::default()
        })?
        .into_iter()
        .filter(|r| r.started_at.is_some())
        .collect())
}

/// Asks the scheduler for the running run's output, prints what it has so
/// far, and with `--follow` the rest until the run ends.
fn follow(
    location: &Location,
    store: &mut dyn Store,
    run: &RunRecord,
    args: &LogsArgs,
    out: &mut Printer,
) -> Result<(), Error> {
    if super::running_scheduler(location).is_none() {
        return Err(Error::Runtime(format!(
            "run {} of `{}` is `running`, but no scheduler runs on {location} to pass its \
             output on; `schedule show {}` has what the history kept",
            run.id, run.job, run.id
        )));
    }
    store.follow(run.id, Utc::now())?;
    let asked = Instant::now();
    let mut seen = 0;
    // The output so far: one chunk per stream, then the new ones.
    let mut streams_seen = [false, false];
    let mut first = Vec::new();
    let mut so_far_done = false;
    let mut got_any = false;
    let mut asked_again = Instant::now();
    let mut polls: u32 = 0;
    loop {
        // Read the state first: output written before the end is all in.
        let record = store
            .run(run.id)?
            .ok_or_else(|| Error::Runtime(format!("run {} vanished from the history", run.id)))?;
        for chunk in store.output_after(run.id, seen)? {
            seen = chunk.seq;
            got_any = true;
            let stderr = chunk.stream == "stderr";
            streams_seen[usize::from(stderr)] = true;
            if so_far_done {
                out.chunk(stderr, &chunk.data);
            } else {
                first.push((stderr, chunk.data));
            }
        }
        let ended = record.status != Status::Running;
        if !so_far_done
            && (ended || streams_seen == [true, true] || asked.elapsed() >= SNAPSHOT_WAIT)
        {
            so_far_done = true;
            if ended && first.is_empty() {
                // It ended before the scheduler passed anything on.
                out.ended(&record, args.tail);
                return Ok(());
            }
            out.chunks(std::mem::take(&mut first), args.tail);
        }
        if so_far_done && ended && !got_any {
            // It ended before the scheduler passed anything on (its claim
            // was still on its way when we asked): what the history kept.
            out.ended(&record, args.tail);
            return Ok(());
        }
        if !got_any && asked_again.elapsed() >= SNAPSHOT_WAIT {
            // The run may not have started when we asked: ask again.
            store.follow(run.id, Utc::now())?;
            asked_again = Instant::now();
        }
        if so_far_done && !ended && !args.follow && !got_any {
            eprintln!(
                "the scheduler passed nothing of run {} on within {}s; try again, or --follow",
                run.id,
                SNAPSHOT_WAIT.as_secs()
            );
            return Ok(());
        }
        if so_far_done && (ended || !args.follow) {
            out.flush();
            if ended && args.follow {
                eprintln!(
                    "run {} of `{}` ended: {}",
                    record.id, record.job, record.status
                );
            }
            return Ok(());
        }
        polls += 1;
        if polls.is_multiple_of(25) && super::running_scheduler(location).is_none() {
            out.flush();
            return Err(Error::Runtime(format!(
                "the scheduler stopped during run {}; the next `schedule run` marks it interrupted",
                run.id
            )));
        }
        std::thread::sleep(POLL);
    }
}

/// Writes a job's output: marked lines on stdout, or raw bytes where the
/// job wrote them.
struct Printer {
    raw: bool,
    /// Each stream's last line, until its newline comes.
    partial: [Vec<u8>; 2],
}

impl Printer {
    fn new(raw: bool) -> Printer {
        Printer {
            raw,
            partial: [Vec::new(), Vec::new()],
        }
    }

    /// A line before each run's output when several are shown.
    fn header(&mut self, run: &RunRecord) {
        self.flush();
        let started = run.started_at.unwrap_or(run.scheduled_for).to_rfc3339();
        let line = format!(
            "== run {} of `{}`, started {started}: {} ==\n",
            run.id, run.job, run.status
        );
        if self.raw {
            eprint!("{line}");
        } else {
            write_out(line.as_bytes());
        }
    }

    /// An ended run's kept output.
    fn ended(&mut self, run: &RunRecord, tail: Option<usize>) {
        self.chunks(
            vec![
                (false, run.stdout_tail.as_bytes().to_vec()),
                (true, run.stderr_tail.as_bytes().to_vec()),
            ],
            tail,
        );
        self.flush();
    }

    /// Chunks, cut to their last `tail` lines.
    fn chunks(&mut self, chunks: Vec<(bool, Vec<u8>)>, tail: Option<usize>) {
        let Some(tail) = tail else {
            for (stderr, data) in chunks {
                self.chunk(stderr, &data);
            }
            return;
        };
        // Split into lines per stream, keeping the order of the chunks.
        let mut lines: Vec<(bool, Vec<u8>)> = Vec::new();
        let mut open: [Option<usize>; 2] = [None, None];
        for (stderr, data) in chunks {
            let i = usize::from(stderr);
            for piece in data.split_inclusive(|&b| b == b'\n') {
                match open[i] {
                    Some(at) => lines[at].1.extend_from_slice(piece),
                    None => {
                        lines.push((stderr, piece.to_vec()));
                        open[i] = Some(lines.len() - 1);
                    }
                }
                if piece.ends_with(b"\n") {
                    open[i] = None;
                }
            }
        }
        let skip = lines.len().saturating_sub(tail);
        for (stderr, line) in lines.into_iter().skip(skip) {
            self.chunk(stderr, &line);
        }
    }

    fn chunk(&mut self, stderr: bool, data: &[u8]) {
        if self.raw {
            if stderr {
                let _ = std::io::stderr().write_all(data);
            } else {
                write_out(data);
            }
            return;
        }
        let partial = &mut self.partial[usize::from(stderr)];
        partial.extend_from_slice(data);
        let mut text = Vec::new();
        while let Some(end) = partial.iter().position(|&b| b == b'\n') {
            let line: Vec<u8> = partial.drain(..=end).collect();
            text.extend_from_slice(mark(stderr).as_bytes());
            text.extend_from_slice(&line);
        }
        write_out(&text);
    }

    /// Ends lines still open.
    fn flush(&mut self) {
        for stderr in [false, true] {
            let partial = std::mem::take(&mut self.partial[usize::from(stderr)]);
            if !partial.is_empty() && !self.raw {
                let mut text = mark(stderr).as_bytes().to_vec();
                text.extend_from_slice(&partial);
                text.push(b'\n');
                write_out(&text);
            }
        }
    }
}

fn mark(stderr: bool) -> &'static str {
    if stderr { "err | " } else { "out | " }
}

/// Writes to stdout; a reader that went away is not our problem.
fn write_out(data: &[u8]) {
    if data.is_empty() {
        return;
    }
    let mut out = std::io::stdout().lock();
    let _ = out.write_all(data).and_then(|_| out.flush());
}
