//! The loop's alarm clock: a timerfd on the wall clock, armed for the exact
//! instant of the next fire.
//!
//! Fires are instants on the wall clock, so the loop waits on that clock.
//! tokio's timers follow the monotonic clock in whole milliseconds, rounded
//! up, and a long sleep is cascaded through its timer wheel: a minute's sleep
//! woke the process three times and ended up to a millisecond late. A
//! `CLOCK_REALTIME` timerfd with an absolute expiry wakes once, at the
//! nanosecond asked for; it still expires on time after a suspend (the wall
//! clock moved on), and `TFD_TIMER_CANCEL_ON_SET` wakes the loop when the
//! clock is set (a step by NTP or by hand), so that no periodic look at the
//! clock is needed.

use chrono::{DateTime, Utc};
use nix::errno::Errno;
use nix::sys::time::TimeSpec;
use nix::sys::timerfd::{ClockId, Expiration, TimerFd, TimerFlags, TimerSetTimeFlags};
use std::os::fd::{AsFd, AsRawFd, RawFd};
use tokio::io::unix::AsyncFd;

struct Fd(TimerFd);

impl AsRawFd for Fd {
    fn as_raw_fd(&self) -> RawFd {
        self.0.as_fd().as_raw_fd()
    }
}

pub struct WallTimer {
    fd: AsyncFd<Fd>,
    /// The instant the timer is armed for: the loop asks for the same one
    /// on every turn, and a system call per turn is not free.
    armed: std::cell::Cell<Option<DateTime<Utc>>>,
    /// How many times it was armed (for its test).
    arms: std::cell::Cell<u64>,
}

impl WallTimer {
    /// `None` where timerfd is missing (the loop then sleeps on tokio's
    /// timers).
    pub fn new() -> Option<WallTimer> {
        let flags = TimerFlags::TFD_NONBLOCK | TimerFlags::TFD_CLOEXEC;
        let timer = TimerFd::new(ClockId::CLOCK_REALTIME, flags).ok()?;
        // SAFETY: `Fd` owns the timer's descriptor, which stays open until
        // the `AsyncFd` drops it, and always returns that same descriptor.
        let fd = unsafe {
            AsyncFd::register_with_interest(Fd(timer), tokio::io::Interest::READABLE).ok()?
        };
        Some(WallTimer {
            fd,
            armed: std::cell::Cell::new(None),
            arms: std::cell::Cell::new(0),
        })
    }

    /// Rings at `at` (at once when it is past).
    pub fn set(&self, at: DateTime<Utc>) {
        if self.armed.get() == Some(at) {
            return;
        }
        self.armed.set(Some(at));
        self.arms.set(self.arms.get() + 1);
        // A zero expiry would disarm the timer; the epoch is long past anyway.
        let ns = at.timestamp_subsec_nanos().max(1);
        let when = TimeSpec::new(at.timestamp().max(0), i64::from(ns));
        let flags =
            TimerSetTimeFlags::TFD_TIMER_ABSTIME | TimerSetTimeFlags::TFD_TIMER_CANCEL_ON_SET;
        if let Err(e) = self.fd.get_ref().0.set(Expiration::OneShot(when), flags) {
            tracing::warn!(error = %e, "cannot set the wall-clock timer");
        }
    }

    /// Blocks this thread until `at`, until the wall clock is set, or for
    /// `bound` at most: the loop's last stretch before a held run's
    /// instant, a fraction of a millisecond, waited for on the timer itself
    /// (exact, as the ring) and not through the loop's turn.
    pub fn block_until(&self, at: DateTime<Utc>, bound: std::time::Duration) {
        use nix::poll::{PollFd, PollFlags, PollTimeout, poll};
        self.set(at);
        let timer = &self.fd.get_ref().0;
        let ms = u16::try_from(bound.as_millis().max(1)).unwrap_or(u16::MAX);
        let mut fds = [PollFd::new(timer.as_fd(), PollFlags::POLLIN)];
        // An interruption (a signal) or the bound ends it early: the run
        // stays held, and the timer, still armed, rings through the loop.
        if let Ok(1..) = poll(&mut fds, PollTimeout::from(ms)) {
            let mut buf = [0u8; 8];
            if let Ok(_) | Err(Errno::ECANCELED) = nix::unistd::read(timer, &mut buf) {
                self.armed.set(None);
            }
        }
    }

    /// Waits until the timer rings or the wall clock is set.
    pub async fn ring(&self) {
        loop {
            let Ok(mut ready) = self.fd.readable().await else {
                return std::future::pending().await;
            };
            let read = ready.try_io(|fd| {
                let mut buf = [0u8; 8];
                match nix::unistd::read(&fd.get_ref().0, &mut buf) {
                    // ECANCELED: the clock was set; look at it again.
                    Ok(_) | Err(Errno::ECANCELED) => Ok(()),
                    Err(Errno::EAGAIN) => Err(std::io::ErrorKind::WouldBlock.into()),
                    Err(e) => Err(std::io::Error::from(e)),
                }
            });
            match read {
                // It rang (or the clock was set): whatever comes next is
                // armed anew, the same instant included. Not on a would-block:
                // tokio's readiness outlives the read that emptied the timer,
                // so the turn after a ring reads once in vain, and the timer
                // is still armed for the next instant.
                Ok(Ok(())) => {
                    self.armed.set(None);
                    return;
                }
                Ok(Err(e)) => {
                    self.armed.set(None);
                    tracing::warn!(error = %e, "the wall-clock timer failed");
                    return;
                }
                Err(_would_block) => continue,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(flavor = "current_thread")]
    async fn rings_at_the_instant_set_and_at_once_for_a_past_one() {
        let timer = WallTimer::new().unwrap();
        let at = Utc::now() + chrono::TimeDelta::milliseconds(50);
        timer.set(at);
        timer.ring().await;
        assert!(Utc::now() >= at);
        // Asked again for the instant it is armed for, it is not re-armed,
        // also after the loop's next turn waited on it (and read in vain).
        let later = Utc::now() + chrono::TimeDelta::hours(1);
        timer.set(later);
        let waited = tokio::time::timeout(std::time::Duration::from_millis(20), timer.ring());
        assert!(waited.await.is_err(), "rang an hour early");
        timer.set(later);
        assert_eq!(timer.arms.get(), 2);
        timer.set(Utc::now() - chrono::TimeDelta::seconds(5));
        tokio::time::timeout(std::time::Duration::from_secs(30), timer.ring())
            .await
            .expect("a past instant rings at once");
    }
}
