-- 0006 webhook deliveries: what makes a webhook post safe to retry.
--
-- Owns: webhook_deliveries.
--
-- Non-obvious choices:
-- * A row per (webhook, Idempotency-Key) naming the message the first post created. It is
--   inserted in the message's transaction, so a retry either finds it (and answers the
--   same message) or loses the race on the primary key and then finds it.
-- * Deleting the message (purge, channel deletion) deletes the delivery: a retry after
--   that posts again, which is what the integration would expect.

CREATE TABLE webhook_deliveries (
    webhook_id      uuid        NOT NULL
        CONSTRAINT webhook_deliveries_webhook_id_fkey REFERENCES webhooks (id) ON DELETE CASCADE,
    idempotency_key text        NOT NULL,
    message_id      uuid        NOT NULL
        CONSTRAINT webhook_deliveries_message_id_fkey REFERENCES messages (id) ON DELETE CASCADE,
    created_at      timestamptz NOT NULL DEFAULT now(),

    CONSTRAINT webhook_deliveries_pkey PRIMARY KEY (webhook_id, idempotency_key),
    CONSTRAINT webhook_deliveries_key_length CHECK (char_length(idempotency_key) BETWEEN 1 AND 200)
);

CREATE INDEX webhook_deliveries_message_id_idx ON webhook_deliveries (message_id);
