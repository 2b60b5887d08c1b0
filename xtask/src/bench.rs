//! `cargo xtask bench streams [N …] [--secs S]`: what idle event streams cost. Builds the
//! services in release mode, starts them on throwaway infra, signs in one user per stream
//! (dev login), opens N streams through the gateway (`GET /tui/events`, one user each: the
//! worst case for per-credential access checks) and, with nothing else happening, measures
//! over S seconds (default 65: more than one 60 s safety-net period) the api's requests per
//! second, each process's CPU and the gateway's and tui-sm's resident memory per stream.
//! Then it times tui-sm's and the gateway's shutdown with the streams open. Figures are
//! printed, never asserted.
//!
//! `cargo xtask bench search`: search at a million messages (`bench/search.rs`).
//!
//! `cargo xtask bench [scenario…] [--full] [--profile]`: the load generator's scenarios
//! beside their in-run ceilings (`bench/suite.rs`); `--profile` records each scenario with
//! `perf` and writes per-process summaries (`bench/profile.rs`).

mod profile;
mod search;
mod suite;

use std::io::{Read, Write};
use std::net::{Ipv4Addr, SocketAddr, TcpStream};
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};

use crate::dev::target_dir;
use crate::infra::{Infra, S3_ACCESS_KEY, S3_REGION, free_port};
use crate::process::{Server, http_get, run_checked, stop_all};
use crate::test::cargo;
use crate::{bail_if_interrupted, repo_root, tools};

const SERVICES: [&str; 4] = ["ajet-api", "ajet-auth-gw", "ajet-web-sm", "ajet-tui-sm"];

pub fn run(args: &[String]) -> Result<u8> {
    match args.first().map(String::as_str) {
        Some("streams") => streams(&args[1..]),
        Some("search") => search::run(&args[1..]),
        _ => suite::run(args),
    }
}

fn streams(args: &[String]) -> Result<u8> {
    let mut counts = Vec::new();
    let mut secs = 65;
    let mut args = args.iter();
    while let Some(arg) = args.next() {
        if arg == "--secs" {
            secs = args.next().context("--secs needs a number")?.parse().context("--secs needs a number")?;
        } else {
            counts.push(arg.parse::<usize>().with_context(|| format!("not a stream count: {arg}"))?);
        }
    }
    if counts.is_empty() {
        counts = vec![1000, 5000];
    }
    counts.sort_unstable();
    let mut started = start()?;
    let result = measure(&mut started.services, &started.ports, &counts, Duration::from_secs(secs));
    stop_all(&mut started.services);
    result.map(|()| 0)
}

/// The services started on throwaway infra (dropped last).
pub struct Started {
    /// api, gateway, web-sm, tui-sm.
    pub services: Vec<Server>,
    /// Their ports, in the same order.
    pub ports: Vec<u16>,
    /// Each one's time from its start to its first `GET /readyz` → 200.
    pub startup: Vec<Duration>,
    /// Where their logs are.
    pub logs: std::path::PathBuf,
    pub infra: Infra,
}

