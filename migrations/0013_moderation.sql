-- 0013 moderation: per-channel slow mode and freeze, and the request's trace id on audit rows.
--
-- Owns: channels.slow_mode_secs, channels.frozen_at, audit_log.trace_id.
--
-- Non-obvious choices:
-- * Slow mode is a number of seconds on the channel (0 = off) rather than a table: it is one
--   value per channel read with the channel on every post. The wait is measured from the
--   member's latest message in the channel (messages_author_id_id_idx finds it), so there
--   is no per-member "last posted" column to keep in step. Capped at six hours.
-- * A freeze is a timestamp like archived_at (when it began is cheap and useful); unlike an
--   archive it stops only non-admins' posts and reactions and webhooks.
-- * The channels' metadata trigger (0002) also watches the two new columns, so a freeze or
--   a slow-mode change bumps channels.updated_at and catch-up (GET /api/sync) reports it.
-- * audit_log.trace_id is the X-Trace-Id of the request that did the action (set by the
--   gateway), so an audit row can be matched with the logs. Text, not uuid: a client may
--   send its own id through the gateway; the api keeps it only if short and printable.

ALTER TABLE channels
    ADD COLUMN slow_mode_secs integer NOT NULL DEFAULT 0,
    ADD COLUMN frozen_at      timestamptz NULL,
    ADD CONSTRAINT channels_slow_mode_secs_check CHECK (slow_mode_secs BETWEEN 0 AND 21600);

DROP TRIGGER channels_set_updated_at ON channels;
CREATE TRIGGER channels_set_updated_at
    BEFORE UPDATE OF kind, name, topic, archived_at, slow_mode_secs, frozen_at ON channels
    FOR EACH ROW EXECUTE FUNCTION set_updated_at();

ALTER TABLE audit_log
    ADD COLUMN trace_id text NULL,
    ADD CONSTRAINT audit_log_trace_id_length CHECK (char_length(trace_id) BETWEEN 1 AND 128);
