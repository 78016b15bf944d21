"""A timestamp target on this machine's disk: the master's tree is local."""

import os

from twisted.internet import defer
from zope.interface import implementer

from mirrorkeeper.atomicfile import write_atomically
from mirrorkeeper.interfaces.timestamps import ITimestampTarget
from mirrorkeeper.timestamps import PlantingError

# What a planted file may be read as: mirrors sync it as any other file.
FILE_MODE = 0o644


def check_file_name(name):
    """ValueError unless `name` is a plain file name (no directory)."""
    if not name or name in (".", "..") or "/" in name or "\0" in name:
        raise ValueError("the timestamp file name must be a plain file "
                         "name, not %r" % (name,))


@implementer(ITimestampTarget)
class LocalTarget:
    """Plants into `directory`, which must exist: the file is written
    whole to a hidden temporary file in the same directory, flushed to
    disk, and renamed over the target."""

    def __init__(self, directory):
        self.directory = directory
        self.description = "local:" + directory

    def __repr__(self):
        return "<LocalTarget %s>" % (self.directory,)

    def plant(self, name, data):
        return defer.maybeDeferred(self.write, name, data)

    def write(self, name, data):
        """plant(), synchronously: return None or raise PlantingError."""
        check_file_name(name)
        if not os.path.isdir(self.directory):
            raise PlantingError("%s: the directory %s does not exist"
                                % (self.description, self.directory))
        try:
            write_atomically(os.path.join(self.directory, name), data,
                             FILE_MODE, prefix=".%s." % (name,))
        except OSError as error:
            raise PlantingError("%s: cannot write %s: %s" % (
                self.description, name,
                error.strerror or error)) from None
