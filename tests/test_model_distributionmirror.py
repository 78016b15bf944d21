"""A mirror's content records, freshness, probing schedule, probe records,
and enabling and disabling it."""

import io
import os
from datetime import datetime, timedelta, timezone

import pytest
from zope.component import getUtility

from mirrorkeeper.enums import (
    MirrorContent, MirrorFreshness as F, MirrorPulseType, MirrorSpeed,
    MirrorStatus, PackagePublishingPocket as P, SeriesStatus)
from mirrorkeeper.errors import NotFoundError
from mirrorkeeper.interfaces.distribution import (
    IComponentSet, IDistributionSet)
from mirrorkeeper.interfaces.distributionmirror import IDistributionMirrorSet
from mirrorkeeper.interfaces.person import IPersonSet
from mirrorkeeper.mail.outbox import OutboxMessage
from mirrorkeeper.model.distributionmirror import MirrorToProbe
from mirrorkeeper.model.mirrorcontent import (
    MirrorDistroArchSeries, MirrorProbeRecord)
from mirrorkeeper.timeutil import utcnow
from tests.rollback_stores import (  # noqa: F401
    rollback_sample_store, shared_sample_store)

# A month from now: the sample data's probe record, an hour before the real
# now, is old by then.
NOW = utcnow().replace(microsecond=0) + timedelta(days=30)


@pytest.fixture
def ubuntu(rollback_sample_store):
    return getUtility(IDistributionSet)["ubuntu"]


@pytest.fixture
def mirrors(rollback_sample_store):
    return getUtility(IDistributionMirrorSet)


@pytest.fixture
def places(ubuntu):
    """warty, warty/i386, main and restricted."""
    warty = ubuntu.getSeries("warty")
    components = getUtility(IComponentSet)
    return (warty, warty.getArch("i386"), components["main"],
            components["restricted"])


def names(mirrors):
    return [mirror.name for mirror in mirrors]


def outbox_count(store):
    return store.find(OutboxMessage).count()



@pytest.fixture
def db(rollback_sample_store):
    """The sample store, rolled back after each test."""
    return rollback_sample_store

# Content records.

def test_ensure_and_delete_arch_series(mirrors, places, db):
    """ensureMirrorDistroArchSeries creates one UNKNOWN record per place and
    returns it again after; delete removes it and may be repeated."""
    warty, warty_i386, main, restricted = places
    mirror = mirrors["new-mirror"]
    record = mirror.ensureMirrorDistroArchSeries(warty_i386, P.RELEASE, main)
    assert record.freshness is F.UNKNOWN
    assert (record.distribution_mirror, record.distro_arch_series,
            record.pocket, record.component) == (
        mirror, warty_i386, P.RELEASE, main)
    db.flush()
    assert mirror.ensureMirrorDistroArchSeries(
        warty_i386, P.RELEASE, main) == record
    other = mirror.ensureMirrorDistroArchSeries(
        warty_i386, P.SECURITY, main)
    third = mirror.ensureMirrorDistroArchSeries(
        warty_i386, P.RELEASE, restricted)
    assert list(mirror.arch_series) == [record, other, third]
    mirror.deleteMirrorDistroArchSeries(warty_i386, P.RELEASE, main)
    mirror.deleteMirrorDistroArchSeries(warty_i386, P.RELEASE, main)
    mirror.deleteMirrorDistroArchSeries(warty_i386, P.PROPOSED, main)
    db.flush()
    assert list(mirror.arch_series) == [other, third]


def test_ensure_and_delete_series_source(mirrors, places, db):
    """ensureMirrorDistroSeriesSource is idempotent and its delete may be
    repeated."""
    warty, _, main, restricted = places
    mirror = mirrors["new-mirror"]
    record = mirror.ensureMirrorDistroSeriesSource(warty, P.UPDATES, main)
    assert mirror.ensureMirrorDistroSeriesSource(
        warty, P.UPDATES, main) == record
    db.flush()
    assert mirror.source_series.count() == 1
    assert (record.distro_series, record.pocket, record.component,
            record.freshness) == (warty, P.UPDATES, main, F.UNKNOWN)
    mirror.deleteMirrorDistroSeriesSource(warty, P.UPDATES, restricted)
    assert mirror.source_series.count() == 1
    mirror.deleteMirrorDistroSeriesSource(warty, P.UPDATES, main)
    mirror.deleteMirrorDistroSeriesSource(warty, P.UPDATES, main)
    db.flush()
    assert mirror.source_series.count() == 0


