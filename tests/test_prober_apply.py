"""Applying what a trusted run found (mirrorkeeper.prober.record): only
what the run observed makes a mirror fresh, a place the network hid keeps
its record, an unreachable mirror keeps everything until it has been so for
long enough, and "enabled again" is said only of a mirror that was
disabled."""

import json
from datetime import datetime

from mirrorkeeper.enums import (
    MirrorContent, MirrorFreshness, MirrorStatus,
    PackagePublishingPocket as P,
    ProbeRecordState)
from mirrorkeeper.model.distributionmirror import (
    DistributionMirror, DistributionMirrorSet)
from mirrorkeeper.model.masterarchive import RPMRepositorySet
from mirrorkeeper.model.mirrorcontent import MirrorRPMRepository
from mirrorkeeper.prober.record import ApplySettings, apply_record


def findings(**overrides):
    value = {
        "version": 1, "unreachable": False, "lies": "", "base_url": "",
        "protocols": {"http": "not-found"}, "families": [True, False],
        "requests": 1, "outcomes": {"not-found": 1}, "content": [],
        "cdimages": [], "expected_cdimages": [], "detectors": []}
    value.update(overrides)
    return value


def content(kind, place_id, found, freshness=MirrorFreshness.UP,
            outcome="found", component=None):
    return {"kind": kind, "place": place_id, "pocket": P.RELEASE.value,
            "component": component, "label": "a place", "found": found,
            "url": "http://mirror.example/dists/x/Packages.gz",
            "freshness": freshness.value, "outcome": outcome}


def pending(store, mirror, found):
    record = mirror.newProbeRecord("a probe\n")
    record.state = ProbeRecordState.PENDING
    record.findings = json.dumps(found)
    store.flush()
    return record


class Places:
    def __init__(self, store):
        self.store = store
        self.mirror = DistributionMirrorSet(store)["valid-mirror"]
        self.mirror.status = MirrorStatus.OFFICIAL
        warty = self.mirror.distribution.getSeries("warty")
        self.main = warty.components[0]
        self.arch = warty.getArch("i386")
        self.series = warty

    def binary(self, found, **kwargs):
        return content("binary", self.arch.id, found,
                       component=self.main.id, **kwargs)

    def source(self, found, **kwargs):
        return content("source", self.series.id, found,
                       component=self.main.id, **kwargs)

    def carry_both(self):
        self.mirror.ensureMirrorDistroArchSeries(
            self.arch, P.RELEASE, self.main).freshness = MirrorFreshness.UP
        self.mirror.ensureMirrorDistroSeriesSource(
            self.series, P.RELEASE, self.main).freshness = MirrorFreshness.UP


def test_places_the_run_did_not_observe_count_for_nothing(sample_store):
    """A record of a place the run did not ask about, and an RPM repository
    no detector looked at, keep their rows with their freshness unknown:
    yesterday's "up to date" never carries over."""
    places = Places(sample_store)
    places.carry_both()
    repository = RPMRepositorySet(sample_store).ensure(
        places.mirror.distribution, "fedora/os", "x86_64", "40",
        datetime(2024, 6, 1))
    sample_store.flush()
    row = MirrorRPMRepository(places.mirror, repository.id)
    row.freshness = MirrorFreshness.UP
    sample_store.add(row)
    record = pending(sample_store, places.mirror,
                     findings(content=[places.binary(True)]))
    apply_record(sample_store, record.id, ApplySettings())
    mirror = places.mirror
    assert mirror.arch_series.one().freshness is MirrorFreshness.UP
    assert mirror.source_series.one().freshness is MirrorFreshness.UNKNOWN
    assert mirror.rpm_repositories.one().freshness is \
        MirrorFreshness.UNKNOWN
    assert record.state is ProbeRecordState.APPLIED


