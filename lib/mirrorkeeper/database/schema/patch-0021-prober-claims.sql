-- Sharing a prober run between processes, on one machine or several
-- (mirrorkeeper.prober.claims).  The process that starts a run offers its
-- mirrors as claims, one per host group: the mirrors that share a host
-- name, which one process probes so that the per-host limit holds.  A
-- worker claims groups for a lease, renews it while it probes them, and
-- marks each done once its mirrors' probe records are written; a worker
-- that dies loses its claims when the lease ends, and another probes
-- those mirrors again.  The run is judged once, by the process that
-- started it, when every claim is done.
CREATE TABLE prober_claim (
    prober_run INTEGER NOT NULL
        REFERENCES prober_run(id) ON DELETE CASCADE,
    -- The group's first host name, in sort order: its name in logs.
    host TEXT NOT NULL,
    -- The order the groups are claimed in: the longest to probe first.
    position INTEGER NOT NULL,
    -- Who holds the claim (host name and process id), until when.
    worker TEXT,
    lease_until TIMESTAMP WITHOUT TIME ZONE,
    -- How many times it was claimed: above 1, a worker died holding it.
    claims INTEGER NOT NULL DEFAULT 0,
    date_done TIMESTAMP WITHOUT TIME ZONE,
    PRIMARY KEY (prober_run, host)
);
CREATE INDEX prober_claim__open__idx
    ON prober_claim(prober_run, date_done, position);

-- The mirrors of each host group.
CREATE TABLE prober_claim_mirror (
    prober_run INTEGER NOT NULL,
    host TEXT NOT NULL,
    distribution_mirror INTEGER NOT NULL
        REFERENCES distribution_mirror(id) ON DELETE CASCADE,
    PRIMARY KEY (prober_run, distribution_mirror),
    FOREIGN KEY (prober_run, host)
        REFERENCES prober_claim(prober_run, host) ON DELETE CASCADE
);
CREATE INDEX prober_claim_mirror__host__idx
    ON prober_claim_mirror(prober_run, host);

-- A worker whose canary failed says so here: the run is then distrusted,
-- since part of it was probed by a process that could not trust its view
-- of the network.
ALTER TABLE prober_run ADD COLUMN canary_failure TEXT;
