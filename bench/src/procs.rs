//! What the processes under load cost, read from `/proc`: CPU time, resident memory and open
//! descriptors of each named process (with its children, for Postgres' backends).

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::task::JoinHandle;

/// One process (and its children) at one moment.
#[derive(Clone, Copy, Debug, Default)]
pub struct Stat {
    /// User plus system CPU time, in clock ticks (1/100 s).
    pub ticks: u64,
    pub rss_kib: u64,
    pub fds: u64,
}

/// Every named process at one moment.
#[derive(Clone, Debug, Default)]
pub struct Sample(BTreeMap<String, Stat>);

impl Sample {
    #[must_use]
    pub fn get(&self, name: &str) -> Option<&Stat> {
        self.0.get(name)
    }

    /// CPU in cores of each process between `earlier` and this sample, `elapsed` apart.
    #[must_use]
    pub fn cpu_since(&self, earlier: &Self, elapsed: Duration) -> String {
        let mut out = String::new();
        for (name, stat) in &self.0 {
            let before = earlier.0.get(name).map_or(0, |s| s.ticks);
            #[expect(clippy::cast_precision_loss, reason = "ticks")]
            let cores = stat.ticks.saturating_sub(before) as f64 / 100.0 / elapsed.as_secs_f64().max(1e-3);
            let _ = write!(out, "{name} {cores:.2}, ");
        }
        out.trim_end_matches(", ").to_owned()
    }

    fn max(&mut self, other: &Self) {
        for (name, stat) in &other.0 {
            let entry = self.0.entry(name.clone()).or_default();
            entry.ticks = entry.ticks.max(stat.ticks);
            entry.rss_kib = entry.rss_kib.max(stat.rss_kib);
            entry.fds = entry.fds.max(stat.fds);
        }
    }
}

/// The processes to sample: name, pid, whether its children count too.
#[derive(Clone, Debug, Default)]
pub struct Procs(pub Vec<(String, u32, bool)>);

impl Procs {
    #[must_use]
    pub fn sample(&self) -> Sample {
        let children = if self.0.iter().any(|(_, _, c)| *c) { all_parents() } else { Vec::new() };
        let mut out = BTreeMap::new();
        for (name, pid, with_children) in &self.0 {
            let mut pids = vec![*pid];
            if *with_children {
                pids.extend(children.iter().filter(|(_, parent)| parent == pid).map(|(child, _)| *child));
            }
            let mut total = Stat::default();
            for pid in pids {
                let stat = stat(pid);
                total.ticks += stat.ticks;
                total.rss_kib += stat.rss_kib;
                total.fds += stat.fds;
            }
            out.insert(name.clone(), total);
        }
        Sample(out)
    }

    /// The pids of the process named `name`, with its children when it was listed with
    /// them (Postgres' backends): empty for a name not listed.
    #[must_use]
    pub fn pids(&self, name: &str) -> Vec<u32> {
        let mut pids = Vec::new();
        for (_, pid, with_children) in self.0.iter().filter(|(n, _, _)| n == name) {
            pids.push(*pid);
            if *with_children {
                pids.extend(all_parents().into_iter().filter(|(_, parent)| parent == pid).map(|(child, _)| child));
            }
        }
        pids
    }

    /// Samples every 200 ms until stopped: the maximum of each figure.
    #[must_use]
    pub fn watch(&self) -> Watch {
        let peak = Arc::new(Mutex::new(self.sample()));
        let procs = self.clone();
        let keep = Arc::clone(&peak);
        let task = tokio::spawn(async move {
            loop {
                tokio::time::sleep(Duration::from_millis(200)).await;
                let sample = procs.sample();
                keep.lock().unwrap_or_else(std::sync::PoisonError::into_inner).max(&sample);
            }
        });
        Watch { peak, task }
    }
}

/// A running sampler of peaks.
pub struct Watch {
    peak: Arc<Mutex<Sample>>,
    task: JoinHandle<()>,
}

impl Watch {
    pub async fn stop(self) -> Sample {
        self.task.abort();
        let _ = self.task.await;
        self.peak.lock().unwrap_or_else(std::sync::PoisonError::into_inner).clone()
    }
}

fn stat(pid: u32) -> Stat {
    let dir = Path::new("/proc").join(pid.to_string());
    let ticks = std::fs::read_to_string(dir.join("stat")).ok().map_or(0, |stat| {
        let fields: Vec<&str> = stat.rsplit_once(')').map_or("", |(_, rest)| rest).split_whitespace().collect();
        // After the command name: state is 0, utime 11, stime 12.
        let field = |i: usize| fields.get(i).and_then(|v| v.parse::<u64>().ok()).unwrap_or(0);
        field(11) + field(12)
    });
    let rss_kib = std::fs::read_to_string(dir.join("status")).ok().map_or(0, |status| {
        status
            .lines()
            .find_map(|line| line.strip_prefix("VmRSS:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
            .unwrap_or(0)
    });
    let fds = std::fs::read_dir(dir.join("fd")).map_or(0, |dir| dir.count() as u64);
    Stat { ticks, rss_kib, fds }
}

/// (pid, parent pid) of every process.
fn all_parents() -> Vec<(u32, u32)> {
    let Ok(dir) = std::fs::read_dir("/proc") else { return Vec::new() };
    dir.filter_map(|entry| {
        let pid: u32 = entry.ok()?.file_name().to_str()?.parse().ok()?;
        let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
        let parent = stat.rsplit_once(')')?.1.split_whitespace().nth(1)?.parse().ok()?;
        Some((pid, parent))
    })
    .collect()
}
