//! The OpenAPI description against the running stack: schemathesis (pinned, installed by
//! `cargo xtask test`) generates valid and invalid requests for every api operation from the
//! description and sends them through the gateway as a signed-in user. It must find no
//! server error, no status the description does not list, no answer whose content type or
//! body does not match it.

use std::process::Stdio;
use std::time::Duration;

use ajet_shared::api::wire::{CreateChannelRequest, CreateCommunityRequest, CreateMessageRequest};

use crate::stack::Stack;

/// Checks run on every answer (schemathesis names).
const CHECKS: &str = "not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_openapi_fuzzer_finds_no_server_error_and_no_answer_outside_the_description() {
    let schemathesis = std::env::var("AJET_TEST_SCHEMATHESIS")
        .unwrap_or_else(|_| panic!("AJET_TEST_SCHEMATHESIS is not set: run the tests through `cargo xtask test`"));
    // The fuzzer sends hundreds of requests a minute: lift the gateway's allowance so its
    // answers are the api's, not 429s.
    let stack = Stack::start_with(|config| config.rate_limit_per_minute = 1_000_000).await;
    let alice = stack.login("alice").await;
    // Something to find: a community, a channel and a message.
    let community = alice
        .create_community(&CreateCommunityRequest { name: "Fuzz".into(), slug: "fuzz".into(), description: None })
        .await
        .expect("community");
    let channel = alice
        .create_channel(community.id, &CreateChannelRequest { name: "general-2".into(), topic: None, kind: None })
        .await
        .expect("channel");
    alice
        .send_message(
            channel.id,
            &CreateMessageRequest {
                body_md: "hello".into(),
                parent_id: None,
                client_msg_id: None,
                attachment_ids: Vec::new(),
            },
        )
        .await
        .expect("message");

    let dir = tempdir();
    let spec = dir.join("openapi.json");
    std::fs::write(&spec, serde_json::to_vec(ajet_api::openapi()).expect("serialise")).expect("write the description");
    let token = alice.token().expect("a token").to_owned();
    // A fixed seed and size keep CI reproducible; set these to explore further by hand.
    let seed = std::env::var("AJET_FUZZ_SEED").unwrap_or_else(|_| "20261125".to_owned());
    let examples = std::env::var("AJET_FUZZ_EXAMPLES").unwrap_or_else(|_| "12".to_owned());
    let run = tokio::process::Command::new("python3")
        .arg(format!("{schemathesis}/bin/st"))
        .args(["run", spec.to_str().expect("utf-8 path"), "--url", alice.base_url()])
        .args(["--header", &format!("Authorization: Bearer {token}")])
        .args(["--checks", CHECKS, "--max-examples", &examples, "--seed", &seed, "--workers", "2"])
        // The coverage phase trips a CPython 3.11 bug in `ast` ("AST constructor recursion
        // depth mismatch", fixed in 3.11.8; Debian 12 ships 3.11.2) inside hypothesis, and
        // reports it as the tool's own runtime error; the fuzzing phase generates valid and
        // invalid inputs alike.
        .args(["--phases", "examples,fuzzing,stateful"])
        .args(["--request-timeout", "10", "--no-color", "--warnings", "off", "--report-dir"])
        .arg(dir.join("report"))
        .env("PYTHONPATH", &schemathesis)
        .env("SCHEMATHESIS_HOOKS", "")
        .current_dir(&dir)
        .stdin(Stdio::null())
        .kill_on_drop(true)
        .output();
    let output = tokio::time::timeout(Duration::from_secs(400), run)
        .await
        .expect("schemathesis finishes within 400 s")
        .expect("schemathesis runs");
    let report = format!("{}\n{}", String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr));
    println!("{report}");
    assert!(output.status.success(), "schemathesis found problems (exit {:?}):\n{report}", output.status.code());
    stack.stop().await;
}

/// A fresh folder under the test infra's temporary directory.
fn tempdir() -> std::path::PathBuf {
    let root = std::env::var("AJET_TEST_TMPDIR").map_or_else(|_| std::env::temp_dir(), std::path::PathBuf::from);
    let dir = root.join(format!("fuzz-{}", uuid::Uuid::now_v7()));
    std::fs::create_dir_all(&dir).expect("create a temporary folder");
    dir
}
