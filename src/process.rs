//! Process groups as the kernel sees them: who in a job's group is still
//! alive, and clean-up after a scheduler that died without stopping its runs.
//!
//! Zombies do not count as alive: a grandchild orphaned by the shell is
//! reparented to init, and an init that is slow to reap (or none at all, as
//! in many containers) would otherwise keep a group "alive" for ever.

use nix::sys::signal::{Signal, kill, killpg};
use nix::unistd::Pid;

/// Whether any process of the group is alive. The cheap `killpg(0)` answers
/// most calls; only a group that still has members is looked at in /proc.
pub fn group_alive(pgid: Pid) -> bool {
    if killpg(pgid, None).is_err() {
        return false;
    }
    if cfg!(target_os = "linux") && std::path::Path::new("/proc/self/stat").exists() {
        !live_members(pgid).is_empty()
    } else {
        true
    }
}

/// The live (not zombie) processes whose process group is `pgid`.
pub fn live_members(pgid: Pid) -> Vec<Pid> {
    let Ok(procs) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    procs
        .flatten()
        .filter_map(|entry| entry.file_name().to_str()?.parse::<i32>().ok())
        .filter(|&pid| {
            let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
                return false;
            };
            // "pid (comm) state ppid pgrp ...": comm may hold anything, so
            // read from its closing parenthesis.
            let mut fields = stat
                .rsplit_once(')')
                .map_or("", |(_, rest)| rest)
                .split_whitespace();
            let state = fields.next().unwrap_or("Z");
            let pgrp = fields.nth(1).and_then(|p| p.parse::<i32>().ok());
            pgrp == Some(pgid.as_raw()) && state != "Z" && state != "X"
        })
        .map(Pid::from_raw)
        .collect()
}

/// Kills what is left of run `run_id`, whose child led group `pgid`, after
/// its scheduler died. Only processes that carry the run's
/// `SCHEDULE_RUN_ID` in their environment are touched, so a group id reused
/// by an unrelated program (after a reboot, say) is left alone. Returns how
/// many were killed.
pub fn kill_leftovers(pgid: Pid, run_id: i64) -> usize {
    let marker = format!("SCHEDULE_RUN_ID={run_id}");
    live_members(pgid)
        .into_iter()
        .filter(|pid| {
            std::fs::read(format!("/proc/{pid}/environ"))
                .is_ok_and(|env| env.split(|&b| b == 0).any(|var| var == marker.as_bytes()))
        })
        .filter(|&pid| kill(pid, Signal::SIGKILL).is_ok())
        .count()
}

/// The children this process spawned itself (runs and hooks), which tokio
/// waits for; [`reap_orphans`] leaves them alone.
static OWN_CHILDREN: std::sync::Mutex<Vec<i32>> = std::sync::Mutex::new(Vec::new());

/// Held shared by each [`spawn`] from before its child exists until it is
/// registered, and exclusively by the reaper between listing our children
/// and reading the registry: a child that ended before it was registered
/// would otherwise be reaped as an orphan, its exit status lost to the
/// run. Runs and hooks spawn on the loop's thread, as the reaper runs, but
/// the registry does not depend on it.
static SPAWNING: std::sync::RwLock<()> = std::sync::RwLock::new(());

/// Spawns `cmd` and marks the child as ours ([`OwnChild`]) until the
/// returned guard drops, so that the orphan reaper leaves it to tokio.
pub fn spawn(
    cmd: &mut tokio::process::Command,
) -> std::io::Result<(tokio::process::Child, Option<OwnChild>)> {
    let _spawning = SPAWNING.read().unwrap_or_else(|p| p.into_inner());
    let child = cmd.spawn()?;
    let own = child.id().map(OwnChild::new);
    Ok((child, own))
}

/// Marks a child as ours for as long as it lives (until drop).
pub struct OwnChild(i32);

impl OwnChild {
    fn new(pid: u32) -> OwnChild {
        let pid = pid as i32;
        if let Ok(mut own) = OWN_CHILDREN.lock() {
            own.push(pid);
        }
        OwnChild(pid)
    }
}

