//! The `mentions` table: who and what a message mentions, resolved from names.

use sqlx::PgConnection;

use crate::domain::ids::{ChannelId, MessageId};
use crate::mentions::Mentions;

/// Forgets a message's mentions (before an edit records the new ones).
pub async fn clear(tx: &mut PgConnection, message: MessageId) -> Result<(), sqlx::Error> {
    sqlx::query("DELETE FROM mentions WHERE message_id = $1").bind(message).execute(tx).await?;
    Ok(())
}

/// Records `mentions` of `message` in `channel`. Usernames resolve among the channel's
/// members and, for a public channel, its community's members (who can read it); so a
/// private channel never records a mention of someone outside it. Channel names resolve
/// among the community's public channels.
/// Unknown names are plain text and record nothing.
pub async fn record(
    tx: &mut PgConnection,
    message: MessageId,
    channel: ChannelId,
    mentions: &Mentions,
) -> Result<(), sqlx::Error> {
    if !mentions.users.is_empty() {
        sqlx::query(
            "INSERT INTO mentions (id, message_id, kind, user_id)
             SELECT gen_random_uuid(), $1, 'user', u.id FROM users u
             WHERE u.username = ANY($3) AND (
                 EXISTS (SELECT 1 FROM channel_members cm WHERE cm.channel_id = $2 AND cm.user_id = u.id)
                 OR EXISTS (SELECT 1 FROM community_members m JOIN channels c ON c.community_id = m.community_id
                            WHERE c.id = $2 AND c.kind = 'public' AND m.user_id = u.id))
             ON CONFLICT DO NOTHING",
        )
        .bind(message)
        .bind(channel)
        .bind(&mentions.users)
        .execute(&mut *tx)
        .await?;
    }
    if !mentions.channels.is_empty() {
        sqlx::query(
            "INSERT INTO mentions (id, message_id, kind, channel_id)
             SELECT gen_random_uuid(), $1, 'channel_ref', target.id FROM channels target JOIN channels here ON here.id = $2
             WHERE target.community_id = here.community_id AND target.name = ANY($3) AND target.kind = 'public'
             ON CONFLICT DO NOTHING",
        )
        .bind(message)
        .bind(channel)
        .bind(&mentions.channels)
        .execute(&mut *tx)
        .await?;
    }
    for (present, kind) in [(mentions.channel, "channel"), (mentions.here, "here"), (mentions.everyone, "everyone")] {
        if present {
            sqlx::query(
                "INSERT INTO mentions (id, message_id, kind) VALUES (gen_random_uuid(), $1, $2) ON CONFLICT DO NOTHING",
            )
            .bind(message)
            .bind(kind)
            .execute(&mut *tx)
            .await?;
        }
    }
    Ok(())
}

/// Replaces what `message` mentions (after an edit): the old mentions go, `mentions` are
/// recorded as for a new message.
pub async fn replace(
    tx: &mut PgConnection,
    message: MessageId,
    channel: ChannelId,
    mentions: &Mentions,
) -> Result<(), sqlx::Error> {
    sqlx::query("DELETE FROM mentions WHERE message_id = $1").bind(message).execute(&mut *tx).await?;
    record(tx, message, channel, mentions).await
}
