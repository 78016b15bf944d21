"""The pictures: the propagation chart's axes, labels and counts, and a
mirror's freshness history, as the SVG they are drawn in."""

from datetime import datetime, timedelta

from lxml import etree

from mirrorkeeper.enums import MirrorFreshness as F
from mirrorkeeper.web.chart import (
    COUNT_HEIGHT, ROW_HEIGHT, freshness_history_chart, series_chart)
from mirrorkeeper.web.layout import flatten
from mirrorkeeper.web.propagation import PocketPropagation, SeriesPropagation

SVG = "{http://www.w3.org/2000/svg}"


def parse(tag):
    return etree.fromstring(flatten(tag))


def texts(chart, **attributes):
    return [element.text for element in chart.iter(SVG + "text")
            if all(element.get(k) == v for k, v in attributes.items())]


def test_the_propagation_chart_has_axes_labels_and_counts():
    """Each pocket's row is labelled, has an axis from 0 to the most
    mirrors counted on a day, each day's column as tall as its mirrors
    on that scale with the number up to date above it; the days are
    written under the columns."""
    days = [datetime(2026, 11, 29), datetime(2026, 11, 30)]
    release = PocketPropagation("Release", {F.UP: 3, F.ONEDAYBEHIND: 1}, (
        (days[0], {F.UNKNOWN: 2}), (days[1], {F.UP: 1, F.UNKNOWN: 1})))
    updates = PocketPropagation("Updates", {F.UP: 4}, (
        (days[0], {}), (days[1], {F.UP: 2})))
    chart = parse(series_chart(SeriesPropagation(
        "warty", "4.10", (release, updates))))
    assert texts(chart, **{"class": "pocket"}) == ["Release", "Updates"]
    # The days, then now, under the columns.
    assert texts(chart)[-3:] == ["11-29", "11-30", "now"]
    # Up to date on each day and now: 0, 1, 3 and 0, 2, 4.
    assert texts(chart, **{"class": "count"}) == ["0", "1", "3", "2", "4"]
    # The axes: 0 and the most mirrors counted on a day, 4 in each.
    assert texts(chart).count("0") >= 2 and "4" in texts(chart)
    assert len(list(chart.iter(SVG + "line"))) == 2 * 3 + 1
    # Column heights on the row's scale: 2 of 4 mirrors is half a row.
    columns = [g for g in chart.iter(SVG + "g")]
    first = [float(rect.get("height"))
             for rect in columns[0].iter(SVG + "rect")]
    assert first == [ROW_HEIGHT * 2 / 4]
    assert COUNT_HEIGHT > 0
    titles = [g.find(SVG + "title").text for g in columns]
    assert titles[:3] == ["2026-11-29: 2 last update unknown",
                          "2026-11-30: 1 up to date, 1 last update unknown",
                          "now: 3 up to date, 1 one day behind"]
    assert titles[3] == "2026-11-29: no mirrors"


def test_a_mirrors_freshness_history_is_dated_on_its_axis():
    """The 30 days' chart: a bar per probe, fresher taller, each titled
    with its date and band, the first and last dates written under."""
    start = datetime(2026, 11, 1, 6, 0)
    history = tuple((start + timedelta(days=n), band) for n, band in
                    enumerate([F.UP, F.ONEDAYBEHIND, F.UNKNOWN, F.UP]))
    chart = parse(freshness_history_chart(history))
    bars = list(chart.iter(SVG + "rect"))
    heights = [float(bar.get("height")) for bar in bars]
    assert heights[0] == heights[3] > heights[1] > heights[2] > 0
    assert [bar.find(SVG + "title").text for bar in bars][1] == \
        "2026-11-02 06:00: one day behind"
    assert texts(chart) == ["11-01", "11-04"]


def test_the_world_map_shades_and_links_the_mirrors_countries():
    """Each country is drawn from its outline, shaded by its mirrors; one
    with mirrors links its section and says its name and count; one
    without has neither."""
    from mirrorkeeper.web.world_outlines import OUTLINES
    from mirrorkeeper.web.worldmap import NO_MIRROR, SHADES, world_map
    chart = parse(world_map(
        [("BR", "Bra<zil>", 3), ("DE", "Germany", 30), ("ZZ", "Nowhere", 2)],
        lambda code: "#c-" + code))
    links = {a.get("href"): a.find(SVG + "path")
             for a in chart.iter(SVG + "a")}
    assert set(links) == {"#c-BR", "#c-DE"}
    assert links["#c-BR"].find(SVG + "title").text == "Bra<zil>: 3 mirrors"
    assert links["#c-BR"].get("d") == OUTLINES["BR"]
    assert links["#c-DE"].get("fill") == SHADES[-1][1]
    fills = {path.get("fill") for path in chart.iter(SVG + "path")}
    assert NO_MIRROR in fills and links["#c-BR"].get("fill") in fills
    assert len(list(chart.iter(SVG + "path"))) == len(OUTLINES)
    assert "none" in texts(chart) and "25+" in texts(chart)


def test_the_outlines_are_keyed_by_the_countries_codes():
    """Every outline is of a country the database knows, by its ISO
    3166-1 alpha-2 code, and a path of whole units in the map's box."""
    import os
    import re
    from mirrorkeeper.web import world_outlines
    sql = open(os.path.join(
        os.path.dirname(world_outlines.__file__), "..", "database",
        "schema", "patch-0002-countries.sql")).read()
    codes = set(re.findall(r"SELECT '([A-Z]{2})'", sql))
    assert set(world_outlines.OUTLINES) <= codes
    assert {"BR", "DE", "US", "JP", "AU", "ZA", "IN"} <= set(
        world_outlines.OUTLINES)
    for outline in world_outlines.OUTLINES.values():
        assert re.fullmatch(r"(M\d+ \d+l[-\d ]+z)+", outline)
        for x, y in re.findall(r"M(\d+) (\d+)", outline):
            assert 0 <= int(x) <= world_outlines.WIDTH
            assert 0 <= int(y) <= world_outlines.HEIGHT
