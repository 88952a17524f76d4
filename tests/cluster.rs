//! Several `schedule run` hosts on one PostgreSQL database (`[cluster]`),
//! with faults. Every job's command appends a line to a witness file opened
//! with O_APPEND (`>>`), independent of the database: job, scheduled
//! instant, run id, host, and whether it is the start or the end. The
//! counts come from the witness and from SQL.

mod common;

use common::{
    PATIENCE,
    pg::{RestartableServer, TestDb},
};
use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// Short leases, so each test is over in well under a minute.
const CLUSTER: &str = r#"
[cluster]
lease = "3s"
takeover_delay = "1s"
lost_grace = "1s"
max_skew = "1s"
"#;

struct Cluster {
    dir: tempfile::TempDir,
    db: TestDb,
    hosts: Vec<Host>,
}

struct Host {
    name: String,
    child: Child,
    log: PathBuf,
}

impl Host {
    fn pid(&self) -> Pid {
        Pid::from_raw(self.child.id() as i32)
    }

    fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    fn stop(&mut self) {
        if self.child.try_wait().ok().flatten().is_none() {
            let _ = kill(self.pid(), Signal::SIGCONT);
            let _ = kill(self.pid(), Signal::SIGTERM);
            let deadline = Instant::now() + Duration::from_secs(20);
            while self.child.try_wait().ok().flatten().is_none() && Instant::now() < deadline {
                std::thread::sleep(Duration::from_millis(50));
            }
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        for h in &mut self.hosts {
            h.stop();
        }
        // Jobs orphaned by a killed host.
        let _ = Command::new("pkill")
            .args(["-f", &self.dir.path().display().to_string()])
            .status();
    }
}

/// A witness line: `start|end JOB SCHEDULED_FOR RUN_ID HOST`.
#[derive(Debug, Clone)]
struct Seen {
    end: bool,
    job: String,
    at: String,
    run: i64,
    host: String,
}

impl Cluster {
    fn new(jobs: &str) -> Cluster {
        Cluster::on(TestDb::new(), jobs)
    }

    fn on(db: TestDb, jobs: &str) -> Cluster {
        let dir = tempfile::tempdir().unwrap();
        let c = Cluster {
            dir,
            db,
            hosts: Vec::new(),
        };
        c.write_config("jobs.toml", jobs);
        c
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    fn write_config(&self, name: &str, jobs: &str) {
        std::fs::write(self.path(name), format!("{CLUSTER}\n{jobs}")).unwrap();
    }

    /// The witness command: start line, `body`, end line.
    fn witness(&self, body: &str) -> String {
        let w = self.path("witness").display().to_string();
        format!(
            "echo \"start $SCHEDULE_JOB $SCHEDULE_SCHEDULED_FOR $SCHEDULE_RUN_ID $WITNESS_HOST\" >> {w}; {body}; \
             echo \"end $SCHEDULE_JOB $SCHEDULE_SCHEDULED_FOR $SCHEDULE_RUN_ID $WITNESS_HOST\" >> {w}"
        )
    }

    fn start(&mut self, name: &str) -> usize {
        self.start_with(name, "jobs.toml", &self.db.url.clone(), &[])
    }

    fn start_with(&mut self, name: &str, config: &str, url: &str, env: &[(&str, &str)]) -> usize {
        let i = self.spawn(name, config, url, env);
        self.wait_for_log(i, "joined the cluster");
        i
    }

    /// Starts a host without waiting for it to join.
    fn spawn(&mut self, name: &str, config: &str, url: &str, env: &[(&str, &str)]) -> usize {
        let log = self.path(&format!("{name}.log"));
        let child = Command::new(assert_cmd::cargo::cargo_bin("schedule"))
            .current_dir(self.dir.path())
            .env_remove("SCHEDULE_CONFIG")
            .env_remove("RUST_LOG")
            .env("SCHEDULE_DB", url)
            .env("WITNESS_HOST", name)
            .env("NO_COLOR", "1")
            .envs(env.iter().copied())
            .args([
                "--config",
                config,
                "run",
                "--host",
                name,
                "--shutdown-grace",
                "2s",
            ])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&log).unwrap())
            .spawn()
            .unwrap();
        self.hosts.push(Host {
            name: name.to_string(),
            child,
            log,
        });
        self.hosts.len() - 1
    }

    /// Starts these hosts and waits until each sees all of them.
    fn start_seeing_each_other(&mut self, names: &[&str]) {
        let first = self.hosts.len();
        for name in names {
            self.start(name);
        }
        let seen = format!("cluster hosts: {}", names.len());
        for i in first..self.hosts.len() {
            self.wait_for_log(i, &seen);
        }
    }