def test_a_place_hidden_by_the_network_keeps_its_record(sample_store):
    """A place whose index could not be asked for (the network failed)
    keeps its record, its freshness unknown; one answered 404 loses it."""
    places = Places(sample_store)
    places.carry_both()
    record = pending(sample_store, places.mirror, findings(content=[
        places.binary(None, freshness=MirrorFreshness.UNKNOWN,
                      outcome="timeout"),
        places.source(False, freshness=MirrorFreshness.UNKNOWN,
                      outcome="not-found")]))
    changes = apply_record(sample_store, record.id, ApplySettings())
    mirror = places.mirror
    assert mirror.arch_series.one().freshness is MirrorFreshness.UNKNOWN
    assert mirror.source_series.is_empty()
    assert mirror.enabled and changes == []


def test_unreachable_keeps_everything_until_the_limit(sample_store):
    """An unreachable mirror keeps its records and enabled state and only
    counts the run; at the limit it is disabled and told why."""
    places = Places(sample_store)
    places.carry_both()
    places.mirror.has_ipv4 = True
    dark = findings(unreachable=True, families=[False, False],
                    outcomes={"connection-error": 3},
                    protocols={"http": "connection-error"})
    settings = ApplySettings(disable_after_failed_runs=3)
    for run in (1, 2):
        changes = apply_record(sample_store,
                               pending(sample_store, places.mirror, dark).id,
                               settings)
        assert changes == []
        mirror = places.mirror
        assert mirror.enabled and mirror.failed_runs == run
        assert mirror.arch_series.one().freshness is MirrorFreshness.UP
        # What was measured when it answered stays.
        assert mirror.has_ipv4 is True
        assert mirror.http_answered is False
    changes = apply_record(sample_store,
                           pending(sample_store, places.mirror, dark).id,
                           settings)
    assert [change.change for change in changes] == ["disabled"]
    assert "could not be reached in 3 consecutive probe runs" in \
        changes[0].why[0]
    assert "the connection could not be made (3 requests)" in \
        changes[0].why[0]
    assert not places.mirror.enabled


def test_enabled_again_only_when_it_was_disabled(sample_store):
    """A mirror enabled for the first time is "enabled", one the prober had
    disabled "enabled again"; an answer resets the unreachable count."""
    places = Places(sample_store)
    mirror = places.mirror
    mirror.enabled = False
    mirror.failed_runs = 1
    found = findings(content=[places.binary(True)])
    changes = apply_record(sample_store, pending(sample_store, mirror,
                                                 found).id, ApplySettings())
    assert [(c.change, c.again) for c in changes] == [("enabled", False)]
    assert mirror.failed_runs == 0 and mirror.http_answered is True
    mirror.disable(notify_owner=False)
    changes = apply_record(sample_store, pending(sample_store, mirror,
                                                 found).id, ApplySettings())
    assert [(c.change, c.again) for c in changes] == [("enabled", True)]


def test_a_liar_loses_everything(sample_store):
    """A mirror that answered 200 for a file that cannot exist loses every
    record and is disabled, told why."""
    places = Places(sample_store)
    places.carry_both()
    places.mirror.enabled = True
    record = pending(sample_store, places.mirror, findings(
        lies="http://mirror.example/mirrorkeeper-absent-1",
        protocols={"http": "found"}, content=[places.binary(True)]))
    changes = apply_record(sample_store, record.id,
                           ApplySettings(notify_owners=False))
    mirror = places.mirror
    assert mirror.arch_series.is_empty() and mirror.source_series.is_empty()
    assert not mirror.enabled and mirror.http_answered is False
    assert "a file that cannot exist" in changes[0].why[0]


