"""The mirror list snapshot built from the database, on both backends, and
its file: written atomically, read back, numbered."""

import json
import os
from datetime import datetime

import pytest
from zope.component import getUtility

from mirrorkeeper.archive.files import FileDetails
from mirrorkeeper.enums import (
    MirrorContent, MirrorFreshness as F, MirrorPulseType, MirrorSpeed,
    MirrorStatus, PackagePublishingPocket as P)
from mirrorkeeper.interfaces.country import ICountrySet
from mirrorkeeper.interfaces.distribution import (
    IComponentSet, IDistributionSet)
from mirrorkeeper.interfaces.distributionmirror import IDistributionMirrorSet
from mirrorkeeper.interfaces.person import IPersonSet
from mirrorkeeper.model.masterarchive import (
    MasterFileDetailSet, RPMRepositorySet)
from mirrorkeeper.publish.snapshot import (
    PublicationPolicy, SnapshotError, build_snapshot, next_serial,
    read_snapshot, repository_name, write_snapshot)
from mirrorkeeper.scripts.mirrorlist import SnapshotScript

REPO = "releases/40/Everything/x86_64/os"
REPOMD = REPO + "/repodata/repomd.xml"


def add_mirror(ubuntu, name, country="DE", status=MirrorStatus.OFFICIAL,
               content=MirrorContent.ARCHIVE, **fields):
    fields.setdefault("enabled", True)
    fields.setdefault("official_candidate", True)
    mirror = ubuntu.newMirror(
        getUtility(IPersonSet).getByName("mark"), name, MirrorSpeed.S1G,
        getUtility(ICountrySet)[country], content, MirrorPulseType.PULL,
        http_base_url="http://%s.example/ubuntu/" % name, **fields)
    mirror.status = status
    return mirror


def details(n):
    return FileDetails(1000 + n, datetime(2024, 6, n), "md5-%d" % n,
                       "sha1-%d" % n, "sha256-%d" % n, "sha512-%d" % n)


@pytest.fixture
def world(sample_store):
    """The sample Ubuntu plus mirrors of every kind, an RPM repository
    and its repomd.xml history."""
    store = sample_store
    ubuntu = getUtility(IDistributionSet)["ubuntu"]
    warty = ubuntu.getSeries("warty")
    main = getUtility(IComponentSet)["main"]
    de = add_mirror(ubuntu, "de-mirror", bandwidth_mbps=2000, asn=64500,
                    asn_clients=True, private=True,
                    https_base_url="https://de-mirror.example/ubuntu/",
                    netblocks=["192.0.2.0/24"],
                    countries_allowed=[getUtility(ICountrySet)["DE"]])
    de.has_ipv4, de.has_ipv6 = True, False
    de.ensureMirrorDistroArchSeries(warty.getArch("i386"), P.RELEASE,
                                    main).freshness = F.UP
    de.ensureMirrorDistroArchSeries(warty.getArch("i386"), P.UPDATES,
                                    main).freshness = F.TWODAYSBEHIND
    de.ensureMirrorDistroSeriesSource(warty, P.RELEASE,
                                      main).freshness = F.ONEHOURBEHIND
    add_mirror(ubuntu, "paused", owner_paused=True)
    add_mirror(ubuntu, "disabled", enabled=False)
    add_mirror(ubuntu, "pending", status=MirrorStatus.PENDING_REVIEW)
    add_mirror(ubuntu, "by-policy", status=MirrorStatus.UNOFFICIAL)
    cd = add_mirror(ubuntu, "cd-mirror", "BR", content=MirrorContent.RELEASE)
    cd.ensureMirrorCDImageSeries(warty, "ubuntu")
    repository = RPMRepositorySet(store).ensure(
        ubuntu, REPO, "x86_64", "40", datetime(2024, 6, 1))
    store.flush()
    store.execute("INSERT INTO mirror_rpm_repository (distribution_mirror, "
                  "rpm_repository, freshness) VALUES (?, ?, ?)",
                  (de.id, repository.id, F.UP.value))
    for n in range(1, 6):
        MasterFileDetailSet(store).record(ubuntu, REPOMD, details(n),
                                          datetime(2024, 6, n, 1))
    store.commit()
    return store, ubuntu


