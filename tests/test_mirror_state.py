"""The read model (mirrorkeeper.model.mirrorstate): one database with
mirrors in many states, and every reader (the web's mirror pages and
listings, the JSON API, the command line's --json, /metrics and the mirror
list snapshot) saying the same thing of every mirror."""

import json
import os
import re
import subprocess
import sys
from datetime import datetime, timedelta

import pytest
from zope.interface.verify import verifyObject

from mirrorkeeper.enums import (
    MirrorContent, MirrorFreshness as F, MirrorStatus,
    PackagePublishingPocket)
from mirrorkeeper.interfaces.distributionmirror import (
    IMirrorState, IMirrorStateSet)
from mirrorkeeper.mirrorjson import enum_label, json_date, mirror_json
from mirrorkeeper.model.masterarchive import RPMRepository
from mirrorkeeper.model.mirrorcontent import (
    MirrorFreshnessCheck, MirrorRPMRepository)
from mirrorkeeper.model.mirrorstate import (
    KeptStates, MirrorStateSet, PublicationPolicy, last_probe_durations,
    states_version, states_where)
from mirrorkeeper.publish.snapshot import build_snapshot
from mirrorkeeper.timeutil import utcnow
from mirrorkeeper.web.layout import format_minute
from mirrorkeeper.web.listing_pages import LISTING_PATHS

from tests.statements import recorded_statements
from tests.web_harness import InProcessClient, World

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

OFFICIAL = MirrorStatus.OFFICIAL

# What each mirror of the world is, as a person would tell it: freshness,
# lag in seconds, whether package managers are offered it, the site's
# listings it is in.
EXPECTED = {
    "fresh": (F.UP, 0, True, ("archive",)),
    "behind": (F.ONEDAYBEHIND, 90000, True, ("archive",)),
    "unreachable": (F.UP, 0, False, ("archive",)),
    "disabled": (F.TWODAYSBEHIND, 48 * 3600 + 1800, False, ("disabled",)),
    "unofficial": (F.UP, 0, False, ("unofficial",)),
    "pending": (F.UNKNOWN, None, False, ("pending",)),
    "never-probed": (F.UNKNOWN, None, True, ("archive",)),
    "no-candidate": (F.UP, 0, False, ()),
    "paused": (F.UP, 0, False, ()),
    "rpm": (F.SIXHOURSBEHIND, 6 * 3600 + 1800, True, ("archive",)),
    "cdimage": (F.UP, 0, True, ("cdimage",)),
    "cdimage-empty": (F.UNKNOWN, None, True, ("cdimage",)),
    "http-down": (F.UP, 0, True, ("archive",)),
    "all-down": (F.UP, 0, False, ("archive",)),
}

LOG = ("2025-01-05T10:00:00.000Z Probing a mirror\n"
       "2025-01-05T10:00:02.500Z Done: 3 requests\n")


def band_lag(freshness):
    return None if freshness.threshold is None \
        else int(freshness.threshold.total_seconds())


