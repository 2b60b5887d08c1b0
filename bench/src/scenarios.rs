//! The scenarios of `cargo xtask bench`, each beside its in-run ceiling: *latency*,
//! *throughput*, *overload* and *fan-out* against Nchan with the same readers and
//! publishes (*latency* also beside raw NATS publish→subscribe, the bus's ceiling);
//! *connections* (idle tui-sm and web-sm streams: memory, api requests to open them and
//! once open, a message still reaching all); *gateway* (the same GET straight to the api
//! and through the gateway); *web* (web-sm's channel page: render time and size);
//! *history* (pages of 50 at random cursors of a big channel, through the gateway and as
//! the bare statements). Sizes are `Sizes::quick` unless `--full`.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};

use crate::http::{self, Conn};
use crate::load::{self, Load, Outcome, Readers, Target, quantile};
use crate::procs::{Procs, Sample};
use crate::report::Report;
use crate::setup::{self, Ajet, Nchan, Stream};
use ajet_shared::db::messages::{Cursor as DbCursor, Scope};
pub use ajet_shared::domain::ids::{ChannelId, MessageId};

/// What the harness started.
pub struct System {
    pub gateway: SocketAddr,
    /// Further gateways of the same stack (the cluster's second one): *latency* spreads
    /// its readers and publishers over `gateway` and these.
    pub other_gateways: Vec<SocketAddr>,
    pub api: SocketAddr,
    /// The database the api uses, for *history*'s bare SQL (skipped without it).
    pub database_url: Option<String>,
    /// The nats-server the services use (comma-separated for a cluster), for the bus's
    /// ceiling in *latency*: raw publish→subscribe (skipped without it).
    pub nats_url: Option<String>,
    /// Loads *history*'s corpus (`history_messages` messages in one channel, in bulk) and
    /// answers where it is; without it, the scenario posts its messages through the gateway.
    pub history_loader: Option<HistoryLoader>,
    /// Nchan's address, when the harness started it (the ceiling of live delivery).
    pub nchan: Option<SocketAddr>,
    /// The processes whose CPU, memory and descriptors are sampled, by name
    /// (`gateway`, `api`, `web-sm`, `tui-sm`, `postgres`, `nats`, `nchan`).
    pub procs: Procs,
    /// Names worlds apart between runs on one database.
    pub run_id: String,
}

/// Loads `n` messages into one channel: blocking (it runs the harness's bulk loader).
pub type HistoryLoader = Box<dyn Fn(u64) -> Result<HistoryCorpus> + Send + Sync>;

/// A channel holding many messages, for *history*.
#[derive(Clone, Debug)]
pub struct HistoryCorpus {
    pub channel: ChannelId,
    /// A member's token.
    pub token: String,
    /// Messages of the channel in random order: the cursors pages start at.
    pub cursors: Vec<MessageId>,
    /// How many messages the channel holds.
    pub messages: u64,
}

/// The sizes of one run.
#[derive(Clone, Debug)]
pub struct Sizes {
    pub latency_readers: usize,
    pub latency_web_readers: usize,
    pub latency_web_rate: f64,
    pub rooms: usize,
    pub latency_rate: f64,
    pub latency_secs: u64,
    pub throughput_readers: usize,
    pub throughput_rates: Vec<f64>,
    /// Each step of the search for the highest rate (ours and Nchan's).
    pub throughput_secs: u64,
    /// Then one sustained run at the highest rate found (ours only; 0: none), long enough
    /// for the outbox to reach steady state (its prune window is 10 minutes).
    pub throughput_sustain_secs: u64,
    pub overload_secs: u64,
    pub fan_out: Vec<usize>,
    pub fan_out_messages: usize,
    pub connections: usize,
    pub connections_secs: u64,
    pub gateway_requests: usize,
    pub web_renders: usize,
    /// *history*: messages in the channel, and pages read at random cursors.
    pub history_messages: u64,
    pub history_pages: usize,
}

impl Sizes {
    /// `cargo xtask bench` (under 10 minutes on 2 cores).
    #[must_use]
    pub fn quick() -> Self {
        Self {
            latency_readers: 1000,
            latency_web_readers: 200,
            latency_web_rate: 50.0,
            rooms: 20,
            latency_rate: 500.0,
            latency_secs: 10,
            throughput_readers: 100,
            throughput_rates: vec![250.0, 500.0, 1000.0, 1500.0, 2000.0, 3000.0, 4000.0, 6000.0, 8000.0],
            throughput_secs: 5,
            throughput_sustain_secs: 0,
            overload_secs: 10,
            fan_out: vec![1000, 5000],
            fan_out_messages: 5,
            connections: 5000,
            connections_secs: 15,
            gateway_requests: 500,
            web_renders: 50,
            history_messages: 200_000,
            history_pages: 1000,
        }
    }

    /// `--full`: the bracketed sizes of the issue.
    #[must_use]
    pub fn full() -> Self {
        Self {
            latency_web_readers: 1000,
            latency_web_rate: 500.0,
            latency_secs: 60,
            throughput_secs: 20,
            throughput_sustain_secs: 600,
            fan_out: vec![1000, 5000, 10_000],
            connections: 15_000,
            connections_secs: 65,
            gateway_requests: 5000,
            web_renders: 500,
            history_messages: 1_000_000,
            history_pages: 5000,
            ..Self::quick()
        }
    }

