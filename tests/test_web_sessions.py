"""Signed session cookies and CSRF tokens."""

from mirrorkeeper.web.sessions import SessionSigner

SECRET = b"0123456789abcdef0123456789abcdef"


def test_a_session_survives_its_cookie():
    """A cookie reads back as the session it was made from."""
    signer = SessionSigner(SECRET)
    session = signer.new(42, "fingerprint")
    assert signer.load(signer.dump(session)) == session


def test_forged_cookies_are_not_read():
    """A cookie changed, signed under another secret or malformed is no
    session."""
    signer = SessionSigner(SECRET)
    cookie = signer.dump(signer.new(42, "k"))
    payload, signature = cookie.split(".")
    other = SessionSigner(b"another secret of sixteen bytes")
    for forged in (payload + "x." + signature, other.dump(other.new(1)),
                   "garbage", "", payload):
        assert signer.load(forged) is None


def test_expired_sessions_are_not_read():
    """A session older than the signer's max_age is no session."""
    now = [1000000.0]
    signer = SessionSigner(SECRET, max_age=60, clock=lambda: now[0])
    cookie = signer.dump(signer.new(7, "k"))
    now[0] += 61
    assert signer.load(cookie) is None


def test_csrf_tokens_belong_to_one_session():
    """A session's CSRF token is accepted for it and for no other."""
    signer = SessionSigner(SECRET)
    one, two = signer.new(), signer.new()
    assert signer.check_csrf(one, signer.csrf_token(one))
    assert not signer.check_csrf(two, signer.csrf_token(one))
    assert not signer.check_csrf(one, None)
