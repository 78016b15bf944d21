"""The pure freshness computation: which uploads tell how fresh a mirror is,
which band a mirror is in, and the overall freshness of many records."""

import math
import random
from datetime import datetime, timedelta

import pytest

from mirrorkeeper.enums import MirrorFreshness as F
from mirrorkeeper.freshness import (
    freshness_found, overall_freshness, uploads_to_check)

WHEN = datetime(2024, 3, 1, 12, 0, 0)
TICK = timedelta(microseconds=1)
BANDS = F.bands()
THRESHOLDS = [threshold for _, threshold in BANDS]


def hours(n):
    return timedelta(hours=n)


def uploads(*ages):
    """(date_published, name) pairs for uploads of the given ages, newest
    first; each upload is named after its age."""
    return [(WHEN - age, "age=%s" % (age,))
            for age in sorted(ages)]


def name(age):
    return "age=%s" % (age,)


def reference(pairs, when):
    """The documented rule, written out plainly: for each band, the newest
    upload whose age lies between the previous threshold and the band's own,
    both included; the newest upload of all for UP when no band has one."""
    chosen = {}
    lower = None
    for band, upper in BANDS:
        for published, upload in pairs:
            age = when - published
            if age <= upper and (lower is None or age >= lower):
                chosen[band] = upload
                break
        lower = upper
    if not chosen and pairs:
        chosen[F.UP] = pairs[0][1]
    return chosen


def test_bands_and_thresholds():
    """The bands run freshest first with the thresholds the spec gives, and
    UNKNOWN is not a band."""
    assert [(band, threshold.total_seconds() / 3600)
            for band, threshold in BANDS] == [
        (F.UP, 0.5), (F.ONEHOURBEHIND, 1.5), (F.TWOHOURSBEHIND, 2.5),
        (F.SIXHOURSBEHIND, 6.5), (F.ONEDAYBEHIND, 24.5),
        (F.TWODAYSBEHIND, 48.5), (F.ONEWEEKBEHIND, 168.5)]
    assert F.UNKNOWN.threshold is None


def test_no_uploads():
    """With no upload at all there is nothing to check."""
    assert uploads_to_check([], WHEN) == {}


def test_upload_of_this_instant_is_up():
    """An upload published at `when` tells UP and nothing else."""
    assert uploads_to_check(uploads(timedelta(0)), WHEN) == {
        F.UP: name(timedelta(0))}


@pytest.mark.parametrize("index", range(len(BANDS)))
def test_upload_exactly_at_threshold_counts_for_both_bands(index):
    """An upload exactly as old as a band's threshold lies in that band
    (upper end included) and in the next one (lower end included)."""
    band, threshold = BANDS[index]
    expected = {band: name(threshold)}
    if index + 1 < len(BANDS):
        expected[BANDS[index + 1][0]] = name(threshold)
    assert uploads_to_check(uploads(threshold), WHEN) == expected


@pytest.mark.parametrize("index", range(len(BANDS) - 1))
def test_upload_just_past_threshold_moves_to_next_band(index):
    """An upload a microsecond older than a band's threshold is only in the
    next band."""
    threshold = THRESHOLDS[index]
    next_band = BANDS[index + 1][0]
    assert uploads_to_check(uploads(threshold + TICK), WHEN) == {
        next_band: name(threshold + TICK)}


@pytest.mark.parametrize("index", range(1, len(BANDS)))
def test_upload_just_before_threshold_is_in_band_only(index):
    """An upload a microsecond younger than a band's threshold, but older
    than the previous one's, is in that band alone."""
    band, threshold = BANDS[index]
    assert uploads_to_check(uploads(threshold - TICK), WHEN) == {
        band: name(threshold - TICK)}


def test_newest_upload_within_band_wins():
    """Of several uploads in one band, the newest is checked."""
    result = uploads_to_check(
        uploads(hours(0.6), hours(1), hours(1.4)), WHEN)
    assert result == {F.ONEHOURBEHIND: name(hours(0.6))}


def test_newest_upload_within_each_band():
    """Each band gets its own newest upload, freshest band first."""
    ages = [hours(0.1), hours(0.4), hours(1), hours(1.2), hours(2),
            hours(5), hours(6), hours(20), hours(40), hours(100),
            hours(160)]
    result = uploads_to_check(uploads(*ages), WHEN)
    assert list(result.items()) == [
        (F.UP, name(hours(0.1))),
        (F.ONEHOURBEHIND, name(hours(1))),
        (F.TWOHOURSBEHIND, name(hours(2))),
        (F.SIXHOURSBEHIND, name(hours(5))),
        (F.ONEDAYBEHIND, name(hours(20))),
        (F.TWODAYSBEHIND, name(hours(40))),
        (F.ONEWEEKBEHIND, name(hours(100))),
    ]


