//! The load generator of `cargo xtask bench`: raw SSE readers over several loopback source
//! addresses and paced publishers (`load`, over `http`), the people and channels a run
//! needs (`setup`), the scenarios beside their in-run ceilings (`scenarios`), the processes'
//! costs from `/proc` (`procs`) and the report (`report`). Bounded in count and time, and
//! loopback only: every address it connects to is 127.0.0.x.

pub mod http;
pub mod load;
pub mod procs;
pub mod report;
pub mod scenarios;
pub mod setup;

use anyhow::{Context, Result};
use rustix::process::{Resource, Rlimit, getrlimit, setrlimit};

/// Raises the open-descriptor limit to its hard limit (thousands of streams each hold one):
/// the new limit.
pub fn raise_fd_limit() -> Result<u64> {
    let limit = getrlimit(Resource::Nofile);
    let hard = limit.maximum;
    setrlimit(Resource::Nofile, Rlimit { current: hard, maximum: hard }).context("raising RLIMIT_NOFILE")?;
    Ok(hard.unwrap_or(u64::MAX))
}
