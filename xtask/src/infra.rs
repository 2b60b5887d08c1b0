//! The backing servers — Postgres, NATS with JetStream, SeaweedFS S3 — as child processes:
//! throwaway (free ports, temp dir, removed on drop) or persistent (`.dev/`, fixed ports).

use std::fs;
use std::hash::{BuildHasher, RandomState};
use std::net::{Ipv4Addr, TcpListener};
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::thread::sleep;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};

use crate::process::{Server, http_get, stop_all, tcp_open};
use crate::tools::{self, OsUser, Tools};
use crate::{interrupted, repo_root};

pub const S3_ACCESS_KEY: &str = "ajetdev";
pub const S3_REGION: &str = "us-east-1";
const READY_TIMEOUT: Duration = Duration::from_secs(60);

/// SeaweedFS's listeners. Each gRPC port is implicitly its HTTP port + 10000.
struct WeedPorts {
    s3: u16,
    master: u16,
    volume: u16,
    filer: u16,
    admin: u16,
    webdav: u16,
    metrics: u16,
    s3_metrics: u16,
    s3_debug: u16,
    debug: u16,
}

pub struct Ports {
    postgres: u16,
    nats: u16,
    weed: WeedPorts,
}

impl Ports {
    /// `cargo xtask dev`: fixed, off the usual defaults and clear of our services' 8080-8083.
    pub fn dev() -> Self {
        Self {
            postgres: 15432,
            nats: 14222,
            weed: WeedPorts {
                s3: 18333,
                master: 18334,
                volume: 18335,
                filer: 18336,
                admin: 18337,
                webdav: 18338,
                metrics: 18339,
                s3_metrics: 18340,
                s3_debug: 18341,
                debug: 18342,
            },
        }
    }

    /// Free loopback ports; SeaweedFS's in 20000..32000 with their +10000 gRPC twin free too.
    fn free() -> Result<Self> {
        let mut taken = Vec::new();
        let postgres = free_port(&mut taken)?;
        let nats = free_port(&mut taken)?;
        let mut weed = || free_weed_port(&mut taken);
        Ok(Self {
            postgres,
            nats,
            weed: WeedPorts {
                s3: weed()?,
                master: weed()?,
                volume: weed()?,
                filer: weed()?,
                admin: weed()?,
                webdav: weed()?,
                metrics: weed()?,
                s3_metrics: weed()?,
                s3_debug: weed()?,
                debug: weed()?,
            },
        })
    }

    fn all(&self) -> Vec<u16> {
        let w = &self.weed;
        let grpc = [w.s3, w.master, w.volume, w.filer, w.admin].map(|port| port + 10000);
        let http = [w.s3, w.master, w.volume, w.filer, w.admin, w.webdav, w.metrics, w.s3_metrics, w.s3_debug, w.debug];
        [self.postgres, self.nats].into_iter().chain(http).chain(grpc).collect()
    }
}

fn port_is_free(port: u16) -> bool {
    TcpListener::bind((Ipv4Addr::LOCALHOST, port)).is_ok()
}

pub fn free_port(taken: &mut Vec<u16>) -> Result<u16> {
    for _ in 0..100 {
        let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).context("binding 127.0.0.1:0")?;
        let port = listener.local_addr().context("reading a bound port")?.port();
        if !taken.contains(&port) {
            taken.push(port);
            return Ok(port);
        }
    }
    bail!("could not find a free loopback port")
}

/// Below the kernel's ephemeral range (32768+) so no outgoing connection grabs it meanwhile.
fn free_weed_port(taken: &mut Vec<u16>) -> Result<u16> {
    for _ in 0..1000 {
        let port = 20000 + (random_u64() % 12000) as u16;
        let pair = [port, port + 10000];
        if pair.iter().all(|p| !taken.contains(p) && port_is_free(*p)) {
            taken.extend(pair);
            return Ok(port);
        }
    }
    bail!("could not find free loopback ports p and p+10000 for SeaweedFS")
}

