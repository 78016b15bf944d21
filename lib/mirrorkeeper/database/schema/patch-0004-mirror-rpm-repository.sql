-- Which of the master's RPM repositories a mirror carries, and how fresh
-- its copy is (a MirrorFreshness value), as the crawler that compares a
-- mirror's repomd.xml with the master's history finds it.  The mirror
-- list snapshot (cronscripts/generate-mirrorlist-snapshot.py) reads it to
-- answer dnf's mirrorlist and metalink requests.
CREATE TABLE mirror_rpm_repository (
    id SERIAL PRIMARY KEY,
    distribution_mirror INTEGER NOT NULL
        REFERENCES distribution_mirror(id) ON DELETE CASCADE,
    rpm_repository INTEGER NOT NULL
        REFERENCES rpm_repository(id) ON DELETE CASCADE,
    freshness INTEGER NOT NULL,
    UNIQUE (distribution_mirror, rpm_repository)
);
CREATE INDEX mirror_rpm_repository__repository__idx
    ON mirror_rpm_repository(rpm_repository);
