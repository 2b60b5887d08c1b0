//! `cargo xtask cluster`: the scaled-out shape on one machine — a three-node NATS cluster
//! with JetStream (the stream at three replicas), one Postgres, S3, and two instances of
//! each service: two api, two web-sm, two tui-sm (each session manager reading the api
//! instance of its number) and two gateways, each spreading requests over both instances
//! of every service (`api_urls`, `web_urls`, `tui_urls`). Data is throwaway; Ctrl-C stops
//! the services, then NATS, then Postgres and S3, and removes it. `start` is also what
//! `cargo xtask bench latency --cluster` runs the *latency* scenario against.

use std::path::Path;
use std::process::Command;
use std::thread::sleep;
use std::time::Duration;

use anyhow::{Result, bail};

use crate::dev::target_dir;
use crate::infra::{Infra, S3_ACCESS_KEY, S3_REGION};
use crate::process::{Server, http_get, run_checked, stop_all, tcp_open};
use crate::test::cargo;
use crate::{interrupted, repo_root, tools};

const DATABASE: &str = "ajet";
/// Instances of each service.
const INSTANCES: u16 = 2;
/// Gateway, api, web-sm and tui-sm of instance `n` listen on `BASE_PORT + 10 n + 0..=3`
/// (8180-8183, 8190-8193): clear of `cargo xtask dev`'s 8080-8083.
const BASE_PORT: u16 = 8180;
/// NATS node `n`: clients on `14322 + n`, routes on `14422 + n`, monitoring on `14522 + n`.
const NATS_CLIENT_PORT: u16 = 14322;
const NATS_ROUTE_PORT: u16 = 14422;
const NATS_HTTP_PORT: u16 = 14522;
const NATS_NODES: u16 = 3;

/// The four services of one instance number: (binary, port offset, listen key).
const SERVICES: [(&str, u16, &str); 4] = [
    ("ajet-api", 1, "AJET_API_LISTEN"),
    ("ajet-web-sm", 2, "AJET_WEB_LISTEN"),
    ("ajet-tui-sm", 3, "AJET_TUI_LISTEN"),
    ("ajet-auth-gw", 0, "AJET_GATEWAY_LISTEN"),
];

fn port(instance: u16, offset: u16) -> u16 {
    BASE_PORT + 10 * instance + offset
}

fn url(port: u16) -> String {
    format!("http://127.0.0.1:{port}")
}

/// The URLs of every instance of the service at `offset`, as a TOML/JSON list, starting
/// with instance `first`'s (a session manager uses the first api until it refuses a
/// connection; the gateway takes the list in any order).
fn url_list(offset: u16, first: u16) -> String {
    let urls: Vec<String> =
        (0..INSTANCES).map(|n| format!("\"{}\"", url(port((first + n) % INSTANCES, offset)))).collect();
    format!("[{}]", urls.join(","))
}

/// Every NATS node's client URL, comma-separated (the services' `nats_url`).
pub fn nats_urls() -> String {
    (0..NATS_NODES).map(|n| format!("nats://127.0.0.1:{}", NATS_CLIENT_PORT + n)).collect::<Vec<_>>().join(",")
}

/// Starts node `n` of the NATS cluster: JetStream, a server name of its own (JetStream's
/// cluster needs one), routes to the other nodes.
fn start_nats_node(nats_server: &Path, root: &Path, logs: &Path, n: u16) -> Result<Server> {
    let routes: Vec<String> = (0..NATS_NODES)
        .filter(|other| *other != n)
        .map(|other| format!("nats://127.0.0.1:{}", NATS_ROUTE_PORT + other))
        .collect();
    Server::spawn(
        &format!("nats-{n}"),
        Command::new(nats_server)
            .args(["-js", "-n", &format!("ajet-nats-{n}"), "-a", "127.0.0.1"])
            .args(["-p", &(NATS_CLIENT_PORT + n).to_string(), "-m", &(NATS_HTTP_PORT + n).to_string()])
            .args(["--cluster_name", "ajet", "--cluster", &format!("nats://127.0.0.1:{}", NATS_ROUTE_PORT + n)])
            .args(["--routes", &routes.join(",")])
            .arg("-sd")
            .arg(root.join(format!("nats-{n}"))),
        &logs.join(format!("nats-{n}.log")),
        "TERM",
        Duration::from_secs(10),
    )
}

