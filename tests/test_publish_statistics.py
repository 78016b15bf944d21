"""The mirror list daemon's request log and daily counts: the log rotated
by day or by size with N kept, shared by workers flushing at once, a
corrupt counts file kept aside rather than overwritten, and the daemon's
batches written outside the reactor's thread."""

import configparser
import json
import multiprocessing
import os
import threading
import time

import pytest
from twisted.internet import defer, reactor
from twisted.logger import globalLogPublisher
from twisted.trial import unittest

from mirrorkeeper.config import DEFAULTS
from mirrorkeeper.errors import ConfigurationError
from mirrorkeeper.publish.server import StatisticsFlusher
from mirrorkeeper.publish.statistics import (
    LogRotation, Statistics, read_statistics)

DAY = 86400
NOON = 1717243200  # 2024-06-01T12:00:00Z


class Clock:
    def __init__(self, now):
        self.now = now

    def __call__(self):
        return self.now


def logs(folder):
    """{name: lines} of requests.log and its rotated copies."""
    found = {}
    for name in sorted(os.listdir(folder)):
        if name.startswith("requests.log") and not name.endswith(".lock"):
            with open(os.path.join(folder, name)) as f:
                found[name] = f.read().splitlines()
    return found


def flush_at(statistics, clock, when, *countries):
    clock.now = when
    for country in countries:
        statistics.record(country, "apt/noble", 200, 1)
    # The log's modification time is the time of its last flush.
    statistics.flush()
    path = os.path.join(statistics.folder, "requests.log")
    os.utime(path, (when, when))


def test_daily_rotation_keeps_n(tmp_path):
    """The first flush of a new UTC day moves the log to requests.log.1,
    the older ones one place up, and only `keep` of them are kept."""
    clock = Clock(NOON)
    statistics = Statistics(str(tmp_path), clock, "p",
                            LogRotation("daily", keep=2))
    flush_at(statistics, clock, NOON, "DE")
    flush_at(statistics, clock, NOON + 3600, "FR")
    assert [line.split()[1] for line in logs(tmp_path)["requests.log"]] \
        == ["DE", "FR"]
    for day, country in ((1, "BR"), (2, "US"), (3, "JP")):
        flush_at(statistics, clock, NOON + day * DAY, country)
    found = logs(tmp_path)
    assert sorted(found) == ["requests.log", "requests.log.1",
                             "requests.log.2"]
    assert [line.split()[1] for line in found["requests.log"]] == ["JP"]
    assert [line.split()[1] for line in found["requests.log.1"]] == ["US"]
    assert [line.split()[1] for line in found["requests.log.2"]] == ["BR"]
    assert found["requests.log.1"][0].startswith("2024-06-03T")


def test_size_rotation(tmp_path):
    """With rotation by size, a flush that would take the log past
    max_bytes rotates it first; nothing is lost."""
    clock = Clock(NOON)
    statistics = Statistics(str(tmp_path), clock, "p",
                            LogRotation("size", max_bytes=100, keep=3))
    for n in range(6):
        flush_at(statistics, clock, NOON + n, "DE")  # 37 bytes a flush
    found = logs(tmp_path)
    assert sorted(found) == ["requests.log", "requests.log.1",
                             "requests.log.2"]
    assert all(os.path.getsize(tmp_path / name) <= 100 for name in found)
    assert sum(len(lines) for lines in found.values()) == 6
    # Same day, never rotated by day.
    flush_at(statistics, clock, NOON + DAY, "DE")
    assert len(logs(tmp_path)["requests.log"]) == 1


def _worker(folder, number):
    # The real clock: the log each worker appends to, once rotated, has
    # the real time as its modification time.
    statistics = Statistics(folder, time.time, "w%d" % number,
                            LogRotation("daily", keep=5))
    for _ in range(50):
        statistics.record("DE", "apt/noble", 200, 1)
    statistics.flush()


