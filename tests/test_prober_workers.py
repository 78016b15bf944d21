"""A prober run shared by several processes (mirrorkeeper.prober.claims):
`--workers N` on one machine, `--join` from others, with the real
cronscript over farm mirrors on loopback.  Each mirror is recorded once,
a worker killed with SIGKILL has its mirrors probed by the others once its
lease ends, and the run is judged once, by the process that started it:
one verdict, one mail per disabled mirror."""

import os
import signal
import subprocess
import sys
import time

import pytest

from mirrorkeeper.enums import ProbeRecordState
from mirrorkeeper.model.distributionmirror import DistributionMirrorSet
from mirrorkeeper.model.mirrorcontent import (
    MirrorProbeRecord, ProberRunRecord)
from mirrorkeeper.prober.claims import host_groups
from tests.farm.testing import PROBER, ROOT, ProberWorld
from tests.mirror_servers import write_archive

# Farm mirrors, each on a port of its own: slow enough that a run lasts
# long enough to kill a worker in it.  A serving mirror answers about 43
# requests, one at a time (max_parallel_per_host), DELAY seconds late
# each: a worker holds its claim on it for 2 s at least, ample for
# wait_for_claims (which polls every 0.1 s) to see it and kill the holder;
# and the run's first process, alone for the second or so its helpers
# take to start, has one slot of the three, so cannot finish before they
# claim (about 17 s of serving alone).  0.1 s doubled the run for nothing
# more.
SERVING = ["w-serve-%d" % n for n in range(8)]
MISSING = ["w-missing-%d" % n for n in range(2)]
DELAY = 0.05
# A lease no pause of a loaded machine outlasts: renewed every 10 s, it
# lapses only if a worker stops for 20 s, so a run nobody kills has each
# group claimed once.  The kill test's is short, for a dead worker's
# groups to be taken again soon.
LEASE = 30
SHORT_LEASE = 3


class World(ProberWorld):
    """The sample Ubuntu, its own mirrors paused, and ten mirrors on a
    farm: eight serving the archive slowly, two serving nothing."""

    def __init__(self, uri, tmp_path, smtp_server, lease):
        super().__init__(uri, tmp_path, smtp_server)
        store = self.store()
        ubuntu = self.load_sample(store)
        tree = str(tmp_path / "archive")
        write_archive(tree, store)
        farm = {name: "slow:%s" % DELAY for name in SERVING}
        farm.update((name, "notfound") for name in MISSING)
        urls = self.start_farm(tree, farm)
        for name, url in urls.items():
            self.add_mirror(store, ubuntu, name, http=url)
        store.commit()
        store.close()
        self.config = self.write_config(
            "config", mail={"site_name": "Workers Mirrors",
                            "from_address": "Workers <w@example.org>"},
            prober={"timeout": 5, "claim_lease_seconds": lease,
                    "max_parallel": 3, "max_parallel_per_host": 1})

    def start(self, *args):
        """The cronscript, started with `args` and --force."""
        return subprocess.Popen(
            [sys.executable, PROBER, "--config", self.config, "--force"]
            + list(args), cwd=ROOT, stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)

    def run_of_this_test(self):
        store = self.store()
        runs = list(store.find(ProberRunRecord))
        assert len(runs) == 1
        run = runs[0]
        judged = (run.id, run.trusted, run.date_judged is not None)
        records = {}
        for record in store.find(MirrorProbeRecord, prober_run_id=run.id):
            records.setdefault(record.distribution_mirror.name, []).append(
                record.state)
        claims = dict(store.execute(
            "SELECT host, claims FROM prober_claim WHERE prober_run = ?",
            (run.id,)))
        workers = set(worker for (worker,) in store.execute(
            "SELECT DISTINCT worker FROM prober_claim WHERE prober_run = ?",
            (run.id,)))
        mirrors = DistributionMirrorSet(store)
        enabled = {name: mirrors[name].enabled for name in records}
        store.close()
        return judged, records, claims, workers, enabled

    def wait_for_claims(self, besides=None, deadline=120):
        """The pids of the workers holding claims not done, once there are
        some held by a process other than `besides`."""
        ends = time.monotonic() + deadline
        while time.monotonic() < ends:
            store = self.store()
            try:
                held = list(store.execute(
                    "SELECT worker, host FROM prober_claim WHERE worker IS "
                    "NOT NULL AND date_done IS NULL"))
            except Exception:
                held = []
            store.rollback()
            store.close()
            pids = {int(worker.rsplit(":", 1)[1]) for worker, _ in held}
            if pids - {besides}:
                return pids
            time.sleep(0.1)
        raise AssertionError("no claim was taken")


