-- How many rows hold each word, kept on write: bm25's IDF of a one-word phrase is then one
-- index lookup instead of a count over every matching row (a scan of the table on a common word).
-- A word is counted once per row, under the set of columns that hold it there (bit n: the n-th
-- full-text column in fts_twin.COLUMNS order): the rows holding it in any of some columns are
-- the sum over the sets that meet them.

CREATE TABLE word_rows (
    token text COLLATE "C" NOT NULL,
    mask integer NOT NULL,
    rows bigint NOT NULL,
    PRIMARY KEY (token, mask)
);

-- (token, columns mask) of each distinct word of a row's `words`
CREATE FUNCTION word_masks(words jsonb) RETURNS TABLE (token text, mask integer)
LANGUAGE sql IMMUTABLE AS $$
    SELECT t.token, bit_or(1 << (c.n - 1)::integer)
    FROM jsonb_array_elements(words) WITH ORDINALITY AS c(tokens, n),
         jsonb_array_elements_text(c.tokens) AS t(token)
    GROUP BY t.token
$$;

INSERT INTO word_rows (token, mask, rows)
    SELECT m.token, m.mask, count(*) FROM files f, word_masks(f.words) m GROUP BY m.token, m.mask;

-- One trigger keeps both tallies, the totals first: every writer takes the totals' row before
-- any word's row, so two writers never wait on each other's words (no deadlock).
CREATE OR REPLACE FUNCTION files_word_totals() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'UPDATE' AND OLD.words = NEW.words AND OLD.word_count = NEW.word_count THEN
        RETURN NULL;
    END IF;
    IF TG_OP = 'INSERT' THEN
        UPDATE word_totals SET files = files + 1, words = words + NEW.word_count;
    ELSIF TG_OP = 'UPDATE' THEN
        UPDATE word_totals SET words = words + NEW.word_count - OLD.word_count;
    ELSE
        UPDATE word_totals SET files = files - 1, words = words - OLD.word_count;
    END IF;
    IF TG_OP <> 'INSERT' THEN
        UPDATE word_rows w SET rows = w.rows - 1
            FROM word_masks(OLD.words) m WHERE w.token = m.token AND w.mask = m.mask;
    END IF;
    IF TG_OP <> 'DELETE' THEN
        INSERT INTO word_rows (token, mask, rows) SELECT m.token, m.mask, 1 FROM word_masks(NEW.words) m
            ORDER BY m.token, m.mask
            ON CONFLICT (token, mask) DO UPDATE SET rows = word_rows.rows + 1;
    END IF;
    RETURN NULL;
END $$;

DROP TRIGGER files_word_totals ON files;
CREATE TRIGGER files_word_totals AFTER INSERT OR DELETE OR UPDATE OF word_count, words ON files
    FOR EACH ROW EXECUTE FUNCTION files_word_totals();

-- Searches outnumber writes: GIN's pending list (fastupdate) makes every search read the rows
-- added since the last vacuum one by one, many times slower than the index itself.
ALTER INDEX files_tv SET (fastupdate = off);
SELECT gin_clean_pending_list('files_tv'::regclass);
