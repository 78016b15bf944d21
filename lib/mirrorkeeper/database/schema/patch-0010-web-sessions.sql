-- The web site's logged-in sessions, kept on the server so that logging out
-- ends one at once (a copied cookie stops working) and a person can see
-- and end theirs.  The cookie carries a random session id, signed; only its
-- SHA-256 is stored, so that reading this table gives no one a session.
-- A visitor who is not logged in has no row: their session (for the CSRF
-- token) lives in the cookie alone.
CREATE TABLE web_session (
    id SERIAL PRIMARY KEY,
    person INTEGER NOT NULL REFERENCES person(id) ON DELETE CASCADE,
    token_hash TEXT NOT NULL UNIQUE,
    date_created TIMESTAMP WITHOUT TIME ZONE NOT NULL,
    -- Updated at most every few minutes, not on every request.
    date_last_used TIMESTAMP WITHOUT TIME ZONE NOT NULL,
    -- Where the login came from and with what, as the person reads it on
    -- their sessions page; both are what the request said, cut short.
    address TEXT,
    user_agent TEXT
);
CREATE INDEX web_session__person__idx ON web_session(person);
