"""The pages that list: distributions, a distribution's mirrors by
continent and country, and the propagation overview.

Each function takes plain values (see queries and propagation) and
returns twisted.web.template tags for layout.html_page.
"""

import re
import unicodedata
from urllib.parse import quote, urlencode, urlsplit

import attrs
from twisted.web.template import tags

from mirrorkeeper.enums import MirrorFreshness
from mirrorkeeper.web.chart import series_chart
from mirrorkeeper.web.layout import (
    Flattened, attribute_markup, format_bandwidth, format_minute, legend,
    mirror_href, plural, text_markup)
from mirrorkeeper.web.queries import LISTINGS, group_by_place
from mirrorkeeper.web.site_pages import site_href
from mirrorkeeper.web.worldmap import world_map

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
                                                 "mirrors yet."),
            tags.p(tags.a("Mirror list requests by day, country and "
                          "content", href="/+statistics"))]


def distribution_page(name, title, counts, is_admin, may_register,
                      sign_up_to_register=False):
    """A distribution's page: links to its listings, feeds and API; for a
    visitor not logged in (`sign_up_to_register`), the way to register a
    mirror: sign up, then register."""
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
    elif sign_up_to_register:
        then = quote(base + "+newmirror", safe="")
        body.append(tags.p(
            "Run a mirror of %s? " % (title,),
            tags.a("Sign up", href="/+signup?next=" + then),
            " (or ", tags.a("log in", href="/+login?next=" + then),
            "), then register it.", class_="register"))
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


# How a listing may be asked for, by query parameters (ListingView): each
# works without JavaScript, and the address of any view can be shared.
# Each sort has its own order, the one people want first, and the other
# way round with a '-' before it (sort=-speed: slowest first): {sort:
# (title, its own order, the other way, whether its own order is
# ascending in the column's values)}.
SORTS = {
    "country": ("Country", "A to Z", "Z to A", True),
    "name": ("Name", "A to Z", "Z to A", True),
    "speed": ("Speed", "fastest first", "slowest first", False),
    "freshness": ("Freshness", "freshest first", "stalest first", True),
    "probed": ("Last probed", "newest first", "oldest first", False),
}
PROTOCOLS = ("http", "https", "ftp", "rsync")
# What a listing may show together: a site's mirrors (MirrorManager's
# hosts of one site), under the site's name.
GROUPS = ("site",)
# The freshness filter keeps the mirrors at least this fresh.
FRESHNESS_FILTERS = {band.name.lower(): band for band in MirrorFreshness
                     if band not in (MirrorFreshness.ONEWEEKBEHIND,
                                     MirrorFreshness.UNKNOWN)}
SEARCH_LIMIT = 100
# Mirrors on a page of a flat listing (sorted by other than country).
PAGE_SIZE = 100
# Above this many mirrors, a listing by country shows its continents
# closed, each with its counts: people open the one they want, or follow
# the country index, which opens it.
COLLAPSE_ABOVE = 100
_PARAMETERS = ("sort", "group", "protocol", "freshness", "country", "q",
               "page")


def _bad(message):
    from mirrorkeeper.web.site import HTTPError
    return HTTPError(400, message)


def _one_of(value, choices, what):
    if value not in choices:
        raise _bad("Unknown %s %r: choose %s." % (
            what, value, ", ".join(choices)))
    return value