fn random_u64() -> u64 {
    // RandomState is seeded from the OS and re-keyed per instance: enough for ports and a test secret.
    RandomState::new().hash_one(Instant::now())
}

/// A throwaway directory, removed on drop (after the servers using it have stopped).
struct TempRoot(PathBuf);

impl Drop for TempRoot {
    fn drop(&mut self) {
        if let Err(err) = fs::remove_dir_all(&self.0) {
            eprintln!("xtask: could not remove {}: {err}", self.0.display());
        }
    }
}

pub struct Infra {
    postgres: Server,
    /// None when the caller runs NATS itself (`cargo xtask cluster`: a three-node cluster).
    nats: Option<Server>,
    s3: Server,
    ports: Ports,
    root: PathBuf,
    s3_secret: String,
    pg_bin: PathBuf,
    nats_server: PathBuf,
    schemathesis: PathBuf,
    /// Playwright's folder, Chromium and tmux, when started for tests.
    browser: Option<(PathBuf, PathBuf, PathBuf, PathBuf)>,
    // Last: removed only once the servers above are stopped.
    _temp_root: Option<TempRoot>,
}

impl Infra {
    /// Free ports, data under `$TMPDIR/ajet-test-<pid>`, fsync off, a random S3 secret.
    pub fn start_throwaway(tools: &Tools) -> Result<Self> {
        Self::throwaway(tools, true, Durability::Off)
    }

    /// `start_throwaway` with Postgres as durable as in production (`fsync` and
    /// `synchronous_commit` on): what the benchmarks measure.
    pub fn start_throwaway_durable(tools: &Tools) -> Result<Self> {
        Self::throwaway(tools, true, Durability::On)
    }

    /// `start_throwaway` without a nats-server (the caller starts its own).
    pub fn start_throwaway_without_nats(tools: &Tools) -> Result<Self> {
        Self::throwaway(tools, false, Durability::Off)
    }

    fn throwaway(tools: &Tools, with_nats: bool, durability: Durability) -> Result<Self> {
        remove_stale_roots();
        let root = std::env::temp_dir().join(format!("ajet-test-{}", std::process::id()));
        let _ = fs::remove_dir_all(&root);
        fs::create_dir_all(root.join("tmp")).with_context(|| format!("creating {}", root.display()))?;
        let guard = TempRoot(root.clone());
        let secret = format!("{:016x}{:016x}", random_u64(), random_u64());
        let mut infra = Self::start(tools, &root, Ports::free()?, secret, Some(durability), with_nats)?;
        infra._temp_root = Some(guard);
        Ok(infra)
    }

    /// Fixed ports, data kept under `root` across runs.
    pub fn start_persistent(tools: &Tools, root: &Path, ports: Ports, s3_secret: &str) -> Result<Self> {
        let busy: Vec<String> =
            ports.all().into_iter().filter(|port| !port_is_free(*port)).map(|port| port.to_string()).collect();
        if !busy.is_empty() {
            bail!(
                "127.0.0.1 port(s) {} already in use — is another `cargo xtask dev` running? (`ss -ltnp` shows who holds them)",
                busy.join(", ")
            );
        }
        Self::start(tools, root, ports, s3_secret.to_owned(), None, true)
    }