@pytest.fixture
def world(store):
    """The sample Ubuntu and a mirror in each state of EXPECTED."""
    world = World(store)
    ubuntu = world.ubuntu
    series = ubuntu.getSeries("warty")
    arch = series.official_architectures[0]
    component = series.components[0]
    pocket = PackagePublishingPocket.RELEASE
    probed = utcnow().replace(microsecond=0) - timedelta(hours=2)

    def archive(name, freshness=F.UP, status=OFFICIAL, enabled=True,
                content=MirrorContent.ARCHIVE, duration=1.5, **details):
        mirror = world.mirror(name, status=status, enabled=enabled,
                              content=content, **details)
        if content is MirrorContent.ARCHIVE and freshness is not None:
            mirror.ensureMirrorDistroArchSeries(
                arch, pocket, component).freshness = freshness
            source = mirror.ensureMirrorDistroSeriesSource(
                series, pocket, component)
            source.freshness = F.UNKNOWN
        if duration is not False:
            mirror.newProbeRecord(LOG, date_created=probed,
                                  duration_seconds=duration)
        return mirror

    archive("fresh")
    behind = archive("behind")
    check = MirrorFreshnessCheck(behind, "trace", "project/trace/master")
    check.freshness = F.ONEDAYBEHIND
    check.lag_seconds = 90000
    store.add(check)
    archive("unreachable").failed_runs = 2
    disabled = archive("disabled", F.TWODAYSBEHIND, enabled=False)
    disabled.date_disabled = probed
    archive("unofficial", status=MirrorStatus.UNOFFICIAL)
    archive("pending", None, status=MirrorStatus.PENDING_REVIEW,
            enabled=False, duration=False)
    archive("never-probed", None, duration=False)
    archive("no-candidate").official_candidate = False
    archive("paused").owner_paused = True
    # Its newest probe has no recorded duration.
    rpm = archive("rpm", None, duration=None)
    current = RPMRepository(ubuntu, "releases/40/Everything/x86_64/os",
                            "x86_64", "40", probed)
    gone = RPMRepository(ubuntu, "releases/39/Everything/x86_64/os",
                         "x86_64", "39", probed)
    store.add(current)
    store.add(gone)
    store.flush()
    gone.date_removed = probed
    # The master dropped `gone`: the last probe did not see it.
    for repository, freshness in ((current, F.SIXHOURSBEHIND),
                                  (gone, F.UNKNOWN)):
        record = MirrorRPMRepository(rpm, repository.id)
        record.freshness = freshness
        store.add(record)
    cdimage = archive("cdimage", content=MirrorContent.RELEASE)
    cdimage.ensureMirrorCDImageSeries(series, "ubuntu")
    archive("cdimage-empty", content=MirrorContent.RELEASE)
    down = archive("http-down",
                   https_base_url="https://http-down.example.org/ubuntu/")
    down.http_answered, down.https_answered = False, True
    archive("all-down").http_answered = False
    store.commit()
    world.probed = probed
    return world


def states_by_name(store):
    return {state.name: state for state in states_where(store)}


def test_each_mirror_is_in_the_state_it_was_put_in(world):
    """Freshness, lag, publication and listings are what the world says:
    the worst known record, a measured lag over a band's, CD image mirrors
    UP when they carry images."""
    states = states_by_name(world.store)
    for name, (freshness, lag, listed, lists) in EXPECTED.items():
        state = states[name]
        assert verifyObject(IMirrorState, state)
        assert (state.freshness, state.lag_seconds, state.listed,
                state.lists) == (freshness, lag, listed, lists), name
        assert state.official is (name not in (
            "unofficial", "pending", "no-candidate")), name
    assert states["behind"].measured_lag_seconds == 90000
    assert states["behind"].detected is F.ONEDAYBEHIND
    assert states["fresh"].measured_lag_seconds is None
    assert band_lag(F.TWODAYSBEHIND) == EXPECTED["disabled"][1]
    assert states["unreachable"].unreachable
    assert states["unreachable"].why_unpublished() == (
        "unreachable in the last 2 probe runs",)
    assert states["disabled"].why_unpublished() == ("disabled",)
    assert states["disabled"].date_disabled == world.probed
    assert states["all-down"].why_unpublished() == (
        "no URL answered its last probe",)
    assert states["http-down"].published_urls == {
        "https": "https://http-down.example.org/ubuntu/"}
    assert states["fresh"].last_probe == world.probed
    assert states["fresh"].last_applied_probe == world.probed
    assert states["fresh"].last_probe_duration == 1.5
    assert states["rpm"].last_probe_duration is None
    assert states["rpm"].last_probe == world.probed
    assert states["never-probed"].last_probe is None
    assert states["fresh"].bandwidth_mbps == 1000


def test_the_model_asks_the_read_model(world):
    """A mirror object's getOverallFreshness, getLag, isOfficial and
    bandwidth agree with its state."""
    states = states_by_name(world.store)
    for mirror in world.ubuntu.mirrors:
        state = states[mirror.name]
        assert mirror.getOverallFreshness() is state.freshness
        assert mirror.getLag() == state.lag_seconds
        assert mirror.isOfficial() is state.official
        assert mirror.bandwidth_mbps == state.bandwidth_mbps
        assert mirror.getState() == state