def test_published_mirrors_are_enabled_unpaused_and_official(world):
    """Only enabled, unpaused, official mirrors are in the snapshot, plus those
    the policy names."""
    store, ubuntu = world
    names = [m["name"] for m in build_snapshot(store, ubuntu)["mirrors"]]
    assert names == ["cd-mirror", "de-mirror", "valid-mirror"]
    policy = PublicationPolicy(include_mirrors=frozenset(["by-policy"]))
    names = [m["name"] for m in build_snapshot(store, ubuntu,
                                               policy)["mirrors"]]
    assert "by-policy" in names and "pending" not in names
    policy = PublicationPolicy(include_unofficial=True)
    names = [m["name"] for m in build_snapshot(store, ubuntu,
                                               policy)["mirrors"]]
    assert {"by-policy", "invalid-mirror"} <= set(names)
    assert "pending" not in names and "paused" not in names


def test_unreachable_mirrors_and_urls_that_did_not_answer_are_left_out(
        world):
    """A mirror the last trusted run could not reach is left out at once,
    records and all; of a mirror's URLs, one that did not answer its last
    probe is not offered, and a mirror none of whose URLs answered is left
    out."""
    store, ubuntu = world
    mirrors = getUtility(IDistributionMirrorSet)
    de = mirrors["de-mirror"]
    de.https_answered, de.http_answered = False, True
    valid = mirrors["valid-mirror"]
    store.commit()
    mirrors = {m["name"]: m for m in build_snapshot(store, ubuntu)["mirrors"]}
    assert sorted(mirrors["de-mirror"]["urls"]) == ["http"]
    assert "valid-mirror" in mirrors
    valid.failed_runs = 1
    de.http_answered = False
    store.commit()
    names = [m["name"] for m in build_snapshot(store, ubuntu)["mirrors"]]
    assert names == ["cd-mirror"]
    valid.failed_runs = 0
    store.commit()
    names = [m["name"] for m in build_snapshot(store, ubuntu)["mirrors"]]
    assert names == ["cd-mirror", "valid-mirror"]


def test_a_mirror_carries_its_place_network_and_content(world):
    """A mirror's URLs, country, continent, bandwidth, network fields, IP
    families and content with freshness are in the snapshot."""
    store, ubuntu = world
    snapshot = build_snapshot(store, ubuntu, serial=7)
    mirror = {m["name"]: m for m in snapshot["mirrors"]}["de-mirror"]
    assert mirror["urls"] == {"http": "http://de-mirror.example/ubuntu/",
                              "https": "https://de-mirror.example/ubuntu/"}
    assert (mirror["country"], mirror["continent"], mirror["bandwidth"]) \
        == ("DE", "EU", 2000)
    assert (mirror["private"], mirror["asn"], mirror["asn_clients"]) == \
        (True, 64500, True)
    assert mirror["netblocks"] == ["192.0.2.0/24"]
    assert mirror["countries_allowed"] == ["DE"]
    assert (mirror["has_ipv4"], mirror["has_ipv6"]) == (True, False)
    carried = {tuple(snapshot["places"][i]): int(f)
               for f, places in mirror["archive"].items() for i in places}
    assert carried == {("warty", "i386", "main", "release"): F.UP.value,
                       ("warty", "i386", "main", "updates"):
                       F.TWODAYSBEHIND.value,
                       ("warty", "source", "main", "release"):
                       F.ONEHOURBEHIND.value}
    assert mirror["freshness"] == F.TWODAYSBEHIND.value
    assert mirror["repositories"] == {str(F.UP.value): [0]}
    assert snapshot["repositories"] == [{
        "name": "releases-40-everything", "path": REPO, "arch": "x86_64",
        "version": "40"}]
    cd = {m["name"]: m for m in snapshot["mirrors"]}["cd-mirror"]
    assert (cd["content"], cd["cdimages"]) == ("cdimage",
                                               [["warty", "ubuntu"]])
    assert snapshot["continents"]["IL"] == "AS"
    assert (snapshot["serial"], snapshot["distribution"]) == (7, "ubuntu")


