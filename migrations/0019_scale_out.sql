-- 0019 (issue 20 §1): history pages by the channel's sequence, not by message id; rate
-- limits shared by the gateway instances.
--
-- Owns: messages_top_level_seq_idx, messages_parent_id_seq_idx, rate_limits.
--
-- Non-obvious choices:
-- * A message's id is a UUIDv7 made by the api instance that wrote it, so it carries that
--   instance's clock. With several api instances, ids of one channel need not follow the
--   order its messages were committed in; `channel_seq` does (taken under the channel's
--   row lock), so history pages and its cursors (`db::messages::history`) go by it. The
--   cursor on the wire stays a message id; its position is its `channel_seq`.
-- * Partial indexes: a channel's list holds only top-level messages, a thread only its
--   replies. messages_channel_seq_unique (channel_id, channel_seq) stays the constraint;
--   the (channel_id, id) index stays for catch-up (`changed_since`) and search.

CREATE INDEX messages_top_level_seq_idx ON messages (channel_id, channel_seq) WHERE parent_id IS NULL;
CREATE INDEX messages_parent_id_seq_idx ON messages (parent_id, channel_seq) WHERE parent_id IS NOT NULL;

-- rate_limits (issue 20 §1): allowances every gateway instance shares, one GCRA
-- "theoretical arrival time" per key (`db::rate_limits::take`, one statement, by the
-- database's clock). Only for limits that N gateways must not multiply: logins per client
-- address ("login:<ip>"). A row whose time has passed carries no information; the gateways
-- delete those every minute (`db::rate_limits::prune`), so the table holds only the
-- addresses active in the last minute or so.
CREATE TABLE rate_limits (
    key text        NOT NULL,
    tat timestamptz NOT NULL,
    CONSTRAINT rate_limits_pkey PRIMARY KEY (key)
);
CREATE INDEX rate_limits_tat_idx ON rate_limits (tat);
