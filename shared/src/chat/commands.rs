//! A slash command's ephemeral reply: recorded on the caller's own subject only
//! (`command.replied`), so every client of theirs shows it and nobody else sees it; never
//! posted to the channel. What a command does goes through the same `chat` functions as
//! the REST endpoints (the api's `routes/commands.rs` runs them).

use sqlx::PgPool;

use super::{ChatError, Written, events};
use crate::domain::ids::{ChannelId, UserId};
use crate::events::{CommandReply, EventPayload};

/// Tells `user`'s clients what their command in `channel` said.
pub async fn reply(
    pool: &PgPool,
    user: UserId,
    channel: ChannelId,
    text: &str,
    error: bool,
) -> Result<Written<()>, ChatError> {
    let mut tx = pool.begin().await?;
    let reply = CommandReply { channel_id: channel, text: text.to_owned(), error };
    events::for_user(&mut tx, user, EventPayload::CommandReplied(reply)).await?;
    tx.commit().await?;
    Ok(Written::with_events(()))
}
