//! Link previews ("unfurls"): the SSRF guard deciding which addresses a preview fetch may
//! reach (`guard`, pure) and the one HTTP fetcher that connects only to addresses the guard
//! has checked, hop by hop (`fetch`); which links of a message to unfurl (`links`) and the
//! OpenGraph/Twitter-card metadata of a page (`meta`), both pure.

pub mod fetch;
pub mod guard;
pub mod links;
pub mod meta;

pub use fetch::{FetchError, Fetcher, Page};
pub use guard::{Refused, refused_range};
pub use links::{MAX_LINKS, links};
pub use meta::preview;
