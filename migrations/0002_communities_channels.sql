-- 0002 communities and channels: where conversations live and who is in them.
--
-- Owns: communities, community_members, channels, channel_members (and the FK from
-- api_tokens.community_id, which needed communities to exist).
--
-- Non-obvious choices:
-- * DMs and group DMs are channels with community_id NULL (seed 004). One CHECK per rule
--   keeps the shapes apart, so a DM can never carry a community, a name or lose its
--   dm_key, and a community channel always has a valid name.
-- * channels.dm_key is the conversation's member set (sorted ids), unique, so
--   "get-or-create the DM with these people" is one INSERT ... ON CONFLICT, race-free.
--   Membership of a dm/group_dm is therefore fixed at creation (Slack semantics: adding
--   someone makes a new conversation). Format: lowercase hyphenated UUIDs in ascending
--   order joined by ','; a dm has one (notes to self) or two ids, a group_dm three or more,
--   so the same member set can never exist as both kinds.
-- * channels.last_seq is the per-channel message counter (DESIGN §3): a message insert
--   does `UPDATE channels SET last_seq = last_seq + 1 ... RETURNING last_seq` in the same
--   transaction, which also serialises concurrent sends in one channel.
-- * channel_members.community_id is a denormalised copy of the channel's community,
--   filled by a trigger (callers never set it). It exists only to carry two foreign keys:
--   to channels (id, community_id), so it cannot be wrong, and to community_members, so a
--   member of a community channel must be a member of its community, and leaving / being
--   kicked from / banned out of a community removes every channel membership there in the
--   same statement (ON DELETE CASCADE). For dm/group_dm rows it is NULL and both FKs are
--   skipped (MATCH SIMPLE).
-- * channel_members.last_read_message_id is a position, not a reference: ids are UUIDv7,
--   so "unread" is `id > last_read_message_id`, which stays meaningful if that message is
--   later purged. Hence no FK.

CREATE TABLE communities (
    id          uuid        NOT NULL,
    name        text        NOT NULL,
    slug        text        NOT NULL,
    description text        NULL,
    created_by  uuid        NOT NULL
        CONSTRAINT communities_created_by_fkey REFERENCES users (id),
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now(),

    CONSTRAINT communities_pkey PRIMARY KEY (id),
    CONSTRAINT communities_slug_unique UNIQUE (slug),
    -- URL segment (/c/{slug}): lowercase, 2..=40 chars.
    CONSTRAINT communities_slug_format CHECK (slug ~ '^[a-z0-9][a-z0-9-]{1,39}$'),
    CONSTRAINT communities_name_length CHECK (char_length(name) BETWEEN 1 AND 80 AND name ~ '\S'),
    CONSTRAINT communities_description_length CHECK (char_length(description) <= 1024)
);

CREATE TRIGGER communities_set_updated_at BEFORE UPDATE ON communities
    FOR EACH ROW EXECUTE FUNCTION set_updated_at();

ALTER TABLE api_tokens
    ADD CONSTRAINT api_tokens_community_id_fkey
    FOREIGN KEY (community_id) REFERENCES communities (id) ON DELETE CASCADE;

CREATE TABLE community_members (
    community_id uuid        NOT NULL
        CONSTRAINT community_members_community_id_fkey
        REFERENCES communities (id) ON DELETE CASCADE,
    user_id      uuid        NOT NULL
        CONSTRAINT community_members_user_id_fkey REFERENCES users (id) ON DELETE CASCADE,
    role         text        NOT NULL DEFAULT 'member',
    -- Per-community display name override.
    nickname     text        NULL,
    joined_at    timestamptz NOT NULL DEFAULT now(),

    CONSTRAINT community_members_pkey PRIMARY KEY (community_id, user_id),
    CONSTRAINT community_members_role_check CHECK (role IN ('owner', 'admin', 'member')),
    CONSTRAINT community_members_nickname_length
        CHECK (char_length(nickname) BETWEEN 1 AND 64 AND nickname ~ '\S')
);

-- "My communities".
CREATE INDEX community_members_user_id_idx ON community_members (user_id);
-- At most one owner per community (`/role` only grants admin|member; ownership moves by
-- demoting the old owner before promoting the new one, in one transaction). "At least one
-- owner" is the API's job: the owner cannot leave or be demoted without a transfer.
CREATE UNIQUE INDEX community_members_single_owner ON community_members (community_id)
    WHERE role = 'owner';

