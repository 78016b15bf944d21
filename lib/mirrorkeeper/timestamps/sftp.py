"""A timestamp target on another machine, written over SFTP with Twisted
Conch.

One planting is one SSH connection: the server's host key is checked
against a known_hosts file (OpenSSH's format, hashed entries too; a port
other than 22 is looked up as ``[host]:port``, as OpenSSH writes it; as
OpenSSH does, the server is asked for a key of a type the file has for it)
and a key that is missing or different ends the connection before anything
is sent; we authenticate with one private key and nothing else (no
password, no agent); the SFTP subsystem writes the file to a hidden
temporary name in the target directory (created exclusively, mode 0644)
and renames it over the target.  With the posix-rename@openssh.com
extension (OpenSSH's sftp-server offers it) the rename replaces the old
file in one step; without it, a server that will not rename over an
existing file gets the old file removed first, so the file is missing for
a moment but never half-written.  A planting that fails after the
temporary file was created removes it if the connection still allows.
"""

import os
import secrets

from twisted.conch.client.knownhosts import HostKeyChanged, KnownHostsFile
from twisted.conch.ssh import (
    channel, common, connection, filetransfer, keys, transport, userauth)
from twisted.internet import defer, error as netError
from twisted.internet.endpoints import HostnameEndpoint
from twisted.internet.protocol import Factory
from twisted.python.failure import Failure
from twisted.python.filepath import FilePath
from zope.interface import implementer

from mirrorkeeper.errors import ConfigurationError
from mirrorkeeper.interfaces.timestamps import ITimestampTarget
from mirrorkeeper.timestamps import (
    AuthenticationError, HostKeyError, PlantingError)
from mirrorkeeper.timestamps.local import FILE_MODE, check_file_name

POSIX_RENAME = b"posix-rename@openssh.com"

_STATUS_WORDS = {
    filetransfer.FX_NO_SUCH_FILE: "no such file or directory",
    filetransfer.FX_PERMISSION_DENIED: "permission denied",
    filetransfer.FX_FAILURE: "failure",
    filetransfer.FX_BAD_MESSAGE: "bad message",
    filetransfer.FX_OP_UNSUPPORTED: "operation unsupported",
    filetransfer.FX_FILE_ALREADY_EXISTS: "file already exists",
}


def load_private_key(path):
    """The private key in the file `path` (OpenSSH or PEM format, without
    a passphrase), or ConfigurationError."""
    try:
        key = keys.Key.fromFile(path)
    except OSError as error:
        raise ConfigurationError("cannot read the private key %s: %s"
                                 % (path, error.strerror)) from None
    except keys.EncryptedKeyError:
        raise ConfigurationError(
            "the private key %s has a passphrase; the planter needs one "
            "without" % (path,)) from None
    except (keys.BadKeyError, ValueError) as error:
        raise ConfigurationError("%s is not a private key we can read: %s"
                                 % (path, error)) from None
    if not key.isPublic():
        return key
    raise ConfigurationError("%s is a public key; give the private key"
                             % (path,))


def load_known_hosts(path):
    """The KnownHostsFile at `path`, which must exist, or
    ConfigurationError."""
    try:
        with open(path, "rb"):
            pass
    except OSError as error:
        raise ConfigurationError("cannot read the known_hosts file %s: %s"
                                 % (path, error.strerror)) from None
    return KnownHostsFile.fromPath(FilePath(path))


def _sftp_reason(failure):
    """A failed SFTP request, in words."""
    value = failure.value
    if isinstance(value, filetransfer.SFTPError):
        words = _STATUS_WORDS.get(value.code, "error %d" % (value.code,))
        message = value.message
        if isinstance(message, bytes):
            message = message.decode("utf-8", "replace")
        if message and message.lower() != words:
            return "%s (%s)" % (words, message)
        return words
    if isinstance(value, NotImplementedError):
        return "the server does not support it"
    if isinstance(value, netError.ConnectionLost):
        return "the connection was lost"
    return str(value) or type(value).__name__