@attrs.frozen
class ListingView:
    """What a listing shows: its sort, filters and page, read from the
    query string (from_query); `query()` writes them back."""

    sort: str = "country"
    # The other way round from the sort's own order.
    reverse: bool = False
    group: str | None = None
    protocol: str | None = None
    freshness: MirrorFreshness | None = None
    country: str | None = None
    search: str | None = None
    page: int = 1

    @classmethod
    def from_query(cls, query):
        """(ListingView, [unknown parameter names]) of a query string's
        {name: value}; an empty value is no filter.  A bad value is an
        HTTPError of 400 that says what is allowed."""
        values = {name: value.strip() for name, value in query.items()
                  if name in _PARAMETERS and value.strip()}
        ignored = sorted(name for name in query if name not in _PARAMETERS)
        view = {}
        if "sort" in values:
            sort = values["sort"].lower()
            view["reverse"] = sort.startswith("-")
            view["sort"] = sort[view["reverse"]:]
            if view["sort"] not in SORTS:
                raise _bad("Unknown sort %r: choose %s; a '-' before one "
                           "sorts the other way round (-speed: slowest "
                           "first)." % (values["sort"], ", ".join(SORTS)))
        if "group" in values:
            view["group"] = _one_of(values["group"].lower(), GROUPS,
                                    "grouping")
        if "protocol" in values:
            view["protocol"] = _one_of(values["protocol"].lower(),
                                       PROTOCOLS, "protocol")
        if "freshness" in values:
            view["freshness"] = FRESHNESS_FILTERS[_one_of(
                values["freshness"].lower(), tuple(FRESHNESS_FILTERS),
                "freshness")]
        if "country" in values:
            code = values["country"].upper()
            if not re.fullmatch("[A-Z]{2}", code):
                raise _bad("Unknown country %r: give its two-letter ISO "
                           "3166 code, such as BR." % (values["country"],))
            view["country"] = code
        if "q" in values:
            search = values["q"]
            if any(unicodedata.category(c) in ("Cc", "Cs") for c in search):
                raise _bad("The search must be text, without control "
                           "characters.")
            if len(search) > SEARCH_LIMIT:
                raise _bad("The search is too long: at most %d characters."
                           % (SEARCH_LIMIT,))
            view["search"] = search
        if "page" in values:
            page = values["page"]
            if not page.isascii() or not page.isdigit() or \
                    not 1 <= int(page) <= 100000:
                raise _bad("Unknown page %r: give a page number, from 1."
                           % (page,))
            view["page"] = int(page)
        return cls(**view), ignored

    @property
    def grouped(self):
        """Whether the listing is by continent and country."""
        return self.sort == "country" and not self.group

    @property
    def by_site(self):
        return self.group == "site"

    @property
    def filtered(self):
        return bool(self.protocol or self.freshness or self.country or
                    self.search)

    def query(self, **changes):
        """The query string of this view with `changes`, defaults left
        out: '' or '?sort=name&protocol=https'."""
        view = attrs.evolve(self, **changes)
        sort = ("-" if view.reverse else "") + view.sort
        pairs = [("sort", sort if sort != "country" else None),
                 ("group", view.group), ("protocol", view.protocol),
                 ("freshness", view.freshness.name.lower()
                  if view.freshness else None),
                 ("country", view.country), ("q", view.search),
                 ("page", str(view.page) if view.page != 1 else None)]
        pairs = [(name, value) for name, value in pairs if value]
        return "?" + urlencode(pairs) if pairs else ""

    def matches(self, state):
        if self.protocol and not getattr(state, self.protocol + "_url"):
            return False
        if self.freshness and not (
                state.freshness is not MirrorFreshness.UNKNOWN and
                state.freshness.value <= self.freshness.value):
            return False
        if self.country and state.country_code != self.country:
            return False
        if self.search:
            wanted = self.search.casefold()
            hosts = [urlsplit(url).hostname or "" for _, url in state.urls]
            if not any(wanted in text.casefold() for text in [
                    state.name, state.display_name or ""] + hosts):
                return False
        return True

    @property
    def aria_sort(self):
        """The direction of the sort, as aria-sort says it."""
        ascending = SORTS[self.sort][3] != self.reverse
        return "ascending" if ascending else "descending"

    def ordered(self, states):
        """`states` in this view's order: by what is shown (the title),
        after the sort's own key, the other way round if asked (mirrors
        of equal keys stay by title)."""
        if self.sort == "name":
            return sorted(states, key=lambda s: (s.title.casefold(),
                                                 s.name),
                          reverse=self.reverse)
        by_title = sorted(states, key=lambda s: (s.title.casefold(),
                                                 s.name))
        key = {
            "speed": lambda s: (-s.speed_item.mbps, -s.bandwidth_mbps),
            "freshness": lambda s: s.freshness.value,
            "probed": lambda s: (s.last_probe is None, -(
                s.last_probe.timestamp() if s.last_probe else 0)),
            "country": lambda s: s.country_name,
        }[self.sort]
        return sorted(by_title, key=key, reverse=self.reverse)


