"""Snapshot serials only grow: numbered past a corrupt or lost file from the
serial the database recorded (both backends), and refused by the daemon
when lower than the one it serves; a snapshot of the wrong shape is a clear
error, not a traceback."""

import json
import os

from twisted.internet import defer
from twisted.logger import globalLogPublisher
from twisted.trial import unittest

import pytest
from zope.component import getUtility

from mirrorkeeper.interfaces.distribution import IDistributionSet
from mirrorkeeper.publish.snapshot import (
    SnapshotError, check_shape, next_serial, read_snapshot, record_serial,
    recorded_serial, write_snapshot)
from mirrorkeeper.scripts.mirrorlist import SnapshotScript
from tests.mirrorlist_daemon import DaemonTestMixin, header
from tests.mirrorlist_snapshots import mirror, snapshot


def test_next_serial_past_a_corrupt_file(tmp_path):
    """A readable file's serial counts; a corrupt one's name or the recorded
    serial does, whichever is larger."""
    path = str(tmp_path / "mirrorlist.json")
    write_snapshot(snapshot([], serial=3), path)
    assert next_serial(path) == 4
    assert next_serial(path, recorded=9) == 10
    assert next_serial(path, recorded=2) == 4
    with open(path, "w") as f:
        f.write("{half")
    assert next_serial(path) == 1
    assert next_serial(path, recorded=13) == 14
    named = str(tmp_path / "mirrorlist-13.json")
    with open(named, "w") as f:
        f.write("{half")
    assert next_serial(named) == 14
    assert next_serial(named, recorded=20) == 21
    # A serial that is not a number is no serial.
    with open(path, "w") as f:
        json.dump({"format": 1, "serial": "12"}, f)
    assert next_serial(path, recorded=4) == 5


def test_serial_recorded_in_the_database(sample_store):
    """record_serial() keeps one row per distribution, the last serial."""
    ubuntu = getUtility(IDistributionSet)["ubuntu"]
    assert recorded_serial(sample_store, ubuntu) is None
    record_serial(sample_store, ubuntu, 4)
    record_serial(sample_store, ubuntu, 5)
    sample_store.commit()
    assert recorded_serial(sample_store, ubuntu) == 5
    (count,) = sample_store.execute(
        "SELECT COUNT(*) FROM mirrorlist_snapshot_serial").get_one()
    assert count == 1


def test_cronscript_numbers_past_a_corrupt_or_lost_file(
        sample_store, database_uri, tmp_path):
    """After serial 2 the file is corrupted, then lost: the next snapshots are
    3 and 4, not 1."""
    path = str(tmp_path / "mirrorlist.json")
    script = ["--database", database_uri, "--output", path, "-q",
              "--lock-file", str(tmp_path / "lock")]
    assert SnapshotScript().run(script) == 0
    assert SnapshotScript().run(script) == 0
    assert read_snapshot(path)["serial"] == 2
    with open(path, "w") as f:
        f.write("{not json")
    assert SnapshotScript().run(script) == 0
    assert read_snapshot(path)["serial"] == 3
    os.unlink(path)
    assert SnapshotScript().run(script) == 0
    assert read_snapshot(path)["serial"] == 4
    # The script's run registered its own store's utilities.
    sample_store.rollback()
    assert list(sample_store.execute(
        "SELECT d.name, s.serial FROM mirrorlist_snapshot_serial s "
        "JOIN distribution d ON d.id = s.distribution")) == [("ubuntu", 4)]


def good():
    # A copy: snapshot() shares the module's places and repositories.
    return json.loads(json.dumps(snapshot([mirror("de", "DE")])))


