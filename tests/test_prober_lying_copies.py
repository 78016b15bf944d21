"""A lying mirror (one that answers 200 for a file that does not exist)
has no copy of the master's control files after a probe: the prober
cronscript over farm mirrors of a scanned Debian master, on both
backends, and the rows it recorded."""

import hashlib
import logging
import os
from datetime import timedelta

import pytest

from mirrorkeeper.archive.scanner import ArchiveScanner
from mirrorkeeper.enums import ProbeRecordState
from mirrorkeeper.model.distribution import DistributionSet
from mirrorkeeper.model.distributionmirror import DistributionMirrorSet
from mirrorkeeper.model.person import PersonSet
from mirrorkeeper.model.probefindings import control_file_copies
from mirrorkeeper.timeutil import utcnow
from tests.archive_builder import DebianArchive
from tests.farm.testing import prober_world  # noqa: F401

LOG = logging.getLogger("mirrorkeeper.test-prober-lying-copies")
SUITE = "stable"
RELEASE = "dists/stable/Release"


@pytest.fixture(params=[None, "publishing"], ids=["checksum", "release"])
def probed(request, prober_world, tmp_path):
    """A master with a Release, scanned; a farm mirror serving it and one
    that answers 200 for anything; one prober run, its copies fetched by
    the checksum detector or, with publishing history only, by the
    prober's own GETs.  The world and {mirror name: its last record}."""
    world = prober_world
    now = utcnow()
    root = str(tmp_path / "master")
    archive = DebianArchive(root)
    archive.add_binary(SUITE, "hello", "1.0-1", mtime=now - timedelta(hours=2))
    archive.publish(SUITE, architectures=("amd64",), compressions=("gz",))
    store = world.store()
    owner = PersonSet(store).new("owner", "Owner", "owner@example.com")
    admins = PersonSet(store).newTeam("testix-mirror-admins", "Admins",
                                      members=[owner])
    distribution = DistributionSet(store).new(
        "testix", "Testix", "Testix Linux", owner, admins)
    store.commit()
    report = ArchiveScanner(store, distribution, root, LOG,
                            now - timedelta(hours=1)).scan()
    assert report.problems == [], report.problems
    urls = world.start_farm(root, {"honest": "serve", "liar": "anything"})
    for name, url in urls.items():
        world.add_mirror(store, distribution, name, http=url)
    store.commit()
    store.close()
    sections = ({"freshness": {"testix": request.param}}
                if request.param else {})
    done = world.run(config=world.write_config(**sections))
    assert done.returncode == 0, done.stdout + done.stderr
    store = world.store()
    mirrors = DistributionMirrorSet(store)
    records = {name: mirrors[name].last_probe_record for name in urls}
    yield store, records, root
    store.close()


def copy_rows(store, record):
    """(kind, label, SHA-256) of each copy of a control file `record`
    has a row of: the prober's own GETs ('release') and the checksum
    detector's ('detector' with a SHA-256)."""
    return sorted(store.execute(
        "SELECT kind, label, sha256 FROM mirror_probe_place WHERE "
        "probe_record = ? AND (kind = 'release' OR sha256 IS NOT NULL)",
        (record.id,)))


def test_a_lying_mirror_has_no_copy_of_the_release(probed):
    """The mirror answering 200 for a file that cannot exist is asked for
    no Release: its applied record has no copy row, and it holds no copy
    the lists would offer it by; the honest mirror's record has the
    SHA-256 of the Release it served."""
    store, records, root = probed
    for name, record in records.items():
        assert record.state is ProbeRecordState.APPLIED, name
    assert "its answers prove nothing" in records["liar"].log
    with open(os.path.join(root, RELEASE), "rb") as f:
        master = hashlib.sha256(f.read()).hexdigest()
    honest = copy_rows(store, records["honest"])
    assert [(label, sha256) for _, label, sha256 in honest] == [
        (RELEASE, master)]
    assert copy_rows(store, records["liar"]) == []
    ids = {name: record.distribution_mirror_id
           for name, record in records.items()}
    copies = control_file_copies(store, list(ids.values()))
    assert copies[ids["honest"]] == {RELEASE: master}
    assert copies[ids["liar"]] == {}
