//! `cargo xtask`: the one automation entry of ajet-chat — argument dispatch and the Ctrl-C flag.

mod bench;
mod cluster;
mod dev;
mod infra;
mod process;
mod test;
mod tidy;
mod tools;

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};

use anyhow::{Context, Result, bail};

const USAGE: &str = "\
usage: cargo xtask <command>

commands:
  dev                 persistent Postgres/NATS/SeaweedFS under .dev/ plus all services on :8080-8083
  test [NEXTEST ARGS] throwaway infra on free ports, then `cargo nextest run` and doc tests
  infra               throwaway infra only; prints the AJET_TEST_* exports, Ctrl-C tears it down
  cluster             throwaway infra with a 3-node NATS cluster (stream at 3 replicas) and two
                      instances of every service on :8180-8183 and :8190-8193; Ctrl-C stops it
  bench [SCENARIO…] [--full|--smoke] [--profile]
                      release build on throwaway infra, beside Nchan: latency, throughput,
                      overload, fan-out, connections, gateway, web, history, footprint (a
                      table, and JSON under target/bench/); --profile records each scenario
                      with perf (summaries per process under target/bench/profile/)
  bench streams [N…] [--secs S]
                      release build on throwaway infra: cost of N idle event streams (printed)
  bench search [--messages N] [--runs R]
                      release build on throwaway infra: search latency over N messages (printed)
";

/// Set by Ctrl-C, SIGTERM or SIGHUP; every wait loop polls it and unwinds, so teardown runs.
static INTERRUPTED: AtomicBool = AtomicBool::new(false);

pub fn interrupted() -> bool {
    INTERRUPTED.load(Ordering::SeqCst)
}

pub fn bail_if_interrupted() -> Result<()> {
    if interrupted() {
        bail!("interrupted");
    }
    Ok(())
}

/// The workspace root (xtask lives one level below it). `cargo run` tells the running
/// process its manifest directory; that is preferred over the one compiled in, because a
/// target directory shared by two checkouts (CI keeps one outside the clone) may run an
/// xtask binary built from the other checkout, which would then test the other tree.
pub fn repo_root() -> PathBuf {
    let manifest_dir =
        std::env::var_os("CARGO_MANIFEST_DIR").map_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")), PathBuf::from);
    manifest_dir.parent().map_or_else(|| manifest_dir.clone(), Path::to_path_buf)
}

fn main() -> ExitCode {
    match run() {
        Ok(code) => ExitCode::from(code),
        Err(err) => {
            eprintln!("xtask: error: {err:#}");
            ExitCode::FAILURE
        }
    }
}

fn run() -> Result<u8> {
    ctrlc::set_handler(|| INTERRUPTED.store(true, Ordering::SeqCst))
        .context("installing the Ctrl-C/SIGTERM handler")?;
    let mut args = std::env::args().skip(1);
    let command = args.next();
    let rest: Vec<String> = args.collect();
    match command.as_deref() {
        Some("test") => test::run(&rest),
        Some("bench") => bench::run(&rest),
        Some("dev") if rest.is_empty() => dev::run(),
        Some("infra") if rest.is_empty() => infra::run_throwaway(),
        Some("cluster") if rest.is_empty() => cluster::run(),
        Some("dev" | "infra" | "cluster") => bail!("unexpected arguments {rest:?}\n\n{USAGE}"),
        None | Some("help" | "-h" | "--help") => {
            print!("{USAGE}");
            Ok(0)
        }
        Some(other) => bail!("unknown command `{other}`\n\n{USAGE}"),
    }
}