@pytest.fixture
def world(database_uri, tmp_path, smtp_server):
    world = World(database_uri, tmp_path, smtp_server, LEASE)
    yield world
    world.stop_farms()


@pytest.fixture
def short_leases(database_uri, tmp_path, smtp_server):
    world = World(database_uri, tmp_path, smtp_server, SHORT_LEASE)
    yield world
    world.stop_farms()


def assert_told_once(world):
    """Each mirror serving nothing was told of once, to each recipient."""
    sent = [(str(message.rcpt_to), message.subject)
            for message in world.smtp_server.messages
            if "has been disabled" in message.subject]
    assert len(sent) == len(set(sent)), sent
    assert {name for name in MISSING for _, subject in sent
            if " %s has been disabled" % name in subject} == set(MISSING), \
        sent


def assert_recorded_once(records):
    """Each mirror has one applied record of the run; any other was
    abandoned (its worker died before it finished its host)."""
    assert sorted(records) == sorted(SERVING + MISSING)
    for name, states in records.items():
        assert states.count(ProbeRecordState.APPLIED) == 1, (name, states)
        assert set(states) <= {ProbeRecordState.APPLIED,
                               ProbeRecordState.ABANDONED}, (name, states)


def test_three_workers_probe_each_mirror_once(world):
    """With --workers 3, three processes share the run: every host group
    is claimed once, each mirror recorded once, and the run judged once,
    its two mirrors serving nothing disabled and told once each."""
    prober = world.start("--workers", "3")
    out, err = prober.communicate(timeout=300)
    assert prober.returncode == 0, err
    assert "Started 2 helpers" in err
    (run_id, trusted, judged), records, claims, workers, enabled = \
        world.run_of_this_test()
    assert trusted is True and judged
    assert_recorded_once(records)
    assert set(records[name][0] for name in records) == {
        ProbeRecordState.APPLIED}
    assert set(claims.values()) == {1}
    assert len(workers) > 1
    assert [name for name, on in sorted(enabled.items()) if not on] == \
        MISSING
    assert_told_once(world)
    assert err.count("Disabled w-missing-0") == 1


def test_a_worker_killed_mid_run_has_its_mirrors_finished(short_leases):
    """A helper killed with SIGKILL while it holds claims loses them when
    its lease ends; the others probe those mirrors again, and the run is
    still judged once, on every mirror, with one mail per disabled
    mirror."""
    world = short_leases
    prober = world.start("--workers", "3")
    helpers = sorted(world.wait_for_claims(besides=prober.pid) -
                     {prober.pid})
    os.kill(helpers[0], signal.SIGKILL)
    out, err = prober.communicate(timeout=300)
    assert prober.returncode == 0, err
    assert "ended with status -9" in err
    (run_id, trusted, judged), records, claims, workers, enabled = \
        world.run_of_this_test()
    assert trusted is True and judged
    assert_recorded_once(records)
    assert max(claims.values()) >= 2  # The killed worker's, reclaimed.
    assert [name for name, on in sorted(enabled.items()) if not on] == \
        MISSING
    assert_told_once(world)


def test_probers_on_other_machines_join_the_run(world, database_uri):
    """Probers started with --join help with the run another started and
    never judge it: it is judged once, by the one that started it."""
    prober = world.start("--workers", "1")
    world.wait_for_claims()
    joiners = [world.start("--join") for _ in range(2)]
    out, err = prober.communicate(timeout=300)
    assert prober.returncode == 0, err
    for joiner in joiners:
        joined_out, joined_err = joiner.communicate(timeout=300)
        assert joiner.returncode == 0, joined_err
        assert "Disabled" not in joined_err
        assert "Joining prober run" in joined_err or \
            "No run to join" in joined_err
    (run_id, trusted, judged), records, claims, workers, enabled = \
        world.run_of_this_test()
    assert trusted is True and judged
    assert_recorded_once(records)
    assert_told_once(world)


def test_mirrors_sharing_a_host_are_one_group():
    """Mirrors sharing a host and port, through any of their URLs, are
    one group, probed by one worker; the groups keep the mirrors'
    order."""
    groups = host_groups([
        (1, ["http://a.example/ubuntu/"]),
        (2, ["https://b.example/", "http://c.example/"]),
        (3, ["http://a.example/debian/"]),
        (4, ["http://c.example/x/", "ftp://d.example/"]),
        (5, ["http://a.example:8080/"]),
    ])
    assert groups == [("a.example:80", [1, 3]),
                      ("b.example:443", [2, 4]),
                      ("a.example:8080", [5])]
