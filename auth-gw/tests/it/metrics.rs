//! `/metrics` of every service is valid Prometheus text (each line a comment, a `# TYPE`
//! or a sample that parses) and its `http_requests_total` counts a request it served.

use std::collections::{BTreeMap, HashSet};

use reqwest::StatusCode;

use crate::stack::Stack;

/// One sample line: the metric name, its labels and its value.
#[derive(Debug, PartialEq)]
struct Sample {
    name: String,
    labels: BTreeMap<String, String>,
    value: f64,
}

fn is_metric_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_' || c == ':')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == ':')
}

fn is_label_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

fn parse_value(text: &str) -> Result<f64, String> {
    match text {
        "NaN" => Ok(f64::NAN),
        "+Inf" => Ok(f64::INFINITY),
        "-Inf" => Ok(f64::NEG_INFINITY),
        _ => text.parse().map_err(|e| format!("value {text:?}: {e}")),
    }
}

/// `name="value",...}` after the opening brace: the labels and the rest of the line.
fn parse_labels(mut rest: &str) -> Result<(BTreeMap<String, String>, &str), String> {
    let mut labels = BTreeMap::new();
    loop {
        if let Some(after) = rest.strip_prefix('}') {
            return Ok((labels, after));
        }
        let (name, after) = rest.split_once("=\"").ok_or("a label without =\"")?;
        if !is_label_name(name) {
            return Err(format!("label name {name:?}"));
        }
        let mut value = String::new();
        let mut chars = after.char_indices();
        let end = loop {
            match chars.next() {
                Some((i, '"')) => break i,
                Some((_, '\\')) => match chars.next() {
                    Some((_, '\\')) => value.push('\\'),
                    Some((_, '"')) => value.push('"'),
                    Some((_, 'n')) => value.push('\n'),
                    other => return Err(format!("escape \\{other:?} in label {name}")),
                },
                Some((_, c)) => value.push(c),
                None => return Err(format!("label {name} is not closed")),
            }
        };
        if labels.insert(name.to_owned(), value).is_some() {
            return Err(format!("label {name} twice"));
        }
        rest = &after[end + 1..];
        rest = rest.strip_prefix(',').unwrap_or(rest);
    }
}

/// A sample line: `name[{labels}] value [timestamp]`.
fn parse_sample(line: &str) -> Result<Sample, String> {
    let name_end = line.find(['{', ' ']).ok_or("no value")?;
    let name = &line[..name_end];
    if !is_metric_name(name) {
        return Err(format!("metric name {name:?}"));
    }
    let (labels, rest) = match line[name_end..].strip_prefix('{') {
        Some(rest) => parse_labels(rest)?,
        None => (BTreeMap::new(), &line[name_end..]),
    };
    let mut fields = rest.strip_prefix(' ').ok_or("no space before the value")?.split(' ');
    let value = parse_value(fields.next().ok_or("no value")?)?;
    if let Some(timestamp) = fields.next() {
        timestamp.parse::<i64>().map_err(|e| format!("timestamp {timestamp:?}: {e}"))?;
    }
    if fields.next().is_some() {
        return Err("more than a value and a timestamp".into());
    }
    Ok(Sample { name: name.to_owned(), labels, value })
}

/// Parses a whole exposition: every sample's family has its `# TYPE` first.
fn parse_exposition(text: &str) -> Result<Vec<Sample>, String> {
    let mut typed = HashSet::new();
    let mut samples = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let fail = |e: String| format!("line {}: {e}: {line:?}", n + 1);
        if line.is_empty() {
            continue;
        }
        if let Some(comment) = line.strip_prefix('#') {
            let words: Vec<&str> = comment.split_whitespace().collect();
            match words.as_slice() {
                ["TYPE", name, kind] => {
                    if !is_metric_name(name) {
                        return Err(fail(format!("metric name {name:?}")));
                    }
                    if !["counter", "gauge", "histogram", "summary", "untyped"].contains(kind) {
                        return Err(fail(format!("type {kind:?}")));
                    }
                    if !typed.insert((*name).to_owned()) {
                        return Err(fail(format!("{name} typed twice")));
                    }
                }
                ["TYPE", ..] => return Err(fail("a TYPE line needs a name and a type".into())),
                ["HELP", name, ..] if !is_metric_name(name) => return Err(fail(format!("metric name {name:?}"))),
                _ => {}
            }
            continue;
        }
        let sample = parse_sample(line).map_err(fail)?;
        let family = ["_sum", "_count", "_bucket"]
            .iter()
            .find_map(|suffix| sample.name.strip_suffix(suffix).filter(|base| typed.contains(*base)))
            .unwrap_or(&sample.name);
        if !typed.contains(family) {
            return Err(fail(format!("{} has no # TYPE before it", sample.name)));
        }
        samples.push(sample);
    }
    Ok(samples)
}

