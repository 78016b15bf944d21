"""SFTPTarget against a real SFTP server on loopback (Twisted Conch's, in a
child process, tests/harness/sftp.py): writing, replacing, host keys,
authentication and the ways a connection fails."""

import os
import socket
import time

from twisted.internet import defer, protocol, reactor
from twisted.trial import unittest

from mirrorkeeper.timestamps import (
    AuthenticationError, HostKeyError, PlantingError, target_from_spec)
from tests.harness.sftp import SFTPServer


def closed_port():
    """A loopback port nothing listens on: connections are refused."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class SFTPTests(unittest.TestCase):
    timeout = 20
    posix_rename = True

    @classmethod
    def setUpClass(cls):
        cls.server = SFTPServer(posix_rename=cls.posix_rename).start()

    @classmethod
    def tearDownClass(cls):
        cls.server.stop()

    def setUp(self):
        # A directory of its own under the server's root, for each test.
        self.name = self.id().rsplit(".", 1)[-1]
        self.directory = os.path.join(self.server.root, self.name)
        os.mkdir(self.directory)

    def target(self, path=None, key=None, known_hosts=None, timeout=10):
        return target_from_spec(
            self.server.url(path or "/" + self.name),
            key or self.server.client_key,
            known_hosts or self.server.known_hosts, timeout)

    def listing(self):
        return sorted(os.listdir(self.directory))

    def read(self, name):
        with open(os.path.join(self.directory, name), "rb") as f:
            return f.read()

    @defer.inlineCallbacks
    def test_plant_writes_file(self):
        """Planting over SFTP leaves exactly the file, with the content
        given and readable by all."""
        yield self.target().plant("stamp", b"1795548923\n")
        self.assertEqual(self.listing(), ["stamp"])
        self.assertEqual(self.read("stamp"), b"1795548923\n")
        mode = os.stat(os.path.join(self.directory, "stamp")).st_mode
        self.assertEqual(mode & 0o777, 0o644)

    @defer.inlineCallbacks
    def test_plant_replaces_file(self):
        """A second planting replaces the file by rename: a reader of the
        old one reads it whole, and no temporary file is left."""
        target = self.target()
        yield target.plant("stamp", b"1\n" * 1000)
        with open(os.path.join(self.directory, "stamp"), "rb") as old:
            yield target.plant("stamp", b"2\n")
            self.assertEqual(old.read(), b"1\n" * 1000)
        self.assertEqual(self.read("stamp"), b"2\n")
        self.assertEqual(self.listing(), ["stamp"])

    @defer.inlineCallbacks
    def test_home_relative_path(self):
        """A target under /~/ is written relative to the user's home."""
        yield self.target("/~/" + self.name).plant("stamp", b"3\n")
        self.assertEqual(self.read("stamp"), b"3\n")

    @defer.inlineCallbacks
    def test_host_key_of_known_type(self):
        """A server with several host keys is asked for one of a type
        known_hosts has for it."""
        target = self.target(known_hosts=self.server.rsa_known_hosts)
        yield target.plant("stamp", b"4\n")
        self.assertEqual(self.read("stamp"), b"4\n")

    @defer.inlineCallbacks
    def test_wrong_host_key(self):
        """A host key other than the one known_hosts has is a HostKeyError
        naming the file, and nothing is written."""
        target = self.target(known_hosts=self.server.wrong_known_hosts)
        error = yield self.assertFailure(target.plant("stamp", b"1\n"),
                                         HostKeyError)
        self.assertIn("is not the one the known_hosts file %s has for it"
                      % (self.server.wrong_known_hosts,), str(error))
        self.assertIn("[127.0.0.1]:%d" % (self.server.port,), str(error))
        self.assertEqual(self.listing(), [])

    @defer.inlineCallbacks
    def test_unknown_host(self):
        """A host known_hosts does not list is a HostKeyError giving the
        key's fingerprint, and nothing is written."""
        empty = os.path.join(self.server.directory, "empty_known_hosts")
        with open(empty, "w"):
            pass
        target = self.target(known_hosts=empty)
        error = yield self.assertFailure(target.plant("stamp", b"1\n"),
                                         HostKeyError)
        self.assertIn("is not in the known_hosts file", str(error))
        self.assertIn("(its key is ssh-", str(error))
        self.assertIn(" SHA256:", str(error))
        self.assertEqual(self.listing(), [])

    @defer.inlineCallbacks
    def test_refused_key(self):
        """A key the server does not accept is an AuthenticationError, and
        nothing is written."""
        target = self.target(key=self.server.stranger_key)
        error = yield self.assertFailure(target.plant("stamp", b"1\n"),
                                         AuthenticationError)
        self.assertIn("refused our key", str(error))
        self.assertIn("for the user mirror", str(error))
        self.assertEqual(self.listing(), [])

    @defer.inlineCallbacks
    def test_missing_directory(self):
        """A directory the server lacks is a PlantingError naming the path,
        and nothing is left behind."""
        target = self.target("/%s/gone" % (self.name,))
        error = yield self.assertFailure(target.plant("stamp", b"1\n"),
                                         PlantingError)
        self.assertIn("cannot create /%s/gone/.stamp." % (self.name,),
                      str(error))
        self.assertIn("no such file", str(error))
        self.assertEqual(self.listing(), [])

    @defer.inlineCallbacks
    def test_unreachable(self):
        """A port nobody listens on is a PlantingError saying the connection
        was refused."""
        target = target_from_spec(
            "sftp://mirror@127.0.0.1:%d/pub" % (closed_port(),),
            self.server.client_key, self.server.known_hosts, 10)
        error = yield self.assertFailure(target.plant("stamp", b"1\n"),
                                         PlantingError)
        self.assertIn("cannot connect to 127.0.0.1", str(error))
        self.assertIn("Connection refused", str(error))

    @defer.inlineCallbacks
    def test_silent_server_times_out(self):
        """A server that accepts and never speaks fails the planting after
        the target's timeout."""
        silent = reactor.listenTCP(0, protocol.Factory.forProtocol(
            protocol.Protocol), interface="127.0.0.1")
        self.addCleanup(silent.stopListening)
        target = target_from_spec(
            "sftp://mirror@127.0.0.1:%d/pub" % (silent.getHost().port,),
            self.server.client_key, self.server.known_hosts, 0.5)
        started = time.monotonic()
        error = yield self.assertFailure(target.plant("stamp", b"1\n"),
                                         PlantingError)
        self.assertIn("timed out after 0.5 s", str(error))
        self.assertLess(time.monotonic() - started, 5)


class PlainRenameTests(SFTPTests):
    """The same against a server without posix-rename@openssh.com, whose
    plain rename will not replace a file."""

    posix_rename = False
