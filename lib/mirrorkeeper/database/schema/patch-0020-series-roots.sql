-- Series roots (issue 17): where a distribution's series in development
-- live, and when each series took the root it has.

-- The directory under the master's root (and under every mirror's base
-- URL) whose dists/ holds the distribution's series in development, such
-- as 'development/' or 'pub/devel/': a new series the master scan finds
-- there is recorded at its development location with that root.  NULL:
-- the distribution has none.
ALTER TABLE distribution ADD COLUMN development_root TEXT;

-- When the series was moved to the root it has (release move-to-release
-- or move-to-archive); NULL: it has had that root since it was recorded.
-- A file under the new root is on the master only since then, so a
-- mirror is offered for it only once the prober saw it synced after that.
ALTER TABLE distro_series ADD COLUMN date_moved TIMESTAMP WITHOUT TIME ZONE;
