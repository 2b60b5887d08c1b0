//! Profiles and their tokens: `$XDG_CONFIG_HOME/ajet-chat/config.json` (else
//! `~/.config/ajet-chat/config.json`), a directory of mode 0700 and a file of mode 0600,
//! written whole to a temporary file and renamed over the old one. A profile names one
//! server, the token signed in there, and the community `#channel` names resolve in.
//! `AJET_CONFIG_DIR` moves the directory (tests, several accounts side by side).

use std::collections::BTreeMap;
use std::io::Write as _;
use std::os::unix::fs::{DirBuilderExt as _, OpenOptionsExt as _, PermissionsExt as _};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::failure::Failure;

/// The profile used when none is named and none is the default.
pub const DEFAULT_PROFILE: &str = "default";

/// The gateway of a local dev stack, used when nothing names a server.
pub const DEFAULT_SERVER: &str = "http://localhost:8080";

/// The whole file.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConfigFile {
    /// The profile used without `--profile`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default_profile: Option<String>,
    #[serde(default)]
    pub profiles: BTreeMap<String, Profile>,
}

/// One server and who is signed in there.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Profile {
    pub server: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token: Option<String>,
    /// The username the token belongs to (shown by `whoami` and `logout`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub username: Option<String>,
    /// The community (slug) names resolve in; the first one when unset.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub community: Option<String>,
}

/// Where the configuration lives.
#[must_use]
pub fn dir() -> Option<PathBuf> {
    let from_env = |name: &str| std::env::var_os(name).filter(|value| !value.is_empty()).map(PathBuf::from);
    from_env("AJET_CONFIG_DIR")
        .or_else(|| from_env("XDG_CONFIG_HOME").map(|dir| dir.join("ajet-chat")))
        .or_else(|| from_env("HOME").map(|home| home.join(".config").join("ajet-chat")))
}

fn file_in(dir: &Path) -> PathBuf {
    dir.join("config.json")
}

impl ConfigFile {
    /// Reads the file, or an empty configuration if there is none yet.
    pub fn load() -> Result<Self, Failure> {
        let Some(dir) = dir() else { return Ok(Self::default()) };
        let path = file_in(&dir);
        match std::fs::read_to_string(&path) {
            Ok(text) => serde_json::from_str(&text)
                .map_err(|err| Failure::Config(format!("{} is not a valid configuration: {err}", path.display()))),
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => Ok(Self::default()),
            Err(err) => Err(Failure::Config(format!("cannot read {}: {err}", path.display()))),
        }
    }

    /// Writes the file (mode 0600 in a 0700 directory), replacing the old one atomically.
    pub fn save(&self) -> Result<PathBuf, Failure> {
        let dir = dir().ok_or_else(|| {
            Failure::Config("no configuration directory: set XDG_CONFIG_HOME, HOME or AJET_CONFIG_DIR".into())
        })?;
        let io =
            |what: &str, path: &Path, err: std::io::Error| Failure::Config(format!("{what} {}: {err}", path.display()));
        std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(&dir)
            .map_err(|err| io("cannot create", &dir, err))?;
        let path = file_in(&dir);
        let temporary = dir.join(format!(".config.json.{}", std::process::id()));
        let mut text = serde_json::to_string_pretty(self).map_err(|err| Failure::Config(err.to_string()))?;
        text.push('\n');
        let mut file = std::fs::OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .mode(0o600)
            .open(&temporary)
            .map_err(|err| io("cannot write", &temporary, err))?;
        // The mode above applies only to a new file: make sure of it.
        file.set_permissions(std::fs::Permissions::from_mode(0o600))
            .map_err(|err| io("cannot protect", &temporary, err))?;
        file.write_all(text.as_bytes())
            .and_then(|()| file.sync_all())
            .map_err(|err| io("cannot write", &temporary, err))?;
        std::fs::rename(&temporary, &path).map_err(|err| io("cannot replace", &path, err))?;
        Ok(path)
    }

    /// The name of the profile in use: `--profile`, else the default one.
    #[must_use]
    pub fn profile_name(&self, chosen: Option<&str>) -> String {
        chosen.or(self.default_profile.as_deref()).unwrap_or(DEFAULT_PROFILE).to_owned()
    }
}
