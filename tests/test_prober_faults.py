"""The prober cronscript when the network fails and mirrors lie, on both
backends: what it concludes, what it records and whom it mails.

The mirrors are the fake farm's, on loopback.  A route that disappears is
a private network namespace (``unshare -n``) whose loopback interface is
down: every connection fails with "network is unreachable", and nothing
leaves the namespace.  The prober reaches PostgreSQL there through its
Unix socket, SQLite through its file.
"""

import json
import random
import shutil
import signal
import subprocess
import sys
import time
from datetime import timedelta

import pytest

from mirrorkeeper.enums import (
    MirrorContent, MirrorFreshness, PackagePublishingPocket,
    ProbeRecordState)
from mirrorkeeper.mail.outbox import OutboxMessage
from mirrorkeeper.model.distributionmirror import DistributionMirrorSet
from mirrorkeeper.model.masterarchive import ArchiveScanStateSet
from mirrorkeeper.prober.plan import plan_archive_mirrors
from mirrorkeeper.timeutil import utcnow
from tests.farm.testing import PROBER, ROOT, ProberWorld
from tests.mirror_servers import write_archive

# Farm mirrors: name -> kind.
FARM = {
    "f-serve": "serve",
    "f-serve2": "serve",
    "f-liar": "anything",
    "f-forged": "https-self-signed",
    "f-plain": "serve",
}
# Registered mirrors: name -> {scheme: farm mirror}.
MIRRORS = {
    "m-serve": {"http": "f-serve"},
    "m-serve2": {"http": "f-serve2"},
    "m-liar": {"http": "f-liar"},
    # Its preferred URL (https) fails the TLS handshake; its http URL
    # serves everything.
    "m-dual": {"https": "f-forged", "http": "f-plain"},
}


class World(ProberWorld):
    """The sample Ubuntu, whose own mirrors are paused, plus MIRRORS on a
    farm serving the archive."""

    def __init__(self, uri, tmp_path, smtp_server):
        super().__init__(uri, tmp_path, smtp_server)
        store = self.store()
        ubuntu = self.load_sample(store)
        tree = str(tmp_path / "archive")
        write_archive(tree, store)
        ca_file = str(tmp_path / "farm-ca.pem")
        urls = self.start_farm(tree, FARM, ca_file)
        for name, farm_names in MIRRORS.items():
            self.add_mirror(store, ubuntu, name, **{
                scheme: urls[farm_name]
                for scheme, farm_name in farm_names.items()})
        store.commit()
        store.close()
        self.settings = dict(
            mail={"site_name": "Faults Mirrors",
                  "from_address": "Faults <faults@example.org>"},
            web={"base_url": "https://mirrors.example.org"},
            prober={"timeout": 1, "ca_file": ca_file})
        self.config = self.write_config("config", **self.settings)

    def state(self):
        """{mirror name: what the verdicts rest on}, as the database holds
        it."""
        store = self.store()
        state = {}
        for name in MIRRORS:
            mirror = DistributionMirrorSet(store)[name]
            state[name] = (
                mirror.enabled, mirror.failed_runs,
                sorted((r.distro_arch_series_id, r.pocket.name,
                        r.freshness.name) for r in mirror.arch_series),
                sorted((r.distro_series_id, r.pocket.name, r.freshness.name)
                       for r in mirror.source_series),
                mirror.http_answered, mirror.https_answered)
        store.close()
        return state

    def outbox(self):
        store = self.store()
        count = store.find(OutboxMessage).count()
        store.close()
        return count


@pytest.fixture
def world(database_uri, tmp_path, smtp_server):
    world = World(database_uri, tmp_path, smtp_server)
    yield world
    world.stop_farms()


def test_lying_and_tls_failing_mirrors(world):
    """A server that answers 200 for a file that cannot exist is taken to
    carry nothing and disabled, its owner told why in plain words; a
    mirror whose https fails the TLS handshake while its http serves
    everything is probed over http and stays enabled, with only its http
    URL offered."""
    prober = world.run()
    assert prober.returncode == 0, prober.stderr
    store = world.store()
    mirrors = DistributionMirrorSet(store)
    liar = mirrors["m-liar"]
    assert not liar.enabled
    assert liar.arch_series.is_empty() and liar.source_series.is_empty()
    log = liar.last_probe_record.log
    assert "a file that cannot exist: its answers prove nothing" in log
    dual = mirrors["m-dual"]
    assert dual.enabled and not dual.unreachable
    assert dual.getOverallFreshness() is MirrorFreshness.UP
    assert (dual.https_answered, dual.http_answered) == (False, True)
    assert "probing %s instead" % dual.http_base_url in \
        dual.last_probe_record.log
    findings = json.loads(dual.last_probe_record.findings)
    assert findings["protocols"] == {"https": "tls-error",
                                     "http": "not-found"}
    from mirrorkeeper.model.probefindings import read_findings
    assert read_findings(store, dual.last_probe_record.id)["base_url"] == \
        dual.http_base_url
    for name in ("m-serve", "m-serve2"):
        assert mirrors[name].getOverallFreshness() is MirrorFreshness.UP
    store.close()
    messages = world.smtp_server.wait_for(2, timeout=30)
    assert {m.message["X-Mirrorkeeper-Mirror"] for m in messages} == {
        "m-liar"}
    # Composed with the run's own configuration, not the default one.
    message = messages[0].message
    assert message["From"] == "Faults <faults@example.org>"
    assert message["Subject"].startswith("Faults Mirrors:")
    body = " ".join(message.get_body().get_content().split())
    assert "a file that cannot exist" in body
    assert "proves nothing" in body
    assert "https://mirrors.example.org/ubuntu/+mirror/m-liar" in body