/// The cluster, started: every service instance with its port, the NATS nodes, and the
/// infra (dropped last: it stops Postgres and S3 and removes the data).
pub struct Cluster {
    /// Per instance number: api, web-sm, tui-sm, gateway (the order of `SERVICES`).
    pub services: Vec<(u16, Server)>,
    pub nats: Vec<Server>,
    pub infra: Infra,
}

impl Cluster {
    /// The gateways' ports, instance 0 first.
    #[must_use]
    pub fn gateway_ports(&self) -> Vec<u16> {
        (0..INSTANCES).map(|n| port(n, 0)).collect()
    }

    /// The api of instance `n`.
    #[must_use]
    pub fn api_port(n: u16) -> u16 {
        port(n, 1)
    }

    /// The database the services use.
    #[must_use]
    pub fn database_url(&self) -> String {
        self.infra.database_url(DATABASE)
    }

    /// Every process by name (`api-0`, `gateway-1`, `nats-2`, `postgres`, …) and pid.
    #[must_use]
    pub fn pids(&self) -> Vec<(String, u32)> {
        let mut out: Vec<(String, u32)> = self.services.iter().map(|(_, s)| (s.name().to_owned(), s.pid())).collect();
        out.extend(self.nats.iter().map(|node| (node.name().to_owned(), node.pid())));
        out.push(("postgres".to_owned(), self.infra.pids().0));
        out
    }

    /// Stops the services, then the NATS nodes (the infra stops when dropped).
    pub fn stop(&mut self) {
        stop_all(self.services.iter_mut().map(|(_, service)| service));
        stop_all(&mut self.nats);
    }
}

/// Starts the cluster from the binaries in `bin_dir` (debug for `cargo xtask cluster`, release
/// for `cargo xtask bench --cluster`), `env` added to every service's environment (and
/// overriding the defaults here).
pub fn start(bin_dir: &Path, env: &[(&str, String)]) -> Result<Cluster> {
    let root = repo_root();
    let tools = tools::ensure(&root, tools::Needs::Servers)?;
    let busy: Vec<u16> = (0..INSTANCES)
        .flat_map(|n| (0..4).map(move |offset| port(n, offset)))
        .chain((0..NATS_NODES).flat_map(|n| [NATS_CLIENT_PORT + n, NATS_ROUTE_PORT + n, NATS_HTTP_PORT + n]))
        .filter(|port| tcp_open(*port))
        .collect();
    if !busy.is_empty() {
        bail!("127.0.0.1 port(s) {busy:?} already in use — is another `cargo xtask cluster` running?");
    }

    let infra = Infra::start_throwaway_without_nats(&tools)?;
    infra.ensure_database(DATABASE)?;
    let logs = infra.logs();
    let mut nats = (0..NATS_NODES)
        .map(|n| start_nats_node(&tools.nats_server, infra.root(), &logs, n))
        .collect::<Result<Vec<_>>>()?;
    for (n, node) in (0..NATS_NODES).zip(nats.iter_mut()) {
        // 200 once the node's JetStream is current with the cluster's meta leader.
        node.wait_until("GET /healthz → 200", Duration::from_secs(60), || {
            http_get(NATS_HTTP_PORT + n, "/healthz").is_some_and(|(status, _)| status == 200)
        })?;
    }

    let cookie_key = random_cookie_key()?;
    let common = [
        ("AJET_ENV", "dev".to_owned()),
        ("AJET_DATABASE_URL", infra.database_url(DATABASE)),
        ("AJET_NATS_URL", nats_urls()),
        ("AJET_STREAM_REPLICAS", "3".to_owned()),
        ("AJET_S3_ENDPOINT", infra.s3_endpoint()),
        ("AJET_S3_ACCESS_KEY", S3_ACCESS_KEY.to_owned()),
        ("AJET_S3_SECRET_KEY", infra.s3_secret().to_owned()),
        ("AJET_S3_REGION", S3_REGION.to_owned()),
        ("AJET_S3_BUCKET", "ajet".to_owned()),
        ("AJET_COOKIE_SECURE", "false".to_owned()),
        ("AJET_COOKIE_KEY", cookie_key),
        ("AJET_WEB_URLS", url_list(2, 0)),
        ("AJET_TUI_URLS", url_list(3, 0)),
        ("AJET_LOG", "info".to_owned()),
        ("NO_COLOR", "1".to_owned()),
        ("RUST_LIB_BACKTRACE", "0".to_owned()),
    ];
    // On an error, the servers started so far are stopped as they are dropped.
    let mut services = Vec::new();
    for n in 0..INSTANCES {
        for (name, offset, listen_key) in SERVICES {
            let mut cmd = Command::new(bin_dir.join(name));
            cmd.current_dir(&root)
                .envs(common.clone())
                .envs(env.iter().cloned())
                .env(listen_key, format!("127.0.0.1:{}", port(n, offset)))
                // A session manager reads the api instance of its own number, and the
                // others while that one refuses connections.
                .env("AJET_API_URL", url(port(n, 1)))
                .env("AJET_API_URLS", url_list(1, n))
                .env("AJET_PUBLIC_URL", format!("http://localhost:{}", port(n, 0)));
            services.push((
                port(n, offset),
                Server::spawn(
                    &format!("{name}-{n}"),
                    &mut cmd,
                    &logs.join(format!("{name}-{n}.log")),
                    "TERM",
                    Duration::from_secs(12),
                )?,
            ));
        }
    }
    for (port, service) in &mut services {
        let port = *port;
        service.wait_until("GET /readyz → 200", Duration::from_secs(120), || {
            http_get(port, "/readyz").is_some_and(|(status, _)| status == 200)
        })?;
    }
    Ok(Cluster { services, nats, infra })
}

