"""Propagation by tier: the propagation page splits each pocket's counts
by the tier of the mirrors (1 pulls from the master, 2 from a tier-1
mirror ...), now and on past days, over HTTP to the real web app on both
database backends."""

import re
from datetime import timedelta


from mirrorkeeper.enums import (
    MirrorFreshness, MirrorStatus, PackagePublishingPocket)
from mirrorkeeper.model.tiers import set_upstream, tiers_of
from mirrorkeeper.timeutil import utcnow
from tests.probe_findings import arch_place, findings, probed
from tests.statements import recorded_statements
from tests.web_harness import InProcessClient
from tests.web_harness import client, world  # noqa: F401

RELEASE = PackagePublishingPocket.RELEASE
BANDS = list(MirrorFreshness)
BY_TITLE = {band.title.lower(): band for band in BANDS}


def official(world, name, upstream=None, enabled=True):
    mirror = world.mirror(name, status=MirrorStatus.OFFICIAL,
                          enabled=enabled, country="BR")
    if upstream is not None:
        set_upstream(mirror, upstream)
    return mirror


def carry(world, mirror, now, then):
    """`mirror` carries warty's Release at freshness `now` today, and
    was found at `then` by a probe a day and an hour ago."""
    warty = world.ubuntu.getSeries("warty")
    main, i386 = warty.components[0], warty.getArch("i386")
    record = mirror.ensureMirrorDistroArchSeries(i386, RELEASE, main)
    record.freshness = now
    when = utcnow() - timedelta(days=1, hours=1)
    probed(world.store, mirror, findings([
        arch_place(i386, main, freshness=then)]), "a probe\n", when)


def table_rows(text):
    """[(label, {band: mirrors})] of the tables' rows, in order."""
    rows = []
    for label, cells in re.findall(
            r'<tr(?: class="tier")?><td(?: class="muted")?>([^<]*)</td>'
            r'((?:<td class="num">\d+</td>)+)</tr>', text):
        counts = [int(cell) for cell in re.findall(r">(\d+)<", cells)]
        rows.append((label, dict(zip(BANDS, counts))))
    return rows


def chart_rows(text):
    """[(label, [{band: mirrors} per column, oldest first])] of the SVG
    charts' rows, in order, from the columns' titles."""
    rows = []
    for label, title in re.findall(
            r'<text[^>]*class="pocket"[^>]*>([^<]*)</text>|'
            r"<g><title>([^<]*)</title>", text):
        if label:
            rows.append((label, []))
            continue
        _, _, counts = title.partition(": ")
        column = dict.fromkeys(BANDS, 0)
        if counts != "no mirrors":
            for part in counts.split(", "):
                number, _, band = part.partition(" ")
                column[BY_TITLE[band]] = int(number)
        rows[-1][1].append(column)
    return [(label, columns) for label, columns in rows if columns]


def under(rows, pocket):
    """The pocket's row and the tier rows under it."""
    start = [label for label, _ in rows].index(pocket)
    tiers = []
    for label, counts in rows[start + 1:]:
        if not label.startswith("tier "):
            break
        tiers.append((label, counts))
    return rows[start][1], tiers


def add_up(tiers):
    return {band: sum(counts[band] for _, counts in tiers)
            for band in BANDS}