    fn start(
        tools: &Tools,
        root: &Path,
        ports: Ports,
        s3_secret: String,
        throwaway: Option<Durability>,
        with_nats: bool,
    ) -> Result<Self> {
        let logs = root.join("logs");
        fs::create_dir_all(&logs).with_context(|| format!("creating {}", logs.display()))?;
        let mut postgres = start_postgres(tools, &root.join("postgres"), &logs, ports.postgres, throwaway)?;
        let throwaway = throwaway.is_some();
        let mut nats = if with_nats {
            Some(Server::spawn(
                "nats-server",
                Command::new(&tools.nats_server)
                    .args(["-js", "-a", "127.0.0.1", "-p", &ports.nats.to_string(), "-sd"])
                    .arg(root.join("nats")),
                &logs.join("nats.log"),
                "TERM",
                Duration::from_secs(10),
            )?)
        } else {
            None
        };
        // `weed mini` idles ~10 s in its admin shutdown once its maintenance worker has started
        // (about a minute in): wait that out for dev data; throwaway data needs no clean stop.
        let weed_grace = Duration::from_secs(if throwaway { 3 } else { 15 });
        let mut s3 = start_seaweedfs(tools, &root.join("seaweedfs"), &logs, &ports.weed, &s3_secret, weed_grace)?;

        let pg_isready = tools.pg_bin.join("pg_isready");
        let pg_port = ports.postgres.to_string();
        postgres.wait_until("pg_isready", READY_TIMEOUT, || {
            Command::new(&pg_isready)
                .args(["-q", "-h", "127.0.0.1", "-p", &pg_port, "-U", "ajet", "-d", "postgres"])
                .status()
                .is_ok_and(|status| status.success())
        })?;
        if let Some(nats) = &mut nats {
            nats.wait_until("TCP connect", READY_TIMEOUT, || tcp_open(ports.nats))?;
        }
        wait_for_seaweedfs(&mut s3, &ports.weed)?;
        Ok(Self {
            postgres,
            nats,
            s3,
            ports,
            root: root.to_path_buf(),
            s3_secret,
            pg_bin: tools.pg_bin.clone(),
            nats_server: tools.nats_server.clone(),
            schemathesis: tools.schemathesis.clone(),
            browser: tools
                .browser
                .as_ref()
                .map(|b| (b.playwright.clone(), b.chromium.clone(), b.tmux.clone(), b.axe.clone())),
            _temp_root: None,
        })
    }

    /// The pids of Postgres' postmaster and of nats-server, if this infra runs one (for the
    /// benchmark's sampling).
    pub fn pids(&self) -> (u32, Option<u32>) {
        (self.postgres.pid(), self.nats.as_ref().map(Server::pid))
    }

    pub fn database_url(&self, database: &str) -> String {
        format!("postgres://ajet@127.0.0.1:{}/{database}", self.ports.postgres)
    }

    pub fn nats_url(&self) -> String {
        format!("nats://127.0.0.1:{}", self.ports.nats)
    }

