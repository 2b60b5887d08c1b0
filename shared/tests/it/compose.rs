//! The compose files configure only settings that exist: every `AJET_*` key they set names a
//! field of `Config` (figment reads `AJET_FOO_BAR` as `foo_bar` and ignores unknown keys, so
//! a misspelt or removed key would silently fall back to its default).

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use ajet_shared::config::Config;

/// The repository's `docker-compose*.yml` files.
fn compose_files() -> Vec<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("the workspace root");
    let mut files: Vec<PathBuf> = std::fs::read_dir(root)
        .expect("read the workspace root")
        .map(|entry| entry.expect("a directory entry").path())
        .filter(|path| {
            path.file_name()
                .and_then(|name| name.to_str())
                .is_some_and(|name| name.starts_with("docker-compose") && name.ends_with(".yml"))
        })
        .collect();
    files.sort();
    files
}

/// The `AJET_*` keys a compose file sets, in map (`AJET_X: v`) or list (`- AJET_X=v`) form;
/// comments and `${AJET_X}` interpolations are not settings.
fn keys_set(text: &str) -> Vec<(usize, String)> {
    text.lines()
        .enumerate()
        .filter_map(|(n, line)| {
            let line = line.trim_start();
            let line = line.strip_prefix("- ").map_or(line, str::trim_start);
            let line = line.trim_start_matches(['"', '\'']);
            let rest = line.strip_prefix("AJET_")?;
            let name_len = rest.find(|c: char| !(c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_'))?;
            let after = rest[name_len..].trim_start_matches(['"', '\'']);
            (after.starts_with(':') || after.starts_with('=')).then(|| (n + 1, rest[..name_len].to_ascii_lowercase()))
        })
        .collect()
}

#[test]
fn the_key_scanner_finds_settings_and_skips_comments_and_interpolations() {
    let text = "x:\n  AJET_LOG: info\n  - AJET_NATS_URL=nats://n\n  \"AJET_ENV\": prod\n  # AJET_NOPE: 1\n  \
                a: ${AJET_ALSO_NOPE:-x}\n  { \"k\": \"${AJET_S3_BUCKET}\" }\n";
    let keys: Vec<String> = keys_set(text).into_iter().map(|(_, key)| key).collect();
    assert_eq!(keys, ["log", "nats_url", "env"]);
}

#[test]
fn every_ajet_key_the_compose_files_set_is_a_config_setting() {
    let settings: BTreeSet<String> = match serde_json::to_value(Config::default()).expect("Config serializes") {
        serde_json::Value::Object(fields) => fields.into_iter().map(|(key, _)| key).collect(),
        other => panic!("Config serializes to an object, not {other}"),
    };
    let files = compose_files();
    assert!(files.len() >= 2, "the compose files are found: {files:?}");
    let mut unknown = Vec::new();
    let mut seen = 0;
    for file in &files {
        let text = std::fs::read_to_string(file).expect("read a compose file");
        for (line, key) in keys_set(&text) {
            seen += 1;
            // `AJET_CONFIG` names the TOML file to read, not a setting in it.
            if key != "config" && !settings.contains(&key) {
                unknown.push(format!("{}:{line}: AJET_{}", file.display(), key.to_ascii_uppercase()));
            }
        }
    }
    assert!(seen > 0, "the compose files set AJET_* keys");
    assert!(unknown.is_empty(), "keys that are not Config settings:\n{}", unknown.join("\n"));
}
