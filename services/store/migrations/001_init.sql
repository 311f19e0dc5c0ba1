-- Notes, their original sources, versioned machine extractions and clinician reviews.
CREATE TABLE notes (
    id            TEXT PRIMARY KEY,
    filename      TEXT NOT NULL,
    status        TEXT NOT NULL CHECK (status IN ('stored', 'processing', 'done', 'failed')),
    text          TEXT,
    encoding      TEXT,
    text_sha256   TEXT UNIQUE,
    raw_sha256    TEXT NOT NULL,
    size          INTEGER NOT NULL,
    error_code    TEXT,
    error_message TEXT,
    source        TEXT NOT NULL DEFAULT 'upload',
    attempts      INTEGER NOT NULL DEFAULT 0,
    visit_date    TEXT,
    age           INTEGER,
    sex           TEXT,
    department    TEXT,
    summary       TEXT,
    created_at    TEXT NOT NULL,
    updated_at    TEXT NOT NULL
);
CREATE INDEX notes_status ON notes (status);
CREATE INDEX notes_visit_date ON notes (visit_date);

-- Every distinct uploaded byte string, pointing at the note it became (dedupe across encodings).
CREATE TABLE note_sources (
    raw_sha256  TEXT PRIMARY KEY,
    note_id     TEXT NOT NULL REFERENCES notes (id),
    filename    TEXT NOT NULL,
    size        INTEGER NOT NULL,
    stored      INTEGER NOT NULL,
    received_at TEXT NOT NULL
);

CREATE TABLE extractions (
    id             INTEGER PRIMARY KEY,
    note_id        TEXT NOT NULL REFERENCES notes (id),
    version        INTEGER NOT NULL,
    engine         TEXT NOT NULL,
    model_id       TEXT,
    prompt_version TEXT,
    created_at     TEXT NOT NULL,
    duration_ms    REAL NOT NULL DEFAULT 0,
    entities_json  TEXT NOT NULL,
    fields_json    TEXT NOT NULL,
    UNIQUE (note_id, version)
);

CREATE TABLE reviews (
    id            INTEGER PRIMARY KEY,
    note_id       TEXT NOT NULL REFERENCES notes (id),
    extraction_id INTEGER NOT NULL REFERENCES extractions (id),
    version       INTEGER NOT NULL,
    reviewer      TEXT NOT NULL,
    created_at    TEXT NOT NULL,
    entities_json TEXT NOT NULL,
    fields_json   TEXT NOT NULL,
    changes_json  TEXT NOT NULL,
    UNIQUE (note_id, version)
);

-- The entities currently in force for each note (latest review, else latest extraction),
-- flattened so dashboards can rank and chart with plain SQL.
CREATE TABLE current_entities (
    note_id    TEXT NOT NULL REFERENCES notes (id),
    category   TEXT NOT NULL,
    text       TEXT NOT NULL,
    normalized TEXT,
    code       TEXT,
    negated    INTEGER NOT NULL,
    uncertain  INTEGER NOT NULL,
    historical INTEGER NOT NULL,
    family     INTEGER NOT NULL,
    begin      INTEGER NOT NULL,
    "end"      INTEGER NOT NULL
);
CREATE INDEX current_entities_note ON current_entities (note_id);
CREATE INDEX current_entities_cat ON current_entities (category, normalized);

-- Full-text search; trigram tokenizes Korean without a morphological analyser.
CREATE VIRTUAL TABLE notes_fts USING fts5 (text, content = 'notes', content_rowid = 'rowid', tokenize = 'trigram');
CREATE TRIGGER notes_fts_ai AFTER INSERT ON notes WHEN new.text IS NOT NULL BEGIN
    INSERT INTO notes_fts (rowid, text) VALUES (new.rowid, new.text);
END;
CREATE TRIGGER notes_fts_au AFTER UPDATE OF text ON notes BEGIN
    INSERT INTO notes_fts (notes_fts, rowid, text) SELECT 'delete', old.rowid, old.text WHERE old.text IS NOT NULL;
    INSERT INTO notes_fts (rowid, text) SELECT new.rowid, new.text WHERE new.text IS NOT NULL;
END;