    pub fn s3_endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.ports.weed.s3)
    }

    /// One line for humans.
    pub fn summary(&self) -> String {
        let nats = if self.nats.is_some() { format!(" · nats 127.0.0.1:{}", self.ports.nats) } else { String::new() };
        format!(
            "postgres 127.0.0.1:{}{nats} · s3 {} · logs {}",
            self.ports.postgres,
            self.s3_endpoint(),
            self.logs().display()
        )
    }

    /// Where the servers' logs go (and where callers may put their own).
    pub fn logs(&self) -> PathBuf {
        self.root.join("logs")
    }

    /// The directory the servers' data lives under.
    pub fn root(&self) -> &Path {
        &self.root
    }

    pub fn s3_secret(&self) -> &str {
        &self.s3_secret
    }

    /// What the test suites read (`ajet_shared::testing`).
    pub fn test_env(&self) -> Vec<(&'static str, String)> {
        let mut env = vec![
            ("AJET_TEST_DATABASE_URL", self.database_url("postgres")),
            ("AJET_TEST_NATS_URL", self.nats_url()),
            ("AJET_TEST_NATS_SERVER_BIN", self.nats_server.display().to_string()),
            ("AJET_TEST_S3_ENDPOINT", self.s3_endpoint()),
            ("AJET_TEST_S3_ACCESS_KEY", S3_ACCESS_KEY.to_owned()),
            ("AJET_TEST_S3_SECRET_KEY", self.s3_secret.clone()),
            ("AJET_TEST_S3_REGION", S3_REGION.to_owned()),
            ("AJET_TEST_TMPDIR", self.root.join("tmp").display().to_string()),
            ("AJET_TEST_SCHEMATHESIS", self.schemathesis.display().to_string()),
            // Kept after the run (screenshots of the browser tests), unlike the temp root.
            ("AJET_TEST_ARTIFACTS", repo_root().join(".test-artifacts").display().to_string()),
        ];
        if let Some((playwright, chromium, tmux, axe)) = &self.browser {
            env.push(("AJET_TEST_PLAYWRIGHT", playwright.display().to_string()));
            env.push(("AJET_TEST_CHROMIUM", chromium.display().to_string()));
            env.push(("AJET_TEST_TMUX", tmux.display().to_string()));
            env.push(("AJET_TEST_AXE", axe.display().to_string()));
        }
        env
    }

    /// `psql` connected to `database`, stopping at the first error.
    pub fn psql(&self, database: &str) -> Command {
        let mut psql = Command::new(self.pg_bin.join("psql"));
        psql.args(["-h", "127.0.0.1", "-p", &self.ports.postgres.to_string(), "-U", "ajet", "-d", database]).args([
            "-X",
            "-q",
            "-v",
            "ON_ERROR_STOP=1",
        ]);
        psql
    }

    /// Creates `name` unless it exists (the services migrate it themselves).
    pub fn ensure_database(&self, name: &str) -> Result<()> {
        let port = self.ports.postgres.to_string();
        let conn = ["-h", "127.0.0.1", "-p", &port, "-U", "ajet"];
        let query = format!("SELECT 1 FROM pg_database WHERE datname = '{name}'");
        let out = Command::new(self.pg_bin.join("psql"))
            .args(conn)
            .args(["-d", "postgres", "-tAc", &query])
            .output()
            .context("running psql")?;
        if !out.status.success() {
            bail!("psql failed: {}", String::from_utf8_lossy(&out.stderr).trim());
        }
        if String::from_utf8_lossy(&out.stdout).trim() == "1" {
            return Ok(());
        }
        let out =
            Command::new(self.pg_bin.join("createdb")).args(conn).arg(name).output().context("running createdb")?;
        if !out.status.success() {
            bail!("createdb {name} failed: {}", String::from_utf8_lossy(&out.stderr).trim());
        }
        println!("xtask: created database {name}");
        Ok(())
    }

    pub fn ensure_running(&mut self) -> Result<()> {
        self.postgres.ensure_running()?;
        if let Some(nats) = &mut self.nats {
            nats.ensure_running()?;
        }
        self.s3.ensure_running()
    }
}

impl Drop for Infra {
    fn drop(&mut self) {
        let nats = if self.nats.is_some() { ", nats-server" } else { "" };
        println!("xtask: stopping postgres{nats} and seaweedfs…");
        stop_all([Some(&mut self.postgres), self.nats.as_mut(), Some(&mut self.s3)].into_iter().flatten());
    }
}

/// Removes `ajet-test-<pid>` dirs left by runs that were killed outright.
fn remove_stale_roots() {
    let Ok(entries) = fs::read_dir(std::env::temp_dir()) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name();
        let Some(pid) = name.to_str().and_then(|name| name.strip_prefix("ajet-test-")) else {
            continue;
        };
        if !Path::new("/proc").join(pid).exists() {
            let _ = fs::remove_dir_all(entry.path());
        }
    }
}

/// `initdb` once, then the `postgres` binary itself as a child (pg_ctl would daemonize).
/// Unix sockets are off: everything connects over TCP, and deep paths would overflow them.
/// Whether throwaway Postgres keeps what it commits across a crash: tests do not need it
/// (and run faster without), benchmarks must measure it.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Durability {
    Off,
    On,
}

