//! A private, throwaway PostgreSQL server for the tests: `initdb` and
//! `postgres` from `PATH` or `/usr/lib/postgresql/*/bin`, in a temp dir, on
//! a free loopback port, as `nobody` when the tests run as root. One server
//! per test process, started on first use and stopped when the process
//! exits (the server gets SIGQUIT when its parent thread dies); each test
//! gets a database of its own. `SCHEDULE_TEST_DATABASE_URL` points the
//! tests at an existing server instead (its user must be allowed to create
//! databases).
//!
//! Without either, the tests that need PostgreSQL fail and say how to get
//! it: they never pass without having run.
#![allow(dead_code)]

use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

/// The server's admin URL (without a database name), or why there is none.
fn server() -> &'static str {
    static SERVER: OnceLock<Result<String, String>> = OnceLock::new();
    match SERVER.get_or_init(|| match std::env::var("SCHEDULE_TEST_DATABASE_URL") {
        Ok(url) if !url.is_empty() => Ok(url),
        _ => start(),
    }) {
        Ok(url) => url,
        Err(why) => panic!(
            "these tests need PostgreSQL and none could be started: {why}\n\
             hint: install the server (apt-get install postgresql), or point \
             SCHEDULE_TEST_DATABASE_URL at one (postgres://user@host/db)"
        ),
    }
}

/// A database of its own for one test, dropped at the end.
pub struct TestDb {
    pub url: String,
    admin: String,
    name: String,
}

impl TestDb {
    pub fn new() -> TestDb {
        TestDb::on(server())
    }

    /// A database of its own on the server at `admin`.
    pub fn on(admin: &str) -> TestDb {
        static N: AtomicUsize = AtomicUsize::new(0);
        let admin = admin.to_string();
        let name = format!(
            "schedule_test_{}_{}",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        );
        sql(&admin, &format!("CREATE DATABASE {name}"));
        let url = with_database(&admin, &name);
        TestDb { url, admin, name }
    }

    /// Runs SQL on this test's database.
    pub fn execute(&self, statements: &str) {
        sql(&self.url, statements);
    }

    /// The first column of the first row of `query`, as text.
    pub fn query_one(&self, query: &str) -> Option<String> {
        block_on(async {
            let (client, conn) = tokio_postgres::connect(&self.url, tokio_postgres::NoTls)
                .await
                .expect("connect to the test database");
            tokio::spawn(conn);
            let rows = client.simple_query(query).await.expect(query);
            rows.into_iter().find_map(|m| match m {
                tokio_postgres::SimpleQueryMessage::Row(r) => r.get(0).map(str::to_string),
                _ => None,
            })
        })
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        let _ = try_sql(
            &self.admin,
            &format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.name),
        );
    }
}

/// `url` with its database name replaced by `name`.
fn with_database(url: &str, name: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((b, q)) => (b, Some(q)),
        None => (url, None),
    };
    let scheme_end = base.find("://").map_or(0, |i| i + 3);
    let host_part = match base[scheme_end..].find('/') {
        Some(i) => &base[..scheme_end + i],
        None => base,
    };
    match query {
        Some(q) => format!("{host_part}/{name}?{q}"),
        None => format!("{host_part}/{name}"),
    }
}

fn block_on<T>(f: impl Future<Output = T>) -> T {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(f)
}

fn try_sql(url: &str, statements: &str) -> Result<(), String> {
    block_on(async {
        let (client, conn) = tokio_postgres::connect(url, tokio_postgres::NoTls)
            .await
            .map_err(|e| e.to_string())?;
        tokio::spawn(conn);
        client
            .batch_execute(statements)
            .await
            .map_err(|e| format!("{statements}: {e}"))
    })
}

fn sql(url: &str, statements: &str) {
    try_sql(url, statements).unwrap();
}

