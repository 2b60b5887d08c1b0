//! `cargo xtask test`: throwaway infra, then every test tier through nextest plus doc tests,
//! tearing the infra down whatever happens and passing the tests' exit code on.

use std::ffi::OsString;
use std::process::Command;

use anyhow::Result;

use crate::infra::Infra;
use crate::process::{exit_code, run_checked, run_interruptible};
use crate::{interrupted, repo_root, tools};

const INTERRUPTED_EXIT: u8 = 130;

pub fn run(nextest_args: &[String]) -> Result<u8> {
    let root = repo_root();
    let tools = tools::ensure(&root)?;
    ensure_nextest()?;
    let infra = Infra::start_throwaway(&tools)?;
    println!("xtask: test infra: {}", infra.summary());
    let env = infra.test_env();

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
    } else if nextest_code != 0 {
        nextest_code
    } else {
        doc_code
    })
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
