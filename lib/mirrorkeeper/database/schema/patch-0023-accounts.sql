-- Accounts people make themselves on the web site: an address to verify,
-- and passwords reset by mail.

-- When the person showed that their address is theirs (followed the link
-- mailed at sign-up, or a password reset's).  NULL: an account signed up
-- for and not yet verified, which cannot log in.  People made before
-- this patch were made by an admin on the command line: verified.
ALTER TABLE person ADD COLUMN date_verified TIMESTAMP WITHOUT TIME ZONE;
UPDATE person SET date_verified = date_created;

-- The single-use tokens mailed to a person: 'verify' (their address) or
-- 'reset' (their password).  Only the token's SHA-256 is kept, as for
-- web sessions: reading this table lets nobody verify or reset anything.
-- A token works until date_expires, once (date_used).
CREATE TABLE account_token (
    id SERIAL PRIMARY KEY,
    person INTEGER NOT NULL REFERENCES person(id) ON DELETE CASCADE,
    purpose TEXT NOT NULL,
    token_hash TEXT NOT NULL UNIQUE,
    date_created TIMESTAMP WITHOUT TIME ZONE NOT NULL,
    date_expires TIMESTAMP WITHOUT TIME ZONE NOT NULL,
    date_used TIMESTAMP WITHOUT TIME ZONE
);
CREATE INDEX account_token__person__idx ON account_token(person, purpose);
