//! The unfurl worker: after a message with links is committed through the api (posted or
//! edited), fetches previews of up to 3 of its links behind the SSRF guard
//! (`shared::unfurl`) and stores them through `chat::messages::set_link_previews`, which
//! broadcasts the message again as `message.updated`, so streams and replay carry them.
//! Jobs wait in a bounded queue; a full queue skips the preview, never the post.

use ajet_shared::api::wire::Message;
use ajet_shared::chat::messages::set_link_previews;
use ajet_shared::db::PgPool;
use ajet_shared::domain::ids::MessageId;
use ajet_shared::events::bus::NatsBus;
use ajet_shared::outbox::OutboxRelay;
use ajet_shared::unfurl::{Fetcher, links, preview};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

/// Messages waiting for their previews at most.
const QUEUE_LEN: usize = 256;

struct Job {
    id: MessageId,
    body_md: String,
}

/// The handle handlers enqueue committed messages on.
#[derive(Clone)]
pub struct Unfurler {
    jobs: mpsc::Sender<Job>,
}

impl Unfurler {
    /// Starts the worker; it ends when `shutdown` is cancelled.
    pub fn start(
        pool: PgPool,
        relay: OutboxRelay<NatsBus>,
        fetcher: Fetcher,
        shutdown: CancellationToken,
    ) -> (Self, impl Future<Output = ()>) {
        let (jobs, queue) = mpsc::channel(QUEUE_LEN);
        (Self { jobs }, run(pool, relay, fetcher, queue, shutdown))
    }

    /// Asks for the previews of `message` if it has links to preview.
    pub fn enqueue(&self, message: &Message) {
        if message.deleted_at.is_some() || links(&message.body_md).is_empty() {
            return;
        }
        let job = Job { id: message.id, body_md: message.body_md.clone() };
        if self.jobs.try_send(job).is_err() {
            tracing::debug!(message = %message.id, "unfurl queue full: no preview");
        }
    }
}

async fn run(
    pool: PgPool,
    relay: OutboxRelay<NatsBus>,
    fetcher: Fetcher,
    mut queue: mpsc::Receiver<Job>,
    shutdown: CancellationToken,
) {
    loop {
        let job = tokio::select! {
            () = shutdown.cancelled() => return,
            job = queue.recv() => match job { Some(job) => job, None => return },
        };
        let fetches = links(&job.body_md).into_iter().map(|link| {
            let fetcher = &fetcher;
            async move {
                match fetcher.fetch_html(link.as_str()).await {
                    Ok(page) => preview(&link, &page.url, &page.html),
                    Err(err) => {
                        tracing::debug!(%link, error = %err, "no link preview");
                        None
                    }
                }
            }
        });
        let previews: Vec<_> = futures::future::join_all(fetches).await.into_iter().flatten().collect();
        if previews.is_empty() {
            continue;
        }
        match set_link_previews(&pool, job.id, &job.body_md, &previews).await {
            Ok(written) => written.wake(&relay),
            Err(err) => tracing::warn!(message = %job.id, error = %err, "storing link previews failed"),
        }
    }
}
