-- 0011 notification fan-out: ids made by the database, and the indexes the inbox and the
-- per-channel badges read.
--
-- Owns: the uuid_v7() function; notification indexes beyond 0004's.
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
