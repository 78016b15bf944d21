"""The mirror listings people use: a country index, sorts, filters, a
search, pages and closed continents, all by query parameters; bad ones
are a 400 that says what is allowed.  Over HTTP to the site in-process
on both backends, and the rows' markup against the tags it stands for."""

import re
from datetime import datetime, timedelta

import pytest
from lxml import html
from twisted.web.template import tags

from mirrorkeeper.enums import (
    MirrorContent, MirrorFreshness, MirrorSpeed, MirrorStatus)
from mirrorkeeper.timeutil import utcnow
from mirrorkeeper.web import listing_pages
from mirrorkeeper.web.layout import (
    flatten, format_minute, freshness_badge, mirror_href)
from mirrorkeeper.web.listing_pages import ListingView
from mirrorkeeper.web.queries import MirrorSummary
from tests.web_harness import client, world  # noqa: F401

from tests.test_web_pages import carry, official

HOSTILE = "<script>alert(\"x\")</script> & 'co' \u00e9\u2603"


def summary(name, title=None, **changes):
    values = dict(
        id=1, name=name, title=title or name, display_name=title,
        distribution="ubu&ntu", content=MirrorContent.ARCHIVE,
        status=MirrorStatus.OFFICIAL, official_candidate=True,
        enabled=True, owner_paused=False, owner="olive",
        country_code="BR", country_name="Brazil", continent_code="SA",
        continent_name="South America",
        http_url="http://%s.example.org/" % name, https_url=None,
        ftp_url=None, rsync_url=None, speed="1 Gbps",
        speed_item=MirrorSpeed.S1G, bandwidth_mbps=1000,
        freshness=MirrorFreshness.UP,
        last_probe=datetime(2025, 1, 5, 10, 0),
        date_created=datetime(2024, 1, 1))
    values.update(changes)
    return MirrorSummary(**values)


def tag_row(state, columns):
    """The row as tags, as the listing wrote it before it wrote rows
    without them."""
    cells = [tags.td(tags.a(state.title, href=mirror_href(
        state.distribution, state.name)), class_="c-mirror")]
    if "country" in columns:
        cells.append(tags.td(state.country_name, class_="c-country"))
    cells += [
        tags.td(tags.span(*[tags.a(scheme, href=url)
                            for scheme, url in state.urls],
                          class_="links"), class_="c-links"),
        tags.td(state.speed, class_="c-speed num optional"),
        tags.td(freshness_badge(state.freshness), class_="c-freshness"),
        tags.td(format_minute(state.last_probe), class_="c-probed")]
    if "status" in columns:
        cells.append(tags.td(state.status.title + (
            "" if state.enabled else ", disabled") + (
            ", paused" if state.owner_paused else ""), class_="c-status"))
    return tags.tr(*cells)


def test_rows_are_written_as_their_tags_would_be_hostile_names_too():
    """The rows written without tags are byte for byte the flattened
    tags, whatever the names, URLs and countries hold."""
    states = [
        summary("plain", "Plain mirror"),
        summary("ho&stile", HOSTILE, country_name="Bra<zil> \"&\"",
                http_url='http://h.example.org/?a="b"&c=<d>\'',
                https_url="https://h.example.org/\u2603/",
                rsync_url="rsync://h.example.org/a b/", enabled=False,
                owner_paused=True, last_probe=None,
                freshness=MirrorFreshness.UNKNOWN),
        summary("na\u00efve", "", http_url=None,
                ftp_url="ftp://x.example.org/a&b",
                status=MirrorStatus.BROKEN, speed="<10 Gbps>"),
    ]
    for columns in (listing_pages._COLUMNS, listing_pages._COLUMNS[:1] +
                    listing_pages._COLUMNS[2:6]):
        names = {name for name, _, _ in columns}
        writer = listing_pages._RowWriter(columns)
        for state in states:
            assert writer.row(state) == flatten(tag_row(state, names))
    page = flatten(listing_pages.listing(
        "Ubuntu <&>", "Archive mirrors", "/u/+archivemirrors", states,
        ListingView(), show_status=True))
    assert b"<script>" not in page and b"&lt;script&gt;alert" in page
    assert b'href="http://h.example.org/?a=&quot;b&quot;&amp;c=&lt;d&gt;' \
        in page


