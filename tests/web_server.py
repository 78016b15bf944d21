"""A real `mirrorkeeper web` daemon on loopback, for the tests that need
real sockets, threads and a browser: set up with the command line itself
(schema, sample data, a site admin and an owner with passwords), started
on port 0, and stopped by the test's cleanup."""

import os
import re
import select
import signal
import sqlite3
import subprocess
import sys
import threading
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
MIRRORKEEPER = os.path.join(os.path.dirname(sys.executable), "mirrorkeeper")
PASSWORD = "correct horse battery"


class WebServer:
    def __init__(self, tmp_path, database_uri=None, config=""):
        """`config`: more of the configuration file, after its [web]
        section (a [mail] section naming the test SMTP server, say)."""
        self.tmp_path = tmp_path
        self.database_uri = database_uri or "sqlite:%s" % (
            tmp_path / "web.db")
        self.config = tmp_path / "mirrorkeeper.conf"
        self.config.write_text("[web]\nsecret_file = %s\n%s" % (
            tmp_path / "web-secret", config))
        self.env = dict(os.environ, MIRRORKEEPER_CONFIG=str(self.config),
                        MIRRORKEEPER_DATABASE=self.database_uri)
        self.process = None
        self.url = None

    def command(self, *args, stdin=None):
        """Run `mirrorkeeper ARGS`; its CompletedProcess."""
        result = subprocess.run(
            [MIRRORKEEPER] + list(args), input=stdin, text=True,
            capture_output=True, env=self.env, cwd=str(self.tmp_path),
            timeout=60)
        assert result.returncode == 0, (args, result.stderr)
        return result

    def populate(self):
        """Sample data, sita the site admin and olive a mirror owner."""
        self.command("db", "upgrade")
        self.command("sample-data")
        self.command("admin", "create", "sita", "--display-name",
                     "Sita Admin", "--email", "sita@example.org",
                     stdin=PASSWORD + "\n")
        self.command("person", "add", "olive", "Olive Owner", "--email",
                     "olive@example.org")
        self.command("person", "set-password", "olive",
                     stdin=PASSWORD + "\n")
        return self

    def start(self, timeout=30, endpoint="tcp:0:interface=127.0.0.1"):
        self.process = subprocess.Popen(
            [MIRRORKEEPER, "web", "--listen", endpoint],
            env=self.env, cwd=str(self.tmp_path), stdout=subprocess.DEVNULL,
            # Unbuffered: select() must see every line not yet read.
            stderr=subprocess.PIPE, bufsize=0)
        deadline = time.monotonic() + timeout
        seen = b""
        while time.monotonic() < deadline:
            ready, _, _ = select.select([self.process.stderr], [], [], 0.5)
            if ready:
                line = self.process.stderr.readline()
                if not line:
                    break
                seen += line
                match = re.search(rb"serving on (http://[\d.:]+:\d+/)",
                                  line)
                if match:
                    self.url = match.group(1).decode("ascii")
                    self._keep_log(seen)
                    return self
        self.stop()
        raise AssertionError("the web daemon did not start: %s"
                             % seen.decode("utf-8", "replace"))

    def _keep_log(self, seen):
        """Copy what the daemon writes to its stderr into web.log beside
        the database, from a thread: a pipe nobody reads fills up, and the
        daemon would then hang in its next log line."""
        self.log = self.tmp_path / "web.log"
        log = open(self.log, "wb")
        log.write(seen)

        def copy():
            with log:
                for line in iter(self.process.stderr.readline, b""):
                    log.write(line)
                    log.flush()
        self._log_copier = threading.Thread(target=copy, daemon=True)
        self._log_copier.start()

    def stop(self):
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        if getattr(self, "_log_copier", None) is not None:
            self._log_copier.join(10)
        if self.process is not None:
            self.process.stderr.close()


def copy_sqlite(source, target):
    """Make the SQLite file `target` a copy of `source` (paths), through
    the backup API rather than a file copy: whatever the journal mode."""
    source = sqlite3.connect(source)
    target = sqlite3.connect(target)
    try:
        source.backup(target)
    finally:
        target.close()
        source.close()
