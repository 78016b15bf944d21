"""The garbage collector is tuned for the probes, and for nothing else: a
run probes with young collections made rare, and judges and applies what
it found with the process's own thresholds."""

import gc
import logging
import os

from twisted.internet import reactor
from twisted.trial import unittest

from mirrorkeeper.database.migrate import upgrade
from mirrorkeeper.database.store import open_store
from mirrorkeeper.model import register_utilities
from mirrorkeeper.prober import job
from mirrorkeeper.prober.job import (
    PROBING_GC_THRESHOLDS, ProberOptions, ProberRun, collecting_rarely)
from mirrorkeeper.sampledata import SAMPLE_MIRRORS, load_sample_data
from tests.mirror_servers import MirrorServer, write_archive

# Thresholds no process starts with, so that the test sees whose they are.
OWN_THRESHOLDS = (701, 11, 12)


class CollectingRarelyTests(unittest.TestCase):

    def setUp(self):
        self.addCleanup(gc.set_threshold, *gc.get_threshold())
        gc.set_threshold(*OWN_THRESHOLDS)

    def test_thresholds_are_put_back(self):
        with collecting_rarely():
            self.assertEqual(gc.get_threshold(), PROBING_GC_THRESHOLDS)
        self.assertEqual(gc.get_threshold(), OWN_THRESHOLDS)

    def test_thresholds_are_put_back_after_an_error(self):
        with self.assertRaises(KeyError):
            with collecting_rarely((5000, 5, 5)):
                self.assertEqual(gc.get_threshold(), (5000, 5, 5))
                raise KeyError("probe")
        self.assertEqual(gc.get_threshold(), OWN_THRESHOLDS)


class ProberRunTests(unittest.TestCase):
    """A whole run in this process, over the sample mirrors, every one of
    them a real HTTP server on loopback carrying the archive."""

    def setUp(self):
        self.addCleanup(gc.set_threshold, *gc.get_threshold())
        gc.set_threshold(*OWN_THRESHOLDS)
        root = self.mktemp()
        archive = os.path.join(root, "archive")
        os.makedirs(archive)
        server = MirrorServer(root)
        self.addCleanup(server.stop)
        self.uri = "sqlite:" + self.mktemp() + ".db"
        store = open_store(self.uri)
        upgrade(store)
        names = [name for name, *_ in SAMPLE_MIRRORS]
        for name in names:
            os.symlink("archive", os.path.join(root, name))
        load_sample_data(store, base_urls={
            name: {"http": server.url + name + "/"} for name in names})
        store.commit()
        write_archive(archive, store)
        store.close()
        self.store = open_store(self.uri)
        register_utilities(self.store)
        self.addCleanup(self.store.close)
        # What each step of the run saw, and how many times it ran.
        self.seen = {}
        for name in ("probe_mirrors", "apply_run"):
            self.patch(job, name, self.watching(name, getattr(job, name)))

    def watching(self, name, function):
        def watched(*args, **kwargs):
            self.seen.setdefault(name, set()).add(gc.get_threshold())
            return function(*args, **kwargs)
        return watched

    def test_probes_collect_rarely_and_applying_does_not(self):
        """The probes run at PROBING_GC_THRESHOLDS; the run is applied,
        and ends, at the thresholds the process had."""
        options = ProberOptions(
            allowed_networks=("127.0.0.0/8",), notify_owners=False,
            timeout=5)
        run = ProberRun(reactor, self.store, options,
                        logging.getLogger("test-collector"),
                        database_uri=self.uri)

        def check(summary):
            self.assertTrue(summary.verdict.trusted, summary.verdict)
            self.assertGreater(summary.probed, 0)
            self.assertEqual(self.seen, {
                "probe_mirrors": {PROBING_GC_THRESHOLDS},
                "apply_run": {OWN_THRESHOLDS}})
            self.assertEqual(gc.get_threshold(), OWN_THRESHOLDS)
        return run.run().addCallback(check)

    def test_a_dry_run_probes_collecting_rarely(self):
        options = ProberOptions(
            allowed_networks=("127.0.0.0/8",), dry_run=True, timeout=5)
        run = ProberRun(reactor, self.store, options,
                        logging.getLogger("test-collector"),
                        database_uri=self.uri)

        def check(summary):
            self.assertGreater(summary.probed, 0)
            self.assertEqual(self.seen,
                             {"probe_mirrors": {PROBING_GC_THRESHOLDS}})
            self.assertEqual(gc.get_threshold(), OWN_THRESHOLDS)
        return run.run().addCallback(check)
