-- The release lifecycle: where each series lives, which mirrors are
-- expected to carry a series the master scan found, and who was told.

-- Whether the mirror picks up new series of its distribution by itself
-- (MirrorManager's always_up2date, off by default): a series the scan
-- finds on the master is expected of it at once.
ALTER TABLE distribution_mirror
    ADD COLUMN picks_up_new_series BOOLEAN NOT NULL DEFAULT FALSE;

-- Where the series lives (a SeriesLocation: 1 development, 2 release,
-- 3 archive) and its root: the directory, under the master's root and
-- under a mirror's base URL alike, that holds its dists/ and pool/ ('' for
-- the archive's own root).
ALTER TABLE distro_series ADD COLUMN location INTEGER NOT NULL DEFAULT 2;
ALTER TABLE distro_series ADD COLUMN root TEXT NOT NULL DEFAULT '';

-- FALSE for a series the master scan found after the distribution's first
-- scan: it is expected only of the mirrors that pick up new series, and of
-- those that took it on (mirror_distro_series).  A series an admin adds
-- is expected of every mirror.
ALTER TABLE distro_series
    ADD COLUMN every_mirror BOOLEAN NOT NULL DEFAULT TRUE;
-- When the owners of the other mirrors were told of the new series, in the
-- transaction that queued their mail: they are told once.
ALTER TABLE distro_series
    ADD COLUMN date_announced TIMESTAMP WITHOUT TIME ZONE;

-- The new series a mirror that does not pick them up by itself took on.
CREATE TABLE mirror_distro_series (
    id SERIAL PRIMARY KEY,
    distribution_mirror INTEGER NOT NULL
        REFERENCES distribution_mirror(id) ON DELETE CASCADE,
    distro_series INTEGER NOT NULL
        REFERENCES distro_series(id) ON DELETE CASCADE,
    date_created TIMESTAMP WITHOUT TIME ZONE NOT NULL,
    UNIQUE (distribution_mirror, distro_series)
);
CREATE INDEX mirror_distro_series__series__idx
    ON mirror_distro_series(distro_series);
