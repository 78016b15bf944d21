"""How fresh the prober cronscript finds mirrors of the fake farm: an exact
copy of a master whose newest upload is days old, a copy whose trace file
is 60 hours old while the master's history knows one trace, and a mirror
that has a place's index but not the upload checked for it."""

import os
from datetime import timedelta

import pytest

from mirrorkeeper.enums import MirrorFreshness, PackagePublishingPocket
from mirrorkeeper.model.distributionmirror import DistributionMirrorSet
from mirrorkeeper.model.masterarchive import TraceFileTimestampSet
from mirrorkeeper.model.mirrorcontent import source_paths_to_check
from mirrorkeeper.model.publishing import (
    BinaryPackagePublishingHistory, SourcePackagePublishingHistory)
from mirrorkeeper.timeutil import utcnow
from tests.farm.testing import prober_world  # noqa: F401
from tests.mirror_servers import write_archive

HOUR = 3600
TRACE = "project/trace/master"
# How old the master's newest upload is: days, well inside the week the
# publishing history looks back over.
NEWEST_UPLOAD_AGE = timedelta(hours=72)


def trace_line(when):
    return when.strftime("%a %b %d %H:%M:%S UTC %Y\n")



def age_the_master(store, newest_age, now):
    """Move every publication back in time, keeping their order, so that
    the newest was published `newest_age` before `now`."""
    publications = [
        publication for cls in (SourcePackagePublishingHistory,
                                BinaryPackagePublishingHistory)
        for publication in store.find(cls)
        if publication.date_published is not None]
    shift = (now - newest_age) - max(p.date_published for p in publications)
    for publication in publications:
        publication.date_published = publication.date_published + shift


@pytest.fixture
def farm_run(prober_world, tmp_path):
    """The prober run once over three mirrors; yields (the run, the
    mirror set, facts of the setup)."""
    world = prober_world
    now = utcnow().replace(microsecond=0)
    store = world.store()
    ubuntu = world.load_sample(store)
    age_the_master(store, NEWEST_UPLOAD_AGE, now)
    warty = ubuntu.getSeries("warty")
    main = warty.components[0]
    checked = source_paths_to_check(store, warty.id, main.id,
                                    PackagePublishingPocket.RELEASE, now)
    # The master's one trace on record, of an hour ago: a new deployment.
    master_trace = now - timedelta(hours=1)
    TraceFileTimestampSet(store).record(ubuntu, TRACE, master_trace,
                                        master_trace)
    trees = {"m-copy": (), "m-trace60": (),
             "m-stale": tuple(os.path.basename(path)
                              for path in checked.values())}
    traces = {"m-copy": master_trace, "m-stale": master_trace,
              "m-trace60": now - timedelta(hours=60)}
    for name, leave_out in trees.items():
        root = str(tmp_path / name)
        write_archive(root, store, leave_out=leave_out)
        os.makedirs(os.path.join(root, "project", "trace"))
        with open(os.path.join(root, TRACE), "w") as f:
            f.write(trace_line(traces[name]))
        url = world.start_farm(root, {name: "serve"})[name]
        world.add_mirror(store, ubuntu, name, http=url)
    store.commit()
    store.close()
    world.config = world.write_config(
        prober={"timeout": 5},
        freshness={"default": "publishing, trace"})
    prober = world.run(force=False)
    world.stop_farms()
    store = world.store()
    yield prober, DistributionMirrorSet(store), checked
    store.close()


def warty_sources(mirror):
    [record] = [record for record in mirror.source_series
                if record.distro_series.name == "warty"
                and record.pocket is PackagePublishingPocket.RELEASE
                and record.component.name == "main"]
    return record


def trace_check(mirror):
    [check] = [check for check in mirror.freshness_checks
               if check.detector == "trace"]
    return check


def test_freshness_found_by_the_cronscript(farm_run):
    """One run, three mirrors (one farm run per backend is enough for all
    of it)."""
    prober, mirrors, checked = farm_run
    assert prober.returncode == 0, prober.stderr
    assert "Probed 3 mirrors." in prober.stderr
    # The newest upload of warty's main sources is days old, and the one
    # upload checked for that place.
    assert list(checked) == [MirrorFreshness.ONEWEEKBEHIND]
    check_an_exact_copy_is_up(mirrors["m-copy"])
    check_a_trace_60_hours_old(mirrors["m-trace60"])
    check_a_place_without_its_checked_upload_is_stale(mirrors["m-stale"])


def expected_when_all_is_there(record):
    """UP for a place the master has uploads for; UNKNOWN for one it has
    none for (nothing to check)."""
    return (MirrorFreshness.UP if record.getURLsToCheckUpdateness()
            else MirrorFreshness.UNKNOWN)


def check_an_exact_copy_is_up(mirror):
    """A mirror with everything the master has is up to date, though the
    master's newest upload is three days old (Launchpad read it "One week
    behind"), and its trace is the master's."""
    assert mirror.enabled
    records = list(mirror.arch_series) + list(mirror.source_series)
    assert len(records) == len(mirror.guessPackagesPaths()) + len(
        mirror.guessSourcesPaths())
    assert [record.freshness for record in records] == [
        expected_when_all_is_there(record) for record in records]
    assert warty_sources(mirror).freshness is MirrorFreshness.UP
    check = trace_check(mirror)
    assert check.freshness is MirrorFreshness.UP and check.lag_seconds == 0
    assert mirror.getOverallFreshness() is MirrorFreshness.UP
    assert mirror.getLag() == 0


def check_a_trace_60_hours_old(mirror):
    """A trace 60 hours old is 59 hours older than the master's one trace on
    record, of an hour ago: that is its lag (it used to be "1.0 hours"), and
    it makes the whole mirror more than two days behind, though its
    archive is a copy of the master's."""
    check = trace_check(mirror)
    assert abs(check.lag_seconds - 59 * HOUR) <= 2, check.lag_seconds
    assert check.freshness is MirrorFreshness.ONEWEEKBEHIND
    assert warty_sources(mirror).freshness is MirrorFreshness.UP
    assert mirror.getOverallFreshness() is MirrorFreshness.ONEWEEKBEHIND
    assert mirror.getOverallFreshness().title == "More than two days behind"
    assert abs(mirror.getLag() - 59 * HOUR) <= 2
    assert "59.0 hours behind the master" in mirror.last_probe_record.log
    assert mirror.enabled


def check_a_place_without_its_checked_upload_is_stale(mirror):
    """A mirror that has warty's main Sources.gz but not the upload checked
    for it carries the place, more than two days behind, and the mirror as
    a whole is not up to date (it used to be UNKNOWN, and the mirror "Up to
    date")."""
    record = warty_sources(mirror)
    assert record.freshness is MirrorFreshness.ONEWEEKBEHIND
    assert mirror.getOverallFreshness() is MirrorFreshness.ONEWEEKBEHIND
    # Only that place is stale; the others are there, as fresh as a copy.
    others = [r for r in mirror.source_series if r.id != record.id]
    assert others and [r.freshness for r in others] == [
        expected_when_all_is_there(r) for r in others]
    assert trace_check(mirror).freshness is MirrorFreshness.UP
    assert mirror.enabled
    assert "Carries warty source main RELEASE: ONEWEEKBEHIND" in \
        mirror.last_probe_record.log
