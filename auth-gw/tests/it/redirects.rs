//! Open redirects: every place the gateway takes a "where to go afterwards" target — the
//! login page's `next` (carried in its form), the dev-login form's `next`, and the OAuth
//! start's `redirect` (followed at the callback) — is fed a table of payloads that browsers
//! would turn into another site (tabs and newlines they drop, `\` they read as `/`, schemes,
//! percent-encoded variants). Where a browser would land is computed as a browser does
//! (WHATWG URL parsing: tab/CR/LF removed, backslashes as slashes) and must be our origin.

use reqwest::{StatusCode, Url};

use crate::oauth::{authorize, no_redirects, provider_stack};
use crate::provider::StandIn;
use crate::stack::Stack;

const PAYLOADS: [&str; 20] = [
    "/\t/evil.example",
    "/\n/evil.example",
    "/\r\n/evil.example",
    " //evil.example",
    "//evil.example",
    "/\\evil.example",
    "\\/evil.example",
    "/\\/evil.example",
    "https://evil.example/",
    "https:evil.example",
    "javascript:alert(document.domain)",
    "/%09/evil.example",
    "%2F%2Fevil.example",
    "/%2F/evil.example",
    "/%5Cevil.example",
    // Dot segments collapse to `//evil.example` once resolved.
    "/.//evil.example",
    "/a/..//evil.example",
    "/%2e//evil.example",
    "/%5C%5Cevil.example",
    "\t//evil.example",
];

/// Where a browser at `public_url` goes when sent to `target` (a `Location` or a meta
/// refresh URL): the `url` crate implements the WHATWG URL parser browsers use.
fn landing(public_url: &str, target: &str) -> Url {
    Url::parse(public_url).expect("public url").join(target).expect("a browser can resolve the target")
}

fn assert_ours(public_url: &str, target: &str, payload: &str, via: &str) {
    let ours = Url::parse(public_url).expect("public url").origin();
    let landed = landing(public_url, target);
    assert_eq!(landed.origin(), ours, "{via}: {payload:?} sent the browser to {landed} (target {target:?})");
}

fn unescape(html: &str) -> String {
    html.replace("&quot;", "\"").replace("&lt;", "<").replace("&gt;", ">").replace("&#39;", "'").replace("&amp;", "&")
}

/// The value of the attribute starting right after `marker` in `page`, unescaped.
fn attribute_after(page: &str, marker: &str) -> Option<String> {
    let start = page.find(marker)? + marker.len();
    let end = page[start..].find('"')?;
    Some(unescape(&page[start..start + end]))
}

/// Logs in with the dev-login form carrying `next`; returns the `Location` it answers.
async fn dev_login_location(stack: &Stack, next: &str) -> String {
    let response = no_redirects()
        .post(format!("{}/auth/dev-login", stack.gateway.base_url()))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(format!("username=alice&next={}", url_encode(next)))
        .send()
        .await
        .expect("answers");
    assert_eq!(response.status(), StatusCode::SEE_OTHER, "next {next:?}");
    response.headers()["location"].to_str().expect("ascii").to_owned()
}

#[tokio::test]
async fn the_login_forms_next_never_leaves_our_origin() {
    let stack = Stack::start_with(|config| config.login_rate_limit_per_minute = 10_000).await;
    let public = stack.config.public_url.clone();
    assert_eq!(dev_login_location(&stack, "/c/acme?x=1").await, "/c/acme?x=1", "a local path is kept");
    for payload in PAYLOADS {
        let location = dev_login_location(&stack, payload).await;
        assert_ours(&public, &location, payload, "dev-login next");

        // The login page carries `next` into its form; what the form posts back is judged
        // again, and must not lead away either.
        let page = reqwest::Client::new()
            .get(format!("{}/auth/login?next={}", stack.gateway.base_url(), url_encode(payload)))
            .send()
            .await
            .expect("answers")
            .text()
            .await
            .expect("page");
        if let Some(next) = attribute_after(&page, "name=\"next\" value=\"") {
            assert_ours(&public, &next, payload, "login page hidden next");
            let location = dev_login_location(&stack, &next).await;
            assert_ours(&public, &location, payload, "login page form");
        }
    }
    stack.stop().await;
}

#[tokio::test]
async fn the_oauth_redirect_never_leaves_our_origin() {
    let stand_in = StandIn::start().await;
    let stack = provider_stack(&stand_in).await;
    let public = stack.config.public_url.clone();
    let base = stack.gateway.base_url().to_owned();
    let mut cases: Vec<(String, String)> =
        vec![(format!("{base}/auth/github/start?redirect=%2Fc%2Facme%3Fx%3D1"), "/c/acme?x=1".to_owned())];
    for payload in PAYLOADS {
        let encoded: String = url_encode(payload);
        cases.push((format!("{base}/auth/github/start?redirect={encoded}"), payload.to_owned()));
        // The login page hands `next` to each provider's start link.
        let options: serde_json::Value = reqwest::Client::new()
            .get(format!("{base}/auth/login?next={encoded}"))
            .header("accept", "application/json")
            .send()
            .await
            .expect("answers")
            .json()
            .await
            .expect("json");
        let start_url = options["providers"][0]["start_url"].as_str().expect("a start url");
        cases.push((format!("{base}{start_url}"), payload.to_owned()));
    }
    for (index, (start_url, payload)) in cases.iter().enumerate() {
        let response = no_redirects().get(start_url).send().await.expect("start");
        assert_eq!(response.status(), StatusCode::SEE_OTHER, "{start_url}");
        let cookie = response
            .headers()
            .get_all("set-cookie")
            .iter()
            .filter_map(|value| value.to_str().ok())
            .find(|value| value.starts_with("ajet_oauth="))
            .and_then(|value| value.split(';').next())
            .expect("the attempt cookie")
            .to_owned();
        let authorize_url = response.headers()["location"].to_str().expect("ascii").to_owned();
        let callback_url = authorize(&authorize_url).await;
        let page = no_redirects()
            .get(&callback_url)
            .header("cookie", cookie)
            .send()
            .await
            .expect("callback")
            .text()
            .await
            .expect("page");
        let target = attribute_after(&page, "content=\"0;url=").unwrap_or_else(|| panic!("a refresh: {page}"));
        if index == 0 {
            assert_eq!(target, "/c/acme?x=1", "a local path is kept");
        }
        assert_ours(&public, &target, payload, "oauth redirect");
        let link = attribute_after(&page, "<a href=\"").expect("a continue link");
        assert_ours(&public, &link, payload, "oauth continue link");
    }
    stack.stop().await;
}

fn url_encode(raw: &str) -> String {
    raw.bytes().map(|b| if b.is_ascii_alphanumeric() { (b as char).to_string() } else { format!("%{b:02X}") }).collect()
}