def rows(page):
    """The mirror names of a listing's rows, in order."""
    return [a.get("href").rsplit("/", 1)[-1] for a in html.fromstring(
        page).xpath("//table[@class='mirrors']//td[@class='c-mirror']/a")]


def test_many_mirrors_close_their_continents_few_do_not():
    """Above COLLAPSE_ABOVE mirrors each continent is a closed details
    element with its counts; the country index still links each
    country's section; every table has the same columns."""
    many = [summary("m%03d" % i, country_code=code, country_name=name,
                    continent_code=continent, continent_name=continent)
            for i in range(listing_pages.COLLAPSE_ABOVE + 1)
            for code, name, continent in [[
                ("BR", "Brazil", "South America"),
                ("DE", "Germany", "Europe"),
                ("FR", "France", "Europe")][i % 3]]]
    for states, closed in ((many, True), (many[:20], False)):
        page = html.fromstring(flatten(listing_pages.listing(
            "Ubuntu", "Archive mirrors", "/u/+archivemirrors", states,
            ListingView())))
        continents = page.xpath("//details")
        assert [d.xpath("string(summary)") for d in continents][0] \
            .startswith("Europe")
        assert all((d.get("open") is None) == closed for d in continents)
        index = [(a.text, a.get("href"))
                 for a in page.xpath("//nav[@class='countries']/a")]
        count = len([s for s in states if s.country_code == "BR"])
        assert index[0] == ("Brazil (%d)" % count, "#c-BR")
        assert [a for _, a in index] == ["#c-BR", "#c-FR", "#c-DE"]
        for _, anchor in index:
            assert page.xpath("//section[@id='%s']" % anchor[1:])
        layouts = {tuple(col.get("class") for col in table.xpath(
            "colgroup/col")) for table in page.xpath("//table")}
        assert layouts == {("c-mirror", "c-links", "c-speed",
                            "c-freshness", "c-probed")}


def test_a_flat_listing_is_paged():
    states = [summary("m%03d" % i) for i in range(250)]
    view = ListingView(sort="name", page=3)
    page = html.fromstring(flatten(listing_pages.listing(
        "Ubuntu", "Archive mirrors", "/u/+archivemirrors", states, view)))
    names = [a.text for a in page.xpath("//td[@class='c-mirror']/a")]
    assert names == ["m%03d" % i for i in range(200, 250)]
    assert "Page 3 of 3" in page.xpath("string(//nav[@class='pages'])")
    assert [a.get("href") for a in page.xpath("//nav[@class='pages']/a")] \
        == ["?sort=name&page=2"]


@pytest.fixture
def mirrors(world):
    """Five official mirrors in three countries, of each freshness and
    protocol, probed at different times; their display names sort
    otherwise than their names."""
    now = utcnow().replace(microsecond=0)
    made = {}
    for name, title, country, speed, freshness, hours, urls in [
            ("zeta", "Alpha Mirror", "BR", MirrorSpeed.S10G,
             MirrorFreshness.UP, 1, {"https_base_url":
                                     "https://alpha.example.net/u/"}),
            ("alpha", "Zulu mirror", "BR", MirrorSpeed.S100M,
             MirrorFreshness.ONEDAYBEHIND, 5, {}),
            ("mid", "middle", "DE", MirrorSpeed.S1G,
             MirrorFreshness.SIXHOURSBEHIND, 3, {"rsync_base_url":
                                                 "rsync://mid.example/u/"}),
            ("kilo", None, "DE", MirrorSpeed.S2G, MirrorFreshness.UP, None,
             {"ftp_base_url": "ftp://kilo.example.com/u/"}),
            ("ja", "Japan one", "JP", MirrorSpeed.S1G,
             MirrorFreshness.TWODAYSBEHIND, 2, {})]:
        mirror = official(world, name, country=country,
                          display_name=title, **urls)
        mirror.speed = speed
        carry(world, mirror, freshness)
        if hours is not None:
            mirror.newProbeRecord("probed\n", now - timedelta(hours=hours))
        made[name] = mirror
    world.store.commit()
    return made


