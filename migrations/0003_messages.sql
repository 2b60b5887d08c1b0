-- 0003 messages: what is said, and everything hanging off a message.
--
-- Owns: the pg_trgm extension, webhooks (created here because messages reference them),
-- messages, reactions, attachments, mentions.
--
-- Non-obvious choices:
-- * Threads are one level deep, enforced declaratively rather than by a trigger: two
--   generated columns, is_reply (parent_id IS NOT NULL) and is_top_level (its negation),
--   let the parent FK be (parent_id, channel_id, is_reply) -> (id, channel_id,
--   is_top_level). A reply carries is_reply = true, so its parent must be a row in the
--   same channel whose is_top_level is true. One FK thus checks existence, same channel
--   and not-a-reply, and also forbids turning a message that has replies into a reply
--   (ON UPDATE NO ACTION). Deleting a root (purge, channel delete) deletes its replies.
-- * messages has two extra composite keys, (id, channel_id) and (id, channel_id,
--   is_top_level), purely as FK targets: attachments and notifications reference
--   (message_id, channel_id) so their denormalised channel can never disagree with the
--   message's (authorisation of a download is by channel).
-- * A webhook message references (webhook_id, channel_id) -> webhooks (id, channel_id): a
--   webhook can post only into the channel it is bound to, and that binding cannot change
--   once it has posted. Webhooks are revoked (revoked_at), never deleted while their
--   messages exist (NO ACTION), because messages need exactly one of author / webhook.
--   Deleting the channel removes both in one statement, which NO ACTION allows.
-- * idempotent send: UNIQUE (author_id, client_msg_id). The API answers a conflict by
--   returning the stored message if the body matches and 409 otherwise. Webhook messages
--   (author_id NULL) are never deduplicated (NULLs are distinct).
-- * Search: tsv is a generated 'simple' tsvector (no stemming: the content is multilingual
--   and full of code and names) with a GIN index; a pg_trgm GIN index on body_md serves
--   partial words, ILIKE and CJK, which the tsvector cannot. pg_trgm is a trusted
--   extension since PG 13, so the database owner may create it without superuser.
-- * Soft delete keeps the row (deleted_at); the API blanks what it must. Hard deletes only
--   come from purge or channel/community deletion.
-- * Thread summary (reply_count, last_reply_at) is written with the reply's insert, by the
--   API, not by a trigger; the CHECKs keep it on roots only.

CREATE EXTENSION IF NOT EXISTS pg_trgm;

-- Incoming webhooks: POST /hook/{id}/{token}, Slack-compatible payloads.
CREATE TABLE webhooks (
    id           uuid        NOT NULL,
    community_id uuid        NOT NULL
        CONSTRAINT webhooks_community_id_fkey REFERENCES communities (id) ON DELETE CASCADE,
    channel_id   uuid        NOT NULL,
    -- Default display name and icon of its posts; a payload's username/icon_url override
    -- them per message (messages.display_name / avatar_url).
    name         text        NOT NULL,
    avatar_url   text        NULL,
    -- SHA-256 of the secret URL token.
    token_hash   bytea       NOT NULL,
    created_by   uuid        NULL
        CONSTRAINT webhooks_created_by_fkey REFERENCES users (id) ON DELETE SET NULL,
    created_at   timestamptz NOT NULL DEFAULT now(),
    last_used_at timestamptz NULL,
    revoked_at   timestamptz NULL,

    CONSTRAINT webhooks_pkey PRIMARY KEY (id),
    CONSTRAINT webhooks_token_hash_unique UNIQUE (token_hash),
    CONSTRAINT webhooks_token_hash_length CHECK (octet_length(token_hash) = 32),
    -- FK target for messages (webhook_id, channel_id).
    CONSTRAINT webhooks_id_channel_unique UNIQUE (id, channel_id),
    -- The channel must be a channel of this community (so never a DM, whose
    -- community_id is NULL).
    CONSTRAINT webhooks_channel_fkey
        FOREIGN KEY (channel_id, community_id) REFERENCES channels (id, community_id)
        ON DELETE CASCADE,
    CONSTRAINT webhooks_name_length CHECK (char_length(name) BETWEEN 1 AND 80 AND name ~ '\S'),
    CONSTRAINT webhooks_avatar_url_length CHECK (char_length(avatar_url) BETWEEN 1 AND 2048)
);

