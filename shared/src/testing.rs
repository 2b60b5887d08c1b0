//! Test harness over the real infrastructure `cargo xtask test` starts: a fresh database per
//! test (cloned from a migrated template), private nats-server processes (alone or as a
//! cluster) that a test may stop and restart, the S3 settings, and a ready-made `Config` on ephemeral ports.

use std::io::{BufRead as _, BufReader};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use sqlx::Connection as _;
use sqlx::postgres::PgConnection;

use crate::config::{Config, Environment, Secret};
use crate::db::{MIGRATOR, PgPool};

fn var(name: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| panic!("{name} is not set: run the tests through `cargo xtask test`"))
}

/// A database of its own for one test.
pub struct TestDb {
    pub pool: PgPool,
    pub url: String,
}

/// Creates a fresh, migrated database. The first caller in a test run builds a template
/// (named after the migrations' checksums, so a schema change gets a new one); every test
/// then clones it, which is much faster than migrating.
pub async fn fresh_database() -> TestDb {
    // Every test starts here or at `config`: make plain `reqwest` clients usable too.
    crate::client::install_crypto_provider();
    let admin_url = var("AJET_TEST_DATABASE_URL");
    let mut admin = PgConnection::connect(&admin_url).await.expect("connect to the test Postgres");
    let fingerprint: u64 = MIGRATOR
        .iter()
        .flat_map(|m| m.checksum.iter().copied())
        .fold(0xcbf2_9ce4_8422_2325, |h, b| (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3));
    let template = format!("ajet_template_{fingerprint:016x}");
    sqlx::query("SELECT pg_advisory_lock(7001)").execute(&mut admin).await.expect("template lock");
    let exists: bool = sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)")
        .bind(&template)
        .fetch_one(&mut admin)
        .await
        .expect("look up the template");
    if !exists {
        sqlx::query(&format!("CREATE DATABASE \"{template}\"")).execute(&mut admin).await.expect("create the template");
        let mut conn =
            PgConnection::connect(&with_database(&admin_url, &template)).await.expect("connect to the template");
        MIGRATOR.run(&mut conn).await.expect("migrations apply to an empty database");
        // Lets tests count the statements an endpoint issues (the server preloads it).
        sqlx::query("CREATE EXTENSION IF NOT EXISTS pg_stat_statements")
            .execute(&mut conn)
            .await
            .expect("pg_stat_statements");
        conn.close().await.expect("close the template connection");
    }
    sqlx::query("SELECT pg_advisory_unlock(7001)").execute(&mut admin).await.expect("template unlock");
    let name = format!("test_{}", uuid::Uuid::now_v7().simple());
    sqlx::query(&format!("CREATE DATABASE \"{name}\" TEMPLATE \"{template}\""))
        .execute(&mut admin)
        .await
        .expect("clone the template");
    let url = with_database(&admin_url, &name);
    let pool = crate::db::connect_lazy(&url, 10).expect("pool options are valid");
    TestDb { pool, url }
}

fn with_database(url: &str, database: &str) -> String {
    let (base, _) = url.rsplit_once('/').expect("a database URL ends in /<database>");
    format!("{base}/{database}")
}

/// A nats-server with JetStream owned by one test, on its own port and store directory.
/// `stop` and `start` keep both, so a restart finds the stream and its messages again.
pub struct NatsServer {
    port: u16,
    store: PathBuf,
    child: Option<Child>,
}

impl NatsServer {
    pub fn start() -> Self {
        let root = PathBuf::from(var("AJET_TEST_TMPDIR"));
        let store = root.join(format!("nats-{}", uuid::Uuid::now_v7().simple()));
        std::fs::create_dir_all(&store).expect("create the nats store dir");
        let mut server = Self { port: restartable_port(), store, child: None };
        server.resume();
        server
    }

    #[must_use]
    pub fn url(&self) -> String {
        format!("nats://127.0.0.1:{}", self.port)
    }

    /// Starts the server again after `stop`, and returns once it answers as a NATS server
    /// with JetStream on its port (panicking with its log if it exits or does not answer).
    pub fn resume(&mut self) {
        assert!(self.child.is_none(), "nats-server is already running");
        let log = self.store.with_extension("log");
        let child = Command::new(var("AJET_TEST_NATS_SERVER_BIN"))
            .args(["-js", "-a", "127.0.0.1", "-p", &self.port.to_string(), "-sd"])
            .arg(&self.store)
            .arg("-l")
            .arg(&log)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start nats-server");
        self.child = Some(child);
        self.wait_alive(&log, Duration::from_secs(10));
    }

