//! Several hosts on one PostgreSQL database: which host claims which fire.
//!
//! Every host computes every fire, and the database decides who runs it:
//! a claim is the insert of the fire's row, which a unique key lets happen
//! once. What this module adds is the spreading of the work, kept pure so
//! that it can be tested without a database: each job has a preferred
//! host, chosen by rendezvous hashing of the job's name over the live
//! hosts that may run it, and only that host claims at once; the others
//! stand by and claim only what is still unclaimed after the takeover
//! delay. A host joining or leaving moves only the jobs it wins or held.
//!
//! A host whose definition of a job differs from the other hosts' does not
//! run the job at all: two definitions of one job would be two jobs that
//! share their fires' identity.

use crate::config::Job;
use crate::domain::HostRow;
use std::collections::HashMap;

/// What this host does with a job's fires in a cluster.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Part {
    /// Claims them at once: it is the job's preferred host.
    Lead,
    /// Claims them only if the preferred host did not.
    Standby,
    /// Never runs the job (`hosts` leaves this host out, or its definition
    /// of the job differs from the other hosts').
    None,
}

/// FNV-1a, 64 bits: stable across builds and platforms, which the
/// preference of a job and a definition's hash must be (hosts compare
/// them), unlike std's hasher.
fn fnv(parts: &[&[u8]]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for part in parts {
        for b in *part {
            h ^= u64::from(*b);
            h = h.wrapping_mul(0x0100_0000_01b3);
        }
        // A separator, so that ("ab", "c") and ("a", "bc") differ.
        h ^= 0xff;
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    // FNV's low bits mix poorly; a final avalanche spreads the scores.
    h ^= h >> 33;
    h = h.wrapping_mul(0xff51_afd7_ed55_8ccd);
    h ^= h >> 33;
    h
}

/// A number every host computes the same for a fire (a jitter's delay).
pub fn spread(job: &str, at_ms: i64) -> u64 {
    fnv(&[job.as_bytes(), &at_ms.to_le_bytes()])
}

/// The hash of a job's definition as this build resolves it: everything
/// that decides when and how it runs.
pub fn definition_hash(job: &Job) -> String {
    format!("{:016x}", fnv(&[format!("{job:?}").as_bytes()]))
}

/// One hash for all of a config's jobs: hosts whose config hashes agree
/// need not compare job by job.
pub fn config_hash(jobs: &[(String, String)]) -> String {
    let mut sorted: Vec<&(String, String)> = jobs.iter().collect();
    sorted.sort();
    let parts: Vec<&[u8]> = sorted
        .iter()
        .flat_map(|(name, hash)| [name.as_bytes(), hash.as_bytes()])
        .collect();
    format!("{:016x}", fnv(&parts))
}

/// `*` matches any run of characters, `?` any one; everything else itself.
pub fn matches(pattern: &str, name: &str) -> bool {
    let (p, n): (Vec<char>, Vec<char>) = (pattern.chars().collect(), name.chars().collect());
    let (mut pi, mut ni) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while ni < n.len() {
        if pi < p.len() && (p[pi] == '?' || p[pi] == n[ni]) {
            pi += 1;
            ni += 1;
        } else if pi < p.len() && p[pi] == '*' {
            star = Some((pi, ni));
            pi += 1;
        } else if let Some((sp, sn)) = star {
            pi = sp + 1;
            ni = sn + 1;
            star = Some((sp, sn + 1));
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|c| *c == '*')
}

/// Whether a host of this name may run the job (`hosts = [...]`).
pub fn allowed(job: &Job, host: &str) -> bool {
    job.settings.hosts.is_empty() || job.settings.hosts.iter().any(|p| matches(p, host))
}

/// The live hosts as the last heartbeat saw them, and what each has of
/// the jobs it differs on.
#[derive(Debug, Clone, Default)]
pub struct View {
    /// This host's id.
    pub me: i64,
    pub hosts: Vec<HostRow>,
    /// For hosts whose config hash is not ours: each job's definition hash.
    pub jobs_of: HashMap<i64, HashMap<String, String>>,
}

/// A job this host does not run, and why (for the log and `/health`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mismatch {
    pub job: String,
    pub why: String,
}

impl View {
    fn host(&self, id: i64) -> Option<&HostRow> {
        self.hosts.iter().find(|h| h.id == id)
    }

    /// The hash host `id` has for `job`: ours when its config is ours;
    /// `None` when it lacks the job.
    fn hash_of<'a>(
        &'a self,
        id: i64,
        job: &str,
        ours: &'a str,
        our_config: &str,
    ) -> Option<&'a str> {
        let host = self.host(id)?;
        if id == self.me || host.config_hash == our_config {
            return Some(ours);
        }
        self.jobs_of.get(&id)?.get(job).map(String::as_str)
    }

    /// What this host does with each job, the jobs whose definitions
    /// disagree with ours, and the jobs no live host may run.
    ///
    /// The definition that counts is the one most live hosts have (a tie
    /// goes to the longest-running host's), so that during a rolling
    /// upgrade the hosts on the old definition go on until most hosts have
    /// the new one. Of the hosts with that definition and allowed by the
    /// job's `hosts`, the one with the highest rendezvous score leads.
    pub fn parts(
        &self,
        jobs: &[std::sync::Arc<Job>],
        hashes: &HashMap<String, String>,
        our_config: &str,
    ) -> (HashMap<String, Part>, Vec<Mismatch>, Vec<String>) {
        let mut parts = HashMap::new();
        let mut mismatches = Vec::new();
        // Jobs that no live host may run (`hosts` matches none of them).
        let mut unrun = Vec::new();
        let mut by_age: Vec<&HostRow> = self
            .hosts
            .iter()
            .filter(|h| h.live || h.id == self.me)
            .collect();
        by_age.sort_by_key(|h| (h.started_at, h.id));
        for job in jobs {
            let ours = hashes.get(&*job.name).map_or("", String::as_str);
            // Definition hash → (how many hosts, the oldest host's rank).
            let mut votes: HashMap<&str, (usize, usize)> = HashMap::new();
            for (rank, h) in by_age.iter().enumerate() {
                if let Some(hash) = self.hash_of(h.id, &job.name, ours, our_config) {
                    let v = votes.entry(hash).or_insert((0, rank));
                    v.0 += 1;
                }
            }
            let winner = votes
                .iter()
                .max_by(|a, b| a.1.0.cmp(&b.1.0).then(b.1.1.cmp(&a.1.1)))
                .map(|(hash, _)| *hash)
                .unwrap_or(ours);
            if winner != ours {
                let others = votes.get(winner).map_or(0, |v| v.0);
                mismatches.push(Mismatch {
                    job: job.name.to_string(),
                    why: format!(
                        "this host's definition of the job differs from the one {others} other \
                         host(s) have; it runs the job only once the definitions agree"
                    ),
                });
                parts.insert(job.name.to_string(), Part::None);
                continue;
            }
            let me = self.host(self.me);
            let my_name = me.map_or("", |h| h.name.as_str());
            if !allowed(job, my_name) {
                parts.insert(job.name.to_string(), Part::None);
                let anyone = by_age.iter().any(|h| {
                    allowed(job, &h.name)
                        && self.hash_of(h.id, &job.name, ours, our_config) == Some(winner)
                });
                if !anyone {
                    unrun.push(job.name.to_string());
                }
                continue;
            }
            let lead = by_age
                .iter()
                .filter(|h| self.hash_of(h.id, &job.name, ours, our_config) == Some(winner))
                .filter(|h| allowed(job, &h.name))
                .max_by_key(|h| (score(&job.name, h), std::cmp::Reverse(h.id)))
                .map(|h| h.id);
            let part = match lead {
                Some(id) if id != self.me => Part::Standby,
                _ => Part::Lead,
            };
            if part != Part::Lead {
                parts.insert(job.name.to_string(), part);
            }
        }
        (parts, mismatches, unrun)
    }
}

