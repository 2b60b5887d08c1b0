-- 0017 (issue 17 §4–§6): the webhook delivery log, a user's security log, and the
-- per-community switch for link previews.
--
-- Owns: webhook_delivery_log, communities.link_previews, audit_log_user_security_idx.
--
-- Non-obvious choices:
-- * webhook_delivery_log keeps what the gateway answered to each delivery whose webhook
--   id and token were right (accepted or refused, with the code and message we sent), so
--   an admin can see why an integration fails. Deliveries with a wrong id or token are
--   not logged anywhere a webhook's admin reads: they are not the webhook's, and logging
--   them would let a guesser push the real entries out. The last 100 per webhook are kept:
--   each insert deletes the older ones in the same transaction (`db::webhook_log::record`).
--   The id is an identity, so "the last 100" is insert order, whatever the clocks.
-- * message_id is the message an accepted delivery posted; deleting the message keeps the
--   log row (SET NULL).
-- * communities.link_previews: on by default; when off the unfurl worker fetches nothing
--   for the community's channels (DMs have no community and keep previews).
-- * The security log (`GET /api/me/security-log`) reads a user's own instance-level audit
--   rows (community_id NULL: logins, logouts, API tokens created and revoked) by actor,
--   newest first. Failed-login bursts are per client address, with no user: they stay in
--   audit_log for the operator.

CREATE TABLE webhook_delivery_log (
    id            bigint      GENERATED ALWAYS AS IDENTITY,
    webhook_id    uuid        NOT NULL
        CONSTRAINT webhook_delivery_log_webhook_id_fkey REFERENCES webhooks (id) ON DELETE CASCADE,
    received_at   timestamptz NOT NULL DEFAULT now(),
    -- The HTTP status we answered.
    status        smallint    NOT NULL,
    -- The ErrorCode (wire name) and message of a refusal; both NULL when accepted.
    error_code    text        NULL,
    error_message text        NULL,
    payload_bytes integer     NOT NULL,
    -- 'slack' (JSON or form) or 'github' (an X-GitHub-Event header).
    format        text        NOT NULL,
    -- GitHub's X-GitHub-Event, as sent (printable ASCII only).
    event         text        NULL,
    message_id    uuid        NULL
        CONSTRAINT webhook_delivery_log_message_id_fkey REFERENCES messages (id) ON DELETE SET NULL,

    CONSTRAINT webhook_delivery_log_pkey PRIMARY KEY (id),
    CONSTRAINT webhook_delivery_log_status_range CHECK (status BETWEEN 100 AND 599),
    CONSTRAINT webhook_delivery_log_error_pair CHECK ((error_code IS NULL) = (error_message IS NULL)),
    CONSTRAINT webhook_delivery_log_error_code_format CHECK (error_code ~ '^[a-z][a-z_]{0,63}$'),
    CONSTRAINT webhook_delivery_log_error_message_length CHECK (char_length(error_message) <= 500),
    CONSTRAINT webhook_delivery_log_payload_bytes_positive CHECK (payload_bytes >= 0),
    CONSTRAINT webhook_delivery_log_format_known CHECK (format IN ('slack', 'github')),
    CONSTRAINT webhook_delivery_log_event_format CHECK (event ~ '^[\x21-\x7e]{1,64}$')
);

CREATE INDEX webhook_delivery_log_webhook_id_id_idx ON webhook_delivery_log (webhook_id, id);
CREATE INDEX webhook_delivery_log_message_id_idx ON webhook_delivery_log (message_id) WHERE message_id IS NOT NULL;

ALTER TABLE communities ADD COLUMN link_previews boolean NOT NULL DEFAULT true;

CREATE INDEX audit_log_user_security_idx ON audit_log (actor_id, id) WHERE community_id IS NULL;
