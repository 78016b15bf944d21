"""A hostile mirror's redirects to the cloud metadata address are refused
before any connection, in every spelling of that address, while loopback
is allowed; proved in a private network namespace that carries the
address and counts connections to it (see netns_forbidden_redirects)."""

import json
import os
import shutil
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
IPV6 = ["2002:a9fe:a9fe::", "64:ff9b::a9fe:a9fe", "64:ff9b:1::a9fe:a9fe",
        "2001:0:4136:e378:8000:63bf:5601:5601"]


def _namespace_problem():
    """Why a private network namespace cannot be made here, or None."""
    if shutil.which("unshare") is None or shutil.which("ip") is None:
        return "unshare(1) or ip(8) is not installed"
    try:
        done = subprocess.run(["unshare", "-n", "ip", "link", "set", "lo",
                               "up"], capture_output=True, text=True,
                              timeout=30)
    except OSError as error:
        return "unshare -n cannot run: %s" % (error,)
    if done.returncode != 0:
        return "unshare -n is not permitted here: %s" % (
            done.stderr.strip() or done.returncode,)
    return None


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    problem = _namespace_problem()
    if problem is not None:
        pytest.skip("needs a private network namespace to prove that "
                    "nothing connects to 169.254.169.254: " + problem)
    root = str(tmp_path_factory.mktemp("netns"))
    setup = ["ip link set lo up",
             "ip addr add 169.254.169.254/32 dev lo"] + [
        "ip -6 addr add %s/128 dev lo nodad" % (address,) for address in IPV6]
    script = (" && ".join(setup)
              + ' && exec "$0" -m tests.netns_forbidden_redirects "$1"')
    env = dict(os.environ,
               PYTHONPATH=os.path.join(ROOT, "lib") + os.pathsep + ROOT)
    done = subprocess.run(
        ["unshare", "-n", "sh", "-c", script, sys.executable, root],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_honest_loopback_mirror_is_probed(report):
    """Loopback is allowed: the honest mirror beside the hostile ones is
    FOUND."""
    assert report["honest"] == "FOUND"


def test_every_redirect_to_the_metadata_address_is_forbidden(report):
    """Each redirect, in every spelling of 169.254.169.254 (IPv4, numeric,
    IPv4-mapped, 6to4, NAT64, Teredo, a name resolving to loopback and to
    it), for HEAD and GET, is FORBIDDEN_ADDRESS after one request to the
    hostile mirror, and its message names the setting that would allow
    it."""
    assert len(report["refused"]) == 2 * 10
    for result in report["refused"]:
        where = "%(target)s (%(method)s)" % result
        assert result["outcome"] == "FORBIDDEN_ADDRESS", (where, result["log"])
        assert len(result["redirects"]) == 1, where
        # The hostile mirror's own count, HEAD first, then GET.
        assert result["mirror_requests"] == (
            1 if result["method"] == "probe" else 2), where
        assert any("Refusing" in line for line in result["log"]), where
        assert "[prober] allowed_networks" in result["message"], where


def test_nothing_connected_to_the_metadata_address(report):
    """No connection reached any of the addresses, though each was up and
    answering: the control run, allowed to go there, reached every one."""
    assert set(report["listeners_before_control"].values()) == {0}
    assert set(report["control"].values()) == {"FOUND"}, report["control"]
    assert all(count > 0 for count in
               report["listeners_after_control"].values()), report
