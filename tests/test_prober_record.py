"""The prober's report writer: each mirror's findings written off the
reactor, in a thread with a store of its own."""

import json
import logging
import os

from twisted.internet import reactor
from twisted.trial import unittest

from mirrorkeeper.database.migrate import upgrade
from mirrorkeeper.database.store import open_store
from mirrorkeeper.enums import ProbeRecordState
from mirrorkeeper.model.distributionmirror import DistributionMirrorSet
from mirrorkeeper.prober.plan import MirrorPlan
from mirrorkeeper.prober.record import ReportWriter
from mirrorkeeper.prober.run import MirrorReport
from mirrorkeeper.sampledata import load_sample_data


def report_for(mirror, log):
    plan = MirrorPlan(mirror.id, mirror.name, mirror.base_url,
                      mirror.content, mirror.enabled)
    return MirrorReport(plan, (), (), (), log, 1, {}, (True, False))


class ReportWriterTests(unittest.TestCase):

    def setUp(self):
        self.path = os.path.join(self.mktemp() + ".db")
        self.uri = "sqlite:" + self.path
        store = open_store(self.uri)
        upgrade(store)
        load_sample_data(store)
        store.commit()
        self.mirror_id = DistributionMirrorSet(store)["valid-mirror"].id
        self.report = report_for(
            DistributionMirrorSet(store)["valid-mirror"],
            "".join("line %d\n" % n for n in range(80)))
        store.close()
        self.logger = logging.getLogger("test-report-writer")

    def test_report_is_committed(self):
        """A report is committed as a pending probe record with its whole
        log and what it found, and the record's id is handed back."""
        writer = ReportWriter(reactor, self.uri, self.logger)
        writer.start()
        d = writer.record(self.report)

        def check(record_id):
            store = open_store(self.uri)
            mirror = DistributionMirrorSet(store)["valid-mirror"]
            self.assertEqual(mirror.id, self.mirror_id)
            record = mirror.last_probe_record
            self.assertIsNotNone(record_id)
            self.assertEqual(record.id, record_id)
            self.assertEqual(record.log, self.report.log)
            self.assertIs(record.state, ProbeRecordState.PENDING)
            self.assertEqual(json.loads(record.findings)["families"],
                             [True, False])
            # Nothing it found has taken effect yet.
            self.assertIsNone(mirror.has_ipv4)
            store.close()
        d.addCallback(check)
        d.addBoth(lambda result: writer.stop().addCallback(
            lambda _: result))
        return d

    def test_a_failed_write_is_logged_and_left_to_the_next_run(self):
        """When the database cannot take the findings (here it has no
        schema), no record id is handed back and the error is logged."""
        messages = []
        handler = logging.Handler()
        handler.emit = lambda record: messages.append(record.getMessage())
        self.logger.addHandler(handler)
        self.addCleanup(self.logger.removeHandler, handler)
        writer = ReportWriter(reactor, "sqlite:" + self.mktemp() + ".db",
                              self.logger)
        writer.start()
        d = writer.record(self.report)

        def check(record_id):
            self.assertIsNone(record_id)
            self.assertEqual(len(messages), 1)
            self.assertIn("Could not record the probe of valid-mirror",
                          messages[0])
        d.addCallback(check)
        d.addBoth(lambda result: writer.stop().addCallback(
            lambda _: result))
        return d
