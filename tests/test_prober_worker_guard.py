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
    MIN_MIRRORS_FOR_RATIO, RunTally, judge_run, start_run, tally_of_run,
    write_record)
from tests.probe_findings import findings


def share(worker, reachable, unreachable):
    """The counts of `worker`'s mirrors: `reachable` that answered and
    `unreachable` that did not, ten requests each."""
    return worker, reachable + unreachable, unreachable


def tally(*shares):
    """The RunTally of a run of those shares."""
    counted = RunTally()
    for worker, mirrors, unreachable in shares:
        counted.add(mirrors, unreachable, 10 * mirrors, {}, worker)
    return counted


def test_a_worker_cut_off_distrusts_the_run():
    """Twenty mirrors answered worker a; all six of worker b's failed:
    under the run's ratio (6 of 26), but worker b saw no network."""
    verdict = judge_run(tally(share("a:1", 20, 0), share("b:2", 0, 6)))
    assert not verdict.trusted
    assert "worker b:2" in verdict.reason
    assert "6 of the 6" in verdict.reason


def test_a_worker_is_held_to_the_run_ratio():
    assert not judge_run(tally(share("a:1", 20, 0),
                               share("b:2", 1, 4))).trusted
    assert judge_run(tally(share("a:1", 20, 0), share("b:2", 2, 3))).trusted


def test_a_worker_with_few_mirrors_is_judged_with_the_run():
    """Below MIN_MIRRORS_FOR_RATIO a worker's share says too little: its
    dead mirrors are unreachable, as in a run of one process."""
    few = MIN_MIRRORS_FOR_RATIO - 1
    assert judge_run(tally(share("a:1", 20, 0),
                           share("b:2", 0, few))).trusted


def test_one_process_is_judged_as_before():
    assert judge_run(tally(share(None, 12, 8))).trusted
    assert judge_run(tally(share("a:1", 12, 8))).trusted
    assert not judge_run(tally(share("a:1", 2, 8))).trusted


def test_the_judgement_reads_who_wrote_each_record(sample_store):
    """tally_of_run counts each record for the worker whose claim it was
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
    counted, canary_failure = tally_of_run(store, run_id)
    assert canary_failure is None
    assert counted.workers == {"a:1": [half, 0], "b:2": [half, half]}
    assert (counted.mirrors, counted.unreachable, counted.requests) == (
        2 * half, half, 2 * half)
    assert counted.outcomes == {"connection error": half, "found": half}
    verdict = judge_run(counted)
    assert not verdict.trusted and "worker b:2" in verdict.reason
