"""cronscripts/update-master-archive.py and `mirrorkeeper archive scan`,
run as cron and admins run them, on both backends."""

import fcntl
import os
import subprocess
import sys

import pytest

from mirrorkeeper.database.store import open_store
from mirrorkeeper.model.distribution import DistributionSet
from mirrorkeeper.model.person import PersonSet
from mirrorkeeper.scripts.cli import main as cli_main
from tests.archive_builder import DebianArchive

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SCRIPT = os.path.join(ROOT, "cronscripts", "update-master-archive.py")


@pytest.fixture
def world(database_uri, tmp_path):
    """A registered distribution and a master archive with one package."""
    store = open_store(database_uri)
    people = PersonSet(store)
    owner = people.new("owner", "Owner", "owner@example.com")
    DistributionSet(store).new("testix", "Testix", "Testix Linux", owner,
                               owner)
    store.commit()
    store.close()
    archive = DebianArchive(tmp_path / "master")
    archive.add_binary("noble", "hello", "1.0-1")
    archive.publish("noble", version="24.04")
    return archive


def run_script(database_uri, archive, tmp_path, *extra):
    return subprocess.run(
        [sys.executable, SCRIPT, "--database", database_uri, "--root",
         archive.root, "--lock-file", str(tmp_path / "scan.lock")]
        + list(extra), capture_output=True, text=True, cwd=str(tmp_path))


def test_cronscript_scans_then_finds_nothing_changed(database_uri, world,
                                                     tmp_path):
    """The cronscript publishes what the master has, exits 0, and a second
    run finds every suite unchanged."""
    first = run_script(database_uri, world, tmp_path)
    assert first.returncode == 0, first.stderr
    assert "INFO    Suites: 1 scanned (noble), 0 unchanged." in first.stderr
    assert "INFO    Publications: 1 published, 0 superseded, 0 deleted." \
        in first.stderr
    second = run_script(database_uri, world, tmp_path)
    assert second.returncode == 0, second.stderr
    assert "INFO    Suites: 0 scanned (none), 1 unchanged." in second.stderr


def test_cronscript_reports_a_corrupt_index_and_exits_1(database_uri, world,
                                                        tmp_path):
    """A corrupt index makes the cronscript name the file and exit 1."""
    index = os.path.join(world.root, "dists/noble/main/binary-amd64/"
                         "Packages.gz")
    with open(index, "r+b") as f:
        f.truncate(10)
    done = run_script(database_uri, world, tmp_path)
    assert done.returncode == 1
    assert ("ERROR   dists/noble/main/binary-amd64/Packages.gz: size 10, "
            "but the Release file says") in done.stderr


def test_cronscript_refuses_a_second_run(database_uri, world, tmp_path):
    """While another scan holds the lock, a run exits 1 naming the lock."""
    lock_path = str(tmp_path / "scan.lock")
    with open(lock_path, "a") as held:
        fcntl.flock(held, fcntl.LOCK_EX)
        done = run_script(database_uri, world, tmp_path)
    assert done.returncode == 1
    assert "another run holds the lock %s" % lock_path in done.stderr


def test_command_line_scans_and_writes_the_manifest(database_uri, world,
                                                    tmp_path, capsys):
    """`mirrorkeeper archive scan` scans the master and writes the CD image
    manifest of the series it knows."""
    images = tmp_path / "cdimage" / "noble"
    images.mkdir(parents=True)
    (images / "testix-24.04-desktop-amd64.iso").write_bytes(b"iso")
    status = cli_main(["archive", "scan", "--database", database_uri,
                       "--root", world.root, "--lock-file",
                       str(tmp_path / "scan.lock"), "--cdimage-root",
                       str(tmp_path / "cdimage")])
    assert status == 0, capsys.readouterr().err
    with open(tmp_path / "cdimage" / ".manifest") as f:
        assert f.read() == ("testix\tnoble\t/noble/testix-24.04-desktop-"
                            "amd64.iso\t3\n")


def test_missing_root_is_an_error(database_uri, world, tmp_path):
    """A root that is not a directory is refused before anything is
    read."""
    done = subprocess.run(
        [sys.executable, SCRIPT, "--database", database_uri, "--root",
         str(tmp_path / "nowhere")], capture_output=True, text=True,
        cwd=str(tmp_path))
    assert done.returncode == 1
    assert "is not a directory" in done.stderr


def test_cronscript_json_summary(database_uri, world, tmp_path):
    """--json prints the scan's summary as one JSON object on stdout, the
    log staying on stderr."""
    import json
    result = run_script(database_uri, world, tmp_path, "--json")
    assert result.returncode == 0, result.stderr
    (line,) = result.stdout.splitlines()
    summary = json.loads(line)
    assert summary["distribution"] == "testix"
    assert summary["suites_scanned"] == ["noble"]
    assert summary["published"] >= 1 and summary["problems"] == 0
    assert "INFO    Suites:" in result.stderr