def test_ensure_and_delete_cdimage_series(mirrors, ubuntu, db):
    """ensureMirrorCDImageSeries is idempotent per series and flavour, and
    its delete may be repeated."""
    mirror = mirrors["invalid-mirror"]
    warty, hoary = ubuntu.getSeries("warty"), ubuntu.getSeries("hoary")
    record = mirror.ensureMirrorCDImageSeries(warty, "ubuntu")
    assert mirror.ensureMirrorCDImageSeries(warty, "ubuntu") == record
    mirror.ensureMirrorCDImageSeries(warty, "kubuntu")
    mirror.ensureMirrorCDImageSeries(hoary, "ubuntu")
    db.flush()
    assert [(r.distro_series.name, r.flavour)
            for r in mirror.cdimage_series] == [
        ("warty", "ubuntu"), ("warty", "kubuntu"), ("hoary", "ubuntu")]
    mirror.deleteMirrorCDImageSeries(warty, "kubuntu")
    mirror.deleteMirrorCDImageSeries(warty, "kubuntu")
    assert [(r.distro_series.name, r.flavour)
            for r in mirror.cdimage_series] == [
        ("warty", "ubuntu"), ("hoary", "ubuntu")]


def test_records_of_one_mirror_only(mirrors, places):
    """A mirror's records are its own: another mirror's ensure and delete
    leave them alone."""
    warty, warty_i386, main, _ = places
    first, second = mirrors["valid-mirror"], mirrors["archive-404-mirror"]
    first.ensureMirrorDistroArchSeries(warty_i386, P.RELEASE, main)
    second.ensureMirrorDistroArchSeries(warty_i386, P.RELEASE, main)
    second.deleteMirrorDistroArchSeries(warty_i386, P.RELEASE, main)
    assert first.arch_series.count() == 1
    assert second.arch_series.count() == 0


# Freshness and whether to disable.

def test_overall_freshness_of_archive_mirror(mirrors, places):
    """An archive mirror is as fresh as its worst known record, source and
    binary alike; UNKNOWN with no known record."""
    warty, warty_i386, main, restricted = places
    mirror = mirrors["valid-mirror"]
    assert mirror.getOverallFreshness() is F.UNKNOWN
    binary = mirror.ensureMirrorDistroArchSeries(warty_i386, P.RELEASE, main)
    source = mirror.ensureMirrorDistroSeriesSource(warty, P.RELEASE, main)
    assert mirror.getOverallFreshness() is F.UNKNOWN
    binary.freshness = F.ONEHOURBEHIND
    assert mirror.getOverallFreshness() is F.ONEHOURBEHIND
    source.freshness = F.TWODAYSBEHIND
    assert mirror.getOverallFreshness() is F.TWODAYSBEHIND
    source.freshness = F.UP
    other = mirror.ensureMirrorDistroArchSeries(
        warty_i386, P.RELEASE, restricted)
    assert other.freshness is F.UNKNOWN
    assert mirror.getOverallFreshness() is F.ONEHOURBEHIND


def test_overall_freshness_of_release_mirror(mirrors, ubuntu):
    """A CD image mirror is UP when it carries images, else UNKNOWN."""
    mirror = mirrors["invalid-mirror"]
    assert mirror.getOverallFreshness() is F.UNKNOWN
    mirror.ensureMirrorCDImageSeries(ubuntu.getSeries("warty"), "ubuntu")
    assert mirror.getOverallFreshness() is F.UP


def test_should_disable_archive_mirror(mirrors, places):
    """An archive mirror should be disabled while it has no content record
    of either kind."""
    warty, warty_i386, main, _ = places
    mirror = mirrors["valid-mirror"]
    assert mirror.shouldDisable()
    mirror.ensureMirrorDistroSeriesSource(warty, P.RELEASE, main)
    assert not mirror.shouldDisable()
    mirror.deleteMirrorDistroSeriesSource(warty, P.RELEASE, main)
    mirror.ensureMirrorDistroArchSeries(warty_i386, P.RELEASE, main)
    assert not mirror.shouldDisable()
    mirror.deleteMirrorDistroArchSeries(warty_i386, P.RELEASE, main)
    assert mirror.shouldDisable()


