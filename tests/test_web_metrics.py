"""The web daemon's /metrics: mirrors' measured lags and the prober's
last runs, parsed as Prometheus parses them, on both database backends."""

from datetime import timedelta

from prometheus_client.parser import text_string_to_metric_families

from mirrorkeeper.enums import MirrorContent, MirrorStatus
from mirrorkeeper.model.mirrorcontent import (
    MirrorFreshnessCheck, ProberRunRecord, record_prober_run_counts)
from mirrorkeeper.prober.job import RunSummary
from mirrorkeeper.timeutil import utcnow
from mirrorkeeper.web import metrics
from tests.web_harness import client, world  # noqa: F401


def samples(text):
    """{(sample name, sorted labels): value} of an exposition."""
    found = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            found[(sample.name, tuple(sorted(sample.labels.items())))] = \
                sample.value
    return found


def scrape(store):
    return samples(metrics.exposition(metrics.read(store)).decode())


def official(world, name):
    return world.mirror(name, status=MirrorStatus.OFFICIAL, enabled=True)


def lag(world, mirror, detector, seconds):
    check = MirrorFreshnessCheck(mirror, detector, "dists/warty")
    check.lag_seconds = seconds
    world.store.add(check)
    world.store.commit()


def judged_run(store, content, started, seconds, summary, trusted=True):
    run = ProberRunRecord(content, started)
    store.add(run)
    store.flush()
    record_prober_run_counts(store, run.id, summary)
    run.trusted = trusted
    run.reason = None if trusted else "the canary failed"
    run.date_judged = started + timedelta(seconds=seconds)
    store.commit()
    return run


def test_served_metrics_parse_as_prometheus_text(world, client):
    """/metrics over HTTP is the 0.0.4 text format, which Prometheus'
    parser reads, with the mirrors' state in it."""
    official(world, "parsed-one")
    response = client.get("/metrics")
    assert response.headers["content-type"].startswith(
        "text/plain; version=0.0.4")
    found = samples(response.text)
    assert found[("mirrorkeeper_mirror_freshness_level", (
        ("distribution", "ubuntu"), ("mirror", "parsed-one")))] == 8


def test_each_mirror_lag_as_measured(world, store):
    """A mirror's lag is the largest its detectors measured; a mirror
    with none measured has no lag series (a band is not a measurement)."""
    late = official(world, "late-one")
    lag(world, late, "trace", 5400)
    lag(world, late, "timestamp", 1800)
    official(world, "unmeasured")
    found = scrape(store)
    assert found[("mirrorkeeper_mirror_lag_seconds", (
        ("distribution", "ubuntu"), ("mirror", "late-one")))] == 5400
    assert not any(labels == (("distribution", "ubuntu"),
                              ("mirror", "unmeasured"))
                   for name, labels in found if name ==
                   "mirrorkeeper_mirror_lag_seconds")


def test_the_prober_last_runs(world, store):
    """Per content type, the newest judged run: its duration, mirrors,
    requests and failures by kind, and whether it was distrusted; a run
    not judged yet is not the last run."""
    now = utcnow().replace(microsecond=0)
    judged_run(store, MirrorContent.ARCHIVE, now - timedelta(days=1), 30,
               RunSummary(probed=9, requests=99))
    judged_run(store, MirrorContent.ARCHIVE, now - timedelta(hours=1), 125,
               RunSummary(probed=4, requests=40, unreachable=1,
                          failures={"NOT_FOUND": 6, "TIMEOUT": 2}))
    judged_run(store, MirrorContent.RELEASE, now - timedelta(hours=2), 7,
               RunSummary(probed=2, requests=3, unreachable=2,
                          failures={"CONNECTION_FAILED": 3}),
               trusted=False)
    store.add(ProberRunRecord(MirrorContent.ARCHIVE, now))  # in progress
    store.commit()
    found = scrape(store)

    def run(name, content="archive", **labels):
        labels["content"] = content
        return found.get(("mirrorkeeper_prober_last_run_" + name,
                          tuple(sorted(labels.items()))))
    assert run("duration_seconds") == 125
    assert run("started_timestamp_seconds") == \
        (now - timedelta(hours=1)).timestamp()
    assert run("mirrors") == 4
    assert run("unreachable_mirrors") == 1
    assert run("requests") == 40
    assert run("failures", kind="NOT_FOUND") == 6
    assert run("failures", kind="TIMEOUT") == 2
    assert run("distrusted") == 0
    assert run("distrusted", "cdimage") == 1
    assert run("failures", "cdimage", kind="CONNECTION_FAILED") == 3
    assert run("duration_seconds", "cdimage") == 7


def test_a_run_judged_before_the_counts_were_kept(world, store):
    """A run judged before schema patch 0011 tells its times and verdict,
    and no counts."""
    now = utcnow().replace(microsecond=0)
    run = ProberRunRecord(MirrorContent.ARCHIVE, now - timedelta(minutes=5))
    run.trusted, run.date_judged = True, now
    store.add(run)
    store.commit()
    found = scrape(store)
    names = {name for name, _ in found}
    assert "mirrorkeeper_prober_last_run_duration_seconds" in names
    assert "mirrorkeeper_prober_last_run_requests" not in names


def test_served_metrics_have_the_lags_and_the_last_run(world, client,
                                                       store):
    """What /metrics serves over HTTP includes the new series."""
    lag(world, official(world, "served-late"), "trace", 600)
    now = utcnow().replace(microsecond=0)
    judged_run(store, MirrorContent.ARCHIVE, now, 3, RunSummary(probed=1))
    found = samples(client.get("/metrics").text)
    assert found[("mirrorkeeper_mirror_lag_seconds", (
        ("distribution", "ubuntu"), ("mirror", "served-late")))] == 600
    assert found[("mirrorkeeper_prober_last_run_mirrors", (
        ("content", "archive"),))] == 1
