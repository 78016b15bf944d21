"""A run shared by workers is judged worker by worker too: a worker whose
own network failed (a machine that joined the run and lost its route)
must not have its share of the mirrors called unreachable and left out
of the lists, while the shares of the others hide it from the whole
run's ratio."""

from mirrorkeeper.enums import MirrorContent, MirrorPulseType, MirrorSpeed
from mirrorkeeper.model.country import CountrySet
from mirrorkeeper.model.distributionmirror import DistributionMirrorSet
from mirrorkeeper.prober import claims
from mirrorkeeper.prober.record import (
    MIN_MIRRORS_FOR_RATIO, RecordedMirror, judge_run, recorded_of_run,
    start_run, write_record)
from tests.probe_findings import findings


def share(worker, reachable, unreachable, start=0):
    """RecordedMirrors of `worker`: `reachable` that answered, then
    `unreachable` that did not."""
    return [RecordedMirror(start + n, "m%d" % (start + n),
                           n >= reachable, 10, {}, start + n, worker)
            for n in range(reachable + unreachable)]


def test_a_worker_cut_off_distrusts_the_run():
    """Twenty mirrors answered worker a; all six of worker b's failed:
    under the run's ratio (6 of 26), but worker b saw no network."""
    verdict = judge_run(share("a:1", 20, 0) + share("b:2", 0, 6, 100))
    assert not verdict.trusted
    assert "worker b:2" in verdict.reason
    assert "6 of the 6" in verdict.reason


def test_a_worker_is_held_to_the_run_ratio():
    assert not judge_run(share("a:1", 20, 0)
                         + share("b:2", 1, 4, 100)).trusted
    assert judge_run(share("a:1", 20, 0) + share("b:2", 2, 3, 100)).trusted


def test_a_worker_with_few_mirrors_is_judged_with_the_run():
    """Below MIN_MIRRORS_FOR_RATIO a worker's share says too little: its
    dead mirrors are unreachable, as in a run of one process."""
    few = MIN_MIRRORS_FOR_RATIO - 1
    assert judge_run(share("a:1", 20, 0) + share("b:2", 0, few, 100)).trusted


def test_one_process_is_judged_as_before():
    assert judge_run(share(None, 12, 8)).trusted
    assert judge_run(share("a:1", 12, 8)).trusted
    assert not judge_run(share("a:1", 2, 8)).trusted


def test_the_judgement_reads_who_wrote_each_record(sample_store):
    """recorded_of_run gives each record the worker whose claim it was
    written under, from the claims table, and the run is distrusted for
    the worker whose every mirror failed."""
    store = sample_store
    mirrors = [mirror for mirror in DistributionMirrorSet(store)
               if mirror.content is MirrorContent.ARCHIVE]
    needed = 2 * MIN_MIRRORS_FOR_RATIO
    assert len(mirrors) >= 2, "the sample has archive mirrors"
    # As many mirrors as the judgement needs, from the sample's own.
    distribution = mirrors[0].distribution
    while len(mirrors) < needed:
        mirrors.append(distribution.newMirror(
            distribution.owner, "guard-%d" % len(mirrors), MirrorSpeed.S1G,
            CountrySet(store)["DE"], MirrorContent.ARCHIVE,
            MirrorPulseType.PULL,
            http_base_url="http://guard-%d.example.org/ubuntu/"
            % len(mirrors)))
    store.commit()
    ids = [mirror.id for mirror in mirrors[:needed]]
    run_id = start_run(store, MirrorContent.ARCHIVE)
    claims.offer(store, run_id, [("host-%d" % mirror_id, [mirror_id])
                                 for mirror_id in ids])
    half = MIN_MIRRORS_FOR_RATIO
    held_by_a = claims.claim(store, run_id, "a:1", 60, half)
    held_by_b = claims.claim(store, run_id, "b:2", 60, half)
    assert len(held_by_a) == len(held_by_b) == half
    for worker, held in (("a:1", held_by_a), ("b:2", held_by_b)):
        for _, (mirror_id,) in held:
            write_record(store, mirror_id, "a probe\n", findings(
                unreachable=(worker == "b:2"),
                outcomes={"connection error": 1} if worker == "b:2"
                else {"found": 1}), run_id=run_id)
    recorded, canary_failure = recorded_of_run(store, run_id)
    assert canary_failure is None
    workers = {each.mirror_id: each.worker for each in recorded}
    assert workers == dict(
        [(mirror_id, "a:1") for _, (mirror_id,) in held_by_a]
        + [(mirror_id, "b:2") for _, (mirror_id,) in held_by_b])
    verdict = judge_run(recorded)
    assert not verdict.trusted and "worker b:2" in verdict.reason
