"""The timestamp planter: writes the timestamp file (oVirt's mirrorchecker;
its format is mirrorkeeper.timestampfile) into the master's directories,
here or on another machine.

Targets
-------
`target_from_spec` turns a configured target (``local:/path`` or
``sftp://user@host:port/path``) into an ITimestampTarget: a LocalTarget
(mirrorkeeper.timestamps.local) or an SFTPTarget
(mirrorkeeper.timestamps.sftp).  Both write a temporary file beside the
target and rename it over the target, so a mirror syncing at that moment
copies the old file or the new one, never a part of one.
"""

import logging

from mirrorkeeper.errors import MirrorKeeperError

__all__ = [
    "AuthenticationError", "HostKeyError", "PlantingError", "plant_all",
    "target_from_spec",
]


class PlantingError(MirrorKeeperError):
    """A timestamp could not be planted into a target; the target's file
    is as it was."""


class HostKeyError(PlantingError):
    """The SFTP server's host key is not the one known_hosts has for it,
    or known_hosts has none."""


class AuthenticationError(PlantingError):
    """The SFTP server refused our key."""


def target_from_spec(spec, private_key=None, known_hosts=None, timeout=30,
                     reactor=None):
    """The ITimestampTarget a configured target names; see
    mirrorkeeper.timestamps.targets."""
    from mirrorkeeper.timestamps import targets
    return targets.target_from_spec(spec, private_key, known_hosts, timeout,
                                    reactor)


def plant_all(targets, name, data):
    """Plant `data` as the file `name` into every ITimestampTarget of
    `targets` at once; a Deferred firing, once all are done, with
    [(target, None or the PlantingError)] in the order given."""
    from twisted.internet import defer

    def outcome(target):
        planting = defer.maybeDeferred(target.plant, name, data)
        planting.addCallbacks(lambda _: (target, None),
                              lambda failure: (target, _as_error(target,
                                                                 failure)))
        return planting

    return defer.gatherResults([outcome(target) for target in targets])


def _as_error(target, failure):
    if isinstance(failure.value, PlantingError):
        return failure.value
    # A bug, or an error of a kind nobody foresaw: still one target's.
    logging.getLogger("mirrorkeeper.timestamps").error(
        "Planting into %s failed unexpectedly:\n%s", target.description,
        failure.getTraceback())
    return PlantingError("%s: unexpected %s: %s" % (
        target.description, type(failure.value).__name__,
        " ".join(str(failure.value).split())))
