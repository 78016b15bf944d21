"""The prober cronscript against the fake mirror farm: one mirror of each
behaviour a real mirror shows, and what the run makes of each one."""

import os
import subprocess
import sys

import pytest

from mirrorkeeper.database.store import open_store
from mirrorkeeper.enums import (
    MirrorContent, MirrorFreshness, MirrorPulseType, MirrorSpeed,
    MirrorStatus)
from mirrorkeeper.model import register_utilities
from mirrorkeeper.model.country import CountrySet
from mirrorkeeper.model.distributionmirror import DistributionMirrorSet
from mirrorkeeper.sampledata import load_sample_data
from tests.mirror_servers import write_archive

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PROBER = os.path.join(ROOT, "cronscripts", "distributionmirror-prober.py")

# Farm kind -> (URL scheme, enabled after the run, what its log must say).
BEHAVIOURS = {
    "serve": ("http", True, "HTTP/1.1 200"),
    "redirect:m-serve": ("http", True, "302"),
    "notfound": ("http", False, "HTTP/1.1 404"),
    "error500": ("http", False, "HTTP/1.1 500"),
    "hang": ("http", False, "No complete answer before the timeout."),
    "refuse": ("http", False, "The connection was refused."),
    "loop": ("http", False, "lead back to a URL already visited"),
    "otherfile": ("http", False, "pointed to a different file name"),
    "gopher": ("http", False, "a URL scheme the prober does not speak"),
    "https": ("https", True, "HTTP/1.1 200"),
    "https-self-signed": ("https", False, "certificate verification failed"),
    "ftp": ("ftp", True, "213"),
}


def mirror_name(kind):
    return "m-" + kind.split(":")[0]


@pytest.fixture
def farm_world(database_uri, tmp_path, smtp_server):
    smtp_server.clear()
    store = open_store(database_uri)
    register_utilities(store)
    ubuntu = load_sample_data(store)
    # The sample mirrors point at example hosts; keep them out of the run.
    for mirror in ubuntu.mirrors:
        mirror.owner_paused = True
    tree = str(tmp_path / "archive")
    write_archive(tree, store)
    store.commit()
    ca_file = str(tmp_path / "farm-ca.pem")
    farm = subprocess.Popen(
        [sys.executable, "-m", "tests.farm", "--root", tree, "--ca-file",
         ca_file] + ["%s=%s" % (mirror_name(kind), kind)
                     for kind in BEHAVIOURS],
        cwd=ROOT, stdout=subprocess.PIPE, stdin=subprocess.DEVNULL,
        text=True, env=dict(os.environ, PYTHONPATH=os.path.join(ROOT, "lib")))
    urls = {}
    for line in farm.stdout:
        if line.strip() == "ready":
            break
        name, url = line.split()
        urls[name] = url
    assert len(urls) == len(BEHAVIOURS), "the farm did not start"
    owner = ubuntu.owner
    for kind, (scheme, _, _) in BEHAVIOURS.items():
        url = urls[mirror_name(kind)]
        if kind == "refuse":
            url = url.replace("https:", "http:")
        mirror = ubuntu.newMirror(
            owner, mirror_name(kind), MirrorSpeed.S1G, CountrySet(store)["DE"],
            MirrorContent.ARCHIVE, MirrorPulseType.PULL, enabled=True,
            official_candidate=True, **{"%s_base_url" % scheme: url})
        mirror.status = MirrorStatus.OFFICIAL
    store.commit()
    store.close()
    config = str(tmp_path / "mirrorkeeper.conf")
    with open(config, "w") as f:
        f.write("[database]\nuri = %s\n[mail]\nsmtp_host = %s\n"
                "smtp_port = %d\n[prober]\nallowed_networks = 127.0.0.0/8 ::1/128\n"
                "timeout = 0.5\nca_file = %s\nlock_file = %s\n" % (
                    database_uri, smtp_server.host, smtp_server.port,
                    ca_file, tmp_path / "prober.lock"))
    prober = subprocess.run(
        [sys.executable, PROBER, "--config", config], cwd=ROOT,
        capture_output=True, text=True, timeout=300)
    farm.terminate()
    farm.wait(timeout=30)
    store = open_store(database_uri)
    register_utilities(store)
    yield prober, DistributionMirrorSet(store), smtp_server
    store.close()


def test_each_behaviour(farm_world):
    """Mirrors that serve the archive (directly, through a valid redirect,
    over HTTPS or FTP) stay enabled and fresh; every other behaviour leaves
    the mirror disabled with its cause in the probe log and a message to
    its owner, and a host that keeps timing out is skipped."""
    prober, mirrors, smtp_server = farm_world
    assert prober.returncode == 0, prober.stderr
    assert "Probed %d mirrors." % len(BEHAVIOURS) in prober.stderr
    disabled = []
    for kind, (_, enabled, evidence) in BEHAVIOURS.items():
        mirror = mirrors[mirror_name(kind)]
        log = mirror.last_probe_record.log
        assert evidence.lower() in log.lower(), (kind, log[:2000])
        assert mirror.enabled is enabled, (kind, log[:2000])
        if enabled:
            assert mirror.arch_series.count() == len(
                mirror.guessPackagesPaths()), kind
            assert mirror.getOverallFreshness() is MirrorFreshness.UP, kind
        else:
            assert mirror.arch_series.is_empty(), kind
            assert mirror.source_series.is_empty(), kind
            disabled.append(mirror.name)
    # The owner (Mark Shuttleworth) is also a mirror admin: one message to
    # him and one to the other admin, for each disabled mirror.
    messages = smtp_server.wait_for(2 * len(disabled), timeout=30)
    subjects = {m.message["Subject"].split()[-4] for m in messages}
    assert subjects == set(disabled)
    # After enough timeouts the hanging mirror's host is skipped for the
    # rest of the run, and the run says so.
    assert "Skipped http://127.0.0.1:" in prober.stderr
    assert "skipped" in mirrors[mirror_name("hang")].last_probe_record.log

