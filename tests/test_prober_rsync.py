"""rsync probing against a real rsync daemon on loopback, through the
runner and through ProbeClient."""

import os
from datetime import datetime, timezone

from twisted.internet import defer, error, reactor
from twisted.internet.protocol import Factory, Protocol
from twisted.trial import unittest

from mirrorkeeper.prober.connect import FamilyRecord
from mirrorkeeper.prober.http import Site
from mirrorkeeper.enums import ProbeOutcome as Outcome
from mirrorkeeper.prober.rsync import (
    RsyncReplyError, RsyncRunner, parse_listing, rsync_url)
from tests.farm.testing import RELEASE, FarmTestMixin
from tests.rsync_daemon import RsyncDaemon

TRACE = "project/trace/master"


class ListingTests(unittest.TestCase):

    def test_parse_listing(self):
        """Entries give kind, size, UTC mtime and name (spaces kept);
        other lines (a message of the day) are skipped."""
        entries = parse_listing(
            "Welcome to the mirror\n"
            "-rw-r--r--           1234 2026/11/30 06:07:08 Release\n"
            "drwxr-xr-x           4096 2026/11/30 06:07:09 a dir\n")
        self.assertEqual(
            [(e.mode[0], e.size, e.mtime, e.name, e.is_file)
             for e in entries],
            [("-", 1234, datetime(2026, 11, 30, 6, 7, 8,
                                  tzinfo=timezone.utc), "Release", True),
             ("d", 4096, datetime(2026, 11, 30, 6, 7, 9,
                                  tzinfo=timezone.utc), "a dir", False)])

    def test_url_takes_the_address(self):
        self.assertEqual(rsync_url("::1", 873, "/m/x"),
                         "rsync://[::1]:873/m/x")
        self.assertEqual(rsync_url("192.0.2.1", 10873, "/m/x"),
                         "rsync://192.0.2.1:10873/m/x")


class _Silent(Protocol):
    """Accepts and never says a word: a hanging daemon."""


class RsyncTestMixin(FarmTestMixin):

    def setUp(self):
        self.tree = self.make_tree()
        self.daemon = RsyncDaemon(self.mktemp(), {"ubuntu": self.tree},
                                  {"private": self.tree}).start()
        self.addCleanup(self.daemon.stop)


