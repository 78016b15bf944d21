"""A real SFTP server on loopback, for the timestamp planter's tests.

    server = SFTPServer().start()
    server.url("/pub")          # sftp://mirror@127.0.0.1:<port>/pub
    server.root                 # the directory the server's '/' is
    server.client_key           # a private key the server lets in
    server.stranger_key         # a private key it does not
    server.known_hosts          # known_hosts with the server's host key
    server.rsa_known_hosts      # ... with its other host key (RSA) only
    server.wrong_known_hosts    # ... with another key for the same host
    server.stop()

The server is Twisted Conch's SSH server with an SFTP subsystem confined to
`root` (tests/harness/_sftpd.py), run in a child process so that the
cronscript run in a subprocess and tests running the reactor both reach it,
and so that it never shares a reactor with the tests.  Its keys (ed25519,
and an RSA host key besides) are made afresh by each server with
cryptography.  With
posix_rename=False it does not offer OpenSSH's posix-rename@openssh.com
extension, and its plain rename, like OpenSSH's, will not replace a file.
"""

import atexit
import os
import select
import subprocess
import sys
import tempfile

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519, rsa

from tests.harness.child import stop_child

__all__ = ["SFTPServer", "SFTPServerError", "write_key_pair"]

_SERVER_SCRIPT = os.path.join(os.path.dirname(os.path.abspath(__file__)),
                              "_sftpd.py")


class SFTPServerError(RuntimeError):
    """The test SFTP server did not start."""


def write_key_pair(path, kind="ed25519"):
    """Write a new private key (ed25519, or rsa) to `path` (OpenSSH's
    format, mode 0600) and its public key to `path`.pub; return the public
    key line."""
    if kind == "rsa":
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    else:
        key = ed25519.Ed25519PrivateKey.generate()
    private = key.private_bytes(serialization.Encoding.PEM,
                                serialization.PrivateFormat.OpenSSH,
                                serialization.NoEncryption())
    public = key.public_key().public_bytes(
        serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "wb") as f:
        f.write(private)
    with open(path + ".pub", "wb") as f:
        f.write(public + b"\n")
    return public.decode("ascii")


class SFTPServer:
    """See the module docstring."""

    host = "127.0.0.1"
    user = "mirror"
    start_timeout = 30

    def __init__(self, posix_rename=True):
        self.posix_rename = posix_rename
        self.port = None
        self.directory = None
        self.root = None
        self._process = None

    def start(self):
        if self._process is not None:
            raise SFTPServerError("this SFTP server is already started")
        self.directory = tempfile.mkdtemp(prefix="mirrorkeeper-sftp-")
        atexit.register(self.stop)
        self.root = os.path.join(self.directory, "root")
        os.mkdir(self.root)
        keys = os.path.join(self.directory, "keys")
        os.mkdir(keys)
        host_key = os.path.join(keys, "host_key")
        self.host_public_key = write_key_pair(host_key)
        rsa_host_key = os.path.join(keys, "rsa_host_key")
        rsa_host_public_key = write_key_pair(rsa_host_key, "rsa")
        self.client_key = os.path.join(keys, "client_key")
        write_key_pair(self.client_key)
        self.stranger_key = os.path.join(keys, "stranger_key")
        write_key_pair(self.stranger_key)
        impostor = write_key_pair(os.path.join(keys, "impostor_key"))
        command = [sys.executable, _SERVER_SCRIPT, self.root,
                   "--host-key", host_key, "--host-key", rsa_host_key,
                   "--user", self.user,
                   "--authorized-key", self.client_key + ".pub"]
        if not self.posix_rename:
            command.append("--no-posix-rename")
        with open(os.path.join(self.directory, "sftpd.log"), "wb") as log:
            self._process = subprocess.Popen(
                command, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                stderr=log, cwd=self.directory)
        try:
            self.port = self._read_port()
        except BaseException:
            self.stop()
            raise
        name = "[%s]:%d" % (self.host, self.port)
        self.known_hosts = self._write_known_hosts(
            "known_hosts", "%s %s\n" % (name, self.host_public_key))
        self.wrong_known_hosts = self._write_known_hosts(
            "wrong_known_hosts", "%s %s\n" % (name, impostor))
        self.rsa_known_hosts = self._write_known_hosts(
            "rsa_known_hosts", "%s %s\n" % (name, rsa_host_public_key))
        return self

    def _write_known_hosts(self, name, text):
        path = os.path.join(self.directory, name)
        with open(path, "w") as f:
            f.write(text)
        return path

    def url(self, path="/"):
        return "sftp://%s@%s:%d%s" % (self.user, self.host, self.port, path)

    def stop(self):
        """Stop the server and remove its files; safe to call twice."""
        process, self._process = self._process, None
        stop_child(process, self.directory)
        self.directory = None
        atexit.unregister(self.stop)

    def log(self):
        try:
            with open(os.path.join(self.directory, "sftpd.log")) as f:
                return f.read()
        except (OSError, TypeError):
            return ""

    def _read_port(self):
        out = self._process.stdout
        ready, _, _ = select.select([out], [], [], self.start_timeout)
        line = out.readline().decode() if ready else ""
        if not line.startswith("PORT "):
            self._process.poll()
            raise SFTPServerError(
                "the test SFTP server did not start (exit status %s): %s%s"
                % (self._process.returncode, line, self.log()))
        return int(line.split()[1])

    def __enter__(self):
        return self.start() if self._process is None else self

    def __exit__(self, *exc_info):
        self.stop()
