-- Link previews (issue 17 §6): what the pages a message links to say about themselves,
-- fetched after commit by the api's unfurl worker behind the SSRF guard
-- (`shared::unfurl`). A JSON array of `LinkPreview` (url, title, description, site_name,
-- image_url) on the message itself, so every read of a message (history, one message,
-- search, events) carries its previews without another statement. An edit clears it and
-- the worker fetches again; the image URL is kept for a later proxy, never hot-linked.
ALTER TABLE messages ADD COLUMN link_previews jsonb NOT NULL DEFAULT '[]';