impl Drop for OwnChild {
    fn drop(&mut self) {
        if let Ok(mut own) = OWN_CHILDREN.lock()
            && let Some(i) = own.iter().position(|&p| p == self.0)
        {
            own.swap_remove(i);
        }
    }
}

/// Makes this process the child subreaper of its descendants
/// (`PR_SET_CHILD_SUBREAPER`): what a job leaves behind, even after
/// `setsid`, is reparented to us rather than to init, so that we reap it
/// and can find it. As PID 1 the kernel already gives us every orphan.
pub fn become_subreaper() -> bool {
    // SAFETY: prctl with PR_SET_CHILD_SUBREAPER takes one integer argument
    // and touches no memory of ours.
    unsafe { libc::prctl(libc::PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) == 0 }
}

/// Reaps every zombie child that is not one of [`OwnChild`]: orphans
/// reparented to us. Returns how many.
///
/// Called on every SIGCHLD, so once per run in a burst: it reads only our
/// children (`/proc/self/task/*/children`, a line per thread), not every
/// process on the machine, which cost the loop about half a millisecond a
/// run on a host with a hundred processes.
pub fn reap_orphans() -> usize {
    let children = children();
    // Read after the children are listed, and once no spawn is between its
    // child's start and its registration: a listed child that is not
    // registered by then is not ours.
    let own = {
        let _no_spawn = SPAWNING.write().unwrap_or_else(|p| p.into_inner());
        OWN_CHILDREN.lock().map(|o| o.clone()).unwrap_or_default()
    };
    children
        .into_iter()
        .filter(|pid| !own.contains(pid))
        .filter(|&pid| state(pid) == Some('Z'))
        .filter(|&pid| {
            use nix::sys::wait::{WaitPidFlag, waitpid};
            waitpid(Pid::from_raw(pid), Some(WaitPidFlag::WNOHANG)).is_ok()
        })
        .count()
}

/// The pids of our children. An orphan is reparented to one of our threads,
/// and each thread lists its own children; without that file (a kernel
/// without `CONFIG_PROC_CHILDREN`), every process whose parent we are.
fn children() -> Vec<i32> {
    let mut pids = Vec::new();
    let listed = std::fs::read_dir("/proc/self/task").is_ok_and(|tasks| {
        let mut any = false;
        for task in tasks.flatten() {
            if let Ok(list) = std::fs::read_to_string(task.path().join("children")) {
                any = true;
                pids.extend(
                    list.split_whitespace()
                        .filter_map(|p| p.parse::<i32>().ok()),
                );
            }
        }
        any
    });
    if listed {
        return pids;
    }
    let me = std::process::id() as i32;
    let Ok(procs) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    procs
        .flatten()
        .filter_map(|entry| entry.file_name().to_str()?.parse::<i32>().ok())
        .filter(|&pid| parent(pid) == Some(me))
        .collect()
}

/// The state letter of `pid` (`R`, `S`, `Z`, ...), from /proc.
fn state(pid: i32) -> Option<char> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    stat.rsplit_once(')')?.1.trim_start().chars().next()
}

/// The parent of `pid`, from /proc.
fn parent(pid: i32) -> Option<i32> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let mut fields = stat.rsplit_once(')')?.1.split_whitespace();
    fields.nth(1)?.parse().ok()
}

/// Whether `pid` descends from `ancestor` (as subreaper, what a job left
/// behind is reparented to us, so its chain of parents leads here).
fn descends_from(mut pid: i32, ancestor: i32) -> bool {
    for _ in 0..128 {
        match parent(pid) {
            Some(p) if p == ancestor => return true,
            Some(p) if p > 1 => pid = p,
            _ => return false,
        }
    }
    false
}

/// Sends `signal` to every live descendant of ours whose environment
/// carries run `run_id`'s `SCHEDULE_RUN_ID`: what the run left outside its
/// process group (`setsid`, a daemon). Only descendants: run ids are per
/// database, and another scheduler's run 7 is not ours. Returns how many.
pub fn signal_marked(run_id: i64, signal: Signal) -> usize {
    let marker = format!("SCHEDULE_RUN_ID={run_id}");
    let me = std::process::id() as i32;
    let Ok(procs) = std::fs::read_dir("/proc") else {
        return 0;
    };
    procs
        .flatten()
        .filter_map(|entry| entry.file_name().to_str()?.parse::<i32>().ok())
        .filter(|&pid| pid != me)
        .filter(|pid| {
            std::fs::read(format!("/proc/{pid}/environ"))
                .map(|env| env.split(|&b| b == 0).any(|v| v == marker.as_bytes()))
                .unwrap_or(false)
        })
        .filter(|&pid| descends_from(pid, me))
        .filter(|&pid| kill(Pid::from_raw(pid), signal).is_ok())
        .count()
}