def unshare_available():
    if shutil.which("unshare") is None:
        return False
    return subprocess.run(["unshare", "-n", "true"],
                          capture_output=True).returncode == 0


def test_no_route_to_any_mirror_changes_nothing(world, request):
    """With the route to every mirror gone (a network namespace whose
    loopback is down), the run is distrusted: every record, freshness and
    enabled state stays as it was, nobody is mailed, each probe record
    says why at the top of its log, and the run exits non-zero."""
    if not unshare_available():
        pytest.skip("unshare -n is not permitted here")
    assert world.run().returncode == 0
    world.smtp_server.wait_for(2, timeout=30)
    before, outbox = world.state(), world.outbox()
    uri = world.uri
    if uri.startswith("postgres:"):
        from tests.harness.postgres import shared_postgres_server
        uri += "?host=%s" % (shared_postgres_server().directory,)
    config = world.write_config("isolated", uri, **world.settings)
    prober = world.run(config=config, prefix=("unshare", "-n"))
    assert prober.returncode != 0
    assert "Changing nothing, disabling nobody, sending no mail: every " \
        "one of the 4 mirrors probed failed at the network level" in \
        prober.stderr
    assert world.state() == before
    assert world.outbox() == outbox
    store = world.store()
    for name in MIRRORS:
        record = DistributionMirrorSet(store)[name].last_probe_record
        assert record.state is ProbeRecordState.DISTRUSTED
        assert "This run was distrusted" in record.log.splitlines()[0]
        assert "unreachable" in record.log.lower() or \
            "could not be made" in record.log
    store.close()


def test_a_two_mirror_network_going_dark_disables_nobody(world):
    """When both mirrors of a small network stop answering at once, the
    run is distrusted whatever their number: nobody is disabled or mailed,
    and their records stay."""
    store = world.store()
    mirrors = DistributionMirrorSet(store)
    for name in ("m-liar", "m-dual"):
        mirrors[name].owner_paused = True
    store.commit()
    store.close()
    assert world.run().returncode == 0
    before, outbox = world.state(), world.outbox()
    world.stop_farms()
    prober = world.run()
    assert prober.returncode != 0
    assert "every one of the 2 mirrors probed failed at the network " \
        "level" in prober.stderr
    assert world.state() == before
    assert world.outbox() == outbox
    assert before["m-serve"][0] is True and before["m-serve"][2]
    # Both runs' counts are kept for /metrics, the dark one distrusted.
    from mirrorkeeper.model.mirrorcontent import ProberRunRecord
    store = world.store()
    runs = list(store.find(ProberRunRecord).order_by(ProberRunRecord.id))
    trusted, dark = runs[-2:]
    assert (trusted.trusted, trusted.probed, trusted.unreachable) == (
        True, 2, 0)
    assert trusted.requests > 0 and isinstance(trusted.failures, dict)
    assert (dark.trusted, dark.probed, dark.unreachable) == (False, 2, 2)
    assert sum(dark.failures.values()) > 0
    assert dark.duration_seconds >= 0
    store.close()


def test_only_what_the_master_has_is_asked_for(sample_store):
    """Once the master is scanned, the plans ask only for the suites it
    has, plus the places a mirror already has records of."""
    store = sample_store
    mirrors = DistributionMirrorSet(store)
    mirror = mirrors["valid-mirror"]
    ubuntu = mirror.distribution
    everything = plan_archive_mirrors(store, [mirror])[0].content_checks
    pockets = {check.place[1] for check in everything}
    assert len(pockets) > 1
    for series in ubuntu.series:
        ArchiveScanStateSet(store).save(ubuntu, "suite:" + series.name,
                                        "signature", utcnow())
    series = ubuntu.getSeries("warty")
    arch = series.official_architectures[0]
    mirror.ensureMirrorDistroArchSeries(
        arch, PackagePublishingPocket.UPDATES, series.components[0])
    store.flush()
    checks = plan_archive_mirrors(store, [mirror])[0].content_checks
    kept = {(check.kind, check.place) for check in checks
            if check.place[1] is not PackagePublishingPocket.RELEASE}
    assert kept == {("binary", (arch.id, PackagePublishingPocket.UPDATES,
                                series.components[0].id))}
    assert {check.control_url for check in checks
            if check.place[1] is PackagePublishingPocket.RELEASE} == {
        check.control_url for check in everything
        if check.place[1] is PackagePublishingPocket.RELEASE}