    /// Polls until the server greets a client with an `INFO` naming JetStream; panics if
    /// the process exits first or `timeout` passes, with the server's log.
    fn wait_alive(&mut self, log: &std::path::Path, timeout: Duration) {
        let deadline = Instant::now() + timeout;
        let log_text = || std::fs::read_to_string(log).unwrap_or_else(|e| format!("(no log: {e})"));
        loop {
            if let Some(child) = &mut self.child
                && let Ok(Some(status)) = child.try_wait()
            {
                self.child = None;
                panic!("nats-server on port {} exited at start ({status}); its log:\n{}", self.port, log_text());
            }
            match nats_greeting(self.port) {
                // Accepted but closed before greeting: not up yet.
                Ok(info) if info.is_empty() => {}
                Ok(info) if info.starts_with("INFO ") && info.contains("\"jetstream\":true") => return,
                Ok(info) => panic!("port {} answers, but not as nats-server with JetStream: {info}", self.port),
                Err(e) => assert!(
                    Instant::now() < deadline,
                    "nats-server on port {} does not answer after {timeout:?} ({e}); its log:\n{}",
                    self.port,
                    log_text()
                ),
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Stops the server (as an outage would) and waits until it is gone.
    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            drop(child.kill());
            drop(child.wait());
        }
    }
}

impl Drop for NatsServer {
    fn drop(&mut self) {
        self.stop();
        drop(std::fs::remove_dir_all(&self.store));
        drop(std::fs::remove_file(self.store.with_extension("log")));
    }
}

/// A nats-server cluster with JetStream owned by one test: `nodes` servers routed to each
/// other, each on its own ports (kept across a restart) and store directory. A node can be
/// killed outright (`kill`, SIGKILL) and started again (`restart`) with its store, as an
/// operator's restart after a crash would.
pub struct NatsCluster {
    nodes: Vec<ClusterNode>,
}

struct ClusterNode {
    name: String,
    port: u16,
    route_port: u16,
    store: PathBuf,
    child: Option<Child>,
}

impl NatsCluster {
    /// Starts `nodes` servers and returns once each greets as a JetStream server (the
    /// cluster's JetStream may still be electing its leader: callers wait for their stream).
    pub fn start(nodes: usize) -> Self {
        let root = PathBuf::from(var("AJET_TEST_TMPDIR"));
        let id = uuid::Uuid::now_v7().simple().to_string();
        let mut taken = Vec::new();
        let mut port = || loop {
            let port = restartable_port();
            if !taken.contains(&port) {
                taken.push(port);
                return port;
            }
        };
        let nodes = (0..nodes)
            .map(|n| ClusterNode {
                name: format!("n{n}"),
                port: port(),
                route_port: port(),
                store: root.join(format!("nats-cluster-{id}-{n}")),
                child: None,
            })
            .collect();
        let mut cluster = Self { nodes };
        for n in 0..cluster.nodes.len() {
            cluster.spawn(n);
        }
        for n in 0..cluster.nodes.len() {
            cluster.wait_alive(n);
        }
        cluster
    }

    /// Every node's client URL, comma-separated (a service's `nats_url`).
    #[must_use]
    pub fn url(&self) -> String {
        self.nodes.iter().map(|node| format!("nats://127.0.0.1:{}", node.port)).collect::<Vec<_>>().join(",")
    }

    /// Kills node `n` with SIGKILL and reaps it.
    pub fn kill(&mut self, n: usize) {
        if let Some(mut child) = self.nodes[n].child.take() {
            drop(child.kill());
            drop(child.wait());
        }
    }

    /// Starts node `n` again (after `kill`) and waits until it greets.
    pub fn restart(&mut self, n: usize) {
        assert!(self.nodes[n].child.is_none(), "node {n} is still running");
        self.spawn(n);
        self.wait_alive(n);
    }

