"""An archived series as the real prober cronscript sees it, against real
mirrors on loopback, on both backends: asked for at the archive location
only, and dropping it blames nobody (issue 17 section 4)."""

import os
import re
import shutil

import pytest

from mirrorkeeper.model.distribution import DistributionSet
from mirrorkeeper.model.distributionmirror import DistributionMirrorSet
from tests.farm.testing import prober_world  # noqa: F401
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


def record_release(store, distribution, path, content):
    import hashlib
    from mirrorkeeper.archive.files import FileDetails
    from mirrorkeeper.model.masterarchive import MasterFileDetailSet
    from mirrorkeeper.timeutil import utcnow
    MasterFileDetailSet(store).record(distribution, path, FileDetails(
        len(content), utcnow(), "m", "s", hashlib.sha256(content).hexdigest(),
        "x"), utcnow())


def test_series_is_probed_where_it_lives(world):
    """A series in development under a root of its own is asked for there,
    its indexes, pool files and Release (by the checksum detector) alike,
    and not at the archive's root; released to the root, it is asked for
    there only."""
    from tests.test_prober_script import write_config
    full = world.full_root
    development = os.path.join(full, "development")
    shutil.copytree(os.path.join(full, "pool"),
                    os.path.join(development, "pool"))
    for name in os.listdir(os.path.join(full, "dists")):
        if name.startswith("hoary"):
            shutil.move(os.path.join(full, "dists", name),
                        os.path.join(development, "dists", name))
    store = world.store()
    ubuntu = DistributionSet(store)["ubuntu"]
    hoary = ubuntu.getSeries("hoary")
    hoary.root = "development/"
    release = b"Suite: hoary\nDate: now\n"
    with open(os.path.join(development, "dists/hoary/Release"), "wb") as f:
        f.write(release)
    record_release(store, ubuntu, "dists/hoary/Release", b"stale copy")
    record_release(store, ubuntu, "development/dists/hoary/Release",
                   release)
    store.commit()
    store.close()
    write_config(world)
    with open(world.config, "a") as f:
        f.write("[freshness]\ndefault = publishing, checksum\n")
    assert world.run().returncode == 0
    suites, enabled, log = hoary_suites(world)
    assert enabled and "hoary" in suites
    assert "development/dists/hoary/main/source/Sources.gz" in log
    assert "checksum detector: development/dists/hoary/Release" in log
    prefixes = re.findall(r"(\S*)dists/hoary", log)
    assert prefixes and all(prefix.endswith("development/")
                            for prefix in prefixes)

    # Released at the archive's root.
    for name in os.listdir(os.path.join(development, "dists")):
        if name.startswith("hoary"):
            shutil.move(os.path.join(development, "dists", name),
                        os.path.join(full, "dists", name))
    store = world.store()
    hoary = DistributionSet(store)["ubuntu"].getSeries("hoary")
    hoary.location = hoary.location.DEVELOPMENT
    hoary.moveToRelease("")
    store.commit()
    store.close()
    assert world.run("--force").returncode == 0
    suites, enabled, log = hoary_suites(world)
    assert enabled and "hoary" in suites
    assert "development/" not in log
    assert "/dists/hoary/main/source/Sources.gz" in log
    assert "checksum detector: dists/hoary/Release" in log


def test_farm_mirrors_are_credited_only_where_the_series_lives(
        prober_world, tmp_path):
    """Over the farm: warty lives under development/.  The mirror that
    followed it there carries it; the one whose copy is still at the
    archive's root is asked for it under development/ only, found without
    it, and neither disabled nor credited for the copy it has elsewhere."""
    from tests.mirror_servers import write_archive
    world = prober_world
    store = world.store()
    ubuntu = world.load_sample(store)
    for name in ("m-moved", "m-stale"):
        root = str(tmp_path / name)
        write_archive(root, store)
        if name == "m-moved":
            development = os.path.join(root, "development")
            shutil.copytree(os.path.join(root, "pool"),
                            os.path.join(development, "pool"))
            os.makedirs(os.path.join(development, "dists"))
            for suite in os.listdir(os.path.join(root, "dists")):
                if suite.startswith("warty"):
                    shutil.move(os.path.join(root, "dists", suite),
                                os.path.join(development, "dists", suite))
        url = world.start_farm(root, {name: "serve"})[name]
        world.add_mirror(store, ubuntu, name, http=url)
    ubuntu.getSeries("warty").root = "development/"
    store.commit()
    store.close()
    world.config = world.write_config(prober={"timeout": 5})
    prober = world.run()
    world.stop_farms()
    assert prober.returncode == 0, prober.stderr
    store = world.store()
    mirrors = DistributionMirrorSet(store)

    def series_carried(name):
        mirror = mirrors[name]
        return mirror, {record.distro_series.name
                        for record in mirror.source_series}

    moved, carried = series_carried("m-moved")
    assert "warty" in carried and moved.enabled
    stale, carried = series_carried("m-stale")
    assert "warty" not in carried and "hoary" in carried and stale.enabled
    log = stale.last_probe_record.log
    prefixes = re.findall(r"(\S*)dists/warty", log)
    assert prefixes and all(prefix.endswith("development/")
                            for prefix in prefixes)
    store.close()
