"""An archived series as the real prober cronscript sees it, against real
mirrors on loopback, on both backends: asked for at the archive location
only, and dropping it blames nobody (issue 17 section 4)."""

import os
import shutil

import pytest

from mirrorkeeper.model.distribution import DistributionSet
from tests.test_prober_script import World


@pytest.fixture
def world(database_uri, tmp_path, smtp_server):
    smtp_server.clear()
    world = World(database_uri, tmp_path, smtp_server)
    yield world
    world.stop()


def hoary_suites(world):
    store, mirror = world.mirror("valid-mirror")
    suites = {record.distro_series.suite(record.pocket)
              for record in mirror.source_series
              if record.distro_series.name == "hoary"}
    enabled, log = mirror.enabled, mirror.last_probe_record.log
    store.close()
    return suites, enabled, log


def test_archived_series_is_asked_for_at_the_archive_only(world):
    """Moved to the archive location, a series is asked for there, found
    there, and not asked for at the main location, which the mirror has
    dropped; once it drops the archive too, its records go, and it stays
    enabled with no mail."""
    assert world.run().returncode == 0
    suites, enabled, _ = hoary_suites(world)
    assert enabled and "hoary" in suites
    store = world.store()
    DistributionSet(store)["ubuntu"].getSeries("hoary").moveToArchive(
        "archive/")
    store.commit()
    store.close()
    full = world.full_root
    archive = os.path.join(full, "archive")
    shutil.copytree(os.path.join(full, "pool"),
                    os.path.join(archive, "pool"))
    for name in os.listdir(os.path.join(full, "dists")):
        if name.startswith("hoary"):
            shutil.move(os.path.join(full, "dists", name),
                        os.path.join(archive, "dists", name))
    world.smtp_server.clear()
    assert world.run("--force").returncode == 0
    suites, enabled, log = hoary_suites(world)
    assert enabled and "hoary" in suites
    assert "archive/dists/hoary/main/source/Sources.gz" in log
    assert "/dists/hoary/" not in log.replace("/archive/dists/", "")
    shutil.rmtree(archive)
    assert world.run("--force").returncode == 0
    suites, enabled, log = hoary_suites(world)
    assert enabled and suites == set()
    assert "archive/dists/hoary/main/source/Sources.gz" in log
    subjects = [m.subject for m in world.smtp_server.messages]
    assert not any("valid-mirror" in subject for subject in subjects)
