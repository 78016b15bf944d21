"""What each probe found, as rows (mirrorkeeper.model.probefindings):
written by the recording step with the record, read set-wise on both
backends, and never read back from the log."""

import json
from datetime import timedelta

import pytest

from mirrorkeeper.enums import (
    MirrorContent, MirrorFreshness as F, MirrorStatus,
    PackagePublishingPocket as P, ProbeRecordState)
from mirrorkeeper.model.mirrorcontent import MirrorProbeRecord
from mirrorkeeper.model.probefindings import (
    MirrorProbeOutcome, MirrorProbePlace, MirrorProbeResult,
    freshness_history, has_findings, read_findings, series_freshness,
    why_disabled, why_disabled_by_record)
from mirrorkeeper.prober.plan import CDImageCheck, ContentCheck, MirrorPlan
from mirrorkeeper.prober.record import (
    ApplySettings, apply_record, prune_probe_records, upgrade_older_records,
    write_report)
from mirrorkeeper.enums import ProbeOutcome
from mirrorkeeper.prober.run import CDImageFinding, ContentFinding
from mirrorkeeper.prober.run import MirrorReport
from mirrorkeeper.timeutil import utcnow
from mirrorkeeper.web.probelogs import places_found
from mirrorkeeper.web.propagation import propagation
from tests.probe_findings import (
    arch_place, findings, probed, source_place)
from tests.web_harness import InProcessClient
from tests.web_harness import world  # noqa: F401


class Archive:
    """Warty's places in the sample Ubuntu."""

    def __init__(self, world):
        self.series = world.ubuntu.getSeries("warty")
        self.hoary = world.ubuntu.getSeries("hoary")
        self.main = self.series.components[0]
        self.i386 = self.series.getArch("i386")


def official(world, name, content=MirrorContent.ARCHIVE):
    return world.mirror(name, status=MirrorStatus.OFFICIAL, enabled=True,
                        content=content)


def report(mirror, content=(), images=(), log="a probe\n", outcomes=None,
           requests=None):
    """A MirrorReport of `mirror` with those ContentFindings and
    CDImageFindings."""
    plan = MirrorPlan(mirror.id, mirror.name, mirror.base_url,
                      mirror.content, mirror.enabled,
                      tuple(finding.check for finding in content),
                      tuple(finding.check for finding in images))
    if outcomes is None:
        outcomes = {ProbeOutcome.FOUND: len(content) + len(images)}
    return MirrorReport(
        plan, tuple(content), tuple(images), (), log,
        sum(outcomes.values()) if requests is None else requests, outcomes,
        (True, False), 1.0, protocols={"http": ProbeOutcome.NOT_FOUND},
        base_url=mirror.base_url)


def binary_check(archive, mirror, pocket=P.RELEASE, freshness_urls=None):
    return ContentCheck(
        "binary", (archive.i386.id, pocket, archive.main.id),
        "warty/i386 main %s" % (pocket.name,),
        mirror.base_url + "dists/warty/main/binary-i386/Packages.gz",
        {F.UP: mirror.base_url + "pool/a.deb"}
        if freshness_urls is None else freshness_urls)