#[cfg(test)]
mod tests {

    #[test]
    fn a_child_descends_from_us_and_init_from_nobody() {
        let mut child = std::process::Command::new("sleep")
            .arg("5")
            .spawn()
            .unwrap();
        let me = std::process::id() as i32;
        assert!(descends_from(child.id() as i32, me));
        assert!(!descends_from(1, me));
        assert!(!descends_from(me, child.id() as i32));
        child.kill().unwrap();
        child.wait().unwrap();
    }

    #[test]
    fn our_children_are_listed_and_a_dead_one_is_a_zombie_until_waited_for() {
        // Spawned from another thread: an orphan may be reparented to any
        // of our threads, and each thread lists only its own children.
        let mut child = std::thread::spawn(|| std::process::Command::new("true").spawn().unwrap())
            .join()
            .unwrap();
        let pid = child.id() as i32;
        assert!(
            children().contains(&pid),
            "{pid} not among {:?}",
            children()
        );
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
        while state(pid) != Some('Z') {
            assert!(std::time::Instant::now() < deadline, "{pid} never ended");
            std::thread::sleep(std::time::Duration::from_millis(10));
        }
        child.wait().unwrap();
        assert!(!children().contains(&pid));
        assert_eq!(state(pid), None);
    }

    use super::*;
    use std::os::unix::process::CommandExt;

    #[test]
    fn a_group_is_alive_while_a_member_runs_and_zombies_do_not_count() {
        let mut child = std::process::Command::new("sleep")
            .arg("30")
            .process_group(0)
            .spawn()
            .unwrap();
        let pgid = Pid::from_raw(child.id() as i32);
        assert!(group_alive(pgid));
        assert_eq!(live_members(pgid), [pgid]);
        kill(pgid, Signal::SIGKILL).unwrap();
        // Not yet reaped: a zombie, still a member for killpg, but not alive.
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
        while !live_members(pgid).is_empty() {
            assert!(std::time::Instant::now() < deadline);
            std::thread::sleep(std::time::Duration::from_millis(10));
        }
        assert!(!group_alive(pgid));
        child.wait().unwrap();
        assert!(!group_alive(pgid));
    }

    #[test]
    fn leftovers_are_killed_only_when_they_carry_the_run_id() {
        let spawn = |run_id: &str| {
            std::process::Command::new("sleep")
                .arg("30")
                .env("SCHEDULE_RUN_ID", run_id)
                .process_group(0)
                .spawn()
                .unwrap()
        };
        let mut other = spawn("7");
        let mut ours = spawn("42");
        let other_pgid = Pid::from_raw(other.id() as i32);
        let ours_pgid = Pid::from_raw(ours.id() as i32);
        // Both have exec'd once their environment shows the marker.
        let has_marker = |pid: Pid, marker: &str| {
            std::fs::read(format!("/proc/{pid}/environ"))
                .is_ok_and(|env| env.split(|&b| b == 0).any(|v| v == marker.as_bytes()))
        };
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
        while !(has_marker(other_pgid, "SCHEDULE_RUN_ID=7")
            && has_marker(ours_pgid, "SCHEDULE_RUN_ID=42"))
        {
            assert!(
                std::time::Instant::now() < deadline,
                "the children never started"
            );
            std::thread::sleep(std::time::Duration::from_millis(10));
        }
        // The right group but another run: untouched.
        assert_eq!(kill_leftovers(other_pgid, 42), 0);
        assert_eq!(kill_leftovers(ours_pgid, 42), 1);
        assert!(ours.wait().unwrap().code().is_none(), "killed by a signal");
        assert!(other.try_wait().unwrap().is_none(), "still running");
        other.kill().unwrap();
        other.wait().unwrap();
    }
}
