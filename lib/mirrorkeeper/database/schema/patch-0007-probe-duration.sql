-- How long each probe took, in seconds, as the prober measured it (the
-- time between the first and the last line of its log, to the
-- millisecond).  NULL for the records written before this column was
-- there: readers fall back on the log's first and last timestamps.
ALTER TABLE mirror_probe_record ADD COLUMN duration_seconds DOUBLE PRECISION;

-- The listings and the status API take the worst known freshness of each
-- mirror's records in one grouped query per kind of record: with the
-- freshness beside the mirror in an index, the query reads the index
-- alone instead of every row of the table.
CREATE INDEX mirror_distro_arch_series__mirror_freshness__idx
    ON mirror_distro_arch_series(distribution_mirror, freshness);
CREATE INDEX mirror_distro_series_source__mirror_freshness__idx
    ON mirror_distro_series_source(distribution_mirror, freshness);
