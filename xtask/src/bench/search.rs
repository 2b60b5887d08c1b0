//! `cargo xtask bench search [--messages N] [--runs R]`: search at a million messages.
//! Starts the release services on throwaway infra, loads the corpus of `bench_search.sql`
//! (Zipf-distributed made-up words, 5% CJK, N messages, default 1,000,000) and runs each
//! query shape R times (default 50, after 3 warm-up runs) through the gateway as the user
//! `bench`, one at a time: a common word, a rare word, a phrase, a prefix, a partial word,
//! `from:` with `in:`, CJK, search-as-you-type. For each it prints the hits on the first
//! page and the latency through the gateway (p50, p95, max) beside the bare statement's
//! time in Postgres (`pg_stat_statements`: mean and max of the same runs), the in-run
//! baseline. Figures are printed, never asserted.

use std::io::{Read as _, Write as _};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};

use super::{login, loopback, start};
use crate::infra::Infra;
use crate::process::{run_checked, stop_all};
use crate::{bail_if_interrupted, repo_root};

pub fn run(args: &[String]) -> Result<u8> {
    let mut messages: u64 = 1_000_000;
    let mut runs: usize = 50;
    let mut args = args.iter();
    while let Some(arg) = args.next() {
        let mut number = |what: &str| -> Result<u64> {
            args.next()
                .with_context(|| format!("{what} needs a number"))?
                .parse()
                .with_context(|| format!("{what} needs a number"))
        };
        match arg.as_str() {
            "--messages" => messages = number("--messages")?,
            "--runs" => runs = usize::try_from(number("--runs")?)?.max(1),
            other => bail!("unknown argument {other:?}; try `cargo xtask bench search --messages 1000000 --runs 50`"),
        }
    }
    let mut started = start()?;
    let result = measure(&started.infra, started.ports[1], messages, runs);
    stop_all(&mut started.services);
    result.map(|()| 0)
}

/// `sql`'s output, one line per row, fields separated by `|`.
fn query(infra: &Infra, sql: &str) -> Result<String> {
    let out = infra.psql("bench").args(["-tA", "-c", sql]).output().context("running psql")?;
    if !out.status.success() {
        bail!("psql failed: {}", String::from_utf8_lossy(&out.stderr).trim());
    }
    Ok(String::from_utf8_lossy(&out.stdout).trim().to_owned())
}