def test_the_recording_step_writes_rows_with_the_record(world):
    """write_report writes, with the pending record, one row per place
    checked (with its ids, found or not, freshness, detector and
    outcome), the probe's result and its outcome counts."""
    archive = Archive(world)
    mirror = official(world, "rows")
    found = ContentFinding(binary_check(archive, mirror), True,
                           F.ONEDAYBEHIND)
    missing = ContentFinding(
        binary_check(archive, mirror, P.UPDATES, {}), False, F.UNKNOWN,
        ProbeOutcome.NOT_FOUND)
    record_id = write_report(world.store, report(
        mirror, [found, missing],
        outcomes={ProbeOutcome.FOUND: 2, ProbeOutcome.NOT_FOUND: 1}))
    store = world.store
    result = store.get(MirrorProbeResult, record_id)
    assert (result.requests, result.unreachable, result.lies) == (
        3, False, None)
    assert sorted(store.find(
        (MirrorProbeOutcome.outcome, MirrorProbeOutcome.requests),
        MirrorProbeOutcome.probe_record_id == record_id)) == [
            ("found", 2), ("not-found", 1)]
    rows = list(store.find(MirrorProbePlace, probe_record_id=record_id)
                .order_by(MirrorProbePlace.id))
    assert [(row.kind, row.distro_arch_series_id, row.pocket,
             row.component_id, row.found, row.freshness, row.detector,
             row.outcome) for row in rows] == [
        ("binary", archive.i386.id, P.RELEASE, archive.main.id, True,
         F.ONEDAYBEHIND, "publishing", "found"),
        ("binary", archive.i386.id, P.UPDATES, archive.main.id, False,
         F.UNKNOWN, None, "not-found")]
    assert [place.label for place in places_found(store, record_id)] == [
        "warty/i386 main RELEASE", "warty/i386 main UPDATES"]


def test_rows_that_cannot_be_written_take_the_record_with_them(world):
    """The rows are in the record's transaction: when they cannot be
    written (a place the database does not know), neither is the
    record."""
    archive = Archive(world)
    mirror = official(world, "unwritten")
    check = ContentCheck("binary", (999999, P.RELEASE, archive.main.id),
                         "nowhere", mirror.base_url + "x", {})
    with pytest.raises(Exception):
        write_report(world.store, report(
            mirror, [ContentFinding(check, True, F.UP)]))
    world.store.rollback()
    assert world.store.find(MirrorProbeRecord,
                            distribution_mirror_id=mirror.id).is_empty()


def test_applying_reads_the_rows_as_they_were_written(world):
    """read_findings gives back, from the rows alone, the places, CD
    images and detector files write_findings was given, in order, text
    COPY must escape and places the network hid included."""
    archive = Archive(world)
    mirror = official(world, "round-trip")
    content = [
        arch_place(archive.i386, archive.main, freshness=F.ONEDAYBEHIND,
                   label="tab\there, back\\slash", url=None),
        source_place(archive.series, archive.main, found=None,
                     freshness=F.UNKNOWN, outcome="timeout",
                     pocket=P.UPDATES, label="line\nbreak\r")]
    images = [{"series": archive.series.id, "flavour": "ubuntu",
               "found": False, "missing": 2, "images": 3}]
    detectors = [
        {"detector": "trace", "label": "project/trace/master",
         "freshness": F.TWOHOURSBEHIND.value, "lag_seconds": 5400,
         "syncing": True, "note": "\\N is not NULL\t\n", "found": True,
         "observed": True, "rpm_repository": None},
        {"detector": "trace", "label": "hidden", "freshness": None,
         "lag_seconds": None, "syncing": False, "note": None,
         "found": False, "observed": False, "rpm_repository": None}]
    found = findings(content, images, detectors,
                     outcomes={"found": 3, "timeout": 1})
    record = probed(world.store, mirror, found)
    world.store.commit()
    read = read_findings(world.store, record.id)
    for key in ("content", "cdimages", "detectors", "outcomes",
                "requests", "unreachable", "lies", "base_url"):
        assert read[key] == found[key], key
    assert read_findings(world.store, record.id + 1) is None


def test_a_new_record_keeps_its_places_once(world):
    """A record written by the prober keeps its places as rows only: its
    findings JSON holds what no row says."""
    archive = Archive(world)
    mirror = official(world, "once")
    record_id = write_report(world.store, report(mirror, [ContentFinding(
        binary_check(archive, mirror), True, F.UP)]))
    stored = json.loads(world.store.get(MirrorProbeRecord,
                                        record_id).findings)
    assert set(stored) == {"version", "protocols", "families",
                           "expected_cdimages", "bands_as_of"}
    assert stored["version"] == 2
    assert len(read_findings(world.store, record_id)["content"]) == 1


