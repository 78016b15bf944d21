"""The statistics page: how many mirror list requests the mirror list
daemon answered each day, by country, by content, by kind of list and
by the protocols they asked for (?protocol=).

The daemon counts them in memory and adds them to one counts file per
day and process ([publication] statistics_dir, see
mirrorkeeper.publish.statistics, whose read_statistics is the one reader
of that format).  This page reads the files of the last days, in a
database thread (it reads the names of the countries too), and shows the
sums; it writes nothing.
"""

from datetime import timedelta

import attrs
from twisted.web.template import tags

from mirrorkeeper.model.country import Country
from mirrorkeeper.publish.statistics import read_statistics
from mirrorkeeper.timeutil import utcnow
from mirrorkeeper.web.layout import svg

DEFAULT_DAYS = 14
MOST_DAYS = 90
# Rows of the country and content tables; the rest are summed as "other".
MOST_ROWS = 30
# The kinds of list, by the first word of a counted content.
KINDS = {"apt": "apt mirror lists", "repo": "dnf/yum mirror lists",
         "metalink": "metalinks", "redirect": "redirects",
         "unknown": "refused (bad or unknown requests)"}
# The protocols a request asked for, as the counts have them: "" for
# none, None in counts of before the daemon counted them.
NO_PROTOCOL = "none asked"
UNCOUNTED_PROTOCOL = "not counted"
# Columns of the table of requests per day by protocol; the others are
# summed as "other".
MOST_PROTOCOL_COLUMNS = 4


def protocol_label(protocol):
    if protocol is None:
        return UNCOUNTED_PROTOCOL
    return protocol or NO_PROTOCOL


@attrs.frozen
class RequestStatistics:
    days: tuple                 # (('YYYY-MM-DD', requests), ...) oldest first
    countries: tuple            # ((code, name, requests), ...) most first
    contents: tuple             # ((content, requests), ...) most first
    kinds: tuple                # ((kind title, requests), ...) most first
    total: int
    # ((protocol label, requests), ...) most first.
    protocols: tuple = ()
    # (('YYYY-MM-DD', {protocol label: requests}), ...) oldest first.
    protocol_days: tuple = ()


def days_asked(query):
    """The number of days the page is asked for (?days=), else an
    HTTPError of 400."""
    from mirrorkeeper.web.site import HTTPError
    text = query.get("days", "").strip()
    if not text:
        return DEFAULT_DAYS
    if not (text.isascii() and text.isdigit()) or \
            not 1 <= int(text) <= MOST_DAYS:
        raise HTTPError(400, "Unknown number of days %r: give a number from "
                        "1 to %d." % (text, MOST_DAYS))
    return int(text)


def request_statistics(store, folder, days, today=None):
    """RequestStatistics of the `days` days up to `today` (UTC)."""
    today = today or utcnow().date()
    per_day, countries, contents, kinds = [], {}, {}, {}
    protocols, protocol_days = {}, []
    for back in range(days - 1, -1, -1):
        day = (today - timedelta(days=back)).isoformat()
        counts = read_statistics(folder, day)
        per_day.append((day, sum(counts.values())))
        on_day = {}
        for (country, content, protocol), requests in counts.items():
            countries[country] = countries.get(country, 0) + requests
            contents[content] = contents.get(content, 0) + requests
            kind = KINDS.get(content.split("/", 1)[0], "other")
            kinds[kind] = kinds.get(kind, 0) + requests
            label = protocol_label(protocol)
            protocols[label] = protocols.get(label, 0) + requests
            on_day[label] = on_day.get(label, 0) + requests
        protocol_days.append((day, on_day))
    names = dict(store.find(Country).values(Country.iso3166code2,
                                            Country.name))

    def most(counts):
        return sorted(counts.items(), key=lambda item: (-item[1], item[0]))
    return RequestStatistics(
        days=tuple(per_day),
        countries=tuple((code, names.get(code, "unknown (%s)" % (code,))
                         if code != "-" else "unknown", requests)
                        for code, requests in most(countries)),
        contents=tuple(most(contents)), kinds=tuple(most(kinds)),
        total=sum(requests for _, requests in per_day),
        protocols=tuple(most(protocols)), protocol_days=tuple(protocol_days))


BAR_WIDTH = 18
BAR_GAP = 4
CHART_HEIGHT = 120


