//! `ajet-chat login` in the browser, like `gh auth login`: listen on a random
//! `127.0.0.1` port, open (or print) the gateway's `/auth/cli?port=&state=` consent page,
//! wait for the browser to be sent to `/callback?code=&state=`, check the state, and trade
//! the code at `/auth/cli/exchange` for a session of this computer's own.

use std::io::Read as _;
use std::time::Duration;

use ajet_shared::api::wire::{CliExchangeRequest, LoginResponse};
use ajet_shared::client::ApiClient;
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::{TcpListener, TcpStream};

use crate::failure::Failure;

/// How long the browser has to confirm.
const WAIT: Duration = Duration::from_secs(300);

/// A random state for this login: 32 hex characters from the OS.
fn random_state() -> Result<String, Failure> {
    let mut bytes = [0u8; 16];
    std::fs::File::open("/dev/urandom")
        .and_then(|mut random| random.read_exact(&mut bytes))
        .map_err(|err| Failure::Io(format!("cannot read randomness: {err}")))?;
    Ok(bytes.iter().map(|b| format!("{b:02x}")).collect())
}

/// Tries the platform's opener; false if there is none.
fn open_browser(url: &str) -> bool {
    let opener = if cfg!(target_os = "macos") { "open" } else { "xdg-open" };
    std::process::Command::new(opener)
        .arg(url)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .is_ok()
}

/// Runs the browser flow against `client`'s server and returns the new session.
pub async fn browser(client: &ApiClient, no_browser: bool) -> Result<LoginResponse, Failure> {
    let listener = TcpListener::bind("127.0.0.1:0")
        .await
        .map_err(|err| Failure::Io(format!("cannot listen on 127.0.0.1: {err}")))?;
    let port = listener.local_addr().map_err(|err| Failure::Io(err.to_string()))?.port();
    let state = random_state()?;
    let url = format!("{}/auth/cli?port={port}&state={state}", client.base_url());
    let opened = !no_browser && open_browser(&url);
    if opened {
        eprintln!("Opening your browser to sign in. If it does not open, visit:\n  {url}");
    } else {
        eprintln!("Open this URL in a browser where you are signed in to ajet-chat:\n  {url}");
    }
    eprintln!("Confirm there that the login state is {state}. Waiting…");
    let code = tokio::time::timeout(WAIT, callback(&listener, &state))
        .await
        .map_err(|_| Failure::Io("no confirmation from the browser within 5 minutes".into()))??;
    Ok(client.exchange_cli_code(&CliExchangeRequest { code, state }).await?)
}

/// Answers loopback requests until the one carrying our state's code arrives.
async fn callback(listener: &TcpListener, state: &str) -> Result<String, Failure> {
    loop {
        let (mut stream, _) = listener.accept().await.map_err(|err| Failure::Io(err.to_string()))?;
        let Some(target) = request_target(&mut stream).await else { continue };
        let query = target.strip_prefix("/callback?").map(parse_query);
        match query {
            Some(fields) if field(&fields, "state") == Some(state) => {
                if let Some(code) = field(&fields, "code").filter(|code| !code.is_empty()) {
                    respond(&mut stream, "200 OK", "Signed in. You can close this tab and return to the terminal.")
                        .await;
                    return Ok(code.to_owned());
                }
                respond(&mut stream, "400 Bad Request", "No code in this callback.").await;
            }
            Some(_) => respond(&mut stream, "400 Bad Request", "This callback is not for this login.").await,
            None => respond(&mut stream, "404 Not Found", "Not found.").await,
        }
    }
}

/// The path and query of an HTTP request's first line, if it is a GET.
async fn request_target(stream: &mut TcpStream) -> Option<String> {
    let mut head = Vec::new();
    let mut buffer = [0u8; 1024];
    while !head.windows(4).any(|w| w == b"\r\n\r\n") && head.len() < 16 * 1024 {
        let read = tokio::time::timeout(Duration::from_secs(10), stream.read(&mut buffer)).await.ok()?.ok()?;
        if read == 0 {
            break;
        }
        head.extend_from_slice(&buffer[..read]);
    }
    let head = String::from_utf8_lossy(&head);
    let mut parts = head.lines().next()?.split(' ');
    (parts.next()? == "GET").then_some(())?;
    parts.next().map(str::to_owned)
}

fn parse_query(query: &str) -> Vec<(String, String)> {
    query
        .split('&')
        .filter_map(|pair| pair.split_once('='))
        .map(|(name, value)| (percent_decode(name), percent_decode(value)))
        .collect()
}

fn field<'a>(fields: &'a [(String, String)], name: &str) -> Option<&'a str> {
    fields.iter().find(|(n, _)| n == name).map(|(_, value)| value.as_str())
}

fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let decoded = (bytes[i] == b'%')
            .then(|| bytes.get(i + 1..i + 3))
            .flatten()
            .and_then(|hex| u8::from_str_radix(std::str::from_utf8(hex).ok()?, 16).ok());
        match decoded {
            Some(byte) => {
                out.push(byte);
                i += 3;
            }
            None => {
                out.push(if bytes[i] == b'+' { b' ' } else { bytes[i] });
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

async fn respond(stream: &mut TcpStream, status: &str, text: &str) {
    let body = format!("<!doctype html><meta charset=\"utf-8\"><title>ajet-chat</title><p>{text}</p>");
    let response = format!(
        "HTTP/1.1 {status}\r\ncontent-type: text/html; charset=utf-8\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
        body.len()
    );
    // The browser may have gone; the login's outcome does not depend on this page.
    let _ = stream.write_all(response.as_bytes()).await;
    let _ = stream.shutdown().await;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn callback_queries_are_decoded() {
        let fields = parse_query("code=a%2Db_c&state=s1&x=%zz+y");
        assert_eq!(field(&fields, "code"), Some("a-b_c"));
        assert_eq!(field(&fields, "state"), Some("s1"));
        assert_eq!(field(&fields, "x"), Some("%zz y"));
        assert_eq!(field(&fields, "missing"), None);
    }

    #[test]
    fn states_are_random_and_url_safe() {
        let (a, b) = (random_state().expect("state"), random_state().expect("state"));
        assert_ne!(a, b);
        assert!(a.len() == 32 && a.bytes().all(|c| c.is_ascii_hexdigit()), "{a}");
    }
}