/// Where `initdb` and `postgres` are.
fn bin_dir() -> Option<PathBuf> {
    if let Ok(path) = std::env::var("PATH") {
        for dir in std::env::split_paths(&path) {
            if dir.join("initdb").is_file() && dir.join("postgres").is_file() {
                return Some(dir);
            }
        }
    }
    let mut found: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .ok()?
        .filter_map(|e| e.ok())
        .map(|e| e.path().join("bin"))
        .filter(|d| d.join("initdb").is_file())
        .collect();
    found.sort_by_key(|d| {
        d.parent()
            .and_then(|v| v.file_name())
            .and_then(|v| v.to_str())
            .and_then(|v| v.parse::<u32>().ok())
            .unwrap_or(0)
    });
    found.pop()
}

/// The user the server runs as: ourselves, or `nobody` when we are root
/// (PostgreSQL refuses to run as root).
fn server_user() -> Option<(u32, u32)> {
    if !nix::unistd::geteuid().is_root() {
        return None;
    }
    let nobody = nix::unistd::User::from_name("nobody").ok().flatten()?;
    Some((nobody.uid.as_raw(), nobody.gid.as_raw()))
}

fn as_server_user(cmd: &mut Command, user: Option<(u32, u32)>) -> &mut Command {
    if let Some((uid, gid)) = user {
        cmd.uid(uid).gid(gid);
    }
    cmd
}

fn start() -> Result<String, String> {
    start_in(&format!("schedule-pg-{}", std::process::id()), false).map(|s| s.url)
}

/// A private server of its own that also speaks TLS, with a self-signed
/// certificate for `localhost` and 127.0.0.1 (made with `openssl`), for the
/// tests of `sslmode`. Always private: an existing server's TLS set-up is
/// not known.
pub struct TlsServer {
    /// Its admin URL, `sslmode` not set.
    pub url: String,
    /// The server's certificate, to trust with `sslrootcert`.
    pub cert: PathBuf,
    root: PathBuf,
    port: u16,
}

pub fn tls_server() -> TlsServer {
    static SERVER: OnceLock<Result<TlsServer, String>> = OnceLock::new();
    let server =
        SERVER.get_or_init(|| start_in(&format!("schedule-pg-{}-tls", std::process::id()), true));
    match server {
        Ok(s) => TlsServer {
            url: s.url.clone(),
            cert: s.cert.clone(),
            root: s.root.clone(),
            port: s.port,
        },
        Err(why) => panic!(
            "the TLS tests need a private PostgreSQL and none could be started: {why}\n\
             hint: install the server (apt-get install postgresql) and openssl"
        ),
    }
}

