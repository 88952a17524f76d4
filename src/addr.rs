//! The address `--http` and `[scheduler] http` listen on. A utility of its
//! own, so that the config and the command line can read one without
//! depending on the HTTP server.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};

/// Reads `--http` and `[scheduler] http`: `HOST:PORT` with an IP address
/// or `localhost`, or a bare port (or `:PORT`) on loopback.
pub fn parse_addr(text: &str) -> Result<SocketAddr, String> {
    let text = text.trim();
    let invalid = || {
        format!(
            "`{text}` is not an address to listen on; use a port (`9090`, on loopback), \
             `127.0.0.1:9090`, `[::1]:9090`, or `0.0.0.0:9090` for every interface"
        )
    };
    let port = |p: &str| p.parse::<u16>().map_err(|_| invalid());
    if let Some(p) = text.strip_prefix(':') {
        return Ok(SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), port(p)?));
    }
    if !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit()) {
        return Ok(SocketAddr::new(
            IpAddr::V4(Ipv4Addr::LOCALHOST),
            port(text)?,
        ));
    }
    if let Some(p) = text.strip_prefix("localhost:") {
        return Ok(SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), port(p)?));
    }
    text.parse().map_err(|_| invalid())
}

#[cfg(test)]
mod tests {
    use super::parse_addr;

    #[test]
    fn a_bare_port_listens_on_loopback_and_other_forms_are_taken_as_given() {
        assert_eq!(parse_addr("9090").unwrap().to_string(), "127.0.0.1:9090");
        assert_eq!(parse_addr(":9090").unwrap().to_string(), "127.0.0.1:9090");
        assert_eq!(
            parse_addr("localhost:0").unwrap().to_string(),
            "127.0.0.1:0"
        );
        assert_eq!(
            parse_addr("0.0.0.0:9090").unwrap().to_string(),
            "0.0.0.0:9090"
        );
        assert_eq!(parse_addr("[::1]:9090").unwrap().to_string(), "[::1]:9090");
    }

    #[test]
    fn a_bad_address_says_what_would_do() {
        for bad in ["", "99999", "example.com:80", "127.0.0.1", "1.2.3.4:x"] {
            let err = parse_addr(bad).unwrap_err();
            assert!(err.contains("127.0.0.1:9090"), "{bad}: {err}");
        }
    }
}
