-- Which rows hold each word, and in which columns, kept on write. A search whose ranking depends
-- on the rows before (see fts_twin.walk) needs, for each phrase, every row where its words all
-- appear: read from the rows themselves that is a scan of most of the table for a common word;
-- from here it is an index-only scan of (word, file id), a prefix a range of words.
-- mask: the columns holding the word in that row (bit n: the n-th full-text column in
-- fts_twin.COLUMNS order), as in word_rows. Words the tsvector leaves out (longer than
-- fts_twin.MAX_LEXEME_BYTES) are left out here too: a row's postings are its tsvector's words.

CREATE TABLE postings (
    token text COLLATE "C" NOT NULL,
    file_id bigint NOT NULL,
    mask integer NOT NULL,
    PRIMARY KEY (token, file_id) INCLUDE (mask)
);

INSERT INTO postings (token, file_id, mask)
    SELECT m.token, f.id, m.mask FROM files f, word_masks(f.words) m WHERE octet_length(m.token) <= 2000;

-- The same trigger keeps the totals, the word tally and the postings (the totals' row first: no
-- deadlock between writers). A file's postings go with its words: no foreign key to check.
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
        DELETE FROM postings p USING word_masks(OLD.words) m
            WHERE p.token = m.token AND p.file_id = OLD.id;
    END IF;
    IF TG_OP <> 'DELETE' THEN
        INSERT INTO word_rows (token, mask, rows) SELECT m.token, m.mask, 1 FROM word_masks(NEW.words) m
            ORDER BY m.token, m.mask
            ON CONFLICT (token, mask) DO UPDATE SET rows = word_rows.rows + 1;
        INSERT INTO postings (token, file_id, mask)
            SELECT m.token, NEW.id, m.mask FROM word_masks(NEW.words) m WHERE octet_length(m.token) <= 2000;
    END IF;
    RETURN NULL;
END $$;