fn start_in(name: &str, tls: bool) -> Result<TlsServer, String> {
    let bin = bin_dir().ok_or("no initdb and postgres on PATH or in /usr/lib/postgresql/*/bin")?;
    let user = server_user();
    let root = std::env::temp_dir().join(name);
    remove_stale_servers();
    let _ = std::fs::remove_dir_all(&root);
    std::fs::create_dir_all(&root).map_err(|e| format!("{}: {e}", root.display()))?;
    if let Some((uid, gid)) = user {
        std::os::unix::fs::chown(&root, Some(uid), Some(gid)).map_err(|e| e.to_string())?;
    }
    let data = root.join("data");
    let out = as_server_user(&mut Command::new(bin.join("initdb")), user)
        .args(["-D"])
        .arg(&data)
        .args([
            "-U",
            "postgres",
            "--auth=trust",
            "--no-sync",
            "-E",
            "UTF8",
            "--no-instructions",
        ])
        .env("LC_ALL", "C")
        .output()
        .map_err(|e| format!("cannot run initdb: {e}"))?;
    if !out.status.success() {
        return Err(format!(
            "initdb failed: {}",
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    // A test CA and a server certificate it signed, for localhost and
    // 127.0.0.1: what `verify-full` checks.
    let cert = data.join("ca.crt");
    if tls {
        std::fs::write(
            data.join("server.ext"),
            "subjectAltName=DNS:localhost,IP:127.0.0.1\nbasicConstraints=CA:FALSE\n",
        )
        .map_err(|e| e.to_string())?;
        let steps: [&[&str]; 3] = [
            &[
                "req",
                "-x509",
                "-newkey",
                "rsa:2048",
                "-nodes",
                "-days",
                "2",
                "-subj",
                "/CN=schedule test CA",
                "-keyout",
                "ca.key",
                "-out",
                "ca.crt",
            ],
            &[
                "req",
                "-newkey",
                "rsa:2048",
                "-nodes",
                "-subj",
                "/CN=localhost",
                "-keyout",
                "server.key",
                "-out",
                "server.csr",
            ],
            &[
                "x509",
                "-req",
                "-in",
                "server.csr",
                "-CA",
                "ca.crt",
                "-CAkey",
                "ca.key",
                "-CAcreateserial",
                "-days",
                "2",
                "-extfile",
                "server.ext",
                "-out",
                "server.crt",
            ],
        ];
        for args in steps {
            let out = as_server_user(&mut Command::new("openssl"), user)
                .args(args)
                .current_dir(&data)
                .output()
                .map_err(|e| format!("cannot run openssl: {e}"))?;
            if !out.status.success() {
                return Err(format!(
                    "openssl failed: {}",
                    String::from_utf8_lossy(&out.stderr)
                ));
            }
        }
        let conf = data.join("postgresql.conf");
        let mut text = std::fs::read_to_string(&conf).map_err(|e| e.to_string())?;
        text.push_str("\nssl = on\nssl_cert_file = 'server.crt'\nssl_key_file = 'server.key'\n");
        std::fs::write(&conf, text).map_err(|e| e.to_string())?;
        // Over TCP, TLS or nothing: a plain connection is refused, so a
        // connection that works was encrypted. The socket stays plain.
        let hba = data.join("pg_hba.conf");
        let text = std::fs::read_to_string(&hba).map_err(|e| e.to_string())?;
        let text: String = text
            .lines()
            .map(|l| match l.strip_prefix("host ") {
                Some(rest) => format!("hostssl {rest}\n"),
                None => format!("{l}\n"),
            })
            .collect();
        std::fs::write(&hba, text).map_err(|e| e.to_string())?;
    }
    for _ in 0..5 {
        let port = free_port();
        let admin = format!("postgres://postgres@127.0.0.1:{port}/postgres");
        let url = if tls {
            admin.clone()
        } else {
            format!("{admin}?sslmode=disable")
        };
        spawn_server(&bin, &data, &root, port, user)?;
        let deadline = Instant::now() + Duration::from_secs(60);
        let socket = format!(
            "host={} port={port} user=postgres dbname=postgres",
            root.display()
        );
        while Instant::now() < deadline {
            if try_sql(&socket, "SELECT 1").is_ok() {
                return Ok(TlsServer {
                    url,
                    cert: cert.clone(),
                    root,
                    port,
                });
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }
    Err(format!(
        "the server did not start; its log: {}",
        std::fs::read_to_string(root.join("log")).unwrap_or_default()
    ))
}

/// Starts `postgres` from a thread that lives as long as the process, so
/// that the server's parent-death signal fires only when the process ends.
fn spawn_server(
    bin: &Path,
    data: &Path,
    root: &Path,
    port: u16,
    user: Option<(u32, u32)>,
) -> Result<(), String> {
    let (tx, rx) = std::sync::mpsc::channel();
    let (bin, data, root) = (bin.to_path_buf(), data.to_path_buf(), root.to_path_buf());
    std::thread::spawn(move || {
        let log = std::fs::File::create(root.join("log"));
        let mut cmd = Command::new(bin.join("postgres"));
        as_server_user(&mut cmd, user)
            .arg("-D")
            .arg(&data)
            .args(["-p", &port.to_string(), "-k"])
            .arg(&root)
            .args([
                "-c",
                "listen_addresses=127.0.0.1",
                "-c",
                "fsync=off",
                "-c",
                "synchronous_commit=off",
                "-c",
                "full_page_writes=off",
                "-c",
                "max_connections=300",
            ])
            .stdin(Stdio::null())
            .stdout(Stdio::null());
        if let Ok(log) = log {
            cmd.stderr(log);
        }
        // SAFETY: prctl is async-signal-safe; it only sets this process's
        // parent-death signal (after the uid change, which would clear it).
        unsafe {
            cmd.pre_exec(|| {
                libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGQUIT);
                Ok(())
            });
        }
        match cmd.spawn() {
            Ok(child) => {
                let _ = tx.send(Ok(()));
                let _child = child;
                loop {
                    std::thread::park();
                }
            }
            Err(e) => {
                let _ = tx.send(Err(format!("cannot start postgres: {e}")));
            }
        }
    });
    rx.recv().map_err(|e| e.to_string())?
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .unwrap_or(54329)
}

/// Data dirs of test processes that are gone.
fn remove_stale_servers() {
    let Ok(entries) = std::fs::read_dir(std::env::temp_dir()) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name();
        let Some(pid) = name
            .to_str()
            .and_then(|n| n.strip_prefix("schedule-pg-"))
            .and_then(|p| p.split('-').next().and_then(|p| p.parse::<i32>().ok()))
        else {
            continue;
        };
        let alive = nix::sys::signal::kill(nix::unistd::Pid::from_raw(pid), None).is_ok();
        if !alive {
            let _ = std::fs::remove_dir_all(entry.path());
        }
    }
}

/// A private server of its own that a test may restart, on the same port
/// and data directory.
pub struct RestartableServer {
    /// Its admin URL.
    pub url: String,
    root: PathBuf,
    port: u16,
}

impl RestartableServer {
    pub fn new(name: &str) -> RestartableServer {
        match start_in(&format!("schedule-pg-{}-{name}", std::process::id()), false) {
            Ok(s) => RestartableServer {
                url: s.url,
                root: s.root,
                port: s.port,
            },
            Err(why) => panic!("a restartable PostgreSQL could not be started: {why}"),
        }
    }

    /// Stops the server (SIGINT: a fast shutdown, every session cut), waits
    /// for it to exit and starts it again.
    pub fn restart(&self) {
        let data = self.root.join("data");
        let pidfile = data.join("postmaster.pid");
        let text = std::fs::read_to_string(&pidfile).expect("postmaster.pid");
        let pid: i32 = text.lines().next().unwrap().trim().parse().unwrap();
        nix::sys::signal::kill(
            nix::unistd::Pid::from_raw(pid),
            nix::sys::signal::Signal::SIGINT,
        )
        .unwrap();
        // Its parent never reaps it: gone once it removed its pid file.
        let deadline = Instant::now() + Duration::from_secs(60);
        while pidfile.exists() {
            assert!(Instant::now() < deadline, "the server did not stop");
            std::thread::sleep(Duration::from_millis(50));
        }
        let bin = bin_dir().unwrap();
        spawn_server(&bin, &data, &self.root, self.port, server_user()).unwrap();
        let socket = format!(
            "host={} port={} user=postgres dbname=postgres",
            self.root.display(),
            self.port
        );
        let deadline = Instant::now() + Duration::from_secs(60);
        while try_sql(&socket, "SELECT 1").is_err() {
            assert!(Instant::now() < deadline, "the server did not start again");
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

impl Drop for RestartableServer {
    fn drop(&mut self) {
        let pidfile = self.root.join("data").join("postmaster.pid");
        if let Some(pid) = std::fs::read_to_string(pidfile)
            .ok()
            .and_then(|t| t.lines().next().and_then(|l| l.trim().parse::<i32>().ok()))
        {
            let _ = nix::sys::signal::kill(
                nix::unistd::Pid::from_raw(pid),
                nix::sys::signal::Signal::SIGQUIT,
            );
        }
    }
}
