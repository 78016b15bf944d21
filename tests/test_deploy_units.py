"""deploy/systemd: a service and a timer per cronscript, a service per
daemon, each naming a program the package installs, and accepted by
`systemd-analyze verify` where it is installed."""

import os
import re
import shutil
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
UNITS = os.path.join(ROOT, "deploy", "systemd")
# Where the examples expect the virtualenv; the test points them at the
# interpreter's own bin/, which holds the console scripts.
PREFIX = "/opt/mirrorkeeper/bin/"
BIN = os.path.dirname(sys.executable)

CRONSCRIPTS = ["prober", "prober-cdimage", "prober-queued", "snapshot",
               "update-master-archive", "plant-timestamps"]
DAEMONS = ["web", "mirrorlist"]


def names():
    return sorted(os.listdir(UNITS))


def test_a_service_and_timer_per_cronscript_and_a_service_per_daemon():
    """Every cronscript has a service and a timer, every daemon a
    service; the prober's success starts the snapshot."""
    expected = ["mirrorkeeper-%s.%s" % (name, kind)
                for name in CRONSCRIPTS for kind in ("service", "timer")]
    expected += ["mirrorkeeper-%s.service" % name for name in DAEMONS]
    assert names() == sorted(expected)
    with open(os.path.join(UNITS, "mirrorkeeper-prober.service")) as f:
        assert "OnSuccess=mirrorkeeper-snapshot.service" in f.read()


def test_each_unit_runs_an_installed_program():
    """Each ExecStart names a console script of the package."""
    for name in names():
        with open(os.path.join(UNITS, name)) as f:
            for program in re.findall(r"^ExecStart=(\S+)", f.read(), re.M):
                assert program.startswith(PREFIX), name
                assert os.access(os.path.join(
                    BIN, program[len(PREFIX):]), os.X_OK), name


def verify(folder):
    return subprocess.run(
        ["systemd-analyze", "verify", "--man=no"] + sorted(
            os.path.join(folder, name) for name in os.listdir(folder)),
        capture_output=True, text=True, timeout=120)


@pytest.mark.skipif(shutil.which("systemd-analyze") is None,
                    reason="systemd-analyze is not installed (apt-get "
                    "install systemd)")
def test_systemd_analyze_verify(tmp_path):
    """systemd-analyze verify accepts every unit, the programs pointed at
    this interpreter's bin/; and it does refuse a unit whose program is
    missing, so that its silence means something."""
    for name in names():
        with open(os.path.join(UNITS, name)) as f:
            text = f.read().replace(PREFIX, BIN + "/")
        (tmp_path / name).write_text(text)
    result = verify(str(tmp_path))
    assert result.returncode == 0, result.stderr
    assert result.stderr.strip() == "", result.stderr
    broken = tmp_path / "mirrorkeeper-web.service"
    broken.write_text(broken.read_text().replace(
        BIN + "/mirrorkeeper web", BIN + "/no-such-program"))
    result = verify(str(tmp_path))
    assert result.returncode != 0 and "no-such-program" in result.stderr