def _days_chart(days):
    """A bar per day, its height its requests, titled with both."""
    most = max([requests for _, requests in days] + [1])
    top = 16
    children = [svg("title", "Mirror list requests per day"),
                svg("text", "%d a day at most" % (most,), x="0", y="11", **{
                    "font-size": "11", "fill": "#5f5f5f"})]
    for index, (day, requests) in enumerate(days):
        height = CHART_HEIGHT * requests / most
        children.append(svg(
            "rect", svg("title", "%s: %d requests" % (day, requests)),
            x=str(index * (BAR_WIDTH + BAR_GAP)),
            y="%.2f" % (top + CHART_HEIGHT - height), width=str(BAR_WIDTH),
            height="%.2f" % height, fill="#3182bd"))
    width = max(len(days) * (BAR_WIDTH + BAR_GAP), 120)
    bottom = top + CHART_HEIGHT + 14
    children += [
        svg("text", days[0][0][5:], x="0", y=str(bottom), **{
            "font-size": "10", "fill": "#5f5f5f"}),
        svg("text", days[-1][0][5:], x=str(width), y=str(bottom), **{
            "font-size": "10", "fill": "#5f5f5f", "text-anchor": "end"})]
    return svg("svg", *children, xmlns="http://www.w3.org/2000/svg",
               viewBox="0 0 %d %d" % (width, bottom + 4), width=str(width),
               height=str(bottom + 4), role="img", class_="chart")


def _table(caption, heading, rows, total):
    shown, rest = rows[:MOST_ROWS], rows[MOST_ROWS:]
    if rest:
        shown = list(shown) + [("other (%d)" % (len(rest),),
                                sum(requests for _, requests in rest))]
    return tags.div(tags.table(
        tags.caption(caption),
        tags.thead(tags.tr(tags.th(heading), tags.th("Requests",
                                                     class_="num"),
                           tags.th("Share", class_="num"))),
        tags.tbody(*[tags.tr(tags.td(label), tags.td(
            format(requests, ","), class_="num"), tags.td(
            "%.1f %%" % (100.0 * requests / total) if total else "-",
            class_="num")) for label, requests in shown])), class_="scroll")


def _protocol_days_table(stats):
    """Requests per day (newest first), a column for each of the
    protocols most asked for, the rest as "other"."""
    columns = [label for label, _ in stats.protocols[:MOST_PROTOCOL_COLUMNS]]
    rest = len(stats.protocols) > len(columns)
    heads = [tags.th("Day")] + [tags.th(label, class_="num")
                                for label in columns]
    if rest:
        heads.append(tags.th("other", class_="num"))
    rows = []
    for day, on_day in reversed(stats.protocol_days):
        cells = [tags.td(day)] + [
            tags.td(format(on_day.get(label, 0), ","), class_="num")
            for label in columns]
        if rest:
            cells.append(tags.td(format(sum(
                requests for label, requests in on_day.items()
                if label not in columns), ","), class_="num"))
        rows.append(tags.tr(*cells))
    return tags.div(tags.table(
        tags.caption("Requests per day by the protocols asked for"),
        tags.thead(tags.tr(*heads)), tags.tbody(*rows),
        class_="protocol-days"), class_="scroll")


def statistics_page(stats):
    days = len(stats.days)
    body = [tags.h1("Mirror list requests"),
            tags.p("What the mirror list daemon answered on each of the "
                   "last %d days (UTC), from its daily counts: %s requests "
                   "in all." % (days, format(stats.total, ",")),
                   class_="muted"),
            tags.form(tags.label("Days ", tags.input(
                type="number", name="days", min="1", max=str(MOST_DAYS),
                value=str(days))), " ", tags.button("Show", type="submit"),
                method="get", action="/+statistics", class_="view")]
    if not stats.total:
        body.append(tags.p("No request was counted in these days."))
        return body
    body += [
        tags.h2("By day"), tags.div(_days_chart(stats.days), class_="fit"),
        _table("Requests by day", "Day", [
            (day, requests) for day, requests in reversed(stats.days)],
            stats.total),
        tags.h2("By kind of list"),
        _table("Requests by kind of list", "Kind", stats.kinds, stats.total),
        tags.h2("By protocol"),
        tags.p("The protocol= a request asked for, preferred first: "
               "https,http is https, else http.  None asked: the list's "
               "default.  Not counted: requests counted before the daemon "
               "counted protocols.", class_="muted"),
        _table("Requests by the protocols asked for", "Protocols",
               stats.protocols, stats.total),
        _protocol_days_table(stats),
        tags.h2("By country"),
        _table("Requests by the country they came from", "Country", [
            (name, requests) for _, name, requests in stats.countries],
            stats.total),
        tags.h2("By content"),
        _table("Requests by what they asked for", "Content", stats.contents,
               stats.total)]
    return body