@pytest.mark.parametrize("breakage, message", [
    (lambda s: s.pop("mirrors"), "no 'mirrors'"),
    (lambda s: s.update(serial="7"), "'serial' is not a int"),
    (lambda s: s.update(places=[["noble", "amd64"]]), "place 0"),
    (lambda s: s["mirrors"][0].pop("urls"), "mirror 0 (de) has no dict"),
    (lambda s: s["repositories"][0].pop("path"), "repository 0"),
    (lambda s: s.update(copies={}), "'copies' is not a list"),
    (lambda s: s.update(copies=[{"dir": "dists/noble", "hashes": [],
                                 "versions": [["a" * 64, [0]]]}]),
     "copy 0 is not"),
    (lambda s: s["mirrors"][0].update(copies={"0": 0}),
     "mirror 0 (de) has 'copies'"),
    (lambda s: s.update(copies=[{"dir": "d", "hashes": [],
                                 "versions": [["a", []]]}]) or
     s["mirrors"][0].update(copies={"0": "1"}),
     "mirror 0 (de) has 'copies'"),
])
def test_wrong_shapes_are_named(breakage, message):
    """check_shape() names what is missing or of the wrong type."""
    check_shape(good(), "s.json")
    broken = good()
    breakage(broken)
    with pytest.raises(SnapshotError) as raised:
        check_shape(broken, "s.json")
    assert message in str(raised.value)
    assert "s.json is malformed" in str(raised.value)


class SerialDaemonTests(DaemonTestMixin, unittest.TestCase):
    timeout = 10

    def setUp(self):
        self.events = []
        globalLogPublisher.addObserver(self.events.append)
        self.addCleanup(globalLogPublisher.removeObserver,
                        self.events.append)
        return self.start_daemon(snapshot([mirror("de", "DE")], serial=5))

    def errors(self):
        return [event for event in self.events
                if event.get("log_level") is not None
                and event["log_level"].name in ("error", "critical")]

    @defer.inlineCallbacks
    def test_lower_serial_is_refused(self):
        """A snapshot numbered below the one in use is refused with a logged
        error; a higher one is taken."""
        self.replace_snapshot(snapshot([mirror("fr", "FR")], serial=1))
        reloaded = yield self.service.source.check()
        self.assertFalse(reloaded)
        self.assertEqual(self.service.source.current.serial, 5)
        self.assertEqual(self.service.source.reload_errors, 1)
        (event,) = self.errors()
        self.assertEqual(event["log_level"].name, "error")
        self.assertEqual((event["serial"], event["current"]), (1, 5))
        self.assertNotIn("log_failure", event)
        response, body = yield self.get("/mirrors/DE.txt")
        self.assertEqual(header(response, b"x-mirrorlist-snapshot")[:2],
                         b"5 ")
        self.assertIn(b"de.example", body)
        # The same serial again (a file rewritten) and a higher one pass.
        self.replace_snapshot(snapshot([mirror("de", "DE")], serial=5))
        self.assertTrue((yield self.service.source.check()))
        self.replace_snapshot(snapshot([mirror("fr", "FR")], serial=6))
        self.assertTrue((yield self.service.source.check()))
        self.assertEqual(self.service.source.current.serial, 6)

    @defer.inlineCallbacks
    def test_wrong_shape_is_a_clear_error(self):
        """A snapshot of the right format but the wrong shape is logged as an
        error naming the problem, without a traceback, and the old one
        serves."""
        broken = snapshot([mirror("fr", "FR")], serial=6)
        del broken["mirrors"][0]["country"]
        self.replace_snapshot(broken)
        self.assertFalse((yield self.service.source.check()))
        # A record pointing at a place that is not there.
        broken = snapshot([mirror("fr", "FR", places=[99])], serial=7)
        self.replace_snapshot(broken)
        self.assertFalse((yield self.service.source.check()))
        self.assertEqual(self.flushLoggedErrors(), [])
        first, second = self.errors()
        for event in (first, second):
            self.assertEqual(event["log_level"].name, "error")
            self.assertNotIn("log_failure", event)
            self.assertIn("is malformed", event["error"])
        self.assertIn("mirror 0 (fr) has no str 'country'", first["error"])
        self.assertIn("IndexError", second["error"])
        self.assertEqual(self.service.source.current.serial, 5)
        self.assertEqual(self.service.source.reload_errors, 2)
