"""The single-use tokens mailed to a person (schema patch 0023): one to
verify their address after signing up, one to reset their password.

The token itself is in the link mailed; only its SHA-256 is stored, as
for web sessions (model.websession), so reading the table lets nobody
verify or reset anything.  A token works once, until it expires; a new
token of a purpose ends the person's older ones of it, so only the
newest link mailed works.  Redeeming is one conditional UPDATE, so that
two requests racing with the same token cannot both succeed.
"""

import hashlib
import os
from datetime import timedelta

from storm.expr import And, Update
from storm.locals import DateTime, Int, Reference, Storm, Unicode

from mirrorkeeper.timeutil import utcnow

VERIFY = "verify"
RESET = "reset"

# How long a link works: long enough to read the mail tomorrow morning,
# for an address; an hour for a password, which the link replaces.
LIFETIMES = {VERIFY: timedelta(hours=48), RESET: timedelta(hours=1)}

# Tokens are 32 random bytes, 64 hexadecimal characters: what a link may
# carry is checked against that shape before any query.
TOKEN_LENGTH = 64


def _hash(token):
    return hashlib.sha256(token.encode("ascii", "replace")).hexdigest()


class AccountToken(Storm):
    __storm_table__ = "account_token"

    id = Int(primary=True)
    person_id = Int(name="person", allow_none=False)
    person = Reference(person_id, "Person.id")
    purpose = Unicode(allow_none=False)
    token_hash = Unicode(allow_none=False)
    date_created = DateTime(allow_none=False)
    date_expires = DateTime(allow_none=False)
    date_used = DateTime()

    def __init__(self, person, purpose, token, now):
        self.person = person
        self.purpose = purpose
        self.token_hash = _hash(token)
        self.date_created = now
        self.date_expires = now + LIFETIMES[purpose]


def _well_formed(token):
    return isinstance(token, str) and len(token) == TOKEN_LENGTH and \
        all(c in "0123456789abcdef" for c in token)


def issue_token(store, person, purpose, now=None):
    """A new token of `purpose` for `person`, for the link to mail; the
    person's older unused tokens of that purpose stop working."""
    now = now or utcnow()
    end_tokens(store, person, purpose, now)
    token = os.urandom(TOKEN_LENGTH // 2).hex()
    store.add(AccountToken(person, purpose, token, now))
    store.flush()
    return token


def find_token(store, token, purpose, now=None):
    """The AccountToken of `token` if it is of `purpose`, unused and not
    expired, else None.  Changes nothing."""
    if not _well_formed(token):
        return None
    now = now or utcnow()
    return store.find(
        AccountToken, AccountToken.token_hash == _hash(token),
        AccountToken.purpose == purpose,
        AccountToken.date_used == None,  # noqa: E711 (SQL)
        AccountToken.date_expires > now).one()


def redeem_token(store, token, purpose, now=None):
    """The person whose `token` of `purpose` this is, the token now used;
    None for a token unknown, of another purpose, used or expired."""
    now = now or utcnow()
    found = find_token(store, token, purpose, now)
    if found is None:
        return None
    result = store.execute(Update(
        {AccountToken.date_used: now},
        And(AccountToken.id == found.id,
            AccountToken.date_used == None),  # noqa: E711 (SQL)
        AccountToken))
    if result.rowcount != 1:
        return None
    store.invalidate(found)
    return found.person


def end_tokens(store, person, purpose, now=None):
    """Make every unused token of `purpose` of `person` used."""
    store.find(AccountToken, AccountToken.person_id == person.id,
               AccountToken.purpose == purpose,
               AccountToken.date_used == None).set(  # noqa: E711 (SQL)
                   date_used=now or utcnow())
