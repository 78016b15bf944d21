-- Mirrors that talk back, part 2: where each mirror pulls from (tiers),
-- and what the mirror admins told the mirrors.

-- The registered mirror this one pulls from, of the same distribution;
-- NULL: it pulls from the master.  No cycles (the model refuses them).
-- A mirror deleted leaves those that pulled from it pulling from the
-- master, as far as we know.
ALTER TABLE distribution_mirror
    ADD COLUMN upstream INTEGER
        REFERENCES distribution_mirror(id) ON DELETE SET NULL;
CREATE INDEX distribution_mirror__upstream__idx
    ON distribution_mirror(upstream);

-- A message a mirror admin sent to every approved mirror's owner of a
-- distribution (a release is coming: start syncing), through the outbox:
-- who sent it, when, what, to how many.
CREATE TABLE mirror_announcement (
    id SERIAL PRIMARY KEY,
    distribution INTEGER NOT NULL
        REFERENCES distribution(id) ON DELETE CASCADE,
    sender INTEGER REFERENCES person(id) ON DELETE SET NULL,
    date_sent TIMESTAMP WITHOUT TIME ZONE NOT NULL,
    subject TEXT NOT NULL,
    body TEXT NOT NULL,
    recipients INTEGER NOT NULL
);
CREATE INDEX mirror_announcement__distribution__idx
    ON mirror_announcement(distribution, date_sent);
