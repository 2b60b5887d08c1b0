//! `cargo xtask bench [scenario…] [--full|--smoke] [--profile]`: the scenarios of `ajet-bench` against the
//! release services on throwaway infra, beside Nchan (started here with a generated config
//! on a free port) as the ceiling of live delivery; then *footprint* (idle RSS of each
//! service, start-up to `/readyz`, shutdown with 1,000 streams open). *history* loads its
//! corpus with the search bench's `bench_search.sql`. Prints the table and writes
//! `target/bench/<unix time>.json` and `target/bench/latest.md`.
//!
//! `cargo xtask bench latency --cluster`: *latency* against `cargo xtask cluster`'s shape
//! (`cluster::start`, release binaries), spread over both gateways.

use std::ffi::OsString;
use std::net::{Ipv4Addr, SocketAddr};
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use ajet_bench::load::{Readers, Target};
use ajet_bench::procs::Procs;
use ajet_bench::report::Report;
use ajet_bench::scenarios::{self, ChannelId, HistoryCorpus, HistoryLoader, MessageId, Sizes, System};
use ajet_bench::setup::{self, Ajet, Stream};
use anyhow::{Context, Result, bail};

use super::{Started, profile, start};
use crate::cluster::Cluster;
use crate::dev::target_dir;
use crate::infra::free_port;
use crate::process::{Server, run_checked, stop_all, tcp_open};
use crate::{repo_root, tools};

pub fn run(args: &[String]) -> Result<u8> {
    let full = args.iter().any(|a| a == "--full");
    let smoke = args.iter().any(|a| a == "--smoke");
    let on_cluster = args.iter().any(|a| a == "--cluster");
    let profile = args.iter().any(|a| a == "--profile");
    for flag in args.iter().filter(|a| a.starts_with("--")) {
        if !matches!(flag.as_str(), "--full" | "--smoke" | "--cluster" | "--profile") {
            bail!("unknown option {flag:?}; the options: --full, --smoke, --cluster, --profile");
        }
    }
    let names: Vec<String> = args.iter().filter(|a| !a.starts_with("--")).cloned().collect();
    for name in &names {
        if !scenarios::ALL.contains(&name.as_str()) && name != "footprint" {
            bail!(
                "unknown scenario {name:?}; the scenarios: {}, footprint, streams, search",
                scenarios::ALL.join(", ")
            );
        }
    }
    if on_cluster && names.iter().any(|name| name != "latency") {
        bail!("--cluster runs the latency scenario only: `cargo xtask bench latency --cluster`");
    }
    if profile && on_cluster {
        bail!("--profile profiles the single-instance stack; leave out --cluster");
    }
    if profile {
        profile::ensure_perf()?;
    }
    let limit = ajet_bench::raise_fd_limit()?;
    println!("descriptor limit: {limit}");
    let (nginx, module) = tools::ensure_nchan()?;
    let sizes = if smoke {
        Sizes::smoke()
    } else if full {
        Sizes::full()
    } else {
        Sizes::quick()
    };
    println!(
        "expected duration: about {} min after the release build ({} sizes; a rough estimate from earlier runs on 2 cores)",
        sizes.expected(&names).as_secs().div_ceil(60),
        if smoke {
            "smoke"
        } else if full {
            "--full"
        } else {
            "quick"
        }
    );
    if on_cluster {
        return cluster_latency(&nginx, &module, &sizes, full);
    }
    let mut started = start()?;
    let result = (|| {
        let mut nchan = start_nchan(&nginx, &module, &started.logs)?;
        let outcome = suite(&mut started, &nchan, &sizes, full, profile, &names);
        stop_all(std::slice::from_mut(&mut nchan.0));
        outcome
    })();
    stop_all(&mut started.services);
    result.map(|()| 0)
}