CREATE TABLE channels (
    id              uuid        NOT NULL,
    community_id    uuid        NULL
        CONSTRAINT channels_community_id_fkey REFERENCES communities (id) ON DELETE CASCADE,
    kind            text        NOT NULL,
    name            text        NULL,
    topic           text        NULL,
    created_by      uuid        NULL
        CONSTRAINT channels_created_by_fkey REFERENCES users (id) ON DELETE SET NULL,
    created_at      timestamptz NOT NULL DEFAULT now(),
    -- Bumped only by metadata edits (see trigger below), not by new messages.
    updated_at      timestamptz NOT NULL DEFAULT now(),
    archived_at     timestamptz NULL,
    -- Per-channel message sequence counter; see header.
    last_seq        bigint      NOT NULL DEFAULT 0,
    -- Sidebar ordering; maintained with each message insert.
    last_message_at timestamptz NULL,
    -- Member-set key of a dm/group_dm; see header.
    dm_key          text        NULL,

    CONSTRAINT channels_pkey PRIMARY KEY (id),
    -- Community channels: one name per community. NULL community/name rows (DMs) never
    -- collide.
    CONSTRAINT channels_name_unique UNIQUE (community_id, name),
    CONSTRAINT channels_dm_key_unique UNIQUE (dm_key),
    -- Target of composite FKs (webhooks, channel_members) that must agree with the
    -- channel's community.
    CONSTRAINT channels_id_community_unique UNIQUE (id, community_id),
    CONSTRAINT channels_kind_check CHECK (kind IN ('public', 'private', 'dm', 'group_dm')),
    -- dm/group_dm <=> global (no community).
    CONSTRAINT channels_community_check
        CHECK ((kind IN ('dm', 'group_dm')) = (community_id IS NULL)),
    -- public/private need a valid name; dm/group_dm have none.
    CONSTRAINT channels_name_check CHECK (
        CASE WHEN kind IN ('public', 'private')
            THEN name IS NOT NULL AND name ~ '^[a-z0-9][a-z0-9_-]{0,79}$'
            ELSE name IS NULL
        END
    ),
    -- dm has 1..=2 member ids, group_dm 3 or more; community channels have no dm_key.
    CONSTRAINT channels_dm_key_check CHECK (
        CASE kind
            WHEN 'dm' THEN dm_key IS NOT NULL AND dm_key ~
                '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}(,[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})?$'
            WHEN 'group_dm' THEN dm_key IS NOT NULL AND dm_key ~
                '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}(,[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}){2,}$'
            ELSE dm_key IS NULL
        END
    ),
    CONSTRAINT channels_topic_length CHECK (char_length(topic) <= 250),
    -- Only community channels are archived; a DM is left, not archived.
    CONSTRAINT channels_archive_check CHECK (archived_at IS NULL OR community_id IS NOT NULL),
    CONSTRAINT channels_last_seq_nonnegative CHECK (last_seq >= 0)
);

-- Metadata columns only: the per-message `UPDATE ... SET last_seq` must not look like an
-- edit of the channel.
CREATE TRIGGER channels_set_updated_at
    BEFORE UPDATE OF kind, name, topic, archived_at ON channels
    FOR EACH ROW EXECUTE FUNCTION set_updated_at();

CREATE TABLE channel_members (
    channel_id           uuid        NOT NULL
        CONSTRAINT channel_members_channel_id_fkey REFERENCES channels (id) ON DELETE CASCADE,
    user_id              uuid        NOT NULL
        CONSTRAINT channel_members_user_id_fkey REFERENCES users (id) ON DELETE CASCADE,
    -- Filled by trigger from channels; see header. NULL for dm/group_dm.
    community_id         uuid        NULL,
    joined_at            timestamptz NOT NULL DEFAULT now(),
    -- Read cursor: a position (UUIDv7), not a reference; see header.
    last_read_message_id uuid        NULL,
    notify_level         text        NOT NULL DEFAULT 'all',
    -- Timed snooze. Must be finite: sqlx cannot decode 'infinity'; "muted until I say
    -- so" is notify_level = 'none'.
    muted_until          timestamptz NULL,
    starred              boolean     NOT NULL DEFAULT false,

    CONSTRAINT channel_members_pkey PRIMARY KEY (channel_id, user_id),
    CONSTRAINT channel_members_channel_community_fkey
        FOREIGN KEY (channel_id, community_id) REFERENCES channels (id, community_id)
        ON DELETE CASCADE,
    CONSTRAINT channel_members_community_member_fkey
        FOREIGN KEY (community_id, user_id) REFERENCES community_members (community_id, user_id)
        ON DELETE CASCADE,
    CONSTRAINT channel_members_notify_level_check
        CHECK (notify_level IN ('all', 'mentions', 'none')),
    CONSTRAINT channel_members_muted_until_finite CHECK (isfinite(muted_until))
);

-- "My channels and DMs" (sidebar).
CREATE INDEX channel_members_user_id_idx ON channel_members (user_id);
-- Supports the cascade from community_members (leave/kick/ban).
CREATE INDEX channel_members_community_user_idx ON channel_members (community_id, user_id)
    WHERE community_id IS NOT NULL;

CREATE FUNCTION channel_members_fill_community_id() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    -- NULL for a missing channel too; channel_members_channel_id_fkey then rejects the row.
    SELECT c.community_id INTO NEW.community_id FROM channels c WHERE c.id = NEW.channel_id;
    RETURN NEW;
END;
$$;

CREATE TRIGGER channel_members_fill_community_id
    BEFORE INSERT OR UPDATE OF channel_id, community_id ON channel_members
    FOR EACH ROW EXECUTE FUNCTION channel_members_fill_community_id();
