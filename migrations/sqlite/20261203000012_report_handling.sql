-- An inspector's handling of a shopper's problem report: read, taken by someone, handled
-- with a note.
ALTER TABLE problem_reports ADD COLUMN state TEXT NOT NULL DEFAULT 'new'
    CHECK (state IN ('new', 'read', 'handled'));
ALTER TABLE problem_reports ADD COLUMN assigned_to INTEGER REFERENCES people (id);
ALTER TABLE problem_reports ADD COLUMN handling_note TEXT;
