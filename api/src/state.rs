//! The api's shared state; handlers extract only the parts they need.

use std::sync::Arc;

use ajet_shared::auth::cache::AuthCache;
use ajet_shared::config::Config;
use ajet_shared::db::PgPool;
use ajet_shared::events::bus::NatsBus;
use ajet_shared::outbox::OutboxRelay;
use axum::extract::FromRef;

use crate::storage::Storage;
use crate::sweeper::Sweeper;
use crate::unfurl::Unfurler;

#[derive(Clone, FromRef)]
pub struct AppState {
    pub pool: PgPool,
    pub bus: Arc<NatsBus>,
    pub relay: OutboxRelay<NatsBus>,
    pub config: Arc<Config>,
    /// Tokens validated in the last `auth_cache_secs`, so a request costs no session lookup.
    pub auth_cache: Arc<AuthCache>,
    pub storage: Storage,
    pub unfurler: Unfurler,
    pub sweeper: Sweeper,
}