def test_should_disable_release_mirror(mirrors, ubuntu):
    """A CD image mirror should be disabled when it lacks any of the
    expected series and flavours, and must be told which they are."""
    mirror = mirrors["invalid-mirror"]
    warty, hoary = ubuntu.getSeries("warty"), ubuntu.getSeries("hoary")
    expected = [(warty, "ubuntu"), (hoary, "kubuntu")]
    with pytest.raises(ValueError):
        mirror.shouldDisable()
    assert mirror.shouldDisable(expected)
    assert not mirror.shouldDisable([])
    mirror.ensureMirrorCDImageSeries(warty, "ubuntu")
    assert mirror.shouldDisable(expected)
    mirror.ensureMirrorCDImageSeries(hoary, "ubuntu")
    assert mirror.shouldDisable(expected)
    mirror.ensureMirrorCDImageSeries(hoary, "kubuntu")
    assert not mirror.shouldDisable(expected)


# Which mirrors to probe.

def test_mirrors_to_probe_sample(mirrors):
    """Enabled archive mirrors not probed in the last day are probed, never
    probed ones first; the pending one is left out."""
    assert names(mirrors.getMirrorsToProbe()) == [
        "valid-mirror", "archive-404-mirror"]
    assert names(mirrors.getMirrorsToProbe(ignore_last_probe=True)) == [
        "valid-mirror", "archive-404-mirror", "unreachable-mirror"]
    assert names(mirrors.getMirrorsToProbe(MirrorContent.RELEASE)) == [
        "invalid-mirror"]



def test_mirrors_to_probe_are_plain_values(mirrors, db):
    """Each is its id, name and base URLs, https first, then http, ftp and
    rsync, those it lacks left out."""
    mirror = mirrors["valid-mirror"]
    mirror.https_base_url = "https://valid.example.org/ubuntu/"
    mirror.ftp_base_url = None
    mirror.rsync_base_url = "rsync://valid.example.org/ubuntu/"
    db.flush()
    [found] = [each for each in mirrors.getMirrorsToProbe()
               if each.name == "valid-mirror"]
    assert found == MirrorToProbe(mirror.id, "valid-mirror", (
        "https://valid.example.org/ubuntu/", mirror.http_base_url,
        "rsync://valid.example.org/ubuntu/"))

def test_mirrors_to_probe_exclusions(mirrors, db):
    """Paused, pending-review and broken mirrors are not probed, enabled or
    not; a reviewed mirror the prober disabled is."""
    mirrors["valid-mirror"].enabled = False
    mirrors["archive-404-mirror"].enabled = False
    mirrors["archive-404-mirror"].status = MirrorStatus.BROKEN
    mirrors["unreachable-mirror"].owner_paused = True
    db.flush()
    assert names(mirrors.getMirrorsToProbe(ignore_last_probe=True)) == [
        "valid-mirror"]
    mirrors["valid-mirror"].status = MirrorStatus.UNOFFICIAL
    assert names(mirrors.getMirrorsToProbe(ignore_last_probe=True)) == [
        "valid-mirror"]
    mirrors["valid-mirror"].status = MirrorStatus.PENDING_REVIEW
    assert names(mirrors.getMirrorsToProbe(ignore_last_probe=True)) == []
    # Enabled or not: only reviewed mirrors are probed.
    mirrors["valid-mirror"].enabled = True
    mirrors["archive-404-mirror"].enabled = True
    assert names(mirrors.getMirrorsToProbe(ignore_last_probe=True)) == []


def test_mirrors_to_probe_limit_and_order(mirrors):
    """Mirrors probed longest ago come after the never-probed ones, oldest
    probe first; `limit` keeps the first ones."""
    mirrors["valid-mirror"].newProbeRecord("old", NOW - timedelta(days=3))
    mirrors["valid-mirror"].newProbeRecord("older", NOW - timedelta(days=9))
    mirrors["unreachable-mirror"].newProbeRecord(
        "oldest", NOW - timedelta(days=5))
    result = mirrors.getMirrorsToProbe(now=NOW)
    assert names(result) == [
        "archive-404-mirror", "unreachable-mirror", "valid-mirror"]
    assert names(mirrors.getMirrorsToProbe(now=NOW, limit=2)) == [
        "archive-404-mirror", "unreachable-mirror"]
    assert names(mirrors.getMirrorsToProbe(now=NOW, limit=0)) == []