    fn spawn(&mut self, n: usize) {
        let routes: Vec<String> = self
            .nodes
            .iter()
            .enumerate()
            .filter(|(other, _)| *other != n)
            .map(|(_, node)| format!("nats-route://127.0.0.1:{}", node.route_port))
            .collect();
        let node = &mut self.nodes[n];
        std::fs::create_dir_all(&node.store).expect("create the nats store dir");
        let child = Command::new(var("AJET_TEST_NATS_SERVER_BIN"))
            .args(["-js", "-n", &node.name, "-a", "127.0.0.1", "-p", &node.port.to_string()])
            .args(["--cluster_name", "ajet-test", "--cluster", &format!("nats://127.0.0.1:{}", node.route_port)])
            .args(["--routes", &routes.join(",")])
            .arg("-sd")
            .arg(&node.store)
            .arg("-l")
            .arg(node.store.with_extension("log"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start nats-server");
        node.child = Some(child);
    }

    fn wait_alive(&mut self, n: usize) {
        let node = &mut self.nodes[n];
        let log = node.store.with_extension("log");
        let deadline = Instant::now() + Duration::from_secs(20);
        let log_text = || std::fs::read_to_string(&log).unwrap_or_else(|e| format!("(no log: {e})"));
        loop {
            if let Some(child) = &mut node.child
                && let Ok(Some(status)) = child.try_wait()
            {
                node.child = None;
                panic!("cluster node {} exited at start ({status}); its log:\n{}", node.name, log_text());
            }
            match nats_greeting(node.port) {
                Ok(info) if info.starts_with("INFO ") && info.contains("\"jetstream\":true") => return,
                Ok(_) | Err(_) => assert!(
                    Instant::now() < deadline,
                    "cluster node {} does not answer after 20 s; its log:\n{}",
                    node.name,
                    log_text()
                ),
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for NatsCluster {
    fn drop(&mut self) {
        for n in 0..self.nodes.len() {
            self.kill(n);
        }
        for node in &self.nodes {
            drop(std::fs::remove_dir_all(&node.store));
            drop(std::fs::remove_file(node.store.with_extension("log")));
        }
    }
}

/// A local address nothing listens on, to point a service at a dependency that is down
/// (connections are refused at once) without stopping the shared one.
#[must_use]
pub fn dead_address() -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], free_port()))
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).map(|a| a.port()).expect("a free port")
}

/// A free port below the kernel's ephemeral range (32768+), for a server a test stops and
/// restarts on the same port: in the ephemeral range, an outgoing connection of any process
/// may take the port while the server is down.
#[must_use]
pub fn restartable_port() -> u16 {
    for _ in 0..1000 {
        // Random enough across concurrent test processes: the v7 id's random bits.
        let bits = uuid::Uuid::now_v7().as_u128();
        let port = 20_000 + u16::try_from(bits % 12_000).unwrap_or(0);
        if TcpListener::bind(("127.0.0.1", port)).is_ok() {
            return port;
        }
    }
    panic!("no free port in 20000..32000")
}

/// The first line a NATS server sends a new client (its `INFO`).
fn nats_greeting(port: u16) -> std::io::Result<String> {
    let stream = TcpStream::connect_timeout(&SocketAddr::from(([127, 0, 0, 1], port)), Duration::from_secs(1))?;
    stream.set_read_timeout(Some(Duration::from_secs(2)))?;
    let mut line = String::new();
    BufReader::new(stream).read_line(&mut line)?;
    Ok(line)
}

/// The S3 settings of the test infrastructure.
#[derive(Clone, Debug)]
pub struct S3Env {
    pub endpoint: String,
    pub access_key: String,
    pub secret_key: String,
    pub region: String,
}

#[must_use]
pub fn s3_env() -> S3Env {
    S3Env {
        endpoint: var("AJET_TEST_S3_ENDPOINT"),
        access_key: var("AJET_TEST_S3_ACCESS_KEY"),
        secret_key: var("AJET_TEST_S3_SECRET_KEY"),
        region: var("AJET_TEST_S3_REGION"),
    }
}

/// A test configuration for `database_url` and `nats_url`: dev mode (so the dev login
/// exists), a bucket of its own, and listen addresses that tests replace with bound
/// listeners.
#[must_use]
pub fn config(database_url: &str, nats_url: &str) -> Config {
    crate::client::install_crypto_provider();
    let s3 = s3_env();
    Config {
        env: Environment::Dev,
        database_url: Secret::new(database_url),
        nats_url: nats_url.to_owned(),
        s3_endpoint: s3.endpoint,
        s3_region: s3.region,
        s3_bucket: format!("test-{}", uuid::Uuid::now_v7().simple()),
        s3_access_key: s3.access_key,
        s3_secret_key: Secret::new(s3.secret_key),
        cookie_secure: false,
        log: "warn".into(),
        ..Config::default()
    }
}
