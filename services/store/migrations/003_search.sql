-- Search (issue 8). The trigram index of 001 gives way to the search service's own tables: FTS5 over kiwipiepy
-- morphemes (written by services/search/sqlite_backend.py, which analyses the text in Python), one row per note
-- with the fields search filters on, and one row per entity in force. `doc` is the search's own id (stable, unlike
-- the rowid of a table with a text key across VACUUM).
DROP TRIGGER IF EXISTS notes_fts_ai;
DROP TRIGGER IF EXISTS notes_fts_au;
DROP TABLE IF EXISTS notes_fts;

CREATE TABLE search_notes (
    doc            INTEGER PRIMARY KEY,
    note_id        TEXT NOT NULL UNIQUE,
    filename       TEXT NOT NULL,
    visit_date     TEXT,
    department     TEXT,
    age            INTEGER,
    age_band       TEXT,
    sex            TEXT,
    engine         TEXT,
    prompt_version TEXT,
    review_status  TEXT NOT NULL
);
CREATE INDEX search_notes_date ON search_notes (visit_date);
CREATE INDEX search_notes_dept ON search_notes (department, visit_date);

-- term = normalized name (else the mention) lower-cased; assertion = present|negated|uncertain|family|historical,
-- the flags' precedence as Entity.assertion has it.
CREATE TABLE search_entities (
    doc        INTEGER NOT NULL,
    category   TEXT NOT NULL,
    term       TEXT NOT NULL,
    surface    TEXT NOT NULL,
    code       TEXT,
    assertion  TEXT NOT NULL,
    negated    INTEGER NOT NULL,
    uncertain  INTEGER NOT NULL,
    historical INTEGER NOT NULL,
    family     INTEGER NOT NULL,
    section    TEXT,
    begin      INTEGER NOT NULL,
    "end"      INTEGER NOT NULL
);
CREATE INDEX search_entities_term ON search_entities (term, assertion, doc);
CREATE INDEX search_entities_code ON search_entities (code, assertion, doc) WHERE code IS NOT NULL;
CREATE INDEX search_entities_cat ON search_entities (category, assertion, doc);
-- By note, with what the assertion facet reads (no table lookups).
CREATE INDEX search_entities_doc ON search_entities (doc, term, assertion);

-- Entity facets over a result set are counted from these (one row per note) instead of from every entity row:
-- the note's distinct mentions as "assertion|category|term|code" lines, and for the usual question (affirmed, any
-- category) the distinct categories and non-PHI terms of its affirmed mentions and the distinct assertions of its
-- non-PHI mentions, one per line. A table of its own keeps search_notes narrow (its rows are sorted per query).
CREATE TABLE search_facets (
    doc                INTEGER PRIMARY KEY,
    keys               TEXT NOT NULL,
    present_categories TEXT NOT NULL,
    present_terms      TEXT NOT NULL,
    assertions         TEXT NOT NULL
);

CREATE VIRTUAL TABLE search_fts USING fts5 (body, tokenize = 'unicode61 remove_diacritics 0');

-- Saved searches, whichever backend answers them.
CREATE TABLE saved_searches (
    name       TEXT PRIMARY KEY,
    query_json TEXT NOT NULL,
    created_at TEXT NOT NULL
);