@pytest.mark.parametrize("log", [
    "",
    "\x1b[31mgarbage\x00 Carries: nothing: UP\n" * 50,
    "2025-01-05T10:00:00.000Z Spiegel hat warty/i386 main RELEASE: "
    "TWODAYSBEHIND\n",
])
def test_propagation_does_not_depend_on_the_log(world, log):
    """What a past probe found reaches the propagation page from its rows,
    whatever its log says: empty, garbage, or reworded to claim
    otherwise."""
    archive = Archive(world)
    store = world.store
    when = utcnow() - timedelta(days=1, hours=2)
    for name, band in (("p-up", F.UP), ("p-behind", F.SIXHOURSBEHIND)):
        mirror = official(world, name)
        record_id = write_report(store, report(mirror, [ContentFinding(
            binary_check(archive, mirror), True, band)], log=log))
        record = store.get(MirrorProbeRecord, record_id)
        record.date_created = when
        apply_record(store, record.id, ApplySettings(notify_owners=False))
        assert record.log == log.replace("\x00", "\ufffd")
    found = propagation(store, world.ubuntu, days=2)
    (warty,) = [series for series in found.series if series.name == "warty"]
    (release,) = [pocket for pocket in warty.pockets
                  if pocket.pocket == P.RELEASE.title]
    yesterday = dict(release.history)[sorted(dict(release.history))[-1]]
    # The sample's valid-mirror, never probed, is unknown.
    assert yesterday == {F.UP: 1, F.SIXHOURSBEHIND: 1, F.UNKNOWN: 1}
    text = InProcessClient(store).get("/ubuntu/+propagation").text
    assert "1 up to date, 1 six hours behind, 1 last update unknown" in text


def test_series_freshness_is_the_worst_known_per_series_and_pocket(world):
    """For each record, each series and pocket gets the worst known
    freshness of the places found there; places not found or hidden by
    the network count for nothing, and a record that found nothing maps
    to {}."""
    archive = Archive(world)
    store = world.store
    mirror = official(world, "sf")
    hoary_main = archive.hoary.components[0]
    one = probed(store, mirror, findings([
        arch_place(archive.i386, archive.main, freshness=F.UP),
        source_place(archive.series, archive.main, freshness=F.ONEDAYBEHIND),
        source_place(archive.series, archive.main, pocket=P.UPDATES,
                     found=False),
        source_place(archive.hoary, hoary_main, pocket=P.SECURITY,
                     found=None),
        source_place(archive.hoary, hoary_main, freshness=F.UNKNOWN)]))
    nothing = probed(store, mirror, findings([
        arch_place(archive.i386, archive.main, found=False)]))
    bare = mirror.newProbeRecord("no rows\n")
    store.flush()
    assert series_freshness(store, [one.id, nothing.id, bare.id]) == {
        one.id: {(archive.series.id, P.RELEASE): F.ONEDAYBEHIND,
                 (archive.hoary.id, P.RELEASE): F.UNKNOWN},
        nothing.id: {}, bare.id: {}}


def test_freshness_history_lists_applied_probes_of_the_window(world):
    """A mirror's freshness history holds each probe of the last days
    whose findings took effect, oldest first, each the worst known
    freshness it found; distrusted probes and older ones are left out,
    and a mirror never probed has an empty history."""
    archive = Archive(world)
    store = world.store
    now = utcnow()
    mirror, other = official(world, "fh"), official(world, "fh-never")
    for days, band, state in (
            (1, F.UP, ProbeRecordState.APPLIED),
            (3, F.TWODAYSBEHIND, ProbeRecordState.APPLIED),
            (2, F.ONEWEEKBEHIND, ProbeRecordState.DISTRUSTED),
            (40, F.ONEDAYBEHIND, ProbeRecordState.APPLIED)):
        probed(store, mirror, findings([
            arch_place(archive.i386, archive.main, freshness=band),
            source_place(archive.series, archive.main, found=False)]),
            when=now - timedelta(days=days), state=state)
    probed(store, mirror, findings(unreachable=True,
                                   outcomes={"timeout": 4}),
           when=now - timedelta(hours=1))
    store.commit()
    history = freshness_history(store, [mirror.id, other.id], days=30,
                                now=now)
    assert [band for _, band in history[mirror.id]] == [
        F.TWODAYSBEHIND, F.UP, F.UNKNOWN]
    dates = [date for date, _ in history[mirror.id]]
    assert dates == sorted(dates)
    assert history[other.id] == ()


