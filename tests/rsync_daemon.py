"""A real rsync daemon on loopback for tests: `rsync --daemon --no-detach`
serving directories as modules, on a free port of 127.0.0.1 (or ::1)."""

from __future__ import annotations

import os
import socket
import subprocess
import time


def _family(address):
    return socket.AF_INET6 if ":" in address else socket.AF_INET


def _free_port(address):
    with socket.socket(_family(address)) as s:
        s.bind((address, 0))
        return s.getsockname()[1]


def _listening(address, port):
    with socket.socket(_family(address)) as s:
        try:
            s.connect((address, port))
        except OSError:
            return False
        return True


class RsyncDaemon:
    """Serves C{modules} ({name: directory}) read-only; C{secret_modules}
    ({name: directory}) need a password nobody is given.

    @ivar port: the port it listens on.
    """

    def __init__(self, workdir, modules, secret_modules=None,
                 address="127.0.0.1"):
        self.address = address
        self.workdir = str(workdir)
        os.makedirs(self.workdir, exist_ok=True)
        self.modules = dict(modules)
        self.secret_modules = dict(secret_modules or {})
        self.process = None
        self.port = None

    def _write_config(self):
        secrets = os.path.join(self.workdir, "rsyncd.secrets")
        with open(secrets, "w") as f:
            f.write("nobody-knows:%s\n" % os.urandom(8).hex())
        os.chmod(secrets, 0o600)
        path = os.path.join(self.workdir, "rsyncd.conf")
        with open(path, "w") as f:
            # As the test's own user: a daemon started by root would
            # otherwise read the trees as nobody.
            f.write("use chroot = no\nreuse port = no\nuid = %d\ngid = %d\n"
                    "log file = %s\n" % (os.getuid(), os.getgid(),
                                         os.path.join(self.workdir, "log")))
            for name, root in self.modules.items():
                f.write("[%s]\npath = %s\nread only = yes\n" % (name, root))
            for name, root in self.secret_modules.items():
                f.write("[%s]\npath = %s\nread only = yes\n"
                        "auth users = nobody-knows\nsecrets file = %s\n"
                        % (name, root, secrets))
        return path

    def start(self):
        config = self._write_config()
        for _ in range(5):
            port = _free_port(self.address)
            self.process = subprocess.Popen(
                ["rsync", "--daemon", "--no-detach", "--config=" + config,
                 "--address=" + self.address, "--port=%d" % (port,)],
                stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL)
            deadline = time.monotonic() + 10
            while time.monotonic() < deadline:
                if self.process.poll() is not None:
                    break
                if _listening(self.address, port):
                    self.port = port
                    return self
                time.sleep(0.05)
            self.stop()
        raise RuntimeError("the rsync daemon did not start")

    def url(self, module, path=""):
        host = "[%s]" % (self.address,) if ":" in self.address \
            else self.address
        return "rsync://%s:%d/%s/%s" % (host, self.port, module, path)

    def stop(self):
        if self.process is not None:
            self.process.terminate()
            self.process.wait(timeout=30)
            self.process = None
