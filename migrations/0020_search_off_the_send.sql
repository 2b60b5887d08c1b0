-- 0020 (issue 15, performance pass 5): search indexing leaves the send's transaction.
--
-- Owns: message_search (the text search indexes, moved from messages), search_pending
-- (what is still to index), their triggers on messages.
--
-- Non-obvious choices:
-- * Why: the three GIN indexes on messages (words, trigrams, CJK bigrams) were about 60 %
--   of what inserting a message cost Postgres, and with `fastupdate` an insert now and
--   then flushed an index's pending list in the foreground (up to 85 ms) while the send
--   held its channel's row lock, so every send to that channel waited. Now a send writes
--   one row to search_pending (a b-tree insert, through the trigger below) and the api's
--   search indexer (`api::indexer`, `db::search::index_pending`) moves batches into
--   message_search after the commit, on its own time, with nobody waiting on its flushes.
-- * Search stays exact, not "a few milliseconds behind": a page reads message_search for
--   what is indexed and, beside it, the few messages still in search_pending straight
--   from messages (their `tsv` and `body_md`, no index needed for a handful of rows). A
--   message is always in one of the two: its insert or change and its pending row commit
--   together, and the indexer deletes the pending row and writes message_search in one
--   transaction.
-- * An indexed row counts only while its message is not queued: an edit or a delete
--   queues the message again in its own transaction, so from its commit the old text in
--   message_search matches nothing (search checks the queue, a few rows) and the queued
--   side finds the new text in messages; the indexer then rewrites or drops the row in the
--   transaction that takes the message off the queue. So message_search also carries what
--   search filters on (channel, author, time; never changed without queueing, see the
--   update trigger's columns) and a search reads messages only for its page of hits.
-- * messages keeps its generated `tsv`: relevance scores it and the newest-messages plan
--   filters on it without an index. message_search copies it (and body_md, for the
--   trigram index): text is stored twice, the price of keeping index maintenance out of
--   the row every send locks behind.
-- * The insert trigger is per statement, over the inserted rows (a bulk load queues in
--   one statement); the update trigger is per row, because a trigger with a column list
--   cannot have a transition table. Its columns are what message_search copies, and
--   deleted_at: a link preview, a pin or a reply count does not re-index. Re-queueing an already pending message updates its row rather than
--   doing nothing, so it takes the row's lock: the indexer, which deletes pending rows
--   first and reads messages in a later statement, then either waits for that change's
--   commit or leaves the row for the next batch (`SKIP LOCKED`), and never indexes text
--   older than a committed change while dropping its pending row.
-- * search_pending has no foreign key: a send does not pay the check, and a purged
--   message's pending row is simply dropped by the indexer, which finds no message.
-- * Existing messages are copied here once. Writes to messages wait for this migration
--   from its first statement (SHARE ROW EXCLUSIVE: reads go on), so no change commits
--   between the copy and the triggers that would queue it; the old indexes are dropped
--   last, so reads wait only for that (ACCESS EXCLUSIVE) at the very end. On a large
--   database, sends wait for the copy and the three index builds.

LOCK TABLE messages IN SHARE ROW EXCLUSIVE MODE;

-- A copy of what search reads of a message, as of the message's last queueing; no foreign
-- keys but its message's (which removes it with the message).
CREATE TABLE message_search (
    id         uuid        NOT NULL
        CONSTRAINT message_search_id_fkey REFERENCES messages (id) ON DELETE CASCADE,
    channel_id uuid        NOT NULL,
    author_id  uuid        NULL,
    created_at timestamptz NOT NULL,
    body_md    text        NOT NULL,
    tsv        tsvector    NOT NULL,
    CONSTRAINT message_search_pkey PRIMARY KEY (id)
);

CREATE TABLE search_pending (
    message_id uuid        NOT NULL,
    queued_at  timestamptz NOT NULL DEFAULT clock_timestamp(),
    CONSTRAINT search_pending_pkey PRIMARY KEY (message_id)
);

CREATE FUNCTION messages_queue_inserted() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO search_pending (message_id) SELECT id FROM inserted
        ON CONFLICT (message_id) DO UPDATE SET queued_at = excluded.queued_at;
    RETURN NULL;
END
$$;

CREATE TRIGGER messages_queue_inserted AFTER INSERT ON messages
    REFERENCING NEW TABLE AS inserted
    FOR EACH STATEMENT EXECUTE FUNCTION messages_queue_inserted();

CREATE FUNCTION messages_queue_changed() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO search_pending (message_id) VALUES (NEW.id)
        ON CONFLICT (message_id) DO UPDATE SET queued_at = excluded.queued_at;
    RETURN NULL;
END
$$;

CREATE TRIGGER messages_queue_changed
    AFTER UPDATE OF body_md, deleted_at, channel_id, author_id, created_at ON messages
    FOR EACH ROW EXECUTE FUNCTION messages_queue_changed();

INSERT INTO message_search (id, channel_id, author_id, created_at, body_md, tsv)
    SELECT id, channel_id, author_id, created_at, body_md, tsv FROM messages WHERE deleted_at IS NULL;

-- Words.
CREATE INDEX message_search_tsv_idx ON message_search USING gin (tsv);
-- Partial words (three characters or more).
CREATE INDEX message_search_body_md_trgm_idx ON message_search USING gin (body_md gin_trgm_ops);
-- Two-character CJK words (see 0012).
CREATE INDEX message_search_cjk_bigrams_idx ON message_search USING gin (cjk_bigrams(body_md));

DROP INDEX messages_tsv_idx, messages_body_md_trgm_idx, messages_cjk_bigrams_idx;