def test_why_a_mirror_is_disabled_comes_from_its_last_probe(world):
    """Why each disabled mirror is disabled, in sentences, from the rows
    of its last applied probe: unreachable (with the outcomes and the
    runs), answering for a file that cannot exist, or carrying none of
    its index files; a mirror whose last probe found its content, or
    never probed, has none."""
    archive = Archive(world)
    store = world.store
    dark, liar, empty, fine, never = [
        official(world, name) for name in
        ("w-dark", "w-liar", "w-empty", "w-fine", "w-never")]
    dark.failed_runs = 3
    probed(store, dark, findings(
        unreachable=True,
        outcomes={"timeout": 2, "connection-refused": 5}))
    probed(store, liar, findings(
        [arch_place(archive.i386, archive.main)],
        lies="http://w-liar.example.org/ubuntu/mirrorkeeper-absent-x"))
    # An older probe found it fine: only the last one counts.
    probed(store, empty, findings([arch_place(archive.i386, archive.main)]))
    probed(store, empty, findings([
        arch_place(archive.i386, archive.main, found=False,
                   outcome="not-found", url="http://e/1"),
        source_place(archive.series, archive.main, found=False,
                     outcome="not-found", url="http://e/2"),
        source_place(archive.series, archive.main, pocket=P.UPDATES,
                     found=None, outcome="timeout", url="http://e/3")]))
    probed(store, fine, findings([arch_place(archive.i386, archive.main)]))
    # A pending probe has not taken effect: it is not why.
    probed(store, fine, findings(unreachable=True,
                                 outcomes={"timeout": 1}),
           state=ProbeRecordState.PENDING)
    store.commit()
    why = why_disabled(store, [dark, liar, empty, fine, never])
    assert set(why) == {dark.id, liar.id, empty.id}
    assert why[dark.id] == (
        "The mirror could not be reached in 3 consecutive probe runs; in "
        "the last one, every request failed: the connection was refused "
        "(5 requests); no complete answer before the timeout (2 "
        "requests).",)
    assert "mirrorkeeper-absent-x, a file that cannot exist" in \
        why[liar.id][0]
    assert why[empty.id] == (
        "None of the 3 index files probed (Packages.gz and Sources.gz of "
        "each place the mirror should carry) is there.",
        "2 answered: the file is not there, for example http://e/1.",
        "1 answered: no complete answer before the timeout, for example "
        "http://e/3.")


def test_a_cd_mirror_lacking_images_is_told_how_many(world):
    """A CD image mirror is disabled for the images it lacks, counted from
    its probe's rows, by the prober and on reading."""
    archive = Archive(world)
    store = world.store
    mirror = official(world, "w-cd", MirrorContent.RELEASE)
    checks = [CDImageCheck(series.id, series.name, "ubuntu",
                           ("http://cd/1.iso", "http://cd/2.iso"))
              for series in (archive.series, archive.hoary)]
    record_id = write_report(store, report(mirror, images=[
        CDImageFinding(checks[0], True, ()),
        CDImageFinding(checks[1], False, ("http://cd/2.iso",))]))
    expected = ("1 of the 4 CD images it should carry are missing.",)
    assert why_disabled_by_record(store, record_id, 0) == expected
    store.get(MirrorProbeRecord, record_id).state = ProbeRecordState.APPLIED
    assert why_disabled(store, [mirror]) == {mirror.id: expected}