def test_mirrors_to_probe_leave_out_private_ones_before_the_limit(mirrors):
    """A private mirror is never probed (its check-ins say what it
    carries), and it takes none of the places `limit` gives; `mirror_ids`
    keeps only the mirrors named."""
    mirrors["archive-404-mirror"].private = True
    assert sorted(names(mirrors.getMirrorsToProbe(now=NOW, limit=2))) == [
        "unreachable-mirror", "valid-mirror"]
    wanted = [mirrors[name].id for name in ("valid-mirror",
                                            "archive-404-mirror")]
    assert names(mirrors.getMirrorsToProbe(
        now=NOW, ignore_last_probe=True, mirror_ids=wanted)) == [
        "valid-mirror"]

def test_mirrors_to_probe_day_boundary(mirrors):
    """A mirror whose last probe is exactly a day old, or younger, is left
    alone; a microsecond older and it is probed."""
    day = timedelta(days=1)
    mirror = mirrors["archive-404-mirror"]
    mirror.newProbeRecord("a day ago", NOW - day)
    mirror.newProbeRecord("long ago", NOW - 10 * day)
    assert "archive-404-mirror" not in names(
        mirrors.getMirrorsToProbe(now=NOW))
    assert "archive-404-mirror" not in names(
        mirrors.getMirrorsToProbe(now=NOW - timedelta(hours=1)))
    assert "archive-404-mirror" in names(
        mirrors.getMirrorsToProbe(now=NOW + timedelta(microseconds=1)))
    assert "archive-404-mirror" in names(
        mirrors.getMirrorsToProbe(now=NOW, ignore_last_probe=True))


def test_mirrors_to_probe_now_with_a_zone(mirrors):
    """A `now` with a time zone means the same instant as its UTC time."""
    mirror = mirrors["archive-404-mirror"]
    mirror.newProbeRecord("a day ago", NOW - timedelta(days=1))
    plus_five = timezone(timedelta(hours=5))
    same_instant = (NOW + timedelta(hours=5)).replace(tzinfo=plus_five)
    later = same_instant + timedelta(seconds=1)
    assert names(mirrors.getMirrorsToProbe(now=same_instant)) == names(
        mirrors.getMirrorsToProbe(now=NOW))
    assert "archive-404-mirror" in names(mirrors.getMirrorsToProbe(
        now=later))


def test_mirrors_to_probe_skip_distribution_without_mirrors(
        ubuntu, mirrors, db):
    """Mirrors of a distribution that no longer supports mirrors are not
    probed."""
    people = getUtility(IPersonSet)
    other = getUtility(IDistributionSet).new(
        "other", "Other", "Other", people["mark"], people["mark"])
    other_mirror = other.newMirror(
        people["mark"], "other-mirror", MirrorSpeed.S1G,
        ubuntu.mirrors[0].country, MirrorContent.ARCHIVE,
        MirrorPulseType.PUSH, enabled=True,
        http_base_url="http://other.example.net/")
    other_mirror.status = MirrorStatus.OFFICIAL
    db.flush()
    assert "other-mirror" in names(
        mirrors.getMirrorsToProbe(ignore_last_probe=True))
    other.supports_mirrors = False
    assert "other-mirror" not in names(
        mirrors.getMirrorsToProbe(ignore_last_probe=True))
    assert "valid-mirror" in names(
        mirrors.getMirrorsToProbe(ignore_last_probe=True))


# Probe records.

def test_probe_record_from_str(mirrors, db):
    """A log given as text is stored whole, dated now by default."""
    mirror = mirrors["valid-mirror"]
    before = utcnow()
    record = mirror.newProbeRecord("line 1\nline 2 \u00e9\n" * 1000)
    db.flush()
    assert record.log == "line 1\nline 2 \u00e9\n" * 1000
    assert record.distribution_mirror == mirror
    assert before <= record.date_created <= utcnow()
    assert mirror.last_probe_record == record