/// Builds the services in release mode and starts them on throwaway infra (Postgres as
/// durable as in production) with the database `bench`; their ports are api, gateway,
/// web-sm, tui-sm.
fn start() -> Result<Started> {
    let root = repo_root();
    let tools = tools::ensure(&root, tools::Needs::Servers)?;
    build_release()?;
    let infra = Infra::start_throwaway_durable(&tools)?;
    infra.ensure_database("bench")?;
    let mut taken = Vec::new();
    let ports: Vec<u16> = SERVICES.iter().map(|_| free_port(&mut taken)).collect::<Result<_>>()?;
    let [api, gateway, web, tui] = [ports[0], ports[1], ports[2], ports[3]];
    let env = [
        ("AJET_ENV", "dev".to_owned()),
        ("AJET_DATABASE_URL", infra.database_url("bench")),
        ("AJET_NATS_URL", infra.nats_url()),
        ("AJET_S3_ENDPOINT", infra.s3_endpoint()),
        ("AJET_S3_ACCESS_KEY", S3_ACCESS_KEY.to_owned()),
        ("AJET_S3_SECRET_KEY", infra.s3_secret().to_owned()),
        ("AJET_S3_REGION", S3_REGION.to_owned()),
        ("AJET_S3_BUCKET", "ajet".to_owned()),
        ("AJET_COOKIE_SECURE", "false".to_owned()),
        ("AJET_API_LISTEN", format!("127.0.0.1:{api}")),
        ("AJET_GATEWAY_LISTEN", format!("127.0.0.1:{gateway}")),
        ("AJET_WEB_LISTEN", format!("127.0.0.1:{web}")),
        ("AJET_TUI_LISTEN", format!("127.0.0.1:{tui}")),
        ("AJET_API_URL", format!("http://127.0.0.1:{api}")),
        ("AJET_WEB_URL", format!("http://127.0.0.1:{web}")),
        ("AJET_TUI_URL", format!("http://127.0.0.1:{tui}")),
        ("AJET_PUBLIC_URL", format!("http://127.0.0.1:{gateway}")),
    ];
    let bin_dir = target_dir(&root).join("release");
    let logs = std::env::temp_dir().join(format!("ajet-bench-{}", std::process::id()));
    std::fs::create_dir_all(&logs).with_context(|| format!("creating {}", logs.display()))?;
    let mut services = Vec::new();
    let spawned = Instant::now();
    for name in SERVICES {
        let mut cmd = Command::new(bin_dir.join(name));
        cmd.current_dir(&root).envs(env.clone()).envs(BENCH_ENV);
        services.push(Server::spawn(
            name,
            &mut cmd,
            &logs.join(format!("{name}.log")),
            "TERM",
            Duration::from_secs(10),
        )?);
    }
    // All are polled together, so each one's start-up time is when it first answered.
    let mut startup = vec![None; services.len()];
    while startup.iter().any(Option::is_none) {
        bail_if_interrupted()?;
        for ((service, port), up) in services.iter_mut().zip(&ports).zip(startup.iter_mut()) {
            if up.is_none() {
                service.ensure_running()?;
                if http_get(*port, "/readyz").is_some_and(|(status, _)| status == 200) {
                    *up = Some(spawned.elapsed());
                }
            }
        }
        if spawned.elapsed() > Duration::from_secs(120) {
            bail!("the services were not ready within 120 s (logs in {})", logs.display());
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    let startup = startup.into_iter().map(Option::unwrap_or_default).collect();
    Ok(Started { services, ports, startup, logs, infra })
}

/// Builds the services in release mode.
fn build_release() -> Result<()> {
    let mut build = cargo();
    build.current_dir(repo_root()).args(["build", "--release", "--bins"]);
    for package in SERVICES {
        build.args(["-p", package]);
    }
    run_checked(&mut build, "building the services (release)")
}

/// What the benchmark sets beside a stack's usual configuration: one client address signs
/// in thousands of users and holds their streams, so the rate limits are raised; quiet logs.
const BENCH_ENV: [(&str, &str); 4] = [
    ("AJET_LOGIN_RATE_LIMIT_PER_MINUTE", "1000000"),
    ("AJET_RATE_LIMIT_PER_MINUTE", "1000000"),
    ("AJET_LOG", "warn"),
    ("NO_COLOR", "1"),
];

fn measure(services: &mut [Server], ports: &[u16], counts: &[usize], period: Duration) -> Result<()> {
    let (api, gateway) = (ports[0], ports[1]);
    let [api_pid, gateway_pid, _, tui_pid] = [0, 1, 2, 3].map(|i| services[i].pid());
    let baseline = [rss_kib(gateway_pid)?, rss_kib(tui_pid)?];
    println!("idle streams, one user each, measured over {} s after all are open:", period.as_secs());
    println!(
        "{:>7} {:>10} {:>9} {:>9} {:>9} {:>15} {:>15}",
        "streams", "api req/s", "api CPU", "gw CPU", "tui CPU", "gw KiB/stream", "tui KiB/stream"
    );
    let mut streams = Vec::new();
    for &count in counts {
        while streams.len() < count {
            bail_if_interrupted()?;
            let token = login(gateway, &format!("bench-{}", streams.len()))?;
            streams.push(open_stream(gateway, &token)?);
        }
        let requests = api_requests(api)?;
        let cpu = [cpu_ticks(api_pid)?, cpu_ticks(gateway_pid)?, cpu_ticks(tui_pid)?];
        let started = Instant::now();
        while started.elapsed() < period {
            bail_if_interrupted()?;
            for service in services.iter_mut() {
                service.ensure_running()?;
            }
            std::thread::sleep(Duration::from_millis(200));
        }
        let secs = started.elapsed().as_secs_f64();
        let rate = (api_requests(api)? - requests) / secs;
        let cores = |pid: u32, before: u64| -> Result<f64> { Ok((cpu_ticks(pid)? - before) as f64 / 100.0 / secs) };
        let per_stream =
            |pid: u32, base: u64| -> Result<f64> { Ok(rss_kib(pid)?.saturating_sub(base) as f64 / count as f64) };
        println!(
            "{count:>7} {rate:>10.1} {:>9.3} {:>9.3} {:>9.3} {:>15.1} {:>15.1}",
            cores(api_pid, cpu[0])?,
            cores(gateway_pid, cpu[1])?,
            cores(tui_pid, cpu[2])?,
            per_stream(gateway_pid, baseline[0])?,
            per_stream(tui_pid, baseline[1])?,
        );
    }
    println!(
        "(`api req/s` is every request the api served; CPU in cores; memory is resident set growth over the idle processes)"
    );
    // Shutdown with every stream open: tui-sm ends them all with a `retry:` hint, then the
    // gateway (whose proxied streams have ended by then).
    let tui = services[3].stop_timed();
    let gateway = services[1].stop_timed();
    println!(
        "shutdown with {} streams open: tui-sm {:.0} ms, then the gateway {:.0} ms (10 s is the guard)",
        streams.len(),
        tui.as_secs_f64() * 1e3,
        gateway.as_secs_f64() * 1e3
    );
    Ok(())
}

fn loopback(port: u16) -> SocketAddr {
    SocketAddr::from((Ipv4Addr::LOCALHOST, port))
}

/// Dev login as `username`; the session token.
fn login(port: u16, username: &str) -> Result<String> {
    let body = format!(r#"{{"username":"{username}"}}"#);
    let mut stream = TcpStream::connect(loopback(port)).context("connecting to the gateway")?;
    let request = format!(
        "POST /auth/dev-login HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    stream.write_all(request.as_bytes())?;
    let mut response = String::new();
    stream.read_to_string(&mut response)?;
    let token = response
        .split_once(r#""token":""#)
        .and_then(|(_, rest)| rest.split_once('"'))
        .map(|(token, _)| token.to_owned())
        .with_context(|| format!("no token in the dev login's answer: {response}"))?;
    Ok(token)
}

/// An open `GET /tui/events` through the gateway, its headers read.
fn open_stream(port: u16, token: &str) -> Result<TcpStream> {
    let mut stream = TcpStream::connect(loopback(port)).context("connecting to the gateway")?;
    let request = format!(
        "GET /tui/events HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nAuthorization: Bearer {token}\r\nAccept: text/event-stream\r\n\r\n"
    );
    stream.write_all(request.as_bytes())?;
    stream.set_read_timeout(Some(Duration::from_secs(10)))?;
    let mut head = Vec::new();
    let mut byte = [0_u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        stream.read_exact(&mut byte).context("reading a stream's headers")?;
        head.push(byte[0]);
    }
    let head = String::from_utf8_lossy(&head);
    if !head.starts_with("HTTP/1.1 200") {
        bail!("a stream was refused: {head}");
    }
    Ok(stream)
}

/// The api's `http_requests_total`, summed over its labels.
fn api_requests(port: u16) -> Result<f64> {
    let (_, metrics) = http_get(port, "/metrics").context("the api's /metrics")?;
    Ok(metrics
        .lines()
        .filter(|line| line.starts_with("http_requests_total"))
        .filter_map(|line| line.rsplit(' ').next()?.parse::<f64>().ok())
        .sum())
}

/// User plus system CPU time of `pid`, in clock ticks (1/100 s).
fn cpu_ticks(pid: u32) -> Result<u64> {
    let stat = std::fs::read_to_string(Path::new("/proc").join(pid.to_string()).join("stat"))?;
    let fields: Vec<&str> = stat.rsplit_once(')').map_or("", |(_, rest)| rest).split_whitespace().collect();
    let field = |i: usize| fields.get(i).and_then(|v| v.parse::<u64>().ok()).context("a /proc stat field");
    // After the command name: state is 0, utime 11, stime 12.
    Ok(field(11)? + field(12)?)
}

/// Resident memory of `pid` in KiB.
fn rss_kib(pid: u32) -> Result<u64> {
    let status = std::fs::read_to_string(Path::new("/proc").join(pid.to_string()).join("status"))?;
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .context("VmRSS in /proc status")
}