def test_the_mail_tells_why_from_the_rows(world, store):
    """The owner's mail says why the mirror was disabled in the sentences
    the rows give, however the log reads."""
    from mirrorkeeper.mail.outbox import pending
    archive = Archive(world)
    mirror = official(world, "w-mail")
    record_id = write_report(store, report(mirror, [ContentFinding(
        binary_check(archive, mirror), False, F.UNKNOWN,
        ProbeOutcome.NOT_FOUND)], log="Alles kaputt\n",
        outcomes={ProbeOutcome.NOT_FOUND: 1}))
    changes = apply_record(store, record_id, ApplySettings())
    assert [change.change for change in changes] == ["disabled"]
    assert changes[0].why == why_disabled(store, [mirror])[mirror.id]
    bodies = [" ".join(message.message.split())
              for message in pending(store)]
    assert bodies and all(
        "None of the 1 index files probed" in body and
        "Alles kaputt" in body for body in bodies)


def test_upgrade_gives_older_records_their_rows(world):
    """Records written before the rows were (findings JSON only) get them
    at upgrade, once, and every record of JSON version 1 keeps only what
    no row says; a record whose JSON cannot be read, or with no findings,
    gets none; a pending one gets them when applied."""
    archive = Archive(world)
    store = world.store
    mirror = official(world, "older")
    found = findings([arch_place(archive.i386, archive.main,
                                 freshness=F.ONEHOURBEHIND)])
    older = mirror.newProbeRecord("older\n", duration_seconds=1.0)
    older.findings = json.dumps(found)
    broken = mirror.newProbeRecord("broken\n", duration_seconds=1.0)
    broken.findings = "{not json"
    bare = mirror.newProbeRecord("bare\n", duration_seconds=1.0)
    store.commit()
    # Written between patch 0013 and version 2: rows, and whole JSON.
    both = probed(store, mirror, found)
    store.commit()
    assert upgrade_older_records(store) == (2, 0)
    assert has_findings(store, older.id)
    assert not has_findings(store, broken.id)
    assert not has_findings(store, bare.id)
    assert series_freshness(store, [older.id, both.id]) == {
        record_id: {(archive.series.id, P.RELEASE): F.ONEHOURBEHIND}
        for record_id in (older.id, both.id)}
    assert store.find(MirrorProbePlace,
                      probe_record_id=both.id).count() == 1
    for converted in (older, both):
        assert json.loads(converted.findings) == {
            "version": 2, "protocols": {}, "families": [True, False],
            "expected_cdimages": []}
    assert broken.findings == "{not json"
    assert upgrade_older_records(store) == (0, 0)
    pending = mirror.newProbeRecord("pending\n", duration_seconds=1.0)
    pending.state = ProbeRecordState.PENDING
    pending.findings = json.dumps(found)
    store.flush()
    apply_record(store, pending.id, ApplySettings(notify_owners=False))
    assert has_findings(store, pending.id)
    assert json.loads(pending.findings)["version"] == 2


def test_pruned_records_take_their_rows(world):
    """Pruning old probe records deletes their rows too."""
    archive = Archive(world)
    store = world.store
    mirror = official(world, "pruned")
    old = probed(store, mirror, findings([
        arch_place(archive.i386, archive.main)]),
        when=utcnow() - timedelta(days=100))
    new = probed(store, mirror, findings([
        arch_place(archive.i386, archive.main)]))
    old_id, new_id = old.id, new.id
    store.commit()
    assert prune_probe_records(store, utcnow() - timedelta(days=30)) == 1
    for cls in (MirrorProbePlace, MirrorProbeOutcome):
        assert store.find(cls, probe_record_id=old_id).is_empty()
        assert not store.find(cls, probe_record_id=new_id).is_empty()
    assert store.get(MirrorProbeResult, old_id) is None