class RunnerTests(RsyncTestMixin, unittest.TestCase):
    timeout = 30

    def check(self, path, **kwargs):
        runner = RsyncRunner(reactor, timeout=10)
        site = Site("rsync", "mirror.example", self.daemon.port)
        return runner.check(site, ["127.0.0.1"], path)

    @defer.inlineCallbacks
    def test_found_with_size_and_mtime(self):
        """A file is found, with the size and mtime the tree has."""
        answer = yield self.check("/ubuntu/" + RELEASE)
        stat = os.stat(os.path.join(self.tree, RELEASE))
        self.assertTrue(answer.found)
        self.assertEqual(answer.entry.size, stat.st_size)
        self.assertEqual(answer.entry.mtime.timestamp(),
                         int(stat.st_mtime))
        self.assertEqual(answer.address, "127.0.0.1")

    @defer.inlineCallbacks
    def test_missing_file_module_and_directory(self):
        """A missing file, an unknown module and a directory are not
        found."""
        for path in ("/ubuntu/dists/noble/Nope", "/nomodule/" + RELEASE,
                     "/ubuntu/dists/noble"):
            answer = yield self.check(path)
            self.assertFalse(answer.found, path)

    @defer.inlineCallbacks
    def test_fetch_copies_small_files_only(self):
        runner = RsyncRunner(reactor, timeout=10)
        site = Site("rsync", "mirror.example", self.daemon.port)
        with open(os.path.join(self.tree, TRACE), "rb") as f:
            trace = f.read()
        small = yield runner.fetch(site, ["127.0.0.1"], "/ubuntu/" + TRACE,
                                   4096)
        large = yield runner.fetch(site, ["127.0.0.1"], "/ubuntu/" + TRACE,
                                   len(trace) - 1)
        self.assertEqual(small.body, trace)
        self.assertTrue(large.found)
        self.assertIsNone(large.body)

    @defer.inlineCallbacks
    def test_next_address_after_a_refusal(self):
        """A refusing address is recorded failed and the next one tried."""
        families = FamilyRecord()
        runner = RsyncRunner(reactor, timeout=10, families=families)
        site = Site("rsync", "mirror.example", self.daemon.port)
        answer = yield runner.check(site, ["127.0.0.2", "127.0.0.1"],
                                    "/ubuntu/" + RELEASE)
        self.assertTrue(answer.found)
        self.assertEqual(answer.address, "127.0.0.1")
        self.assertEqual(families.families("mirror.example").ipv4, True)


    @defer.inlineCallbacks
    def test_paths_asked_together_are_listed_by_one_run(self):
        """Paths asked at once of one module are listed by one client
        run: the present ones found, an absent one not found with the
        daemon's word on it, each told apart."""
        runner = RsyncRunner(reactor, timeout=10)
        site = Site("rsync", "mirror.example", self.daemon.port)
        paths = ["/ubuntu/" + RELEASE, "/ubuntu/dists/noble/Nope",
                 "/ubuntu/" + TRACE, "/ubuntu/dists/noble"]
        answers = yield defer.gatherResults(
            [runner.check(site, ["127.0.0.1"], path) for path in paths])
        self.assertEqual([answer.found for answer in answers],
                         [True, False, True, False])
        self.assertIn('"dists/noble/Nope"', answers[1].reply)
        self.assertIn("No such file or directory", answers[1].reply)
        self.assertEqual(answers[0].entry.name, RELEASE)
        self.assertEqual((runner.processes_run, runner.requests_sent),
                         (1, len(paths)))

    @defer.inlineCallbacks
    def test_a_module_or_host_failure_is_every_paths(self):
        """An unknown module is every path not found; a refused
        connection and a module that wants a password fail every path
        asked with it, never as a missing file."""
        runner = RsyncRunner(reactor, timeout=10)
        site = Site("rsync", "mirror.example", self.daemon.port)
        absent = yield defer.gatherResults(
            [runner.check(site, ["127.0.0.1"], "/nomodule/" + path)
             for path in (RELEASE, TRACE)])
        self.assertEqual([a.found for a in absent], [False, False])
        self.assertIn("Unknown module", absent[0].reply)
        locked = [runner.check(site, ["127.0.0.1"], "/private/" + path)
                  for path in (RELEASE, TRACE)]
        for d in locked:
            yield self.assertFailure(d, RsyncReplyError)
        self.daemon.stop()
        refused = [runner.check(site, ["127.0.0.1"], "/ubuntu/" + path)
                   for path in (RELEASE, TRACE)]
        for d in refused:
            yield self.assertFailure(d, error.ConnectionRefusedError)
        self.assertEqual(runner.processes_run, 3)


