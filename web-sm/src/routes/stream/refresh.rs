//! A tab's re-reads, off its stream loop: what a live event cannot say by itself (a
//! message's reactions and thread summary, the pins list) is read from the api by one task
//! per tab, through the process's `Fanout`, so each (what, event) is read once however many
//! tabs ask; a tab that does not know which of a message's reactions are its viewer's reads
//! that message with its own token instead (`Job::OwnMessage`) — unless another tab of the
//! same viewer already made the event's shared read —, and that read then serves the other
//! tabs as the shared one (never for "you reacted"). Requests are
//! coalesced: while a read is under way new ones gather, each message or channel once (at
//! the newest event that asked), so a burst of reactions on one message costs one or two
//! reads rather than one per event, and the stream keeps flowing meanwhile.
//!
//! The task and its queue are started by a tab's first request, not as its stream opens:
//! most tabs sit idle most of the time, and an idle stream should cost as little memory
//! as possible (issue 15: the task and its queue were ~4 KiB of every idle tab).

use std::sync::{Arc, Mutex, PoisonError};

use ajet_shared::api::wire::Message;
use ajet_shared::client::ApiClient;
use ajet_shared::domain::ids::{ChannelId, UserId};
use ajet_shared::events::StreamPosition;
use tokio::sync::{Notify, mpsc};
use tokio::task::JoinHandle;

pub use crate::fanout::Job;
use crate::fanout::{Fanout, Read};

/// What was read, and as of which event.
pub enum Fetched {
    /// A shared read: its `reacted_by_me` is whoever read it, never to be used.
    Message(Arc<Message>, StreamPosition),
    /// The message as this tab's viewer sees it.
    OwnMessage(Arc<Message>),
    Pins(ChannelId, Arc<Vec<Message>>, StreamPosition),
}

#[derive(Default)]
struct Pending {
    jobs: Mutex<Vec<(Job, StreamPosition)>>,
    wake: Notify,
}

/// The handle the tab's page asks through: nothing until the first request starts the
/// reader; dropping it (with the tab's stream) ends the reader's task.
#[derive(Default)]
pub struct Refresher {
    running: Option<Running>,
}

/// A started reader: where requests gather, its task, and what it read.
struct Running {
    pending: Arc<Pending>,
    task: JoinHandle<()>,
    results: mpsc::Receiver<Fetched>,
}

impl Drop for Running {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Results are few and small; a full queue only makes the reader wait.
const FETCHED_QUEUE: usize = 16;

impl Refresher {
    /// Asks for `job` as of the event at `at` (once, at the newest position asked, however
    /// often it is asked before the reader takes it). The first request starts the tab's
    /// reader with the viewer's (`viewer`) api client and the process's `fanout`.
    pub fn request(&mut self, job: Job, at: StreamPosition, api: &ApiClient, viewer: UserId, fanout: &Fanout) {
        let running = self.running.get_or_insert_with(|| {
            let pending = Arc::new(Pending::default());
            let (fetched, results) = mpsc::channel(FETCHED_QUEUE);
            let reader = Reader { api: api.clone(), viewer };
            let task = tokio::spawn(run(reader, fanout.clone(), Arc::clone(&pending), fetched));
            Running { pending, task, results }
        });
        let mut jobs = running.pending.jobs.lock().unwrap_or_else(PoisonError::into_inner);
        match jobs.iter_mut().find(|(pending, _)| *pending == job) {
            Some((_, position)) => *position = (*position).max(at),
            None => jobs.push((job, at)),
        }
        drop(jobs);
        running.pending.wake.notify_one();
    }

    /// The next re-read; never comes if nothing was asked (cancel-safe: a `select!` may
    /// drop it).
    pub async fn next(&mut self) -> Option<Fetched> {
        match &mut self.running {
            Some(running) => {
                let fetched = running.results.recv().await;
                if fetched.is_none() {
                    // The reader ended (it never does unless it panicked): the next request
                    // starts another instead of queueing work nobody reads.
                    self.running = None;
                }
                fetched
            }
            None => std::future::pending().await,
        }
    }
}

/// Who reads: the viewer's api client, and the viewer.
struct Reader {
    api: ApiClient,
    viewer: UserId,
}

async fn run(reader: Reader, fanout: Fanout, pending: Arc<Pending>, fetched: mpsc::Sender<Fetched>) {
    let Reader { api, viewer } = reader;
    loop {
        pending.wake.notified().await;
        let jobs = std::mem::take(&mut *pending.jobs.lock().unwrap_or_else(PoisonError::into_inner));
        for (job, at) in jobs {
            let result = match job {
                Job::OwnMessage(id) => {
                    fanout.read_own(id, at, viewer, || api.get_message(id)).await.map(|read| match read {
                        Read::Message(found, _) => Some(Fetched::OwnMessage(found)),
                        Read::Pins(_) => None,
                    })
                }
                Job::Message(id) => fanout
                    .read(job, at, || async {
                        api.get_message(id).await.map(|found| Read::Message(Arc::new(found), viewer))
                    })
                    .await
                    .map(|read| match read {
                        Read::Message(found, _) => Some(Fetched::Message(found, at)),
                        Read::Pins(_) => None,
                    }),
                Job::Pins(channel) => fanout
                    .read(job, at, || async {
                        api.list_pins(channel).await.map(|pins| Read::Pins(Arc::new(pins.data)))
                    })
                    .await
                    .map(|read| match read {
                        Read::Pins(pins) => Some(Fetched::Pins(channel, pins, at)),
                        Read::Message(..) => None,
                    }),
            };
            match result {
                Ok(Some(result)) => {
                    if fetched.send(result).await.is_err() {
                        return;
                    }
                }
                Ok(None) => {}
                // Gone or no longer visible: the events that follow say so.
                Err(err) => tracing::debug!(error = %err, ?job, "could not re-read for a tab"),
            }
        }
    }
}