/// The rendezvous score of a host for a job. Two schedulers that share a
/// host name are told apart by their pids.
fn score(job: &str, host: &HostRow) -> u64 {
    fnv(&[
        job.as_bytes(),
        host.name.as_bytes(),
        &host.pid.to_le_bytes(),
    ])
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{TimeZone, Utc};
    use std::sync::Arc;

    fn jobs(toml: &str) -> Vec<Arc<Job>> {
        crate::config::parse(std::path::Path::new("jobs.toml"), toml)
            .expect("valid config")
            .jobs
    }

    fn host(id: i64, name: &str, config: &str) -> HostRow {
        HostRow {
            id,
            name: name.to_string(),
            pid: 100 + id as u32,
            version: "0".into(),
            started_at: Utc.timestamp_opt(1_700_000_000 + id, 0).unwrap(),
            heartbeat: Utc.timestamp_opt(1_800_000_000, 0).unwrap(),
            skew_ms: 0,
            config_hash: config.to_string(),
            live: true,
        }
    }

    fn hashes(jobs: &[Arc<Job>]) -> HashMap<String, String> {
        jobs.iter()
            .map(|j| (j.name.to_string(), definition_hash(j)))
            .collect()
    }

    #[test]
    fn patterns_match_as_globs() {
        assert!(matches("backup-*", "backup-1"));
        assert!(matches("backup-*", "backup-"));
        assert!(!matches("backup-*", "web-1"));
        assert!(matches("web-?", "web-2"));
        assert!(!matches("web-?", "web-12"));
        assert!(matches("*", "anything"));
        assert!(matches("a*b*c", "aXXbYYc"));
        assert!(!matches("a*b*c", "aXXbYY"));
        assert!(matches("exact", "exact"));
        assert!(!matches("exact", "exactly"));
    }

    #[test]
    fn every_job_has_exactly_one_lead_among_hosts_that_agree() {
        let mut toml = String::new();
        for i in 0..300 {
            toml.push_str(&format!(
                "[jobs.j{i}]\nevery = \"1m\"\ncommand = \"true\"\n"
            ));
        }
        let jobs = jobs(&toml);
        let h = hashes(&jobs);
        let all: Vec<(String, String)> = h.clone().into_iter().collect();
        let cfg = config_hash(&all);
        let hosts = vec![host(1, "a", &cfg), host(2, "b", &cfg), host(3, "c", &cfg)];
        let mut leads = HashMap::<String, Vec<i64>>::new();
        let mut per_host = HashMap::<i64, usize>::new();
        for me in [1, 2, 3] {
            let view = View {
                me,
                hosts: hosts.clone(),
                jobs_of: HashMap::new(),
            };
            let (parts, mismatches, _) = view.parts(&jobs, &h, &cfg);
            assert!(mismatches.is_empty());
            for job in &jobs {
                if !parts.contains_key(&*job.name) {
                    leads.entry(job.name.to_string()).or_default().push(me);
                    *per_host.entry(me).or_default() += 1;
                }
            }
        }
        assert_eq!(leads.len(), 300, "every job has a lead");
        assert!(leads.values().all(|l| l.len() == 1), "and only one");
        // Rendezvous hashing spreads them: none far above a third.
        for (host, n) in &per_host {
            assert!(*n > 60 && *n < 140, "host {host} leads {n} of 300 jobs");
        }
    }

    #[test]
    fn a_host_leaving_moves_only_the_jobs_it_led() {
        let mut toml = String::new();
        for i in 0..100 {
            toml.push_str(&format!(
                "[jobs.j{i}]\nevery = \"1m\"\ncommand = \"true\"\n"
            ));
        }
        let jobs = jobs(&toml);
        let h = hashes(&jobs);
        let cfg = "c".to_string();
        let three = vec![host(1, "a", &cfg), host(2, "b", &cfg), host(3, "c", &cfg)];
        let lead_of = |hosts: &[HostRow], me: i64| {
            let view = View {
                me,
                hosts: hosts.to_vec(),
                jobs_of: HashMap::new(),
            };
            let (parts, _, _) = view.parts(&jobs, &h, &cfg);
            jobs.iter()
                .filter(|j| !parts.contains_key(&*j.name))
                .map(|j| j.name.clone())
                .collect::<std::collections::HashSet<_>>()
        };
        let before = lead_of(&three, 1);
        let after = lead_of(&three[..2], 1);
        assert!(before.is_subset(&after), "host 1 keeps every job it led");
        assert!(after.len() > before.len(), "and takes some of host 3's");
    }

    #[test]
    fn hosts_patterns_and_a_differing_definition_keep_a_host_out() {
        let ours = jobs(
            "[jobs.backup]\nevery = \"1m\"\ncommand = \"true\"\nhosts = [\"disk-*\"]\n\
             [jobs.report]\nevery = \"1m\"\ncommand = \"echo v1\"\n",
        );
        let h = hashes(&ours);
        let theirs = jobs(
            "[jobs.backup]\nevery = \"1m\"\ncommand = \"true\"\nhosts = [\"disk-*\"]\n\
             [jobs.report]\nevery = \"1m\"\ncommand = \"echo v2\"\n",
        );
        let their_hashes = hashes(&theirs);
        let hosts = vec![
            host(1, "web-1", "ours"),
            host(2, "disk-1", "theirs"),
            host(3, "disk-2", "theirs"),
        ];
        let view = View {
            me: 1,
            hosts: hosts.clone(),
            jobs_of: [(2, their_hashes.clone()), (3, their_hashes.clone())].into(),
        };
        let (parts, mismatches, _) = view.parts(&ours, &h, "ours");
        assert_eq!(
            parts.get("backup"),
            Some(&Part::None),
            "web-1 is not a disk-* host"
        );
        // Were the disk hosts gone, nobody could run it, and web-1 would say so.
        let alone = View {
            me: 1,
            hosts: hosts[..1].to_vec(),
            jobs_of: HashMap::new(),
        };
        let (_, _, unrun) = alone.parts(&ours, &h, "ours");
        assert_eq!(unrun, ["backup"]);
        assert_eq!(parts.get("report"), Some(&Part::None), "two hosts have v2");
        assert_eq!(mismatches.len(), 1);
        assert_eq!(mismatches[0].job, "report");
        // On a disk host, backup is led by one of the two disk hosts.
        let view = View {
            me: 2,
            hosts,
            jobs_of: [(1, h.clone()), (3, their_hashes.clone())].into(),
        };
        let (parts, mismatches, _) = view.parts(&theirs, &their_hashes, "theirs");
        assert!(mismatches.is_empty(), "the majority's definition is theirs");
        assert_ne!(parts.get("backup"), Some(&Part::None));
    }

    #[test]
    fn a_tie_goes_to_the_longest_running_host() {
        let ours = jobs("[jobs.report]\nevery = \"1m\"\ncommand = \"echo new\"\n");
        let old = jobs("[jobs.report]\nevery = \"1m\"\ncommand = \"echo old\"\n");
        let (h_new, h_old) = (hashes(&ours), hashes(&old));
        // Host 1 started first, with the old definition; we are host 2.
        let view = View {
            me: 2,
            hosts: vec![host(1, "a", "old"), host(2, "b", "new")],
            jobs_of: [(1, h_old)].into(),
        };
        let (parts, mismatches, _) = view.parts(&ours, &h_new, "new");
        assert_eq!(parts.get("report"), Some(&Part::None));
        assert_eq!(mismatches.len(), 1);
    }
}
