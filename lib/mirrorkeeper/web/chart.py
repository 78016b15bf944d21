"""The propagation chart: server-rendered SVG, read without JavaScript.

For each pocket of a series, one row: a column per day (oldest on the
left, now on the right), each column stacked from the freshest mirrors
at the bottom to the unknown at the top, in the freshness colours, with
a title (a tooltip) giving the counts.  The numbers for now are also in a
table beside the chart, for those who read tables better than colours.
"""

from mirrorkeeper.enums import MirrorFreshness
from mirrorkeeper.web.layout import FRESHNESS_COLOURS, svg

LABEL_WIDTH = 110
COLUMN_WIDTH = 26
COLUMN_GAP = 6
ROW_HEIGHT = 60
ROW_GAP = 18
AXIS_HEIGHT = 18


def _column(x, y, counts, label):
    total = sum(counts.values())
    parts = [svg("title", "%s: %s" % (label, ", ".join(
        "%d %s" % (counts[band], band.title.lower())
        for band in MirrorFreshness if counts.get(band)) or "no mirrors"))]
    if not total:
        parts.append(svg("rect", x=str(x), y=str(y), width=str(COLUMN_WIDTH),
                         height=str(ROW_HEIGHT), fill="#eeeeee"))
        return svg("g", *parts)
    bottom = y + ROW_HEIGHT
    for band in MirrorFreshness:
        count = counts.get(band, 0)
        if not count:
            continue
        height = ROW_HEIGHT * count / total
        bottom -= height
        parts.append(svg("rect", x=str(x), y="%.2f" % bottom,
                         width=str(COLUMN_WIDTH), height="%.2f" % height,
                         fill=FRESHNESS_COLOURS[band]))
    return svg("g", *parts)


def series_chart(series):
    """The SVG of one SeriesPropagation."""
    pockets = series.pockets
    columns = len(pockets[0].history) + 1 if pockets else 1
    width = LABEL_WIDTH + columns * (COLUMN_WIDTH + COLUMN_GAP)
    height = len(pockets) * (ROW_HEIGHT + ROW_GAP) + AXIS_HEIGHT
    children = [svg("title", "Propagation of %s by pocket" % (series.name,))]
    for row, pocket in enumerate(pockets):
        y = row * (ROW_HEIGHT + ROW_GAP)
        children.append(svg("text", pocket.pocket, x="0",
                            y=str(y + ROW_HEIGHT // 2 + 5),
                            **{"font-size": "14", "fill": "#1d1d1d"}))
        moments = list(pocket.history) + [(None, pocket.now)]
        for column, (moment, counts) in enumerate(moments):
            x = LABEL_WIDTH + column * (COLUMN_WIDTH + COLUMN_GAP)
            label = "now" if moment is None else moment.strftime("%Y-%m-%d")
            children.append(_column(x, y, counts, label))
    axis_y = len(pockets) * (ROW_HEIGHT + ROW_GAP) + 4
    for column in range(columns):
        days_ago = columns - 1 - column
        x = LABEL_WIDTH + column * (COLUMN_WIDTH + COLUMN_GAP)
        children.append(svg(
            "text", "now" if days_ago == 0 else "-%dd" % days_ago,
            x=str(x + COLUMN_WIDTH // 2), y=str(axis_y + 10),
            **{"font-size": "11", "fill": "#5f5f5f",
               "text-anchor": "middle"}))
    return svg("svg", *children, xmlns="http://www.w3.org/2000/svg",
               viewBox="0 0 %d %d" % (width, height + 6),
               width=str(width), height=str(height + 6), role="img",
               class_="chart")


# A mirror's freshness history: one bar per probe, oldest on the left.
BAR_WIDTH = 10
BAR_GAP = 3
HISTORY_HEIGHT = 48


def _bar_height(band):
    """Fresher is taller, so the chart reads without its colours; unknown
    is the lowest bar of all."""
    if band is MirrorFreshness.UNKNOWN:
        return 4
    known = [b for b in MirrorFreshness if b is not MirrorFreshness.UNKNOWN]
    return HISTORY_HEIGHT * (len(known) - known.index(band)) / len(known)


def freshness_history_chart(history):
    """The SVG of a mirror's freshness at each of its probes, `history`
    being ((date, MirrorFreshness), ...) oldest first (see
    mirrorkeeper.model.probefindings.freshness_history): a bar per probe
    in the band's colour, titled with its date and band."""
    width = max(len(history), 1) * (BAR_WIDTH + BAR_GAP)
    children = [svg("title", "Freshness at each probe")]
    for index, (date, band) in enumerate(history):
        height = _bar_height(band)
        children.append(svg(
            "rect", svg("title", "%s: %s" % (
                date.strftime("%Y-%m-%d %H:%M"), band.title.lower())),
            x=str(index * (BAR_WIDTH + BAR_GAP)),
            y="%.2f" % (HISTORY_HEIGHT - height), width=str(BAR_WIDTH),
            height="%.2f" % height, fill=FRESHNESS_COLOURS[band]))
    return svg("svg", *children, xmlns="http://www.w3.org/2000/svg",
               viewBox="0 0 %d %d" % (width, HISTORY_HEIGHT),
               width=str(width), height=str(HISTORY_HEIGHT), role="img",
               class_="chart")
