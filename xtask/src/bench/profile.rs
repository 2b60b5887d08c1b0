//! `cargo xtask bench <scenario…> --profile`: each scenario under `perf record -a -g` (the
//! whole machine, 499 samples/s per CPU; recording only in the load generator's measured
//! windows — publishes and their deliveries — not while a scenario sets up), then `perf report --no-children --sort
//! dso,symbol` per process of the stack (gateway, api, web-sm, tui-sm, Postgres with its
//! backends, NATS, Nchan, and the load generator itself) written under
//! `target/bench/profile/<scenario>/`, with the share of every process in all samples
//! (`processes.txt`: what else ran on the machine) and the load average before and after.
//! The top lines of each are printed. The release profile keeps line tables
//! (`debug = "line-tables-only"`), so the symbols resolve; Rust code is built without frame
//! pointers, so the call chains are partial: the self time per symbol is the figure to read.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use ajet_bench::procs::Procs;
use anyhow::{Context, Result, bail};

use crate::process::run_checked;

/// Lines of each process's report kept in its file, and printed.
const KEPT: usize = 40;
const PRINTED: usize = 10;

/// A running `perf record` of the whole machine.
pub struct Recording {
    child: Child,
    data: PathBuf,
    dir: PathBuf,
    load_before: String,
    started: Instant,
}

/// `/usr/bin/perf`, or an error saying how to get it.
pub fn ensure_perf() -> Result<()> {
    match Command::new("perf").arg("--version").output() {
        Ok(out) if out.status.success() => Ok(()),
        _ => bail!("--profile needs `perf` (Debian: apt-get install linux-perf)"),
    }
}

/// Starts recording for `scenario`, its files under `target/bench/profile/<scenario>/`.
pub fn start(root: &Path, scenario: &str) -> Result<Recording> {
    let dir = root.join("target/bench/profile").join(scenario);
    std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
    let data = dir.join("perf.data");
    let control = dir.join("control.fifo");
    let _ = std::fs::remove_file(&control);
    run_checked(Command::new("mkfifo").arg(&control), "making perf's control FIFO")?;
    let log = std::fs::File::create(dir.join("perf-record.log")).context("perf's log")?;
    // Events start disabled: the load generator enables them for its measured windows only.
    let mut child = Command::new("perf")
        .args(["record", "-a", "-g", "-F", "499", "-D", "-1", "--control"])
        .arg(format!("fifo:{}", control.display()))
        .arg("-o")
        .arg(&data)
        .stdin(Stdio::null())
        .stdout(log.try_clone().context("perf's log")?)
        .stderr(log)
        .spawn()
        .context("starting perf record")?;
    // Opening a FIFO for writing waits for its reader, perf: bounded, in case perf failed.
    let (opened, open) = std::sync::mpsc::channel();
    let path = control.clone();
    std::thread::spawn(move || {
        let _ = opened.send(std::fs::OpenOptions::new().write(true).open(path));
    });
    match open.recv_timeout(Duration::from_secs(20)) {
        Ok(Ok(file)) => ajet_bench::load::profile_windows(file),
        _ => {
            let _ = child.kill();
            bail!("perf record did not open its control FIFO (see {})", dir.join("perf-record.log").display());
        }
    }
    Ok(Recording { child, data, dir, load_before: load_average(), started: Instant::now() })
}

