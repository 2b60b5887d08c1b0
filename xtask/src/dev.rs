//! `cargo xtask dev`: persistent infra under `.dev/`, the four services built and started
//! against it (and the `ajet-chat` CLI built, with how to sign it in printed), and an
//! orderly stop (services, then infra) on Ctrl-C or when one dies.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::thread::sleep;
use std::time::Duration;

use anyhow::{Result, bail};

use crate::infra::{Infra, Ports, S3_ACCESS_KEY, S3_REGION};
use crate::process::{Server, http_get, run_checked, stop_all};
use crate::test::cargo;
use crate::{interrupted, repo_root, tools};

const S3_SECRET: &str = "ajetdevsecret";
const DATABASE: &str = "ajet";
/// Binary and the port it listens on by default (docs/design.md §1); auth-gw is the public one.
pub const SERVICES: [(&str, u16); 4] =
    [("ajet-api", 8081), ("ajet-auth-gw", 8080), ("ajet-web-sm", 8082), ("ajet-tui-sm", 8083)];

pub fn run() -> Result<u8> {
    let root = repo_root();
    let dev_dir = root.join(".dev");
    let tools = tools::ensure(&root, tools::Needs::Servers)?;
    let mut infra = Infra::start_persistent(&tools, &dev_dir, Ports::dev(), S3_SECRET)?;
    infra.ensure_database(DATABASE)?;

    let mut build = cargo();
    build.current_dir(&root).args(["build", "--bins"]);
    for (package, _) in SERVICES {
        build.args(["-p", package]);
    }
    // The terminal client too, so it can be tried against this stack at once.
    build.args(["-p", "ajet-cli"]);
    run_checked(&mut build, "building the services and the CLI")?;
    for (name, port) in SERVICES {
        if http_get(port, "/readyz").is_some() {
            bail!("something already answers on 127.0.0.1:{port} (where {name} should listen); stop it first");
        }
    }

    let env = [
        ("AJET_ENV", "dev".to_owned()),
        ("AJET_DATABASE_URL", infra.database_url(DATABASE)),
        ("AJET_NATS_URL", infra.nats_url()),
        ("AJET_S3_ENDPOINT", infra.s3_endpoint()),
        ("AJET_S3_ACCESS_KEY", S3_ACCESS_KEY.to_owned()),
        ("AJET_S3_SECRET_KEY", S3_SECRET.to_owned()),
        ("AJET_S3_REGION", S3_REGION.to_owned()),
        ("AJET_S3_BUCKET", "ajet".to_owned()),
        ("AJET_COOKIE_SECURE", "false".to_owned()),
        ("AJET_LOG", "info".to_owned()),
        // Plain text in the log files (tracing-subscriber honours it).
        ("NO_COLOR", "1".to_owned()),
    ];
    let bin_dir = target_dir(&root).join("debug");
    let logs = dev_dir.join("logs");
    let mut services = Vec::new();
    for (name, _) in SERVICES {
        let mut cmd = Command::new(bin_dir.join(name));
        cmd.current_dir(&root).envs(env.clone());
        if std::env::var_os("RUST_LIB_BACKTRACE").is_none() {
            // Startup errors as one anyhow chain, not a backtrace filling the log tail we print.
            cmd.env("RUST_LIB_BACKTRACE", "0");
        }
        services.push(Server::spawn(
            name,
            &mut cmd,
            &logs.join(format!("{name}.log")),
            "TERM",
            Duration::from_secs(10),
        )?);
    }
    for (service, (_, port)) in services.iter_mut().zip(SERVICES) {
        service.wait_until("GET /readyz → 200", Duration::from_secs(120), || {
            http_get(port, "/readyz").is_some_and(|(status, _)| status == 200)
        })?;
    }

    println!("\najet-chat is running: open http://localhost:8080");
    for (name, port) in SERVICES {
        println!("  {name:<13} http://127.0.0.1:{port}");
    }
    println!("  infra         {}", infra.summary());
    println!("  service logs  {}/ajet-*.log · Ctrl-C stops everything", logs.display());
    let cli = bin_dir.join("ajet-chat");
    println!("  CLI           {} login --dev-user alice   (its default server is this stack)", cli.display());
    println!("                then: ajet-chat channels · send '#general' hi · read '#general' · tail · --help\n");

    let watched = watch(&mut services, &mut infra);
    println!("xtask: stopping the services…");
    stop_all(&mut services);
    watched.map(|()| 0)
}

/// Returns on Ctrl-C (Ok) or when any process dies (Err with its log tail).
fn watch(services: &mut [Server], infra: &mut Infra) -> Result<()> {
    while !interrupted() {
        for service in services.iter_mut() {
            service.ensure_running()?;
        }
        infra.ensure_running()?;
        sleep(Duration::from_millis(200));
    }
    Ok(())
}

/// `$CARGO_TARGET_DIR` (relative to the workspace) or `target/`.
pub fn target_dir(root: &Path) -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR").map_or_else(|| root.join("target"), |dir| root.join(dir))
}