    /// Seconds-long sizes for the harness's smoke test.
    #[must_use]
    pub fn smoke() -> Self {
        Self {
            latency_readers: 20,
            latency_web_readers: 4,
            latency_web_rate: 5.0,
            rooms: 4,
            latency_rate: 20.0,
            latency_secs: 1,
            throughput_readers: 8,
            throughput_rates: vec![20.0, 40.0],
            throughput_secs: 1,
            throughput_sustain_secs: 1,
            overload_secs: 1,
            fan_out: vec![20],
            fan_out_messages: 2,
            connections: 20,
            connections_secs: 1,
            gateway_requests: 10,
            web_renders: 2,
            history_messages: 120,
            history_pages: 20,
        }
    }
}

impl Sizes {
    /// A rough estimate of how long `names` (all when empty) take at these sizes on the
    /// 2-core machine, footprint included, the release build not: printed at the start.
    /// From the runs recorded in `BENCHMARKS.md`: opening a stream ~5 ms, a history
    /// message loaded ~0.5 ms; the throughput search assumed to stop after 3 of our steps.
    #[must_use]
    #[expect(clippy::cast_precision_loss, reason = "an estimate")]
    pub fn expected(&self, names: &[String]) -> Duration {
        let wanted = |name: &str| names.is_empty() || names.iter().any(|n| n == name);
        let grace = GRACE.as_secs_f64();
        let mut secs = 0.0;
        if wanted("latency") {
            // Ours and Nchan's for the tui readers, the bus, then both for the web readers.
            let round = self.latency_secs as f64 + grace + 1.0;
            secs += 5.0 * round + self.latency_readers as f64 * 0.005 * 2.0 + 20.0;
        }
        if wanted("throughput") {
            let step = self.throughput_secs as f64 + grace;
            let ours = self.throughput_rates.len().min(3) as f64;
            secs += (ours + self.throughput_rates.len() as f64) * step + 10.0;
            if self.throughput_sustain_secs > 0 {
                secs += self.throughput_sustain_secs as f64 + grace;
            }
        }
        if wanted("overload") {
            secs += self.overload_secs as f64 + 20.0;
        }
        if wanted("fan-out") {
            secs += self.fan_out.iter().sum::<usize>() as f64 * 0.004 + 10.0 * self.fan_out.len() as f64;
        }
        if wanted("connections") {
            secs += 2.0 * (self.connections as f64 * 0.005 + self.connections_secs as f64) + 30.0;
        }
        if wanted("gateway") {
            secs += self.gateway_requests as f64 * 0.004 + 2.0;
        }
        if wanted("web") {
            secs += self.web_renders as f64 * 0.01 + 2.0;
        }
        if wanted("history") {
            secs += self.history_messages as f64 * 0.0005 + self.history_pages as f64 * 0.006;
        }
        if names.is_empty() || names.iter().any(|n| n == "footprint") {
            secs += 30.0;
        }
        Duration::from_secs_f64(secs)
    }
}

const GRACE: Duration = Duration::from_secs(5);
/// Publishing connections: enough that a slow answer does not hold the schedule back.
const CONNECTIONS: usize = 64;

/// Every scenario name, in the order they run.
pub const ALL: [&str; 8] = ["latency", "throughput", "overload", "fan-out", "connections", "gateway", "web", "history"];

/// Runs `names` (all when empty) against `system`, adding to `report`.
pub async fn run(system: &System, sizes: &Sizes, names: &[String], report: &mut Report) -> Result<()> {
    let wanted = |name: &str| names.is_empty() || names.iter().any(|n| n == name);
    for name in names {
        if !ALL.contains(&name.as_str()) {
            bail!("unknown scenario {name:?}; the scenarios: {}", ALL.join(", "));
        }
    }
    let mut sustainable = None;
    for name in ALL {
        if !wanted(name) {
            continue;
        }
        println!("{name}:");
        let cpu = system.procs.sample();
        let started = Instant::now();
        match name {
            "latency" => latency(system, sizes, report).await?,
            "throughput" => sustainable = throughput(system, sizes, report).await?,
            "overload" => overload(system, sizes, sustainable, report).await?,
            "fan-out" => fan_out(system, sizes, report).await?,
            "connections" => connections(system, sizes, report).await?,
            "gateway" => gateway(system, sizes, report).await?,
            "web" => web(system, sizes, report).await?,
            _ => history(system, sizes, report).await?,
        }
        let cpu = system.procs.sample().cpu_since(&cpu, started.elapsed());
        report.note(format!("{name}: CPU in cores over the scenario (setup included): {cpu}"));
    }
    Ok(())
}

fn ajet(system: &System, world: setup::World, stream: Stream) -> Arc<dyn Target> {
    Arc::new(Ajet { addrs: vec![system.gateway], world, stream })
}

/// Through every gateway of the stack (the cluster's two).
fn ajet_spread(system: &System, world: setup::World, stream: Stream) -> Arc<dyn Target> {
    let mut addrs = vec![system.gateway];
    addrs.extend(&system.other_gateways);
    Arc::new(Ajet { addrs, world, stream })
}

fn url(addr: SocketAddr) -> String {
    format!("http://{addr}")
}

async fn make_world(system: &System, tag: &str, rooms: usize, readers: usize) -> Result<setup::World> {
    let name = format!("b{}-{tag}", system.run_id);
    setup::world(&url(system.gateway), &name, rooms, readers.div_ceil(rooms)).await
}

/// A load against `target` with `readers` readers; the readers are closed after.
async fn measure(target: &Arc<dyn Target>, readers: usize, load: Load) -> Result<Outcome> {
    let open = Readers::open(target, readers, 100).await?;
    // Let the streams settle (registrations, first keep-alives) before the clock starts.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let outcome = load::run(target, &open, load).await;
    open.close();
    outcome
}

