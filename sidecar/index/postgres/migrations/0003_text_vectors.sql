-- Search by meaning's vectors: per file, the vector of its own words and of what was heard; a
-- to-do list of files whose vectors may be out of date; and a numbered change log per kind that
-- each machine's kept copy and approximate index follow (as the sounds-like vectors' log).
-- The same tables as the SQLite index's (sidecar.index.sqlite.text_vectors). The to-do list is
-- kept only once the team first searched by meaning (state 'enabled'): until then a scan does no
-- work for it.

CREATE TABLE text_vectors (
    file_id bigint PRIMARY KEY REFERENCES files (id) ON DELETE CASCADE,
    words_digest text NOT NULL DEFAULT '',  -- of the model and the words the vector was made from
    words bytea,                            -- float32 unit vector; NULL: the file has no words
    heard bytea                             -- float32 unit vector; NULL: nothing heard
);
CREATE TABLE text_vector_todo (
    file_id bigint PRIMARY KEY,
    n integer NOT NULL DEFAULT 0            -- bumped by each change: a refresh clears what it saw
);
CREATE TABLE text_vector_changes (
    seq bigserial PRIMARY KEY,
    file_id bigint NOT NULL,
    kind text NOT NULL                      -- words | heard: each kind's copies follow their own
);
CREATE INDEX text_vector_changes_kind ON text_vector_changes (kind, seq);
CREATE TABLE text_vector_state (key text PRIMARY KEY, value text NOT NULL);
-- Which change of each kind each machine's copies hold: the log is trimmed below all of them
CREATE TABLE text_vector_followers (
    follower text NOT NULL,             -- host and the copies' folder there
    kind text NOT NULL,
    seq bigint NOT NULL,
    seen timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (follower, kind)
);

CREATE FUNCTION files_text_todo() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        DELETE FROM text_vector_todo WHERE file_id = OLD.id;
        RETURN NULL;
    END IF;
    IF TG_OP = 'UPDATE' AND OLD.record = NEW.record AND OLD.path = NEW.path THEN
        RETURN NULL;
    END IF;
    IF EXISTS (SELECT 1 FROM text_vector_state WHERE key = 'enabled') THEN
        INSERT INTO text_vector_todo (file_id) VALUES (NEW.id)
            ON CONFLICT (file_id) DO UPDATE SET n = text_vector_todo.n + 1;
    END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER files_text_todo AFTER INSERT OR DELETE OR UPDATE OF record, path ON files
    FOR EACH ROW EXECUTE FUNCTION files_text_todo();

-- Numbers become visible in order (a follower reads the changes after the last it applied):
-- each writer takes one transaction-scoped lock before it draws a number.
CREATE FUNCTION text_vectors_log() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_advisory_xact_lock(hashtext('sidecar.text_vector_changes'));
    IF TG_OP = 'INSERT' THEN
        INSERT INTO text_vector_changes (file_id, kind) SELECT NEW.file_id, 'words' WHERE NEW.words IS NOT NULL;
        INSERT INTO text_vector_changes (file_id, kind) SELECT NEW.file_id, 'heard' WHERE NEW.heard IS NOT NULL;
    ELSIF TG_OP = 'UPDATE' THEN
        INSERT INTO text_vector_changes (file_id, kind)
            SELECT NEW.file_id, 'words' WHERE OLD.words IS DISTINCT FROM NEW.words;
        INSERT INTO text_vector_changes (file_id, kind)
            SELECT NEW.file_id, 'heard' WHERE OLD.heard IS DISTINCT FROM NEW.heard;
    ELSE
        INSERT INTO text_vector_changes (file_id, kind) SELECT OLD.file_id, 'words' WHERE OLD.words IS NOT NULL;
        INSERT INTO text_vector_changes (file_id, kind) SELECT OLD.file_id, 'heard' WHERE OLD.heard IS NOT NULL;
    END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER text_vectors_log AFTER INSERT OR DELETE OR UPDATE OF words, heard ON text_vectors
    FOR EACH ROW EXECUTE FUNCTION text_vectors_log();