@implementer(ITimestampTarget)
class SFTPTarget:
    """Plants into `directory` of `host` over SFTP, as `user`, with the
    private key `private_key` (a twisted.conch.ssh.keys.Key) and the host
    keys of `known_hosts` (a KnownHostsFile).  `directory` is absolute;
    '/~/path' is relative to the user's home.  A planting taking longer
    than `timeout` seconds, connecting included, fails."""

    def __init__(self, host, port, user, directory, private_key,
                 known_hosts, timeout=30, reactor=None):
        if reactor is None:
            from twisted.internet import reactor
        self.host = host
        self.port = port
        self.user = user
        self.directory = directory
        self.private_key = private_key
        self.known_hosts = known_hosts
        self.timeout = timeout
        self.reactor = reactor
        self.description = "sftp://%s@%s:%d%s" % (
            user, "[%s]" % (host,) if ":" in host else host, port, directory)

    def __repr__(self):
        return "<SFTPTarget %s>" % (self.description,)

    @property
    def known_hosts_name(self):
        """The host as known_hosts names it."""
        if self.port == 22:
            return self.host
        return "[%s]:%d" % (self.host, self.port)

    def remote_path(self, name):
        directory = self.directory
        if directory == "/~" or directory.startswith("/~/"):
            directory = directory[3:]
        if not directory:
            return name
        return directory.rstrip("/") + "/" + name

    def plant(self, name, data):
        check_file_name(name)
        return _Planting(self, name, data).start()

    def known_key_types(self):
        """The key types (b'ssh-ed25519', b'ssh-rsa'...) known_hosts has
        for the host."""
        hostname = self.known_hosts_name.encode("utf-8")
        return {entry.keyType for entry in self.known_hosts.iterentries()
                if getattr(entry, "keyType", None) is not None and
                entry.matchesHost(hostname)}

    def check_host_key(self, blob):
        """None if the server's host key `blob` is the one known_hosts has
        for the host, else HostKeyError."""
        key = keys.Key.fromString(blob)
        hostname = self.known_hosts_name
        fingerprint = "%s SHA256:%s" % (
            key.sshType().decode("ascii"),
            key.fingerprint(keys.FingerprintFormats.SHA256_BASE64).rstrip(
                "="))
        path = self.known_hosts.savePath.path
        try:
            if self.known_hosts.hasHostKey(hostname.encode("utf-8"), key):
                return
        except HostKeyChanged as changed:
            raise HostKeyError(
                "%s: the host key of %s (%s) is not the one the known_hosts "
                "file %s has for it%s; not connecting: the host was "
                "reinstalled, or someone is in between" % (
                    self.description, hostname, fingerprint, path,
                    " on line %d" % (changed.lineno,)
                    if changed.lineno else "")) from None
        others = sorted(key_type.decode("ascii", "replace")
                        for key_type in self.known_key_types())
        if others:
            raise HostKeyError(
                "%s: the server offered a %s host key (%s) but the "
                "known_hosts file %s has only %s for %s; not connecting" % (
                    self.description, key.sshType().decode("ascii"),
                    fingerprint, path, ", ".join(others), hostname))
        raise HostKeyError(
            "%s: %s is not in the known_hosts file %s (its key is %s); "
            "not connecting: add the host's key if it is the right one" % (
                self.description, hostname, path, fingerprint))


