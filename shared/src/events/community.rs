//! A community as broadcast in `community.updated`: without the `role` of the API's
//! `Community`, which is each viewer's own.

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::api::wire::Community;
use crate::domain::ids::CommunityId;

/// A community as every member sees it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct EventCommunity {
    pub id: CommunityId,
    pub name: String,
    pub slug: String,
    pub description: Option<String>,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
}

impl From<Community> for EventCommunity {
    /// Drops the role of the viewer it was loaded for.
    fn from(community: Community) -> Self {
        Self {
            id: community.id,
            name: community.name,
            slug: community.slug,
            description: community.description,
            created_at: community.created_at,
        }
    }
}
