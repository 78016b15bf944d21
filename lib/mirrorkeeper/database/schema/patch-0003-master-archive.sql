-- The master archive, as the scanner (cronscripts/update-master-archive.py)
-- learns it: the history of its control files, its RPM repositories, its
-- trace files, and what each scan saw, so that a scan finding nothing
-- changed writes nothing.

-- One row each time a control file of the master (dists/noble/Release,
-- dists/noble/InRelease, .../repodata/repomd.xml) is seen with new
-- content.  Mirrors are checked against this history: a mirror's copy that
-- matches an older row is as old as that row.
CREATE TABLE master_file_detail (
    id SERIAL PRIMARY KEY,
    distribution INTEGER NOT NULL REFERENCES distribution(id),
    path TEXT NOT NULL,
    size BIGINT NOT NULL,
    -- The file's modification time on the master (its timestamp).
    date_modified TIMESTAMP WITHOUT TIME ZONE NOT NULL,
    md5 TEXT NOT NULL,
    sha1 TEXT NOT NULL,
    sha256 TEXT NOT NULL,
    sha512 TEXT NOT NULL,
    date_first_seen TIMESTAMP WITHOUT TIME ZONE NOT NULL
);
CREATE INDEX master_file_detail__path__idx
    ON master_file_detail(distribution, path, date_first_seen);
CREATE INDEX master_file_detail__sha256__idx
    ON master_file_detail(distribution, sha256);

-- A directory of the master holding repodata/repomd.xml.
CREATE TABLE rpm_repository (
    id SERIAL PRIMARY KEY,
    distribution INTEGER NOT NULL REFERENCES distribution(id),
    path TEXT NOT NULL,
    arch TEXT,
    version TEXT,
    date_created TIMESTAMP WITHOUT TIME ZONE NOT NULL,
    -- Set when the repository leaves the master; cleared if it comes back.
    date_removed TIMESTAMP WITHOUT TIME ZONE,
    UNIQUE (distribution, path)
);

-- One row each time a trace file (project/trace/master) tells a new time.
CREATE TABLE trace_file_timestamp (
    id SERIAL PRIMARY KEY,
    distribution INTEGER NOT NULL REFERENCES distribution(id),
    path TEXT NOT NULL,
    date_trace TIMESTAMP WITHOUT TIME ZONE NOT NULL,
    date_first_seen TIMESTAMP WITHOUT TIME ZONE NOT NULL
);
CREATE INDEX trace_file_timestamp__path__idx
    ON trace_file_timestamp(distribution, path, date_first_seen);

-- What the last successful scan of a part of the master (a suite, an RPM
-- repository) saw: a signature made of its control file's checksum and
-- its directories' ctimes.  A scan whose signature matches skips the part.
CREATE TABLE archive_scan_state (
    id SERIAL PRIMARY KEY,
    distribution INTEGER NOT NULL REFERENCES distribution(id),
    name TEXT NOT NULL,
    signature TEXT NOT NULL,
    date_scanned TIMESTAMP WITHOUT TIME ZONE NOT NULL,
    UNIQUE (distribution, name)
);