impl Recording {
    /// Stops recording and writes the per-process reports of `procs` plus the load
    /// generator (this process); prints the top lines of each.
    pub fn finish(mut self, procs: &Procs, names: &[&str]) -> Result<()> {
        let secs = self.started.elapsed().as_secs_f64();
        ajet_bench::load::profile_windows_end();
        let load_after = load_average();
        // perf writes its file on SIGINT, as on Ctrl-C.
        let _ = Command::new("sh")
            .args(["-c", r#"kill -s INT -- "$0" 2>/dev/null"#, &self.child.id().to_string()])
            .status();
        let deadline = Instant::now() + Duration::from_secs(60);
        while self.child.try_wait().context("waiting for perf")?.is_none() {
            if Instant::now() > deadline {
                let _ = self.child.kill();
                bail!("perf record did not stop within 60 s of SIGINT");
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let mut summary = format!(
            "scenario {secs:.0} s (recorded in its measured windows only); load average before: {}; after: {}\n",
            self.load_before.trim(),
            load_after.trim()
        );
        let processes = report(&self.data, &["--sort", "comm", "-n"], None)?;
        std::fs::write(self.dir.join("processes.txt"), &processes).context("writing processes.txt")?;
        let (_, total) = shares(&processes);
        let _ =
            writeln!(summary, "{total} samples in all; share by command (samples), the machine's other work included:");
        for line in processes.lines().take(PRINTED) {
            let _ = writeln!(summary, "  {line}");
        }
        let mut wanted: Vec<(String, Vec<u32>)> =
            names.iter().map(|name| ((*name).to_owned(), procs.pids(name))).collect();
        wanted.push(("bench (the load generator)".to_owned(), vec![std::process::id()]));
        for (name, pids) in wanted {
            if pids.is_empty() {
                continue;
            }
            let (share, samples) =
                shares(&report(&self.data, &["--sort", "pid", "-n", "--percentage", "absolute"], Some(&pids))?);
            let text = report(&self.data, &["--sort", "dso,symbol", "--percentage", "relative"], Some(&pids))?;
            let file = self.dir.join(format!("{}.txt", name.split(' ').next().unwrap_or("process")));
            let kept: Vec<&str> = text.lines().take(KEPT).collect();
            let head = format!("{name}: {samples} samples, {share:.2}% of all; its top symbols by self samples:\n");
            std::fs::write(&file, head + &kept.join("\n") + "\n")
                .with_context(|| format!("writing {}", file.display()))?;
            let _ = writeln!(
                summary,
                "\n{name}: {samples} samples, {share:.2}% of all (pids {}), top symbols by self samples:",
                if pids.len() > 4 { format!("{} and {} more", pids[0], pids.len() - 1) } else { format!("{pids:?}") }
            );
            for line in kept.iter().take(PRINTED) {
                let _ = writeln!(summary, "  {line}");
            }
        }
        std::fs::write(self.dir.join("summary.txt"), &summary).context("writing summary.txt")?;
        println!("profile ({}):\n{summary}", self.dir.display());
        Ok(())
    }
}

/// `perf report` of `data` with `sort`, self samples only, optionally of `pids` only.
fn report(data: &Path, sort: &[&str], pids: Option<&[u32]>) -> Result<String> {
    let mut cmd = Command::new("perf");
    cmd.arg("report").arg("-i").arg(data).args(["--stdio", "--no-children", "-g", "none", "-q"]).args(sort);
    if let Some(pids) = pids {
        let list: Vec<String> = pids.iter().map(ToString::to_string).collect();
        cmd.args(["--pid", &list.join(",")]);
    }
    let out = cmd.stderr(Stdio::null()).output().context("running perf report")?;
    if !out.status.success() {
        bail!("perf report failed ({})", out.status);
    }
    // Columns padded to the longest symbol, and the empty call-chain columns, go.
    Ok(String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|line| {
            let mut words: Vec<&str> = line.split_whitespace().collect();
            while words.last() == Some(&"-") {
                words.pop();
            }
            words.join(" ")
        })
        .filter(|line| !line.is_empty())
        .collect::<Vec<_>>()
        .join("\n"))
}

/// The summed percentage and samples of a report sorted with `-n` (each line `P% N …`).
fn shares(report: &str) -> (f64, u64) {
    report.lines().fold((0.0, 0), |(share, samples), line| {
        let mut words = line.split_whitespace();
        let percent = words.next().and_then(|w| w.trim_end_matches('%').parse::<f64>().ok()).unwrap_or(0.0);
        let count = words.next().and_then(|w| w.parse::<u64>().ok()).unwrap_or(0);
        (share + percent, samples + count)
    })
}

fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg").unwrap_or_default()
}
