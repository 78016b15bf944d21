"""The daemon as its own process: `mirrorkeeper mirrorlist-server` and
`twistd -n mirrorlist-server` serve the snapshot, and the command reloads
it on SIGHUP."""

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request

import pytest

from mirrorkeeper.publish.snapshot import write_snapshot
from tests.mirrorlist_snapshots import mirror, snapshot

BIN = os.path.dirname(sys.executable)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def fetch(url, deadline=10.0):
    """(snapshot header, body) of `url`, waiting for the daemon to
    listen."""
    end = time.monotonic() + deadline
    while True:
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                return (response.headers["X-Mirrorlist-Snapshot"],
                        response.read().decode())
        except OSError:
            if time.monotonic() > end:
                raise
            time.sleep(0.05)


@pytest.fixture
def daemon(tmp_path):
    """Start a daemon command line with a snapshot; yields (process, base
    URL, snapshot path)."""
    processes = []

    def start(*command):
        path = str(tmp_path / "snapshot.json")
        write_snapshot(snapshot([mirror("de", "DE")], serial=1), path)
        port = free_port()
        process = subprocess.Popen(
            list(command) + [
                "--listen", "tcp:%d:interface=127.0.0.1" % port,
                "--snapshot", path, "--statistics", str(tmp_path / "stats"),
                "--reload-interval", "3600"],
            cwd=str(tmp_path), stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE)
        processes.append(process)
        return process, "http://127.0.0.1:%d" % port, path

    yield start
    for process in processes:
        if process.poll() is None:
            process.terminate()
            process.wait(10)


def test_command_serves_and_reloads_on_sighup(daemon):
    """`mirrorkeeper mirrorlist-server` answers with the snapshot, and after
    SIGHUP with the new one."""
    process, url, path = daemon(os.path.join(BIN, "mirrorkeeper"),
                                "mirrorlist-server")
    header, body = fetch(url + "/mirrors.txt")
    assert header.startswith("1 ")
    assert body == "http://de.example/ubuntu/\n"
    write_snapshot(snapshot([mirror("fr", "FR")], serial=2), path)
    process.send_signal(signal.SIGHUP)
    for _ in range(200):
        header, body = fetch(url + "/mirrors.txt")
        if header.startswith("2 "):
            break
        time.sleep(0.02)
    assert (header[:2], body) == ("2 ", "http://fr.example/ubuntu/\n")
    process.terminate()
    assert process.wait(10) == 0


def test_twistd_plugin(daemon):
    """`twistd -n mirrorlist-server` runs the same daemon."""
    process, url, _ = daemon(os.path.join(BIN, "twistd"), "--pidfile=",
                             "-n", "mirrorlist-server")
    header, body = fetch(url + "/mirrors.txt")
    assert header.startswith("1 ") and body == "http://de.example/ubuntu/\n"