fn ms(outcome: &Outcome, q: f64) -> Option<f64> {
    outcome.quantile_ms(q)
}

#[expect(clippy::cast_precision_loss, reason = "counts")]
fn count(n: u64) -> Option<f64> {
    Some(n as f64)
}

async fn latency(system: &System, sizes: &Sizes, report: &mut Report) -> Result<()> {
    let load = Load {
        rate: sizes.latency_rate,
        duration: Duration::from_secs(sizes.latency_secs),
        connections: CONNECTIONS,
        grace: GRACE,
    };
    let world = make_world(system, "lat", sizes.rooms, sizes.latency_readers).await?;
    // The size of a message as the api answers it: what the bus ceiling publishes.
    let message_size = message_size(system, &world).await?;
    let ours = measure(&ajet_spread(system, world, Stream::Tui), sizes.latency_readers, load).await?;
    let ceiling = match system.nchan {
        Some(addr) => Some(
            measure(&(Arc::new(Nchan { addr, groups: sizes.rooms }) as Arc<dyn Target>), sizes.latency_readers, load)
                .await?,
        ),
        None => None,
    };
    let c = |f: &dyn Fn(&Outcome) -> Option<f64>| ceiling.as_ref().and_then(f);
    let scenario =
        format!("latency tui ({} readers, {} rooms, {} msg/s)", sizes.latency_readers, sizes.rooms, sizes.latency_rate);
    report.note(format!(
        "{scenario}: {} of {} sends accepted, {} unsent; answers {:?}",
        ours.accepted,
        (sizes.latency_rate * load.duration.as_secs_f64()),
        ours.unsent,
        ours.statuses
    ));
    for (metric, q) in [("p50", 0.5), ("p95", 0.95), ("p99", 0.99), ("max", 1.0)] {
        let target = if metric == "p99" { "≤ 10 ms and ≤ 6× Nchan" } else { "" };
        report.row("latency", &format!("tui {metric}"), "ms", ms(&ours, q), c(&|o| ms(o, q)), target);
    }
    report.row("latency", "tui lost", "", count(ours.deliveries.lost), c(&|o| count(o.deliveries.lost)), "0");
    report.row(
        "latency",
        "tui duplicates",
        "",
        count(ours.deliveries.duplicates),
        c(&|o| count(o.deliveries.duplicates)),
        "0",
    );
    report.row(
        "latency",
        "tui send answer p99",
        "ms",
        quantile(&ours.answer_times, 0.99).map(|us| f64::from(us) / 1e3),
        c(&|o| quantile(&o.answer_times, 0.99).map(|us| f64::from(us) / 1e3)),
        "",
    );
    // The bus's ceiling: the same rate and size straight through the nats-server.
    if let Some(url) = &system.nats_url {
        let bus = bus(url, &system.run_id, sizes.rooms, load, message_size).await?;
        report.note(format!(
            "latency bus: raw NATS publish→subscribe of {message_size}-byte payloads, {} subjects with one subscriber each, {} msg/s for {} s: {} of {} received",
            sizes.rooms,
            sizes.latency_rate,
            sizes.latency_secs,
            bus.latencies.len(),
            bus.published
        ));
        for (metric, q) in [("p50", 0.5), ("p99", 0.99)] {
            report.row(
                "latency",
                &format!("tui {metric} vs the bus (raw NATS pub→sub)"),
                "ms",
                ms(&ours, q),
                quantile(&bus.latencies, q).map(|us| f64::from(us) / 1e3),
                "",
            );
        }
        report.row("latency", "bus lost (raw NATS)", "", None, count(bus.published - bus.latencies.len() as u64), "0");
    }

    // web-sm's streams: each renders the room's page patches, so they run at their own size.
    let web_load = Load { rate: sizes.latency_web_rate, ..load };
    let world = make_world(system, "latweb", sizes.rooms, sizes.latency_web_readers).await?;
    let ours = measure(&ajet_spread(system, world, Stream::Web), sizes.latency_web_readers, web_load).await?;
    let ceiling = match system.nchan {
        Some(addr) => Some(
            measure(
                &(Arc::new(Nchan { addr, groups: sizes.rooms }) as Arc<dyn Target>),
                sizes.latency_web_readers,
                web_load,
            )
            .await?,
        ),
        None => None,
    };
    let c = |f: &dyn Fn(&Outcome) -> Option<f64>| ceiling.as_ref().and_then(f);
    report.note(format!(
        "latency web: {} readers of /sse in {} rooms at {} msg/s; {} accepted, answers {:?}",
        sizes.latency_web_readers, sizes.rooms, sizes.latency_web_rate, ours.accepted, ours.statuses
    ));
    for (metric, q) in [("p50", 0.5), ("p99", 0.99), ("max", 1.0)] {
        report.row(
            "latency",
            &format!("web {metric} ({}×{})", sizes.latency_web_readers, sizes.latency_web_rate),
            "ms",
            ms(&ours, q),
            c(&|o| ms(o, q)),
            "",
        );
    }
    report.row("latency", "web lost", "", count(ours.deliveries.lost), c(&|o| count(o.deliveries.lost)), "0");
    report.row(
        "latency",
        "web duplicates",
        "",
        count(ours.deliveries.duplicates),
        c(&|o| count(o.deliveries.duplicates)),
        "0",
    );
    Ok(())
}