pub fn run() -> Result<u8> {
    let root = repo_root();
    // As `cargo xtask dev` builds (the CLI too), so the two share their build.
    let mut build = cargo();
    build.current_dir(&root).args(["build", "--bins"]);
    for (package, _, _) in SERVICES {
        build.args(["-p", package]);
    }
    build.args(["-p", "ajet-cli"]);
    run_checked(&mut build, "building the services and the CLI")?;
    let mut cluster = start(&target_dir(&root).join("debug"), &[])?;
    let logs = cluster.infra.logs();

    println!("\najet-chat runs as a cluster: open http://localhost:{} or http://localhost:{}", port(0, 0), port(1, 0));
    for n in 0..INSTANCES {
        let ports: Vec<String> =
            SERVICES.iter().map(|(name, offset, _)| format!("{name} :{}", port(n, *offset))).collect();
        println!("  instance {n}: {}", ports.join(" · "));
    }
    println!("  nats cluster  {} (JetStream stream at 3 replicas)", nats_urls());
    println!("  infra         {}", cluster.infra.summary());
    println!("  logs          {}/ · Ctrl-C stops everything and removes the data\n", logs.display());

    let Cluster { services, nats, infra } = &mut cluster;
    let watched = watch(services, nats, infra);
    println!("xtask: stopping the services and the NATS cluster…");
    cluster.stop();
    watched.map(|()| 0)
}

/// Returns on Ctrl-C (Ok) or when any process dies (Err with its log tail).
fn watch(services: &mut [(u16, Server)], nats: &mut [Server], infra: &mut Infra) -> Result<()> {
    while !interrupted() {
        for (_, service) in services.iter_mut() {
            service.ensure_running()?;
        }
        for node in nats.iter_mut() {
            node.ensure_running()?;
        }
        infra.ensure_running()?;
        sleep(Duration::from_millis(200));
    }
    Ok(())
}

/// 64 random bytes in base64 (coreutils), the `cookie_key` both gateways share so a login
/// started through one can finish through the other.
fn random_cookie_key() -> Result<String> {
    let out = Command::new("sh").args(["-c", "head -c 64 /dev/urandom | base64 -w0"]).output()?;
    let key = String::from_utf8(out.stdout)?;
    if !out.status.success() || key.len() < 86 {
        bail!("could not make a cookie key with `head -c 64 /dev/urandom | base64 -w0`");
    }
    Ok(key)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_instance_has_ports_of_its_own() {
        let mut ports: Vec<u16> = (0..INSTANCES).flat_map(|n| (0..4).map(move |offset| port(n, offset))).collect();
        ports.sort_unstable();
        ports.dedup();
        assert_eq!(ports.len(), usize::from(INSTANCES) * 4);
        assert_eq!(url_list(1, 0), r#"["http://127.0.0.1:8181","http://127.0.0.1:8191"]"#);
        assert_eq!(url_list(1, 1), r#"["http://127.0.0.1:8191","http://127.0.0.1:8181"]"#, "instance 1's api first");
    }
}