def test_workers_flushing_at_once_rotate_once(tmp_path):
    """Workers sharing the log rotate it once between them on a new day,
    and every line is in the new log."""
    folder = str(tmp_path)
    yesterday = time.time() - DAY
    clock = Clock(yesterday)
    flush_at(Statistics(folder, clock, "first"), clock, yesterday, "FR")
    context = multiprocessing.get_context("fork")
    workers = [context.Process(target=_worker, args=(folder, n))
               for n in range(4)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(30)
        assert worker.exitcode == 0
    found = logs(tmp_path)
    assert sorted(found) == ["requests.log", "requests.log.1"]
    assert len(found["requests.log.1"]) == 1
    assert len(found["requests.log"]) == 200


def test_corrupt_counts_file_is_kept_aside(tmp_path):
    """A day's counts file that is not counts is renamed with a .corrupt-
    suffix and an error logged, not overwritten; the day's counts start
    again beside it."""
    errors = []

    def observe(event):
        if event.get("log_level") is not None and \
                event["log_level"].name == "error":
            errors.append(event)
    globalLogPublisher.addObserver(observe)
    try:
        clock = Clock(NOON)
        statistics = Statistics(str(tmp_path), clock, "p")
        path = tmp_path / "2024-06-01.p.json"
        path.write_text('[{"country": "DE", "content": "apt/noble", '
                        '"requests": 7}')  # cut short
        statistics.record("FR", "apt/noble", 200, 1)
        statistics.flush()
    finally:
        globalLogPublisher.removeObserver(observe)
    aside = tmp_path / "2024-06-01.p.json.corrupt-20240601T120000Z"
    assert aside.read_text().endswith('"requests": 7}')
    assert json.loads(path.read_text()) == [
        {"country": "FR", "content": "apt/noble", "protocol": "",
         "requests": 1}]
    assert read_statistics(str(tmp_path), "2024-06-01") == {
        ("FR", "apt/noble", ""): 1}
    assert len(errors) == 1
    assert str(aside) in errors[0]["aside"]


def test_counts_by_protocol_and_of_the_format_before(tmp_path):
    """Each day's counts are by country, content and the protocols asked
    for ("" for none); a counts file of the format before protocols were
    counted is read, its rows as protocol None, and kept so when a flush
    adds to it."""
    statistics = Statistics(str(tmp_path), Clock(NOON), "p")
    path = tmp_path / "2024-06-01.p.json"
    path.write_text('[{"country": "DE", "content": "apt/noble", '
                    '"requests": 7}]')
    for protocols in [("https",), ("https",), ("https", "http"), None]:
        statistics.record("DE", "apt/noble", 200, 1, protocols)
    statistics.flush()
    expected = {("DE", "apt/noble", None): 7,
                ("DE", "apt/noble", "https"): 2,
                ("DE", "apt/noble", "https,http"): 1,
                ("DE", "apt/noble", ""): 1}
    assert read_statistics(str(tmp_path), "2024-06-01") == expected
    assert [row.get("protocol") for row in json.loads(path.read_text())] \
        == [None, "", "https", "https,http"]
    # Another process's file of the old format is added up too.
    (tmp_path / "2024-06-01.q.json").write_text(
        '[{"country": "DE", "content": "apt/noble", "requests": 3}]')
    expected[("DE", "apt/noble", None)] += 3
    assert read_statistics(str(tmp_path), "2024-06-01") == expected
    # A protocol that is not text is no counts.
    (tmp_path / "2024-06-01.r.json").write_text(
        '[{"country": "DE", "content": "apt/noble", "protocol": 4, '
        '"requests": 3}]')
    assert read_statistics(str(tmp_path), "2024-06-01") == expected


def test_rotation_settings_from_config():
    """[publication] request_log_rotation, _max_bytes and _keep, checked."""
    config = configparser.ConfigParser()
    config.read_dict(DEFAULTS)
    assert LogRotation.from_config(config) == LogRotation(
        "daily", 104857600, 14)
    config.set("publication", "request_log_rotation", "size")
    config.set("publication", "request_log_keep", "3")
    assert LogRotation.from_config(config).keep == 3
    config.set("publication", "request_log_rotation", "weekly")
    with pytest.raises(ConfigurationError):
        LogRotation.from_config(config)


class FlusherTests(unittest.TestCase):

    @defer.inlineCallbacks
    def test_batches_are_written_in_a_thread_in_order(self):
        """The daemon's flusher writes each batch it takes in a thread of
        the reactor's pool, in the order taken, and at stop what is left,
        once each."""
        folder = self.mktemp()
        statistics = Statistics(folder, Clock(NOON), "p",
                                rotation=LogRotation("none"))
        threads = []
        write = statistics.write

        def writing(taken):
            threads.append(threading.current_thread())
            write(taken)
        statistics.write = writing
        flusher = StatisticsFlusher(reactor, statistics)
        flusher.startService()
        for country in ("DE", "FR", "BR"):
            statistics.record(country, "apt/noble", 200, 1)
            flusher.flush()
        statistics.record("JP", "apt/noble", 200, 1)
        yield flusher.stopService()
        self.assertEqual([line.split()[1] for line in logs(folder)[
            "requests.log"]], ["DE", "FR", "BR", "JP"])
        self.assertEqual(
            [thread is threading.main_thread() for thread in threads],
            [False, False, False, True])
        self.assertEqual(read_statistics(folder, "2024-06-01"), {
            (country, "apt/noble", ""): 1
            for country in ("DE", "FR", "BR", "JP")})


def test_log_lines_kept_written_are_bounded(tmp_path, monkeypatch):
    """The log lines kept written by what they say are at most
    MAX_ENTRIES, emptied when full; every request is logged and counted
    all the same, across seconds and days, in order."""
    from mirrorkeeper.publish import statistics as module
    monkeypatch.setattr(module, "MAX_ENTRIES", 2)
    clock = Clock(NOON)
    statistics = Statistics(str(tmp_path), clock, "p")
    for country in ["DE", "FR", "DE", "JP", None]:
        statistics.record(country, "apt/noble", 200, 1)
        assert len(statistics._entries) <= 2
        clock.now += 1
    clock.now += 86400
    statistics.record("DE", "redirect/archive", 302, 2, ("https",))
    statistics.flush()
    with open(tmp_path / "requests.log") as f:
        lines = f.read().splitlines()
    assert [line.split(" ", 1)[1] for line in lines] == [
        "DE apt/noble 200 1", "FR apt/noble 200 1", "DE apt/noble 200 1",
        "JP apt/noble 200 1", "- apt/noble 200 1",
        "DE redirect/archive 302 2"]
    assert lines[0].startswith("2024-06-01T12:00:00Z ")
    assert lines[-1].startswith("2024-06-02T12:00:05Z ")
    assert read_statistics(str(tmp_path), "2024-06-01") == {
        ("DE", "apt/noble", ""): 2, ("FR", "apt/noble", ""): 1,
        ("JP", "apt/noble", ""): 1, ("-", "apt/noble", ""): 1}
    assert read_statistics(str(tmp_path), "2024-06-02") == {
        ("DE", "redirect/archive", "https"): 1}
