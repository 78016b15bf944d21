-- What each freshness detector besides publishing history (trace files,
-- planted timestamps, control file checksums) last made of a mirror: one
-- row per mirror, detector and file.  freshness is a MirrorFreshness
-- value, or NULL when the detector could not judge (the file was missing or
-- unreadable, or the mirror was syncing at the time).
CREATE TABLE mirror_freshness_check (
    id SERIAL PRIMARY KEY,
    distribution_mirror INTEGER NOT NULL
        REFERENCES distribution_mirror(id) ON DELETE CASCADE,
    detector TEXT NOT NULL,
    label TEXT NOT NULL,
    freshness INTEGER,
    -- The lag the detector measured, in seconds, when it could judge.
    lag_seconds BIGINT,
    syncing BOOLEAN NOT NULL DEFAULT FALSE,
    note TEXT NOT NULL,
    date_checked TIMESTAMP WITHOUT TIME ZONE NOT NULL,
    UNIQUE (distribution_mirror, detector, label)
);
