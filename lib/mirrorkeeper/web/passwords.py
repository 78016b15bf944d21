"""Local account passwords: scrypt with a salt of each person's own.

A stored hash reads ``scrypt$N$r$p$<salt>$<key>`` (salt and key in
URL-safe base64), so the cost can be raised later while old hashes still
check.  Comparison is constant-time, and checking a person who has no
password costs as much as checking one who has, so that timing does not
tell which names exist.
"""

import base64
import hashlib
import hmac
import os

from mirrorkeeper.errors import InvalidValueError

# scrypt's cost: 2**14 blocks of 8 x 128 bytes (16 MiB, ~50 ms here),
# OWASP's recommended minimum for interactive logins.
SCRYPT_N = 2 ** 14
SCRYPT_R = 8
SCRYPT_P = 1
KEY_LENGTH = 32
SALT_LENGTH = 16

# Short passwords are guessed; long ones cost scrypt nothing more but are
# a way to send a server megabytes per login.
MIN_LENGTH = 8
MAX_LENGTH = 1024


def _b64(data):
    return base64.urlsafe_b64encode(data).decode("ascii").rstrip("=")


def _unb64(text):
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _derive(password, salt, n, r, p):
    return hashlib.scrypt(password.encode("utf-8"), salt=salt, n=n, r=r,
                          p=p, maxmem=128 * r * (n + p + 2) + 1024 * 1024,
                          dklen=KEY_LENGTH)


def hash_password(password):
    """The stored form of `password`, with a new random salt."""
    check_password_rules(password)
    salt = os.urandom(SALT_LENGTH)
    key = _derive(password, salt, SCRYPT_N, SCRYPT_R, SCRYPT_P)
    return "scrypt$%d$%d$%d$%s$%s" % (SCRYPT_N, SCRYPT_R, SCRYPT_P,
                                      _b64(salt), _b64(key))


def check_password_rules(password):
    """InvalidValueError unless `password` is one we accept."""
    if not isinstance(password, str) or len(password) < MIN_LENGTH:
        raise InvalidValueError("a password needs at least %d characters"
                                % (MIN_LENGTH,))
    if len(password) > MAX_LENGTH:
        raise InvalidValueError("a password has at most %d characters"
                                % (MAX_LENGTH,))


_DUMMY_SALT = b"\0" * SALT_LENGTH


def verify_password(password, stored):
    """True if `password` is the one `stored` was made from.  A missing or
    malformed `stored` is False, after the same work as a real check."""
    try:
        scheme, n, r, p, salt, key = (stored or "").split("$")
        n, r, p = int(n), int(r), int(p)
        salt, key = _unb64(salt), _unb64(key)
        if scheme != "scrypt":
            raise ValueError(scheme)
    except ValueError:
        _derive(password[:MAX_LENGTH], _DUMMY_SALT, SCRYPT_N, SCRYPT_R,
                SCRYPT_P)
        return False
    if len(password) > MAX_LENGTH:
        return False
    return hmac.compare_digest(_derive(password, salt, n, r, p), key)


def set_password(person, password):
    """Give `person` a new password (InvalidValueError for a bad one)."""
    if person.is_team:
        raise InvalidValueError("%s is a team: teams do not log in"
                                % (person.name,))
    person.password_hash = hash_password(password)
    # The old password's sessions are refused already (their fingerprint
    # no longer matches); their rows go too, off the sessions page.
    from storm.store import Store

    from mirrorkeeper.model.websession import end_sessions
    store = Store.of(person)
    if store is not None:
        end_sessions(store, person.id)


def password_fingerprint(stored):
    """A short digest of a stored hash: sessions carry it, so that a
    changed password ends every session made with the old one."""
    return hashlib.sha256((stored or "").encode("ascii")).hexdigest()[:16]
