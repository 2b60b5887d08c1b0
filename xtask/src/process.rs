//! Child processes: long-running servers that always get stopped, interruptible one-shot
//! commands, signals, log tails, and tiny loopback TCP/HTTP probes.

use std::fs::File;
use std::io::{Read, Write};
use std::net::{Ipv4Addr, SocketAddr, TcpStream};
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::thread::sleep;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};

use crate::{bail_if_interrupted, interrupted};

const POLL: Duration = Duration::from_millis(100);

/// A server child process. It runs in its own process group (a terminal Ctrl-C reaches only
/// xtask, which then stops things in order) with stdout+stderr in a log file, and it is
/// stopped — stop signal, grace period, SIGKILL — on drop at the latest.
pub struct Server {
    name: String,
    child: Child,
    log: PathBuf,
    stop_signal: &'static str,
    grace: Duration,
    stop_sent: Option<Instant>,
    done: bool,
}

impl Server {
    pub fn spawn(
        name: &str,
        cmd: &mut Command,
        log: &Path,
        stop_signal: &'static str,
        grace: Duration,
    ) -> Result<Self> {
        let out = File::create(log).with_context(|| format!("creating {}", log.display()))?;
        let err = out.try_clone().context("duplicating a log file handle")?;
        cmd.stdin(Stdio::null()).stdout(out).stderr(err).process_group(0);
        let child = cmd.spawn().with_context(|| format!("starting {name} ({})", cmd.get_program().display()))?;
        Ok(Self {
            name: name.to_owned(),
            child,
            log: log.to_path_buf(),
            stop_signal,
            grace,
            stop_sent: None,
            done: false,
        })
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    /// Stops it (signal, grace, kill) and says how long that took.
    pub fn stop_timed(&mut self) -> Duration {
        let started = Instant::now();
        self.finish_stop();
        started.elapsed()
    }

    /// Fails, with the end of its log, if the process has exited.
    pub fn ensure_running(&mut self) -> Result<()> {
        let exited = self.child.try_wait().with_context(|| format!("polling {}", self.name))?;
        if let Some(status) = exited {
            self.done = true;
            bail!(
                "{} exited unexpectedly ({status}); last lines of {}:\n{}",
                self.name,
                self.log.display(),
                tail(&self.log, 30)
            );
        }
        Ok(())
    }

    /// Polls `ready` until it holds; fails early if the process dies, on timeout, or on Ctrl-C.
    pub fn wait_until(&mut self, what: &str, timeout: Duration, mut ready: impl FnMut() -> bool) -> Result<()> {
        let start = Instant::now();
        loop {
            bail_if_interrupted()?;
            self.ensure_running()?;
            if ready() {
                return Ok(());
            }
            if start.elapsed() > timeout {
                bail!(
                    "{} is not ready ({what}) after {}s; last lines of {}:\n{}",
                    self.name,
                    timeout.as_secs(),
                    self.log.display(),
                    tail(&self.log, 30)
                );
            }
            sleep(POLL);
        }
    }

    fn request_stop(&mut self) {
        if self.done || self.stop_sent.is_some() {
            return;
        }
        if matches!(self.child.try_wait(), Ok(None)) {
            send_signal(&self.child.id().to_string(), self.stop_signal);
            self.stop_sent = Some(Instant::now());
        } else {
            self.done = true;
        }
    }

    fn finish_stop(&mut self) {
        self.request_stop();
        while !self.done {
            match self.child.try_wait() {
                Ok(None) if self.stop_sent.is_some_and(|sent| sent.elapsed() > self.grace) => {
                    eprintln!(
                        "xtask: {} still running {}s after SIG{}; killing it",
                        self.name,
                        self.grace.as_secs(),
                        self.stop_signal
                    );
                    // The whole group, so no helper outlives it; wait() reaps it either way.
                    send_signal(&format!("-{}", self.child.id()), "KILL");
                    // In case the shell could not: std's kill needs no helper.
                    let _ = self.child.kill();
                    let _ = self.child.wait();
                    self.done = true;
                }
                Ok(None) => sleep(Duration::from_millis(50)),
                Ok(Some(_)) | Err(_) => self.done = true,
            }
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.finish_stop();
    }
}

/// Stops several servers concurrently: signal them all, then wait for each.
pub fn stop_all<'a>(servers: impl IntoIterator<Item = &'a mut Server>) {
    let mut servers: Vec<&mut Server> = servers.into_iter().collect();
    for server in &mut servers {
        server.request_stop();
    }
    for server in servers {
        server.finish_stop();
    }
}

/// Sends `SIG<name>` to a pid, or to a process group as `-<pgid>`, with the shell's `kill`
/// builtin (the workspace forbids `unsafe`, so no libc; minimal Debian lacks procps' `kill`).
fn send_signal(target: &str, name: &str) {
    let sent = Command::new("sh").args(["-c", r#"kill -s "$0" -- "$1" 2>/dev/null"#, name, target]).status();
    if let Err(err) = sent {
        eprintln!("xtask: could not run `kill -s {name} -- {target}`: {err}");
    }
}

/// Runs a command with our stdio in a process group of its own. On Ctrl-C/SIGTERM the whole
/// group gets SIGINT — as from a terminal, so nextest's cargo and test processes stop too — and
/// SIGKILL 30 s later; the caller checks `interrupted()` afterwards.
pub fn run_interruptible(cmd: &mut Command) -> Result<ExitStatus> {
    let program = cmd.get_program().display().to_string();
    let mut child = cmd.process_group(0).spawn().with_context(|| format!("running {program}"))?;
    let group = format!("-{}", child.id());
    let mut signalled: Option<Instant> = None;
    loop {
        if let Some(status) = child.try_wait().with_context(|| format!("waiting for {program}"))? {
            return Ok(status);
        }
        if interrupted() && signalled.is_none() {
            send_signal(&group, "INT");
            signalled = Some(Instant::now());
        }
        if signalled.is_some_and(|at| at.elapsed() > Duration::from_secs(30)) {
            send_signal(&group, "KILL");
            let _ = child.kill();
            return child.wait().with_context(|| format!("waiting for {program}"));
        }
        sleep(POLL);
    }
}

/// Like [`run_interruptible`], but any failure is an error naming `what`.
pub fn run_checked(cmd: &mut Command, what: &str) -> Result<()> {
    let status = run_interruptible(cmd)?;
    bail_if_interrupted()?;
    if !status.success() {
        bail!("{what} failed ({status})");
    }
    Ok(())
}

/// The exit code to pass on for a child's status (128 + signal number when it was killed).
pub fn exit_code(status: ExitStatus) -> u8 {
    let code = status.code().unwrap_or_else(|| 128 + status.signal().unwrap_or(0));
    u8::try_from(code).unwrap_or(1)
}

/// The last `lines` lines of a log file, indented, for error messages.
pub fn tail(path: &Path, lines: usize) -> String {
    let text = match std::fs::read(path) {
        Ok(bytes) => String::from_utf8_lossy(&bytes).into_owned(),
        Err(err) => return format!("    (cannot read {}: {err})", path.display()),
    };
    let all: Vec<&str> = text.lines().collect();
    let start = all.len().saturating_sub(lines);
    all[start..].iter().map(|line| format!("    {line}\n")).collect()
}

fn loopback(port: u16) -> SocketAddr {
    SocketAddr::from((Ipv4Addr::LOCALHOST, port))
}

pub fn tcp_open(port: u16) -> bool {
    TcpStream::connect_timeout(&loopback(port), Duration::from_millis(500)).is_ok()
}

/// `GET path` on 127.0.0.1:port; the status code and body, or `None` if nothing answered.
pub fn http_get(port: u16, path: &str) -> Option<(u16, String)> {
    let mut stream = TcpStream::connect_timeout(&loopback(port), Duration::from_millis(500)).ok()?;
    stream.set_read_timeout(Some(Duration::from_secs(3))).ok()?;
    stream.set_write_timeout(Some(Duration::from_secs(3))).ok()?;
    let request = format!("GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n\r\n");
    stream.write_all(request.as_bytes()).ok()?;
    let mut response = Vec::new();
    // A timeout after the headers still leaves a usable status line.
    let _ = stream.take(1 << 20).read_to_end(&mut response);
    let response = String::from_utf8_lossy(&response);
    let status = response.split(' ').nth(1)?.parse().ok()?;
    let body = response.split_once("\r\n\r\n").map_or("", |(_, body)| body);
    Some((status, body.to_owned()))
}
