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
import threading

from mirrorkeeper import demo
from mirrorkeeper.model.distribution import DistributionSet


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


def write_archive(root, store, leave_out=(), distribution_name="ubuntu"):
    """Write the archive the database describes under `root`, without the
    paths that contain any of the strings in `leave_out`."""
    distribution = DistributionSet(store)[distribution_name]
    return demo.write_archive(root, store, distribution, leave_out)