    fn wait_for_log(&self, i: usize, text: &str) {
        let deadline = Instant::now() + PATIENCE;
        while !self.hosts[i].log().contains(text) {
            assert!(
                Instant::now() < deadline,
                "{} never logged {text:?}; log:\n{}",
                self.hosts[i].name,
                self.hosts[i].log()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    fn seen(&self) -> Vec<Seen> {
        let text = std::fs::read_to_string(self.path("witness")).unwrap_or_default();
        text.lines()
            .filter_map(|l| {
                let w: Vec<&str> = l.split_whitespace().collect();
                (w.len() == 5).then(|| Seen {
                    end: w[0] == "end",
                    job: w[1].to_string(),
                    at: w[2].to_string(),
                    run: w[3].parse().unwrap_or(-1),
                    host: w[4].to_string(),
                })
            })
            .collect()
    }

    fn sql(&self, query: &str) -> String {
        self.db.query_one(query).unwrap_or_default()
    }

    /// `schedule ARGS` on the cluster's database: its stdout.
    fn cmd(&self, args: &[&str]) -> String {
        String::from_utf8_lossy(&self.run(args).stdout).into_owned()
    }

    fn run(&self, args: &[&str]) -> std::process::Output {
        Command::new(assert_cmd::cargo::cargo_bin("schedule"))
            .current_dir(self.dir.path())
            .env("SCHEDULE_DB", &self.db.url)
            .env("NO_COLOR", "1")
            .env("COLUMNS", "200")
            .args(args)
            .output()
            .unwrap()
    }

    fn logs(&self) -> String {
        self.hosts
            .iter()
            .map(|h| format!("--- {} ---\n{}", h.name, h.log()))
            .collect()
    }
}

/// Fires started more than once, from the witness: (job, instant) → count.
fn duplicates(seen: &[Seen]) -> Vec<((String, String), usize)> {
    let mut n: HashMap<(String, String), usize> = HashMap::new();
    for s in seen.iter().filter(|s| !s.end) {
        *n.entry((s.job.clone(), s.at.clone())).or_default() += 1;
    }
    let mut d: Vec<_> = n.into_iter().filter(|(_, c)| *c > 1).collect();
    d.sort();
    d
}

fn wait_until(what: &str, logs: impl Fn() -> String, mut pred: impl FnMut() -> bool) {
    let deadline = Instant::now() + PATIENCE;
    while !pred() {
        assert!(
            Instant::now() < deadline,
            "timed out waiting for {what}; logs:\n{}",
            logs()
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

fn per_second_jobs(c: &Cluster, n: usize) -> String {
    (0..n)
        .map(|i| {
            format!(
                "[jobs.j{i:02}]\ncron = \"*/2 * * * * *\"\ncommand = '{}'\n",
                c.witness("true")
            )
        })
        .collect()
}

#[test]
fn three_hosts_run_every_fire_once_and_share_the_work() {
    let mut c = Cluster::new("");
    // Enough jobs that rendezvous hashing's share per host is near a third
    // (with 90, above a half is more than 3 standard deviations off).
    let jobs = per_second_jobs(&c, 90);
    c.write_config("jobs.toml", &jobs);
    // Once all three see each other, they share the jobs out.
    c.start_seeing_each_other(&["a", "b", "c"]);
    let from = chrono::Utc::now() + chrono::TimeDelta::seconds(2);
    // Claim attempts are counted once the hosts agree: while they join, two
    // of them may both lead a job for a moment, as long as a heartbeat.
    // Every attempted insert takes an id from the sequence, whether it
    // conflicts or not.
    let attempts = || -> (f64, f64) {
        let ids = c.sql("SELECT last_value FROM runs_id_seq").parse().unwrap();
        let rows = c.sql("SELECT count(*) FROM runs").parse().unwrap();
        (ids, rows)
    };
    std::thread::sleep(Duration::from_secs(2));
    let (ids_before, rows_before) = attempts();
    std::thread::sleep(Duration::from_secs(8));
    let (ids_after, rows_after) = attempts();
    let until = chrono::Utc::now() - chrono::TimeDelta::seconds(3);
    let seen = c.seen();
    assert_eq!(
        duplicates(&seen),
        vec![],
        "no fire runs twice; logs:\n{}",
        c.logs()
    );
    // Every second of every job in the window ran, somewhere.
    let in_window = |s: &&Seen| {
        let at: chrono::DateTime<chrono::Utc> = s.at.parse().unwrap();
        !s.end && at >= from && at < until
    };
    let mut per_job: BTreeMap<&str, HashSet<&str>> = BTreeMap::new();
    let mut per_host: HashMap<&str, usize> = HashMap::new();
    for s in seen.iter().filter(in_window) {
        per_job.entry(&s.job).or_default().insert(&s.at);
        *per_host.entry(&s.host).or_default() += 1;
    }
    let seconds = (until - from).num_seconds() as usize;
    assert_eq!(per_job.len(), 90, "every job ran; logs:\n{}", c.logs());
    for (job, ats) in &per_job {
        assert!(
            ats.len() >= seconds / 2 - 1,
            "{job} ran {} of the {seconds} seconds in the window",
            ats.len()
        );
    }
    let total: usize = per_host.values().sum();
    for (host, n) in &per_host {
        let share = *n as f64 / total as f64;
        assert!(
            share <= 0.5,
            "{host} ran {n} of {total} fires: {per_host:?}; logs:\n{}",
            c.logs()
        );
    }
    assert_eq!(per_host.len(), 3, "every host ran some: {per_host:?}");
    let (ids, rows) = (ids_after - ids_before, rows_after - rows_before);
    assert!(
        rows > 0.0 && ids / rows <= 1.1,
        "{ids} ids taken for {rows} rows: {:.2} claim attempts per fire",
        ids / rows
    );
    // The database agrees with the witness: one row per fire, each with
    // the host that ran it.
    let dup_rows = c.sql(
        "SELECT count(*) FROM (SELECT job, scheduled_for, slot, attempt FROM runs
         GROUP BY 1, 2, 3, 4 HAVING count(*) > 1) d",
    );
    assert_eq!(dup_rows, "0");
    let hosts = c.sql("SELECT string_agg(DISTINCT host, ',' ORDER BY host) FROM runs");
    assert_eq!(hosts, "a,b,c");
    // `status` lists the hosts with their heartbeats; `history` says which
    // host ran each run.
    let status = c.cmd(&["status"]);
    for name in ["a", "b", "c"] {
        assert!(
            status.contains(&format!("  {name} (pid ")),
            "status lists {name}:\n{status}"
        );
    }
    assert!(status.contains("cluster hosts:"), "{status}");
    // Enough rows to span several instants, each claimed by all three.
    let history = c.cmd(&["history", "--limit", "200"]);
    assert!(
        history.lines().next().unwrap_or("").contains("HOST"),
        "{history}"
    );
}

/// The host running a long job is killed: its run becomes `lost` within
/// the lease, the grace and a beat, and the job goes on elsewhere.
#[test]
fn a_killed_host_s_run_becomes_lost_and_its_job_moves() {
    let mut c = Cluster::new("");
    let jobs = format!(
        "[jobs.long]\ncron = \"* * * * * *\"\ncommand = '{}'\n",
        c.witness("sleep 60")
    );
    c.write_config("jobs.toml", &jobs);
    for name in ["a", "b", "c"] {
        c.start(name);
    }
    let mut runner = String::new();
    wait_until(
        "a run of `long`",
        || c.logs(),
        || {
            runner = c.sql("SELECT host FROM runs WHERE status = 'running' LIMIT 1");
            !runner.is_empty()
        },
    );
    // The job is exclusive across hosts: one run at a time, cluster-wide.
    std::thread::sleep(Duration::from_secs(3));
    assert_eq!(
        c.sql("SELECT count(*) FROM runs WHERE status = 'running'"),
        "1"
    );
    let skipped = c.sql("SELECT count(*) FROM runs WHERE status = 'skipped'");
    assert_ne!(skipped, "0", "later fires are skipped while it runs");
    let run_id = c.sql("SELECT id FROM runs WHERE status = 'running'");
    let i = c.hosts.iter().position(|h| h.name == runner).unwrap();
    kill(c.hosts[i].pid(), Signal::SIGKILL).unwrap();
    let killed = Instant::now();
    wait_until(
        "the run to be lost",
        || c.logs(),
        || c.sql(&format!("SELECT status FROM runs WHERE id = {run_id}")) == "lost",
    );
    let took = killed.elapsed();
    // lease 3s + grace 1s + a beat (0.5s), and the slack of a busy machine.
    assert!(took < Duration::from_secs(15), "lost after {took:?}");
    assert!(
        took > Duration::from_secs(3),
        "not before its lease expired: {took:?}"
    );
    let reason = c.sql(&format!("SELECT reason FROM runs WHERE id = {run_id}"));
    assert!(reason.contains(&format!("its host {runner}")), "{reason}");
    // Another host runs the job now.
    wait_until(
        "a new run on another host",
        || c.logs(),
        || {
            let h = c.sql("SELECT host FROM runs WHERE status = 'running' LIMIT 1");
            !h.is_empty() && h != runner
        },
    );
    assert_eq!(
        c.sql("SELECT count(*) FROM runs WHERE status = 'running'"),
        "1"
    );
}

/// A host stopped (SIGSTOP) past its lease comes back (SIGCONT): its run
/// was marked lost meanwhile, and nothing it writes afterwards changes that.
#[test]
fn a_host_stopped_past_its_lease_cannot_overwrite_its_lost_run() {
    let mut c = Cluster::new("");
    let jobs = format!(
        "[jobs.slow]\ncron = \"*/30 * * * * *\"\ncommand = '{}'\n",
        c.witness("sleep 8")
    );
    c.write_config("jobs.toml", &jobs);
    for name in ["a", "b"] {
        c.start(name);
    }
    let mut runner = String::new();
    wait_until(
        "a run of `slow`",
        || c.logs(),
        || {
            runner = c.sql("SELECT host FROM runs WHERE status = 'running' LIMIT 1");
            !runner.is_empty()
        },
    );
    let run_id = c.sql("SELECT id FROM runs WHERE status = 'running'");
    let i = c.hosts.iter().position(|h| h.name == runner).unwrap();
    kill(c.hosts[i].pid(), Signal::SIGSTOP).unwrap();
    wait_until(
        "the run to be lost",
        || c.logs(),
        || c.sql(&format!("SELECT status FROM runs WHERE id = {run_id}")) == "lost",
    );
    // The child was not stopped with its scheduler: it ends meanwhile.
    wait_until(
        "the job's end in the witness",
        || c.logs(),
        || {
            c.seen()
                .iter()
                .any(|s| s.end && s.run.to_string() == run_id)
        },
    );
    kill(c.hosts[i].pid(), Signal::SIGCONT).unwrap();
    c.wait_for_log(i, "the end of the run was not recorded");
    std::thread::sleep(Duration::from_secs(2));
    assert_eq!(
        c.sql(&format!("SELECT status FROM runs WHERE id = {run_id}")),
        "lost",
        "the stale host's write was fenced; logs:\n{}",
        c.logs()
    );
    assert_eq!(
        c.sql(&format!(
            "SELECT exit_code IS NULL FROM runs WHERE id = {run_id}"
        )),
        "t"
    );
}

/// One host has another definition of a job: it never runs it, and its
/// `/health` says so; the other two run it.
#[test]
fn a_host_with_a_different_definition_does_not_run_the_job() {
    let mut c = Cluster::new("");
    let job = |body: &str| {
        format!(
            "[jobs.report]\ncron = \"* * * * * *\"\ncommand = '{}'\n\
             [jobs.other]\ncron = \"* * * * * *\"\ncommand = '{}'\n",
            c.witness(body),
            c.witness("true")
        )
    };
    c.write_config("jobs.toml", &job("true"));
    c.write_config("odd.toml", &job("echo another"));
    c.start("a");
    c.start("b");
    let port = free_port();
    let odd = c.start_with(
        "odd",
        "odd.toml",
        &c.db.url.clone(),
        &[("SCHEDULE_HTTP", &format!("127.0.0.1:{port}"))],
    );
    c.wait_for_log(odd, "job not run on this host");
    let addr = format!("127.0.0.1:{port}");
    let body = common::wait_for_health(&addr, "degraded", |_, b| b["status"] == "degraded");
    assert!(
        body["reason"].as_str().unwrap_or("").contains("report"),
        "{body}"
    );
    let since = Instant::now();
    std::thread::sleep(Duration::from_secs(6));
    let seen = c.seen();
    assert!(since.elapsed() >= Duration::from_secs(6));
    assert!(
        !seen.iter().any(|s| s.job == "report" && s.host == "odd"),
        "odd never runs report; logs:\n{}",
        c.logs()
    );
    assert!(seen.iter().any(|s| s.job == "report"), "the others do");
    assert_eq!(duplicates(&seen), vec![]);
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Pause, resume and trigger from any machine reach every host; a trigger
/// runs once; a dead-man alert is raised once for the cluster; `/metrics`
/// counts each host's claims.
#[test]
fn controls_reach_every_host_and_alerts_are_raised_once() {
    let mut c = Cluster::new("");
    let jobs = format!(
        "[jobs.tick]\ncron = \"* * * * * *\"\ncommand = '{}'\n\
         [jobs.manual]\ncron = \"0 0 1 1 *\"\ncommand = '{}'\n\
         [jobs.broken]\ncron = \"* * * * * *\"\ncommand = 'exit 1'\nexpect_success_within = \"2s\"\n",
        c.witness("true"),
        c.witness("true")
    );
    c.write_config("jobs.toml", &jobs);
    let port = free_port();
    let addr = format!("127.0.0.1:{port}");
    c.start_with(
        "a",
        "jobs.toml",
        &c.db.url.clone(),
        &[("SCHEDULE_HTTP", &addr)],
    );
    c.start("b");
    c.wait_for_log(0, "cluster hosts: 2");
    c.wait_for_log(1, "cluster hosts: 2");
    // Paused from here, on neither host does `tick` run.
    let out = c.run(&["--config", "jobs.toml", "pause", "tick"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let paused_at = chrono::Utc::now() + chrono::TimeDelta::seconds(1);
    std::thread::sleep(Duration::from_secs(4));
    let ran_while_paused = c
        .seen()
        .iter()
        .filter(|s| {
            s.job == "tick" && s.at.parse::<chrono::DateTime<chrono::Utc>>().unwrap() > paused_at
        })
        .count();
    assert_eq!(ran_while_paused, 0, "logs:\n{}", c.logs());
    // One row per paused fire or fewer (a pause's fires share its row),
    // written by the lead alone: never two rows for one fire.
    let dup_rows = c.sql(
        "SELECT count(*) FROM (SELECT job, scheduled_for, slot, attempt FROM runs
         GROUP BY 1, 2, 3, 4 HAVING count(*) > 1) d",
    );
    assert_eq!(dup_rows, "0");
    let out = c.run(&["--config", "jobs.toml", "resume", "tick"]);
    assert!(out.status.success());
    // A trigger runs once, on one host.
    let out = c.run(&["--config", "jobs.toml", "trigger", "manual", "--wait"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    std::thread::sleep(Duration::from_secs(2));
    let manual: Vec<Seen> = c
        .seen()
        .into_iter()
        .filter(|s| s.job == "manual" && !s.end)
        .collect();
    assert_eq!(manual.len(), 1, "{manual:?}");
    wait_until(
        "tick to run again",
        || c.logs(),
        || {
            c.seen().iter().any(|s| {
                s.job == "tick"
                    && s.at.parse::<chrono::DateTime<chrono::Utc>>().unwrap() > paused_at
            })
        },
    );
    // A request taken by a host that died before its run started is
    // opened again, and a live host runs it.
    c.db.execute(
        "INSERT INTO requests (job, requested_at, stream, taken, taken_by)
         VALUES ('manual', now(), false, true, 999999)",
    );
    wait_until(
        "the orphaned request to run",
        || c.logs(),
        || {
            c.seen()
                .iter()
                .filter(|s| s.job == "manual" && !s.end)
                .count()
                == 2
        },
    );
    assert_eq!(
        c.sql("SELECT count(*) FROM requests WHERE taken_by = 999999 OR run_id IS NULL"),
        "0"
    );
    // `broken` never succeeds: overdue, said by one host only.
    wait_until(
        "the overdue alert",
        || c.logs(),
        || c.logs().contains("job overdue"),
    );
    std::thread::sleep(Duration::from_secs(2));
    let alerting: Vec<&str> = c
        .hosts
        .iter()
        .filter(|h| h.log().contains("job overdue"))
        .map(|h| h.name.as_str())
        .collect();
    assert_eq!(alerting.len(), 1, "one host raises the alert: {alerting:?}");
    // Per-host series on /metrics.
    let (code, metrics) = common::get(&addr, "/metrics");
    assert_eq!(code, 200);
    for series in [
        "schedule_cluster_claims_total{host=\"a\"}",
        "schedule_cluster_takeovers_total{host=\"a\"}",
        "schedule_cluster_lost_runs_total{host=\"a\"}",
        "schedule_cluster_clock_skew_seconds{host=\"a\"}",
        "schedule_cluster_hosts 2",
    ] {
        assert!(metrics.contains(series), "{series} in:\n{metrics}");
    }
}

/// Every host down, fires missed; two hosts start together, and the
/// catch-up (`catchup = "latest"`) runs once.
#[test]
fn catch_up_after_downtime_runs_once() {
    let mut c = Cluster::new("");
    let jobs = format!(
        "[jobs.nightly]\ncron = \"*/2 * * * * *\"\ncatchup = \"latest\"\ncommand = '{}'\n",
        c.witness("true")
    );
    c.write_config("jobs.toml", &jobs);
    c.start("a");
    wait_until("a first run", || c.logs(), || !c.seen().is_empty());
    for h in &mut c.hosts {
        h.stop();
    }
    c.hosts.clear();
    std::thread::sleep(Duration::from_secs(5));
    let before = c.seen().len();
    // Both at once: each computes the same catch-up, and the database
    // lets one claim it.
    let url = c.db.url.clone();
    c.spawn("a", "jobs.toml", &url, &[]);
    c.spawn("b", "jobs.toml", &url, &[]);
    wait_until(
        "the catch-up",
        || c.logs(),
        || c.sql("SELECT count(*) FROM runs WHERE trigger = 'catchup'") != "0",
    );
    std::thread::sleep(Duration::from_secs(3));
    assert_eq!(
        c.sql("SELECT count(*) FROM runs WHERE trigger = 'catchup'"),
        "1",
        "logs:\n{}",
        c.logs()
    );
    assert!(c.seen().len() > before);
    assert_eq!(duplicates(&c.seen()), vec![]);
}

/// A lone scheduler and a cluster never share a database, and a cluster
/// needs PostgreSQL.
#[test]
fn a_lone_scheduler_and_a_cluster_refuse_each_other() {
    let mut c = Cluster::new("[jobs.a]\nevery = \"1h\"\ncommand = \"true\"\n");
    std::fs::write(
        c.path("lone.toml"),
        "[jobs.a]\nevery = \"1h\"\ncommand = \"true\"\n",
    )
    .unwrap();
    c.start("a");
    let lone = c.run(&["--config", "lone.toml", "run"]);
    assert_eq!(lone.status.code(), Some(1));
    let err = String::from_utf8_lossy(&lone.stderr);
    assert!(
        err.contains("already using") && err.contains("on a)"),
        "{err}"
    );
    for h in &mut c.hosts {
        h.stop();
    }
    c.hosts.clear();
    // The other way round: a lone scheduler holds it, a cluster host is refused.
    let mut lone = Command::new(assert_cmd::cargo::cargo_bin("schedule"))
        .current_dir(c.dir.path())
        .env("SCHEDULE_DB", &c.db.url)
        .args(["--config", "lone.toml", "run", "--host", "solo"])
        .stderr(std::fs::File::create(c.path("lone.log")).unwrap())
        .spawn()
        .unwrap();
    wait_until(
        "the lone scheduler",
        || std::fs::read_to_string(c.path("lone.log")).unwrap_or_default(),
        || {
            std::fs::read_to_string(c.path("lone.log"))
                .unwrap_or_default()
                .contains("scheduler started")
        },
    );
    let host = c.run(&["--config", "jobs.toml", "run", "--host", "b"]);
    assert_eq!(host.status.code(), Some(1));
    let err = String::from_utf8_lossy(&host.stderr);
    assert!(
        err.contains("already using") && err.contains("solo"),
        "{err}"
    );
    let _ = kill(Pid::from_raw(lone.id() as i32), Signal::SIGTERM);
    let _ = lone.wait();
    // [cluster] on a SQLite file is a usage error, before anything is written.
    let out = Command::new(assert_cmd::cargo::cargo_bin("schedule"))
        .current_dir(c.dir.path())
        .env_remove("SCHEDULE_DB")
        .args(["--config", "jobs.toml", "--db", "here.db", "run"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("[cluster] needs a PostgreSQL database"),
        "{err}"
    );
    assert!(!c.path("here.db").exists());
}

/// A store of its own, linked as a cluster host that trusts its leases.
fn linked_store(url: &str, host_id: i64) -> schedule::store::postgres::PgStore {
    use schedule::store::Cluster as _;
    let mut store = schedule::store::postgres::PgStore::connect(url).unwrap();
    store.link(std::sync::Arc::new(schedule::store::ClusterLink {
        host_id,
        name: format!("h{host_id}"),
        lease: Duration::from_secs(30),
        tolerance: Duration::from_secs(1),
        held: std::sync::Mutex::new(HashMap::new()),
        trusted_until: std::sync::Mutex::new(Some(Instant::now() + Duration::from_secs(300))),
        skew_ms: std::sync::atomic::AtomicI64::new(0),
        max_skew_ms: 1000,
        runnable: std::sync::RwLock::new(None),
    }));
    store
}

fn new_run(job: &str, at: chrono::DateTime<chrono::Utc>, host: &str) -> schedule::domain::NewRun {
    schedule::domain::NewRun {
        job: job.to_string(),
        scheduled_for: at,
        slot: 0,
        nominal: None,
        attempt: 1,
        trigger: schedule::domain::Trigger::Schedule,
        started_at: chrono::Utc::now(),
        host: host.to_string(),
        pid: std::process::id(),
    }
}

/// 50 hosts' stores, each on its own connection, claim at once (released
/// together by a barrier): one fire of a job, then 50 fires of an
/// exclusive job. The database decides: one claim each.
#[test]
fn fifty_claimers_racing_on_one_fire_claim_it_once() {
    use schedule::domain::ClaimOutcome;
    use schedule::store::Cluster as _;
    const N: usize = 50;
    let db = TestDb::new();
    let url = db.url.clone();
    // Connecting migrates the schema: once, before the race.
    drop(schedule::store::postgres::PgStore::connect(&url).unwrap());
    let stores: Vec<_> = (0..N).map(|i| linked_store(&url, i as i64 + 1)).collect();
    // Whole seconds in the past: due by the database's clock.
    let at = |s: i64| {
        let now = chrono::Utc::now().timestamp() - 10;
        chrono::DateTime::from_timestamp(now - s, 0).unwrap()
    };
    let same = at(0);
    let barrier = std::sync::Arc::new(std::sync::Barrier::new(N));
    let threads: Vec<_> = stores
        .into_iter()
        .enumerate()
        .map(|(i, mut store)| {
            let barrier = barrier.clone();
            let shared = new_run("shared", same, &format!("h{}", i + 1));
            // A fire of its own, for the exclusive job.
            let own = new_run("solo", at(i as i64 + 1), &format!("h{}", i + 1));
            std::thread::spawn(move || {
                barrier.wait();
                let a = store.claim_fires(&[shared], &[false]).unwrap();
                barrier.wait();
                let b = store.claim_fires(&[own], &[true]).unwrap();
                (a.into_iter().next().unwrap(), b.into_iter().next().unwrap())
            })
        })
        .collect();
    let outcomes: Vec<(ClaimOutcome, ClaimOutcome)> =
        threads.into_iter().map(|t| t.join().unwrap()).collect();
    let claimed = |o: &ClaimOutcome| matches!(o, ClaimOutcome::Claimed { .. });
    let shared_claimed = outcomes.iter().filter(|(a, _)| claimed(a)).count();
    let shared_taken = outcomes
        .iter()
        .filter(|(a, _)| matches!(a, ClaimOutcome::Taken))
        .count();
    assert_eq!(
        (shared_claimed, shared_taken),
        (1, N - 1),
        "{:?}",
        outcomes.iter().map(|o| &o.0).collect::<Vec<_>>()
    );
    assert_eq!(
        db.query_one("SELECT count(*) FROM runs WHERE job = 'shared'")
            .unwrap(),
        "1"
    );
    let solo_claimed = outcomes.iter().filter(|(_, b)| claimed(b)).count();
    let solo_busy = outcomes
        .iter()
        .filter(|(_, b)| matches!(b, ClaimOutcome::Busy { .. }))
        .count();
    assert_eq!(
        (solo_claimed, solo_busy),
        (1, N - 1),
        "{:?}",
        outcomes.iter().map(|o| &o.1).collect::<Vec<_>>()
    );
    assert_eq!(
        db.query_one("SELECT count(*) FROM runs WHERE job = 'solo'")
            .unwrap(),
        "1"
    );
    assert_eq!(
        db.query_one("SELECT count(*) FROM runs WHERE job = 'solo' AND status = 'running'")
            .unwrap(),
        "1"
    );
}

fn every_second_jobs(c: &Cluster, n: usize) -> String {
    (0..n)
        .map(|i| {
            format!(
                "[jobs.s{i:02}]\ncron = \"* * * * * *\"\ncommand = '{}'\n",
                c.witness("true")
            )
        })
        .collect()
}

/// Every (job, second) in `[from, until)` of the `jobs` without a row in
/// `runs`: neither its own row nor inside a `missed` row's span.
fn fires_without_rows(
    c: &Cluster,
    jobs: &[String],
    from: chrono::DateTime<chrono::Utc>,
    until: chrono::DateTime<chrono::Utc>,
) -> Vec<(String, i64)> {
    let spans = c.sql(
        "SELECT string_agg(job || ' ' || extract(epoch FROM scheduled_for)::bigint || ' ' ||
                extract(epoch FROM coalesce(last_scheduled_for, scheduled_for))::bigint, ',')
         FROM runs",
    );
    let mut have: HashMap<&str, Vec<(i64, i64)>> = HashMap::new();
    for s in spans.split(',').filter(|s| !s.is_empty()) {
        let w: Vec<&str> = s.split(' ').collect();
        have.entry(w[0])
            .or_default()
            .push((w[1].parse().unwrap(), w[2].parse().unwrap()));
    }
    let mut holes = Vec::new();
    for job in jobs {
        for t in from.timestamp()..until.timestamp() {
            let covered = have
                .get(job.as_str())
                .is_some_and(|v| v.iter().any(|(a, b)| *a <= t && t <= *b));
            if !covered {
                holes.push((job.clone(), t));
            }
        }
    }
    holes
}

fn duplicate_rows(c: &Cluster) -> String {
    c.sql(
        "SELECT count(*) FROM (SELECT job, scheduled_for, slot, attempt FROM runs
         GROUP BY 1, 2, 3, 4 HAVING count(*) > 1) d",
    )
}

/// Every connection of every host is cut, a few times, a second apart:
/// the hosts reconnect, no fire runs twice and every fire has its row.
#[test]
fn killing_every_connection_loses_no_fire_and_runs_none_twice() {
    let mut c = Cluster::new("");
    let jobs = every_second_jobs(&c, 20);
    c.write_config("jobs.toml", &jobs);
    c.start_seeing_each_other(&["a", "b", "c"]);
    let from = chrono::Utc::now() + chrono::TimeDelta::seconds(2);
    std::thread::sleep(Duration::from_secs(3));
    let mut killed = 0;
    for _ in 0..4 {
        let n: i64 = c
            .sql(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity
                 WHERE datname = current_database() AND pid <> pg_backend_pid()",
            )
            .parse()
            .unwrap();
        killed += n;
        std::thread::sleep(Duration::from_secs(1));
    }
    assert!(killed >= 3, "only {killed} connections were terminated");
    std::thread::sleep(Duration::from_secs(8));
    let until = chrono::Utc::now() - chrono::TimeDelta::seconds(3);
    let seen = c.seen();
    assert_eq!(
        duplicates(&seen),
        vec![],
        "no fire runs twice; logs:\n{}",
        c.logs()
    );
    assert_eq!(duplicate_rows(&c), "0");
    let names: Vec<String> = (0..20).map(|i| format!("s{i:02}")).collect();
    let holes = fires_without_rows(&c, &names, from, until);
    assert_eq!(
        holes,
        vec![],
        "every fire from {from} to {until} has a row; logs:\n{}",
        c.logs()
    );
    // The hosts went on running jobs after the cuts.
    assert!(
        seen.iter()
            .any(|s| !s.end && s.at.parse::<chrono::DateTime<chrono::Utc>>().unwrap() >= until),
        "runs after the cuts"
    );
    println!("{killed} connections terminated, {} starts", seen.len() / 2);
}

/// A TCP proxy to `upstream`; while `cut` is set it copies nothing either
/// way but keeps every socket open, like a black-holed network.
fn proxy(upstream: String, cut: std::sync::Arc<std::sync::atomic::AtomicBool>) -> u16 {
    use std::io::{Read, Write};
    use std::sync::atomic::Ordering;
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for client in listener.incoming() {
            let Ok(client) = client else { continue };
            let Ok(server) = std::net::TcpStream::connect(&upstream) else {
                continue;
            };
            for (mut from, mut to) in [
                (client.try_clone().unwrap(), server.try_clone().unwrap()),
                (server, client),
            ] {
                let cut = cut.clone();
                std::thread::spawn(move || {
                    from.set_read_timeout(Some(Duration::from_millis(50)))
                        .unwrap();
                    let mut buf = [0u8; 16384];
                    loop {
                        if cut.load(Ordering::SeqCst) {
                            std::thread::sleep(Duration::from_millis(20));
                            continue;
                        }
                        match from.read(&mut buf) {
                            Ok(0) => break,
                            Ok(n) => {
                                if to.write_all(&buf[..n]).is_err() {
                                    break;
                                }
                            }
                            Err(e)
                                if matches!(
                                    e.kind(),
                                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                                ) => {}
                            Err(_) => break,
                        }
                    }
                    let _ = to.shutdown(std::net::Shutdown::Both);
                });
            }
        }
    });
    port
}

/// `url` with its port replaced.
fn with_port(url: &str, port: u16) -> String {
    let scheme_end = url.find("://").unwrap() + 3;
    let rest = &url[scheme_end..];
    let auth_end = rest.find(['/', '?']).unwrap_or(rest.len());
    let auth = &rest[..auth_end];
    let colon = auth.rfind(':').expect("a port in the test database's URL");
    format!(
        "{}{}:{port}{}",
        &url[..scheme_end],
        &auth[..colon],
        &rest[auth_end..]
    )
}

/// Host `a` reaches the database through a proxy that is then cut: `a`
/// stops its runs, its long run becomes `lost`, another host takes the
/// job on, and the per-second jobs lose nothing beyond the takeover.
#[test]
fn a_host_cut_off_by_a_partition_stops_its_runs_and_the_others_take_over() {
    use std::sync::atomic::Ordering;
    let mut c = Cluster::new("");
    let jobs = format!(
        "[jobs.long]\ncron = \"* * * * * *\"\noverlap = \"skip\"\ncommand = '{}'\n{}",
        c.witness("sleep 40"),
        every_second_jobs(&c, 10)
    );
    c.write_config("jobs.toml", &jobs);
    let cut = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let url = c.db.url.clone();
    let auth = &url[url.find("://").unwrap() + 3..];
    let auth = &auth[..auth.find(['/', '?']).unwrap_or(auth.len())];
    let upstream = auth.rsplit('@').next().unwrap().to_string();
    let port = proxy(upstream, cut.clone());
    let proxied = with_port(&url, port);
    // `a` alone first, so that it is the one running `long`.
    let a = c.start_with("a", "jobs.toml", &proxied, &[]);
    let mut run_id = String::new();
    wait_until(
        "a's run of `long`",
        || c.logs(),
        || {
            run_id = c.sql(
                "SELECT id FROM runs WHERE job = 'long' AND status = 'running' AND host = 'a'",
            );
            !run_id.is_empty()
        },
    );
    c.start("b");
    c.start("c");
    for i in 0..3 {
        c.wait_for_log(i, "cluster hosts: 3");
    }
    let from = chrono::Utc::now() + chrono::TimeDelta::seconds(2);
    std::thread::sleep(Duration::from_secs(4));
    cut.store(true, Ordering::SeqCst);
    let cut_at = chrono::Utc::now();
    c.wait_for_log(a, "stopping every run");
    wait_until(
        "a's run to be lost",
        || c.logs(),
        || c.sql(&format!("SELECT status FROM runs WHERE id = {run_id}")) == "lost",
    );
    wait_until(
        "a run of `long` on another host",
        || c.logs(),
        || {
            let h =
                c.sql("SELECT host FROM runs WHERE job = 'long' AND status = 'running' LIMIT 1");
            !h.is_empty() && h != "a"
        },
    );
    std::thread::sleep(Duration::from_secs(4));
    let until = chrono::Utc::now() - chrono::TimeDelta::seconds(3);
    let seen = c.seen();
    assert_eq!(duplicates(&seen), vec![], "logs:\n{}", c.logs());
    assert_eq!(duplicate_rows(&c), "0");
    // lease 3s + 2s after the cut: a declared outage for a's own jobs.
    let outage = cut_at + chrono::TimeDelta::seconds(5);
    let names: Vec<String> = (0..10).map(|i| format!("s{i:02}")).collect();
    let mut holes = fires_without_rows(&c, &names, from, cut_at);
    holes.extend(fires_without_rows(&c, &names, outage, until));
    assert_eq!(
        holes,
        vec![],
        "every fire from {from} to {until}, but for {cut_at} to {outage}, has a row; logs:\n{}",
        c.logs()
    );
    assert!(
        !seen.iter().any(|s| !s.end
            && s.host == "a"
            && s.at.parse::<chrono::DateTime<chrono::Utc>>().unwrap()
                > cut_at + chrono::TimeDelta::seconds(1)),
        "a starts nothing while cut off; logs:\n{}",
        c.logs()
    );
    // The network heals: still one start per fire.
    cut.store(false, Ordering::SeqCst);
    std::thread::sleep(Duration::from_secs(8));
    let seen = c.seen();
    assert_eq!(
        duplicates(&seen),
        vec![],
        "after healing; logs:\n{}",
        c.logs()
    );
    assert_eq!(duplicate_rows(&c), "0");
    assert_eq!(
        c.sql("SELECT count(*) FROM runs WHERE job = 'long' AND status = 'running'"),
        "1"
    );
}

/// The database server restarts (a fast shutdown: every session cut)
/// under two hosts: no fire runs twice, and every fire but those of the
/// restart's few seconds has a row.
#[test]
fn restarting_the_database_loses_no_fire_and_runs_none_twice() {
    let server = RestartableServer::new("restart");
    let mut c = Cluster::on(TestDb::on(&server.url), "");
    let jobs = every_second_jobs(&c, 10);
    c.write_config("jobs.toml", &jobs);
    for name in ["a", "b"] {
        c.start(name);
    }
    for i in 0..2 {
        c.wait_for_log(i, "cluster hosts: 2");
    }
    let from = chrono::Utc::now() + chrono::TimeDelta::seconds(2);
    std::thread::sleep(Duration::from_secs(4));
    let down = chrono::Utc::now();
    server.restart();
    let up = chrono::Utc::now();
    let started: chrono::DateTime<chrono::Utc> = c
        .sql("SELECT to_char(pg_postmaster_start_time() AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.USZ')")
        .parse()
        .unwrap();
    assert!(started > down, "the server restarted: started {started}");
    std::thread::sleep(Duration::from_secs(12));
    let until = chrono::Utc::now() - chrono::TimeDelta::seconds(3);
    let seen = c.seen();
    assert_eq!(duplicates(&seen), vec![], "logs:\n{}", c.logs());
    assert_eq!(duplicate_rows(&c), "0");
    // The declared outage: the restart, and a few seconds either side.
    let (out_from, out_until) = (
        down - chrono::TimeDelta::seconds(2),
        up + chrono::TimeDelta::seconds(5),
    );
    assert!(
        out_until < until,
        "the window after the restart is not empty"
    );
    let names: Vec<String> = (0..10).map(|i| format!("s{i:02}")).collect();
    let mut holes = fires_without_rows(&c, &names, from, out_from);
    holes.extend(fires_without_rows(&c, &names, out_until, until));
    assert_eq!(
        holes,
        vec![],
        "every fire from {from} to {until}, but for {out_from} to {out_until}, has a row; logs:\n{}",
        c.logs()
    );
    println!(
        "down for {}ms, {} starts",
        (up - down).num_milliseconds(),
        seen.iter().filter(|s| !s.end).count()
    );
    drop(c);
}

const LIBFAKETIME: &str = "/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1";

/// A host whose clock runs 10s ahead (libfaketime) claims nothing: the
/// witness and the database never show it, and its `/health` says why.
#[test]
fn a_host_whose_clock_is_off_claims_nothing() {
    assert!(
        std::path::Path::new(LIBFAKETIME).exists(),
        "this test needs libfaketime: apt-get install faketime"
    );
    let mut c = Cluster::new("");
    let jobs = every_second_jobs(&c, 10);
    c.write_config("jobs.toml", &jobs);
    c.start("a");
    c.start("b");
    let port = free_port();
    let addr = format!("127.0.0.1:{port}");
    let skewed = c.start_with(
        "skewed",
        "jobs.toml",
        &c.db.url.clone(),
        &[
            ("SCHEDULE_HTTP", &addr),
            ("LD_PRELOAD", LIBFAKETIME),
            ("FAKETIME", "+10s"),
            ("FAKETIME_DONT_RESET", "1"),
        ],
    );
    let body = common::wait_for_health(&addr, "degraded", |_, b| b["status"] == "degraded");
    assert!(
        body["reason"].as_str().unwrap_or("").contains("clock"),
        "{body}; logs:\n{}",
        c.logs()
    );
    let since = Instant::now();
    std::thread::sleep(Duration::from_secs(8));
    assert!(since.elapsed() >= Duration::from_secs(8));
    let seen = c.seen();
    assert!(
        !seen.iter().any(|s| s.host == "skewed"),
        "skewed never runs anything; logs:\n{}",
        c.logs()
    );
    assert_eq!(
        c.sql("SELECT count(*) FROM runs WHERE host = 'skewed'"),
        "0"
    );
    assert!(
        seen.iter().filter(|s| !s.end).count() >= 40,
        "the others run the jobs; logs:\n{}",
        c.logs()
    );
    assert_eq!(duplicates(&seen), vec![]);
    assert!(
        c.hosts[skewed].child.try_wait().unwrap().is_none(),
        "skewed still runs"
    );
}
