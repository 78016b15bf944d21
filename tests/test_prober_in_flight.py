"""probe_mirrors: a mirror counts as in flight until its report is handed
on, so that reports never pile up behind a slow writer."""

from types import SimpleNamespace

from twisted.internet import defer
from twisted.internet.task import Clock

from mirrorkeeper.enums import (
    MirrorContent, PackagePublishingPocket, ProbeOutcome)
from mirrorkeeper.prober.plan import ContentCheck, MirrorPlan
from mirrorkeeper.prober.run import probe_mirrors


class AbsentClient:
    """Answers 'not found' at once to every URL, and remembers each."""

    def __init__(self):
        self.asked = []

    def probe_then(self, url, callback, *args):
        self.asked.append(url)
        callback(SimpleNamespace(url=url, found=False,
                                 outcome=ProbeOutcome.NOT_FOUND, log=[]),
                 *args)

    def address_families(self, host):
        return None


def plan(mirror_id):
    base = "http://mirror-%d.example.org/ubuntu/" % (mirror_id,)
    check = ContentCheck("binary", (1, PackagePublishingPocket.RELEASE, 1),
                         "warty/i386 main", base + "dists/warty/Packages.gz",
                         {})
    return MirrorPlan(mirror_id, "mirror-%d" % (mirror_id,), base,
                      MirrorContent.ARCHIVE, True, (check,))


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
    """A report whose writing fails frees its place for the next mirror
    (the failure is the caller's to log)."""
    client = AbsentClient()
    writes = []

    def failing_writer(report):
        writes.append(defer.Deferred())
        return writes[-1]

    done = probe_mirrors(client, [plan(1), plan(2)], Clock(),
                         mirrors_in_flight=1, on_report=failing_writer)
    done.addErrback(lambda failure: None)
    writes[0].errback(RuntimeError("disk full"))
    assert asked_of(client, 2)
