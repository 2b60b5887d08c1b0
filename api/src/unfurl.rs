//! The unfurl worker: after a message with links is committed through the api (posted or
//! edited), fetches previews of up to 3 of its links behind the SSRF guard
//! (`shared::unfurl`) and stores them through `chat::messages::set_link_previews`, which
//! broadcasts the message again as `message.updated`, so streams and replay carry them.
//! Incoming webhooks' posts (written by the gateway) are handed over by the outbox relay
//! once published. Nothing is fetched for a community whose admins switched previews off.
//! Jobs wait in a bounded queue; a full queue skips the preview, never the post.

use ajet_shared::api::wire::{LinkPreview, Message};
use ajet_shared::chat::messages::set_link_previews;
use ajet_shared::db::PgPool;
use ajet_shared::events::bus::NatsBus;
use ajet_shared::outbox::{OutboxRelay, WebhookPost};
use ajet_shared::unfurl::{Fetcher, links, preview};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

/// Messages waiting for their previews at most.
const QUEUE_LEN: usize = 256;

/// A committed message to preview (a webhook's post arrives in the same shape from the
/// relay).
type Job = WebhookPost;

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
        // Webhook posts are written by the gateway: they reach this worker when the relay
        // publishes them.
        relay.hand_webhook_posts_to(jobs.clone());
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
        if links(&job.body_md).is_empty() {
            continue;
        }
        // The community's switch, read when the job is taken: nothing is fetched when off.
        match ajet_shared::db::communities::link_previews_on(&pool, job.id).await {
            Ok(true) => {}
            Ok(false) => continue,
            Err(err) => {
                tracing::warn!(message = %job.id, error = %err, "no link preview: the community's switch is unreadable");
                continue;
            }
        }
        let fetches = links(&job.body_md).into_iter().map(|link| {
            let fetcher = &fetcher;
            async move {
                match fetcher.fetch_html(link.as_str()).await {
                    // The page's image is dropped: a client must never load a third party's
                    // URL from a preview (no hot-linking), and there is no image proxy yet.
                    Ok(page) => {
                        preview(&link, &page.url, &page.html).map(|found| LinkPreview { image_url: None, ..found })
                    }
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