/// Starts Postgres in `dir`: throwaway (`Some`: fresh, test settings, durable or not) or
/// persistent (`None`: `xtask dev`'s data, default settings).
fn start_postgres(tools: &Tools, dir: &Path, logs: &Path, port: u16, throwaway: Option<Durability>) -> Result<Server> {
    let data = dir.join("data");
    fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    if let Some(user) = &tools.pg_user {
        ensure_reachable(dir, user)?;
        let status = Command::new("chown")
            .args(["-R", &format!("{}:{}", user.uid, user.gid)])
            .arg(dir)
            .status()
            .context("running chown")?;
        if !status.success() {
            bail!("`chown -R postgres {}` failed ({status})", dir.display());
        }
    }
    if !data.join("PG_VERSION").exists() {
        let mut initdb = Command::new(tools.pg_bin.join("initdb"));
        initdb.arg("-D").arg(&data).args(["-A", "trust", "-U", "ajet", "-E", "UTF8", "--locale=C.UTF-8"]);
        if throwaway.is_some() {
            initdb.arg("--no-sync");
        }
        let out = as_pg_user(&mut initdb, tools, dir).output().context("running initdb")?;
        if !out.status.success() {
            let _ = fs::remove_dir_all(&data);
            bail!("initdb failed:\n{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
        }
    }
    let mut postgres = Command::new(tools.pg_bin.join("postgres"));
    postgres.arg("-D").arg(&data).args(["-p", &port.to_string(), "-k", ""]);
    postgres.args(["-c", "listen_addresses=127.0.0.1"]);
    if let Some(durability) = throwaway {
        // Many test processes with their own pools run at once. pg_stat_statements lets
        // tests count the statements an endpoint issues (no N+1) and the benchmarks report
        // where Postgres spent its time.
        for setting in
            ["max_connections=300", "shared_preload_libraries=pg_stat_statements", "pg_stat_statements.track=all"]
        {
            postgres.args(["-c", setting]);
        }
        // Tests do not need durability; the benchmarks keep Postgres's defaults.
        if durability == Durability::Off {
            for setting in ["fsync=off", "synchronous_commit=off", "full_page_writes=off"] {
                postgres.args(["-c", setting]);
            }
        }
    }
    Server::spawn(
        "postgres",
        as_pg_user(&mut postgres, tools, dir),
        &logs.join("postgres.log"),
        "INT",
        Duration::from_secs(30),
    )
}

fn as_pg_user<'a>(cmd: &'a mut Command, tools: &Tools, dir: &Path) -> &'a mut Command {
    // Postgres refuses to run as root; its cwd must be readable by the user it runs as.
    cmd.current_dir(dir);
    if let Some(user) = &tools.pg_user {
        cmd.uid(user.uid).gid(user.gid).env("HOME", dir);
    }
    cmd
}

/// The `postgres` user must be able to enter every parent of its data directory.
fn ensure_reachable(dir: &Path, user: &OsUser) -> Result<()> {
    for parent in dir.ancestors().skip(1) {
        let meta = fs::metadata(parent).with_context(|| format!("reading {}", parent.display()))?;
        let mode = meta.permissions().mode();
        let bit = if meta.uid() == user.uid {
            0o100
        } else if meta.gid() == user.gid {
            0o010
        } else {
            0o001
        };
        if mode & bit == 0 {
            bail!(
                "Postgres runs as the `postgres` user, which cannot enter {}; allow it with `chmod o+x {}` or clone the repo elsewhere",
                parent.display(),
                parent.display()
            );
        }
    }
    Ok(())
}

