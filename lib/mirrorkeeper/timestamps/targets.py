"""Targets as the configuration names them.

    local:/srv/mirror/ubuntu                       a directory on this machine
    sftp://mirror@master.example.org/srv/ubuntu    over SFTP, port 22
    sftp://mirror@master.example.org:2222/~/ubuntu relative to the home

An SFTP target needs a private key and a known_hosts file ([timestamps]
private_key and known_hosts); a password in the URL is refused, as the
planter authenticates with its key only.
"""

from urllib.parse import unquote, urlsplit

from mirrorkeeper.errors import ConfigurationError
from mirrorkeeper.timestamps.local import LocalTarget

SPEC_HELP = "local:/path or sftp://user@host[:port]/path"


def target_from_spec(spec, private_key=None, known_hosts=None, timeout=30,
                     reactor=None):
    """The ITimestampTarget `spec` names, or ConfigurationError.
    `private_key` and `known_hosts` are paths (read here) or what
    load_private_key and load_known_hosts return."""
    if spec.startswith("local:"):
        directory = spec[len("local:"):]
        if not directory.startswith("/"):
            raise ConfigurationError(
                "the timestamp target %r must name an absolute directory "
                "(%s)" % (spec, SPEC_HELP))
        return LocalTarget(directory.rstrip("/") or "/")
    if spec.startswith("sftp://"):
        return _sftp_target(spec, private_key, known_hosts, timeout, reactor)
    raise ConfigurationError("the timestamp target %r is neither %s"
                             % (spec, " nor ".join(SPEC_HELP.split(" or "))))


def _sftp_target(spec, private_key, known_hosts, timeout, reactor):
    from mirrorkeeper.timestamps.sftp import (
        SFTPTarget, load_known_hosts, load_private_key)
    try:
        parts = urlsplit(spec)
        port = parts.port or 22
    except ValueError as error:
        raise ConfigurationError("the timestamp target %r is malformed: %s"
                                 % (spec, error)) from None
    if parts.password is not None:
        raise ConfigurationError(
            "the timestamp target %r has a password: the planter logs in "
            "with [timestamps] private_key only" % (spec,))
    if not parts.username or not parts.hostname:
        raise ConfigurationError("the timestamp target %r lacks a user or a "
                                 "host (%s)" % (spec, SPEC_HELP))
    if not parts.path or parts.query or parts.fragment:
        raise ConfigurationError("the timestamp target %r must end with a "
                                 "directory (%s)" % (spec, SPEC_HELP))
    for setting, value in [("private_key", private_key),
                           ("known_hosts", known_hosts)]:
        if not value:
            raise ConfigurationError(
                "the timestamp target %r needs [timestamps] %s" % (
                    spec, setting))
    if isinstance(private_key, str):
        private_key = load_private_key(private_key)
    if isinstance(known_hosts, str):
        known_hosts = load_known_hosts(known_hosts)
    return SFTPTarget(parts.hostname, port, unquote(parts.username),
                      unquote(parts.path), private_key, known_hosts,
                      timeout=timeout, reactor=reactor)