def test_a_record_that_cannot_be_applied_is_abandoned_alone(sample_store):
    """A record whose findings cannot be read is rolled back and marked
    abandoned, saying why, and the run's other records are applied."""
    from mirrorkeeper.prober.record import apply_run, start_run, trust_run
    places = Places(sample_store)
    mirror = places.mirror
    other = DistributionMirrorSet(sample_store)["archive-404-mirror"]
    other.status = MirrorStatus.OFFICIAL
    sample_store.commit()
    run_id = start_run(sample_store, mirror.content)
    broken = pending(sample_store, mirror, findings())
    broken.findings = "{not json"
    broken.prober_run_id = run_id
    good = pending(sample_store, other, findings(content=[
        places.binary(True)]))
    good.prober_run_id = run_id
    broken_id, good_id = broken.id, good.id
    sample_store.commit()
    trust_run(sample_store, run_id)
    errors = []

    class Logger:
        def error(self, text, *args):
            errors.append(text % args)
    apply_run(sample_store, run_id, ApplySettings(), Logger())
    from mirrorkeeper.model.mirrorcontent import MirrorProbeRecord
    broken = sample_store.get(MirrorProbeRecord, broken_id)
    assert broken.state is ProbeRecordState.ABANDONED
    assert "Applying what this probe found failed" in \
        broken.log.splitlines()[0]
    assert sample_store.get(MirrorProbeRecord, good_id).state is \
        ProbeRecordState.APPLIED
    assert len(errors) == 1 and "Could not apply" in errors[0]


def test_a_run_is_applied_a_batch_of_mirrors_a_transaction(sample_store):
    """A trusted run's records are applied APPLY_BATCH to a transaction:
    a query for their mirrors, one for their places and a commit for the
    lot, where a transaction a mirror cost each of them per mirror."""
    from mirrorkeeper.prober.record import (
        apply_run, start_run, trust_run, write_record)
    from tests.statements import recorded_statements
    places = Places(sample_store)
    mirrors = [mirror for mirror in DistributionMirrorSet(sample_store)
               if mirror.distribution == places.mirror.distribution
               and mirror.content is MirrorContent.ARCHIVE]
    assert len(mirrors) >= 3
    for mirror in mirrors:
        mirror.status = MirrorStatus.OFFICIAL
    mirror_ids = [mirror.id for mirror in mirrors]
    sample_store.commit()
    run_id = start_run(sample_store, MirrorContent.ARCHIVE)
    for mirror in mirrors:
        write_record(sample_store, mirror.id, "a probe\n", findings(
            version=2, content=[places.binary(True)], releases=[]),
            run_id=run_id)
    trust_run(sample_store, run_id)
    with recorded_statements() as applied:
        apply_run(sample_store, run_id, ApplySettings())
    assert applied.commits == 1
    assert len(applied.reading("FROM mirror_probe_place")) == 1
    assert len(applied.reading("FROM distribution_mirror WHERE")) == 1
    from mirrorkeeper.model.mirrorcontent import MirrorProbeRecord
    assert {record.state for record in sample_store.find(
        MirrorProbeRecord, prober_run_id=run_id)} == {
            ProbeRecordState.APPLIED}
    for mirror_id in mirror_ids:
        assert sample_store.get(DistributionMirror, mirror_id).arch_series.one(
            ).freshness is MirrorFreshness.UP


def test_writing_and_applying_touch_the_record_once_each(sample_store):
    """Writing a probe record and applying it each write its row with one
    statement, so that the mirror's revision triggers fire once each, and
    neither loads a probe record, log and all, as an object."""
    from mirrorkeeper.prober.record import write_record
    from tests.statements import recorded_statements
    places = Places(sample_store)
    places.carry_both()
    sample_store.commit()

    def writes(log):
        return [statement for statement in log.statements
                if statement.split(None, 1)[0].upper() in (
                    "INSERT", "UPDATE", "DELETE")
                and "mirror_probe_record " in statement + " "]

    def loads(log):
        return [statement for statement in log.statements
                if "mirror_probe_record.log" in statement]
    with recorded_statements() as written:
        record_id = write_record(
            sample_store, places.mirror.id, "a probe\n", findings(
                version=2, content=[places.binary(True)], releases=[]))
    with recorded_statements() as applied:
        changes = apply_record(sample_store, record_id, ApplySettings())
    assert changes == []
    assert len(writes(written)) == 1 and len(writes(applied)) == 1
    assert not loads(written) and not loads(applied)
    from mirrorkeeper.model.mirrorcontent import MirrorProbeRecord
    record = sample_store.get(MirrorProbeRecord, record_id)
    assert record.state is ProbeRecordState.APPLIED
    assert record.log == "a probe\n"
    assert places.mirror.arch_series.one().freshness is MirrorFreshness.UP