def test_counts_split_by_tier_now_and_on_a_past_day(world, client):
    """Under each pocket, a row per tier, adding up to the pocket's
    counts, in the table (now) and in the chart (each day); a mirror
    whose upstream is disabled counts in the tier below it all the
    same."""
    UP = MirrorFreshness.UP
    DAY = MirrorFreshness.ONEDAYBEHIND
    TWO = MirrorFreshness.TWODAYSBEHIND
    first = official(world, "tier1-up")
    carry(world, first, UP, TWO)
    carry(world, official(world, "tier1-day"), DAY, DAY)
    second = official(world, "tier2-up", upstream=first)
    carry(world, second, UP, UP)
    carry(world, official(world, "tier2-two", upstream=first), TWO, UP)
    carry(world, official(world, "tier3-day", upstream=second), DAY, TWO)
    hidden = official(world, "tier1-disabled", enabled=False)
    carry(world, official(world, "tier2-below-disabled", upstream=hidden),
          TWO, DAY)
    world.store.commit()
    tiers = tiers_of(world.store, world.ubuntu)
    assert [tiers[mirror.id] for mirror in (first, second, hidden)] == \
        [1, 2, 1]
    text = client.get("/ubuntu/+propagation").text

    # Now: the sample's valid-mirror (tier 1, never probed) is unknown.
    total, split = under(table_rows(text), "Release")
    assert [label for label, _ in split] == ["tier 1", "tier 2", "tier 3"]
    assert add_up(split) == total
    assert {band: n for band, n in total.items() if n} == \
        {UP: 2, DAY: 2, TWO: 2, MirrorFreshness.UNKNOWN: 1}
    assert {band: n for band, n in split[0][1].items() if n} == \
        {UP: 1, DAY: 1, MirrorFreshness.UNKNOWN: 1}
    assert {band: n for band, n in split[1][1].items() if n} == \
        {UP: 1, TWO: 2}
    assert {band: n for band, n in split[2][1].items() if n} == {DAY: 1}

    # The chart: the same rows, one column per day and one for now.
    total, split = under(chart_rows(text), "Release")
    assert [label for label, _ in split] == ["tier 1", "tier 2", "tier 3"]
    assert len(total) == 8
    for column in range(len(total)):
        assert add_up([(label, columns[column])
                       for label, columns in split]) == total[column]
    yesterday = -2
    assert {band: n for band, n in total[yesterday].items() if n} == \
        {UP: 2, DAY: 2, TWO: 2, MirrorFreshness.UNKNOWN: 1}
    assert {band: n for band, n in split[0][1][yesterday].items() if n} \
        == {TWO: 1, DAY: 1, MirrorFreshness.UNKNOWN: 1}
    assert {band: n for band, n in split[1][1][yesterday].items() if n} \
        == {UP: 2, DAY: 1}
    assert {band: n for band, n in split[2][1][yesterday].items() if n} \
        == {TWO: 1}
    assert split[0][1][-1] == table_rows(text)[1][1]


def test_no_tier_rows_with_a_single_tier(world, client):
    """When every mirror pulls from the master the page is as before: no
    tier rows in the table or the chart."""
    carry(world, official(world, "only-up"), MirrorFreshness.UP,
          MirrorFreshness.UP)
    carry(world, official(world, "only-day"), MirrorFreshness.ONEDAYBEHIND,
          MirrorFreshness.TWODAYSBEHIND)
    world.store.commit()
    text = client.get("/ubuntu/+propagation").text
    total, split = under(table_rows(text), "Release")
    assert split == []
    assert total[MirrorFreshness.UP] == 1
    assert "tier 1" not in text and 'class="tier"' not in text
    assert [label for label, _ in chart_rows(text)] == ["Release"]


def statements_of_page(store):
    """The statements one request of the page runs, on a fresh app (and
    so a fresh cache of past probes)."""
    client = InProcessClient(store)
    with recorded_statements() as log:
        assert client.get("/ubuntu/+propagation").status == 200
    return len(log.statements)


def test_tiers_cost_the_same_statements_however_many_mirrors(world):
    """The tiers are read set-wise: more mirrors, deeper, do not make
    the page run more statements."""
    top = official(world, "deep-0")
    carry(world, top, MirrorFreshness.UP, MirrorFreshness.UP)
    carry(world, official(world, "deep-1", upstream=top),
          MirrorFreshness.UP, MirrorFreshness.UP)
    world.store.commit()
    before = statements_of_page(world.store)
    above = top
    for depth in range(2, 6):
        above = official(world, "deeper-%d" % depth, upstream=above)
        carry(world, above, MirrorFreshness.ONEDAYBEHIND,
              MirrorFreshness.UP)
    world.store.commit()
    assert statements_of_page(world.store) == before
