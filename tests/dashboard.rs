//! The dashboard on `--http`: its JSON API over plain HTTP, and its pages in
//! a real headless Chromium driven through WebDriver (`chromedriver`, from
//! Debian's `chromium-driver`; `.ci/run` installs it). The history is real:
//! each job is run once with `schedule trigger` before the scheduler starts,
//! and the jobs fire once a year, so nothing changes under the test.

mod common;

use common::{Env, PATIENCE, address, get};
use serde_json::Value;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const TOKEN: &str = "a-test-token-0123456789";

const JOBS: &str = r#"
[jobs.nightly]
cron = "0 3 1 1 *"
command = "echo all good"

[jobs.broken]
cron = "0 4 1 1 *"
command = "echo 'disk is full' >&2; exit 4"

[jobs.shouty]
cron = "0 5 1 1 *"
command = "echo '<script>window.xss = 1</script><b>bold</b>'"

[jobs.pausable]
cron = "0 6 1 1 *"
command = "true"
"#;

fn with_token(read: bool) -> String {
    format!("[scheduler]\nhttp_token = \"{TOKEN}\"\nhttp_token_read = {read}\n{JOBS}")
}

/// An env whose jobs each ran once (`broken` twice).
fn env_with_history(config: &str) -> Env {
    let env = Env::new(config);
    for job in ["nightly", "broken", "shouty", "pausable", "broken"] {
        let _ = env.cmd(&["trigger", job]).output().unwrap();
    }
    assert_eq!(env.history(&[]).len(), 5);
    env
}

/// `METHOD path` with extra header lines and a body: status, headers, body.
fn request(
    addr: &str,
    method: &str,
    path: &str,
    headers: &str,
    body: &str,
) -> (u16, String, String) {
    let mut stream = TcpStream::connect(addr).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(30)))
        .unwrap();
    write!(
        stream,
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n{headers}\
         Content-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).unwrap();
    let (head, body) = response.split_once("\r\n\r\n").unwrap();
    let code = head.split_whitespace().nth(1).unwrap().parse().unwrap();
    (code, head.to_string(), body.to_string())
}

fn json(addr: &str, path: &str) -> (u16, Value) {
    let (code, body) = get(addr, path);
    (code, serde_json::from_str(&body).unwrap_or(Value::Null))
}

fn list(env: &Env) -> Vec<Value> {
    let out = env.cmd(&["list", "--json"]).output().unwrap();
    assert!(out.status.success());
    serde_json::from_slice::<Value>(&out.stdout)
        .unwrap()
        .as_array()
        .unwrap()
        .clone()
}

fn by_job<'a>(rows: &'a [Value], job: &str) -> &'a Value {
    rows.iter().find(|r| r["job"] == job).unwrap()
}