# The fixture's mirrors (the sample data has others).
OURS = {"zeta", "alpha", "mid", "kilo", "ja", "waiting-br", "waiting-de"}


def listed(client, query="", path="/ubuntu/+archivemirrors"):
    """The response, and the rows of the fixture's mirrors in order."""
    response = client.get(path + query)
    assert response.status == 200, response.text
    return response, [name for name in rows(response.body) if name in OURS]


def test_rows_are_sorted_by_what_is_shown(mirrors, client):
    """By country, each country's rows by display name; by name, one
    table by display name; by speed, fastest first; by freshness,
    freshest first; by last probe, newest first and never last."""
    response, names = listed(client)
    # Asia (Japan), Europe (Germany), South America (Brazil).
    assert names == ["ja", "kilo", "mid", "zeta", "alpha"]
    assert listed(client, "?sort=name")[1] == [
        "zeta", "ja", "kilo", "mid", "alpha"]
    assert listed(client, "?sort=speed")[1] == [
        "zeta", "kilo", "ja", "mid", "alpha"]
    assert listed(client, "?sort=freshness")[1] == [
        "zeta", "kilo", "mid", "alpha", "ja"]
    assert listed(client, "?sort=PROBED")[1] == [
        "zeta", "ja", "mid", "alpha", "kilo"]
    # The headings link the other sorts, keeping the filters.
    page = html.fromstring(listed(client, "?sort=name&protocol=http")[0]
                           .body)
    assert page.xpath("//th[@class='c-speed']/a/@href") == [
        "?sort=speed&protocol=http"]
    assert page.xpath("//th[@class='c-mirror']/@aria-sort") == ["ascending"]


def test_each_sort_goes_the_other_way_round_after_a_minus(mirrors,
                                                         client):
    """sort=-X is X the other way round (mirrors of equal keys still by
    display name); the sorted column's heading links the other way and
    says which way it goes, the others link their own order; the form
    and the pages keep the way asked."""
    assert listed(client, "?sort=-name")[1] == [
        "alpha", "mid", "kilo", "ja", "zeta"]
    assert listed(client, "?sort=-speed")[1] == [
        "alpha", "ja", "mid", "kilo", "zeta"]
    assert listed(client, "?sort=-freshness")[1] == [
        "ja", "alpha", "mid", "zeta", "kilo"]
    assert listed(client, "?sort=-probed")[1] == [
        "kilo", "alpha", "mid", "ja", "zeta"]
    # By country the other way: South America, Europe, then Asia.
    response, names = listed(client, "?sort=-Country")
    assert names == ["zeta", "alpha", "kilo", "mid", "ja"]
    assert [h.text_content().split()[0] for h in html.fromstring(
        response.body).xpath("//details/summary/h2")][-1] == "Asia"
    for query, link, way in (("?sort=speed", "?sort=-speed", "descending"),
                             ("?sort=-speed", "?sort=speed", "ascending"),
                             ("?sort=-name", "?sort=name", "descending")):
        page = html.fromstring(client.get(
            "/ubuntu/+archivemirrors" + query).body)
        (heading,) = page.xpath("//th[@aria-sort]")
        assert heading.get("aria-sort") == way
        assert heading.xpath("a/@href") == [link]
        assert page.xpath("//select[@name='sort']/option[@selected]/"
                          "@value") == [query[len("?sort="):]]
    page = html.fromstring(client.get(
        "/ubuntu/+archivemirrors?sort=-name&protocol=http").body)
    assert page.xpath("//th[@class='c-speed']/a/@href") == [
        "?sort=speed&protocol=http"]
    states = [summary("m%03d" % i) for i in range(150)]
    page = html.fromstring(flatten(listing_pages.listing(
        "Ubuntu", "Archive mirrors", "/u/+archivemirrors", states,
        ListingView(sort="name", reverse=True))))
    assert page.xpath("//td[@class='c-mirror']/a")[0].text == "m149"
    assert page.xpath("//nav[@class='pages']/a/@href") == [
        "?sort=-name&page=2"]


