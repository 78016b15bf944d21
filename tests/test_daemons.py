"""daemons/*.tac: the web site and the mirror list daemon under twistd, as
a site that deploys with twistd runs them."""

import os
import re
import select
import signal
import subprocess
import sys
import time
import urllib.request

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BIN = os.path.dirname(sys.executable)


def run(*args, env):
    result = subprocess.run(list(args), cwd=ROOT, env=env,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    return result


def start_twistd(tac, env, pattern):
    """Start `twistd -n -y tac`; (process, what `pattern` found in its
    log)."""
    process = subprocess.Popen(
        [os.path.join(BIN, "twistd"), "-n", "--pidfile=", "-y", tac],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
        bufsize=0)
    deadline, seen = time.monotonic() + 60, b""
    while time.monotonic() < deadline:
        ready, _, _ = select.select([process.stdout], [], [], 0.5)
        if ready:
            line = process.stdout.readline()
            if not line:
                break
            seen += line
            match = re.search(pattern, line)
            if match:
                return process, match.group(1).decode("ascii")
    process.kill()
    raise AssertionError("twistd did not start: %s" % seen.decode())


def stop(process):
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()


@pytest.fixture
def environment(tmp_path):
    config = tmp_path / "mirrorkeeper.conf"
    config.write_text(
        "[database]\nuri = sqlite:%s\n[web]\nlisten = tcp:0:interface="
        "127.0.0.1\nsecret_file = %s\n[publication]\nsnapshot_path = %s\n"
        "listen = tcp:0:interface=127.0.0.1\nlock_file = %s\n" % (
            tmp_path / "db.sqlite", tmp_path / "secret",
            tmp_path / "snapshot.json", tmp_path / "snapshot.lock"))
    env = dict(os.environ, MIRRORKEEPER_CONFIG=str(config),
               PYTHONPATH=os.path.join(ROOT, "lib"))
    env.pop("MIRRORKEEPER_DATABASE", None)
    mirrorkeeper = [sys.executable, "-m", "mirrorkeeper.scripts.cli"]
    run(*mirrorkeeper, "db", "upgrade", env=env)
    run(*mirrorkeeper, "sample-data", env=env)
    return env


def test_web_tac(environment):
    """twistd -y daemons/web.tac serves the site from the configured
    database."""
    process, url = start_twistd("daemons/web.tac", environment,
                                rb"serving on (http://[\d.]+:\d+/)")
    try:
        with urllib.request.urlopen(url + "api/1/distributions",
                                    timeout=20) as response:
            assert response.status == 200
            assert b'"ubuntu"' in response.read()
    finally:
        stop(process)


def test_mirrorlist_tac(environment):
    """twistd -y daemons/mirrorlist.tac serves the configured snapshot."""
    run(sys.executable, "cronscripts/generate-mirrorlist-snapshot.py",
        env=environment)
    process, port = start_twistd("daemons/mirrorlist.tac", environment,
                                 rb"HTTPFactory starting on (\d+)")
    try:
        with urllib.request.urlopen(
                "http://127.0.0.1:%s/mirrors.txt" % (port,),
                                    timeout=20) as response:
            assert response.status == 200
            assert response.headers["X-Mirrorlist-Snapshot"]
    finally:
        stop(process)