#[test]
fn the_api_speaks_the_json_vocabulary_and_refuses_what_it_should() {
    let env = env_with_history(JOBS);
    let scheduler = env.start(&["--http", "127.0.0.1:0"]);
    let addr = address(&scheduler);

    // The jobs page says each schedule in words beside it as written.
    let (code, page) = get(&addr, "/");
    assert_eq!(code, 200);
    assert!(
        page.contains("at 03:00 on 1 Jan") && page.contains("0 3 1 1 *"),
        "{page}"
    );

    // /api/jobs: the fields of `list --json`, the same values.
    let (code, jobs) = json(&addr, "/api/jobs");
    assert_eq!(code, 200);
    let listed = list(&env);
    let jobs = jobs.as_array().unwrap();
    assert_eq!(jobs.len(), 4);
    for row in &listed {
        let api = by_job(jobs, row["job"].as_str().unwrap());
        for (key, value) in row.as_object().unwrap() {
            assert_eq!(&api[key], value, "{key} of {}", row["job"]);
        }
    }

    // /api/runs with filters, and /api/runs/ID as `show --json` has it.
    let (code, runs) = json(&addr, "/api/runs?job=broken&status=failed&limit=1");
    assert_eq!(code, 200);
    let runs = runs.as_array().unwrap();
    assert_eq!(runs.len(), 1);
    assert_eq!(runs[0]["status"], "failed");
    let id = runs[0]["id"].as_i64().unwrap();
    let (_, all_broken) = json(&addr, "/api/runs?job=broken");
    assert_eq!(all_broken.as_array().unwrap().len(), 2);
    let (_, failures) = json(&addr, "/api/runs?status=failures");
    assert_eq!(failures.as_array().unwrap().len(), 2);
    let (code, one) = json(&addr, &format!("/api/runs/{id}"));
    assert_eq!(code, 200);
    assert_eq!(one, env.run(&Value::from(id)));

    // Bad input is a 4xx, never a crash.
    for path in [
        "/api/runs?limit=abc",
        "/api/runs?limit=0",
        "/api/runs?status=bogus",
    ] {
        let (code, body) = json(&addr, path);
        assert_eq!(code, 400, "{path}: {body}");
        assert!(body["error"].is_string());
    }
    for path in ["/api/runs/999999", "/api/runs/abc", "/api/runs/-1%00"] {
        assert_eq!(json(&addr, path).0, 404, "{path}");
    }
    for path in [
        "/runs/999999",
        "/runs/x",
        "/jobs/nope",
        "/nothing",
        "/jobs/%ff%",
    ] {
        let (code, body) = get(&addr, path);
        assert_eq!(code, 404, "{path}");
        assert!(body.contains("Not found"), "{body}");
    }
    assert_eq!(get(&addr, "/timeline?window=forever").0, 200);
    assert_eq!(get(&addr, "/health").0, 200);

    // No token configured: actions are off, whoever asks.
    let (code, _, body) = request(&addr, "POST", "/jobs/pausable/pause", "", "");
    assert_eq!(code, 403, "{body}");
    let bearer = format!("Authorization: Bearer {TOKEN}\r\n");
    assert_eq!(
        request(&addr, "POST", "/jobs/pausable/pause", &bearer, "").0,
        403
    );
    assert_eq!(by_job(&list(&env), "pausable")["paused"], false);

    // Page weight: the jobs page and its assets.
    let (_, page) = get(&addr, "/");
    let (_, head, css) = request(&addr, "GET", "/assets/style.css", "", "");
    assert!(head.contains("max-age=31536000"), "{head}");
    let (_, _, js) = request(&addr, "GET", "/assets/app.js", "", "");
    let weight = page.len() + css.len() + js.len();
    assert!(weight < 100_000, "first load is {weight} bytes");
    assert!(
        !page.contains("http://") && !page.contains("https://"),
        "external URL in {page}"
    );
}

#[test]
fn with_a_token_actions_need_it_and_read_pages_can_too() {
    let env = env_with_history(&with_token(true));
    let scheduler = env.start(&["--http", "127.0.0.1:0"]);
    let addr = address(&scheduler);
    let bearer = format!("Authorization: Bearer {TOKEN}\r\n");

    // http_token_read: the pages send you to log in, the API says 401.
    assert_eq!(get(&addr, "/api/jobs").0, 401);
    let (code, head, _) = request(&addr, "GET", "/", "", "");
    assert_eq!(code, 303);
    assert!(head.to_lowercase().contains("location: /login"), "{head}");
    assert_eq!(get(&addr, "/login").0, 200);
    let (code, _, _) = request(&addr, "GET", "/api/jobs", &bearer, "");
    assert_eq!(code, 200);

    // Actions: refused without the token, or with a wrong one, or from
    // another origin; done with it.
    assert_eq!(
        request(&addr, "POST", "/jobs/pausable/pause", "", "").0,
        401
    );
    let wrong = "Authorization: Bearer a-test-token-0123456780\r\n";
    assert_eq!(
        request(&addr, "POST", "/jobs/pausable/pause", wrong, "").0,
        401
    );
    let foreign = format!("{bearer}Origin: http://evil.example\r\n");
    assert_eq!(
        request(&addr, "POST", "/jobs/pausable/pause", &foreign, "").0,
        403
    );
    assert_eq!(by_job(&list(&env), "pausable")["paused"], false);
    let (code, _, body) = request(&addr, "POST", "/jobs/pausable/pause", &bearer, "");
    assert_eq!(code, 200, "{body}");
    assert_eq!(by_job(&list(&env), "pausable")["paused"], true);
    assert_eq!(
        request(&addr, "POST", "/jobs/pausable/resume", &bearer, "").0,
        200
    );
    assert_eq!(by_job(&list(&env), "pausable")["paused"], false);
    assert_eq!(
        request(&addr, "POST", "/jobs/nope/pause", &bearer, "").0,
        404
    );

    // A session cookie without the form's CSRF token is refused.
    let (code, head, _) = request(&addr, "POST", "/login", "", &format!("token={TOKEN}"));
    assert_eq!(code, 303);
    let cookie = head
        .lines()
        .find_map(|l| l.strip_prefix("set-cookie: "))
        .expect("a session cookie");
    assert!(
        cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict"),
        "{cookie}"
    );
    let session = format!("Cookie: {}\r\n", cookie.split(';').next().unwrap());
    let (code, _, _) = request(
        &addr,
        "POST",
        "/jobs/pausable/pause",
        &session,
        "csrf=guess",
    );
    assert_eq!(code, 403);
    assert_eq!(by_job(&list(&env), "pausable")["paused"], false);
    assert_eq!(request(&addr, "POST", "/login", "", "token=wrong").0, 401);

    // The trigger action reaches the running scheduler through the database.
    let (code, _, body) = request(&addr, "POST", "/jobs/nightly/trigger", &bearer, "");
    assert_eq!(code, 200, "{body}");
    env.wait_for_history("the triggered run", |rows| {
        rows.iter()
            .filter(|r| r["job"] == "nightly" && r["status"] == "succeeded")
            .count()
            == 2
    });
}