def test_filters_and_search_narrow_the_listing(mirrors, client):
    assert listed(client, "?protocol=https")[1] == ["zeta"]
    assert listed(client, "?protocol=rsync")[1] == ["mid"]
    assert listed(client, "?protocol=ftp")[1] == ["kilo"]
    assert listed(client, "?freshness=up")[1] == ["kilo", "zeta"]
    assert listed(client, "?freshness=sixhoursbehind&sort=name")[1] == [
        "zeta", "kilo", "mid"]
    assert listed(client, "?country=de")[1] == ["kilo", "mid"]
    # By name, display name or host, whatever the case.
    assert listed(client, "?q=ALPHA")[1] == ["zeta", "alpha"]
    assert listed(client, "?q=example.com")[1] == ["kilo"]
    assert listed(client, "?q=middle")[1] == ["mid"]
    response, names = listed(client, "?q=alpha&country=BR&protocol=https"
                             "&freshness=up&sort=speed")
    assert names == ["zeta"]
    assert re.search(r"1 of \d+ mirrors match", response.text)
    nothing = listed(client, "?q=nowhere")[0].text
    assert "No mirror matches." in nothing
    # The form says what is chosen; its empty fields are no filter.
    assert listed(client, "?q=&protocol=&freshness=&country=&sort=")[1] \
        == ["ja", "kilo", "mid", "zeta", "alpha"]
    page = html.fromstring(listed(client, "?country=JP&sort=freshness")[0]
                           .body)
    form = page.xpath("//form[@class='view']")[0]
    assert form.get("method") == "get"
    assert form.xpath(".//select[@name='country']/option[@selected]/"
                      "@value") == ["JP"]
    assert form.xpath(".//select[@name='sort']/option[@selected]/@value") \
        == ["freshness"]
    # In a filtered view the country index links each country's filter.
    assert "?sort=freshness&country=JP" in page.xpath(
        "//nav[@class='countries']/a/@href")


@pytest.mark.parametrize("query, says", [
    ("?sort=bandwidth", "Unknown sort 'bandwidth': choose country, name, "
     "speed, freshness, probed; a '-' before one sorts the other way round "
     "(-speed: slowest first)."),
    ("?sort=--name", "Unknown sort '--name'"),
    ("?sort=-", "Unknown sort '-'"),
    ("?protocol=gopher", "Unknown protocol 'gopher'"),
    ("?freshness=stale", "Unknown freshness 'stale'"),
    ("?country=Brazil", "Unknown country 'Brazil'"),
    ("?country=QQ", "Unknown country 'QQ'"),
    ("?page=0", "Unknown page '0'"),
    ("?page=-1", "Unknown page '-1'"),
    ("?page=%C2%B2", "Unknown page"),
    ("?page=99999999999999999999", "Unknown page"),
    ("?sort=name&page=2", "There is no page 2"),
    ("?page=2", "A listing by country has one page."),
    ("?q=%FF%FE", "The search must be text"),
    ("?q=a%00b", "The search must be text"),
    ("?q=" + "x" * 101, "The search is too long"),
    ("?group=owner", "Unknown grouping 'owner': choose site."),
    ("?group=site&page=2", "There is no page 2"),
])
def test_bad_parameters_are_a_400_that_says_why(mirrors, client, query,
                                                says):
    response = client.get("/ubuntu/+archivemirrors" + query)
    assert response.status == 400
    text = html.fromstring(response.body).text_content()
    assert says in re.sub(r"\s+", " ", text)


