-- 0004 notifications and moderation: who is told what, who may come in, who is kept out.
--
-- Owns: notifications, invites, bans, mutes.
--
-- Non-obvious choices:
-- * notifications replace seed 004's (type, source_id, read bool) with typed nullable
--   references (message_id, channel_id, community_id) so each can have a real FK and
--   cascade, and read_at instead of a bool (when it was read is cheap and useful).
--   A message-borne notification references (message_id, channel_id) -> messages, so the
--   channel used for per-channel mention badges always matches the message.
-- * At most one notification per (user, message): if a message both mentions someone and
--   replies in their thread, the API picks one kind. The unique index also makes the
--   notification insert idempotent under retries (ON CONFLICT DO NOTHING).
-- * bans and mutes key on (community_id, user_id) and deliberately do NOT reference
--   community_members: a ban may precede membership, and a mute must survive the member
--   leaving and re-joining. Lifting one deletes its row; the audit log keeps the history.
--   An expired row (expires_at / muted_until in the past) no longer applies and may be
--   pruned.
-- * invites: the uses CHECK is the backstop for the API's conditional
--   `UPDATE invites SET uses = uses + 1 WHERE ... AND (max_uses IS NULL OR uses < max_uses)`.

CREATE TABLE notifications (
    id           uuid        NOT NULL,
    -- The recipient.
    user_id      uuid        NOT NULL
        CONSTRAINT notifications_user_id_fkey REFERENCES users (id) ON DELETE CASCADE,
    kind         text        NOT NULL,
    message_id   uuid        NULL,
    channel_id   uuid        NULL
        CONSTRAINT notifications_channel_id_fkey REFERENCES channels (id) ON DELETE CASCADE,
    community_id uuid        NULL
        CONSTRAINT notifications_community_id_fkey REFERENCES communities (id) ON DELETE CASCADE,
    -- Who caused it (mentioner, inviter, admin); NULL for system events.
    actor_id     uuid        NULL
        CONSTRAINT notifications_actor_id_fkey REFERENCES users (id) ON DELETE SET NULL,
    -- Kind-specific extras for rendering (e.g. a system text, the new role).
    data         jsonb       NOT NULL DEFAULT '{}',
    read_at      timestamptz NULL,
    created_at   timestamptz NOT NULL DEFAULT now(),

    CONSTRAINT notifications_pkey PRIMARY KEY (id),
    CONSTRAINT notifications_message_fkey
        FOREIGN KEY (message_id, channel_id) REFERENCES messages (id, channel_id)
        ON DELETE CASCADE,
    CONSTRAINT notifications_kind_check
        CHECK (kind IN ('mention', 'dm', 'thread_reply', 'invite', 'system')),
    -- mention / dm / thread_reply point at the message (and so its channel).
    CONSTRAINT notifications_message_kinds_check CHECK (
        kind NOT IN ('mention', 'dm', 'thread_reply')
        OR (message_id IS NOT NULL AND channel_id IS NOT NULL)
    ),
    -- An invite is to a channel or a community.
    CONSTRAINT notifications_invite_target_check
        CHECK (kind <> 'invite' OR num_nonnulls(channel_id, community_id) >= 1),
    CONSTRAINT notifications_data_object CHECK (jsonb_typeof(data) = 'object')
);

-- Inbox pages (cursor = id).
CREATE INDEX notifications_user_id_id_idx ON notifications (user_id, id);
-- Unread list/count and per-channel mention badges.
CREATE INDEX notifications_unread_idx ON notifications (user_id, id) WHERE read_at IS NULL;
CREATE UNIQUE INDEX notifications_user_message_unique ON notifications (user_id, message_id)
    WHERE message_id IS NOT NULL;
