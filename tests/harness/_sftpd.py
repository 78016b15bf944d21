"""The SFTP server process behind tests/harness/sftp.py; not imported.

    python _sftpd.py ROOT --host-key KEY [--host-key KEY...] --user NAME
                     --authorized-key PUB [--no-posix-rename]

Twisted Conch's SSH server on 127.0.0.1, port chosen by the kernel, with
the host keys KEY (private key files), letting NAME in with the public key
in the file PUB only, and an SFTP subsystem over the directory ROOT: '/'
is ROOT, and a path leading outside it (by '..' or a symbolic link) is
refused.  Prints "PORT <n>" on stdout once it listens; exits when its stdin
closes, so it never outlives the test process that started it.

Renames behave as OpenSSH's sftp-server's do: a plain SSH_FXP_RENAME
refuses to replace an existing file, and the posix-rename@openssh.com
extension (offered unless --no-posix-rename) replaces it in one step.
"""

import argparse
import errno
import os
import sys

from twisted.conch import avatar
from twisted.conch.checkers import InMemorySSHKeyDB, SSHPublicKeyChecker
from twisted.conch.ssh import factory, filetransfer, keys, session
from twisted.conch.ssh.common import getNS
from twisted.cred.portal import IRealm, Portal
from twisted.internet import endpoints, protocol, reactor, stdio
from twisted.python import components
from zope.interface import implementer

POSIX_RENAME = b"posix-rename@openssh.com"


class User(avatar.ConchUser):
    def __init__(self, root, posix_rename):
        avatar.ConchUser.__init__(self)
        self.root = root
        self.posix_rename = posix_rename
        self.channelLookup[b"session"] = session.SSHSession
        self.subsystemLookup[b"sftp"] = filetransfer.FileTransferServer


@implementer(IRealm)
class Realm:
    def __init__(self, root, posix_rename):
        self.root = root
        self.posix_rename = posix_rename

    def requestAvatar(self, avatar_id, mind, *interfaces):
        return interfaces[0], User(self.root, self.posix_rename), \
            lambda: None


def _attributes(result):
    return {"size": result.st_size, "uid": result.st_uid,
            "gid": result.st_gid, "permissions": result.st_mode,
            "atime": int(result.st_atime), "mtime": int(result.st_mtime)}


@implementer(filetransfer.ISFTPFile)
class RootedFile:
    def __init__(self, path, flags, attributes):
        mode = {filetransfer.FXF_READ: os.O_RDONLY,
                filetransfer.FXF_WRITE: os.O_WRONLY,
                filetransfer.FXF_READ | filetransfer.FXF_WRITE: os.O_RDWR}[
            flags & (filetransfer.FXF_READ | filetransfer.FXF_WRITE)]
        for sftp_flag, os_flag in [(filetransfer.FXF_APPEND, os.O_APPEND),
                                   (filetransfer.FXF_CREAT, os.O_CREAT),
                                   (filetransfer.FXF_TRUNC, os.O_TRUNC),
                                   (filetransfer.FXF_EXCL, os.O_EXCL)]:
            if flags & sftp_flag:
                mode |= os_flag
        permissions = attributes.get("permissions", 0o666) & 0o7777
        self.fd = os.open(path, mode | os.O_NOFOLLOW, permissions)

    def readChunk(self, offset, length):
        return os.pread(self.fd, length, offset)

    def writeChunk(self, offset, data):
        os.pwrite(self.fd, data, offset)

    def getAttrs(self):
        return _attributes(os.fstat(self.fd))

    def setAttrs(self, attributes):
        raise NotImplementedError("setAttrs")

    def close(self):
        os.close(self.fd)


@implementer(filetransfer.ISFTPServer)
class RootedSFTPServer:
    def __init__(self, user):
        self.user = user
        self.root = os.path.realpath(user.root)

    def _path(self, path):
        """The real path under the root that `path` names, or
        PermissionError if it leads outside."""
        relative = os.path.normpath("/" + path.decode("utf-8")).lstrip("/")
        full = os.path.join(self.root, relative)
        parent = os.path.realpath(os.path.dirname(full))
        if parent != self.root and not parent.startswith(self.root + "/"):
            raise PermissionError(errno.EACCES, "outside the root", path)
        return os.path.join(parent, os.path.basename(full)) \
            if relative else self.root

    def gotVersion(self, other_version, ext_data):
        return {POSIX_RENAME: b"1"} if self.user.posix_rename else {}

    def openFile(self, filename, flags, attributes):
        return RootedFile(self._path(filename), flags, attributes)

    def removeFile(self, filename):
        os.remove(self._path(filename))

    def renameFile(self, old, new):
        # As OpenSSH: link() then unlink(), so an existing target stays.
        old, new = self._path(old), self._path(new)
        os.link(old, new)
        os.unlink(old)

    def extendedRequest(self, name, data):
        if name == POSIX_RENAME and self.user.posix_rename:
            old, rest = getNS(data)
            new, _ = getNS(rest)
            os.rename(self._path(old), self._path(new))
            return b""
        raise NotImplementedError(name)

    def makeDirectory(self, path, attributes):
        os.mkdir(self._path(path), attributes.get("permissions", 0o777))

    def removeDirectory(self, path):
        os.rmdir(self._path(path))

    def openDirectory(self, path):
        raise NotImplementedError("openDirectory")

    def getAttrs(self, path, follow_links):
        full = self._path(path)
        return _attributes(os.stat(full) if follow_links else os.lstat(full))

    def setAttrs(self, path, attributes):
        raise NotImplementedError("setAttrs")

    def readLink(self, path):
        raise NotImplementedError("readLink")

    def makeLink(self, link_path, target_path):
        raise NotImplementedError("makeLink")

    def realPath(self, path):
        full = self._path(path)
        return "/" + os.path.relpath(full, self.root).lstrip(".")


components.registerAdapter(RootedSFTPServer, User, filetransfer.ISFTPServer)


class StdinWatch(protocol.Protocol):
    def connectionLost(self, reason):
        if reactor.running:
            reactor.stop()


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("root")
    parser.add_argument("--host-key", required=True, action="append")
    parser.add_argument("--user", required=True)
    parser.add_argument("--authorized-key", required=True)
    parser.add_argument("--no-posix-rename", action="store_true")
    options = parser.parse_args()

    host_keys = [keys.Key.fromFile(path) for path in options.host_key]
    authorized = keys.Key.fromFile(options.authorized_key)
    ssh_factory = factory.SSHFactory()
    ssh_factory.portal = Portal(
        Realm(options.root, not options.no_posix_rename),
        [SSHPublicKeyChecker(InMemorySSHKeyDB(
            {options.user.encode("utf-8"): [authorized]}))])
    ssh_factory.publicKeys = {key.sshType(): key.public()
                              for key in host_keys}
    ssh_factory.privateKeys = {key.sshType(): key for key in host_keys}

    def listening(port):
        sys.stdout.write("PORT %d\n" % (port.getHost().port,))
        sys.stdout.flush()

    def failed(failure):
        sys.stderr.write("cannot listen: %s\n" % (failure.value,))
        reactor.stop()

    endpoint = endpoints.TCP4ServerEndpoint(reactor, 0, interface="127.0.0.1")
    endpoint.listen(ssh_factory).addCallbacks(listening, failed)
    stdio.StandardIO(StdinWatch())
    reactor.run()


if __name__ == "__main__":
    # Files the server creates get the permissions asked for, as OpenSSH's
    # do under the usual umask.
    os.umask(0o022)
    main()
