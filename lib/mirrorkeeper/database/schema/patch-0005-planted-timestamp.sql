-- The timestamps cronscripts/plant-timestamps.py wrote into the master
-- (the source site the mirrors sync from), one row per target written to:
-- the time the file says and when the write finished.  A mirror's copy of
-- the file tells which of these it has; the age of the newest it has is
-- its lag (oVirt's mirrorchecker).  Pruned after [timestamps]
-- keep_history_days.
CREATE TABLE planted_timestamp (
    id SERIAL PRIMARY KEY,
    distribution INTEGER NOT NULL
        REFERENCES distribution(id) ON DELETE CASCADE,
    target TEXT NOT NULL,
    date_stamp TIMESTAMP WITHOUT TIME ZONE NOT NULL,
    date_planted TIMESTAMP WITHOUT TIME ZONE NOT NULL
);
CREATE INDEX planted_timestamp__stamp__idx
    ON planted_timestamp(distribution, date_stamp);
CREATE INDEX planted_timestamp__planted__idx
    ON planted_timestamp(date_planted);
