//! The typed client's search call.

use crate::api::paths;
use crate::api::wire::{Page, SearchHit, SearchQuery};
use crate::client::{ApiClient, ClientError};
use reqwest::Method;

impl ApiClient {
    /// `GET /api/search`: the messages I may read that match `query.q`, best (or newest)
    /// first; `page.before` fetches the next page.
    pub async fn search(&self, query: &SearchQuery) -> Result<Page<SearchHit>, ClientError> {
        self.send(self.request(Method::GET, paths::SEARCH).query(query)).await
    }
}
