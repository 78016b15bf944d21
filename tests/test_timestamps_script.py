"""cronscripts/plant-timestamps.py, run as cron runs it, planting into a
local directory and a real SFTP server on loopback, on both database
backends."""

import os
import subprocess
import sys
from datetime import timedelta

import pytest

from mirrorkeeper.database.store import open_store
from mirrorkeeper.errors import ConfigurationError
from mirrorkeeper.model.distribution import DistributionSet
from mirrorkeeper.model.timestamps import PlantedTimestampSet
from mirrorkeeper.scripts.timestamps import parse_targets
from mirrorkeeper.timestampfile import timestamp_file_body, parse_timestamp
from mirrorkeeper.timeutil import utcnow
from tests.harness.sftp import SFTPServer

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PLANTER = os.path.join(ROOT, "cronscripts", "plant-timestamps.py")


@pytest.fixture(scope="module")
def sftp_server():
    server = SFTPServer().start()
    yield server
    server.stop()


class Planter:
    """A configuration for the cronscript and a way to run it."""

    def __init__(self, uri, tmp_path, sftp_server):
        self.uri = uri
        self.tmp_path = tmp_path
        self.server = sftp_server
        self.local = tmp_path / "master"
        self.local.mkdir()
        # A directory of its own on the server, per test and backend.
        self.remote_name = tmp_path.name
        self.remote = os.path.join(sftp_server.root, self.remote_name)
        os.mkdir(self.remote)

    def configure(self, targets, **settings):
        settings = dict({
            "targets": "".join("\n    %s %s" % pair for pair in targets),
            "private_key": self.server.client_key,
            "known_hosts": self.server.known_hosts,
            "file_name": "stamp", "timeout": "10",
            "lock_file": str(self.tmp_path / "plant.lock")}, **settings)
        self.config = str(self.tmp_path / "mirrorkeeper.conf")
        with open(self.config, "w") as f:
            f.write("[database]\nuri = %s\n[timestamps]\n" % (self.uri,))
            for key, value in settings.items():
                f.write("%s = %s\n" % (key, value))

    def sftp_spec(self, path=None):
        return self.server.url("/" + (path or self.remote_name))

    def run(self, *args):
        return subprocess.run(
            [sys.executable, PLANTER, "--config", self.config] + list(args),
            capture_output=True, text=True, timeout=60, cwd=ROOT)

    def history(self):
        store = open_store(self.uri)
        try:
            ubuntu = DistributionSet(store)["ubuntu"]
            return [(p.target, p.date_stamp, p.date_planted) for p in
                    PlantedTimestampSet(store).getHistory(ubuntu)]
        finally:
            store.close()


@pytest.fixture
def planter(sample_store, database_uri, tmp_path, sftp_server):
    return Planter(database_uri, tmp_path, sftp_server)


def test_plants_into_every_target(planter):
    """One run plants the same time into the local and the SFTP target and
    records both plantings."""
    local = "local:%s" % (planter.local,)
    planter.configure([("ubuntu", local), ("ubuntu", planter.sftp_spec())])
    before = utcnow().replace(microsecond=0)
    process = planter.run()
    assert process.returncode == 0, process.stderr
    after = utcnow()
    local_copy = (planter.local / "stamp").read_bytes()
    with open(os.path.join(planter.remote, "stamp"), "rb") as f:
        remote_copy = f.read()
    assert local_copy == remote_copy
    stamp = parse_timestamp(local_copy)
    assert before <= stamp <= after
    assert local_copy == timestamp_file_body(stamp)
    history = planter.history()
    assert sorted(target for target, _, _ in history) == sorted(
        [local, planter.sftp_spec()])
    for _, date_stamp, date_planted in history:
        assert date_stamp == stamp
        assert stamp <= date_planted <= after
    assert "Planted into ubuntu %s." % (local,) in process.stderr
    assert os.listdir(planter.local) == ["stamp"]
    assert os.listdir(planter.remote) == ["stamp"]


def test_failed_target_fails_run(planter):
    """A target that cannot be planted is reported and makes the run exit
    1, while the others are planted and recorded."""
    local = "local:%s" % (planter.local,)
    broken = planter.sftp_spec(planter.remote_name + "/gone")
    planter.configure([("ubuntu", broken), ("ubuntu", local)])
    process = planter.run()
    assert process.returncode == 1, process.stderr
    assert "ERROR   ubuntu %s: cannot create" % (broken,) in process.stderr
    assert "1 of 2 target(s) failed" in process.stderr
    assert [target for target, _, _ in planter.history()] == [local]
    assert os.listdir(planter.local) == ["stamp"]
    assert os.listdir(planter.remote) == []


def test_wrong_host_key_fails_run(planter):
    """A server whose host key known_hosts does not have is refused and
    nothing is written to it or recorded."""
    planter.configure([("ubuntu", planter.sftp_spec())],
                      known_hosts=planter.server.wrong_known_hosts)
    process = planter.run()
    assert process.returncode == 1
    assert "is not the one the known_hosts file" in process.stderr
    assert planter.history() == []
    assert os.listdir(planter.remote) == []


def test_prunes_old_history(planter):
    """Plantings older than keep_history_days are deleted by the next
    run."""
    store = open_store(planter.uri)
    ubuntu = DistributionSet(store)["ubuntu"]
    old = utcnow() - timedelta(days=3)
    PlantedTimestampSet(store).record(ubuntu, "local:/old", old, old)
    store.commit()
    store.close()
    planter.configure([("ubuntu", "local:%s" % (planter.local,))],
                      keep_history_days="2")
    process = planter.run()
    assert process.returncode == 0, process.stderr
    assert "Pruned 1 planted timestamp(s) older than 2 days" in \
        process.stderr
    assert [target for target, _, _ in planter.history()] == [
        "local:%s" % (planter.local,)]


def test_configuration_errors_plant_nothing(planter):
    """A target naming no distribution is an error before anything is
    planted."""
    planter.configure([("ubuntu", "local:%s" % (planter.local,)),
                       ("nosuch", "local:%s" % (planter.local,))])
    process = planter.run()
    assert process.returncode == 1
    assert "plant-timestamps: error: [timestamps] targets names 'nosuch'" \
        in process.stderr
    assert os.listdir(planter.local) == []
    assert planter.history() == []


def test_nothing_configured(planter):
    """Without targets the run says so and succeeds."""
    planter.configure([])
    process = planter.run()
    assert process.returncode == 0, process.stderr
    assert "No timestamp targets are configured" in process.stderr


def test_parse_targets():
    """[timestamps] targets holds a distribution and a target a line."""
    assert parse_targets("\n ubuntu local:/srv/u\n\n debian sftp://m@h/d\n"
                         ) == [("ubuntu", "local:/srv/u"),
                               ("debian", "sftp://m@h/d")]
    with pytest.raises(ConfigurationError, match="is not a distribution"):
        parse_targets("ubuntu\n")


def test_json_summary(planter):
    """--json prints what was planted where as one JSON object on stdout."""
    import json
    local = "local:%s" % (planter.local,)
    planter.configure([("ubuntu", local)])
    process = planter.run("--json")
    assert process.returncode == 0, process.stderr
    (line,) = process.stdout.splitlines()
    summary = json.loads(line)
    assert summary["planted"] == ["ubuntu %s" % (local,)]
    assert summary["failed"] == [] and summary["targets"] == 1