def test_a_run_killed_before_it_is_judged_changes_nothing(world):
    """A run killed while probing leaves its records pending; the next run
    marks them abandoned (nothing they found takes effect) and probes the
    mirrors again."""
    assert world.run().returncode == 0
    world.smtp_server.wait_for(2, timeout=30)
    before = world.state()
    store = world.store()
    from mirrorkeeper.model.mirrorcontent import ProberRunRecord
    run = ProberRunRecord(MirrorContent.ARCHIVE,
                          utcnow() - timedelta(minutes=5))
    store.add(run)
    store.flush()
    # What a killed run wrote: m-serve found carrying nothing.
    serve = DistributionMirrorSet(store)["m-serve"]
    record = serve.newProbeRecord("a probe killed before it was judged\n")
    record.state = ProbeRecordState.PENDING
    record.prober_run_id = run.id
    record.findings = json.dumps({
        "version": 1, "unreachable": False, "lies": "x", "base_url": "",
        "protocols": {}, "families": None, "requests": 1, "outcomes": {},
        "content": [], "cdimages": [], "expected_cdimages": [],
        "detectors": []})
    store.flush()
    record_id = record.id
    store.commit()
    store.close()
    prober = world.run()
    assert prober.returncode == 0, prober.stderr
    assert "1 probe records of a run that stopped before it was judged " \
        "were marked abandoned" in prober.stderr
    assert world.state()["m-serve"] == before["m-serve"]
    store = world.store()
    from mirrorkeeper.model.mirrorcontent import MirrorProbeRecord
    record = store.get(MirrorProbeRecord, record_id)
    assert record.state is ProbeRecordState.ABANDONED
    assert "stopped before it was judged" in record.log.splitlines()[0]
    store.close()


def test_killed_at_random_moments_the_verdicts_hold(world):
    """The prober killed with SIGKILL at random moments of its runs, then
    run to the end: every mirror ends as one whole run leaves it, and no
    message is ever delivered twice."""
    started = time.monotonic()
    prober = world.run()
    took = time.monotonic() - started
    assert prober.returncode == 0, prober.stderr
    clean = world.state()
    world.smtp_server.wait_for(2, timeout=30)
    # Start again from a world where nothing was probed yet.
    store = world.store()
    store.execute("DELETE FROM mail_outbox", noresult=True)
    store.execute("DELETE FROM mirror_probe_record", noresult=True)
    for name in MIRRORS:
        mirror = DistributionMirrorSet(store)[name]
        mirror.arch_series.remove()
        mirror.source_series.remove()
        mirror.enable()
        mirror.http_answered = mirror.https_answered = None
    store.commit()
    store.close()
    world.smtp_server.clear()
    rng = random.Random(20261201)
    kills = 0
    for _ in range(8):
        process = subprocess.Popen(
            [sys.executable, PROBER, "--config", world.config, "--force"],
            cwd=ROOT, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL)
        # Somewhere in what a whole run takes on this machine, so that
        # most of these runs are cut, however fast the machine is.
        time.sleep(rng.uniform(0.1, 0.9) * took)
        if process.poll() is None:
            process.send_signal(signal.SIGKILL)
            kills += 1
        process.wait(timeout=60)
    assert kills >= 4
    prober = world.run()
    assert prober.returncode == 0, prober.stderr
    assert world.state() == clean
    # Each of the two recipients was told about m-liar at most once (a
    # message whose delivery was cut at its very end waits, in doubt, for
    # a person), and nobody heard of the others.
    received = world.smtp_server.messages
    told = [(m.message["To"], m.message["X-Mirrorkeeper-Mirror"])
            for m in received]
    assert len(told) == len(set(told)), told
    assert {mirror for _, mirror in told} <= {"m-liar"}
    # Each was queued once, and is either received or still unsent; one
    # received and unsent both is in doubt: killed between the server's
    # copy and the commit that says so, it waits for a person.
    store = world.store()
    queued = [(m.as_message()["To"], m.as_message()["X-Mirrorkeeper-Mirror"],
               m.date_sent is not None, m.is_in_doubt)
              for m in store.find(OutboxMessage)]
    store.close()
    assert len(queued) == 2, queued
    for to, mirror, sent, in_doubt in queued:
        received = (to, mirror) in told
        assert sent == received or (received and in_doubt), queued
