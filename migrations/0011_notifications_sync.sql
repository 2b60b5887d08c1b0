-- 0011 notifications and catch-up: ids made by the database, the indexes the inbox and
-- the per-channel badges read, and what GET /api/sync needs to find changes since a time.
--
-- Owns: the uuid_v7() function; notification indexes beyond 0004's;
-- channel_members.updated_at; messages_changed_idx.
--
-- Non-obvious choices:
-- * A message's notifications are created by one INSERT ... SELECT over its recipients
--   (a large @channel is one statement, not a loop), so their ids are made in SQL.
--   Notification ids are the inbox's paging cursor and must be time-ordered like every
--   other id (UUIDv7); Postgres 15 has no uuidv7(), so uuid_v7() builds one from
--   gen_random_uuid(): the first 48 bits are the Unix time in milliseconds, the version
--   nibble is 7 (0100 -> 0111 by setting bits 52 and 53), the variant stays RFC 4122.
--   Within one millisecond the order is random, which a cursor tolerates (ids stay unique
--   and totally ordered).
-- * Catch-up (GET /api/sync?since=) finds what changed after a time: new messages by id
--   (UUIDv7, with created_at deciding exactly), edits and deletions by
--   GREATEST(edited_at, deleted_at) through a partial index holding only changed messages,
--   and a member's read cursor, preferences or joining by channel_members.updated_at
--   (set by trigger when any of them changes, like channels.updated_at).
-- * Per-channel unread notifications (the channel list's mention badge, and marking a
--   channel's notifications read with its read cursor) look them up by (user, channel).

CREATE FUNCTION uuid_v7() RETURNS uuid
LANGUAGE sql VOLATILE PARALLEL SAFE AS $$
    SELECT encode(
        set_bit(
            set_bit(
                overlay(uuid_send(gen_random_uuid())
                    PLACING substring(int8send(floor(extract(epoch FROM clock_timestamp()) * 1000)::bigint) FROM 3)
                    FROM 1 FOR 6),
                52, 1),
            53, 1),
        'hex')::uuid
$$;

CREATE INDEX notifications_unread_channel_idx ON notifications (user_id, channel_id, message_id)
    WHERE read_at IS NULL AND channel_id IS NOT NULL;

ALTER TABLE channel_members ADD COLUMN updated_at timestamptz NOT NULL DEFAULT now();

CREATE TRIGGER channel_members_set_updated_at
    BEFORE UPDATE OF last_read_message_id, notify_level, muted_until, starred ON channel_members
    FOR EACH ROW EXECUTE FUNCTION set_updated_at();

CREATE INDEX messages_changed_idx ON messages (channel_id, (GREATEST(edited_at, deleted_at)))
    WHERE edited_at IS NOT NULL OR deleted_at IS NOT NULL;
