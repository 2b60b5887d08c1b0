//! `tidy`: the repository's own rules, checked as a test (`cargo xtask test` runs it with
//! the rest): every Rust file says what it owns in a `//!` line, no debugging macro or ignored
//! test is left behind, no `mod.rs`, dependencies point the way ARCHITECTURE.md says, SQL
//! lives only in `shared::db`, the session managers and the CLI do not compile the database
//! layer, no declared dependency goes unused, and the docs stand on their own.

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
        for krate in ["shared", "auth-gw", "api", "web-sm", "tui-sm", "cli", "xtask", "bench"] {
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

    /// The features a crate's `[dependencies]` enable on `ajet-shared`.
    fn shared_features(krate: &str) -> String {
        let deps = dependencies(krate);
        let line = deps.lines().find(|line| line.starts_with("ajet-shared")).expect("depends on ajet-shared");
        line.split_once("features").map_or_else(String::new, |(_, features)| features.to_owned())
    }

    #[test]
    fn session_managers_and_the_cli_do_not_compile_the_database_layer() {
        for krate in ["web-sm", "tui-sm", "cli"] {
            let features = shared_features(krate);
            for feature in ["\"db\"", "\"testing\""] {
                assert!(!features.contains(feature), "{krate} enables shared's {feature} feature: {features}");
            }
            assert!(!dependencies(krate).contains("sqlx"), "{krate} depends on sqlx");
        }
        let shared = fs::read_to_string(crate::repo_root().join("shared/Cargo.toml")).expect("manifest");
        let server = shared.lines().find(|line| line.starts_with("server =")).expect("a server feature");
        assert!(!server.contains("\"db\""), "shared's server feature must not imply db: {server}");
    }

    #[test]
    fn sql_is_written_only_in_shared_db() {
        let root = crate::repo_root();
        let query = ["sqlx::", "query"].concat();
        let mut problems = Vec::new();
        for file in workspace_files() {
            let relative = file.strip_prefix(&root).unwrap_or(&file).to_string_lossy().into_owned();
            // Tests may arrange state directly; the harness creates databases.
            let allowed = relative.starts_with("shared/src/db")
                || relative.contains("/tests/")
                || relative == "shared/src/testing.rs"
                || relative.starts_with("xtask/");
            if !allowed && fs::read_to_string(&file).expect("readable").contains(&query) {
                problems.push(format!("{relative}: SQL outside shared::db (add a function there)"));
            }
        }
        assert!(problems.is_empty(), "{}", problems.join("\n"));
    }

    /// Dependencies used without being named in the code (a feature switch, a provider
    /// installed for another crate), with the reason.
    const USED_UNNAMED: &[(&str, &str, &str)] = &[];

    #[test]
    fn no_dependency_is_declared_but_unused() {
        let root = crate::repo_root();
        let mut problems = Vec::new();
        for krate in ["shared", "auth-gw", "api", "web-sm", "tui-sm", "cli", "xtask", "bench"] {
            let mut files = Vec::new();
            rust_files(&root.join(krate).join("src"), &mut files);
            let code: String = files.iter().map(|file| fs::read_to_string(file).expect("readable")).collect();
            for line in dependencies(krate).lines() {
                let Some(name) = line.split([' ', '=', '.']).next().filter(|name| !name.is_empty()) else {
                    continue;
                };
                if name.starts_with('#') || USED_UNNAMED.iter().any(|(k, dep, _)| *k == krate && *dep == name) {
                    continue;
                }
                let ident = name.replace('-', "_");
                let used = [
                    format!("{ident}::"),
                    format!("use {ident}"),
                    format!("{ident}!"),
                    format!("extern crate {ident}"),
                ]
                .iter()
                .any(|form| code.contains(form.as_str()));
                if !used {
                    problems.push(format!("{krate} declares `{name}` but its code never names it"));
                }
            }
        }
        assert!(problems.is_empty(), "{}", problems.join("\n"));
    }

    #[test]
    fn docs_and_comments_stand_alone() {
        let root = crate::repo_root();
        let mut texts: Vec<PathBuf> = ["README.md", "ARCHITECTURE.md"].iter().map(|name| root.join(name)).collect();
        texts.extend(workspace_files());
        if let Ok(entries) = fs::read_dir(root.join("docs")) {
            texts.extend(entries.flatten().map(|entry| entry.path()));
        }
        // Spelled in pieces so this test does not find itself.
        let outside = ["../", "shared/"].concat();
        let seeds = ["seeds", "/"].concat();
        let card = ["design", " card"].concat();
        let design = ["DESIGN", " §"].concat();
        let design_file = ["DESIGN", ".md"].concat();
        let mut problems = Vec::new();
        for file in texts {
            let text = fs::read_to_string(&file).unwrap_or_default();
            for (number, line) in text.lines().enumerate() {
                let lowered = line.to_lowercase();
                let refers =
                    [&outside, &seeds, &design, &design_file].iter().any(|needle| line.contains(needle.as_str()));
                if refers || lowered.contains(&card) {
                    problems.push(format!("{}:{}: refers outside the repository: {line}", file.display(), number + 1));
                }
            }
        }
        assert!(problems.is_empty(), "{}", problems.join("\n"));
    }
}