# The columns of every listing table, shared by all: (class, heading,
# the sort its heading links to).  The widths are the stylesheet's
# (table.mirrors col.c-...), so that every country's table lines up.
_COLUMNS = (("mirror", "Mirror", "name"), ("country", "Country", "country"),
            ("links", "Links", None), ("speed", "Speed", "speed"),
            ("freshness", "Freshness", "freshness"),
            ("probed", "Last probed", "probed"), ("status", "Status", None))


def _table_head(view, columns):
    cols = [tags.col(class_="c-" + name) for name, _, _ in columns]
    cells = []
    for name, heading, sort in columns:
        cell = tags.th(heading, class_="c-" + name)
        if sort and sort != view.sort:
            cell = tags.th(tags.a(heading, href=view.query(
                sort=sort, reverse=False, page=1)), class_="c-" + name)
        elif sort:
            # The sorted column's heading turns its order round.
            other = SORTS[sort][1 if view.reverse else 2]
            cell = tags.th(tags.a(
                heading, tags.span(
                    " \u25b2" if view.aria_sort == "ascending"
                    else " \u25bc", **{"aria-hidden": "true"}),
                href=view.query(reverse=not view.reverse, page=1),
                title="Sort %s" % (other,)),
                class_="c-" + name, **{"aria-sort": view.aria_sort})
        cells.append(cell)
    return Flattened((tags.colgroup(*cols), tags.thead(tags.tr(*cells))))


class _RowWriter:
    """The markup of listing rows, written without tags: a listing of a
    thousand mirrors is a thousand rows, and building their tags cost
    more than everything else of it.  Each row is written as text,
    escaped by layout.text_markup and attribute_markup, and encoded once:
    the bytes layout.flatten writes for the same tags
    (tests/test_web_listings.py checks them on hostile names)."""

    def __init__(self, columns):
        self.columns = {name for name, _, _ in columns}
        self.badges = {band: '<span class="badge f-%s">%s</span>' % (
            band.name, text_markup(band.title)) for band in MirrorFreshness}
        # What many rows share, written once: {value: its markup}.
        self.shared = {}

    def _once(self, value, write):
        markup = self.shared.get(value)
        if markup is None:
            markup = self.shared[value] = write(value)
        return markup

    def row(self, state):
        once = self._once
        out = ['<tr><td class="c-mirror"><a href="', once(
            state.distribution, lambda name: attribute_markup(
                mirror_href(name, ""))),
            attribute_markup(quote(state.name)), '">',
            text_markup(state.title), "</a></td>"]
        if "country" in self.columns:
            out += ['<td class="c-country">',
                    once(state.country_name, text_markup), "</td>"]
        out.append('<td class="c-links"><span class="links">')
        for scheme, url in state.urls:
            out += ['<a href="', attribute_markup(url), '">', scheme,
                    "</a>"]
        out += ['</span></td><td class="c-speed num optional">',
                once(state.speed, text_markup),
                '</td><td class="c-freshness">', self.badges[state.freshness],
                '</td><td class="c-probed">', once(
                    state.last_probe, lambda when: text_markup(
                        format_minute(when))), "</td>"]
        if "status" in self.columns:
            out += ['<td class="c-status">', text_markup(
                state.status.title + (
                    "" if state.enabled else ", disabled") + (
                    ", paused" if state.owner_paused else "")), "</td>"]
        out.append("</tr>")
        return "".join(out).encode("utf-8")

    def rows(self, states):
        return Flattened.of_markup(b"".join(
            [self.row(state) for state in states]))

    def site_rows(self, sites):
        """The tbody of each (site, site title, states) of `sites`: its
        heading row, the site's name linking to its page, then its
        mirrors' rows."""
        out = []
        for site, title, states in sites:
            name = text_markup(title or site) if site else "No site"
            if site:
                name = '<a href="%s">%s</a>' % (
                    attribute_markup(site_href(site)), name)
            out.append((
                '<tbody class="site"><tr class="site"><th colspan="%d" '
                'scope="rowgroup">%s <span class="count">%s</span></th>'
                '</tr>' % (len(self.columns), name, text_markup(_summary(
                    len(states), sum(s.bandwidth_mbps for s in states)))
                )).encode("utf-8"))
            out += [self.row(state) for state in states]
            out.append(b"</tbody>")
        return Flattened.of_markup(b"".join(out))