def test_the_set_answers_for_many_mirrors_at_once(world):
    """MirrorStateSet gives the states by id, and the last probes'
    durations the prober schedules by."""
    states = states_by_name(world.store)
    mirrors = MirrorStateSet(world.store)
    assert verifyObject(IMirrorStateSet, mirrors)
    ids = [state.id for state in states.values()]
    assert mirrors.of(ids) == {state.id: state for state in states.values()}
    assert mirrors.of([-1]) == {}
    durations = last_probe_durations(world.store, ids)
    assert durations == {state.id: state.last_probe_duration
                         for state in states.values()
                         if state.last_probe_duration is not None}
    assert states["pending"].id not in durations


def test_kept_states_read_again_only_the_mirrors_that_changed(world):
    """KeptStates gives what states_where gives; after a change it reads
    the state of the changed mirror only, and a deleted mirror is gone
    from it; the version changes with each change."""
    store = world.store
    kept = KeptStates()
    assert kept.where(store) == states_where(store)
    version = states_version(store)
    fresh = world.store.find(MirrorRPMRepository).any()
    mirror = store.get(type(fresh.distribution_mirror),
                       fresh.distribution_mirror_id)
    fresh.freshness = F.ONEWEEKBEHIND
    store.commit()
    assert states_version(store) != version
    with recorded_statements() as log:
        states = kept.where(store)
    assert states == states_where(store)
    assert {state.name: state.freshness for state in states}[
        mirror.name] is F.ONEWEEKBEHIND
    (read,) = log.reading("mirror_rpm_repository")
    assert "IN (?)" in read or "IN (%s)" in read
    version = states_version(store)
    name = mirror.name
    store.remove(mirror)
    store.commit()
    assert states_version(store) != version
    assert name not in {state.name for state in kept.where(store)}
    assert kept.where(store, lambda state: state.name == "fresh") == [
        states_by_name(store)["fresh"]]


def test_a_few_fields_are_what_the_whole_json_says(world):
    """The status API's few fields of each mirror, written alone, are what
    the whole JSON of it says, in the status's order."""
    from mirrorkeeper.mirrorjson import mirror_json
    from mirrorkeeper.web.api import STATUS_FIELDS
    for state in states_by_name(world.store).values():
        whole = mirror_json(state)
        few = mirror_json(state, fields=STATUS_FIELDS)
        assert list(few) == list(STATUS_FIELDS)
        assert few == {name: whole[name] for name in STATUS_FIELDS}


def test_a_policy_publishes_more(world):
    """Under a policy that takes unofficial mirrors, or names one, they are
    published; pending ones never are unless named."""
    states = states_by_name(world.store)
    policy = PublicationPolicy(include_unofficial=True,
                               include_mirrors={"no-candidate"})
    assert states["unofficial"].published(policy)
    assert states["no-candidate"].published(policy)
    assert not states["pending"].published(policy)
    assert states["pending"].why_unpublished(policy) == (
        "pending review", "disabled")


def _metrics(text, family):
    found = {}
    for mirror, value in re.findall(
            r'^%s\{distribution="ubuntu",mirror="([^"]+)"\} (\S+)$'
            % family, text, re.MULTILINE):
        found[mirror] = float(value)
    return found


def _names_in(page):
    return set(re.findall(r'href="/ubuntu/\+mirror/([^"/]+)"', page))


