"""Files replaced whole: a reader sees the old content or the new one,
never half of either, and a crash leaves no stray temporary file behind.

The new content is written to a temporary name in the same folder (so the
rename stays on one file system), flushed to disk, given its mode, and
renamed over the old file.  `write_atomically` does it for bytes in hand;
`replacing` gives the temporary path to code that writes the file itself
(an SQLite database, say).
"""

import contextlib
import os
import tempfile

__all__ = ["replacing", "write_atomically"]


@contextlib.contextmanager
def replacing(path, mode=0o644, prefix=None):
    """Yield a temporary path beside `path`.  When the block ends without
    an error, the file written there is flushed to disk, given `mode` and
    renamed over `path`; when it raises, the file is removed."""
    folder = os.path.dirname(os.path.abspath(path))
    os.makedirs(folder, exist_ok=True)
    if prefix is None:
        prefix = ".%s." % os.path.basename(path)
    descriptor, temporary = tempfile.mkstemp(prefix=prefix, suffix=".tmp",
                                             dir=folder)
    os.close(descriptor)
    try:
        yield temporary
        with open(temporary, "rb") as f:
            os.fsync(f.fileno())
        os.chmod(temporary, mode)
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temporary)
        raise


def write_atomically(path, data, mode=0o644, prefix=None):
    """Replace the file `path` with the bytes `data`, atomically."""
    with replacing(path, mode, prefix) as temporary:
        with open(temporary, "wb") as f:
            f.write(data)
