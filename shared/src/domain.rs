//! Domain vocabulary: typed ids and validated newtypes that the edges parse into.

pub mod ids;
pub mod names;

pub use names::{ChannelName, ClientMsgId, CommunityName, DisplayName, Emoji, MessageBody, Slug, Username};
