-- Whether the mirror's rsync URL answered the last probe (NULL: no such URL,
-- or not probed since), as http_answered and the others of patch 0008: the
-- prober probes rsync:// URLs since patch 0016's work.
ALTER TABLE distribution_mirror ADD COLUMN rsync_answered BOOLEAN;
