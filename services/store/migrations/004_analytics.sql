-- Analytics (issue 9): the terms in force per note, kept in step with current_entities by triggers, so a
-- ranking over a period is one range scan of one index instead of a join per note.
--
-- One row per note, category, term and assertion flags. The term is the normalized form, else the mention's
-- text without whitespace (so 가슴 통증 / 흉통 / chest pain count once when the engine folds them, and
-- "가슴  통증" matches "가슴통증" when it does not). flags: 1 negated, 2 uncertain, 4 historical, 8 family;
-- 0 is an affirmed mention. The note's visit date, department, age and sex are copied in for filtering.
CREATE TABLE note_terms (
    note_id    TEXT NOT NULL,
    category   TEXT NOT NULL,
    term       TEXT NOT NULL,
    flags      INTEGER NOT NULL,
    visit_date TEXT,
    department TEXT,
    age        INTEGER,
    sex        TEXT,
    PRIMARY KEY (note_id, category, term, flags)
) WITHOUT ROWID;
-- Rankings: a category over a period. Terms, trends and drill-downs: a few terms over a period.
CREATE INDEX note_terms_period ON note_terms (category, flags, visit_date, term, department, age, sex);
CREATE INDEX note_terms_term ON note_terms (category, term, flags, visit_date, department, age, sex);

CREATE TRIGGER note_terms_ai AFTER INSERT ON current_entities BEGIN
    INSERT OR IGNORE INTO note_terms (note_id, category, term, flags, visit_date, department, age, sex)
    SELECT new.note_id, new.category,
           COALESCE(NULLIF(new.normalized, ''), REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(new.text,
               ' ', ''), char(9), ''), char(10), ''), char(13), ''), char(160), ''), char(12288), '')),
           (new.negated != 0) + 2 * (new.uncertain != 0) + 4 * (new.historical != 0) + 8 * (new.family != 0),
           n.visit_date, n.department, n.age, n.sex
    FROM notes n WHERE n.id = new.note_id;
END;

-- A term row goes when the note's last mention with that term and those flags goes.
CREATE TRIGGER note_terms_ad AFTER DELETE ON current_entities BEGIN
    DELETE FROM note_terms
    WHERE note_id = old.note_id AND category = old.category
      AND term = COALESCE(NULLIF(old.normalized, ''), REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(old.text,
               ' ', ''), char(9), ''), char(10), ''), char(13), ''), char(160), ''), char(12288), ''))
      AND flags = (old.negated != 0) + 2 * (old.uncertain != 0) + 4 * (old.historical != 0) + 8 * (old.family != 0)
      AND NOT EXISTS (
          SELECT 1 FROM current_entities e
          WHERE e.note_id = old.note_id AND e.category = old.category
            AND COALESCE(NULLIF(e.normalized, ''), REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(e.text,
                    ' ', ''), char(9), ''), char(10), ''), char(13), ''), char(160), ''), char(12288), ''))
                = note_terms.term
            AND (e.negated != 0) + 2 * (e.uncertain != 0) + 4 * (e.historical != 0) + 8 * (e.family != 0)
                = note_terms.flags);
END;

-- No code edits entity rows in place today; if some does, the row leaves and comes back.
CREATE TRIGGER note_terms_au AFTER UPDATE OF note_id, category, text, normalized, negated, uncertain, historical, family
ON current_entities BEGIN
    DELETE FROM note_terms
    WHERE note_id = old.note_id AND category = old.category
      AND term = COALESCE(NULLIF(old.normalized, ''), REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(old.text,
               ' ', ''), char(9), ''), char(10), ''), char(13), ''), char(160), ''), char(12288), ''))
      AND flags = (old.negated != 0) + 2 * (old.uncertain != 0) + 4 * (old.historical != 0) + 8 * (old.family != 0)
      AND NOT EXISTS (
          SELECT 1 FROM current_entities e
          WHERE e.note_id = old.note_id AND e.category = old.category
            AND COALESCE(NULLIF(e.normalized, ''), REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(e.text,
                    ' ', ''), char(9), ''), char(10), ''), char(13), ''), char(160), ''), char(12288), ''))
                = note_terms.term
            AND (e.negated != 0) + 2 * (e.uncertain != 0) + 4 * (e.historical != 0) + 8 * (e.family != 0)
                = note_terms.flags);
    INSERT OR IGNORE INTO note_terms (note_id, category, term, flags, visit_date, department, age, sex)
    SELECT new.note_id, new.category,
           COALESCE(NULLIF(new.normalized, ''), REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(new.text,
               ' ', ''), char(9), ''), char(10), ''), char(13), ''), char(160), ''), char(12288), '')),
           (new.negated != 0) + 2 * (new.uncertain != 0) + 4 * (new.historical != 0) + 8 * (new.family != 0),
           n.visit_date, n.department, n.age, n.sex
    FROM notes n WHERE n.id = new.note_id;
END;

-- The note's fields change with every extraction or review (after its entities are written).
CREATE TRIGGER note_terms_note_au AFTER UPDATE OF visit_date, department, age, sex ON notes BEGIN
    UPDATE note_terms SET visit_date = new.visit_date, department = new.department, age = new.age, sex = new.sex
    WHERE note_id = new.id;
END;

-- Databases made before this migration.
INSERT OR IGNORE INTO note_terms (note_id, category, term, flags, visit_date, department, age, sex)
SELECT e.note_id, e.category,
       COALESCE(NULLIF(e.normalized, ''), REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(e.text,
           ' ', ''), char(9), ''), char(10), ''), char(13), ''), char(160), ''), char(12288), '')),
       (e.negated != 0) + 2 * (e.uncertain != 0) + 4 * (e.historical != 0) + 8 * (e.family != 0),
       n.visit_date, n.department, n.age, n.sex
FROM current_entities e JOIN notes n ON n.id = e.note_id;

-- Note-level counts (notes per period, per department) answer from covering indexes: note rows hold the whole
-- text before visit_date, so reading them would be slow.
CREATE INDEX notes_analytics_period ON notes (visit_date, department, sex, age, id);
CREATE INDEX notes_department ON notes (department, visit_date, sex, age, id);
