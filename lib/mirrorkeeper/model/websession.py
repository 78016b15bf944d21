"""The web site's logged-in sessions, as rows (database patch 0010).

A session cookie says who is logged in and carries a random session id;
the row of that id is what makes the cookie worth anything.  Logging out
removes the row, so a copy of the cookie is worthless from then on; a
person lists their rows on their sessions page and can remove them all.
Only the id's SHA-256 is stored.
"""

import hashlib
import os
from datetime import timedelta

from storm.locals import DateTime, Int, Reference, Storm, Unicode

from mirrorkeeper.timeutil import utcnow

# date_last_used is written when it is older than this, not on every
# request: a page view should not be a database write.
TOUCH_INTERVAL = timedelta(minutes=5)

# What the sessions page shows of a request's address and User-Agent.
ADDRESS_LENGTH = 64
USER_AGENT_LENGTH = 200


def _hash(token):
    return hashlib.sha256(token.encode("ascii", "replace")).hexdigest()


def _printable(text, length):
    """`text` without control characters, at most `length` long: it is
    what a client sent, shown back to a person."""
    if not text:
        return None
    return "".join(c for c in text if c.isprintable())[:length] or None


class WebSession(Storm):
    __storm_table__ = "web_session"

    id = Int(primary=True)
    person_id = Int(name="person", allow_none=False)
    person = Reference(person_id, "Person.id")
    token_hash = Unicode(allow_none=False)
    date_created = DateTime(allow_none=False)
    date_last_used = DateTime(allow_none=False)
    address = Unicode()
    user_agent = Unicode()

    def __init__(self, person, token, address=None, user_agent=None,
                 now=None):
        self.person = person
        self.token_hash = _hash(token)
        self.date_created = self.date_last_used = now or utcnow()
        self.address = _printable(address, ADDRESS_LENGTH)
        self.user_agent = _printable(user_agent, USER_AGENT_LENGTH)


def start_session(store, person, address=None, user_agent=None):
    """A new session of `person`: its token (for the cookie)."""
    token = os.urandom(24).hex()
    store.add(WebSession(person, token, address, user_agent))
    store.flush()
    return token


def find_session(store, person_id, token, now=None):
    """The WebSession of `token` if it is `person_id`'s, else None; its
    date_last_used brought up to date (every TOUCH_INTERVAL at most)."""
    if not token:
        return None
    session = store.find(WebSession, WebSession.token_hash == _hash(token),
                         WebSession.person_id == person_id).one()
    if session is not None:
        now = now or utcnow()
        if now - session.date_last_used > TOUCH_INTERVAL:
            session.date_last_used = now
    return session


def end_session(store, token):
    """End the session of `token` (nothing if there is none)."""
    if token:
        store.find(WebSession, WebSession.token_hash == _hash(token)).remove()


def end_sessions(store, person_id, keep=None):
    """End every session of `person_id` but the one of `keep` (a token, or
    None for all); how many were ended."""
    found = store.find(WebSession, WebSession.person_id == person_id)
    if keep:
        found = found.find(WebSession.token_hash != _hash(keep))
    count = found.count()
    found.remove()
    return count


def sessions_of(store, person_id):
    """The person's sessions, the most recently used first."""
    return list(store.find(
        WebSession, WebSession.person_id == person_id).order_by(
            WebSession.date_last_used, WebSession.id))[::-1]


def is_current(session, token):
    return session.token_hash == _hash(token or "")