def test_unknown_parameters_are_ignored_with_a_note(mirrors, client):
    response, names = listed(client, "?colour=%3Cb%3Ered&country=JP")
    assert names == ["ja"]
    assert "Ignored what this listing does not know: colour." in \
        response.text.replace("&lt;b&gt;", "")
    assert "<b>" not in response.text
    assert "Ignored" not in listed(client, "?country=JP")[0].text


def test_admin_listings_take_the_same_parameters(mirrors, world, client):
    world.mirror("waiting-br", display_name="B waiting")
    world.mirror("waiting-de", country="DE", display_name="A waiting")
    client.login("adam")
    path = "/ubuntu/+pendingreviewmirrors"
    response, names = listed(client, "?sort=name", path)
    assert names == ["waiting-de", "waiting-br"]
    assert "Pending review, disabled" in response.text
    assert listed(client, "?country=BR", path)[1] == ["waiting-br"]


def test_a_sites_mirrors_are_listed_together(mirrors, world, client):
    """With group=site, each site's mirrors are rows of one table under
    the site's name, which links to its page (escaped once), the sites by
    name and each site's mirrors in the sort asked; the country column is
    back, and the sort links keep the grouping."""
    from mirrorkeeper.model.site import SiteSet
    site = SiteSet(world.store).new("example-net", "Example & <Co>",
                                    [mirrors["zeta"].owner])
    mirrors["zeta"].site = mirrors["mid"].site = site
    world.store.commit()
    for path in ("/ubuntu/+archivemirrors", "/ubuntu/+cdmirrors"):
        response = client.get(path + "?group=site")
        assert response.status == 200, response.text
    response, names = listed(client, "?group=site")
    # Example & <Co> (zeta in Brazil, mid in Germany), Japan one, kilo,
    # Zulu mirror.
    assert names == ["zeta", "mid", "ja", "kilo", "alpha"]
    assert b"Example &amp; &lt;Co&gt;" in response.body
    page = html.fromstring(response.body)
    (table,) = page.xpath("//table[@class='mirrors']")
    bodies = table.xpath("tbody[@class='site']")
    heading = bodies[0].xpath("tr[@class='site']/th")[0]
    assert heading.xpath("a/@href") == ["/+site/example-net"]
    assert heading.xpath("string(a)") == "Example & <Co>"
    assert heading.xpath("string(span)").startswith("2 mirrors, ")
    assert [a.get("href").rsplit("/", 1)[-1] for a in bodies[0].xpath(
        "tr/td[@class='c-mirror']/a")] == ["zeta", "mid"]
    assert table.xpath("colgroup/col/@class") == [
        "c-mirror", "c-country", "c-links", "c-speed", "c-freshness",
        "c-probed"]
    assert table.xpath("tbody/tr[@class='site']/th/@colspan") == \
        ["6"] * len(bodies)
    assert page.xpath("//th[@class='c-speed']/a/@href") == [
        "?sort=speed&group=site"]
    assert page.xpath("//input[@name='group']/@checked") == ["checked"]
    assert listed(client, "?group=site&sort=freshness")[1][:2] == [
        "zeta", "mid"]
    assert listed(client, "?group=SITE&country=DE")[1] == ["mid", "kilo"]


def test_a_listing_by_site_pages_whole_sites():
    """Pages of a listing by site hold whole sites: a site never starts
    on one page and ends on the next."""
    states = [summary("%s%03d" % (site, i), site=site, site_title=title)
              for site, title, count in [("b", "Beta", 60), ("a", "Alpha",
                                         50), ("c", "Gamma", 30)]
              for i in range(count)]
    for number, sites, count in ((1, ["Alpha"], 50),
                                 (2, ["Beta", "Gamma"], 90)):
        page = html.fromstring(flatten(listing_pages.listing(
            "Ubuntu", "Archive mirrors", "/u/+archivemirrors", states,
            ListingView(group="site", page=number))))
        assert [th.xpath("string(a)") for th in page.xpath(
            "//tr[@class='site']/th")] == sites
        assert len(page.xpath("//td[@class='c-mirror']")) == count
        assert "Page %d of 2" % (number,) in page.xpath(
            "string(//nav[@class='pages'])")
