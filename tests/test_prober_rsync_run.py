"""The prober cronscript over mirrors served by a real rsync daemon on
loopback: a mirror whose HTTP URL cannot be used is probed over rsync,
last in the fallback order, and judged UP, behind or disabled as any
other."""

import os
from datetime import timedelta

import pytest

from mirrorkeeper.demo import closed_port
from mirrorkeeper.enums import (
    MirrorFreshness, PackagePublishingPocket, SourcePackageFileType)
from mirrorkeeper.model.distributionmirror import DistributionMirrorSet
from mirrorkeeper.model.masterarchive import TraceFileTimestampSet
from mirrorkeeper.prober.detectors import TRACE_PATH
from mirrorkeeper.model.publishing import PublishingSet
from mirrorkeeper.timeutil import utcnow
from tests.farm.testing import ProberWorld, prober_world  # noqa: F401
from tests.harness.smtp import SMTPServer
from tests.mirror_servers import write_archive
from tests.rsync_daemon import RsyncDaemon

HOUR = timedelta(hours=1)
# Mirror name -> what the tree its rsync module serves leaves out.
TREES = {"r-full": None, "r-behind": ["hello_1.1-1"], "r-empty": ["/"]}
# A mirror that offers rsync only, of the full tree.
RSYNC_ONLY = "r-only"


@pytest.fixture(scope="module")
def rsync_world(module_databases, tmp_path_factory):
    """The run both tests of it only read, made once per backend: its own
    SMTP server, so that no other test's clear() takes its mail."""
    tmp_path = tmp_path_factory.mktemp("rsync-run")
    with SMTPServer() as smtp_server:
        world = ProberWorld(module_databases(), tmp_path, smtp_server)
        daemon = _set_up(world, tmp_path)
        try:
            yield world.run(), world
        finally:
            daemon.stop()


def _set_up(world, tmp_path):
    """The mirrors of TREES and RSYNC_ONLY on a real rsync daemon, which
    is returned, started."""
    store = world.store()
    ubuntu = world.load_sample(store)
    warty = ubuntu.getSeries("warty")
    now = utcnow()
    for version, age in [("1.0-1", timedelta(hours=30)),
                         ("1.1-1", timedelta(hours=3))]:
        PublishingSet(store).publishSource(
            warty, warty.components[0], PackagePublishingPocket.RELEASE,
            "hello", version, [("hello_%s.dsc" % version,
                                SourcePackageFileType.DSC)], now - age)
    modules = {}
    for name, leave_out in dict(TREES, **{RSYNC_ONLY: None}).items():
        root = str(tmp_path / name)
        os.makedirs(root)
        if leave_out != ["/"]:
            write_archive(root, store, leave_out=leave_out or ())
        modules[name] = root
    daemon = RsyncDaemon(tmp_path / "rsyncd", modules).start()
    refusing = closed_port()
    for name in TREES:
        world.add_mirror(
            store, ubuntu, name,
            http="http://127.0.0.1:%d/%s/" % (refusing, name),
            rsync=daemon.url(name))
    world.add_mirror(store, ubuntu, RSYNC_ONLY, rsync=daemon.url(RSYNC_ONLY))
    store.commit()
    store.close()
    world.config = world.write_config(prober={"timeout": 5})
    return daemon


@pytest.fixture
def rsync_run(rsync_world):
    """The prober's run, the mirrors on a store of the test's own, and the
    SMTP server it mailed."""
    prober, world = rsync_world
    store = world.store()
    yield prober, DistributionMirrorSet(store), world.smtp_server
    store.rollback()
    store.close()


def test_rsync_mirrors_judged(rsync_run):
    """Over rsync the full tree is UP, the one lacking the newest upload
    is behind, the empty one is disabled and its owner told."""
    prober, mirrors, smtp_server = rsync_run
    assert prober.returncode == 0, prober.stderr
    full, behind, empty = (mirrors[name] for name in TREES)
    for mirror in (full, behind, empty):
        log = mirror.last_probe_record.log
        assert "cannot be used (Connection refused): probing rsync://" \
            in log, log[:3000]
        assert "rsync --list-only rsync://127.0.0.1:" in log
    assert full.enabled and not full.unreachable
    assert full.getOverallFreshness() is MirrorFreshness.UP
    # Its rsync URL answered and its http URL did not: the lists offer
    # the one that works.
    assert (full.http_answered, full.rsync_answered) == (False, True)
    state = full.getState()
    assert set(state.published_urls) == {"rsync"}
    assert full.arch_series.count() == len(full.guessPackagesPaths())
    assert behind.enabled
    assert behind.getOverallFreshness() is MirrorFreshness.SIXHOURSBEHIND
    assert not empty.enabled
    assert empty.arch_series.is_empty()
    messages = smtp_server.wait_for(2, timeout=30)
    assert {m.message["Subject"].split()[-4] for m in messages} == {
        "r-empty"}


