"""The pages that list: distributions, a distribution's mirrors by
continent and country, and the propagation overview.

Each function takes plain values (see queries and propagation) and
returns twisted.web.template tags for layout.html_page.
"""

from urllib.parse import quote

import attrs
from twisted.web.template import tags

from mirrorkeeper.enums import MirrorFreshness
from mirrorkeeper.web.chart import series_chart
from mirrorkeeper.web.layout import (
    format_bandwidth, format_minute, freshness_badge, legend,
    mirror_href, plural, url_links)
from mirrorkeeper.web.queries import LISTINGS

LISTING_PATHS = {
    "archive": "+archivemirrors",
    "cdimage": "+cdmirrors",
    "disabled": "+disabledmirrors",
    "unofficial": "+unofficialmirrors",
    "pending": "+pendingreviewmirrors",
}


def index(distributions):
    """The front page: [(name, title, supports_mirrors)]."""
    items = [tags.li(tags.a(title, href="/%s/" % quote(name)))
             for name, title, supports in distributions if supports]
    return [tags.h1("Distributions"),
            tags.ul(*items) if items else tags.p("No distribution has "
                                                 "mirrors yet.")]


def distribution_page(name, title, counts, is_admin, may_register):
    """A distribution's page: links to its listings, feeds and API."""
    base = "/%s/" % quote(name)
    public = [tags.li(tags.a("%s (%d)" % (LISTINGS[kind][0], counts[kind]),
                             href=base + LISTING_PATHS[kind]))
              for kind in ("archive", "cdimage")]
    public.append(tags.li(tags.a("Propagation of updates",
                                 href=base + "+propagation")))
    body = [tags.h1(title), tags.ul(*public)]
    if is_admin:
        body += [tags.h2("For mirror admins"), tags.ul(*[
            tags.li(tags.a("%s (%d)" % (LISTINGS[kind][0], counts[kind]),
                           href=base + LISTING_PATHS[kind]))
            for kind in ("pending", "unofficial", "disabled")])]
    if may_register:
        body.append(tags.p(tags.a("Register a mirror",
                                  href=base + "+newmirror")))
    body += [tags.h2("For programs"), tags.ul(
        tags.li(tags.a("RSS of archive mirrors",
                       href=base + "+archivemirrors-rss")),
        tags.li(tags.a("RSS of CD image mirrors",
                       href=base + "+cdmirrors-rss")),
        tags.li(tags.a("JSON: the mirrors", href="/api/1/mirrors?"
                       "distribution=" + quote(name))),
        tags.li(tags.a("JSON: the status of every mirror",
                       href="/api/1/status?distribution=" + quote(name))))]
    return body


def _mirror_row(summary, show_status):
    cells = [
        tags.td(tags.a(summary.title, href=mirror_href(summary.distribution,
                                                       summary.name))),
        tags.td(url_links(summary)),
        tags.td(summary.speed, class_="num optional"),
        tags.td(freshness_badge(summary.freshness)),
        tags.td(format_minute(summary.last_probe), class_="optional"),
    ]
    if show_status:
        cells.append(tags.td(summary.status.title + (
            "" if summary.enabled else ", disabled") + (
            ", paused" if summary.owner_paused else "")))
    return tags.tr(*cells)


def listing(distribution_title, heading, continents, show_status=False):
    """Mirrors grouped by continent and country, with counts and summed
    bandwidth for each group.  A listing is rendered once for each state
    of the data and kept (app.MirrorKeeperWeb.listing): wrapped in
    layout.Flattened, it is put in each viewer's page as it is."""
    total = sum(continent.count for continent in continents)
    bandwidth = sum(continent.bandwidth_mbps for continent in continents)
    body = [tags.h1("%s: %s" % (distribution_title, heading)),
            tags.p("%s, %s in all." % (
                plural(total, "mirror"), format_bandwidth(bandwidth)),
                class_="muted"),
            legend()]
    if not continents:
        body.append(tags.p("No mirrors here."))
    headers = ["Mirror", "Links", "Speed", "Freshness", "Last probed"]
    if show_status:
        headers.append("Status")
    for continent in continents:
        body.append(tags.h2(continent.name, " ", tags.span(
            "%s, %s" % (plural(continent.count, "mirror"),
                        format_bandwidth(continent.bandwidth_mbps)),
            class_="count")))
        for country in continent.countries:
            header_cells = [tags.th(header) for header in headers]
            header_cells[2](class_="num optional")
            header_cells[4](class_="optional")
            body.append(tags.div(
                tags.h3(country.name, " ", tags.span(
                    "%s, %s" % (plural(len(country.mirrors), "mirror"),
                                format_bandwidth(country.bandwidth_mbps)),
                    class_="count")),
                tags.table(tags.thead(tags.tr(*header_cells)), tags.tbody(
                    *[_mirror_row(summary, show_status)
                      for summary in country.mirrors])),
                class_="scroll"))
    return body


def propagation_page(result):
    """The propagation overview of a propagation.Propagation."""
    body = [tags.h1("%s: propagation of updates" % (result.title,)),
            tags.p("How fresh each series and pocket is on the %d official "
                   "archive mirrors, now (from each mirror's last probe) "
                   "and on each of the last %d days (read back from the "
                   "probe logs of the day)." % (result.mirror_count,
                                                 result.days),
                   class_="muted"),
            legend()]
    if not result.series:
        body.append(tags.p("No mirror has been probed yet."))
    bands = list(MirrorFreshness)

    def row(label, now, **attributes):
        return tags.tr(label, *[tags.td(str(now.get(band, 0)), class_="num")
                                for band in bands], **attributes)
    for series in result.series:
        # Under each pocket, one row per tier (empty with a single tier),
        # in the table and in the chart alike.
        rows, chart_rows = [], []
        for pocket in series.pockets:
            rows.append(row(tags.td(pocket.pocket), pocket.now))
            chart_rows.append(pocket)
            for tier in pocket.tiers:
                label = "tier %d" % (tier.tier,)
                rows.append(row(tags.td(label, class_="muted"), tier.now,
                                class_="tier"))
                chart_rows.append(attrs.evolve(
                    pocket, pocket=label, now=tier.now,
                    history=tier.history, tiers=()))
        chart = series_chart(attrs.evolve(series, pockets=tuple(chart_rows)))
        body.append(tags.section(
            tags.h2("%s (%s)" % (series.name, series.version)),
            tags.div(chart, class_="scroll"),
            tags.div(tags.table(
                tags.caption("Mirrors by freshness now"),
                tags.thead(tags.tr(tags.th("Pocket"), *[
                    tags.th(band.title, class_="num") for band in bands])),
                tags.tbody(*rows)), class_="scroll")))
    return body
