-- Attachments on messages (issue 17 §1): thumbnails beside the object, and the per-user
-- quota's sum.
--
-- * thumbnail_key: the object key of a small PNG rendering of an image attachment (PNG,
--   JPEG, GIF, WebP), stored beside the original; NULL when there is none. The sweeper
--   that deletes an attachment's object deletes this one with it.
-- * The quota (`attachment_quota_bytes`) is the sum of size_bytes over a user's rows,
--   attached or not, read at every upload: the index covers it.
ALTER TABLE attachments ADD COLUMN thumbnail_key text NULL
    CONSTRAINT attachments_thumbnail_key_length CHECK (char_length(thumbnail_key) BETWEEN 1 AND 1024);

CREATE INDEX attachments_uploader_id_idx ON attachments (uploader_id) INCLUDE (size_bytes);
