-- A prober run is judged before what it learnt takes effect.  Each run has
-- a row here; the probe records it writes while probing are PENDING and
-- carry what was found as data (findings, JSON).  Once the run is judged,
-- a trusted run applies each record's findings (content records,
-- freshness, enabling and disabling, mail) in one transaction per mirror,
-- marking the record APPLIED; a distrusted run marks its records
-- DISTRUSTED and changes nothing else.  A run killed before it was judged
-- leaves PENDING records that the next run marks ABANDONED; one killed
-- while applying is finished by the next run.
CREATE TABLE prober_run (
    id SERIAL PRIMARY KEY,
    content INTEGER NOT NULL,
    date_started TIMESTAMP WITHOUT TIME ZONE NOT NULL,
    date_judged TIMESTAMP WITHOUT TIME ZONE,
    -- NULL until judged.
    trusted BOOLEAN,
    reason TEXT
);

-- state is a ProbeRecordState: 1 applied (and every record written before
-- this patch), 2 pending, 3 distrusted, 4 abandoned.
ALTER TABLE mirror_probe_record ADD COLUMN prober_run INTEGER
    REFERENCES prober_run(id) ON DELETE SET NULL;
ALTER TABLE mirror_probe_record ADD COLUMN state INTEGER NOT NULL DEFAULT 1;
ALTER TABLE mirror_probe_record ADD COLUMN findings TEXT;
CREATE INDEX mirror_probe_record__run__idx
    ON mirror_probe_record(prober_run, state);

-- Consecutive trusted runs in which the mirror could not be reached at the
-- network level.  Above zero the mirror is unreachable: left out of the
-- mirror lists at once, its content records kept; it is disabled once the
-- count reaches [prober] disable_after_failed_runs.
ALTER TABLE distribution_mirror ADD COLUMN failed_runs INTEGER NOT NULL
    DEFAULT 0;
-- When the prober last disabled the mirror (NULL: it has not, or the
-- mirror was enabled since): only such a mirror is "enabled again".
ALTER TABLE distribution_mirror ADD COLUMN date_disabled
    TIMESTAMP WITHOUT TIME ZONE;
UPDATE distribution_mirror SET date_disabled = date_disabled_notified
    WHERE enabled = FALSE AND date_disabled_notified IS NOT NULL;
-- Whether each of the mirror's URLs answered the last probe (NULL: no such
-- URL, or never probed).  The mirror lists offer only URLs that did.
ALTER TABLE distribution_mirror ADD COLUMN http_answered BOOLEAN;
ALTER TABLE distribution_mirror ADD COLUMN https_answered BOOLEAN;
ALTER TABLE distribution_mirror ADD COLUMN ftp_answered BOOLEAN;
