-- 0010 message stream events: where each message's current text sits in the event stream.
--
-- Owns: message_stream_events.
--
-- Non-obvious choices:
-- * One row per message: the stream sequence and event id of the latest published event
--   that carries the message's full body (message.created, then each message.updated).
--   When the outbox relay publishes a later message.updated or message.deleted of the
--   message, it deletes that earlier event from the JetStream stream and moves the row on
--   (or drops it, for a delete), in the same transaction that marks the batch published.
--   A replay therefore never finds a deleted message's text or an edited message's
--   earlier text.
-- * event_id is kept beside the sequence because a sequence only means something in one
--   incarnation of the stream: before deleting, the relay checks that the stream message
--   at that sequence still carries this event id (Nats-Msg-Id), so a recreated stream
--   never loses an unrelated event.
-- * The row goes with its message (ON DELETE CASCADE); the relay records only for a
--   message that still exists, so a message removed between its write and its publication
--   (a channel or community deletion) never stops the relay.

CREATE TABLE message_stream_events (
    message_id uuid   NOT NULL
        CONSTRAINT message_stream_events_message_id_fkey REFERENCES messages (id) ON DELETE CASCADE,
    stream_seq bigint NOT NULL,
    event_id   uuid   NOT NULL,

    CONSTRAINT message_stream_events_pkey PRIMARY KEY (message_id),
    CONSTRAINT message_stream_events_stream_seq_positive CHECK (stream_seq > 0)
);
