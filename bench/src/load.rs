//! Readers and publishers. A reader is one raw SSE connection in one group (a channel, an
//! Nchan channel); a publisher sends paced, open-loop requests over keep-alive connections,
//! each carrying a marker `benchmk<seq>t<unix µs>e` in its body. A reader takes the first
//! marker of every SSE frame, so it sees each message once per frame it arrives in: the
//! delivery latency is the time it reads the frame minus the marker's send time, a second
//! frame with a marker it already saw is a duplicate, and a marker of an accepted send its
//! group never shows is lost.

use std::collections::{BTreeMap, HashSet};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use anyhow::{Context, Result, bail};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

use crate::http::{self, Conn};

const MARKER: &[u8] = b"benchmk";

/// What the load goes to: who reads which group, and how a message is published to one.
pub trait Target: Send + Sync + 'static {
    /// The number of groups readers and publishes are spread over.
    fn groups(&self) -> usize;
    /// The address reader or publishing connection `index` connects to (several when the
    /// target has several entry points, e.g. the cluster's two gateways).
    fn addr(&self, index: usize) -> SocketAddr;
    /// Reader `index`'s group and its request (head only).
    fn reader(&self, index: usize) -> (usize, Vec<u8>);
    /// A whole request publishing `body` to `group`.
    fn publish(&self, group: usize, body: &str) -> Vec<u8>;
}

/// Microseconds since the Unix epoch.
#[must_use]
pub fn now_micros() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| u64::try_from(d.as_micros()).unwrap_or(u64::MAX))
}

/// The body a publish carries: its marker.
#[must_use]
pub fn marker(seq: u64) -> String {
    format!("benchmk{seq}t{}e", now_micros())
}

/// The first marker in `frame`: its sequence and send time.
pub(crate) fn parse_marker(frame: &[u8]) -> Option<(u64, u64)> {
    let at = find(frame, MARKER)? + MARKER.len();
    let rest = &frame[at..];
    let digits = |bytes: &[u8]| bytes.iter().take_while(|b| b.is_ascii_digit()).count();
    let n = digits(rest);
    let seq = std::str::from_utf8(&rest[..n]).ok()?.parse().ok()?;
    let rest = rest.get(n..)?.strip_prefix(b"t")?;
    let m = digits(rest);
    let sent = std::str::from_utf8(&rest[..m]).ok()?.parse().ok()?;
    Some((seq, sent))
}

/// Where `needle` first occurs in `haystack`. The readers search every frame they read, on
/// the same 2 cores as the services: a scan for the first byte, then a comparison, costs a
/// fraction of comparing a window at every position (which was the top of the load
/// generator's profile).
fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    let (&first, _) = needle.split_first()?;
    let mut from = 0;
    while let Some(offset) = haystack.get(from..)?.iter().position(|&b| b == first) {
        let at = from + offset;
        if haystack[at..].starts_with(needle) {
            return Some(at);
        }
        from = at + 1;
    }
    None
}

/// Where the last blank line (`\n\n`) of `buf` starts.
fn last_blank_line(buf: &[u8]) -> Option<usize> {
    let mut end = buf.len();
    while let Some(at) = buf[..end].iter().rposition(|&b| b == b'\n') {
        if at > 0 && buf[at - 1] == b'\n' {
            return Some(at - 1);
        }
        end = at;
    }
    None
}

#[derive(Default)]
struct ReaderLog {
    seen: HashSet<u64>,
    /// (sequence, latency µs) of each first delivery.
    deliveries: Vec<(u64, u32)>,
    duplicates: u64,
}

struct Reader {
    group: usize,
    log: Mutex<ReaderLog>,
    ended: AtomicBool,
}

/// Open SSE readers, their logs shared with the run that reads them.
pub struct Readers {
    readers: Vec<Arc<Reader>>,
    tasks: Vec<JoinHandle<()>>,
    /// First deliveries over all readers since the start.
    delivered: Arc<AtomicU64>,
    group_sizes: Vec<u64>,
}

