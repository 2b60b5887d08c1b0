//! Link previews ("unfurls"): the SSRF guard deciding which addresses a preview fetch may
//! reach (`guard`, pure) and the one HTTP fetcher that connects only to addresses the guard
//! has checked, hop by hop (`fetch`).

pub mod fetch;
pub mod guard;

pub use fetch::{FetchError, Fetcher, Page};
pub use guard::{Refused, refused_range};