fn suite(
    started: &mut Started,
    nchan: &(Server, u16),
    sizes: &Sizes,
    full: bool,
    profile: bool,
    names: &[String],
) -> Result<()> {
    let loopback = |port: u16| SocketAddr::from((Ipv4Addr::LOCALHOST, port));
    let (postgres, nats) = started.infra.pids();
    let names_pids = ["api", "gateway", "web-sm", "tui-sm"];
    let mut procs: Vec<(String, u32, bool)> =
        names_pids.iter().zip(&started.services).map(|(name, s)| ((*name).to_owned(), s.pid(), false)).collect();
    procs.push(("postgres".to_owned(), postgres, true));
    if let Some(nats) = nats {
        procs.push(("nats".to_owned(), nats, false));
    }
    procs.push(("nchan".to_owned(), nchan.0.pid(), true));
    let procs = Procs(procs);
    let idle = procs.sample();
    let system = System {
        gateway: loopback(started.ports[1]),
        other_gateways: Vec::new(),
        api: loopback(started.ports[0]),
        database_url: Some(started.infra.database_url("bench")),
        nats_url: Some(started.infra.nats_url()),
        history_loader: Some(history_loader(&started.infra.psql("bench"), started.ports[1])),
        nchan: Some(loopback(nchan.1)),
        procs,
        run_id: format!("{}", SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs()) % 100_000),
    };
    let mut report = Report::default();
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().context("a tokio runtime")?;
    let scenario_names: Vec<String> = names.iter().filter(|n| *n != "footprint").cloned().collect();
    let began = Instant::now();
    if profile {
        // One recording per scenario, so each profile is of its own load.
        let each: Vec<&str> = scenarios::ALL
            .iter()
            .copied()
            .filter(|n| names.is_empty() || scenario_names.iter().any(|s| s == n))
            .collect();
        for name in each {
            let recording = profile::start(&repo_root(), name)?;
            let outcome = runtime.block_on(scenarios::run(&system, sizes, &[name.to_owned()], &mut report));
            recording.finish(&system.procs, &["gateway", "api", "tui-sm", "web-sm", "postgres", "nats", "nchan"])?;
            outcome?;
        }
    } else if names.is_empty() || !scenario_names.is_empty() {
        runtime.block_on(scenarios::run(&system, sizes, &scenario_names, &mut report))?;
    }
    if names.is_empty() || names.iter().any(|n| n == "footprint") {
        println!("footprint:");
        let mut total = 0.0;
        for (name, startup) in names_pids.iter().zip(&started.startup) {
            let rss = idle.get(name).map(|s| s.rss_kib as f64 / 1024.0);
            total += rss.unwrap_or(0.0);
            report.row("footprint", &format!("{name} idle RSS"), "MiB", rss, None, "");
            report.row(
                "footprint",
                &format!("{name} start-up to /readyz"),
                "ms",
                Some(startup.as_secs_f64() * 1e3),
                None,
                "",
            );
        }
        report.row(
            "footprint",
            "all services idle RSS",
            "MiB",
            Some(total),
            idle.get("nchan").map(|s| s.rss_kib as f64 / 1024.0),
            "≤ 150 MB",
        );
        // Shutdown with 1,000 streams open: tui-sm, then the gateway.
        let streams = runtime.block_on(async {
            let world =
                setup::world(&format!("http://{}", system.gateway), &format!("b{}-shut", system.run_id), 1, 1000)
                    .await?;
            let target: std::sync::Arc<dyn Target> =
                std::sync::Arc::new(Ajet { addrs: vec![system.gateway], world, stream: Stream::Tui });
            Readers::open(&target, 1000, 200).await
        })?;
        let tui = started.services[3].stop_timed();
        let gateway = started.services[1].stop_timed();
        report.row(
            "footprint",
            &format!("shutdown with {} streams: tui-sm", streams.len()),
            "ms",
            Some(tui.as_secs_f64() * 1e3),
            None,
            "≤ 10 s",
        );
        report.row("footprint", "  then the gateway", "ms", Some(gateway.as_secs_f64() * 1e3), None, "≤ 10 s");
        report.row(
            "footprint",
            "  streams the shutdown ended",
            "",
            Some(streams.ended() as f64),
            Some(streams.len() as f64),
            "all",
        );
        streams.close();
    }
    report.note(format!(
        "whole run: {:.0} s; sizes: {}",
        began.elapsed().as_secs_f64(),
        if full { "--full" } else { "quick" }
    ));
    // Where Postgres' time went over the whole run (the library is preloaded by the
    // harness; the view needs the extension in this database).
    let top = started.infra.psql("bench").args([
        "-tA",
        "-c",
        "CREATE EXTENSION IF NOT EXISTS pg_stat_statements",
        "-c",
        "SELECT round(total_exec_time) || ' ms | ' || calls || ' calls | ' || round((total_exec_time / calls)::numeric, 3) || ' ms each | ' || left(regexp_replace(query, '\\s+', ' ', 'g'), 110)
         FROM pg_stat_statements ORDER BY total_exec_time DESC LIMIT 12",
    ]).output();
    if let Ok(out) = top {
        println!(
            "Postgres, the statements that took the most time over the run:\n{}",
            String::from_utf8_lossy(&out.stdout)
        );
    }
    write_report(&report)
}