/// `weed mini` with every port pinned (its defaults include ports we use), no telemetry,
/// loopback only — `-ip` too, or the volume server advertises the external address and
/// uploads fail — and a credentials file so SigV4 is really checked.
fn start_seaweedfs(
    tools: &Tools,
    dir: &Path,
    logs: &Path,
    ports: &WeedPorts,
    secret: &str,
    grace: Duration,
) -> Result<Server> {
    let data = dir.join("data");
    fs::create_dir_all(&data).with_context(|| format!("creating {}", data.display()))?;
    let config = dir.join("s3.json");
    let identities = format!(
        r#"{{"identities":[{{"name":"ajet","credentials":[{{"accessKey":"{S3_ACCESS_KEY}","secretKey":"{secret}"}}],"actions":["Admin","Read","List","Tagging","Write"]}}]}}"#
    );
    fs::write(&config, identities).with_context(|| format!("writing {}", config.display()))?;
    fs::set_permissions(&config, fs::Permissions::from_mode(0o600)).context("restricting the S3 credentials file")?;

    let mut args = vec![
        "mini".to_owned(),
        format!("-dir={}", data.display()),
        format!("-s3.config={}", config.display()),
        "-ip=127.0.0.1".to_owned(),
        "-ip.bind=127.0.0.1".to_owned(),
        "-master.telemetry=false".to_owned(),
        "-webdav=false".to_owned(),
        "-admin.ui=false".to_owned(),
        "-s3.port.iceberg=0".to_owned(),
        "-s3.port.lance=0".to_owned(),
        // Each bucket takes a volume of its own; the disk-derived default (~77) runs out mid-suite.
        "-volume.max=1000".to_owned(),
    ];
    let with_grpc = [
        ("master", ports.master),
        ("volume", ports.volume),
        ("filer", ports.filer),
        ("s3", ports.s3),
        ("admin", ports.admin),
    ];
    for (component, port) in with_grpc {
        args.push(format!("-{component}.port={port}"));
        args.push(format!("-{component}.port.grpc={}", port + 10000));
    }
    args.extend([
        format!("-webdav.port={}", ports.webdav),
        format!("-metricsPort={}", ports.metrics),
        format!("-s3.metricsPort={}", ports.s3_metrics),
        format!("-s3.debug.port={}", ports.s3_debug),
        format!("-debug.port={}", ports.debug),
    ]);
    // Its default sockets are /tmp/seaweedfs-*-<port>.sock; keep them with the data when short enough.
    if dir.as_os_str().len() < 90 {
        args.push(format!("-filer.localSocket={}", dir.join("filer.sock").display()));
        args.push(format!("-s3.localSocket={}", dir.join("s3.sock").display()));
    }
    Server::spawn(
        "seaweedfs",
        Command::new(&tools.weed).args(&args).current_dir(dir),
        &logs.join("seaweedfs.log"),
        "TERM",
        grace,
    )
}

/// Ready when S3 refuses an anonymous request and the master knows a volume server
/// (before that, the first upload fails with "no writable volumes").
fn wait_for_seaweedfs(s3: &mut Server, ports: &WeedPorts) -> Result<()> {
    let mut anonymous = None;
    s3.wait_until("S3 port answering", READY_TIMEOUT, || {
        anonymous = http_get(ports.s3, "/").map(|(status, _)| status);
        anonymous.is_some()
    })?;
    if anonymous != Some(403) {
        bail!(
            "SeaweedFS S3 answered an anonymous request with {anonymous:?}, not 403: the credentials file was not applied"
        );
    }
    s3.wait_until("volume server registered", READY_TIMEOUT, || {
        http_get(ports.master, "/dir/status").is_some_and(|(_, body)| body.contains(r#""DataNodes":[{"#))
    })
}

/// `cargo xtask infra`: throwaway infra until Ctrl-C.
pub fn run_throwaway() -> Result<u8> {
    let tools = tools::ensure(&repo_root(), tools::Needs::Tests)?;
    let mut infra = Infra::start_throwaway(&tools)?;
    println!("# ajet test infra is up: {}", infra.summary());
    for (key, value) in infra.test_env() {
        println!("export {key}={}", shell_quote(&value));
    }
    println!("# Ctrl-C stops it and deletes {}", infra.root.display());
    while !interrupted() {
        infra.ensure_running()?;
        sleep(Duration::from_millis(200));
    }
    Ok(0)
}

fn shell_quote(value: &str) -> String {
    let plain = value.chars().all(|c| c.is_ascii_alphanumeric() || "-_./:@=,+".contains(c));
    if plain { value.to_owned() } else { format!("'{}'", value.replace('\'', r"'\''")) }
}
