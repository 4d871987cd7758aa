-- EPCIS 2.0 events (what happened to a lot: harvest, processing, packing, shipping,
-- receiving, recall), each kept as received (`body`, its JSON) under its CBV 2.0 event hash
-- id, with the fields queries filter on beside it. An event is captured once; an error
-- declaration of it shares its id and is kept beside it (`declaration`).
CREATE TABLE epcis_events (
    id              INTEGER PRIMARY KEY,
    hash_id         TEXT NOT NULL,
    event_type      TEXT NOT NULL,
    event_time      TEXT NOT NULL,
    record_time     TEXT NOT NULL,
    action          TEXT,
    biz_step        TEXT,
    disposition     TEXT,
    declaration     BOOLEAN NOT NULL DEFAULT FALSE,
    organization_id INTEGER REFERENCES organizations (id),
    body            TEXT NOT NULL
);
CREATE UNIQUE INDEX epcis_events_once ON epcis_events (hash_id) WHERE NOT declaration;
CREATE INDEX epcis_events_hash ON epcis_events (hash_id);
CREATE INDEX epcis_events_time ON epcis_events (event_time);
CREATE INDEX epcis_events_recorded ON epcis_events (record_time);

-- The identifiers each event names, in canonical Digital Link form where they are GS1 keys:
-- instances (EPCs, parents) and classes (the epcClass of quantities, as a lot is named).
CREATE TABLE epcis_event_ids (
    identifier TEXT NOT NULL,
    class      BOOLEAN NOT NULL,
    event_id   INTEGER NOT NULL REFERENCES epcis_events (id),
    PRIMARY KEY (identifier, class, event_id)
) WITHOUT ROWID;
