"""`mirrorkeeper mirrorlist-server --workers N`: several processes on one
port (SO_REUSEPORT), each reloading the snapshot, restarted when one
dies, stopped with their parent; and the endpoint strings they share."""

import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from datetime import datetime, timedelta, timezone

import pytest
from prometheus_client.parser import text_string_to_metric_families

from mirrorkeeper.publish.snapshot import write_snapshot
from mirrorkeeper.publish.statistics import read_statistics
from mirrorkeeper.publish.workers import (
    endpoint_with_port, parse_tcp, worker_count)
from tests.mirrorlist_snapshots import mirror, snapshot

MIRRORKEEPER = os.path.join(os.path.dirname(sys.executable), "mirrorkeeper")
IN_USE = re.compile(r"Snapshot (\d+) \(.*?\) in use in process (\d+)")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def fetch(url):
    """(snapshot serial, body) of `url` on a new connection."""
    with urllib.request.urlopen(url, timeout=5) as response:
        return (response.headers["X-Mirrorlist-Snapshot"].split()[0],
                response.read().decode())


def alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    with open("/proc/%d/stat" % pid) as f:
        return f.read().split(") ")[1][0] != "Z"


class Daemon:
    """A daemon command line with --workers (None: not given), and
    `config` the text of its configuration file (or None), its stderr in
    a file."""

    def __init__(self, folder, workers=2, reload_interval=3600,
                 config=None):
        self.folder = folder
        self.snapshot = str(folder / "snapshot.json")
        self.statistics = str(folder / "stats")
        write_snapshot(snapshot([mirror("de", "DE")], serial=1),
                       self.snapshot)
        self.port = free_port()
        self.url = "http://127.0.0.1:%d/mirrors.txt" % self.port
        self.log = open(str(folder / "daemon.log"), "w+")
        argv = [MIRRORKEEPER, "mirrorlist-server"]
        if config is not None:
            (folder / "mirrorkeeper.conf").write_text(config)
            argv += ["--config", str(folder / "mirrorkeeper.conf")]
        if workers is not None:
            argv += ["--workers", str(workers)]
        self.process = subprocess.Popen(
            argv + ["--listen", "tcp:%d:interface=127.0.0.1" % self.port,
             "--snapshot", self.snapshot, "--statistics", self.statistics,
             "--reload-interval", str(reload_interval)],
            cwd=str(folder), stdout=subprocess.DEVNULL, stderr=self.log)

    def in_use(self):
        """{process id: serial} of the latest snapshot each process
        logged as in use."""
        with open(self.log.name) as f:
            return {int(pid): int(serial)
                    for serial, pid in IN_USE.findall(f.read())}

    def wait_for(self, condition, deadline=20.0):
        end = time.monotonic() + deadline
        while not condition():
            assert self.process.poll() is None, open(self.log.name).read()
            assert time.monotonic() < end, open(self.log.name).read()
            time.sleep(0.05)

    def serving(self, processes, serial):
        """Wait until `processes` processes have logged `serial` in use;
        their ids."""
        self.wait_for(lambda: sum(
            1 for s in self.in_use().values() if s == serial) >= processes)
        return {pid for pid, s in self.in_use().items() if s == serial}

    def stop(self):
        if self.process.poll() is None:
            self.process.terminate()
            self.process.wait(20)
        self.log.close()


@pytest.fixture
def daemons(tmp_path):
    started = []

    def start(**options):
        daemon = Daemon(tmp_path, **options)
        started.append(daemon)
        return daemon
    yield start
    for daemon in started:
        pids = list(daemon.in_use()) if not daemon.log.closed else []
        daemon.stop()
        for pid in pids:
            if alive(pid):
                os.kill(pid, signal.SIGKILL)


def test_workers_share_the_port_and_all_reload_on_sighup(daemons):
    """Two processes answer on one port, SIGHUP to the first makes both take
    the new snapshot, every answer after it comes from it, and their request
    counts add up."""
    daemon = daemons(workers=2)
    pids = daemon.serving(2, 1)
    assert daemon.process.pid in pids
    asked = 0
    for _ in range(20):
        assert fetch(daemon.url) == ("1", "http://de.example/ubuntu/\n")
        asked += 1
    write_snapshot(snapshot([mirror("fr", "FR")], serial=2), daemon.snapshot)
    daemon.process.send_signal(signal.SIGHUP)
    assert daemon.serving(2, 2) == pids
    for _ in range(40):
        assert fetch(daemon.url) == ("2", "http://fr.example/ubuntu/\n")
        asked += 1
    daemon.process.terminate()
    assert daemon.process.wait(20) == 0
    now = datetime.now(timezone.utc)
    days = {moment.strftime("%Y-%m-%d")
            for moment in (now - timedelta(minutes=5), now)}
    counted = sum(sum(read_statistics(daemon.statistics, day).values())
                  for day in days)
    assert counted == asked
    assert len([name for name in os.listdir(daemon.statistics)
                if name.endswith(".json")]) >= 2