// --- the browser ---

struct Driver {
    child: Child,
    port: u16,
    _profile: tempfile::TempDir,
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn chromedriver() -> Driver {
    let port = free_port();
    let child = Command::new("chromedriver")
        .arg(format!("--port={port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("chromedriver (Debian: apt-get install chromium chromium-driver)");
    let deadline = Instant::now() + PATIENCE;
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(Instant::now() < deadline, "chromedriver did not listen");
        std::thread::sleep(Duration::from_millis(100));
    }
    Driver {
        child,
        port,
        _profile: tempfile::tempdir().unwrap(),
    }
}

fn screenshots() -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/dashboard-screenshots");
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[test]
fn a_browser_sees_jobs_runs_failures_and_the_timeline_and_pauses_a_job() {
    let env = env_with_history(&with_token(false));
    let scheduler = env.start(&["--http", "127.0.0.1:0"]);
    let addr = address(&scheduler);
    let base = format!("http://{addr}");
    let driver = chromedriver();
    let profile = driver._profile.path().display().to_string();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        use fantoccini::{ClientBuilder, Locator};
        let mut caps = serde_json::Map::new();
        caps.insert(
            "goog:chromeOptions".into(),
            serde_json::json!({ "args": [
                "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                "--no-first-run", "--disable-background-networking",
                "--disable-component-update", "--disable-sync",
                "--window-size=1280,900",
                format!("--user-data-dir={profile}"),
            ]}),
        );
        let connector = hyper_util::client::legacy::connect::HttpConnector::new();
        let c = ClientBuilder::new(connector)
            .capabilities(caps)
            .connect(&format!("http://127.0.0.1:{}", driver.port))
            .await
            .expect("a WebDriver session");
        let shots = screenshots();
        let shot = |name: &'static str| {
            let c = c.clone();
            let path = shots.join(name);
            async move {
                let png = c.screenshot().await.unwrap();
                std::fs::write(path, png).unwrap();
            }
        };

        // The jobs page: every job, with its next run as `list` has it.
        c.goto(&format!("{base}/")).await.unwrap();
        let listed = list(&env);
        for row in &listed {
            let job = row["job"].as_str().unwrap();
            let cell = c
                .find(Locator::Css(&format!("tr[data-job='{job}'] td.next time")))
                .await
                .unwrap_or_else(|e| panic!("no next run for {job}: {e}"));
            let at = cell.attr("datetime").await.unwrap();
            assert_eq!(at.as_deref(), row["next_run"].as_str(), "{job}");
            assert!(!cell.text().await.unwrap().is_empty());
        }
        let tiles = c
            .find_all(Locator::Css("tr[data-job='broken'] .tile"))
            .await
            .unwrap();
        assert_eq!(tiles.len(), 2);
        let tip = tiles[0].attr("aria-label").await.unwrap().unwrap();
        assert!(tip.contains("failed") && tip.contains("exit 4"), "{tip}");
        shot("jobs.png").await;

        // A failed run, from its row: its stderr.
        c.find(Locator::Css("tr[data-job='broken'] td.last a"))
            .await
            .unwrap()
            .click()
            .await
            .unwrap();
        let stderr = c
            .find(Locator::Id("stderr"))
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(stderr.contains("disk is full"), "{stderr}");
        shot("run-failed.png").await;

        // Output with markup in it is text.
        let shouty = env.history(&["shouty"]);
        c.goto(&format!("{base}/runs/{}", shouty[0]["id"]))
            .await
            .unwrap();
        let stdout = c.find(Locator::Id("stdout")).await.unwrap();
        let text = stdout.text().await.unwrap();
        assert!(
            text.contains("<script>window.xss = 1</script><b>bold</b>"),
            "{text}"
        );
        assert!(
            stdout.find(Locator::Css("b")).await.is_err(),
            "markup was rendered"
        );
        let ran = c
            .execute("return window.xss === undefined;", vec![])
            .await
            .unwrap();
        assert_eq!(ran, Value::Bool(true), "the job's script ran");
        shot("run-markup.png").await;

        // Failures: newest first, each linking to its run.
        c.goto(&format!("{base}/failures")).await.unwrap();
        let rows = c
            .find_all(Locator::Css("table.runs tbody tr"))
            .await
            .unwrap();
        assert_eq!(rows.len(), 2);
        let why = c
            .find(Locator::Css("td.why"))
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert_eq!(why, "disk is full");
        shot("failures.png").await;

        // A job's page.
        c.goto(&format!("{base}/jobs/broken")).await.unwrap();
        let body = c
            .find(Locator::Css("main"))
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(body.contains("0% of the last 2 runs"), "{body}");
        shot("job.png").await;

        // The timeline: one bar per run of the window.
        c.goto(&format!("{base}/timeline?window=24h"))
            .await
            .unwrap();
        let bars = c
            .find_all(Locator::Css("svg.timeline rect.bar"))
            .await
            .unwrap();
        let ran = env
            .history(&[])
            .iter()
            .filter(|r| !r["started_at"].is_null())
            .count();
        assert_eq!(bars.len(), ran);
        shot("timeline.png").await;

        // No buttons until logged in; then pause from the page.
        c.goto(&format!("{base}/")).await.unwrap();
        assert!(
            c.find(Locator::Css("button[data-action='pause']"))
                .await
                .is_err()
        );
        c.goto(&format!("{base}/login")).await.unwrap();
        c.find(Locator::Id("token"))
            .await
            .unwrap()
            .send_keys(TOKEN)
            .await
            .unwrap();
        shot("login.png").await;
        c.find(Locator::Css("form button"))
            .await
            .unwrap()
            .click()
            .await
            .unwrap();
        c.find(Locator::Css(
            "tr[data-job='pausable'] button[data-action='pause']",
        ))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
        let deadline = Instant::now() + PATIENCE;
        while by_job(&list(&env), "pausable")["paused"] != true {
            assert!(
                Instant::now() < deadline,
                "the pause never reached the database"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        c.find(Locator::Css(".b-paused"))
            .await
            .expect("a paused badge");
        c.goto(&format!("{base}/")).await.unwrap();
        shot("jobs-paused.png").await;

        // Live: resumed from outside, the open page drops the badge by
        // itself (its script polls /api/jobs), without a reload.
        let bearer = format!("Authorization: Bearer {TOKEN}\r\n");
        assert_eq!(
            request(&addr, "POST", "/jobs/pausable/resume", &bearer, "").0,
            200
        );
        let deadline = Instant::now() + PATIENCE;
        while !c
            .find_all(Locator::Css(".b-paused"))
            .await
            .unwrap()
            .is_empty()
        {
            assert!(Instant::now() < deadline, "the jobs page never updated");
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        c.close().await.unwrap();
    });
}

#[test]
fn the_dashboard_reads_and_pauses_on_postgresql_too() {
    // The PostgreSQL store drives a tokio runtime of its own; here it runs
    // on the HTTP runtime's blocking pool.
    let env = Env::on_postgres(&with_token(false), None);
    for job in ["nightly", "broken"] {
        let _ = env.cmd(&["trigger", job]).output().unwrap();
    }
    let scheduler = env.start(&["--http", "127.0.0.1:0"]);
    let addr = address(&scheduler);
    let (code, jobs) = json(&addr, "/api/jobs");
    assert_eq!(code, 200, "{jobs}");
    assert_eq!(
        by_job(jobs.as_array().unwrap(), "broken")["last_run"]["status"],
        "failed"
    );
    let (code, page) = get(&addr, "/failures");
    assert_eq!(code, 200);
    assert!(page.contains("disk is full"), "{page}");
    let bearer = format!("Authorization: Bearer {TOKEN}\r\n");
    assert_eq!(
        request(&addr, "POST", "/jobs/pausable/pause", &bearer, "").0,
        200
    );
    assert_eq!(by_job(&list(&env), "pausable")["paused"], true);
}
