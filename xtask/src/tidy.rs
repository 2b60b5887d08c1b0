//! `tidy`: the repository's own rules, checked as a test (`cargo xtask test` runs it with
//! the rest): every Rust file says what it owns in a `//!` line, no debugging macro or ignored
//! test is left behind, no `mod.rs`, and dependencies point the way ARCHITECTURE.md says.

#[cfg(test)]
mod tests {
    use std::fs;
    use std::path::{Path, PathBuf};

    fn rust_files(dir: &Path, found: &mut Vec<PathBuf>) {
        let Ok(entries) = fs::read_dir(dir) else { return };
        for entry in entries.flatten() {
            let path = entry.path();
            let name = entry.file_name();
            let name = name.to_string_lossy();
            if path.is_dir() {
                if !name.starts_with('.') && name != "target" {
                    rust_files(&path, found);
                }
            } else if name.ends_with(".rs") {
                found.push(path);
            }
        }
    }

    fn workspace_files() -> Vec<PathBuf> {
        let root = crate::repo_root();
        let mut files = Vec::new();
        for krate in ["shared", "auth-gw", "api", "web-sm", "tui-sm", "cli", "xtask"] {
            rust_files(&root.join(krate), &mut files);
        }
        assert!(files.len() > 20, "found the sources");
        files
    }

    #[test]
    fn every_rust_file_starts_with_a_module_doc_and_leaves_nothing_behind() {
        let dbg = ["dbg", "!("].concat();
        let ignore = ["#[", "ignore"].concat();
        let mut problems = Vec::new();
        for file in workspace_files() {
            let text = fs::read_to_string(&file).expect("readable");
            let name = file.display();
            if !text.trim_start().starts_with("//!") {
                problems.push(format!("{name}: does not start with a `//!` line saying what it owns"));
            }
            if text.contains(&dbg) {
                problems.push(format!("{name}: contains a debugging macro"));
            }
            if text.contains(&ignore) {
                problems.push(format!("{name}: contains an ignored test"));
            }
            if file.file_name().is_some_and(|n| n == "mod.rs") {
                problems.push(format!("{name}: use `foo.rs` + `foo/`, not `mod.rs`"));
            }
        }
        assert!(problems.is_empty(), "{}", problems.join("\n"));
    }

    /// The `[dependencies]` section of a crate's manifest.
    fn dependencies(krate: &str) -> String {
        let manifest = fs::read_to_string(crate::repo_root().join(krate).join("Cargo.toml")).expect("manifest");
        let start = manifest.find("[dependencies]").expect("a [dependencies] section");
        let rest = &manifest[start + "[dependencies]".len()..];
        rest[..rest.find("\n[").unwrap_or(rest.len())].to_owned()
    }

    #[test]
    fn dependencies_point_one_way() {
        let services = ["ajet-auth-gw", "ajet-api", "ajet-web-sm", "ajet-tui-sm", "ajet-cli"];
        for krate in ["shared", "auth-gw", "api", "web-sm", "tui-sm", "cli"] {
            let deps = dependencies(krate);
            for service in services {
                assert!(
                    !deps.contains(&format!("{service} ")) && !deps.contains(&format!("{service}.")),
                    "{krate} depends on {service}: services talk over HTTP and NATS"
                );
            }
        }
        let cli = dependencies("cli");
        for heavy in ["sqlx", "async-nats", "aws-sdk-s3"] {
            assert!(!cli.contains(heavy), "the CLI must not pull in {heavy}");
        }
        assert!(cli.contains(r#"features = ["client"]"#), "the CLI uses shared's client feature only");
        assert!(!dependencies("shared").contains("aws-sdk-s3"), "the AWS SDK stays in the api's storage module");
    }
}