class _Planting:
    """One planting: the connection, the SFTP session, and its outcome.

    `done` fires once the connection is closed: with None when the file
    was renamed into place, else with the first error met."""

    def __init__(self, target, name, data):
        self.target = target
        self.name = name
        self.data = data
        self.done = defer.Deferred()
        self.error = None
        self.written = False
        self.ssh = None
        self._connecting = None
        self._timer = None
        self._finished = False

    def start(self):
        target = self.target
        reactor = target.reactor
        self._timer = reactor.callLater(target.timeout, self._timed_out)
        endpoint = HostnameEndpoint(reactor, target.host, target.port,
                                    timeout=target.timeout)
        self._connecting = endpoint.connect(
            Factory.forProtocol(lambda: _ClientTransport(self)))
        self._connecting.addCallbacks(self._connected, self._not_connected)
        return self.done

    def _connected(self, ssh):
        self._connecting = None
        self.ssh = ssh

    def _not_connected(self, failure):
        self._connecting = None
        if failure.check(defer.CancelledError):
            reason = "timed out after %g s" % (self.target.timeout,)
        else:
            value = failure.value
            number = getattr(value, "osError", None)
            if isinstance(number, int):
                reason = os.strerror(number)
            else:
                reason = " ".join(str(value).split()) or \
                    type(value).__name__
        self.fail(PlantingError("%s: cannot connect to %s port %d: %s" % (
            self.target.description, self.target.host, self.target.port,
            reason)))
        self._finish()

    def _timed_out(self):
        self._timer = None
        self.fail(PlantingError("%s: timed out after %g s" % (
            self.target.description, self.target.timeout)))
        if self._connecting is not None:
            self._connecting.cancel()
        elif self.ssh is not None and self.ssh.transport is not None:
            self.ssh.transport.abortConnection()

    def record(self, error):
        """Record `error`: the first one is what the planting fails
        with."""
        if self.error is None and not self.written:
            self.error = error

    def fail(self, error):
        """Record `error` and close the connection."""
        self.record(error)
        self.close()

    def close(self):
        if self.ssh is not None and self.ssh.transport is not None:
            self.ssh.transport.loseConnection()

    def connection_lost(self, reason):
        if self.error is None and not self.written:
            self.error = PlantingError(
                "%s: the connection was closed before the file was "
                "written: %s" % (self.target.description,
                                 reason.getErrorMessage()))
        self._finish()

    def _finish(self):
        if self._finished:
            return
        self._finished = True
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        if self.written:
            self.done.callback(None)
        else:
            self.done.errback(self.error)

    # The SFTP session, once the server's version is known.

    @defer.inlineCallbacks
    def write(self, client, extensions):
        target = self.target
        final = target.remote_path(self.name)
        temporary = target.remote_path(".%s.%s.tmp" % (
            self.name, secrets.token_hex(6)))
        final_b, temporary_b = final.encode("utf-8"), temporary.encode(
            "utf-8")
        created = False
        step = "create %s" % (temporary,)
        try:
            remote = yield client.openFile(
                temporary_b, filetransfer.FXF_WRITE | filetransfer.FXF_CREAT
                | filetransfer.FXF_EXCL, {"permissions": FILE_MODE})
            created = True
            step = "write %s" % (temporary,)
            try:
                yield remote.writeChunk(0, self.data)
            except Exception:
                remote.close().addErrback(lambda failure: None)
                raise
            step = "close %s" % (temporary,)
            yield remote.close()
            step = "rename %s to %s" % (temporary, final)
            if POSIX_RENAME in extensions:
                yield client.extendedRequest(
                    POSIX_RENAME, common.NS(temporary_b) + common.NS(final_b))
            else:
                yield self._rename_over(client, temporary_b, final_b)
        except Exception:
            self.record(PlantingError("%s: cannot %s: %s" % (
                target.description, step, _sftp_reason(Failure()))))
            if created:
                # Best effort: the connection may be gone already.
                try:
                    yield client.removeFile(temporary_b)
                except Exception:
                    pass
            self.close()
            return
        self.written = True
        self.close()

    @defer.inlineCallbacks
    def _rename_over(self, client, temporary, final):
        """Plain SFTP version 3 rename, which servers may refuse when the
        target exists: then remove the target and rename again."""
        try:
            yield client.renameFile(temporary, final)
            return
        except filetransfer.SFTPError:
            pass
        try:
            yield client.removeFile(final)
        except filetransfer.SFTPError as error:
            if error.code != filetransfer.FX_NO_SUCH_FILE:
                raise
        yield client.renameFile(temporary, final)


# The key type of each host key algorithm whose name is not its type's.
_KEY_TYPE_OF_ALGORITHM = {b"rsa-sha2-256": b"ssh-rsa",
                          b"rsa-sha2-512": b"ssh-rsa"}