CREATE INDEX webhooks_community_id_id_idx ON webhooks (community_id, id);
CREATE INDEX webhooks_channel_id_idx ON webhooks (channel_id);

CREATE TABLE messages (
    id            uuid        NOT NULL,
    channel_id    uuid        NOT NULL
        CONSTRAINT messages_channel_id_fkey REFERENCES channels (id) ON DELETE CASCADE,
    -- 1, 2, 3, ... per channel, taken from channels.last_seq in the insert's transaction.
    channel_seq   bigint      NOT NULL,
    author_id     uuid        NULL
        CONSTRAINT messages_author_id_fkey REFERENCES users (id),
    webhook_id    uuid        NULL,
    -- Webhook display overrides (Slack `username` / `icon_url`); NULL = webhook defaults.
    display_name  text        NULL,
    avatar_url    text        NULL,
    parent_id     uuid        NULL,
    -- May be empty (an attachment-only message, or a blanked deleted one).
    body_md       text        NOT NULL,
    client_msg_id text        NULL,
    created_at    timestamptz NOT NULL DEFAULT now(),
    edited_at     timestamptz NULL,
    deleted_at    timestamptz NULL,
    pinned_at     timestamptz NULL,
    pinned_by     uuid        NULL
        CONSTRAINT messages_pinned_by_fkey REFERENCES users (id),
    reply_count   integer     NOT NULL DEFAULT 0,
    last_reply_at timestamptz NULL,
    tsv           tsvector    GENERATED ALWAYS AS (to_tsvector('simple', body_md)) STORED,
    -- Thread-shape helpers for messages_parent_fkey; see header. Never written.
    is_reply      boolean     GENERATED ALWAYS AS (parent_id IS NOT NULL) STORED,
    is_top_level  boolean     GENERATED ALWAYS AS (parent_id IS NULL) STORED,

    CONSTRAINT messages_pkey PRIMARY KEY (id),
    CONSTRAINT messages_channel_seq_unique UNIQUE (channel_id, channel_seq),
    CONSTRAINT messages_client_msg_id_unique UNIQUE (author_id, client_msg_id),
    -- FK targets only; see header.
    CONSTRAINT messages_id_channel_unique UNIQUE (id, channel_id),
    CONSTRAINT messages_thread_root_unique UNIQUE (id, channel_id, is_top_level),
    -- Parent exists, is in the same channel, and is not itself a reply.
    CONSTRAINT messages_parent_fkey
        FOREIGN KEY (parent_id, channel_id, is_reply)
        REFERENCES messages (id, channel_id, is_top_level) ON DELETE CASCADE,
    -- Only into the webhook's own channel.
    CONSTRAINT messages_webhook_fkey
        FOREIGN KEY (webhook_id, channel_id) REFERENCES webhooks (id, channel_id),
    CONSTRAINT messages_channel_seq_positive CHECK (channel_seq > 0),
    CONSTRAINT messages_author_xor_webhook CHECK (num_nonnulls(author_id, webhook_id) = 1),
    CONSTRAINT messages_display_override_webhook_only
        CHECK (webhook_id IS NOT NULL OR (display_name IS NULL AND avatar_url IS NULL)),
    CONSTRAINT messages_display_name_length
        CHECK (char_length(display_name) BETWEEN 1 AND 80 AND display_name ~ '\S'),
    CONSTRAINT messages_avatar_url_length CHECK (char_length(avatar_url) BETWEEN 1 AND 2048),
    CONSTRAINT messages_body_md_length CHECK (char_length(body_md) <= 40000),
    CONSTRAINT messages_client_msg_id_length CHECK (char_length(client_msg_id) BETWEEN 1 AND 100),
    -- Also implied by messages_parent_fkey; kept explicit for a clear error.
    CONSTRAINT messages_parent_not_self CHECK (parent_id <> id),
    CONSTRAINT messages_pin_check CHECK ((pinned_at IS NULL) = (pinned_by IS NULL)),
    CONSTRAINT messages_reply_count_nonnegative CHECK (reply_count >= 0),
    -- Replies have no thread of their own; a root with replies knows when the last came.
    CONSTRAINT messages_thread_summary_check CHECK (
        (parent_id IS NULL OR (reply_count = 0 AND last_reply_at IS NULL))
        AND (reply_count = 0 OR last_reply_at IS NOT NULL)
    )
);

