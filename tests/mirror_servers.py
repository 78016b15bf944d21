"""Real HTTP mirrors on loopback for the prober's functional tests.

`MirrorServer(root)` serves the directory `root` with the standard
library's threading HTTP server (HEAD and GET, 404 for what is missing) on
127.0.0.1, port 0, in a background thread, so that tests running the real
cronscript in a subprocess have a real mirror to probe.

`write_archive(root, store, ...)` lays out in `root` the archive the
database describes: every Packages.gz and Sources.gz the prober expects and
every published file at its pool path, less what the test leaves out.
"""

import functools
import http.server
import os
import threading

from mirrorkeeper.model.distribution import DistributionSet
from mirrorkeeper.model.publishing import BinaryPackageFile, SourcePackageFile


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, format, *args):
        pass


class MirrorServer:
    def __init__(self, root):
        handler = functools.partial(_QuietHandler, directory=root)
        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0),
                                                     handler)
        self.httpd.daemon_threads = True
        self.port = self.httpd.server_address[1]
        self.url = "http://127.0.0.1:%d/" % self.port
        self._thread = threading.Thread(target=self.httpd.serve_forever,
                                        daemon=True)
        self._thread.start()

    def stop(self):
        self.httpd.shutdown()
        self.httpd.server_close()


def archive_paths(store, distribution_name="ubuntu"):
    """Every path of the archive the database describes."""
    distribution = DistributionSet(store)[distribution_name]
    mirror = distribution.mirrors[0]
    paths = [path for *_, path in mirror.guessPackagesPaths()]
    paths += [path for *_, path in mirror.guessSourcesPaths()]
    paths += [f.path for f in store.find(BinaryPackageFile)]
    paths += [f.path for f in store.find(SourcePackageFile)]
    return paths


def write_archive(root, store, leave_out=(), distribution_name="ubuntu"):
    """Write the archive under `root`, without the paths that contain any
    of the strings in `leave_out`; return the paths written."""
    written = []
    for path in archive_paths(store, distribution_name):
        if any(part in path for part in leave_out):
            continue
        full = os.path.join(root, *path.split("/"))
        os.makedirs(os.path.dirname(full), exist_ok=True)
        with open(full, "wb") as f:
            f.write(b"mirrored\n")
        written.append(path)
    return written