fn measure(infra: &Infra, gateway: u16, messages: u64, runs: usize) -> Result<()> {
    // Signing in first creates the user the corpus makes a member.
    let token = login(gateway, "bench")?;
    let corpus = repo_root().join("xtask/src/bench_search.sql");
    let loading = Instant::now();
    run_checked(
        infra.psql("bench").arg("-v").arg(format!("messages={messages}")).arg("-f").arg(&corpus),
        "loading the search corpus",
    )?;
    println!("loaded {messages} messages and built the indexes in {:.0} s", loading.elapsed().as_secs_f64());
    // An author and a public channel they wrote in, for `from:` with `in:`.
    let pair = query(
        infra,
        "SELECT u.username || '|' || c.name FROM messages m JOIN users u ON u.id = m.author_id
         JOIN channels c ON c.id = m.channel_id WHERE c.kind = 'public' ORDER BY m.id DESC LIMIT 1",
    )?;
    let (author, channel) = pair.split_once('|').context("an author and a channel")?;
    // Words by rank: rank 20,000 of 30,000 is in a few dozen messages; a rank-500 word's
    // start is a prefix, the middle of a rank-300 word a partial word.
    let word = |rank: u32| query(infra, &format!("SELECT word FROM bench_vocabulary WHERE rank = {rank}"));
    let rare = word(20_000)?;
    let prefix = word(500)?;
    let prefix = prefix.get(..prefix.len().min(5)).unwrap_or(&prefix).to_owned();
    let partial = word(300)?;
    let partial = partial.get(1..partial.len().saturating_sub(1).max(4)).unwrap_or(&partial).to_owned();
    let shapes: Vec<(&str, String)> = vec![
        ("common word", "the ".to_owned()),
        ("common word, sort=recent", "the &sort=recent".to_owned()),
        ("rare word", format!("{rare} ")),
        ("rare word, sort=recent", format!("{rare} &sort=recent")),
        ("phrase", "\"production database outage\"".to_owned()),
        ("prefix", format!("{prefix}*")),
        ("partial word", format!("{partial} ")),
        ("from: + in:", format!("from:@{author} in:#{channel}")),
        ("from: + in: + word", format!("the from:@{author} in:#{channel}")),
        ("two words, typing", "deploy revi".to_owned()),
        ("CJK, two characters", "東京".to_owned()),
        ("CJK, longer", "会議の資料".to_owned()),
        ("negation", "deploy -the ".to_owned()),
    ];
    println!(
        "{runs} runs per shape, one at a time, through the gateway; SQL avg = the statements of one request in Postgres, SQL max = the slowest single statement"
    );
    println!(
        "{:<26} {:>5} {:>9} {:>9} {:>9} {:>10} {:>9}",
        "shape", "hits", "p50 ms", "p95 ms", "max ms", "SQL avg ms", "SQL max"
    );
    for (name, q) in &shapes {
        bail_if_interrupted()?;
        let (q, extra) = q.split_once('&').map_or((q.as_str(), String::new()), |(q, rest)| (q, format!("&{rest}")));
        let path = format!("/api/search?q={}{extra}&limit=20", encode(q));
        let mut hits = 0;
        for _ in 0..3 {
            hits = search(gateway, &token, &path)?;
        }
        // The statistics live in the database that has the extension (the library is preloaded
        // for every database by the harness; the view needs the extension created here).
        query(infra, "CREATE EXTENSION IF NOT EXISTS pg_stat_statements")?;
        query(infra, "SELECT pg_stat_statements_reset()")?;
        let mut times = Vec::with_capacity(runs);
        for _ in 0..runs {
            let started = Instant::now();
            search(gateway, &token, &path)?;
            times.push(started.elapsed());
        }
        // A page is the scope statement, then one or two candidate statements.
        let sql = query(
            infra,
            &format!(
                "SELECT round((sum(total_exec_time) / {runs})::numeric, 2) || '|' || round(max(max_exec_time)::numeric, 2)
                 FROM pg_stat_statements
                 WHERE query LIKE 'WITH candidates AS MATERIALIZED%' OR query LIKE 'SELECT ARRAY(%'"
            ),
        )?;
        let (mean, max) = sql.split_once('|').unwrap_or(("?", "?"));
        times.sort_unstable();
        let at = |fraction: f64| {
            #[expect(
                clippy::cast_possible_truncation,
                clippy::cast_sign_loss,
                clippy::cast_precision_loss,
                reason = "an index into a short list"
            )]
            let index = ((times.len() as f64 * fraction).ceil() as usize).clamp(1, times.len()) - 1;
            times[index].as_secs_f64() * 1000.0
        };
        println!(
            "{name:<26} {hits:>5} {:>9.1} {:>9.1} {:>9.1} {mean:>10} {max:>9}",
            at(0.5),
            at(0.95),
            times.last().map_or(0.0, |t| t.as_secs_f64() * 1000.0)
        );
    }
    Ok(())
}

/// `GET path` through the gateway as `token`; the number of hits on the page.
fn search(port: u16, token: &str, path: &str) -> Result<usize> {
    let mut stream = TcpStream::connect(loopback(port)).context("connecting to the gateway")?;
    stream.set_read_timeout(Some(Duration::from_secs(30)))?;
    let request = format!(
        "GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nAuthorization: Bearer {token}\r\nConnection: close\r\n\r\n"
    );
    stream.write_all(request.as_bytes())?;
    let mut response = String::new();
    stream.read_to_string(&mut response)?;
    if !response.starts_with("HTTP/1.1 200") {
        bail!("{path} was answered: {}", response.lines().next().unwrap_or_default());
    }
    Ok(response.matches("\"snippet\":").count())
}

/// `text` percent-encoded for a query string.
fn encode(text: &str) -> String {
    let mut out = String::new();
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'_' | b'.' | b'~') {
            out.push(char::from(byte));
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}