/// The highest rate of `rates` whose run had p99 ≤ 100 ms, nothing lost and every send
/// accepted; each step with the same readers.
async fn step_search(
    target: &Arc<dyn Target>,
    readers: usize,
    rates: &[f64],
    secs: u64,
) -> Result<(Option<f64>, Vec<String>)> {
    let open = Readers::open(target, readers, 100).await?;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let mut best = None;
    let mut steps = Vec::new();
    for &rate in rates {
        let load = Load { rate, duration: Duration::from_secs(secs), connections: CONNECTIONS, grace: GRACE };
        let outcome = load::run(target, &open, load).await?;
        let p99 = ms(&outcome, 0.99);
        #[expect(clippy::cast_possible_truncation, clippy::cast_sign_loss, reason = "a bounded count")]
        let planned = (rate * load.duration.as_secs_f64()) as u64;
        let ok = p99.is_some_and(|p| p <= 100.0) && outcome.deliveries.lost == 0 && outcome.accepted == planned;
        steps.push(format!(
            "{rate}/s: p99 {} ms, accepted {}/{planned}, lost {}{}",
            p99.map_or_else(|| "—".to_owned(), |p| format!("{p:.1}")),
            outcome.accepted,
            outcome.deliveries.lost,
            if ok { "" } else { " ✗" }
        ));
        if !ok {
            break;
        }
        best = Some(rate);
    }
    open.close();
    Ok((best, steps))
}

async fn throughput(system: &System, sizes: &Sizes, report: &mut Report) -> Result<Option<f64>> {
    let world = make_world(system, "thr", sizes.rooms, sizes.throughput_readers).await?;
    let target = ajet(system, world, Stream::Tui);
    let (ours, steps) =
        step_search(&target, sizes.throughput_readers, &sizes.throughput_rates, sizes.throughput_secs).await?;
    report.note(format!(
        "throughput ajet steps ({} s each, {} readers): {}",
        sizes.throughput_secs,
        sizes.throughput_readers,
        steps.join("; ")
    ));
    // The short steps find the rate; one long run at it says whether it is sustained once
    // the outbox holds its whole prune window.
    if let (Some(rate), secs @ 1..) = (ours, sizes.throughput_sustain_secs) {
        println!("  sustaining {rate} msg/s for {secs} s");
        let load = Load { rate, duration: Duration::from_secs(secs), connections: CONNECTIONS, grace: GRACE };
        let outcome = measure(&target, sizes.throughput_readers, load).await?;
        #[expect(clippy::cast_possible_truncation, clippy::cast_sign_loss, reason = "a bounded count")]
        let planned = (rate * load.duration.as_secs_f64()) as u64;
        let name = format!("sustained {rate} msg/s for {secs} s");
        report.note(format!(
            "throughput {name}: {} of {planned} sends accepted, {} unsent; answers {:?}",
            outcome.accepted, outcome.unsent, outcome.statuses
        ));
        report.row("throughput", &format!("{name}: p99"), "ms", ms(&outcome, 0.99), None, "≤ 100 ms");
        report.row("throughput", &format!("{name}: max"), "ms", ms(&outcome, 1.0), None, "");
        report.row("throughput", &format!("{name}: accepted"), "", count(outcome.accepted), count(planned), "all");
        report.row("throughput", &format!("{name}: lost"), "", count(outcome.deliveries.lost), None, "0");
    }
    let ceiling = match system.nchan {
        Some(addr) => {
            let target: Arc<dyn Target> = Arc::new(Nchan { addr, groups: sizes.rooms });
            let (best, steps) =
                step_search(&target, sizes.throughput_readers, &sizes.throughput_rates, sizes.throughput_secs).await?;
            report.note(format!("throughput Nchan steps: {}", steps.join("; ")));
            best
        }
        None => None,
    };
    report.row("throughput", "highest rate with p99 ≤ 100 ms", "msg/s", ours, ceiling, "≥ 3,000 msg/s");
    Ok(ours)
}

async fn overload(system: &System, sizes: &Sizes, sustainable: Option<f64>, report: &mut Report) -> Result<()> {
    let rate = 3.0 * sustainable.unwrap_or(sizes.latency_rate);
    let world = make_world(system, "ovl", sizes.rooms, sizes.throughput_readers).await?;
    let target = ajet(system, world, Stream::Tui);
    let before = system.procs.sample();
    let sampling = system.procs.watch();
    let load = Load {
        rate,
        duration: Duration::from_secs(sizes.overload_secs),
        connections: 256,
        grace: Duration::from_secs(10),
    };
    let outcome = measure(&target, sizes.throughput_readers, load).await?;
    let peak = sampling.stop().await;
    let scenario = format!("overload ({rate} msg/s for {} s)", sizes.overload_secs);
    report.note(format!("{scenario}: answers {:?}, unsent by the generator {}", outcome.statuses, outcome.unsent));
    let status = |code: u16| count(outcome.statuses.get(&code).copied().unwrap_or(0));
    report.row("overload", "201 accepted", "", status(201), None, "");
    report.row("overload", "429 refused", "", status(429), None, "fast, with Retry-After");
    report.row("overload", "503 refused", "", status(503), None, "fast, with Retry-After");
    report.row(
        "overload",
        "other answers / failed connections",
        "",
        count(outcome.statuses.iter().filter(|(c, _)| !matches!(c, 201 | 429 | 503)).map(|(_, n)| n).sum()),
        None,
        "0",
    );
    report.row("overload", "refusals without Retry-After", "", count(outcome.refusals_without_retry_after), None, "0");
    report.row("overload", "accepted but not delivered (+10 s)", "", count(outcome.deliveries.lost), None, "0");
    report.row(
        "overload",
        "answer p99",
        "ms",
        quantile(&outcome.answer_times, 0.99).map(|us| f64::from(us) / 1e3),
        None,
        "",
    );
    for name in ["gateway", "api"] {
        if let (Some(base), Some(max)) = (before.get(name), peak.get(name)) {
            report.row("overload", &format!("{name} peak descriptors"), "", count(max.fds), count(base.fds), "bounded");
            report.row(
                "overload",
                &format!("{name} peak RSS"),
                "MiB",
                Some(max.rss_kib as f64 / 1024.0),
                Some(base.rss_kib as f64 / 1024.0),
                "bounded",
            );
        }
    }
    Ok(())
}

