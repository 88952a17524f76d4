//! systemd's notify protocol: `READY=1` once the loop runs, `WATCHDOG=1`
//! from the loop itself (so a stuck loop gets restarted), `STOPPING=1` at
//! shutdown. Without `NOTIFY_SOCKET`, nothing is sent and nothing costs.

use std::os::unix::net::UnixDatagram;
use std::time::Duration;

pub struct Notifier {
    socket: UnixDatagram,
    addr: std::os::unix::net::SocketAddr,
    /// Half of `WATCHDOG_USEC`: how often the loop must say it is alive.
    pub watchdog: Option<Duration>,
}

impl Notifier {
    /// From the environment systemd sets; `None` when not under systemd.
    pub fn from_env() -> Option<Notifier> {
        let path = std::env::var_os("NOTIFY_SOCKET")?;
        let addr = match path.as_encoded_bytes().strip_prefix(b"@") {
            Some(name) => {
                use std::os::linux::net::SocketAddrExt;
                std::os::unix::net::SocketAddr::from_abstract_name(name).ok()?
            }
            None => std::os::unix::net::SocketAddr::from_pathname(&path).ok()?,
        };
        let socket = UnixDatagram::unbound().ok()?;
        // WATCHDOG_PID, when set, names the process that must send.
        let ours = std::env::var("WATCHDOG_PID")
            .ok()
            .and_then(|p| p.parse::<u32>().ok())
            .is_none_or(|pid| pid == std::process::id());
        let watchdog = std::env::var("WATCHDOG_USEC")
            .ok()
            .and_then(|u| u.parse::<u64>().ok())
            .filter(|&u| ours && u > 0)
            .map(|u| Duration::from_micros(u / 2));
        Some(Notifier {
            socket,
            addr,
            watchdog,
        })
    }

    pub fn send(&self, message: &str) {
        if let Err(e) = self.socket.send_to_addr(message.as_bytes(), &self.addr) {
            tracing::warn!(error = %e, message, "cannot notify systemd");
        }
    }
}
