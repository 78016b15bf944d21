"""Files of the master: their details (size, time, checksums) and the error
that names a file at fault."""

import hashlib
import os
from datetime import datetime, timezone

import attrs

from mirrorkeeper.errors import MirrorKeeperError


class ArchiveFileError(MirrorKeeperError):
    """A file of the master is missing, corrupt or malformed.

    `path` is the file, relative to the master's root; `problem` says what
    is wrong with it.
    """

    def __init__(self, path, problem):
        MirrorKeeperError.__init__(self, "%s: %s" % (path, problem))
        self.path = path
        self.problem = problem


@attrs.frozen
class FileDetails:
    """What the master's control file history keeps of a file."""

    size: int
    mtime: datetime
    md5: str
    sha1: str
    sha256: str
    sha512: str


def utc_mtime(stat_result):
    """The modification time of a stat result, as a zoneless UTC datetime
    (whole seconds, which both database backends keep exactly)."""
    return datetime.fromtimestamp(int(stat_result.st_mtime), timezone.utc
                                  ).replace(tzinfo=None)


def details_of(data, stat_result):
    """FileDetails of a file's content `data` and its stat result."""
    return FileDetails(
        size=len(data), mtime=utc_mtime(stat_result),
        md5=hashlib.md5(data).hexdigest(),
        sha1=hashlib.sha1(data).hexdigest(),
        sha256=hashlib.sha256(data).hexdigest(),
        sha512=hashlib.sha512(data).hexdigest())


def read_file(root, path):
    """(bytes, stat result) of the file `path` under `root`, or
    ArchiveFileError naming it."""
    full = os.path.join(root, path)
    try:
        with open(full, "rb") as f:
            stat_result = os.fstat(f.fileno())
            return f.read(), stat_result
    except OSError as error:
        raise ArchiveFileError(path, "cannot be read: %s" % (
            error.strerror or error,)) from None


def relative(root, full):
    """`full` relative to `root`, with '/' separators."""
    return os.path.relpath(full, root).replace(os.sep, "/")
