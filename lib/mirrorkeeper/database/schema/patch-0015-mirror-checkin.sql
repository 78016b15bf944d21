-- Mirrors that talk back: a token per mirror for its host, what the host
-- last reported of its tree (a check-in), and its requests to be probed
-- now.

-- A mirror's tokens.  Only the SHA-256 of the random secret is stored:
-- reading this table gives no one a mirror's token.  A revoked token is
-- kept, with when, so that the owner's page can say so.
CREATE TABLE mirror_token (
    id SERIAL PRIMARY KEY,
    distribution_mirror INTEGER NOT NULL
        REFERENCES distribution_mirror(id) ON DELETE CASCADE,
    secret_hash TEXT NOT NULL UNIQUE,
    creator INTEGER REFERENCES person(id) ON DELETE SET NULL,
    date_created TIMESTAMP WITHOUT TIME ZONE NOT NULL,
    date_last_used TIMESTAMP WITHOUT TIME ZONE,
    date_revoked TIMESTAMP WITHOUT TIME ZONE
);
CREATE INDEX mirror_token__mirror__idx ON mirror_token(distribution_mirror);

-- The newest check-in of each mirror: what its host says its tree
-- carries, as the JSON it sent (checked and cut to size), beside what the
-- prober saw, never instead of it.
CREATE TABLE mirror_checkin (
    id SERIAL PRIMARY KEY,
    distribution_mirror INTEGER NOT NULL UNIQUE
        REFERENCES distribution_mirror(id) ON DELETE CASCADE,
    date_reported TIMESTAMP WITHOUT TIME ZONE NOT NULL,
    address TEXT,
    report TEXT NOT NULL
);

-- Probe me now: a mirror's newest request.  It is in the queue while
-- date_applied is NULL; the queued prober run sets date_applied once a
-- probe of the mirror newer than the request has taken effect.
-- date_requested is also what the rate limit counts from.
CREATE TABLE mirror_probe_request (
    id SERIAL PRIMARY KEY,
    distribution_mirror INTEGER NOT NULL UNIQUE
        REFERENCES distribution_mirror(id) ON DELETE CASCADE,
    date_requested TIMESTAMP WITHOUT TIME ZONE NOT NULL,
    date_applied TIMESTAMP WITHOUT TIME ZONE
);
CREATE INDEX mirror_probe_request__queued__idx
    ON mirror_probe_request(date_applied);
