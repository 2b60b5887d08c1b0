//! The quick switcher's directory (Ctrl/Cmd+K): who the viewer is and every channel and
//! conversation they may jump to, read once per opening of the switcher rather than on
//! every keystroke. The overlay names each opening (`qo`, set as it opens) and sends it
//! with each query; the directory is kept per (credential, opening) for a short while,
//! so the keystrokes of one opening cost only their message search. A query without an
//! opening reads the directory afresh.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use ajet_shared::api::wire::{ChannelListItem, Community, Me};
use ajet_shared::client::{ApiClient, ClientError};

/// Openings kept: the newest, across every viewer of the process.
const CAPACITY: usize = 1024;

/// How long one opening's directory is used (a switcher left open longer reads again).
const TTL: Duration = Duration::from_secs(120);

/// What the switcher matches against.
pub struct Directory {
    pub me: Me,
    /// Each community's channels, then (no community) the DMs.
    pub lists: Vec<(Option<Community>, Vec<ChannelListItem>)>,
}

impl Directory {
    /// Reads it with the viewer's token: `me`, each community's channels and the DMs (a
    /// list that cannot be read adds nothing).
    async fn read(api: &ApiClient) -> Result<Self, ClientError> {
        let me = api.me().await?;
        let mut lists = Vec::new();
        for community in &me.communities {
            let channels = api.list_channels(community.id).await.map(|page| page.data).unwrap_or_default();
            lists.push((Some(community.clone()), channels));
        }
        lists.push((None, api.list_dms().await.map(|page| page.data).unwrap_or_default()));
        Ok(Self { me, lists })
    }
}

/// The key of an opening and its directory, with when it was read.
type Kept = (HashMap<(String, u64), (Instant, Arc<Directory>)>, VecDeque<(String, u64)>);

/// The process's openings of the switcher; cheap to clone.
#[derive(Clone, Default)]
pub struct Openings(Arc<Mutex<Kept>>);

impl Openings {
    /// The directory of the opening `opening` of credential `token`'s switcher: read once
    /// per opening (each query, without one).
    ///
    /// # Errors
    /// The api's answer when `me` cannot be read.
    pub async fn directory(
        &self,
        api: &ApiClient,
        token: &str,
        opening: Option<u64>,
    ) -> Result<Arc<Directory>, ClientError> {
        let Some(opening) = opening else { return Directory::read(api).await.map(Arc::new) };
        let key = (token.to_owned(), opening);
        if let Some((at, directory)) = self.0.lock().unwrap_or_else(PoisonError::into_inner).0.get(&key)
            && at.elapsed() < TTL
        {
            return Ok(Arc::clone(directory));
        }
        let directory = Arc::new(Directory::read(api).await?);
        let mut guard = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        let (map, order) = &mut *guard;
        if map.insert(key.clone(), (Instant::now(), Arc::clone(&directory))).is_none() {
            order.push_back(key);
        }
        while map.len() > CAPACITY {
            let Some(oldest) = order.pop_front() else { break };
            map.remove(&oldest);
        }
        Ok(directory)
    }
}
