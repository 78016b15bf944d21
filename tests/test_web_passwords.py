"""Password hashing for local accounts."""

import pytest

from mirrorkeeper.errors import InvalidValueError
from mirrorkeeper.web.passwords import (
    hash_password, password_fingerprint, verify_password)


def test_a_password_checks_against_its_hash_only():
    """The hash accepts its password and refuses any other."""
    stored = hash_password("a long enough secret")
    assert stored.startswith("scrypt$16384$8$1$")
    assert verify_password("a long enough secret", stored)
    assert not verify_password("a long enough secreT", stored)


def test_each_hash_has_its_own_salt():
    """Two hashes of one password differ, and so do their
    fingerprints."""
    first, second = (hash_password("same password") for _ in range(2))
    assert first != second
    assert password_fingerprint(first) != password_fingerprint(second)


def test_missing_or_malformed_hashes_refuse_every_password():
    """No hash, or a malformed one, checks no password."""
    for stored in (None, "", "md5$abc", "scrypt$x$8$1$a$b"):
        assert not verify_password("anything at all", stored)


def test_short_passwords_are_refused():
    """A password shorter than eight characters is not taken."""
    with pytest.raises(InvalidValueError):
        hash_password("short")
