"""What the tests of real clients against the mirror list daemon share:
mirrors served from a directory on loopback that keep every answer
(LoggingMirror), the daemon in a process of its own (start_daemon), and
curl, apt-get and dnf run as they are (client, apt_root, dnf_makecache).
"""

import functools
import http.server
import os
import subprocess
import sys
import threading

from tests.test_publish_daemon_process import fetch, free_port

BIN = os.path.dirname(sys.executable)
APT_DIRS = ["etc/apt/apt.conf.d", "etc/apt/preferences.d",
            "etc/apt/sources.list.d", "var/lib/apt/lists/partial",
            "var/cache/apt/archives/partial", "var/lib/dpkg", "var/log/apt"]


class _Handler(http.server.SimpleHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_request(self, code="-", size="-"):
        self.server.answered.append((self.path, int(code)))

    def log_message(self, format, *args):
        pass


class LoggingMirror:
    """A directory served over HTTP on 127.0.0.1 (port 0) in a thread,
    keeping (path, status) of every request it answered."""

    def __init__(self, root):
        handler = functools.partial(_Handler, directory=root)
        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0),
                                                     handler)
        self.httpd.daemon_threads = True
        self.httpd.answered = self.answered = []
        self.root = root
        self.url = "http://127.0.0.1:%d/" % self.httpd.server_address[1]
        threading.Thread(target=self.httpd.serve_forever,
                         daemon=True).start()

    def stop(self):
        self.httpd.shutdown()
        self.httpd.server_close()

    def failures(self):
        return [(path, code) for path, code in self.answered if code >= 400]


def start_daemon(folder, snapshot_path, fallback_url):
    """The mirror list daemon serving `snapshot_path`, its configuration
    and statistics in `folder`, falling back to `fallback_url`; (its
    process, its base URL) once it answers."""
    config = os.path.join(folder, "mirrorkeeper.conf")
    with open(config, "w") as f:
        f.write("[publication]\nfreshness_threshold = oneweekbehind\n"
                "minimum_mirrors = 5\nfallback_urls = %s\n" % (fallback_url,))
    port = free_port()
    daemon = subprocess.Popen(
        [os.path.join(BIN, "mirrorkeeper"), "mirrorlist-server",
         "--config", config, "--listen", "tcp:%d:interface=127.0.0.1" % port,
         "--snapshot", snapshot_path,
         "--statistics", os.path.join(folder, "statistics"),
         "--reload-interval", "3600"],
        cwd=folder, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    base_url = "http://127.0.0.1:%d" % (port,)
    try:
        fetch(base_url + "/mirrors.txt", deadline=60)
    except OSError:
        daemon.kill()
        raise AssertionError("the daemon did not answer: %s" % (
            daemon.communicate()[1].decode("utf-8", "replace"),))
    return daemon, base_url


def client(*args, cwd=None):
    """(exit code, stdout and stderr) of a real client."""
    done = subprocess.run(args, cwd=cwd, capture_output=True, timeout=120)
    return done.returncode, (done.stdout + done.stderr).decode(
        "utf-8", "replace")


def apt_root(folder, source, suite):
    """A new root for apt-get under `folder`, whose sources.list takes
    `suite` from `source`; (the root, apt-get's options for it)."""
    root = os.path.join(folder, "apt-%d" % len(os.listdir(folder)))
    for directory in APT_DIRS:
        os.makedirs(os.path.join(root, directory))
    open(os.path.join(root, "var/lib/dpkg/status"), "w").close()
    with open(os.path.join(root, "etc/apt/sources.list"), "w") as f:
        f.write("deb [trusted=yes] %s %s main\n" % (source, suite))
    return root, [
        "-o", "Dir=" + root,
        "-o", "Dir::State::status=%s/var/lib/dpkg/status" % root,
        "-o", "APT::Architecture=amd64", "-o", "Debug::NoLocking=1",
        "-o", "APT::Sandbox::User=root", "-o", "Acquire::Retries=0"]


def dnf_makecache(folder, metalink_url):
    """dnf makecache of one repository, read through `metalink_url`, its
    configuration and cache in `folder`/dnf; (exit code, output)."""
    root = os.path.join(folder, "dnf")
    os.makedirs(os.path.join(root, "repos"))
    with open(os.path.join(root, "repos", "mk.repo"), "w") as f:
        f.write("[mk]\nname=mk\nmetalink=%s\ngpgcheck=0\n" % (metalink_url,))
    with open(os.path.join(root, "dnf.conf"), "w") as f:
        f.write("[main]\nreposdir=%s/repos\ncachedir=%s/cache\n"
                "installroot=%s/root\ngpgcheck=0\n" % (root, root, root))
    return client("/usr/bin/dnf", "-c", root + "/dnf.conf",
                  "--releasever=40", "--setopt=reposdir=%s/repos" % root,
                  "-y", "makecache")