def test_trace_freshness_over_rsync(prober_world, tmp_path):
    """With the trace detector on, the mirror's trace file is copied over
    rsync and judged against the master's trace history."""
    world = prober_world
    now = utcnow().replace(microsecond=0)
    store = world.store()
    ubuntu = world.load_sample(store)
    traces = TraceFileTimestampSet(store)
    for age in (10, 3):
        traces.record(ubuntu, TRACE_PATH, now - age * HOUR, now - age * HOUR)
    root = str(tmp_path / "traced")
    write_archive(root, store)
    os.makedirs(os.path.join(root, "project", "trace"))
    with open(os.path.join(root, TRACE_PATH), "w") as f:
        f.write((now - 10 * HOUR).strftime("%a %b %d %H:%M:%S UTC %Y\n"))
    daemon = RsyncDaemon(tmp_path / "rsyncd", {"traced": root}).start()
    try:
        world.add_mirror(store, ubuntu, "r-traced",
                         http="http://127.0.0.1:%d/" % closed_port(),
                         rsync=daemon.url("traced"))
        store.commit()
        store.close()
        world.config = world.write_config(
            prober={"timeout": 5},
            freshness={"default": "publishing, trace"})
        prober = world.run()
    finally:
        daemon.stop()
    assert prober.returncode == 0, prober.stderr
    store = world.store()
    mirror = DistributionMirrorSet(store)["r-traced"]
    checks = {(c.detector, c.label): c for c in mirror.freshness_checks}
    trace = checks[("trace", TRACE_PATH)]
    # Its trace is of the master's sync of 10 hours ago, seven hours
    # older than the master's newest.
    assert trace.freshness is MirrorFreshness.ONEDAYBEHIND
    assert abs(trace.lag_seconds - 7 * 3600) < 120
    assert "trace detector: %s says" % (TRACE_PATH,) in \
        mirror.last_probe_record.log
    store.close()


def test_a_mirror_offering_only_rsync_is_probed_and_listed(rsync_run):
    """A mirror registered with an rsync URL only is probed with the rsync
    client, found UP, and in the snapshot with that URL alone: the lists
    offer it to a client that asks for rsync, and to no other."""
    import ipaddress
    import random

    from mirrorkeeper.publish.selection import (
        Client, Request, index_snapshot, select)
    from mirrorkeeper.publish.snapshot import build_snapshot
    prober, mirrors, _ = rsync_run
    assert prober.returncode == 0, prober.stderr
    mirror = mirrors[RSYNC_ONLY]
    log = mirror.last_probe_record.log
    assert "rsync --list-only rsync://127.0.0.1:" in log
    assert "cannot be used" not in log
    assert mirror.enabled and mirror.rsync_answered
    assert mirror.getOverallFreshness() is MirrorFreshness.UP
    assert mirror.arch_series.count() == len(mirror.guessPackagesPaths())
    snapshot = build_snapshot(mirrors.store, mirror.distribution)
    listed = {each["name"]: each["urls"] for each in snapshot["mirrors"]}
    assert listed[RSYNC_ONLY] == {"rsync": mirror.rsync_base_url}
    index = index_snapshot(snapshot, MirrorFreshness.ONEDAYBEHIND)
    who = Client(ipaddress.ip_address("192.0.2.1"), None, None)

    def chosen(protocols):
        request = Request(("archive", "warty"), protocols=protocols)
        return {choice.mirror.name: choice.url for choice in select(
            index, who, request, random.Random(0), 5)}
    assert RSYNC_ONLY not in chosen(("https", "http"))
    assert chosen(("rsync",))[RSYNC_ONLY] == mirror.rsync_base_url