impl Readers {
    /// Opens `count` readers of `target`, `parallel` connecting at a time, each one's
    /// response head read (a 200) before this returns.
    pub async fn open(target: &Arc<dyn Target>, count: usize, parallel: usize) -> Result<Self> {
        let delivered = Arc::new(AtomicU64::new(0));
        let mut group_sizes = vec![0; target.groups()];
        let mut readers = Vec::with_capacity(count);
        let mut tasks = Vec::with_capacity(count);
        let mut start = 0;
        while start < count {
            let end = (start + parallel.max(1)).min(count);
            let mut opening = Vec::new();
            for index in start..end {
                let (group, request) = target.reader(index);
                group_sizes[group] += 1;
                let addr = target.addr(index);
                opening.push(tokio::spawn(async move { open_stream(addr, index, &request).await.map(|s| (group, s)) }));
            }
            for handle in opening {
                let (group, (stream, rest)) = handle.await.context("a reader task")??;
                let reader =
                    Arc::new(Reader { group, log: Mutex::new(ReaderLog::default()), ended: AtomicBool::new(false) });
                tasks.push(tokio::spawn(read_frames(stream, rest, Arc::clone(&reader), Arc::clone(&delivered))));
                readers.push(reader);
            }
            start = end;
        }
        Ok(Self { readers, tasks, delivered, group_sizes })
    }

    #[must_use]
    pub fn len(&self) -> usize {
        self.readers.len()
    }

    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.readers.is_empty()
    }

    /// First deliveries so far, over all readers.
    #[must_use]
    pub fn delivered(&self) -> u64 {
        self.delivered.load(Ordering::Relaxed)
    }

    /// Readers whose stream ended.
    #[must_use]
    pub fn ended(&self) -> usize {
        self.readers.iter().filter(|r| r.ended.load(Ordering::Relaxed)).count()
    }

    /// How many readers read `group`.
    #[must_use]
    pub fn group_size(&self, group: usize) -> u64 {
        self.group_sizes.get(group).copied().unwrap_or(0)
    }

    /// Waits until `expected` first deliveries have been counted or `grace` has passed.
    pub async fn wait_delivered(&self, expected: u64, grace: Duration) {
        let deadline = Instant::now() + grace;
        while self.delivered() < expected && Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    }

    /// Takes every reader's log: latencies of the first deliveries of `accepted`, the
    /// accepted sends a reader of their group never saw, and duplicates.
    fn drain(&self, accepted: &[(usize, u64)]) -> Deliveries {
        let mut by_group: Vec<Vec<u64>> = vec![Vec::new(); self.group_sizes.len()];
        for &(group, seq) in accepted {
            by_group[group].push(seq);
        }
        let wanted: HashSet<u64> = accepted.iter().map(|&(_, seq)| seq).collect();
        let mut out = Deliveries::default();
        for reader in &self.readers {
            let log = std::mem::take(&mut *reader.log.lock().unwrap_or_else(std::sync::PoisonError::into_inner));
            out.duplicates += log.duplicates;
            for &(seq, micros) in &log.deliveries {
                if wanted.contains(&seq) {
                    out.latencies.push(micros);
                    let last = out.last_reader.entry(seq).or_insert(0);
                    *last = (*last).max(micros);
                }
            }
            out.lost += by_group[reader.group].iter().filter(|seq| !log.seen.contains(seq)).count() as u64;
        }
        out.latencies.sort_unstable();
        out
    }

    /// Ends every reader (drops its connection).
    pub fn close(self) {
        for task in self.tasks {
            task.abort();
        }
    }
}

