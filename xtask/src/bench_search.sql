-- The search bench's corpus (`cargo xtask bench search`): a community of 200 people in 50
-- channels (40 public, 10 private) and :messages messages over the past year, one every
-- 30 seconds, with ids made from their times as the api makes them (UUIDv7).
--
-- Words follow Zipf's law (s = 1): a message's words are drawn log-uniformly from the
-- ranks of a 30,000-word vocabulary of made-up words (`bench_vocabulary`), so "the" (rank 1) is in most
-- messages and the rarest in a few dozen; 5% of messages are CJK text without spaces;
-- one in 500 holds the phrase "production database outage". The user `bench` is in the
-- community, every public channel and the private channels chan41 to chan45 (so private
-- messages it may not read are part of what the indexes hold). The text indexes are built
-- after the load, as a restore would.
--
-- Run with psql: -v messages=1000000. `-v channels=1` puts every message in one public
-- channel, chan1 (the suite's *history* scenario); the default is the 50 above.

\set ON_ERROR_STOP on
\if :{?channels}
\else
\set channels 50
\endif
SET synchronous_commit = off;
SET maintenance_work_mem = '256MB';

INSERT INTO users (id, username, display_name) VALUES (uuid_v7(), 'bench', 'Bench')
    ON CONFLICT (username) DO NOTHING;
INSERT INTO users (id, username, display_name)
    SELECT uuid_v7(), 'user' || i, 'User ' || i FROM generate_series(1, 200) i
    ON CONFLICT (username) DO NOTHING;
INSERT INTO communities (id, name, slug, created_by)
    SELECT uuid_v7(), 'Bench', 'bench', id FROM users WHERE username = 'bench';
INSERT INTO community_members (community_id, user_id, role)
    SELECT c.id, u.id, CASE WHEN u.username = 'bench' THEN 'owner' ELSE 'member' END
    FROM communities c CROSS JOIN users u
    WHERE c.slug = 'bench' AND (u.username = 'bench' OR u.username ~ '^user[0-9]+$');
INSERT INTO channels (id, community_id, kind, name, created_by)
    SELECT uuid_v7(), c.id, CASE WHEN i <= 40 THEN 'public' ELSE 'private' END, 'chan' || i, c.created_by
    FROM communities c CROSS JOIN generate_series(1, :channels) i WHERE c.slug = 'bench';
INSERT INTO channel_members (channel_id, user_id, community_id)
    SELECT ch.id, u.id, ch.community_id FROM channels ch CROSS JOIN users u
    JOIN communities c ON c.slug = 'bench'
    WHERE ch.community_id = c.id AND u.username = 'bench'
      AND (ch.kind = 'public' OR ch.name IN ('chan41', 'chan42', 'chan43', 'chan44', 'chan45'));

-- Loaded as a restore would: the messages without queueing each for the api's search
-- indexer, then message_search (migration 0020) in one statement, its indexes after. The
-- trigger is off only inside the load's transaction, which no one else sees: a send meanwhile
-- waits for it and is queued as usual.
DROP INDEX message_search_tsv_idx, message_search_body_md_trgm_idx, message_search_cjk_bigrams_idx;
BEGIN;
ALTER TABLE messages DISABLE TRIGGER messages_queue_inserted;

-- Made-up words: rank r is 3 to 10 letters drawn from md5(r), so the corpus has the
-- variety of letter trigrams real text has; a few real words at the top ranks. Kept as a
-- table so the bench can pick words by rank.
CREATE TABLE bench_vocabulary AS
    SELECT r AS rank,
           CASE r WHEN 1 THEN 'the' WHEN 2 THEN 'deploy' WHEN 3 THEN 'and' WHEN 5 THEN 'build'
                  WHEN 8 THEN 'error' WHEN 13 THEN 'review'
           ELSE (SELECT string_agg(chr(97 + get_byte(decode(md5('w' || r), 'hex'), k) % 26), '' ORDER BY k)
                 FROM generate_series(0, 2 + r % 8) k)
           END AS word
    FROM generate_series(1, 30000) r;

INSERT INTO messages (id, channel_id, channel_seq, author_id, body_md, created_at)
SELECT encode(set_bit(set_bit(overlay(uuid_send(gen_random_uuid())
           PLACING substring(int8send((extract(epoch FROM g.at) * 1000)::bigint) FROM 3) FROM 1 FOR 6), 52, 1), 53, 1),
           'hex')::uuid,
       chans.ids[1 + g.i % :channels], g.i / :channels + 1, authors.ids[1 + (g.i::bigint * 7919) % 200],
       CASE
           WHEN g.i % 20 = 7 THEN (
               SELECT string_agg(substr('東京都大阪京都私は住んでいます会議の資料を確認してください今日明日天気晴れ雨新しい機能がリリースされました問題障害対応中国語한국어회의자료', 1 + (random() * 70)::int, 1), '')
               FROM generate_series(1, 8 + g.i % 30))
           ELSE (
               -- (k keeps the aggregate at this level: its argument must use a column of it)
               SELECT string_agg(v.words[greatest(1, least(30000, floor(exp(random() * ln(30000)))::int + 0 * k))], ' ')
               FROM generate_series(1, 4 + g.i % 20) k)
               || CASE WHEN g.i % 500 = 3 THEN ' production database outage' ELSE '' END
       END,
       g.at
FROM (SELECT i, now() - (:messages - i) * interval '30 seconds' AS at FROM generate_series(1, :messages) i) g
CROSS JOIN (SELECT array_agg(id ORDER BY name) AS ids FROM channels WHERE name ~ '^chan[0-9]+$') chans
CROSS JOIN (SELECT array_agg(id ORDER BY username) AS ids FROM users WHERE username ~ '^user[0-9]+$') authors
CROSS JOIN (SELECT array_agg(word ORDER BY rank) AS words FROM bench_vocabulary) v;

UPDATE channels ch SET last_seq = s.last FROM (SELECT channel_id, max(channel_seq) AS last FROM messages GROUP BY channel_id) s
    WHERE ch.id = s.channel_id;

ALTER TABLE messages ENABLE TRIGGER messages_queue_inserted;
COMMIT;
INSERT INTO message_search (id, channel_id, author_id, created_at, body_md, tsv)
    SELECT id, channel_id, author_id, created_at, body_md, tsv FROM messages WHERE deleted_at IS NULL
    ON CONFLICT (id) DO NOTHING;
CREATE INDEX message_search_tsv_idx ON message_search USING gin (tsv);
CREATE INDEX message_search_body_md_trgm_idx ON message_search USING gin (body_md gin_trgm_ops);
CREATE INDEX message_search_cjk_bigrams_idx ON message_search USING gin (cjk_bigrams(body_md));
VACUUM ANALYZE;
