-- What each probe found, as rows, written with its probe record in the
-- same transaction (mirrorkeeper.model.probefindings), so that readers
-- (the propagation page, a mirror's freshness history, why a mirror was
-- disabled) query what was found instead of reading the log back.  The
-- log stays, for people.
--
-- Records written before this patch have none of these rows.  Their
-- findings JSON (patch 0008) says the same things, but one SQL text cannot
-- walk a JSON array on both backends (json_each on SQLite,
-- json_array_elements on PostgreSQL), so the rows are made from the JSON
-- in Python: `mirrorkeeper db upgrade` does it for every record that has
-- findings, and applying a record still pending does it first.  Records
-- from before patch 0008 have no findings: nothing tells what they found
-- but their log, and they get no rows.

-- One row per probe record: what the probe as a whole came to.
CREATE TABLE mirror_probe_result (
    probe_record INTEGER PRIMARY KEY
        REFERENCES mirror_probe_record(id) ON DELETE CASCADE,
    -- How many requests the probe made, and whether every one of them
    -- failed at the network level.
    requests INTEGER NOT NULL,
    unreachable BOOLEAN NOT NULL,
    -- The URL of a file that cannot exist that the mirror answered 200
    -- for, or NULL: a mirror that does so proves nothing by its answers.
    lies TEXT,
    -- The base URL the content was probed at.
    base_url TEXT
);

-- How the probe's requests ended: one row per ProbeOutcome name it saw.
CREATE TABLE mirror_probe_outcome (
    probe_record INTEGER NOT NULL
        REFERENCES mirror_probe_record(id) ON DELETE CASCADE,
    outcome TEXT NOT NULL,
    requests INTEGER NOT NULL,
    PRIMARY KEY (probe_record, outcome)
);

-- One row per place the probe checked.  kind is 'binary' (an arch series,
-- pocket and component: distro_arch_series, pocket, component), 'source'
-- (distro_series, pocket, component), 'cdimage' (distro_series, flavour),
-- or 'detector' (a file a freshness detector fetched: trace, timestamp or
-- a repomd.xml, the last naming its rpm_repository).  found is NULL when
-- the network kept the probe from telling; freshness is a MirrorFreshness
-- value, NULL when nothing judged it; outcome is how the probe of the
-- place's index file ended (a ProbeOutcome name).
CREATE TABLE mirror_probe_place (
    id SERIAL PRIMARY KEY,
    probe_record INTEGER NOT NULL
        REFERENCES mirror_probe_record(id) ON DELETE CASCADE,
    kind TEXT NOT NULL,
    distro_series INTEGER REFERENCES distro_series(id) ON DELETE CASCADE,
    distro_arch_series INTEGER
        REFERENCES distro_arch_series(id) ON DELETE CASCADE,
    pocket INTEGER,
    component INTEGER REFERENCES component(id) ON DELETE CASCADE,
    flavour TEXT,
    rpm_repository INTEGER REFERENCES rpm_repository(id) ON DELETE CASCADE,
    label TEXT NOT NULL,
    url TEXT,
    found BOOLEAN,
    freshness INTEGER,
    -- The detector that judged the place's freshness, and the lag it
    -- measured in seconds (the publishing detector tells a band only).
    detector TEXT,
    lag_seconds BIGINT,
    outcome TEXT,
    -- CD images: how many of the series' images of that flavour the probe
    -- asked for, and how many were missing.
    images INTEGER,
    missing INTEGER,
    -- Detectors: whether the mirror was syncing, and what was made of it.
    syncing BOOLEAN,
    note TEXT
);
CREATE INDEX mirror_probe_place__record__idx
    ON mirror_probe_place(probe_record, kind);