def test_the_configuration_file_sets_the_workers(daemons):
    """[publication] workers in the configuration file starts that many
    processes on the port, without --workers."""
    daemon = daemons(workers=None, config="[publication]\nworkers = 2\n")
    pids = daemon.serving(2, 1)
    assert daemon.process.pid in pids
    assert fetch(daemon.url) == ("1", "http://de.example/ubuntu/\n")


def _service(tmp_path, config, *argv):
    """The daemon's service for the configuration text `config` and the
    command line `argv`, not started."""
    from twisted.internet import reactor

    from mirrorkeeper.publish.server import Options, makeService
    path = tmp_path / "workers.conf"
    path.write_text(config)
    options = Options()
    options.parseOptions(["--config", str(path), "--statistics",
                          str(tmp_path / "stats"), "--listen",
                          "tcp:0:interface=127.0.0.1"] + list(argv))
    return makeService(options, reactor)


def test_the_command_line_wins_over_the_configuration_file(tmp_path):
    """--workers replaces [publication] workers; without either there is
    one process; 0 is one per core; a negative count in the file is an
    error naming the file and the key."""
    from mirrorkeeper.errors import ConfigurationError
    three = "[publication]\nworkers = 3\n"
    assert _service(tmp_path, three).pool.count == 3
    assert _service(tmp_path, three, "--workers", "2").pool.count == 2
    assert _service(tmp_path, three, "--workers", "1").pool is None
    assert _service(tmp_path, "").pool is None
    cores = os.cpu_count() or 1
    zero = _service(tmp_path, "[publication]\nworkers = 0\n").pool
    assert (zero.count if zero else 1) == cores
    with pytest.raises(ConfigurationError) as raised:
        _service(tmp_path, "[publication]\nworkers = -1\n")
    assert "workers.conf" in str(raised.value)
    assert "workers" in str(raised.value)


def test_each_worker_answers_metrics_under_its_own_number(daemons):
    """/metrics is answered by whichever worker the kernel picks, each with its
    own worker label and the snapshot serial it serves."""
    daemon = daemons(workers=2)
    daemon.serving(2, 1)
    url = daemon.url.replace("/mirrors.txt", "/metrics")
    seen = {}
    for _ in range(200):
        _, text = fetch(url)
        for family in text_string_to_metric_families(text):
            for sample in family.samples:
                if sample.name == "mirrorkeeper_mirrorlist_snapshot_serial":
                    seen[sample.labels["worker"]] = sample.value
        if len(seen) == 2:
            break
    assert seen == {"0": 1, "1": 1}


def test_every_worker_notices_a_new_snapshot_file(daemons):
    """Without a signal, each worker finds the new snapshot file on its own."""
    daemon = daemons(workers=2, reload_interval=0.2)
    pids = daemon.serving(2, 1)
    write_snapshot(snapshot([mirror("fr", "FR")], serial=2), daemon.snapshot)
    assert daemon.serving(2, 2) == pids


def test_a_worker_that_dies_is_started_again(daemons):
    """A worker killed outright is replaced by a new process serving the
    snapshot."""
    daemon = daemons(workers=2)
    pids = daemon.serving(2, 1)
    child = (pids - {daemon.process.pid}).pop()
    os.kill(child, signal.SIGKILL)
    daemon.wait_for(lambda: len(set(daemon.in_use()) - pids) == 1)
    assert fetch(daemon.url)[0] == "1"


def test_workers_stop_when_their_parent_is_killed(daemons):
    """Killing the first process outright leaves no worker behind."""
    daemon = daemons(workers=3)
    pids = daemon.serving(3, 1)
    daemon.process.kill()
    daemon.process.wait(10)
    end = time.monotonic() + 20
    while any(alive(pid) for pid in pids) and time.monotonic() < end:
        time.sleep(0.05)
    assert not any(alive(pid) for pid in pids)


def test_endpoint_strings():
    """A tcp or tcp6 endpoint is read into family, interface, port and backlog,
    written back with another port, and anything else refused."""
    assert parse_tcp("tcp:8080:interface=127.0.0.1") == (
        socket.AF_INET, "127.0.0.1", 8080, 50)
    assert parse_tcp("tcp6:port=0:interface=\\:\\:1:backlog=9") == (
        socket.AF_INET6, "::1", 0, 9)
    assert parse_tcp(endpoint_with_port(
        "tcp6:0:interface=\\:\\:1:backlog=9", 4242)) == (
        socket.AF_INET6, "::1", 4242, 9)
    with pytest.raises(ValueError):
        parse_tcp("unix:/run/mirrorlist.sock")
    assert worker_count("3") == 3
    assert worker_count("0") == (os.cpu_count() or 1)