def test_probe_record_from_file_objects(mirrors, db, tmp_path):
    """A log given as a file, text or binary, is read from its start, even
    when the writer left it at its end."""
    mirror = mirrors["valid-mirror"]
    text = io.StringIO()
    text.write("checked 10 URLs\nall found\n")
    binary = io.BytesIO("r\u00e9ponse 200\n".encode("utf-8"))
    binary.read()
    with open(tmp_path / "probe.log", "w+", encoding="utf-8") as real:
        real.write("from a real file\n")
        record = mirror.newProbeRecord(real)
    records = [mirror.newProbeRecord(text), mirror.newProbeRecord(binary)]
    db.flush()
    assert record.log == "from a real file\n"
    assert [r.log for r in records] == ["checked 10 URLs\nall found\n",
                                        "r\u00e9ponse 200\n"]


def test_probe_record_from_a_pipe(mirrors, db):
    """A log given as a pipe, which cannot seek, is read as it comes."""
    read_end, write_end = os.pipe()
    with open(write_end, "wb") as writer:
        writer.write(b"streamed line 1\nstreamed line 2\n")
    with open(read_end, "rb") as reader:
        record = mirrors["valid-mirror"].newProbeRecord(reader)
    db.flush()
    assert record.log == "streamed line 1\nstreamed line 2\n"


def test_probe_record_from_bytes(mirrors, db):
    """A log given as bytes is decoded as UTF-8, undecodable bytes
    replaced."""
    mirror = mirrors["valid-mirror"]
    record = mirror.newProbeRecord("caf\u00e9 ".encode("utf-8") + b"\xff\n")
    db.flush()
    assert record.log == "caf\u00e9 \ufffd\n"


def test_probe_record_with_nul_characters(mirrors, db):
    """A log with NUL characters (a hostile server's answer) is stored on
    both backends and read back the same, NULs replaced."""
    mirror = mirrors["valid-mirror"]
    record = mirror.newProbeRecord(b"before\x00after\n")
    other = mirror.newProbeRecord("text\x00nul")
    db.flush()
    db.invalidate()
    assert record.log == "before\ufffdafter\n"
    assert other.log == "text\ufffdnul"


def test_probe_record_dates(mirrors, db):
    """A date with a zone is stored as UTC; records come newest first, and
    destroySelf removes one."""
    mirror = mirrors["valid-mirror"]
    plus_two = timezone(timedelta(hours=2))
    first = mirror.newProbeRecord("first", datetime(2024, 1, 1, 12,
                                                    tzinfo=plus_two))
    second = mirror.newProbeRecord("second", datetime(2024, 1, 2))
    db.flush()
    assert first.date_created == datetime(2024, 1, 1, 10)
    assert list(mirror.probe_records) == [second, first]
    assert mirror.last_probe_record == second
    second.destroySelf()
    db.flush()
    assert list(mirror.probe_records) == [first]
    first.destroySelf()
    assert mirror.last_probe_record is None
    assert db.find(
        MirrorProbeRecord, distribution_mirror_id=mirror.id).count() == 0


# Enabling and disabling.

def test_disable_without_notifying(mirrors, db):
    """disable(notify_owner=False) disables the mirror and queues no
    mail."""
    mirror = mirrors["valid-mirror"]
    before = outbox_count(db)
    mirror.disable(notify_owner=False)
    db.flush()
    assert mirror.enabled is False
    assert mirror.date_disabled_notified is None
    assert outbox_count(db) == before


def test_disable_notifies_and_enable_forgets(mirrors, db):
    """disable() queues one message per recipient and records when;
    enable() enables the mirror and clears that date."""
    mirror = mirrors["archive-404-mirror"]
    mirror.newProbeRecord("GET dists/ -> 404\n")
    mirror.disable()
    db.flush()
    assert mirror.enabled is False
    assert mirror.date_disabled_notified is not None
    messages = [m.as_message() for m in db.find(OutboxMessage)]
    assert sorted(m["To"] for m in messages) == [
        "Foo Bar <foo.bar@example.com>",
        "Mark Shuttleworth <mark@example.com>"]
    assert all("GET dists/ -> 404" in m.get_content() for m in messages)
    mirror.enable()
    db.flush()
    assert mirror.enabled is True
    assert mirror.date_disabled_notified is None


def test_disable_quotes_given_log(mirrors, db):
    """A log given to disable() is quoted instead of the last probe's."""
    mirror = mirrors["unreachable-mirror"]
    mirror.disableAndNotifyOwner(log="the given log\n")
    messages = [m.as_message() for m in db.find(OutboxMessage)]
    assert messages
    for message in messages:
        assert "the given log" in message.get_content()
        assert "did not answer" not in message.get_content()