def test_master_file_details_newest_first_with_two_alternates(world):
    """A control file's newest three versions are kept, newest first, with
    size, timestamp and every hash."""
    store, ubuntu = world
    versions = build_snapshot(store, ubuntu)["files"][REPOMD]
    assert [v["size"] for v in versions] == [1005, 1004, 1003]
    assert versions[0] == {
        "size": 1005, "timestamp": 1717545600, "md5": "md5-5",
        "sha1": "sha1-5", "sha256": "sha256-5", "sha512": "sha512-5"}


def test_repository_names():
    """A repository's name is its path without arch and 'os'."""
    assert repository_name(REPO) == "releases-40-everything"
    assert repository_name("updates/40/Everything/SRPMS") == \
        "updates-40-everything"


def test_write_is_atomic_and_read_back(tmp_path):
    """The file appears whole under its name, leaves no temporary file, and
    reads back equal."""
    path = str(tmp_path / "snap" / "mirrorlist.json")
    snapshot = {"format": 1, "serial": 3, "mirrors": []}
    write_snapshot(snapshot, path)
    assert read_snapshot(path) == snapshot
    assert os.listdir(os.path.dirname(path)) == ["mirrorlist.json"]
    assert next_serial(path) == 4
    assert next_serial(str(tmp_path / "none.json")) == 1


def test_unreadable_snapshots_are_refused(tmp_path):
    """A missing file, a non-JSON file and another format are
    SnapshotErrors."""
    path = tmp_path / "s.json"
    with pytest.raises(SnapshotError):
        read_snapshot(str(path))
    path.write_text("{half")
    with pytest.raises(SnapshotError):
        read_snapshot(str(path))
    path.write_text(json.dumps({"format": 99}))
    with pytest.raises(SnapshotError):
        read_snapshot(str(path))


def test_cronscript_writes_numbered_snapshots(world, database_uri, tmp_path):
    """Each run of the script writes the next serial to --output; of the
    database it changes only the serial recorded (see test_publish_serials)."""
    path = str(tmp_path / "mirrorlist.json")
    script = ["--database", database_uri, "--output", path, "-q",
              "--lock-file", str(tmp_path / "lock")]
    assert SnapshotScript().run(script) == 0
    assert SnapshotScript().run(script) == 0
    snapshot = read_snapshot(path)
    assert snapshot["serial"] == 2
    assert "de-mirror" in [m["name"] for m in snapshot["mirrors"]]


def test_detected_sync_age_is_in_the_snapshot(world):
    """The worst freshness a mirror's detectors measured is its "detected"
    value and bounds its overall freshness; a mirror without measurements
    has none."""
    from mirrorkeeper.model.distributionmirror import DistributionMirrorSet
    from mirrorkeeper.model.mirrorcontent import MirrorFreshnessCheck
    store, ubuntu = world
    de = DistributionMirrorSet(store)["de-mirror"]
    for label, freshness in [("project/trace/master", F.TWODAYSBEHIND),
                             ("mirrorkeeper-timestamp", F.SIXHOURSBEHIND),
                             ("dists/warty/Release", None)]:
        check = MirrorFreshnessCheck(de, "trace", label)
        check.freshness = freshness
        store.add(check)
    store.commit()
    mirrors = {m["name"]: m for m in build_snapshot(store, ubuntu)["mirrors"]}
    assert mirrors["de-mirror"]["detected"] == F.TWODAYSBEHIND.value
    assert mirrors["de-mirror"]["freshness"] == F.TWODAYSBEHIND.value
    assert "detected" not in mirrors["valid-mirror"]


def test_cronscript_json_summary(world, database_uri, tmp_path, capsys):
    """--json prints the snapshot's serial, size and counts as one JSON object
    on stdout."""
    path = str(tmp_path / "mirrorlist.json")
    assert SnapshotScript().run([
        "--database", database_uri, "--output", path, "-q", "--json",
        "--lock-file", str(tmp_path / "lock")]) == 0
    (line,) = capsys.readouterr().out.splitlines()
    summary = json.loads(line)
    snapshot = read_snapshot(path)
    assert summary["serial"] == snapshot["serial"] == 1
    assert summary["mirrors"] == len(snapshot["mirrors"])
    assert summary["bytes"] == os.path.getsize(path)
