-- The serial of the last mirror list snapshot written for each distribution.
-- The snapshot file itself says its serial, but a file that is corrupt or
-- lost would otherwise restart the numbering at 1, and the daemons, which
-- refuse a snapshot older than the one they serve, would never take the
-- new ones: the next serial is one above the larger of the two.
CREATE TABLE mirrorlist_snapshot_serial (
    distribution INTEGER PRIMARY KEY REFERENCES distribution(id),
    serial INTEGER NOT NULL,
    date_written TIMESTAMP WITHOUT TIME ZONE NOT NULL
);