/// Connects, sends `request` and reads the head: the stream and what was read past it.
async fn open_stream(addr: SocketAddr, index: usize, request: &[u8]) -> Result<(tokio::net::TcpStream, Vec<u8>)> {
    let mut stream = http::connect(addr, index).await?;
    stream.write_all(request).await.context("writing a stream request")?;
    let mut buf = Vec::new();
    let mut chunk = [0_u8; 4096];
    let end = loop {
        if let Some(end) = http::head_end(&buf) {
            break end;
        }
        let n = tokio::time::timeout(Duration::from_secs(30), stream.read(&mut chunk))
            .await
            .context("a stream's head did not come within 30 s")??;
        if n == 0 {
            bail!("a stream closed before its head");
        }
        buf.extend_from_slice(&chunk[..n]);
    };
    let head = String::from_utf8_lossy(&buf[..end]).into_owned();
    if http::status_of(&head)? != 200 {
        bail!("a stream was refused: {}", head.lines().next().unwrap_or_default());
    }
    Ok((stream, buf.split_off(end)))
}

async fn read_frames(
    mut stream: tokio::net::TcpStream,
    mut buf: Vec<u8>,
    reader: Arc<Reader>,
    delivered: Arc<AtomicU64>,
) {
    let mut chunk = vec![0_u8; 8 * 1024];
    loop {
        // Whole frames (up to the last blank line) are read; the rest waits for more.
        if let Some(last) = last_blank_line(&buf) {
            let now = now_micros();
            let mut log = reader.log.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
            for frame in buf[..last].split(|&b| b == b'\n').collect::<Vec<_>>().split(|line| line.is_empty()) {
                let Some((seq, sent)) = frame.iter().find_map(|line| parse_marker(line)) else { continue };
                if log.seen.insert(seq) {
                    let micros = u32::try_from(now.saturating_sub(sent)).unwrap_or(u32::MAX);
                    log.deliveries.push((seq, micros));
                    delivered.fetch_add(1, Ordering::Relaxed);
                } else {
                    log.duplicates += 1;
                }
            }
            drop(log);
            buf.drain(..last + 2);
        }
        match stream.read(&mut chunk).await {
            Ok(0) | Err(_) => {
                reader.ended.store(true, Ordering::Relaxed);
                return;
            }
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
        }
    }
}

/// Latencies of the first deliveries (µs, sorted), the last reader's latency per message,
/// and what was lost or repeated.
#[derive(Default, Debug)]
pub struct Deliveries {
    pub latencies: Vec<u32>,
    pub last_reader: BTreeMap<u64, u32>,
    pub lost: u64,
    pub duplicates: u64,
}

/// An open-loop load: `rate` publishes per second for `duration`, over `connections`
/// keep-alive connections, then up to `grace` for the deliveries.
#[derive(Clone, Copy, Debug)]
pub struct Load {
    pub rate: f64,
    pub duration: Duration,
    pub connections: usize,
    pub grace: Duration,
}

/// What a load run saw.
#[derive(Debug, Default)]
pub struct Outcome {
    /// Answers by status (0: the connection failed).
    pub statuses: BTreeMap<u16, u64>,
    /// 429/503 answers without `Retry-After`.
    pub refusals_without_retry_after: u64,
    /// Sends the generator could not make within a second of their time (it fell behind).
    pub unsent: u64,
    /// Publishes accepted (201 or 200).
    pub accepted: u64,
    pub deliveries: Deliveries,
    /// Deliveries expected (accepted × readers of its group) and first deliveries that
    /// came within the run and its grace.
    pub expected: u64,
    /// Publish answer times (µs, sorted).
    pub answer_times: Vec<u32>,
}

impl Outcome {
    /// The `q` quantile of the delivery latencies, in ms.
    #[must_use]
    pub fn quantile_ms(&self, q: f64) -> Option<f64> {
        quantile(&self.deliveries.latencies, q).map(|us| f64::from(us) / 1000.0)
    }
}

