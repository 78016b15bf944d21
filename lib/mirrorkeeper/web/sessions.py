"""Signed session cookies and the CSRF tokens derived from them.

A session cookie says who is logged in (a person id and a fingerprint of
their password hash, so that a new password ends old sessions), a random
nonce, when it was issued and, once logged in, the token of the session's
row on the server (model.websession), signed with HMAC-SHA256 under the
site's secret.  The signature makes the cookie unforgeable; the row makes
it revocable: logging out, or ending one's sessions, removes the row, and
the cookie, however copied, is worth nothing after.  Any number of web
processes share sessions through the secret and the database.

Every visitor gets a session, logged in or not, because every form (the
login form too) carries a CSRF token: an HMAC of the session's nonce.  A
login makes a new nonce, so a token seen before logging in is worthless
after it.
"""

import base64
import hashlib
import hmac
import json
import os
import time

import attrs

from mirrorkeeper.errors import ConfigurationError

COOKIE_NAME = "mirrorkeeper_session"
CSRF_FIELD = "csrf_token"


@attrs.frozen
class Session:
    """What a session cookie says.  person_id is None for a visitor."""

    nonce: str
    issued: int
    person_id: int | None = None
    key: str | None = None
    # The token of the session's row (model.websession), once logged in.
    token: str | None = None

    @property
    def logged_in(self):
        return self.person_id is not None


class SessionSigner:
    """Makes and reads session cookies and CSRF tokens under `secret`
    (bytes); a session older than `max_age` seconds is not read."""

    def __init__(self, secret, max_age=14 * 86400, clock=time.time):
        if len(secret) < 16:
            raise ConfigurationError("the web secret is too short: give at "
                                     "least 16 bytes")
        self._secret = secret
        self.max_age = max_age
        self._clock = clock

    def _mac(self, purpose, data):
        return hmac.new(self._secret, purpose + b"\0" + data,
                        hashlib.sha256).digest()

    def new(self, person_id=None, key=None, token=None):
        """A fresh session with a new nonce."""
        return Session(nonce=os.urandom(16).hex(), issued=int(self._clock()),
                       person_id=person_id, key=key, token=token)

    def dump(self, session):
        """The cookie value of `session`."""
        payload = json.dumps({"n": session.nonce, "t": session.issued,
                              "p": session.person_id, "k": session.key,
                              "s": session.token},
                             separators=(",", ":")).encode("utf-8")
        return "%s.%s" % (_b64(payload), _b64(self._mac(b"session",
                                                        payload)))

    def load(self, value):
        """The Session a cookie value carries, or None if it is forged,
        malformed or expired."""
        try:
            payload_text, signature = value.split(".")
            payload = _unb64(payload_text)
            if not hmac.compare_digest(_unb64(signature),
                                       self._mac(b"session", payload)):
                return None
            data = json.loads(payload)
            session = Session(nonce=str(data["n"]), issued=int(data["t"]),
                              person_id=data["p"], key=data["k"],
                              token=data.get("s"))
        except (ValueError, KeyError, TypeError):
            return None
        if session.person_id is not None and \
                not isinstance(session.person_id, int):
            return None
        if session.token is not None and not isinstance(session.token, str):
            return None
        age = self._clock() - session.issued
        if not -300 <= age <= self.max_age:
            return None
        return session

    def csrf_token(self, session):
        """The token every form of this session carries."""
        return _b64(self._mac(b"csrf", session.nonce.encode("ascii")))

    def check_csrf(self, session, token):
        """True if `token` (str or None) is this session's CSRF token."""
        if not token:
            return False
        return hmac.compare_digest(token.encode("ascii", "replace"),
                                   self.csrf_token(session).encode("ascii"))


def _b64(data):
    return base64.urlsafe_b64encode(data).decode("ascii").rstrip("=")


def _unb64(text):
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def load_secret(config):
    """The site's secret: [web] secret if set, else the contents of [web]
    secret_file, which is created with 32 random bytes (readable by its
    owner only) if it does not exist yet."""
    secret = config.get("web", "secret").strip()
    if secret:
        return secret.encode("utf-8")
    path = config.get("web", "secret_file")
    folder = os.path.dirname(path)
    if folder:
        os.makedirs(folder, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        pass
    else:
        with os.fdopen(fd, "w") as f:
            f.write(os.urandom(32).hex() + "\n")
    try:
        with open(path, encoding="ascii") as f:
            return f.read().strip().encode("ascii")
    except (OSError, UnicodeDecodeError) as error:
        raise ConfigurationError("cannot read the web secret %s: %s"
                                 % (path, error)) from None