/// *latency* against the cluster of `cargo xtask cluster` (its start code, release
/// binaries, the benchmark's raised limits): readers and publishers spread over both
/// gateways, Nchan beside it as in the single-instance run.
fn cluster_latency(nginx: &Path, module: &Path, sizes: &Sizes, full: bool) -> Result<u8> {
    super::build_release()?;
    let env: Vec<(&str, String)> = super::BENCH_ENV.iter().map(|(key, value)| (*key, (*value).to_owned())).collect();
    let mut cluster = crate::cluster::start(&target_dir(&repo_root()).join("release"), &env)?;
    let result = (|| {
        let mut nchan = start_nchan(nginx, module, &cluster.infra.logs())?;
        let loopback = |port: u16| SocketAddr::from((Ipv4Addr::LOCALHOST, port));
        let mut procs: Vec<(String, u32, bool)> =
            cluster.pids().into_iter().map(|(name, pid)| (name.clone(), pid, name == "postgres")).collect();
        procs.push(("nchan".to_owned(), nchan.0.pid(), true));
        let gateways = cluster.gateway_ports();
        let system = System {
            gateway: loopback(gateways[0]),
            other_gateways: gateways[1..].iter().map(|port| loopback(*port)).collect(),
            api: loopback(Cluster::api_port(0)),
            database_url: Some(cluster.database_url()),
            nats_url: Some(crate::cluster::nats_urls()),
            history_loader: None,
            nchan: Some(loopback(nchan.1)),
            procs: Procs(procs),
            run_id: format!("{}", SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs()) % 100_000),
        };
        let mut report = Report::default();
        let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().context("a tokio runtime")?;
        let began = Instant::now();
        let outcome = runtime.block_on(scenarios::run(&system, sizes, &["latency".to_owned()], &mut report));
        stop_all(std::slice::from_mut(&mut nchan.0));
        outcome?;
        report.note(format!(
            "cluster: 2 gateways, 2 api, 2 web-sm, 2 tui-sm over a 3-node NATS cluster (stream R3), one Postgres; whole run {:.0} s; sizes: {}",
            began.elapsed().as_secs_f64(),
            if full { "--full" } else { "quick" }
        ));
        write_report(&report)
    })();
    cluster.stop();
    result.map(|()| 0)
}

/// Prints the table and writes it as `target/bench/<unix time>.json` and `latest.md`.
fn write_report(report: &Report) -> Result<()> {
    println!("\n{}", report.table());
    let dir = repo_root().join("target/bench");
    std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
    let stamp = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs());
    let json = dir.join(format!("{stamp}.json"));
    std::fs::write(&json, serde_json::to_string_pretty(&report.json())?)
        .with_context(|| format!("writing {}", json.display()))?;
    std::fs::write(dir.join("latest.md"), report.markdown()).context("writing latest.md")?;
    println!("written: {} and {}", json.display(), dir.join("latest.md").display());
    Ok(())
}

