//! `cargo xtask test`: the lints (`cargo fmt --check`, `cargo clippy -D warnings`), then
//! throwaway infra and every test tier through nextest plus doc tests, tearing the infra down
//! whatever happens and passing the first failure's exit code on. With nextest arguments (a
//! filter while iterating) only the tests run.

use std::ffi::OsString;
use std::process::Command;

use anyhow::Result;

use crate::infra::Infra;
use crate::process::{exit_code, run_checked, run_interruptible};
use crate::{interrupted, repo_root, tools};

const INTERRUPTED_EXIT: u8 = 130;

pub fn run(nextest_args: &[String]) -> Result<u8> {
    let root = repo_root();
    let lint_code = if nextest_args.is_empty() { lint(&root)? } else { 0 };
    if interrupted() {
        return Ok(INTERRUPTED_EXIT);
    }
    let tools = tools::ensure(&root, tools::Needs::Tests)?;
    ensure_nextest()?;
    // The fault test (`auth-gw/tests/it/faults.rs`) runs the services' binaries as
    // processes. Built with every target, as nextest builds, so dependencies are built
    // once with one set of features and nextest finds everything ready.
    let mut build = cargo();
    build.current_dir(&root).args(["build", "--workspace", "--all-targets"]);
    run_checked(&mut build, "building the service binaries and the tests")?;
    let infra = Infra::start_throwaway(&tools)?;
    println!("xtask: test infra: {}", infra.summary());
    let mut env = infra.test_env();
    env.push(("AJET_TEST_BIN_DIR", crate::dev::target_dir(&root).join("debug").display().to_string()));

    let mut nextest = cargo();
    nextest.args(["nextest", "run", "--workspace", "--all-targets", "--no-fail-fast"]).args(nextest_args);
    let nextest_code = exit_code(run_interruptible(nextest.current_dir(&root).envs(env.clone()))?);
    if interrupted() {
        return Ok(INTERRUPTED_EXIT);
    }
    // nextest does not run doc tests.
    let mut doctest = cargo();
    doctest.args(["test", "--workspace", "--doc"]);
    let doc_code = exit_code(run_interruptible(doctest.current_dir(&root).envs(env))?);
    drop(infra);
    Ok(if interrupted() {
        INTERRUPTED_EXIT
    } else {
        [lint_code, nextest_code, doc_code].into_iter().find(|&code| code != 0).unwrap_or(0)
    })
}

/// Formatting and clippy, both as CI enforces them; the tests run whatever they say, so one
/// run reports everything.
fn lint(root: &std::path::Path) -> Result<u8> {
    let mut fmt = cargo();
    fmt.args(["fmt", "--all", "--check"]);
    let fmt_code = exit_code(run_interruptible(fmt.current_dir(root))?);
    if fmt_code != 0 {
        println!("xtask: `cargo fmt --check` found unformatted code: run `cargo fmt`");
    }
    let mut clippy = cargo();
    clippy.args(["clippy", "--workspace", "--all-targets", "--", "-D", "warnings"]);
    let clippy_code = exit_code(run_interruptible(clippy.current_dir(root))?);
    if clippy_code != 0 {
        println!("xtask: clippy found warnings (denied)");
    }
    Ok(if fmt_code != 0 { fmt_code } else { clippy_code })
}

/// The cargo that runs us (`$CARGO`), with `CARGO_INCREMENTAL=0` in CI.
pub fn cargo() -> Command {
    let mut cargo = Command::new(std::env::var_os("CARGO").unwrap_or_else(|| OsString::from("cargo")));
    if std::env::var_os("CI").is_some() {
        cargo.env("CARGO_INCREMENTAL", "0");
    }
    cargo
}

fn ensure_nextest() -> Result<()> {
    let installed = cargo().args(["nextest", "--version"]).output().is_ok_and(|out| out.status.success());
    if !installed {
        println!("xtask: cargo-nextest not found; installing it: cargo install --locked cargo-nextest");
        run_checked(cargo().args(["install", "--locked", "cargo-nextest"]), "cargo install cargo-nextest")?;
    }
    Ok(())
}
