"""probe_mirrors: a mirror counts as in flight until its report is handed
on, so that reports never pile up behind a slow writer."""

import gc
from types import SimpleNamespace

from twisted.internet import defer
from twisted.internet.task import Clock
from twisted.logger import globalLogPublisher

from mirrorkeeper.enums import (
    MirrorContent, PackagePublishingPocket, ProbeOutcome)
from mirrorkeeper.prober.plan import ContentCheck, MirrorPlan
from mirrorkeeper.prober.run import probe_mirrors


class AbsentClient:
    """Answers 'not found' at once to every URL, and remembers each."""

    def __init__(self):
        self.asked = []
        self.forgotten = []

    def probe_then(self, url, callback, *args):
        self.asked.append(url)
        callback(SimpleNamespace(url=url, found=False,
                                 outcome=ProbeOutcome.NOT_FOUND, log=[]),
                 *args)

    def address_families(self, host):
        return None

    def forget(self, urls):
        self.forgotten.append(sorted(urls))


def plan(mirror_id, base=None, base_urls=None):
    base = base or "http://mirror-%d.example.org/ubuntu/" % (mirror_id,)
    check = ContentCheck("binary", (1, PackagePublishingPocket.RELEASE, 1),
                         "warty/i386 main", base + "dists/warty/Packages.gz",
                         {})
    return MirrorPlan(mirror_id, "mirror-%d" % (mirror_id,), base,
                      MirrorContent.ARCHIVE, True, (check,),
                      **({} if base_urls is None else {
                          "base_urls": base_urls}))


def asked_of(client, mirror_id):
    return [url for url in client.asked
            if "//mirror-%d." % (mirror_id,) in url]


def test_next_mirror_waits_for_the_report_to_be_handed_on():
    """With one mirror in flight, the second is not probed while the
    first one's report is still being written, and is once it is."""
    client = AbsentClient()
    writes = []

    def slow_writer(report):
        writes.append(defer.Deferred())
        return writes[-1].addCallback(lambda _: report.plan.mirror_id)

    done = probe_mirrors(client, [plan(1), plan(2)], Clock(),
                         mirrors_in_flight=1, on_report=slow_writer)
    assert asked_of(client, 1) and not asked_of(client, 2)
    assert len(writes) == 1
    writes[0].callback(None)
    assert asked_of(client, 2)
    writes[1].callback(None)
    results = []
    done.addCallback(results.append)
    assert results == [[1, 2]]


def test_a_failed_write_gives_the_place_back():
    """A report whose writing fails frees its place for the next mirror;
    the run's result fails with that failure (the caller's to log), and
    no failure is left over to be reported as unhandled."""
    client = AbsentClient()
    writes = []
    unhandled = []

    def failing_writer(report):
        writes.append(defer.Deferred())
        return writes[-1]

    def observe(event):
        if event.get("isError") or event.get("log_failure") is not None:
            unhandled.append(event)
    globalLogPublisher.addObserver(observe)
    try:
        done = probe_mirrors(client, [plan(1), plan(2), plan(3)], Clock(),
                             mirrors_in_flight=1, on_report=failing_writer)
        failures = []
        done.addErrback(failures.append)
        writes[0].errback(RuntimeError("disk full"))
        assert asked_of(client, 2)
        writes[1].errback(RuntimeError("disk still full"))
        assert asked_of(client, 3)
        writes[2].callback(3)
        assert len(failures) == 1
        failures[0].trap(defer.FirstError)
        assert str(failures[0].value.subFailure.value) == "disk full"
        writes.clear()
        del done, failures
        gc.collect()
    finally:
        globalLogPublisher.removeObserver(observe)
    assert unhandled == []


def test_the_room_tells_when_several_mirrors_may_start():
    """ProberRun's room of mirrors in flight fires `free(n)` once n tokens
    are free at once, only after the mirrors waiting for one took theirs,
    so a claim of the next groups waits for room for a few of them."""
    from mirrorkeeper.prober.job import _Room
    room = _Room(3)
    held = [room.acquire() for _ in range(3)]
    assert all(d.called for d in held)
    waiting = room.acquire()
    ready = []
    room.free(2).addCallback(ready.append)
    assert not waiting.called and not ready
    room.release()
    # The waiting mirror took the token: none is free.
    assert waiting.called and room.tokens == 0 and not ready
    room.release()
    assert room.tokens == 1 and not ready
    room.release()
    assert room.tokens == 2 and ready == [room]
    # Enough room already: at once.
    assert room.free(2).called
    assert not room.free(3).called


def test_a_site_is_forgotten_once_no_mirror_of_the_call_uses_it():
    """Once a mirror's report is made, the client is told to forget each
    of its sites that no mirror still to finish in the call is probed
    on: a site two mirrors share (however its URLs are spelt) is
    forgotten with the second, each site once."""
    client = AbsentClient()
    writes = []

    def slow_writer(report):
        writes.append(defer.Deferred())
        return writes[-1]

    shared = plan(1, "http://shared.example.org/ubuntu/", (
        ("http", "http://shared.example.org/ubuntu/"),
        ("ftp", "ftp://ftp.one.example.org/ubuntu/")))
    also = plan(2, "http://SHARED.example.org:80/debian/")
    alone = plan(3)
    probe_mirrors(client, [shared, also, alone], Clock(),
                  mirrors_in_flight=1, on_report=slow_writer)
    assert client.forgotten == [["ftp://ftp.one.example.org/ubuntu/"]]
    writes[0].callback(None)
    assert client.forgotten[1:] == [["http://SHARED.example.org:80/debian/"]]
    writes[1].callback(None)
    assert client.forgotten[2:] == [["http://mirror-3.example.org/ubuntu/"]]
