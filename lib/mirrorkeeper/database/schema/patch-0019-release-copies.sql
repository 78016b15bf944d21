-- Which copy of each suite's Release/InRelease (and of each RPM
-- repository's repomd.xml) a mirror serves, so that the files of a suite
-- are offered only by mirrors whose copy agrees with the master's
-- (mirrorkeeper.publish.selection).

-- The index files each version of a master's Release or InRelease lists:
-- a path relative to the suite's directory, with its SHA-256 and size.
-- A client that read that version asks for its indexes by hash
-- (by-hash/SHA256/<hash>); a mirror holding that version holds them.
-- Only the newest versions of each file keep their rows (the scanner's
-- [archive] release_versions): an older version counts as no longer valid.
CREATE TABLE master_release_index (
    master_file_detail INTEGER NOT NULL
        REFERENCES master_file_detail(id) ON DELETE CASCADE,
    path TEXT NOT NULL,
    sha256 TEXT NOT NULL,
    size BIGINT NOT NULL,
    PRIMARY KEY (master_file_detail, path)
);

-- The SHA-256 of what the mirror served for a control file the probe
-- fetched (kind 'release': a suite's InRelease, or its Release when the
-- master has no InRelease; kind 'detector': a checksum detector's file).
-- NULL when nothing trustworthy came back: the network failed (found is
-- NULL then), the file is missing, or the answer was larger than any
-- control file may be.
ALTER TABLE mirror_probe_place ADD COLUMN sha256 TEXT;
