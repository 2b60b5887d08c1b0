//! Raw HTTP/1.1 over loopback TCP: what the readers and publishers speak, with no client
//! library between the measurement and the socket. A connection may bind one of several
//! 127.0.0.x source addresses, so tens of thousands of streams do not exhaust one
//! address's ephemeral ports.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};

use anyhow::{Context, Result, bail};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpSocket, TcpStream};

/// How many loopback source addresses connections are spread over (127.0.0.2 …).
const SOURCES: u8 = 8;

/// Connects to `addr` from the loopback source address `127.0.0.(2 + index % 8)`.
pub async fn connect(addr: SocketAddr, index: usize) -> Result<TcpStream> {
    let last = 2 + u8::try_from(index % usize::from(SOURCES)).unwrap_or(0);
    let socket = TcpSocket::new_v4().context("a socket")?;
    socket
        .bind(SocketAddr::new(IpAddr::V4(Ipv4Addr::new(127, 0, 0, last)), 0))
        .context("binding a loopback source address")?;
    let stream = socket.connect(addr).await.with_context(|| format!("connecting to {addr}"))?;
    stream.set_nodelay(true).context("TCP_NODELAY")?;
    Ok(stream)
}

/// One answer: its status, whether it carried `Retry-After`, whether the server closes
/// the connection after it, and its body.
#[derive(Debug)]
pub struct Response {
    pub status: u16,
    pub retry_after: bool,
    pub close: bool,
    pub body: Vec<u8>,
}

/// A keep-alive connection that sends requests one after another.
pub struct Conn {
    addr: SocketAddr,
    index: usize,
    stream: Option<TcpStream>,
    buf: Vec<u8>,
}

impl Conn {
    #[must_use]
    pub fn new(addr: SocketAddr, index: usize) -> Self {
        Self { addr, index, stream: None, buf: Vec::new() }
    }

    /// Sends `request` (a whole request, head and body) and reads the answer; reconnects
    /// when the previous answer closed the connection.
    pub async fn send(&mut self, request: &[u8]) -> Result<Response> {
        let result = self.exchange(request).await;
        match &result {
            Ok(response) if !response.close => {}
            _ => {
                self.stream = None;
                self.buf.clear();
            }
        }
        result
    }

    async fn exchange(&mut self, request: &[u8]) -> Result<Response> {
        if self.stream.is_none() {
            self.stream = Some(connect(self.addr, self.index).await?);
        }
        let Some(stream) = self.stream.as_mut() else { bail!("no connection") };
        stream.write_all(request).await.context("writing a request")?;
        read_response(stream, &mut self.buf).await
    }
}

/// The end of the head in `buf`, if it is all there (the index after `\r\n\r\n`).
#[must_use]
pub fn head_end(buf: &[u8]) -> Option<usize> {
    buf.windows(4).position(|w| w == b"\r\n\r\n").map(|at| at + 4)
}

/// Reads one response (`Content-Length` or chunked) from `stream`; `buf` keeps what was
/// read past it.
pub async fn read_response(stream: &mut TcpStream, buf: &mut Vec<u8>) -> Result<Response> {
    let end = loop {
        if let Some(end) = head_end(buf) {
            break end;
        }
        fill(stream, buf).await?;
    };
    let head = String::from_utf8_lossy(&buf[..end]).to_ascii_lowercase();
    let status = status_of(&head)?;
    let header = |name: &str| {
        head.lines().find_map(|line| line.strip_prefix(name).and_then(|rest| rest.strip_prefix(':')).map(str::trim))
    };
    let retry_after = header("retry-after").is_some();
    let close = header("connection") == Some("close");
    let chunked = header("transfer-encoding").is_some_and(|v| v.contains("chunked"));
    let length = header("content-length").map(str::parse::<usize>).transpose().context("Content-Length")?;
    buf.drain(..end);
    let body = if chunked {
        read_chunked(stream, buf).await?
    } else {
        let length = length.unwrap_or(0);
        while buf.len() < length {
            fill(stream, buf).await?;
        }
        buf.drain(..length).collect()
    };
    Ok(Response { status, retry_after, close, body })
}

/// The status code of a response head (lowercased or not).
pub fn status_of(head: &str) -> Result<u16> {
    head.split(' ')
        .nth(1)
        .and_then(|code| code.parse().ok())
        .with_context(|| format!("not an HTTP response: {}", head.lines().next().unwrap_or_default()))
}

async fn read_chunked(stream: &mut TcpStream, buf: &mut Vec<u8>) -> Result<Vec<u8>> {
    let mut body = Vec::new();
    loop {
        let line_end = loop {
            if let Some(at) = buf.windows(2).position(|w| w == b"\r\n") {
                break at;
            }
            fill(stream, buf).await?;
        };
        let size_text = String::from_utf8_lossy(&buf[..line_end]).into_owned();
        let size = usize::from_str_radix(size_text.split(';').next().unwrap_or_default().trim(), 16)
            .with_context(|| format!("a chunk size: {size_text:?}"))?;
        while buf.len() < line_end + 2 + size + 2 {
            fill(stream, buf).await?;
        }
        body.extend_from_slice(&buf[line_end + 2..line_end + 2 + size]);
        buf.drain(..line_end + 2 + size + 2);
        if size == 0 {
            return Ok(body);
        }
    }
}

async fn fill(stream: &mut TcpStream, buf: &mut Vec<u8>) -> Result<()> {
    let mut chunk = [0_u8; 16 * 1024];
    let n = stream.read(&mut chunk).await.context("reading a response")?;
    if n == 0 {
        bail!("the connection closed mid-response");
    }
    buf.extend_from_slice(&chunk[..n]);
    Ok(())
}

/// A request with a JSON body.
#[must_use]
pub fn post_json(host: SocketAddr, path: &str, token: Option<&str>, body: &str) -> Vec<u8> {
    let auth = token.map(|t| format!("Authorization: Bearer {t}\r\n")).unwrap_or_default();
    format!(
        "POST {path} HTTP/1.1\r\nHost: {host}\r\n{auth}Content-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    )
    .into_bytes()
}

/// A `GET` request.
#[must_use]
pub fn get(host: SocketAddr, path: &str, token: Option<&str>, accept: &str) -> Vec<u8> {
    let auth = token.map(|t| format!("Authorization: Bearer {t}\r\n")).unwrap_or_default();
    format!("GET {path} HTTP/1.1\r\nHost: {host}\r\n{auth}Accept: {accept}\r\n\r\n").into_bytes()
}