def _cli(database_uri, *args):
    env = dict(os.environ, PYTHONPATH=os.path.join(ROOT, "lib"))
    env.pop("MIRRORKEEPER_DATABASE", None)
    done = subprocess.run(
        [sys.executable, "-m", "mirrorkeeper.scripts.cli", "--database",
         database_uri] + list(args), capture_output=True, text=True,
        cwd=ROOT, env=env, timeout=120)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def test_every_reader_says_the_same(world, database_uri):
    """The mirror pages and listings, the API, the command line's --json,
    /metrics and the snapshot say of every mirror what its state says."""
    store = world.store
    states = states_by_name(store)
    client = InProcessClient(store)
    client.login("adam")

    # The API writes each mirror as mirror_json writes its state.
    listed = client.get("/api/1/mirrors?distribution=ubuntu").json()
    by_name = {entry["name"]: entry for entry in listed["mirrors"]}
    assert set(by_name) == set(states)
    for name, state in states.items():
        assert by_name[name] == json.loads(json.dumps(mirror_json(state)))
        freshness, lag, published, lists = EXPECTED.get(
            name, (state.freshness, state.lag_seconds, state.listed,
                   state.lists))
        entry = by_name[name]
        assert (entry["freshness"], entry["lag_seconds"], entry["listed"],
                tuple(entry["lists"])) == (
                    enum_label(freshness), lag, published, lists), name
    status = client.get("/api/1/status?distribution=ubuntu").json()
    for entry in status["mirrors"]:
        assert entry == {key: by_name[entry["name"]][key] for key in entry}
    assert len(status["mirrors"]) == len(states)
    for name in states:
        one = client.get("/api/1/mirrors/%s" % name).json()["mirror"]
        assert {key: one[key] for key in by_name[name]} == by_name[name]

    # The command line's --json, from a process of its own.
    assert {entry["name"]: entry for entry in _cli(
        database_uri, "mirror", "list", "ubuntu",
        "--json")} == by_name
    for name in ("fresh", "behind", "rpm", "cdimage", "http-down"):
        shown = _cli(database_uri, "mirror", "show", name, "--json")
        api = client.get("/api/1/mirrors/%s" % name).json()["mirror"]
        assert {key: shown[key] for key in api} == api
        assert shown["whiteboard"] is None and "whiteboard" not in api

    # The web's mirror pages and listings.
    for name, state in states.items():
        page = client.get("/ubuntu/+mirror/%s" % name).text
        assert 'class="badge f-%s"' % state.freshness.name in page, name
        assert format_minute(state.last_probe) in page, name
        assert "<dt>In the mirror lists</dt><dd>%s</dd>" % (
            "yes" if state.listed else "no: " + ", ".join(
                state.why_unpublished())) in page, name
        assert ("unreachable:" in page) is state.unreachable, name
    for kind, path in LISTING_PATHS.items():
        page = client.get("/ubuntu/%s" % path).text
        assert _names_in(page) == {name for name, state in states.items()
                                   if kind in state.lists}, kind

    # /metrics.
    text = client.get("/metrics").text
    levels = _metrics(text, "mirrorkeeper_mirror_freshness_level")
    assert levels == {name: state.freshness.value
                      for name, state in states.items()}
    assert _metrics(text, "mirrorkeeper_mirror_unreachable") == {
        name: int(state.unreachable) for name, state in states.items()}
    assert _metrics(text, "mirrorkeeper_mirror_lag_seconds") == {
        name: state.measured_lag_seconds for name, state in states.items()
        if state.measured_lag_seconds is not None}
    assert _metrics(
        text, "mirrorkeeper_mirror_last_probe_duration_seconds") == {
        name: state.last_probe_duration for name, state in states.items()
        if state.last_probe_duration is not None}
    probed = _metrics(
        text, "mirrorkeeper_mirror_last_probe_timestamp_seconds")
    assert {name: json_date(datetime.utcfromtimestamp(value))
            for name, value in probed.items()} == {
        name: json_date(state.last_probe) for name, state in states.items()
        if state.last_probe is not None}

    # The snapshot publishes the listed mirrors, as fresh as they are.
    snapshot = build_snapshot(store, world.ubuntu)
    published = {mirror["name"]: mirror for mirror in snapshot["mirrors"]}
    assert set(published) == {name for name, state in states.items()
                              if state.listed}
    for name, mirror in published.items():
        state = states[name]
        assert mirror["freshness"] == state.freshness.value, name
        assert mirror["bandwidth"] == state.bandwidth_mbps
        assert mirror["urls"] == state.published_urls
        assert mirror.get("lag") == state.measured_lag_seconds
        assert mirror.get("probed") == (
            None if state.last_applied_probe is None
            else int(state.last_applied_probe.timestamp()
                     if state.last_applied_probe.tzinfo else
                     (state.last_applied_probe -
                      datetime(1970, 1, 1)).total_seconds()))
