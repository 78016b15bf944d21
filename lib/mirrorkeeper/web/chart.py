"""The propagation chart: server-rendered SVG, read without JavaScript.

For each pocket of a series, one row: a column per day (oldest on the
left, now on the right), each column stacked from the freshest mirrors
at the bottom to the unknown at the top, in the freshness colours, its
height the number of mirrors counted (the axis on the left says how
many), the number of them up to date written above it, and a title (a
tooltip) giving every count.  The days are written under the columns.
The numbers for now are also in a table beside the chart, for those who
read tables better than colours.
"""

from mirrorkeeper.enums import MirrorFreshness
from mirrorkeeper.web.layout import FRESHNESS_COLOURS, svg

LABEL_WIDTH = 92
AXIS_WIDTH = 34
COLUMN_WIDTH = 26
COLUMN_GAP = 6
ROW_HEIGHT = 60
COUNT_HEIGHT = 14
ROW_GAP = 10
CAPTION_HEIGHT = 18
AXIS_HEIGHT = 22
INK = "#1d1d1d"
MUTED = "#5f5f5f"


def _text(content, x, y, size=11, colour=MUTED, anchor="start", **more):
    return svg("text", content, x=str(x), y=str(y), **{
        "font-size": str(size), "fill": colour, "text-anchor": anchor},
        **more)


def _line(x1, y1, x2, y2):
    return svg("line", x1=str(x1), y1=str(y1), x2=str(x2), y2=str(y2),
               stroke="#9e9e9e", **{"stroke-width": "1"})


def _column(x, top, counts, label, scale):
    """One column: its title, its stacked bands and, above it, how many
    mirrors were up to date."""
    total = sum(counts.values())
    parts = [svg("title", "%s: %s" % (label, ", ".join(
        "%d %s" % (counts[band], band.title.lower())
        for band in MirrorFreshness if counts.get(band)) or "no mirrors"))]
    bottom = top + COUNT_HEIGHT + ROW_HEIGHT
    if not total:
        parts.append(svg("rect", x=str(x), y=str(top + COUNT_HEIGHT),
                         width=str(COLUMN_WIDTH), height=str(ROW_HEIGHT),
                         fill="#eeeeee"))
        return svg("g", *parts)
    for band in MirrorFreshness:
        count = counts.get(band, 0)
        if not count:
            continue
        height = ROW_HEIGHT * count / scale
        bottom -= height
        parts.append(svg("rect", x=str(x), y="%.2f" % bottom,
                         width=str(COLUMN_WIDTH), height="%.2f" % height,
                         fill=FRESHNESS_COLOURS[band]))
    parts.append(_text(str(counts.get(MirrorFreshness.UP, 0)),
                       x + COLUMN_WIDTH // 2, "%.2f" % (bottom - 3), 10, INK,
                       "middle", **{"class": "count"}))
    return svg("g", *parts)


def series_chart(series):
    """The SVG of one SeriesPropagation."""
    pockets = series.pockets
    columns = len(pockets[0].history) + 1 if pockets else 1
    left = LABEL_WIDTH + AXIS_WIDTH
    width = left + columns * (COLUMN_WIDTH + COLUMN_GAP)
    row_height = COUNT_HEIGHT + ROW_HEIGHT + ROW_GAP
    height = CAPTION_HEIGHT + len(pockets) * row_height + AXIS_HEIGHT
    children = [
        svg("title", "Propagation of %s by pocket" % (series.name,)),
        _text("Above each day: the mirrors up to date", 0, 12)]
    for row, pocket in enumerate(pockets):
        top = CAPTION_HEIGHT + row * row_height
        moments = list(pocket.history) + [(None, pocket.now)]
        # Every column on one scale: the most mirrors counted on a day.
        scale = max([sum(counts.values()) for _, counts in moments] + [1])
        base = top + COUNT_HEIGHT + ROW_HEIGHT
        children += [
            _text(pocket.pocket, 0, base - ROW_HEIGHT // 2 + 5, 14, INK,
                  **{"class": "pocket"}),
            _line(left - 4, base - ROW_HEIGHT, left - 4, base),
            _line(left - 8, base - ROW_HEIGHT, left - 4, base - ROW_HEIGHT),
            _line(left - 8, base, left - 4, base),
            _text(str(scale), left - 10, base - ROW_HEIGHT + 4, 10,
                  anchor="end"),
            _text("0", left - 10, base + 4, 10, anchor="end")]
        for column, (moment, counts) in enumerate(moments):
            x = left + column * (COLUMN_WIDTH + COLUMN_GAP)
            label = "now" if moment is None else moment.strftime("%Y-%m-%d")
            children.append(_column(x, top, counts, label, scale))
    axis_y = CAPTION_HEIGHT + len(pockets) * row_height - ROW_GAP + 2
    children.append(_line(left - 4, axis_y, width, axis_y))
    moments = [moment for moment, _ in pockets[0].history] + [None] \
        if pockets else [None]
    for column, moment in enumerate(moments):
        x = left + column * (COLUMN_WIDTH + COLUMN_GAP) + COLUMN_WIDTH // 2
        children.append(_text(
            "now" if moment is None else moment.strftime("%m-%d"), x,
            axis_y + 14, 9, anchor="middle"))
    return svg("svg", *children, xmlns="http://www.w3.org/2000/svg",
               viewBox="0 0 %d %d" % (width, height),
               width=str(width), height=str(height), role="img",
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
    in the band's colour, titled with its date and band, the dates of the
    first and last probes written under the bars."""
    width = max(len(history) * (BAR_WIDTH + BAR_GAP), 80)
    children = [svg("title", "Freshness at each probe")]
    for index, (date, band) in enumerate(history):
        height = _bar_height(band)
        children.append(svg(
            "rect", svg("title", "%s: %s" % (
                date.strftime("%Y-%m-%d %H:%M"), band.title.lower())),
            x=str(index * (BAR_WIDTH + BAR_GAP)),
            y="%.2f" % (HISTORY_HEIGHT - height), width=str(BAR_WIDTH),
            height="%.2f" % height, fill=FRESHNESS_COLOURS[band]))
    if history:
        children.append(_text(history[0][0].strftime("%m-%d"), 0,
                              HISTORY_HEIGHT + 13, 10))
    if len(history) > 1:
        children.append(_text(history[-1][0].strftime("%m-%d"),
                              len(history) * (BAR_WIDTH + BAR_GAP) - BAR_GAP,
                              HISTORY_HEIGHT + 13, 10, anchor="end"))
    height = HISTORY_HEIGHT + 16
    return svg("svg", *children, xmlns="http://www.w3.org/2000/svg",
               viewBox="0 0 %d %d" % (width, height),
               width=str(width), height=str(height), role="img",
               class_="chart")
