//! A tab's re-reads, off its stream loop: what a live event cannot say by itself (a
//! message as the viewer sees it — "you reacted" is per viewer —, the pins list) is read
//! from the api by one task per tab. Requests are coalesced: while a read is under way new
//! ones gather, each message or channel once, so a burst of reactions on one message costs
//! one or two reads rather than one per event, and the stream keeps flowing meanwhile.

use std::sync::{Arc, Mutex, PoisonError};

use ajet_shared::api::wire::Message;
use ajet_shared::client::ApiClient;
use ajet_shared::domain::ids::{ChannelId, MessageId};
use tokio::sync::{Notify, mpsc};
use tokio::task::JoinHandle;

/// What to re-read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Job {
    Message(MessageId),
    Pins(ChannelId),
}

/// What was read.
pub enum Fetched {
    Message(Box<Message>),
    Pins(ChannelId, Vec<Message>),
}

#[derive(Default)]
struct Pending {
    jobs: Mutex<Vec<Job>>,
    wake: Notify,
}

/// The handle the tab's page asks through; dropping it (with the tab's stream) ends the
/// task.
pub struct Refresher {
    pending: Arc<Pending>,
    task: JoinHandle<()>,
}

impl Drop for Refresher {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Results are few and small; a full queue only makes the reader wait.
const FETCHED_QUEUE: usize = 16;

impl Refresher {
    /// Starts the tab's reader with the viewer's api client.
    pub fn start(api: ApiClient) -> (Self, mpsc::Receiver<Fetched>) {
        let pending = Arc::new(Pending::default());
        let (fetched, results) = mpsc::channel(FETCHED_QUEUE);
        let task = tokio::spawn(run(api, Arc::clone(&pending), fetched));
        (Self { pending, task }, results)
    }

    /// Asks for `job` (once, however often it is asked before the reader takes it).
    pub fn request(&self, job: Job) {
        let mut jobs = self.pending.jobs.lock().unwrap_or_else(PoisonError::into_inner);
        if !jobs.contains(&job) {
            jobs.push(job);
        }
        drop(jobs);
        self.pending.wake.notify_one();
    }
}

async fn run(api: ApiClient, pending: Arc<Pending>, fetched: mpsc::Sender<Fetched>) {
    loop {
        pending.wake.notified().await;
        let jobs = std::mem::take(&mut *pending.jobs.lock().unwrap_or_else(PoisonError::into_inner));
        for job in jobs {
            let result = match job {
                Job::Message(id) => api.get_message(id).await.map(|found| Fetched::Message(Box::new(found))),
                Job::Pins(channel) => api.list_pins(channel).await.map(|pins| Fetched::Pins(channel, pins.data)),
            };
            match result {
                Ok(result) => {
                    if fetched.send(result).await.is_err() {
                        return;
                    }
                }
                // Gone or no longer visible: the events that follow say so.
                Err(err) => tracing::debug!(error = %err, ?job, "could not re-read for a tab"),
            }
        }
    }
}
