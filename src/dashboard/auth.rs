//! The token that turns the dashboard's actions on: a bearer header for
//! scripts, or a session cookie from the login page for people.
//!
//! A session is a random id in an `HttpOnly; SameSite=Strict` cookie; the
//! server keeps, for each, a random CSRF token that every action form
//! carries and every action checks. Any POST whose `Origin` (or, without
//! one, `Referer`) names another host is refused. Tokens are compared in
//! constant time.

use hyper::HeaderMap;
use hyper::StatusCode;
use std::sync::Mutex;

use super::pages::AuthView;

const COOKIE: &str = "schedule_session";
/// Sessions kept at most; the oldest go first.
const MAX_SESSIONS: usize = 1000;

pub struct Auth {
    token: Option<String>,
    read: bool,
    /// Session id → its CSRF token, in the order they were made.
    sessions: Mutex<Vec<(String, String)>>,
}

/// Who a request comes from.
pub enum Who {
    Nobody,
    /// A correct `Authorization: Bearer` header: no ambient credential, so
    /// no CSRF token is needed.
    Bearer,
    Session {
        csrf: String,
    },
}

impl Who {
    pub fn known(&self) -> bool {
        !matches!(self, Who::Nobody)
    }
}

impl Auth {
    pub fn new(token: Option<String>, read: bool) -> Auth {
        Auth {
            token,
            read,
            sessions: Mutex::new(Vec::new()),
        }
    }

    pub fn enabled(&self) -> bool {
        self.token.is_some()
    }

    pub fn read_needs_token(&self) -> bool {
        self.read && self.token.is_some()
    }

    pub fn who(&self, headers: &HeaderMap) -> Who {
        let Some(token) = &self.token else {
            return Who::Nobody;
        };
        if let Some(given) = headers
            .get(hyper::header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
        {
            if constant_time_eq(given.trim().as_bytes(), token.as_bytes()) {
                return Who::Bearer;
            }
            return Who::Nobody;
        }
        let Some(id) = cookie(headers, COOKIE) else {
            return Who::Nobody;
        };
        let sessions = self.sessions.lock().unwrap_or_else(|p| p.into_inner());
        sessions
            .iter()
            .find(|(sid, _)| constant_time_eq(sid.as_bytes(), id.as_bytes()))
            .map_or(Who::Nobody, |(_, csrf)| Who::Session { csrf: csrf.clone() })
    }

    /// What the pages need to know to show (or not) the action buttons.
    pub fn view(&self, who: &Who) -> AuthView {
        AuthView {
            enabled: self.token.is_some(),
            csrf: match who {
                Who::Session { csrf } => Some(csrf.clone()),
                _ => None,
            },
        }
    }

    /// A session for the right token: the `Set-Cookie` value.
    pub fn login(&self, given: Option<&str>) -> Option<String> {
        let token = self.token.as_ref()?;
        if !constant_time_eq(given?.trim().as_bytes(), token.as_bytes()) {
            return None;
        }
        let id = random_hex()?;
        let csrf = random_hex()?;
        let mut sessions = self.sessions.lock().unwrap_or_else(|p| p.into_inner());
        if sessions.len() >= MAX_SESSIONS {
            sessions.remove(0);
        }
        sessions.push((id.clone(), csrf));
        Some(format!("{COOKIE}={id}; Path=/; HttpOnly; SameSite=Strict"))
    }

    /// Whether `who` may act: 403 when actions are off or the CSRF token is
    /// wrong, 401 without credentials.
    pub fn allow_action(
        &self,
        who: &Who,
        csrf: Option<&String>,
    ) -> Result<(), (StatusCode, &'static str)> {
        if self.token.is_none() {
            return Err((
                StatusCode::FORBIDDEN,
                "actions are off: set [scheduler] http_token or SCHEDULE_HTTP_TOKEN",
            ));
        }
        match who {
            Who::Nobody => Err((
                StatusCode::UNAUTHORIZED,
                "this action needs the token: log in at /login or send Authorization: Bearer TOKEN",
            )),
            Who::Bearer => Ok(()),
            Who::Session { csrf: expected } => match csrf {
                Some(given) if constant_time_eq(given.as_bytes(), expected.as_bytes()) => Ok(()),
                _ => Err((
                    StatusCode::FORBIDDEN,
                    "the form is stale or forged (CSRF token missing or wrong): reload the page",
                )),
            },
        }
    }
}

/// A POST from a page of this server: its `Origin` (or `Referer`) names
/// the `Host` it was sent to. Requests with neither (curl, scripts) pass:
/// they carry no cookie a browser added behind their back, or they use the
/// bearer header.
pub fn same_origin(headers: &HeaderMap) -> bool {
    let host = headers
        .get(hyper::header::HOST)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let from = headers
        .get(hyper::header::ORIGIN)
        .or_else(|| headers.get(hyper::header::REFERER))
        .and_then(|v| v.to_str().ok());
    match from {
        None => true,
        Some(url) => {
            let rest = url
                .strip_prefix("http://")
                .or_else(|| url.strip_prefix("https://"))
                .unwrap_or("");
            let authority = rest.split('/').next().unwrap_or("");
            !host.is_empty() && authority.eq_ignore_ascii_case(host)
        }
    }
}

fn cookie<'h>(headers: &'h HeaderMap, name: &str) -> Option<&'h str> {
    headers
        .get_all(hyper::header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
}

/// Compares without stopping at the first difference, so the time taken
/// does not tell how much of a guess was right.
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    let mut diff = (a.len() ^ b.len()) as u8 | ((a.len() ^ b.len()) >> 8) as u8;
    for i in 0..a.len().max(b.len()) {
        let x = a.get(i).copied().unwrap_or(0);
        let y = b.get(i).copied().unwrap_or(0);
        diff |= x ^ y;
    }
    std::hint::black_box(diff) == 0 && a.len() == b.len()
}

/// 128 random bits from the kernel, as hex.
fn random_hex() -> Option<String> {
    let mut buf = [0u8; 16];
    use std::io::Read;
    std::fs::File::open("/dev/urandom")
        .and_then(|mut f| f.read_exact(&mut buf))
        .ok()?;
    Some(buf.iter().map(|b| format!("{b:02x}")).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_compare_by_content_and_length() {
        assert!(constant_time_eq(b"abcdef", b"abcdef"));
        assert!(!constant_time_eq(b"abcdef", b"abcdeg"));
        assert!(!constant_time_eq(b"abcdef", b"abcde"));
        assert!(!constant_time_eq(b"", b"a"));
        let mut long = vec![b'a'; 257];
        let mut short = vec![b'a'; 1];
        assert!(!constant_time_eq(&long, &short));
        long.truncate(1);
        short[0] = b'a';
        assert!(constant_time_eq(&long, &short));
    }

    #[test]
    fn cross_origin_posts_are_refused() {
        let mut h = HeaderMap::new();
        h.insert(hyper::header::HOST, "127.0.0.1:8080".parse().unwrap());
        assert!(same_origin(&h));
        h.insert(
            hyper::header::ORIGIN,
            "http://127.0.0.1:8080".parse().unwrap(),
        );
        assert!(same_origin(&h));
        h.insert(
            hyper::header::ORIGIN,
            "http://evil.example".parse().unwrap(),
        );
        assert!(!same_origin(&h));
        h.insert(hyper::header::ORIGIN, "null".parse().unwrap());
        assert!(!same_origin(&h));
    }
}