/// The `q` quantile of sorted `values`.
#[must_use]
pub fn quantile(values: &[u32], q: f64) -> Option<u32> {
    if values.is_empty() {
        return None;
    }
    #[expect(
        clippy::cast_possible_truncation,
        clippy::cast_sign_loss,
        clippy::cast_precision_loss,
        reason = "an index into a list"
    )]
    let index = ((values.len() as f64 * q).ceil() as usize).clamp(1, values.len()) - 1;
    values.get(index).copied()
}

struct Job {
    group: usize,
    seq: u64,
    due: Instant,
}

#[derive(Default)]
struct Tally {
    statuses: BTreeMap<u16, u64>,
    without_retry_after: u64,
    unsent: u64,
    accepted: Vec<(usize, u64)>,
    answer_times: Vec<u32>,
}

/// A profiler's control FIFO (`perf record --control fifo:…`, started with its events
/// disabled), told when a load's measured window opens and closes.
static PROFILE_CONTROL: Mutex<Option<std::fs::File>> = Mutex::new(None);

/// From now on the measured windows of `run` and `fan_out` (the publishes and their
/// deliveries, not the setup before them) enable the profiler behind `control` (a FIFO
/// opened for writing), and disable it as they end.
pub fn profile_windows(control: std::fs::File) {
    *lock(&PROFILE_CONTROL) = Some(control);
}

/// No profiler to tell any more.
pub fn profile_windows_end() {
    *lock(&PROFILE_CONTROL) = None;
}

/// One measured window: the profiler records while it lives.
struct Window;

impl Window {
    fn open() -> Self {
        Self::tell(b"enable\n");
        Self
    }

    fn tell(command: &[u8]) {
        use std::io::Write as _;
        if let Some(control) = lock(&PROFILE_CONTROL).as_mut() {
            // A profile missing a window is a poorer profile, not a failed run.
            let _ = control.write_all(command).and_then(|()| control.flush());
        }
    }
}

impl Drop for Window {
    fn drop(&mut self) {
        Self::tell(b"disable\n");
    }
}

/// Sequence numbers of markers, unique over the process.
static SEQ: AtomicU64 = AtomicU64::new(1);

/// Publishes `load` to `target`, round-robin over its groups, and collects what `readers`
/// saw of the accepted publishes.
pub async fn run(target: &Arc<dyn Target>, readers: &Readers, load: Load) -> Result<Outcome> {
    let before = readers.delivered();
    let tally = Arc::new(Mutex::new(Tally::default()));
    let (jobs_tx, jobs_rx) = mpsc::channel::<Job>(1_000_000);
    let jobs_rx = Arc::new(tokio::sync::Mutex::new(jobs_rx));
    let mut workers = Vec::new();
    for index in 0..load.connections.max(1) {
        let (target, jobs, tally) = (Arc::clone(target), Arc::clone(&jobs_rx), Arc::clone(&tally));
        workers.push(tokio::spawn(async move {
            let mut conn = Conn::new(target.addr(index), index);
            loop {
                let Some(job) = jobs.lock().await.recv().await else { return };
                if job.due.elapsed() > Duration::from_secs(1) {
                    lock(&tally).unsent += 1;
                    continue;
                }
                let request = target.publish(job.group, &marker(job.seq));
                let started = Instant::now();
                let answer = conn.send(&request).await;
                let took = u32::try_from(started.elapsed().as_micros()).unwrap_or(u32::MAX);
                let mut tally = lock(&tally);
                tally.answer_times.push(took);
                match answer {
                    Ok(response) => {
                        *tally.statuses.entry(response.status).or_insert(0) += 1;
                        if matches!(response.status, 200..=202) {
                            tally.accepted.push((job.group, job.seq));
                        } else if matches!(response.status, 429 | 503) && !response.retry_after {
                            tally.without_retry_after += 1;
                        }
                    }
                    Err(_) => *tally.statuses.entry(0).or_insert(0) += 1,
                }
            }
        }));
    }
    let _window = Window::open();
    let started = Instant::now();
    let total = (load.rate * load.duration.as_secs_f64()).round();
    #[expect(clippy::cast_possible_truncation, clippy::cast_sign_loss, reason = "a bounded count")]
    let total = total as u64;
    let groups = target.groups().max(1);
    for i in 0..total {
        #[expect(clippy::cast_precision_loss, reason = "a bounded count")]
        let due = started + Duration::from_secs_f64(i as f64 / load.rate);
        tokio::time::sleep_until(due.into()).await;
        let seq = SEQ.fetch_add(1, Ordering::Relaxed);
        let group = usize::try_from(i).unwrap_or(0) % groups;
        if jobs_tx.send(Job { group, seq, due }).await.is_err() {
            break;
        }
    }
    drop(jobs_tx);
    for worker in workers {
        worker.await.context("a publisher")?;
    }
    let tally = std::mem::take(&mut *lock(&tally));
    let expected: u64 = tally.accepted.iter().map(|&(group, _)| readers.group_size(group)).sum();
    readers.wait_delivered(before + expected, load.grace).await;
    let deliveries = readers.drain(&tally.accepted);
    let mut answer_times = tally.answer_times;
    answer_times.sort_unstable();
    Ok(Outcome {
        statuses: tally.statuses,
        refusals_without_retry_after: tally.without_retry_after,
        unsent: tally.unsent,
        accepted: tally.accepted.len() as u64,
        deliveries,
        expected,
        answer_times,
    })
}