def test_bands_without_uploads_are_left_out():
    """A band in which nothing was published has no entry, and an upload
    younger than a band's lower end does not count for it."""
    result = uploads_to_check(uploads(hours(0.1), hours(3)), WHEN)
    assert result == {F.UP: name(hours(0.1)),
                      F.SIXHOURSBEHIND: name(hours(3))}


def test_nothing_in_the_last_week_checks_newest_for_up():
    """When no upload is younger than a week, the newest upload of all is
    checked, for UP."""
    result = uploads_to_check(uploads(hours(200), hours(300)), WHEN)
    assert result == {F.UP: name(hours(200))}


def test_just_over_a_week_old_is_the_fallback():
    """An upload a microsecond older than the week's threshold is the UP
    fallback, while one exactly that old is ONEWEEKBEHIND."""
    week = F.ONEWEEKBEHIND.threshold
    assert uploads_to_check(uploads(week + TICK), WHEN) == {
        F.UP: name(week + TICK)}
    assert uploads_to_check(uploads(week), WHEN) == {
        F.ONEWEEKBEHIND: name(week)}


def test_old_uploads_do_not_add_fallback_when_a_band_is_found():
    """An upload older than a week is ignored when another upload falls in a
    band."""
    result = uploads_to_check(uploads(hours(30), hours(400)), WHEN)
    assert result == {F.TWODAYSBEHIND: name(hours(30))}


def test_result_is_ordered_freshest_first():
    """The bands of the result come in the order of MirrorFreshness, whatever
    the ages."""
    rng = random.Random(7)
    band_order = [band for band, _ in BANDS]
    for _ in range(200):
        ages = [hours(rng.uniform(0, 200)) for _ in range(rng.randint(1, 8))]
        keys = list(uploads_to_check(uploads(*ages), WHEN))
        assert keys == sorted(keys, key=band_order.index)


def test_matches_the_documented_rule_on_random_histories():
    """On random histories, with ages often exactly at a threshold, the
    result is what the documented rule gives."""
    rng = random.Random(2024)
    candidates = THRESHOLDS + [t + TICK for t in THRESHOLDS] + [
        t - TICK for t in THRESHOLDS] + [timedelta(0)]
    for _ in range(500):
        ages = []
        for _ in range(rng.randint(0, 10)):
            if rng.random() < 0.4:
                ages.append(rng.choice(candidates))
            else:
                ages.append(timedelta(seconds=rng.randint(0, 400 * 3600)))
        pairs = uploads(*ages)
        assert uploads_to_check(pairs, WHEN) == reference(pairs, WHEN), ages


# What a mirror has of the URLs asked for, and the freshness that tells.
# "u", "h", "s", "d", "w" stand for uploads in the UP, one-hour, six-hour,
# one-day and one-week bands.
FOUND_TABLE = [
    # (bands asked for, URLs the mirror has, freshness)
    ("u h d", "u h d", F.UP),
    ("u h d", "u", F.UP),            # the newest is there: all is there
    ("u h d", "u d", F.UP),
    ("u h d", "h d", F.ONEHOURBEHIND),  # lacks u (UP band): never UP
    ("u h d", "h", F.ONEHOURBEHIND),
    ("u h d", "d", F.ONEHOURBEHIND),    # behind since an upload of the h band
    ("s d w", "d w", F.SIXHOURSBEHIND),
    ("s d w", "w", F.ONEDAYBEHIND),
    ("s w", "w", F.SIXHOURSBEHIND),  # nothing was published in between
    ("d", "d", F.UP),                # an exact copy, newest a day old
    ("w", "w", F.UP),                # an exact copy, newest days old
    ("u", "u", F.UP),                # nothing in a week: the newest, for UP
    ("u h d", "", F.ONEWEEKBEHIND),  # the index, and none of its uploads
    ("s", "", F.ONEWEEKBEHIND),
    ("u", "", F.ONEWEEKBEHIND),
    ("u h d", "elsewhere", F.ONEWEEKBEHIND),
    ("", "", F.UNKNOWN),             # the master has nothing to check
    ("", "u", F.UNKNOWN),
]
LETTERS = {"u": F.UP, "h": F.ONEHOURBEHIND, "s": F.SIXHOURSBEHIND,
           "d": F.ONEDAYBEHIND, "w": F.ONEWEEKBEHIND}


@pytest.mark.parametrize("asked, found, expected", FOUND_TABLE)
def test_freshness_found(asked, found, expected):
    """A mirror with the newest upload is UP; one without it is as far
    behind as the first upload it lacks, and never UP; one with none of
    the uploads is ONEWEEKBEHIND; with nothing to ask for, UNKNOWN."""
    urls = {LETTERS[letter]: letter for letter in asked.split()}
    assert freshness_found(urls, set(found.split())) is expected


