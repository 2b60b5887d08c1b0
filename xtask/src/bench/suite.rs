//! `cargo xtask bench [scenario…] [--full|--smoke]`: the scenarios of `ajet-bench` against the
//! release services on throwaway infra, beside Nchan (started here with a generated config
//! on a free port) as the ceiling of live delivery; then *footprint* (idle RSS of each
//! service, start-up to `/readyz`, shutdown with 1,000 streams open). Prints the table and
//! writes `target/bench/<unix time>.json` and `target/bench/latest.md`.

use std::net::{Ipv4Addr, SocketAddr};
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use ajet_bench::load::{Readers, Target};
use ajet_bench::procs::Procs;
use ajet_bench::report::Report;
use ajet_bench::scenarios::{self, Sizes, System};
use ajet_bench::setup::{self, Ajet, Stream};
use anyhow::{Context, Result, bail};

use super::{Started, start};
use crate::infra::free_port;
use crate::process::{Server, stop_all, tcp_open};
use crate::{repo_root, tools};

pub fn run(args: &[String]) -> Result<u8> {
    let full = args.iter().any(|a| a == "--full");
    let smoke = args.iter().any(|a| a == "--smoke");
    let names: Vec<String> = args.iter().filter(|a| !a.starts_with("--")).cloned().collect();
    for name in &names {
        if !scenarios::ALL.contains(&name.as_str()) && name != "footprint" {
            bail!(
                "unknown scenario {name:?}; the scenarios: {}, footprint, streams, search",
                scenarios::ALL.join(", ")
            );
        }
    }
    let limit = ajet_bench::raise_fd_limit()?;
    println!("descriptor limit: {limit}");
    let (nginx, module) = tools::ensure_nchan()?;
    let mut started = start()?;
    let result = (|| {
        let mut nchan = start_nchan(&nginx, &module, &started.logs)?;
        let sizes = if smoke {
            Sizes::smoke()
        } else if full {
            Sizes::full()
        } else {
            Sizes::quick()
        };
        let outcome = suite(&mut started, &nchan, &sizes, full, &names);
        stop_all(std::slice::from_mut(&mut nchan.0));
        outcome
    })();
    stop_all(&mut started.services);
    result.map(|()| 0)
}

fn suite(started: &mut Started, nchan: &(Server, u16), sizes: &Sizes, full: bool, names: &[String]) -> Result<()> {
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
        api: loopback(started.ports[0]),
        nchan: Some(loopback(nchan.1)),
        procs,
        run_id: format!("{}", SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs()) % 100_000),
    };
    let mut report = Report::default();
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().context("a tokio runtime")?;
    let scenario_names: Vec<String> = names.iter().filter(|n| *n != "footprint").cloned().collect();
    let began = Instant::now();
    if names.is_empty() || !scenario_names.is_empty() {
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
                std::sync::Arc::new(Ajet { addr: system.gateway, world, stream: Stream::Tui });
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
