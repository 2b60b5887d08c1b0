//! `/readyz` of the api names the dependency that is down: with Postgres or S3 unreachable
//! it answers 503 with that check false and the others true, and 200 when all are up.

use std::time::{Duration, Instant};

use ajet_shared::config::{Config, Secret};
use ajet_shared::testing::{NatsServer, config, dead_address, fresh_database};
use reqwest::StatusCode;
use tokio_util::sync::CancellationToken;

/// Starts the api with `adjust` applied and returns its `/readyz` answer once the checks
/// named in `up` pass (the stream and the bucket are set up in the background at start).
async fn readyz(adjust: impl FnOnce(&mut Config), up: &[&str]) -> (StatusCode, serde_json::Value) {
    let db = fresh_database().await;
    let nats = NatsServer::start();
    let mut config = config(&db.url, &nats.url());
    config.migrate_on_start = false;
    adjust(&mut config);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let url = format!("http://{}/readyz", listener.local_addr().expect("address"));
    let shutdown = CancellationToken::new();
    let api = tokio::spawn(ajet_api::serve(config, listener, shutdown.clone()));
    let deadline = Instant::now() + Duration::from_secs(30);
    let (status, body) = loop {
        // The listener is bound, so the request waits for the server rather than failing.
        let response = reqwest::get(&url).await.expect("answers");
        let status = response.status();
        let body: serde_json::Value = response.json().await.expect("JSON");
        if up.iter().all(|check| body["checks"][check] == true) {
            break (status, body);
        }
        assert!(Instant::now() < deadline, "{up:?} not all ready after 30 s: {body}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    shutdown.cancel();
    api.await.expect("no panic").expect("a clean exit even with a dependency down");
    (status, body)
}

/// A case: its name, the change to the configuration, the status, and whether the
/// database, nats and s3 checks pass.
type Case = (&'static str, Box<dyn FnOnce(&mut Config)>, StatusCode, [bool; 3]);

#[tokio::test]
async fn readyz_names_the_dependency_that_is_down() {
    let dead_postgres = format!("postgres://ajet@{}/ajet", dead_address());
    let dead_s3 = format!("http://{}", dead_address());
    let cases: [Case; 3] = [
        ("all up", Box::new(|_| {}), StatusCode::OK, [true, true, true]),
        (
            "Postgres down",
            Box::new(move |config| config.database_url = Secret::new(dead_postgres)),
            StatusCode::SERVICE_UNAVAILABLE,
            [false, true, true],
        ),
        (
            "S3 down",
            Box::new(move |config| config.s3_endpoint = dead_s3),
            StatusCode::SERVICE_UNAVAILABLE,
            [true, true, false],
        ),
    ];
    // The cases run side by side: a dead Postgres costs seconds (the check's time bound,
    // and shutdown's last outbox drain waiting for a connection).
    let outcomes = futures::future::join_all(cases.into_iter().map(|(case, adjust, status, up)| async move {
        let names = ["database", "nats", "s3"];
        let passing: Vec<&str> = names.into_iter().zip(up).filter(|(_, up)| *up).map(|(name, _)| name).collect();
        (case, status, up, readyz(adjust, &passing).await)
    }))
    .await;
    for (case, status, [database, nats, s3], (got, body)) in outcomes {
        assert_eq!(got, status, "{case}: {body}");
        let expected = serde_json::json!({
            "status": if status == StatusCode::OK { "ready" } else { "unready" },
            "checks": {"database": database, "nats": nats, "s3": s3},
        });
        assert_eq!(body, expected, "{case}");
    }
}
