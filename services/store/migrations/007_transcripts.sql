-- Recordings (issue 12): every version of a note's transcript. Version 1 is the engine's; a clinician's
-- correction adds the next one (the note's text becomes it and the extraction is re-run, earlier kept).
-- Segments keep their times, speaker labels and character span in that version's text.
CREATE TABLE transcripts (
    id            INTEGER PRIMARY KEY,
    note_id       TEXT NOT NULL REFERENCES notes (id),
    version       INTEGER NOT NULL,
    engine        TEXT NOT NULL,
    model         TEXT,
    language      TEXT,
    duration_s    REAL NOT NULL DEFAULT 0,
    author        TEXT,
    origin        TEXT NOT NULL DEFAULT 'upload',
    media_type    TEXT NOT NULL,
    text          TEXT NOT NULL,
    segments_json TEXT NOT NULL,
    created_at    TEXT NOT NULL,
    UNIQUE (note_id, version)
);

-- The names a user gave a note's speaker labels (spk_0 → 의사, spk_1 → 환자).
CREATE TABLE transcript_speakers (
    note_id TEXT NOT NULL REFERENCES notes (id),
    label   TEXT NOT NULL,
    name    TEXT NOT NULL,
    PRIMARY KEY (note_id, label)
);