#[test]
fn the_parser_refuses_malformed_lines() {
    let good = "# HELP x_total A counter.\n# TYPE x_total counter\nx_total{a=\"q\\\"uote\",b=\"\"} 3 1700000000\n\
                # TYPE y summary\ny{quantile=\"0.5\"} NaN\ny_sum 1.5e3\ny_count +Inf\n";
    let samples = parse_exposition(good).expect("valid");
    assert_eq!(samples[0].labels["a"], "q\"uote");
    assert_eq!(samples.len(), 4);
    for bad in [
        "x_total 1",
        "# TYPE x_total counter\nx_total{a=\"1} 1",
        "# TYPE x_total counter\nx_total{a=1} 1",
        "# TYPE x_total counter\nx_total{1a=\"1\"} 1",
        "# TYPE x_total counter\nx_total one",
        "# TYPE x_total counter\nx_total 1 2 3",
        "# TYPE x_total counter\nx_total{a=\"1\",a=\"2\"} 1",
        "# TYPE x_total kounter",
        "# TYPE 1x counter",
        "# TYPE x_total counter\nx-total 1",
    ] {
        assert!(parse_exposition(bad).is_err(), "accepted {bad:?}");
    }
}

/// The scraped and parsed `/metrics` of the service at `base`.
async fn scrape(base: &str) -> Vec<Sample> {
    let response = reqwest::get(format!("{base}/metrics")).await.expect("answers");
    assert_eq!(response.status(), StatusCode::OK);
    let content_type = response.headers()["content-type"].to_str().expect("ascii").to_owned();
    assert!(content_type.starts_with("text/plain; version=0.0.4"), "{base}/metrics is {content_type}");
    let text = response.text().await.expect("text");
    parse_exposition(&text).unwrap_or_else(|e| panic!("{base}/metrics is not Prometheus text: {e}\n{text}"))
}

/// `http_requests_total` of `service` for `method route` answered `status` (0 if absent).
fn requests(samples: &[Sample], service: &str, method: &str, route: &str, status: &str) -> f64 {
    let wanted = [("service", service), ("method", method), ("route", route), ("status", status)];
    samples
        .iter()
        .filter(|s| s.name == "http_requests_total")
        .filter(|s| wanted.iter().all(|(k, v)| s.labels.get(*k).map(String::as_str) == Some(*v)))
        .map(|s| s.value)
        .sum()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_services_metrics_parse_and_count_the_requests_it_served() {
    let stack = Stack::start().await;
    let alice = stack.login("alice").await;
    let token = alice.token().expect("a session").to_owned();
    let gateway = stack.gateway.base_url().to_owned();
    let http = reqwest::Client::new();
    // (service label, its base URL, a request it serves, that request's route label)
    let services = [
        ("api", stack.config.api_url.clone(), "GET", "/api/me"),
        ("auth-gw", gateway.clone(), "POST", "/auth/logout"),
        ("tui-sm", stack.config.tui_url.clone(), "GET", "/healthz"),
        ("web-sm", stack.config.web_url.clone(), "GET", "/healthz"),
    ];
    for (service, base, method, route) in services {
        let before = scrape(&base).await;
        let request = match method {
            "GET" => http.get(format!("{base}{route}")),
            _ => http.post(format!("{base}{route}")).header("origin", &gateway),
        };
        let response = request.bearer_auth(&token).send().await.expect("answers");
        assert!(response.status().is_success(), "{service} {method} {route}: {}", response.status());
        let status = response.status().as_u16().to_string();
        let after = scrape(&base).await;
        let (was, now) =
            (requests(&before, service, method, route, &status), requests(&after, service, method, route, &status));
        assert!(
            now >= was + 1.0,
            "{service}'s http_requests_total for {method} {route} {status} did not increase ({was} -> {now})"
        );
        assert!(
            after.iter().any(|s| s.name == "http_request_duration_seconds_count"
                && s.labels.get("service").map(String::as_str) == Some(service)),
            "{service} records request durations"
        );
    }
    stack.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_search_indexers_work_shows_in_the_apis_metrics() {
    use ajet_shared::api::wire::CreateMessageRequest;
    let stack = Stack::start().await;
    let (alice, _bob, channel) = crate::skeleton::two_users(&stack).await;
    let indexed =
        |samples: &[Sample]| samples.iter().filter(|s| s.name == "search_indexed_total").map(|s| s.value).sum::<f64>();
    let before = indexed(&scrape(&stack.config.api_url).await);
    let message = CreateMessageRequest {
        body_md: "to be found".into(),
        parent_id: None,
        client_msg_id: None,
        attachment_ids: Vec::new(),
    };
    alice.send_message(channel.id, &message).await.expect("sent");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        let now = indexed(&scrape(&stack.config.api_url).await);
        if now > before {
            break;
        }
        assert!(std::time::Instant::now() < deadline, "search_indexed_total stayed at {now} for 10 s");
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    stack.stop().await;
}