def test_a_disabled_mirrors_page_tells_why_to_who_reads_its_logs(world):
    """A disabled mirror's page says why, from its last probe's rows, to
    its owner and the mirror admins, not to others; an enabled mirror's
    page says nothing of it."""
    store = world.store
    mirror = world.mirror("w-page", status=MirrorStatus.OFFICIAL,
                          enabled=False)
    mirror.failed_runs = 2
    probed(store, mirror, findings(unreachable=True,
                                   outcomes={"dns-error": 3}),
           log="2025-01-05T10:00:00.000Z Kein Anschluss\n")
    store.commit()
    client = InProcessClient(store)
    page = "/ubuntu/+mirror/w-page"
    sentence = ("could not be reached in 2 consecutive probe runs; in the "
                "last one, every request failed: the host name could not "
                "be resolved (3 requests)")
    assert "Why it is disabled" not in client.get(page).text
    client.login("oscar")
    assert "Why it is disabled" not in client.get(page).text
    for viewer in ("olive", "adam"):
        client.login(viewer)
        text = client.get(page).text
        assert "Why it is disabled" in text and sentence in text
    mirror.enabled = True
    store.commit()
    assert "Why it is disabled" not in client.get(page).text


def test_the_probe_log_page_lists_what_was_found(world):
    """A probe's log page lists, from its rows, each place checked with
    whether it was found, its freshness and the answer, beside a log that
    says none of it; a record without rows shows its log alone."""
    archive = Archive(world)
    store = world.store
    mirror = official(world, "w-log")
    record_id = write_report(store, report(mirror, [
        ContentFinding(binary_check(archive, mirror), True, F.TWOHOURSBEHIND),
        ContentFinding(binary_check(archive, mirror, P.UPDATES), None,
                       F.UNKNOWN, ProbeOutcome.TIMEOUT)],
        log="nothing to read here\n"))
    bare = mirror.newProbeRecord("a bare log\n")
    store.commit()
    client = InProcessClient(store)
    client.login("olive")
    page = "/ubuntu/+mirror/w-log/+probe/%d"
    text = client.get(page % record_id).text
    assert "nothing to read here" in text
    assert ("<td>warty/i386 main RELEASE</td><td>yes</td>"
            '<td><span class="badge f-TWOHOURSBEHIND">') in text
    assert "<td>warty/i386 main UPDATES</td><td>cannot tell</td>" in text
    assert "<td>publishing</td><td></td><td>timeout</td>" in text
    text = client.get(page % bare.id).text
    assert "a bare log" in text and "What it found" not in text


def test_a_mirrors_page_charts_its_freshness_at_each_probe(world):
    """A mirror's page charts its freshness at each probe of the last
    days, from the probes' rows, a bar per probe titled with its date and
    band; a mirror never probed has no chart."""
    archive = Archive(world)
    store = world.store
    mirror = official(world, "w-chart")
    now = utcnow()
    for days, band in ((2, F.ONEDAYBEHIND), (1, F.UP)):
        probed(store, mirror, findings([
            arch_place(archive.i386, archive.main, freshness=band)]),
            log="garbage\n", when=now - timedelta(days=days))
    official(world, "w-unprobed")
    store.commit()
    client = InProcessClient(store)
    text = client.get("/ubuntu/+mirror/w-chart").text
    assert "Freshness at each probe" in text
    titles = [(now - timedelta(days=days)).strftime("%Y-%m-%d %H:%M") +
              ": " + band for days, band in ((2, "one day behind"),
                                             (1, "up to date"))]
    assert text.index(titles[0]) < text.index(titles[1])
    assert "Freshness at each probe" not in client.get(
        "/ubuntu/+mirror/w-unprobed").text


def test_the_rows_provide_their_interfaces(world):
    """Each kind of row provides its interface."""
    from zope.interface.verify import verifyObject
    from mirrorkeeper.interfaces.probefindings import (
        IMirrorProbeOutcome, IMirrorProbePlace, IMirrorProbeResult)
    archive = Archive(world)
    store = world.store
    record = probed(store, official(world, "w-iface"), findings(
        [arch_place(archive.i386, archive.main)]))
    for interface, cls in ((IMirrorProbeResult, MirrorProbeResult),
                           (IMirrorProbeOutcome, MirrorProbeOutcome),
                           (IMirrorProbePlace, MirrorProbePlace)):
        (row,) = store.find(cls, cls.probe_record_id == record.id)
        assert verifyObject(interface, row)
