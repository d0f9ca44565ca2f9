-- The shared index of a team: the same tables as the SQLite index, with PostgreSQL's own
-- means where SQLite had FTS5 (tsvector + GIN, ranked by the FTS5 twin) and AUTOINCREMENT.
-- Paths compare byte by byte (COLLATE "C"), as SQLite compares them: a folder's range query
-- and every ORDER BY path give the same answer on both backends.

CREATE TABLE meta (key text PRIMARY KEY, value text);

CREATE TABLE files (
    id bigserial PRIMARY KEY,
    path text COLLATE "C" UNIQUE NOT NULL,
    size bigint NOT NULL,
    mtime_ns bigint NOT NULL,
    fingerprint text NOT NULL DEFAULT '',
    format text NOT NULL DEFAULT '',
    duration double precision, samplerate integer, bitdepth integer, channels integer,
    record text NOT NULL,
    written text NOT NULL DEFAULT '{}',
    human_fields text NOT NULL DEFAULT '[]',
    engine text NOT NULL DEFAULT '',
    classified text NOT NULL DEFAULT '',
    updated text NOT NULL,
    t_description text, t_keywords text, t_labels text, t_category text, t_name text, t_path text,
    words jsonb NOT NULL DEFAULT '[]',      -- FTS5's tokens of each t_* column, for bm25
    word_count integer NOT NULL DEFAULT 0,  -- how many: the row's length in bm25
    tv tsvector NOT NULL DEFAULT ''         -- 'column:token' at FTS5 positions, for matching
);
CREATE INDEX files_fingerprint ON files (fingerprint);
CREATE INDEX files_tv ON files USING gin (tv);

-- bm25 needs the number of rows and of words; counting a million rows per search is too slow
CREATE TABLE word_totals (
    one boolean PRIMARY KEY DEFAULT true CHECK (one),
    files bigint NOT NULL,
    words bigint NOT NULL
);
INSERT INTO word_totals VALUES (true, 0, 0);

CREATE FUNCTION files_word_totals() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        UPDATE word_totals SET files = files + 1, words = words + NEW.word_count;
    ELSIF TG_OP = 'UPDATE' THEN
        UPDATE word_totals SET words = words + NEW.word_count - OLD.word_count;
    ELSE
        UPDATE word_totals SET files = files - 1, words = words - OLD.word_count;
    END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER files_word_totals AFTER INSERT OR DELETE OR UPDATE OF word_count ON files
    FOR EACH ROW EXECUTE FUNCTION files_word_totals();

CREATE TABLE labels (
    file_id bigint NOT NULL REFERENCES files (id) ON DELETE CASCADE,
    label text NOT NULL, mid text NOT NULL, probability double precision NOT NULL, source text NOT NULL
);
CREATE INDEX labels_file ON labels (file_id);
CREATE INDEX labels_label ON labels (label);

CREATE TABLE jobs (
    path text COLLATE "C" PRIMARY KEY,
    state text NOT NULL DEFAULT 'queued',   -- queued | claimed | done | set_aside
    worker text NOT NULL DEFAULT '',
    queued double precision NOT NULL, claimed double precision, reason text NOT NULL DEFAULT '',
    tries integer NOT NULL DEFAULT 0,
    not_before double precision NOT NULL DEFAULT 0,
    lease_until double precision,
    seen_size bigint, seen_mtime_ns bigint,
    again integer NOT NULL DEFAULT 0,
    taken_over double precision,
    finished double precision
);
CREATE INDEX jobs_ready ON jobs (state, not_before, queued);

CREATE TABLE workers (
    id text PRIMARY KEY, kind text NOT NULL, host text NOT NULL, pid integer NOT NULL,
    started double precision NOT NULL, heartbeat double precision NOT NULL, info text NOT NULL DEFAULT '{}'
);

CREATE TABLE embeddings (
    file_id bigint PRIMARY KEY REFERENCES files (id) ON DELETE CASCADE,
    model text NOT NULL,
    fingerprint text NOT NULL,
    vector bytea NOT NULL,
    blocks bytea NOT NULL,
    starts bytea NOT NULL,
    dim integer NOT NULL
);

-- Every machine keeps its own usearch graph and follows this log. A follower reads the changes
-- after the last one it applied, so numbers must become visible in order: each writer takes
-- one transaction-scoped lock before it draws a number, and holds it until it commits.
CREATE TABLE vector_changes (
    seq bigserial PRIMARY KEY,
    file_id bigint NOT NULL
);
CREATE FUNCTION embeddings_log() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_advisory_xact_lock(hashtext('sidecar.vector_changes'));
    IF TG_OP = 'DELETE' THEN
        INSERT INTO vector_changes (file_id) VALUES (OLD.file_id);
    ELSE
        INSERT INTO vector_changes (file_id) VALUES (NEW.file_id);
    END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER embeddings_log AFTER INSERT OR DELETE OR UPDATE OF vector ON embeddings
    FOR EACH ROW EXECUTE FUNCTION embeddings_log();

-- Which change each machine's graph has applied: the log is trimmed only below all of them
-- (a machine not seen for 30 days no longer holds it back; it rebuilds its graph when it returns).
CREATE TABLE vector_followers (
    follower text PRIMARY KEY,          -- host and the graph's folder there
    seq bigint NOT NULL,
    seen timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE category_models (
    version serial PRIMARY KEY,
    created text NOT NULL,
    embedding_model text NOT NULL,
    classes text NOT NULL,
    coef bytea NOT NULL,
    intercept bytea NOT NULL,
    report text NOT NULL,
    features text NOT NULL DEFAULT '[]'
);

-- The undo journal: a file's bytes around its audio, kept before the first write. In the shared
-- database, so that any machine can undo what another wrote.
CREATE TABLE journal (
    path text COLLATE "C" PRIMARY KEY,
    recorded_at double precision NOT NULL,
    size bigint NOT NULL,
    audio_offset bigint NOT NULL,
    audio_length bigint NOT NULL,
    audio_sha256 text NOT NULL,
    original_sha256 text NOT NULL,
    span_fn text NOT NULL,
    head bytea NOT NULL,
    tail bytea NOT NULL
);

-- The official UCS list a user imported (`sidecar ucs import`): one list for the team.
CREATE TABLE ucs_categories (
    position integer NOT NULL,          -- the list's own order (SQLite keeps it as rowid)
    catid text PRIMARY KEY, category text NOT NULL, subcategory text NOT NULL,
    catshort text NOT NULL DEFAULT '', explanations text NOT NULL DEFAULT '',
    synonyms text NOT NULL DEFAULT '[]'
);
CREATE TABLE ucs_translations (
    catid text NOT NULL, lang text NOT NULL, category text NOT NULL DEFAULT '',
    subcategory text NOT NULL DEFAULT '', explanations text NOT NULL DEFAULT '',
    synonyms text NOT NULL DEFAULT '[]', PRIMARY KEY (catid, lang)
);
CREATE TABLE ucs_meta (key text PRIMARY KEY, value text NOT NULL);