async fn fan_out(system: &System, sizes: &Sizes, report: &mut Report) -> Result<()> {
    for &readers in &sizes.fan_out {
        let world = make_world(system, &format!("fan{readers}"), 1, readers).await?;
        let run = |target: Arc<dyn Target>| async move {
            let open = Readers::open(&target, readers, 200).await?;
            tokio::time::sleep(Duration::from_secs(1)).await;
            let outcome = load::fan_out(&target, &open, 0, sizes.fan_out_messages, Duration::from_secs(10)).await;
            open.close();
            outcome
        };
        let ours = run(ajet(system, world, Stream::Tui)).await?;
        let ceiling = match system.nchan {
            Some(addr) => Some(run(Arc::new(Nchan { addr, groups: 1 })).await?),
            None => None,
        };
        let last = |o: &Outcome| {
            let mut lasts: Vec<u32> = o.deliveries.last_reader.values().copied().collect();
            lasts.sort_unstable();
            lasts
        };
        let at = |o: &Outcome, q: f64| quantile(&last(o), q).map(|us| f64::from(us) / 1e3);
        let name = format!("{readers} readers: last reader");
        report.row(
            "fan-out",
            &format!("{name} p50"),
            "ms",
            at(&ours, 0.5),
            ceiling.as_ref().and_then(|o| at(o, 0.5)),
            "",
        );
        report.row(
            "fan-out",
            &format!("{name} max of {}", sizes.fan_out_messages),
            "ms",
            at(&ours, 1.0),
            ceiling.as_ref().and_then(|o| at(o, 1.0)),
            "≤ 1.5× Nchan",
        );
        report.row(
            "fan-out",
            &format!("{readers} readers: lost"),
            "",
            count(ours.deliveries.lost),
            ceiling.as_ref().map(|o| o.deliveries.lost as f64),
            "0",
        );
    }
    Ok(())
}

async fn connections(system: &System, sizes: &Sizes, report: &mut Report) -> Result<()> {
    let n = sizes.connections;
    let nchan_per_stream = match system.nchan {
        Some(addr) => {
            let nchan: Arc<dyn Target> = Arc::new(Nchan { addr, groups: 1 });
            let nbase = system.procs.sample();
            let readers = Readers::open(&nchan, n, 200).await?;
            tokio::time::sleep(Duration::from_secs(1)).await;
            let nafter = system.procs.sample();
            readers.close();
            match (nbase.get("nchan"), nafter.get("nchan")) {
                #[expect(clippy::cast_precision_loss, reason = "KiB")]
                (Some(b), Some(a)) => Some(a.rss_kib.saturating_sub(b.rss_kib) as f64 / n as f64),
                _ => None,
            }
        }
        None => None,
    };
    for (stream, kind, manager) in [(Stream::Tui, "tui", "tui-sm"), (Stream::Web, "web", "web-sm")] {
        idle_streams(system, sizes, stream, kind, manager, nchan_per_stream, report).await?;
    }
    Ok(())
}