def test_freshness_found_does_not_rely_on_the_order_given():
    """The bands are taken freshest first whatever the order of the
    mapping."""
    urls = {F.ONEDAYBEHIND: "d", F.UP: "u", F.ONEHOURBEHIND: "h"}
    assert freshness_found(urls, {"u"}) is F.UP
    assert freshness_found(urls, {"d"}) is F.ONEHOURBEHIND


def test_freshness_found_same_url_in_two_bands():
    """A URL chosen for two bands (an upload exactly at a threshold) counts
    for the fresher one: a mirror that has it has the newest upload."""
    assert freshness_found({F.UP: "x", F.ONEHOURBEHIND: "x"}, {"x"}) is F.UP
    assert freshness_found({F.UP: "u", F.ONEHOURBEHIND: "x",
                            F.TWOHOURSBEHIND: "x"}, {"x"}) is F.ONEHOURBEHIND


def test_uploads_to_check_then_freshness_found():
    """An exact copy of the master is UP however old its newest upload; a
    mirror that lacks the newest upload is as far behind as that upload is
    old."""
    for ages in ([hours(0.2), hours(1), hours(2)], [hours(3), hours(30)],
                 [hours(100)], [hours(400)]):
        chosen = uploads_to_check(uploads(*ages), WHEN)
        everything = {name(age) for age in ages}
        assert freshness_found(chosen, everything) is F.UP, ages
    chosen = uploads_to_check(uploads(hours(3), hours(30)), WHEN)
    assert freshness_found(chosen, {name(hours(30))}) is F.SIXHOURSBEHIND
    assert freshness_found(chosen, set()) is F.ONEWEEKBEHIND


def band_of_lag(lag):
    for band, threshold in BANDS:
        if lag <= threshold:
            return band
    return F.ONEWEEKBEHIND


def test_freshness_found_tells_the_lag_of_a_mirror_that_synced_once():
    """On random histories, a mirror that copied the master at some moment
    (it has every upload published until then, none after) gets the band
    of its real lag, the time since the master published the first upload
    it lacks: UP with no upload missing, never UP with one missing, and
    ONEWEEKBEHIND when it has none of the uploads asked for, whose lag is
    at least the age of the oldest of them."""
    rng = random.Random(11)

    def age():
        # From a minute to two weeks, as many hours old as weeks.
        return timedelta(seconds=int(math.exp(rng.uniform(
            math.log(60), math.log(340 * 3600)))))

    for _ in range(2000):
        ages = sorted({age() for _ in range(rng.randint(1, 12))})
        pairs = uploads(*ages)
        chosen = uploads_to_check(pairs, WHEN)
        synced = age()
        carried = {name(age) for age in ages if age >= synced}
        missing = [age for age in ages if age < synced]
        lag = max(missing) if missing else timedelta(0)
        got = freshness_found(chosen, carried)
        if not missing:
            assert got is F.UP, (ages, synced)
        elif carried & set(chosen.values()):
            assert got is max(band_of_lag(lag), F.ONEHOURBEHIND,
                              key=lambda f: f.value), (ages, synced)
        else:
            assert got is F.ONEWEEKBEHIND, (ages, synced)
            oldest_asked = max(age for age in ages
                               if name(age) in chosen.values())
            assert lag >= oldest_asked


def test_overall_freshness_is_the_worst_known():
    """The overall freshness is the worst of the known freshnesses."""
    assert overall_freshness(
        [F.UP, F.SIXHOURSBEHIND, F.ONEHOURBEHIND]) is F.SIXHOURSBEHIND
    assert overall_freshness([F.ONEWEEKBEHIND, F.UP]) is F.ONEWEEKBEHIND
    assert overall_freshness([F.UP]) is F.UP


def test_overall_freshness_ignores_unknown():
    """UNKNOWN records do not make a mirror look worse."""
    assert overall_freshness(
        [F.UNKNOWN, F.TWOHOURSBEHIND, F.UNKNOWN]) is F.TWOHOURSBEHIND


def test_overall_freshness_of_nothing_known_is_unknown():
    """With no known freshness, or no records, the result is UNKNOWN."""
    assert overall_freshness([]) is F.UNKNOWN
    assert overall_freshness([F.UNKNOWN, F.UNKNOWN]) is F.UNKNOWN


def test_overall_freshness_takes_any_iterable():
    """A generator of freshnesses is accepted."""
    assert overall_freshness(
        f for f in (F.UP, F.ONEDAYBEHIND)) is F.ONEDAYBEHIND
