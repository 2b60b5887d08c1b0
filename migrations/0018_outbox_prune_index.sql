-- 0018 (issue 15, the performance pass): the relay's prune reads an index, not the table.
--
-- Owns: outbox_published_at_idx.
--
-- Non-obvious choices:
-- * The relay deletes rows published more than 10 minutes ago after every batch
--   (`db::outbox::prune_published`). Without an index on published_at that was a scan of
--   the whole outbox each time (46 ms per drain once the table held 10 minutes of traffic
--   at 500 msg/s); with this one it is a short range read, and nothing when nothing is old.
-- * Partial (published rows only): unpublished rows are the relay's queue, indexed by
--   outbox_unpublished_idx, and never pruned.

CREATE INDEX outbox_published_at_idx ON outbox (published_at) WHERE published_at IS NOT NULL;