/// `sizes.connections` idle streams of one kind (`/tui/events`, or web-sm's `/sse` with a
/// channel open): memory per stream in the gateway and the session manager, the api
/// requests their opening cost and the api requests/s once they are open, then one message
/// that must still reach them all.
async fn idle_streams(
    system: &System,
    sizes: &Sizes,
    stream: Stream,
    kind: &str,
    manager: &str,
    nchan_per_stream: Option<f64>,
    report: &mut Report,
) -> Result<()> {
    let n = sizes.connections;
    let world = make_world(system, &format!("conn{kind}"), 1, n).await?;
    let target = ajet(system, world, stream);
    let base = system.procs.sample();
    let requests = api_requests(system.api).await?;
    let opening = Instant::now();
    let open = Readers::open(&target, n, 200).await?;
    let opening = opening.elapsed();
    // The opening's requests are counted once they have settled (a stream's first
    // requests may come just after its head).
    tokio::time::sleep(Duration::from_secs(1)).await;
    let opened = api_requests(system.api).await?;
    let started = Instant::now();
    let before = system.procs.sample();
    tokio::time::sleep(Duration::from_secs(sizes.connections_secs)).await;
    let after = system.procs.sample();
    let idle = (api_requests(system.api).await? - opened) / started.elapsed().as_secs_f64();
    let per_stream = |name: &str, sample: &Sample| {
        let (Some(b), Some(a)) = (base.get(name), sample.get(name)) else { return None };
        #[expect(clippy::cast_precision_loss, reason = "KiB")]
        Some((a.rss_kib.saturating_sub(b.rss_kib)) as f64 / n as f64)
    };
    let gw = per_stream("gateway", &after);
    let sm = per_stream(manager, &after);
    report.row(
        "connections",
        &format!("{n} idle {kind} streams: KiB/stream gateway + {manager}"),
        "KiB",
        gw.zip(sm).map(|(a, b)| a + b),
        nchan_per_stream,
        "≤ 16 KiB",
    );
    report.row("connections", "  of which gateway", "KiB", gw, None, "");
    report.row("connections", &format!("  of which {manager}"), "KiB", sm, None, "");
    #[expect(clippy::cast_precision_loss, reason = "a count")]
    let per_open = (opened - requests) / n as f64;
    report.row(
        "connections",
        &format!("  api requests to open one (all {n} in {:.1} s)", opening.as_secs_f64()),
        "",
        Some(per_open),
        None,
        "",
    );
    #[expect(clippy::cast_precision_loss, reason = "a count")]
    let per_10k = idle * 10_000.0 / n as f64;
    report.row(
        "connections",
        &format!("  api requests/s once open, per 10k streams (over {} s)", sizes.connections_secs),
        "req/s",
        Some(per_10k),
        None,
        "≤ 1 req/s per 10k",
    );
    report.note(format!(
        "connections {kind}: CPU in cores with {n} idle streams: {}",
        after.cpu_since(&before, started.elapsed())
    ));
    // A message still reaches them all.
    let outcome = load::fan_out(&target, &open, 0, 1, Duration::from_secs(15)).await?;
    report.row(
        "connections",
        &format!("  a message to all {n} {kind} streams: last reader"),
        "ms",
        quantile(&outcome.deliveries.last_reader.values().copied().collect::<Vec<_>>(), 1.0)
            .map(|us| f64::from(us) / 1e3),
        None,
        "",
    );
    report.row(
        "connections",
        &format!("  {kind} readers it did not reach"),
        "",
        count(outcome.deliveries.lost),
        None,
        "0",
    );
    report.row("connections", &format!("  {kind} streams that ended"), "", count(open.ended() as u64), None, "0");
    open.close();
    // The next kind opens as many streams: first the gateway lets these go (each holds a
    // descriptor and one of its open-stream permits until it sees the close), or near the
    // descriptor limit it would rightly refuse some of the next with 503.
    let closing = Instant::now();
    while closing.elapsed() < Duration::from_secs(60) {
        let now = system.procs.sample();
        if now.get("gateway").zip(base.get("gateway")).is_none_or(|(now, base)| now.fds <= base.fds + 100) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    Ok(())
}

/// The api's `http_requests_total`, summed, without the probes (`/readyz`, which every
/// gateway and session manager asks each second whatever the streams, `/healthz`, and
/// `/metrics`, asked by this harness).
async fn api_requests(api: SocketAddr) -> Result<f64> {
    let mut conn = Conn::new(api, 0);
    let response = conn.send(&http::get(api, "/metrics", None, "text/plain")).await?;
    Ok(String::from_utf8_lossy(&response.body)
        .lines()
        .filter(|line| line.starts_with("http_requests_total"))
        .filter(|line| {
            !["/readyz", "/healthz", "/metrics"].iter().any(|probe| line.contains(&format!("route=\"{probe}\"")))
        })
        .filter_map(|line| line.rsplit(' ').next()?.parse::<f64>().ok())
        .sum())
}

/// `requests` sequential GETs of `path` as `token` on one keep-alive connection: sorted µs.
async fn timed_gets(addr: SocketAddr, path: &str, token: &str, requests: usize) -> Result<(Vec<u32>, usize)> {
    let mut conn = Conn::new(addr, 0);
    let request = http::get(addr, path, Some(token), "*/*");
    let mut times = Vec::with_capacity(requests);
    let mut size = 0;
    for i in 0..requests + 5 {
        let started = Instant::now();
        let response = conn.send(&request).await?;
        if response.status != 200 {
            bail!("GET {path} answered {}: {}", response.status, String::from_utf8_lossy(&response.body));
        }
        size = response.body.len();
        // The first few warm the caches.
        if i >= 5 {
            times.push(u32::try_from(started.elapsed().as_micros()).unwrap_or(u32::MAX));
        }
    }
    times.sort_unstable();
    Ok((times, size))
}

/// Sends 50 messages to the first room of `world`.
async fn fill_room(system: &System, world: &setup::World) -> Result<()> {
    let mut conn = Conn::new(system.gateway, 0);
    for i in 0..50 {
        let body =
            format!(r#"{{"body_md":"message {i} of the page: **some** markdown and a [link](https://example.com)"}}"#);
        post_to_first_room(&mut conn, system.gateway, world, &body).await?;
    }
    Ok(())
}

/// Sends `body` (a JSON request) to the first room of `world` as its owner: the 201's answer.
async fn post_to_first_room(
    conn: &mut Conn,
    gateway: SocketAddr,
    world: &setup::World,
    body: &str,
) -> Result<http::Response> {
    let path = format!("/api/channels/{}/messages", world.rooms[0].channel);
    let response = conn.send(&http::post_json(gateway, &path, Some(&world.owner), body)).await?;
    if response.status != 201 {
        bail!("sending a message answered {}", response.status);
    }
    Ok(response)
}

async fn gateway(system: &System, sizes: &Sizes, report: &mut Report) -> Result<()> {
    let world = make_world(system, "gw", 1, 1).await?;
    fill_room(system, &world).await?;
    let path = format!("/api/channels/{}/messages?limit=50", world.rooms[0].channel);
    let (through, _) = timed_gets(system.gateway, &path, &world.owner, sizes.gateway_requests).await?;
    let (direct, _) = timed_gets(system.api, &path, &world.owner, sizes.gateway_requests).await?;
    for (metric, q) in [("p50", 0.5), ("p99", 0.99)] {
        report.row(
            "gateway",
            &format!("GET a page of 50 messages {metric} (vs the api direct)"),
            "ms",
            quantile(&through, q).map(|us| f64::from(us) / 1e3),
            quantile(&direct, q).map(|us| f64::from(us) / 1e3),
            if q > 0.9 { "≤ 1.3×" } else { "" },
        );
    }
    Ok(())
}

async fn web(system: &System, sizes: &Sizes, report: &mut Report) -> Result<()> {
    let world = make_world(system, "web", 1, 1).await?;
    fill_room(system, &world).await?;
    let path = format!("/c/{}/room-0", world.slug);
    let (times, html) = timed_gets(system.gateway, &path, &world.owner, sizes.web_renders).await?;
    for (metric, q) in [("p50", 0.5), ("p99", 0.99)] {
        report.row(
            "web",
            &format!("channel page of 50 messages {metric}"),
            "ms",
            quantile(&times, q).map(|us| f64::from(us) / 1e3),
            None,
            "",
        );
    }
    // What a first load transfers: the page and the assets it links.
    let mut conn = Conn::new(system.gateway, 0);
    let page = conn.send(&http::get(system.gateway, &path, Some(&world.owner), "text/html")).await?;
    let text = String::from_utf8_lossy(&page.body).into_owned();
    let mut assets = Vec::new();
    for piece in text.split("\"/assets/").skip(1) {
        if let Some(name) = piece.split('"').next() {
            assets.push(format!("/assets/{name}"));
        }
    }
    assets.sort();
    assets.dedup();
    // As a browser fetches them: asking for gzip, the bytes counted as they arrive.
    let gzip = |path: &str, accept: &str| {
        format!(
            "GET {path} HTTP/1.1\r\nHost: {}\r\nAuthorization: Bearer {}\r\nAccept: {accept}\r\nAccept-Encoding: gzip\r\n\r\n",
            system.gateway, world.owner
        )
        .into_bytes()
    };
    let sent_html = conn.send(&gzip(&path, "text/html")).await?.body.len();
    let mut total = sent_html;
    for asset in &assets {
        let response = conn.send(&gzip(asset, "*/*")).await.with_context(|| format!("GET {asset}"))?;
        total += response.body.len();
    }
    #[expect(clippy::cast_precision_loss, reason = "bytes")]
    let kib = |bytes: usize| Some(bytes as f64 / 1024.0);
    report.row("web", "first load: HTML (uncompressed)", "KiB", kib(html), None, "");
    report.row("web", "first load: HTML (gzip, as sent)", "KiB", kib(sent_html), None, "");
    report.row(
        "web",
        &format!("first load: HTML + {} assets (gzip, as sent)", assets.len()),
        "KiB",
        kib(total),
        None,
        "≤ 150 KB",
    );
    Ok(())
}

/// The length of a message's JSON as the api answers a send (one sent to the first room).
async fn message_size(system: &System, world: &setup::World) -> Result<usize> {
    let mut conn = Conn::new(system.gateway, 0);
    let body = format!(r#"{{"body_md":"{}"}}"#, load::marker(0));
    Ok(post_to_first_room(&mut conn, system.gateway, world, &body).await?.body.len())
}

/// What the raw bus delivered: publishes made, and the latency of each one received (µs, sorted).
struct Bus {
    published: u64,
    latencies: Vec<u32>,
}

/// Raw NATS publish→subscribe through the stack's nats-server: `groups` subjects, one
/// subscriber connection holding a subscription to each (as a session manager holds one
/// per subject), a publisher connection sending `load.rate` messages of `size` bytes per
/// second round-robin over the subjects, each carrying a marker with its send time.
async fn bus(url: &str, run_id: &str, groups: usize, load: Load, size: usize) -> Result<Bus> {
    use futures::StreamExt as _;
    let servers: Vec<&str> = url.split(',').collect();
    let subscriber = async_nats::connect(servers.as_slice()).await.context("connecting to NATS")?;
    let publisher = async_nats::connect(servers.as_slice()).await.context("connecting to NATS")?;
    let received = Arc::new(std::sync::Mutex::new(Vec::new()));
    let mut tasks = Vec::new();
    for group in 0..groups {
        let mut subscription =
            subscriber.subscribe(format!("bench.ceiling.{run_id}.{group}")).await.context("subscribing")?;
        let received = Arc::clone(&received);
        tasks.push(tokio::spawn(async move {
            while let Some(message) = subscription.next().await {
                let now = load::now_micros();
                if let Some((_, sent)) = load::parse_marker(&message.payload) {
                    let micros = u32::try_from(now.saturating_sub(sent)).unwrap_or(u32::MAX);
                    received.lock().unwrap_or_else(std::sync::PoisonError::into_inner).push(micros);
                }
            }
        }));
    }
    subscriber.flush().await.context("flushing the subscriptions")?;
    let started = Instant::now();
    #[expect(clippy::cast_possible_truncation, clippy::cast_sign_loss, reason = "a bounded count")]
    let total = (load.rate * load.duration.as_secs_f64()).round() as u64;
    for i in 0..total {
        #[expect(clippy::cast_precision_loss, reason = "a bounded count")]
        let due = started + Duration::from_secs_f64(i as f64 / load.rate);
        tokio::time::sleep_until(due.into()).await;
        let mut payload = load::marker(i);
        payload.extend(std::iter::repeat_n(' ', size.saturating_sub(payload.len())));
        let group = usize::try_from(i).unwrap_or(0) % groups.max(1);
        publisher
            .publish(format!("bench.ceiling.{run_id}.{group}"), payload.into())
            .await
            .context("publishing to NATS")?;
        // Each publish goes out now, as the relay's does.
        publisher.flush().await.context("flushing a publish")?;
    }
    let deadline = Instant::now() + load.grace;
    let count = || received.lock().unwrap_or_else(std::sync::PoisonError::into_inner).len() as u64;
    while count() < total && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    for task in tasks {
        task.abort();
    }
    let mut latencies = std::mem::take(&mut *received.lock().unwrap_or_else(std::sync::PoisonError::into_inner));
    latencies.sort_unstable();
    Ok(Bus { published: total, latencies })
}

/// A channel of `sizes.history_messages` posted through the gateway (when the harness has no
/// bulk loader): the message ids from the answers, shuffled.
async fn posted_corpus(system: &System, sizes: &Sizes) -> Result<HistoryCorpus> {
    let world = make_world(system, "hist", 1, 1).await?;
    let channel = world.rooms[0].channel;
    let mut conn = Conn::new(system.gateway, 0);
    let mut cursors = Vec::new();
    for i in 0..sizes.history_messages {
        let body = format!(r#"{{"body_md":"history message {i}"}}"#);
        let response = post_to_first_room(&mut conn, system.gateway, &world, &body).await?;
        let message: serde_json::Value = serde_json::from_slice(&response.body).context("a message as JSON")?;
        let id = message["id"].as_str().context("a message without an id")?;
        cursors.push(id.parse::<MessageId>().map_err(|e| anyhow::anyhow!("a message id {id:?}: {e}"))?);
    }
    // A fixed permutation (a stride coprime with most lengths) stands in for random order.
    let len = cursors.len();
    let stride = (0..len).map(|k| 7919 + k).find(|s| gcd(*s, len) == 1).unwrap_or(1);
    let cursors = (0..len).map(|i| cursors[(i * stride) % len]).collect();
    Ok(HistoryCorpus { channel, token: world.owner, cursors, messages: sizes.history_messages })
}

fn gcd(a: usize, b: usize) -> usize {
    if b == 0 { a } else { gcd(b, a % b) }
}

/// Pages of 50 at random cursors of a channel of `history_messages` messages: through the
/// gateway (`GET /api/channels/{id}/messages?before=…&limit=50`, what the clients page
/// with) beside the bare statements the api runs for it (`db::messages::history`, prepared,
/// straight against Postgres on one connection).
async fn history(system: &System, sizes: &Sizes, report: &mut Report) -> Result<()> {
    let loading = Instant::now();
    let corpus = match &system.history_loader {
        Some(load) => tokio::task::block_in_place(|| load(sizes.history_messages))?,
        None => posted_corpus(system, sizes).await?,
    };
    report.note(format!(
        "history: {} messages in one channel ({} in {:.0} s), {} pages of 50 at random cursors",
        corpus.messages,
        if system.history_loader.is_some() { "loaded in bulk" } else { "posted through the gateway" },
        loading.elapsed().as_secs_f64(),
        sizes.history_pages
    ));
    if corpus.cursors.is_empty() {
        bail!("the history corpus has no messages");
    }
    let cursor = |i: usize| corpus.cursors[i % corpus.cursors.len()];
    // Through the gateway, one keep-alive connection, the first few warming the caches.
    let mut conn = Conn::new(system.gateway, 0);
    let mut through = Vec::with_capacity(sizes.history_pages);
    let mut short_pages = 0;
    for i in 0..sizes.history_pages + 5 {
        let path = format!("/api/channels/{}/messages?before={}&limit=50", corpus.channel, cursor(i));
        let request = http::get(system.gateway, &path, Some(&corpus.token), "application/json");
        let started = Instant::now();
        let response = conn.send(&request).await?;
        let took = u32::try_from(started.elapsed().as_micros()).unwrap_or(u32::MAX);
        if response.status != 200 {
            bail!("GET {path} answered {}: {}", response.status, String::from_utf8_lossy(&response.body));
        }
        let page: serde_json::Value = serde_json::from_slice(&response.body).context("a page as JSON")?;
        if page["data"].as_array().map_or(0, Vec::len) < 50 {
            short_pages += 1;
        }
        if i >= 5 {
            through.push(took);
        }
    }
    through.sort_unstable();
    // The bare statements, prepared (sqlx caches them per connection).
    let bare = match &system.database_url {
        Some(url) => {
            let pool = ajet_shared::db::connect_lazy(url, 1).context("a pool of the database")?;
            let mut times = Vec::with_capacity(sizes.history_pages);
            for i in 0..sizes.history_pages + 5 {
                let started = Instant::now();
                let page = ajet_shared::db::messages::history(
                    &pool,
                    Scope::Channel(corpus.channel),
                    DbCursor::Before(cursor(i)),
                    50,
                )
                .await
                .context("the history statements")?;
                let took = u32::try_from(started.elapsed().as_micros()).unwrap_or(u32::MAX);
                if page.is_none() {
                    bail!("a cursor of the corpus is not a message of its channel");
                }
                if i >= 5 {
                    times.push(took);
                }
            }
            pool.close().await;
            times.sort_unstable();
            Some(times)
        }
        None => None,
    };
    let name = format!("{} messages: page of 50 at a random cursor", corpus.messages);
    for (metric, q) in [("p50", 0.5), ("p99", 0.99)] {
        report.row(
            "history",
            &format!("{name} {metric} (vs the bare SQL)"),
            "ms",
            quantile(&through, q).map(|us| f64::from(us) / 1e3),
            bare.as_ref().and_then(|b| quantile(b, q)).map(|us| f64::from(us) / 1e3),
            if q > 0.9 { "≤ 5 ms" } else { "" },
        );
    }
    report.row("history", "  pages shorter than 50 (cursors near the start)", "", count(short_pages), None, "");
    Ok(())
}