/// *history*'s bulk loader: signs `bench` in through the gateway at `gateway` (which makes
/// the user), loads the search corpus (`bench_search.sql`) with every message in one public
/// channel, and answers the channel, 2,000 of its messages in random order as cursors, and
/// the token. `psql` is the command to run psql against the bench database with.
fn history_loader(psql: &Command, gateway: u16) -> HistoryLoader {
    let program = psql.get_program().to_owned();
    let args: Vec<OsString> = psql.get_args().map(ToOwned::to_owned).collect();
    let envs: Vec<(OsString, Option<OsString>)> =
        psql.get_envs().map(|(k, v)| (k.to_owned(), v.map(ToOwned::to_owned))).collect();
    let psql = move || {
        let mut cmd = Command::new(&program);
        cmd.args(&args);
        for (key, value) in &envs {
            match value {
                Some(value) => cmd.env(key, value),
                None => cmd.env_remove(key),
            };
        }
        cmd
    };
    let run = psql.clone();
    let query = move |sql: &str| -> Result<String> {
        let out = psql().args(["-tA", "-c", sql]).output().context("running psql")?;
        if !out.status.success() {
            bail!("psql failed: {}", String::from_utf8_lossy(&out.stderr).trim());
        }
        Ok(String::from_utf8_lossy(&out.stdout).trim().to_owned())
    };
    Box::new(move |messages| {
        let token = super::login(gateway, "bench")?;
        let corpus = repo_root().join("xtask/src/bench_search.sql");
        run_checked(
            run().args(["-v", &format!("messages={messages}"), "-v", "channels=1", "-f"]).arg(&corpus),
            "loading the history corpus",
        )?;
        let channel = query(
            "SELECT ch.id FROM channels ch JOIN communities c ON c.id = ch.community_id
             WHERE c.slug = 'bench' AND ch.name = 'chan1'",
        )?;
        let cursors =
            query(&format!("SELECT id FROM messages WHERE channel_id = '{channel}' ORDER BY random() LIMIT 2000"))?
                .lines()
                .map(|id| id.parse::<MessageId>().map_err(|e| anyhow::anyhow!("a message id {id:?}: {e}")))
                .collect::<Result<Vec<_>>>()?;
        Ok(HistoryCorpus {
            channel: channel.parse::<ChannelId>().map_err(|e| anyhow::anyhow!("a channel id {channel:?}: {e}"))?,
            token,
            cursors,
            messages,
        })
    })
}

/// nginx with Nchan on a free port, its files under `logs`: `/pub/<id>` publishes,
/// `/sub/<id>` is an EventSource stream.
fn start_nchan(nginx: &Path, module: &Path, logs: &Path) -> Result<(Server, u16)> {
    let port = free_port(&mut Vec::new())?;
    let dir = logs.join("nchan");
    std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
    let d = dir.display();
    let conf = format!(
        "load_module {module};
worker_processes 1;
worker_rlimit_nofile 40000;
daemon off;
pid {d}/nginx.pid;
error_log {d}/error.log warn;
events {{ worker_connections 30000; }}
http {{
  access_log off;
  client_body_temp_path {d}/body;
  proxy_temp_path {d}/proxy;
  fastcgi_temp_path {d}/fastcgi;
  uwsgi_temp_path {d}/uwsgi;
  scgi_temp_path {d}/scgi;
  client_body_buffer_size 64k;
  keepalive_requests 1000000;
  server {{
    listen 127.0.0.1:{port} backlog=4096;
    location ~ ^/pub/(\\w+)$ {{ nchan_publisher; nchan_channel_id $1; }}
    location ~ ^/sub/(\\w+)$ {{ nchan_subscriber eventsource; nchan_channel_id $1; }}
  }}
}}
",
        module = module.display()
    );
    let conf_path = dir.join("nginx.conf");
    std::fs::write(&conf_path, conf).with_context(|| format!("writing {}", conf_path.display()))?;
    let mut cmd = Command::new(nginx);
    cmd.arg("-p").arg(&dir).arg("-e").arg(dir.join("error.log")).arg("-c").arg(&conf_path);
    let mut server = Server::spawn("nchan", &mut cmd, &logs.join("nchan.log"), "TERM", Duration::from_secs(10))?;
    server.wait_until("its port open", Duration::from_secs(20), || tcp_open(port))?;
    Ok((server, port))
}