def test_disable_without_any_log(mirrors, db):
    """A mirror never probed is reported with an empty log."""
    mirrors["valid-mirror"].disable()
    messages = [m.as_message() for m in db.find(OutboxMessage)]
    assert messages
    assert all("(the log is empty)" in m.get_content() for m in messages)


# Paths the mirror should carry.

def test_guessed_paths(mirrors, ubuntu):
    """Every official architecture of every series not obsolete, every
    pocket and component has a Packages.gz; every series, pocket and
    component a Sources.gz."""
    mirror = mirrors["valid-mirror"]
    packages = mirror.guessPackagesPaths()
    sources = mirror.guessSourcesPaths()
    assert len(packages) == 2 * 1 * 5 * 2
    assert len(sources) == 2 * 5 * 2
    paths = [path for _, _, _, path in packages]
    assert "dists/warty/main/binary-i386/Packages.gz" in paths
    assert "dists/hoary-proposed/restricted/binary-i386/Packages.gz" in paths
    assert not [p for p in paths if "hppa" in p]
    assert len(set(paths)) == len(paths)
    source_paths = [path for _, _, _, path in sources]
    assert "dists/warty-backports/main/source/Sources.gz" in source_paths
    for arch, pocket, component, path in packages:
        assert path == "dists/%s%s/%s/binary-%s/Packages.gz" % (
            arch.distro_series.name, pocket.suffix, component.name,
            arch.architecture_tag)
    ubuntu.getSeries("warty").status = SeriesStatus.OBSOLETE
    assert len(mirror.guessPackagesPaths()) == 10
    assert not [p for _, _, _, p in mirror.guessSourcesPaths()
                if "warty" in p]


# The mirror set.

def test_mirror_set_lookups(mirrors):
    """Mirrors are found by id, name and any spelling of a base URL; unknown
    ones give None or a NotFoundError naming them."""
    mirror = mirrors["valid-mirror"]
    assert mirrors.get(mirror.id) == mirror
    assert mirrors.getByName("valid-mirror") == mirror
    assert mirrors.getByURL(
        "HTTP://Valid-Mirror.example.org:80/ubuntu") == mirror
    assert mirrors.getByURL("http://valid-mirror.example.org/") is None
    assert mirrors.getByURL("gopher://valid-mirror.example.org/") is None
    assert mirrors.getByURL("http://exa mple.org/") is None
    assert mirrors.getByName("nope") is None
    with pytest.raises(NotFoundError, match="no mirror is called 'nope'"):
        mirrors["nope"]
    with pytest.raises(NotFoundError, match="no mirror has the id -1"):
        mirrors.get(-1)
    assert names(mirrors) == sorted(names(mirrors))


def test_arch_record_repr(mirrors, places):
    """A content record names its mirror and place when printed."""
    warty, warty_i386, main, _ = places
    record = mirrors["valid-mirror"].ensureMirrorDistroArchSeries(
        warty_i386, P.SECURITY, main)
    assert isinstance(record, MirrorDistroArchSeries)
    assert repr(record) == (
        "<MirrorDistroArchSeries valid-mirror warty/i386 SECURITY main>")


def test_lag_from_detectors_or_the_band(mirrors, db):
    """A mirror's lag is the largest a detector measured, else none for an
    up-to-date mirror (it carries the newest upload), else the upper bound
    of its freshness band, else unknown."""
    from mirrorkeeper.model.mirrorcontent import MirrorFreshnessCheck
    mirror = mirrors["valid-mirror"]
    assert mirror.getLag() is None
    series = mirror.distribution.getSeries("warty")
    record = mirror.ensureMirrorDistroSeriesSource(
        series, P.RELEASE, series.components[0])
    record.freshness = F.UP
    db.flush()
    assert mirror.getLag() == 0
    record.freshness = F.ONEDAYBEHIND
    db.flush()
    assert mirror.getLag() == int(24.5 * 3600)
    check = MirrorFreshnessCheck(mirror, "trace", "project/trace/master")
    check.freshness, check.lag_seconds = F.SIXHOURSBEHIND, 5 * 3600
    db.add(check)
    db.flush()
    assert mirror.getLag() == 5 * 3600