-- History cursors (before/after/around) and capped unread counts over (channel_id, id).
CREATE INDEX messages_channel_id_id_idx ON messages (channel_id, id);
-- Thread panel: replies of a root in order; also serves messages_parent_fkey's cascade.
CREATE INDEX messages_parent_id_id_idx ON messages (parent_id, id) WHERE parent_id IS NOT NULL;
-- Pins list per channel.
CREATE INDEX messages_pinned_idx ON messages (channel_id, pinned_at) WHERE pinned_at IS NOT NULL;
-- `from:` search filter.
CREATE INDEX messages_author_id_id_idx ON messages (author_id, id) WHERE author_id IS NOT NULL;
-- Supports messages_webhook_fkey checks.
CREATE INDEX messages_webhook_id_idx ON messages (webhook_id) WHERE webhook_id IS NOT NULL;
-- Full-text search.
CREATE INDEX messages_tsv_idx ON messages USING gin (tsv);
-- Partial-word / CJK fallback search.
CREATE INDEX messages_body_md_trgm_idx ON messages USING gin (body_md gin_trgm_ops);

CREATE TABLE reactions (
    message_id uuid        NOT NULL
        CONSTRAINT reactions_message_id_fkey REFERENCES messages (id) ON DELETE CASCADE,
    user_id    uuid        NOT NULL
        CONSTRAINT reactions_user_id_fkey REFERENCES users (id) ON DELETE CASCADE,
    -- A Unicode emoji (possibly a multi-codepoint ZWJ sequence) or a :shortcode:.
    emoji      text        NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),

    -- One per user per emoji; PUT is idempotent via ON CONFLICT DO NOTHING.
    CONSTRAINT reactions_pkey PRIMARY KEY (message_id, user_id, emoji),
    CONSTRAINT reactions_emoji_length
        CHECK (char_length(emoji) BETWEEN 1 AND 64 AND emoji !~ '[[:space:][:cntrl:]]')
);

