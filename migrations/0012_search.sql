-- 0012 search: CJK bigrams, so a two-character CJK word (東京) is found inside text written
-- without spaces.
--
-- Owns: the cjk_bigrams() function and messages_cjk_bigrams_idx.
--
-- Non-obvious choices:
-- * 0003 indexes messages for words (tsv, 'simple') and for substrings of three or more
--   characters (pg_trgm on body_md). Neither finds a two-character CJK word in the middle
--   of a run: the 'simple' parser makes a whole run one lexeme, and a LIKE pattern of two
--   characters has no trigram, so the trigram index would be read whole. CJK words are
--   very often two characters, so runs of CJK characters (kana, CJK ideographs, hangul)
--   are also indexed as their overlapping bigrams, as CJK analyzers do; a two-character
--   query looks its bigram up (array containment, GIN) and is rechecked with ILIKE.
-- * Text without CJK yields an empty array: the index costs next to nothing for it.

CREATE FUNCTION cjk_bigrams(body text) RETURNS text[]
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
    SELECT coalesce(array_agg(DISTINCT substr(run.parts[1], i, 2)), '{}')
    FROM regexp_matches(body, '[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff]{2,}', 'g')
        AS run(parts)
    CROSS JOIN LATERAL generate_series(1, char_length(run.parts[1]) - 1) AS i
$$;

CREATE INDEX messages_cjk_bigrams_idx ON messages USING gin (cjk_bigrams(body_md));