/// Publishes `count` messages to `group` one at a time, each after the last reached every
/// reader (or `grace` passed): the last reader's latency of each, µs.
pub async fn fan_out(
    target: &Arc<dyn Target>,
    readers: &Readers,
    group: usize,
    count: usize,
    grace: Duration,
) -> Result<Outcome> {
    let mut conn = Conn::new(target.addr(0), 0);
    let mut accepted = Vec::new();
    let mut statuses = BTreeMap::new();
    let size = readers.group_size(group);
    let _window = Window::open();
    for _ in 0..count {
        let before = readers.delivered();
        let seq = SEQ.fetch_add(1, Ordering::Relaxed);
        let response = conn.send(&target.publish(group, &marker(seq))).await?;
        *statuses.entry(response.status).or_insert(0) += 1;
        if matches!(response.status, 200..=202) {
            accepted.push((group, seq));
            readers.wait_delivered(before + size, grace).await;
        }
    }
    let deliveries = readers.drain(&accepted);
    Ok(Outcome {
        statuses,
        accepted: accepted.len() as u64,
        expected: accepted.len() as u64 * size,
        deliveries,
        ..Outcome::default()
    })
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

#[cfg(test)]
mod tests {
    use super::parse_marker;

    #[test]
    fn a_marker_is_read_inside_json_and_html() {
        assert_eq!(
            parse_marker(br#"data: {"body_md":"benchmk42t1700000000000001e"}"#),
            Some((42, 1_700_000_000_000_001))
        );
        assert_eq!(parse_marker(b"data: <p>benchmk7t9e</p>"), Some((7, 9)));
        assert_eq!(parse_marker(b"data: nothing here"), None);
        assert_eq!(parse_marker(b"data: benchm benchmk5t6e"), Some((5, 6)), "after a partial match");
        assert_eq!(parse_marker(b"benchmk"), None);
    }

    #[test]
    fn the_last_blank_line_is_found_wherever_it_is() {
        use super::last_blank_line;
        assert_eq!(last_blank_line(b"data: a\n\ndata: b\n\nrest"), Some(16));
        assert_eq!(last_blank_line(b"\n\n"), Some(0));
        assert_eq!(last_blank_line(b"data: a\ndata: b\n"), None);
        assert_eq!(last_blank_line(b""), None);
        assert_eq!(last_blank_line(b"x\n\n\n"), Some(2));
    }
}