def _table(head, writer, states):
    return tags.table(head, tags.tbody(writer.rows(states)),
                      class_="mirrors")


def _countries(states):
    """[(code, name, mirrors)] of `states`, by name."""
    counts = {}
    for state in states:
        code_name = (state.country_code, state.country_name)
        counts[code_name] = counts.get(code_name, 0) + 1
    return [(code, name, count) for (code, name), count in sorted(
        counts.items(), key=lambda item: item[0][1])]


def _view_form(path, view, countries):
    """The sort and filters as a GET form: it works without a script."""
    def select(name, label, options, chosen):
        return tags.label(label, tags.select(*[
            tags.option(text, value=value, **(
                {"selected": "selected"} if value == chosen else {}))
            for value, text in options], name=name))
    return tags.form(
        tags.label("Name or host", tags.input(
            type="search", name="q", value=view.search or "",
            maxlength=str(SEARCH_LIMIT))),
        select("protocol", "Protocol", [("", "Any")] + [
            (protocol, protocol) for protocol in PROTOCOLS],
            view.protocol or ""),
        select("freshness", "Freshness", [("", "Any")] + [
            (value, "At most " + band.title[0].lower() + band.title[1:]
             if band is not MirrorFreshness.UP else band.title)
            for value, band in FRESHNESS_FILTERS.items()],
            view.freshness.name.lower() if view.freshness else ""),
        select("country", "Country", [("", "Any")] + [
            (code, name) for code, name, _ in countries],
            view.country or ""),
        select("sort", "Sort by", [
            (prefix + sort, "%s, %s" % (title, order))
            for sort, (title, own, other, _) in SORTS.items()
            for prefix, order in (("", own), ("-", other))],
            ("-" if view.reverse else "") + view.sort),
        tags.label(tags.input(type="checkbox", name="group", value="site",
                              **({"checked": "checked"} if view.by_site
                                 else {})), " Each site's mirrors together"),
        tags.button("Show", type="submit"),
        method="get", action=path, class_="view")


def _country_index(view, countries):
    """Links to each country: its section, or its filter."""
    return tags.nav(*[
        tags.a("%s (%d)" % (name, count), href=(
            "#c-" + code if view.grouped and not view.country
            else view.query(country=code, page=1)))
        for code, name, count in countries], class_="countries",
        **{"aria-label": "Countries"})


def ignored_parameters(names):
    """The note above a listing that ignored query parameters it does not
    know."""
    return tags.p("Ignored what this listing does not know: %s." % (
        ", ".join(names),), class_="notice")


def _summary(count, bandwidth):
    return "%s, %s" % (plural(count, "mirror"), format_bandwidth(bandwidth))


def _by_site(states):
    """[(site, site title, [state])] of `states`, each site's in the
    order given, the sites by title; mirrors of no site last."""
    sites = {}
    for state in states:
        sites.setdefault((state.site, state.site_title), []).append(state)
    return [(site, title, in_site) for (site, title), in_site in sorted(
        sites.items(), key=lambda item: (
            item[0][0] is None, (item[0][1] or item[0][0] or "").casefold(),
            item[0][0] or ""))]