class _ClientTransport(transport.SSHClientTransport):

    def __init__(self, planting):
        self.planting = planting

    def connectionMade(self):
        # As OpenSSH does: ask for a host key of a type known_hosts has for
        # the host, so that a server with several keys shows the one we
        # can check.
        known = self.planting.target.known_key_types()
        preferred = [
            algorithm for algorithm in self.supportedPublicKeys
            if _KEY_TYPE_OF_ALGORITHM.get(algorithm, algorithm) in known]
        if preferred:
            self.supportedPublicKeys = preferred
        transport.SSHClientTransport.connectionMade(self)

    def verifyHostKey(self, hostKey, fingerprint):
        try:
            self.planting.target.check_host_key(hostKey)
        except HostKeyError as error:
            self.planting.fail(error)
            return defer.fail(error)
        return defer.succeed(True)

    def connectionSecure(self):
        target = self.planting.target
        self.requestService(_UserAuth(
            target.user.encode("utf-8"), target.private_key,
            _Connection(self.planting)))

    def sendDisconnect(self, reason, desc):
        target = self.planting.target
        if reason == transport.DISCONNECT_NO_MORE_AUTH_METHODS_AVAILABLE:
            self.planting.fail(AuthenticationError(
                "%s: the server refused our key (%s SHA256:%s) for the "
                "user %s" % (
                    target.description,
                    target.private_key.sshType().decode("ascii"),
                    target.private_key.fingerprint(
                        keys.FingerprintFormats.SHA256_BASE64).rstrip("="),
                    target.user)))
        else:
            self.planting.fail(PlantingError(
                "%s: SSH error: %s" % (target.description,
                                       desc.decode("utf-8", "replace"))))
        transport.SSHClientTransport.sendDisconnect(self, reason, desc)

    def receiveError(self, reasonCode, description):
        self.planting.fail(PlantingError(
            "%s: the server closed the connection: %s" % (
                self.planting.target.description,
                description.decode("utf-8", "replace"))))

    def connectionLost(self, reason):
        transport.SSHClientTransport.connectionLost(self, reason)
        self.planting.connection_lost(reason)


class _UserAuth(userauth.SSHUserAuthClient):
    """Offers one key and nothing else."""

    preferredOrder = [b"publickey"]

    def __init__(self, user, key, instance):
        userauth.SSHUserAuthClient.__init__(self, user, instance)
        self._key = key
        self._offered = False

    def tryAuth(self, kind):
        if kind != b"publickey":
            return None
        return userauth.SSHUserAuthClient.tryAuth(self, kind)

    def getPublicKey(self):
        if self._offered:
            return None
        self._offered = True
        return self._key.public()

    def getPrivateKey(self):
        return defer.succeed(self._key)


class _Connection(connection.SSHConnection):

    def __init__(self, planting):
        connection.SSHConnection.__init__(self)
        self.planting = planting

    def serviceStarted(self):
        connection.SSHConnection.serviceStarted(self)
        self.openChannel(_SFTPChannel(self.planting, conn=self))


class _SFTPChannel(channel.SSHChannel):
    name = b"session"

    def __init__(self, planting, *args, **kwargs):
        channel.SSHChannel.__init__(self, *args, **kwargs)
        self.planting = planting
        self.client = None

    def openFailed(self, reason):
        self.planting.fail(PlantingError(
            "%s: the server refused a session: %s" % (
                self.planting.target.description, reason)))

    def channelOpen(self, data):
        requested = self.conn.sendRequest(
            self, b"subsystem", common.NS(b"sftp"), wantReply=True)
        requested.addCallbacks(self._started, self._refused)

    def _refused(self, failure):
        self.planting.fail(PlantingError(
            "%s: the server has no SFTP subsystem" % (
                self.planting.target.description,)))

    def _started(self, ignored):
        self.client = _SFTPClient(self.planting)
        self.client.makeConnection(self)

    def dataReceived(self, data):
        if self.client is not None:
            self.client.dataReceived(data)

    def closed(self):
        if self.client is not None:
            client, self.client = self.client, None
            client.connectionLost(Failure(netError.ConnectionDone()))
        self.planting.close()


class _SFTPClient(filetransfer.FileTransferClient):

    def __init__(self, planting):
        filetransfer.FileTransferClient.__init__(self)
        self.planting = planting

    def gotServerVersion(self, serverVersion, extData):
        self.planting.write(self, extData)