class ClientRsyncTests(RsyncTestMixin, unittest.TestCase):
    timeout = 30

    def setUp(self):
        super().setUp()
        self.client = self.make_client(timeout=10)

    @defer.inlineCallbacks
    def test_found_and_not_found(self):
        """rsync:// URLs are FOUND or NOT_FOUND with the listing logged."""
        found = yield self.client.probe(self.daemon.url("ubuntu", RELEASE))
        missing = yield self.client.probe(
            self.daemon.url("ubuntu", "dists/noble/Nope"))
        self.assertEqual((found.outcome, found.status, found.method),
                         (Outcome.FOUND, 0, "LIST"))
        self.assertEqual(missing.outcome, Outcome.NOT_FOUND)
        self.assertLogSays(found, "rsync --list-only rsync://127.0.0.1:",
                           " " + RELEASE, "Result: FOUND")
        self.assertLogSays(missing, "No such file or directory")
        self.assertEqual(self.client.stats.requests, 2)

    @defer.inlineCallbacks
    def test_a_plan_of_many_files_costs_few_client_runs(self):
        """Many rsync probes of one mirror at once are each FOUND or
        NOT_FOUND as they would be alone, from far fewer client runs
        than files, each a request."""
        paths = [RELEASE, TRACE] * 30 + ["dists/noble/Nope%d" % i
                                         for i in range(10)]
        results = yield defer.gatherResults([
            self.client.probe(self.daemon.url("ubuntu", path))
            for path in paths])
        self.assertEqual([r.outcome for r in results],
                         [Outcome.FOUND] * 60 + [Outcome.NOT_FOUND] * 10)
        stats = self.client.stats
        self.assertEqual(stats.requests, len(paths))
        self.assertLess(stats.connections_opened, len(paths) // 10)

    @defer.inlineCallbacks
    def test_fetch_of_a_trace_file(self):
        with open(os.path.join(self.tree, TRACE), "rb") as f:
            trace = f.read()
        result = yield self.client.fetch(self.daemon.url("ubuntu", TRACE),
                                         4096)
        self.assertEqual((result.outcome, result.body), (Outcome.FOUND, trace))
        large = yield self.client.fetch(self.daemon.url("ubuntu", TRACE), 2)
        self.assertEqual(large.outcome, Outcome.TOO_LARGE)

    @defer.inlineCallbacks
    def test_refused_by_the_daemon(self):
        """A module that wants a password is RSYNC_ERROR, its @ERROR
        logged; no password is sent."""
        result = yield self.client.probe(self.daemon.url("private", RELEASE))
        self.assertEqual(result.outcome, Outcome.RSYNC_ERROR)
        self.assertLogSays(result, "@ERROR: auth failed")

    @defer.inlineCallbacks
    def test_closed_port_is_refused(self):
        port = self.daemon.port
        self.daemon.stop()
        result = yield self.client.probe(
            "rsync://127.0.0.1:%d/ubuntu/%s" % (port, RELEASE))
        self.assertEqual(result.outcome, Outcome.CONNECTION_REFUSED)

    @defer.inlineCallbacks
    def test_forbidden_address_is_not_run(self):
        """The address policy holds: a host resolving off the allowed
        networks is refused before the client runs."""
        client = self.make_client(timeout=10, allowed_networks=(),
                                  hosts={"mirror.example": ["127.0.0.1"]})
        result = yield client.probe("rsync://mirror.example:%d/ubuntu/%s"
                                    % (self.daemon.port, RELEASE))
        self.assertEqual(result.outcome, Outcome.FORBIDDEN_ADDRESS)
        self.assertEqual(client.stats.requests, 0)

    @defer.inlineCallbacks
    def test_the_checked_address_is_used(self):
        """The client connects to the address the policy judged, not to
        what the name would resolve to: a name only the prober's hosts
        table knows reaches the daemon."""
        client = self.make_client(timeout=10,
                                  hosts={"mirror.invalid": ["127.0.0.1"]})
        result = yield client.probe("rsync://mirror.invalid:%d/ubuntu/%s"
                                    % (self.daemon.port, RELEASE))
        self.assertEqual(result.outcome, Outcome.FOUND)
        self.assertLogSays(result, "from 127.0.0.1")

    @defer.inlineCallbacks
    def test_hanging_daemon_times_out(self):
        """A daemon that accepts and never answers is TIMEOUT, and the
        client is killed."""
        port = reactor.listenTCP(0, Factory.forProtocol(_Silent),
                                 interface="127.0.0.1")
        self.addCleanup(port.stopListening)
        client = self.make_client(timeout=1)
        result = yield client.probe("rsync://127.0.0.1:%d/ubuntu/%s" % (
            port.getHost().port, RELEASE))
        self.assertEqual(result.outcome, Outcome.TIMEOUT)
        self.assertLogSays(result, "gave up")

    @defer.inlineCallbacks
    def test_ipv6(self):
        """An rsync daemon on ::1 is probed at its bracketed address, and
        the answer counts for IPv6."""
        try:
            daemon = RsyncDaemon(self.mktemp(), {"ubuntu": self.tree},
                                 address="::1").start()
        except OSError:
            raise unittest.SkipTest("no IPv6 loopback here")
        self.addCleanup(daemon.stop)
        result = yield self.client.probe(daemon.url("ubuntu", RELEASE))
        self.assertEqual(result.outcome, Outcome.FOUND)
        self.assertLogSays(result, "rsync --list-only rsync://[::1]:",
                           "from ::1")
        self.assertTrue(self.client.address_families("::1").ipv6)