def _pages(groups):
    """`groups` (of a site's mirrors, the third item of each) shared out
    into pages of PAGE_SIZE mirrors or so: a site's mirrors are never
    split between pages, and a site larger than a page has one."""
    pages, page, count = [], [], 0
    for group in groups:
        if page and count + len(group[2]) > PAGE_SIZE:
            pages.append(page)
            page, count = [], 0
        page.append(group)
        count += len(group[2])
    return pages + [page] if page else pages


def listing(distribution_title, heading, path, states, view,
            show_status=False):
    """A listing of mirror states (queries.listing) as `view` asks: by
    continent and country, or one table sorted and paged; the mirrors
    filtered, with the index of their countries and the form to change
    the view."""
    total = len(states)
    countries = _countries(states)
    shown = [state for state in states if view.matches(state)]
    body = [tags.h1("%s: %s" % (distribution_title, heading))]
    line = "%s in all." % (_summary(
        total, sum(state.bandwidth_mbps for state in states)),)
    if view.filtered:
        line = "%d of %s match: %s." % (
            len(shown), plural(total, "mirror"), format_bandwidth(
                sum(state.bandwidth_mbps for state in shown)))
    body += [tags.p(line, class_="muted"), _view_form(path, view, countries),
             _country_index(view, _countries(shown))]
    if view.grouped and not view.filtered and states:
        body.append(tags.div(world_map(countries, lambda code: "#c-" + code),
                             class_="map"))
    body.append(legend())
    if not shown:
        body.append(tags.p("No mirrors here.") if not total else tags.p(
            "No mirror matches. ", tags.a("Show them all", href=path)))
        return body
    columns = [column for column in _COLUMNS
               if (column[0] != "country" or not view.grouped) and
               (column[0] != "status" or show_status)]
    writer = _RowWriter(columns)
    head = _table_head(view, columns)
    if not view.grouped:
        ordered = view.ordered(shown)
        if view.by_site:
            site_pages = _pages(_by_site(ordered))
            pages = len(site_pages)
        else:
            pages = (len(shown) + PAGE_SIZE - 1) // PAGE_SIZE
        if view.page > pages:
            raise _bad("There is no page %d: the listing has %s."
                       % (view.page, plural(pages, "page")))
        if view.by_site:
            body.append(tags.table(head, writer.site_rows(
                site_pages[view.page - 1]), class_="mirrors"))
        else:
            first = (view.page - 1) * PAGE_SIZE
            body.append(_table(head, writer,
                               ordered[first:first + PAGE_SIZE]))
        if pages > 1:
            body.append(tags.nav(
                tags.a("Previous", href=view.query(page=view.page - 1))
                if view.page > 1 else "",
                " Page %d of %d " % (view.page, pages),
                tags.a("Next", href=view.query(page=view.page + 1))
                if view.page < pages else "", class_="pages"))
        return body
    if view.page != 1:
        raise _bad("A listing by country has one page.")
    collapse = len(shown) > COLLAPSE_ABOVE
    continents = group_by_place(view.ordered(shown))
    if view.reverse:
        continents = [attrs.evolve(continent, countries=tuple(reversed(
            continent.countries))) for continent in reversed(continents)]
    for continent in continents:
        countries = [tags.section(
            tags.h3(country.name, " ", tags.span(_summary(
                len(country.mirrors), country.bandwidth_mbps),
                class_="count")),
            _table(head, writer, country.mirrors),
            id="c-" + country.code) for country in continent.countries]
        title = (continent.name, " ", tags.span(_summary(
            continent.count, continent.bandwidth_mbps), class_="count"))
        body.append(tags.details(
            tags.summary(tags.h2(*title)), *countries,
            **({} if collapse else {"open": "open"})))
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
