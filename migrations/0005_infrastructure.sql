-- 0005 infrastructure: event delivery, the audit trail, presence.
--
-- Owns: outbox, audit_log, presence.
--
-- Non-obvious choices:
-- * outbox.id is a bigint identity, not a UUID: the relay republishes in id order, which
--   for rows inserted by committed transactions is close to commit order, and a bigint
--   makes the unpublished-rows scan a tiny partial index. event_id is the envelope id and
--   the JetStream Nats-Msg-Id (dedupe); unique so an event is never enqueued twice.
--   Published rows are pruned by the relay (by id range); nothing references them.
-- * audit_log has no FK on target_id: targets are of many types and the record must
--   outlive them. actor_id is SET NULL on user delete (the row stays; details may keep a
--   username). Deleting a community deletes its log; that deletion is itself recorded with
--   community_id NULL and target_type 'community'.
-- * presence is UNLOGGED: it is rewritten every minute by every online user (heartbeats),
--   so WAL for it is pure cost, and after a crash an empty table only means everyone
--   shows offline until their next heartbeat (<= 60 s). (An unlogged table may reference
--   a permanent one.)

CREATE TABLE outbox (
    id           bigint      GENERATED ALWAYS AS IDENTITY,
    event_id     uuid        NOT NULL,
    -- NATS subject to publish to (chat.events.{community}, chat.private.{channel}, ...):
    -- dot-separated tokens, no wildcards, no empty tokens.
    subject      text        NOT NULL,
    -- The full event envelope {id, type, community_id, channel_id, actor_id, timestamp, data}.
    payload      jsonb       NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now(),
    published_at timestamptz NULL,

    CONSTRAINT outbox_pkey PRIMARY KEY (id),
    CONSTRAINT outbox_event_id_unique UNIQUE (event_id),
    CONSTRAINT outbox_subject_format
        CHECK (char_length(subject) <= 255 AND subject ~ '^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*$'),
    CONSTRAINT outbox_payload_object CHECK (jsonb_typeof(payload) = 'object')
);

-- The relay's work queue.
CREATE INDEX outbox_unpublished_idx ON outbox (id) WHERE published_at IS NULL;

-- Admin and auth actions (DESIGN §6), read per community (GET /api/communities/{id}/audit)
-- and per actor.
CREATE TABLE audit_log (
    id           uuid        NOT NULL,
    -- NULL for instance-level events (login, token creation, ...).
    community_id uuid        NULL
        CONSTRAINT audit_log_community_id_fkey REFERENCES communities (id) ON DELETE CASCADE,
    -- NULL for system actions and failed logins.
    actor_id     uuid        NULL
        CONSTRAINT audit_log_actor_id_fkey REFERENCES users (id) ON DELETE SET NULL,
    -- Dotted lowercase action name, e.g. 'member.ban', 'auth.login', 'token.revoke'.
    action       text        NOT NULL,
    -- What the action was applied to, e.g. 'user', 'channel', 'message', 'token'.
    target_type  text        NULL,
    target_id    uuid        NULL,
    details      jsonb       NOT NULL DEFAULT '{}',
    ip           inet        NULL,
    created_at   timestamptz NOT NULL DEFAULT now(),

    CONSTRAINT audit_log_pkey PRIMARY KEY (id),
    CONSTRAINT audit_log_action_format CHECK (action ~ '^[a-z][a-z0-9_.]{0,63}$'),
    CONSTRAINT audit_log_target_type_format CHECK (target_type ~ '^[a-z][a-z0-9_]{0,31}$'),
    -- A target id is meaningless without its type.
    CONSTRAINT audit_log_target_check CHECK (target_id IS NULL OR target_type IS NOT NULL),
    CONSTRAINT audit_log_details_object CHECK (jsonb_typeof(details) = 'object')
);

CREATE INDEX audit_log_community_id_id_idx ON audit_log (community_id, id);
CREATE INDEX audit_log_actor_id_id_idx ON audit_log (actor_id, id);

-- Last heartbeat per user; online = last_seen_at within 2 minutes. Upserted by
-- POST /api/heartbeat.
CREATE UNLOGGED TABLE presence (
    user_id      uuid        NOT NULL
        CONSTRAINT presence_user_id_fkey REFERENCES users (id) ON DELETE CASCADE,
    last_seen_at timestamptz NOT NULL,

    CONSTRAINT presence_pkey PRIMARY KEY (user_id)
);