-- Uploaded files. Uploaded through the API into a channel (POST
-- /api/channels/{id}/attachments), then attached to a message when it is sent.
CREATE TABLE attachments (
    id           uuid        NOT NULL,
    -- The channel it was uploaded to: download authorisation is membership of this
    -- channel, so it must match the message's (composite FK below).
    channel_id   uuid        NOT NULL
        CONSTRAINT attachments_channel_id_fkey REFERENCES channels (id) ON DELETE CASCADE,
    -- NULL until the message is sent. If the message is hard-deleted only message_id is
    -- cleared (PG 15 column list), so the row returns to the unattached pool and the same
    -- sweeper that reclaims abandoned uploads deletes the S3 object.
    message_id   uuid        NULL,
    uploader_id  uuid        NOT NULL
        CONSTRAINT attachments_uploader_id_fkey REFERENCES users (id),
    -- Original file name, shown and used in Content-Disposition; never a path.
    filename     text        NOT NULL,
    -- Bare lowercase MIME type as sniffed/validated by the API (no parameters).
    content_type text        NOT NULL,
    size_bytes   bigint      NOT NULL,
    -- Object key in the S3 bucket.
    storage_key  text        NOT NULL,
    -- Pixel size of images, for layout without reflow; NULL for other files.
    width        integer     NULL,
    height       integer     NULL,
    created_at   timestamptz NOT NULL DEFAULT now(),

    CONSTRAINT attachments_pkey PRIMARY KEY (id),
    CONSTRAINT attachments_storage_key_unique UNIQUE (storage_key),
    CONSTRAINT attachments_message_fkey
        FOREIGN KEY (message_id, channel_id) REFERENCES messages (id, channel_id)
        ON DELETE SET NULL (message_id),
    CONSTRAINT attachments_filename_check CHECK (
        char_length(filename) BETWEEN 1 AND 255
        AND filename !~ '[/\\[:cntrl:]]'
        AND filename NOT IN ('.', '..')
    ),
    CONSTRAINT attachments_content_type_format CHECK (
        char_length(content_type) <= 255
        AND content_type ~ '^[a-z0-9][a-z0-9!#$&^_.+-]*/[a-z0-9][a-z0-9!#$&^_.+-]*$'
    ),
    CONSTRAINT attachments_size_nonnegative CHECK (size_bytes >= 0),
    CONSTRAINT attachments_storage_key_length CHECK (char_length(storage_key) BETWEEN 1 AND 1024),
    CONSTRAINT attachments_dimensions_check CHECK (
        (width IS NULL AND height IS NULL) OR (width > 0 AND height > 0)
    )
);

-- Attachments of a page of messages; `has:file` search; the message FK's SET NULL.
CREATE INDEX attachments_message_id_idx ON attachments (message_id) WHERE message_id IS NOT NULL;
-- Shared-files listing per channel; channel cascade.
CREATE INDEX attachments_channel_id_id_idx ON attachments (channel_id, id);
-- Sweeper for abandoned uploads.
CREATE INDEX attachments_unattached_idx ON attachments (created_at) WHERE message_id IS NULL;

-- Structured mentions parsed from body_md (rewritten on edit). Notifications are derived
-- from these; this table is the record of what the message refers to.
--   user        @user     -> user_id
--   channel_ref #channel  -> channel_id (a link to another channel, notifies nobody)
--   channel     @channel  (every member of the message's channel)
--   here        @here     (members currently online)
--   everyone    @everyone
CREATE TABLE mentions (
    id         uuid NOT NULL,
    message_id uuid NOT NULL
        CONSTRAINT mentions_message_id_fkey REFERENCES messages (id) ON DELETE CASCADE,
    kind       text NOT NULL,
    user_id    uuid NULL
        CONSTRAINT mentions_user_id_fkey REFERENCES users (id) ON DELETE CASCADE,
    channel_id uuid NULL
        CONSTRAINT mentions_channel_id_fkey REFERENCES channels (id) ON DELETE CASCADE,

    CONSTRAINT mentions_pkey PRIMARY KEY (id),
    -- Each target at most once per message (NULLS NOT DISTINCT, PG 15: one @here row).
    CONSTRAINT mentions_target_unique UNIQUE NULLS NOT DISTINCT (message_id, kind, user_id, channel_id),
    CONSTRAINT mentions_kind_check
        CHECK (kind IN ('user', 'channel_ref', 'channel', 'here', 'everyone')),
    CONSTRAINT mentions_target_check CHECK (
        (user_id IS NOT NULL) = (kind = 'user')
        AND (channel_id IS NOT NULL) = (kind = 'channel_ref')
    )
);

-- "Messages mentioning me".
CREATE INDEX mentions_user_id_idx ON mentions (user_id, message_id) WHERE user_id IS NOT NULL;
CREATE INDEX mentions_channel_id_idx ON mentions (channel_id) WHERE channel_id IS NOT NULL;