-- Cascades from message / channel / community deletion (purge deletes many messages).
CREATE INDEX notifications_message_id_idx ON notifications (message_id) WHERE message_id IS NOT NULL;
CREATE INDEX notifications_channel_id_idx ON notifications (channel_id) WHERE channel_id IS NOT NULL;
CREATE INDEX notifications_community_id_idx ON notifications (community_id)
    WHERE community_id IS NOT NULL;

CREATE TABLE invites (
    id           uuid        NOT NULL,
    -- Random URL-safe code (POST /api/invites/{code}/accept).
    code         text        NOT NULL,
    community_id uuid        NOT NULL
        CONSTRAINT invites_community_id_fkey REFERENCES communities (id) ON DELETE CASCADE,
    created_by   uuid        NOT NULL
        CONSTRAINT invites_created_by_fkey REFERENCES users (id),
    created_at   timestamptz NOT NULL DEFAULT now(),
    expires_at   timestamptz NULL,
    -- NULL = unlimited.
    max_uses     integer     NULL,
    uses         integer     NOT NULL DEFAULT 0,
    revoked_at   timestamptz NULL,

    CONSTRAINT invites_pkey PRIMARY KEY (id),
    CONSTRAINT invites_code_unique UNIQUE (code),
    CONSTRAINT invites_code_format CHECK (code ~ '^[A-Za-z0-9_-]{6,64}$'),
    CONSTRAINT invites_max_uses_positive CHECK (max_uses > 0),
    CONSTRAINT invites_uses_check CHECK (uses >= 0 AND (max_uses IS NULL OR uses <= max_uses)),
    CONSTRAINT invites_expiry_after_creation CHECK (expires_at > created_at)
);

CREATE INDEX invites_community_id_id_idx ON invites (community_id, id);

CREATE TABLE bans (
    community_id uuid        NOT NULL
        CONSTRAINT bans_community_id_fkey REFERENCES communities (id) ON DELETE CASCADE,
    user_id      uuid        NOT NULL
        CONSTRAINT bans_user_id_fkey REFERENCES users (id) ON DELETE CASCADE,
    reason       text        NULL,
    banned_by    uuid        NULL
        CONSTRAINT bans_banned_by_fkey REFERENCES users (id) ON DELETE SET NULL,
    created_at   timestamptz NOT NULL DEFAULT now(),
    -- NULL = permanent. Finite: sqlx cannot decode 'infinity'.
    expires_at   timestamptz NULL,

    CONSTRAINT bans_pkey PRIMARY KEY (community_id, user_id),
    CONSTRAINT bans_reason_length CHECK (char_length(reason) BETWEEN 1 AND 512),
    CONSTRAINT bans_expires_at_check CHECK (isfinite(expires_at) AND expires_at > created_at)
);

CREATE INDEX bans_user_id_idx ON bans (user_id);

-- Community-wide mute: the member may read but not post or react (`/mute @user [duration]`).
-- Not to be confused with channel_members.muted_until, a member silencing a channel.
CREATE TABLE mutes (
    community_id uuid        NOT NULL
        CONSTRAINT mutes_community_id_fkey REFERENCES communities (id) ON DELETE CASCADE,
    user_id      uuid        NOT NULL
        CONSTRAINT mutes_user_id_fkey REFERENCES users (id) ON DELETE CASCADE,
    reason       text        NULL,
    muted_by     uuid        NULL
        CONSTRAINT mutes_muted_by_fkey REFERENCES users (id) ON DELETE SET NULL,
    created_at   timestamptz NOT NULL DEFAULT now(),
    -- NULL = until unmuted. Finite: sqlx cannot decode 'infinity'.
    muted_until  timestamptz NULL,

    CONSTRAINT mutes_pkey PRIMARY KEY (community_id, user_id),
    CONSTRAINT mutes_reason_length CHECK (char_length(reason) BETWEEN 1 AND 512),
    CONSTRAINT mutes_muted_until_check CHECK (isfinite(muted_until) AND muted_until > created_at)
);

CREATE INDEX mutes_user_id_idx ON mutes (user_id);
