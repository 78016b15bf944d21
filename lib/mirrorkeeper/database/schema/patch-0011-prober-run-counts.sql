-- What each prober run did, for the web daemon's /metrics: set when the run
-- is judged (trusted or not), NULL for runs judged before this patch and for
-- runs not judged yet.  How long a run took is date_judged - date_started.
ALTER TABLE prober_run ADD COLUMN probed INTEGER;
ALTER TABLE prober_run ADD COLUMN requests INTEGER;
ALTER TABLE prober_run ADD COLUMN unreachable INTEGER;
-- The requests that did not find what they asked for, by ProbeOutcome name,
-- as a JSON object: {"NOT_FOUND": 12, "TIMEOUT": 3}.
ALTER TABLE prober_run ADD COLUMN failures TEXT;
