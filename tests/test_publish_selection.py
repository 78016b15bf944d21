"""Mirror selection, one rule at a time, on hand-built snapshots, with
clients located by a GeoIP database the tests write."""

import ipaddress
import random

import pytest

from mirrorkeeper.enums import MirrorFreshness
from mirrorkeeper.publish.geoip import Locator, parse_address
from mirrorkeeper.publish.selection import (
    BadParameter, Client, Request, UnknownContent, content_for_path,
    content_key, fallback_urls, index_snapshot, parse_protocols,
    redirect_protocols, select, weighted_shuffle)
from tests.mirrorlist_snapshots import mirror, snapshot, write_geoip

NOBLE = ("archive", "noble")


@pytest.fixture(scope="module")
def locator(tmp_path_factory):
    path = write_geoip(str(tmp_path_factory.mktemp("geoip") / "geo.mmdb"))
    locator = Locator(path, path)
    yield locator
    locator.close()


def client(locator, text):
    address = parse_address(text)
    country, asn = locator.locate(address)
    return Client(address, country, asn)


def names(choices):
    return [choice.mirror.name for choice in choices]


def groups(choices):
    return {choice.mirror.name: choice.group for choice in choices}


def choose(mirrors, who, content=NOBLE, minimum=5, seed=0, threshold=None,
           overrides=None, **request):
    index = index_snapshot(snapshot(mirrors),
                           threshold or MirrorFreshness.ONEDAYBEHIND,
                           overrides)
    return select(index, who, Request(content, **request),
                  random.Random(seed), minimum)


def test_geoip_database_tells_country_and_asn(locator):
    """The generated MaxMind database gives an address its country and ASN, and
    nothing for an address it lacks."""
    assert locator.locate(parse_address("192.0.2.7")) == ("DE", 64500)
    assert locator.locate(parse_address("2001:db8::5")) == ("DE", 64500)
    assert locator.locate(parse_address("10.9.9.9")) == (None, None)


def test_ipv4_mapped_address_is_taken_as_ipv4():
    """An IPv4-mapped IPv6 address from a dual-stack socket is its IPv4
    address."""
    assert parse_address("::ffff:192.0.2.7") == \
        ipaddress.ip_address("192.0.2.7")


def test_only_mirrors_carrying_the_content_fresh_enough(locator):
    """Mirrors without the series, too stale, or of unknown freshness are left
    out."""
    chosen = choose([mirror("fresh", "DE"), mirror("jammy-only", "DE",
                                                   places=[4]),
                     mirror("stale", "DE", freshness=6),
                     mirror("unknown", "DE", freshness=8)],
                    client(locator, "192.0.2.1"))
    assert names(chosen) == ["fresh"]


def test_threshold_is_a_setting(locator):
    """With a TWODAYSBEHIND threshold a two-day-old mirror is listed."""
    chosen = choose([mirror("fresh", "DE"), mirror("stale", "DE",
                                                   freshness=6)],
                    client(locator, "192.0.2.1"),
                    threshold=MirrorFreshness.TWODAYSBEHIND)
    assert sorted(names(chosen)) == ["fresh", "stale"]


def test_sync_age_from_detectors_bounds_what_a_mirror_carries(locator):
    """A mirror whose trace or timestamp says its last sync is two days old
    is left out at a one-day threshold, however fresh its records look
    (mirrorchecker's sync-age filter for yum mirror lists)."""
    lagging = mirror("lagging", "DE", detected=6)
    synced = mirror("synced", "DE", detected=2)
    who = client(locator, "192.0.2.1")
    assert names(choose([lagging, synced], who)) == ["synced"]
    assert names(choose([lagging, synced], who, content=(
        "repo", "releases-40-everything", "x86_64"))) == ["synced"]
    assert sorted(names(choose(
        [lagging, synced], who,
        threshold=MirrorFreshness.TWODAYSBEHIND))) == ["lagging", "synced"]


def test_series_freshness_is_the_worst_of_its_records(locator):
    """A mirror whose noble-updates lags two days is not fresh enough for
    noble, though noble release is up to date."""
    lagging = mirror("lagging", "DE", places=[0, 2, 3])
    lagging["archive"]["6"] = [1]
    chosen = choose([lagging, mirror("fine", "DE")],
                    client(locator, "192.0.2.1"))
    assert names(chosen) == ["fine"]


def test_netblock_matches_come_first_most_specific_first(locator):
    """Mirrors whose netblocks hold the client lead, the /28 before the /24,
    whatever their country."""
    mirrors = [mirror("local-de", "DE", bandwidth=100000),
               mirror("wide", "BR", netblocks=["192.0.2.0/24"]),
               mirror("narrow", "BR", netblocks=["192.0.2.0/28"])]
    chosen = choose(mirrors, client(locator, "192.0.2.5"), minimum=1)
    assert names(chosen) == ["narrow", "wide", "local-de"]
    assert groups(chosen) == {"narrow": "netblock", "wide": "netblock",
                              "local-de": "country"}


def test_same_asn_comes_after_netblocks_and_before_country(locator):
    """A mirror serving its ASN's clients comes before the client's country's
    mirrors."""
    mirrors = [mirror("country", "DE", bandwidth=100000),
               mirror("same-asn", "NL", asn=64500, asn_clients=True),
               mirror("asn-not-serving", "NL", asn=64500)]
    chosen = choose(mirrors, client(locator, "192.0.2.5"), minimum=1)
    assert names(chosen)[:2] == ["same-asn", "country"]
    assert groups(chosen)["asn-not-serving"] == "continent"


def test_country_then_continent_then_world_only_below_minimum(locator):
    """The client's country comes first, then its continent; the world only
    joins while fewer than the minimum were found."""
    mirrors = [mirror("fr", "FR", bandwidth=100000), mirror("de", "DE"),
               mirror("br", "BR"), mirror("us", "US")]
    few = choose(mirrors, client(locator, "192.0.2.5"), minimum=5)
    assert names(few)[:2] == ["de", "fr"]
    assert sorted(names(few)[2:]) == ["br", "us"]
    assert groups(few) == {"de": "country", "fr": "continent",
                           "br": "world", "us": "world"}
    enough = choose(mirrors, client(locator, "192.0.2.5"), minimum=2)
    assert names(enough) == ["de", "fr"]


def test_continent_override(locator):
    """A country-to-continent override puts Israel's clients with Europe's
    mirrors."""
    mirrors = [mirror("de", "DE"), mirror("jp", "JP")]
    israeli = client(locator, "100.64.1.1")
    assert names(choose(mirrors, israeli, minimum=1)) == ["jp"]
    assert names(choose(mirrors, israeli, minimum=1,
                        overrides={"IL": "EU"})) == ["de"]


def test_countries_allowed(locator):
    """A mirror that serves only Germany is not offered to a French client,
    except through its own netblock."""
    mirrors = [mirror("de-only", "DE", countries_allowed=["DE"]),
               mirror("fr", "FR")]
    assert names(choose(mirrors, client(locator, "198.51.100.9"))) == ["fr"]
    assert sorted(names(choose(mirrors, client(locator, "192.0.2.9")))) == \
        ["de-only", "fr"]
    mirrors[0]["netblocks"] = ["198.51.100.0/24"]
    assert names(choose(mirrors, client(locator, "198.51.100.9")))[0] == \
        "de-only"


def test_private_mirrors_only_for_their_netblocks_and_asn(locator):
    """A private mirror reaches clients in its netblocks or (asn_clients) its
    ASN, and nobody else."""
    mirrors = [mirror("campus", "DE", private=True,
                      netblocks=["192.0.2.0/25"]),
               mirror("isp", "DE", private=True, asn=64501,
                      asn_clients=True),
               mirror("public", "DE")]
    assert sorted(names(choose(mirrors, client(locator, "192.0.2.200")))) \
        == ["public"]
    assert names(choose(mirrors, client(locator, "192.0.2.1")))[0] == \
        "campus"
    assert names(choose(mirrors, client(locator, "198.51.100.1")))[0] == \
        "isp"


def test_ip_family(locator):
    """An IPv6 client gets only IPv6 mirrors; an IPv4 client all but those
    known to lack IPv4, unresolved ones included."""
    mirrors = [mirror("dual", "DE"),
               mirror("v4", "DE", has_ipv6=False),
               mirror("v6", "DE", has_ipv4=False),
               mirror("unresolved", "DE", has_ipv4=None, has_ipv6=None)]
    assert sorted(names(choose(mirrors, client(locator, "2001:db8::1")))) \
        == ["dual", "v6"]
    assert sorted(names(choose(mirrors, client(locator, "192.0.2.1")))) \
        == ["dual", "unresolved", "v4"]


def test_country_and_protocol_overrides(locator):
    """country= lists another country's mirrors first, protocol= keeps only
    mirrors serving it and gives its URL, country=global the whole world."""
    mirrors = [mirror("de", "DE"),
               mirror("br", "BR", urls={
                   "http": "http://br.example/", "https": "https://br.example/"})]
    german = client(locator, "192.0.2.1")
    chosen = choose(mirrors, german, country="BR", minimum=1)
    assert names(chosen) == ["br"]
    chosen = choose(mirrors, german, protocols=("https",))
    assert [c.url for c in chosen] == ["https://br.example/"]
    assert sorted(names(choose(mirrors, german, country="global",
                               minimum=1))) == ["br", "de"]
    assert names(choose(mirrors, german, country="BR",
                        strict_country=True)) == ["br"]


def test_bandwidth_weighted_shuffle(locator):
    """A mirror with ten times the bandwidth comes first about ten times as
    often, and a seed repeats the order."""
    mirrors = [mirror("big", "DE", bandwidth=1000),
               mirror("small", "DE", bandwidth=100)]
    german = client(locator, "192.0.2.1")
    firsts = [names(choose(mirrors, german, seed=seed))[0]
              for seed in range(2000)]
    share = firsts.count("big") / len(firsts)
    assert 0.87 < share < 0.95  # 10/11 = 0.909
    assert names(choose(mirrors, german, seed=7)) == \
        names(choose(mirrors, german, seed=7))


def test_weighted_shuffle_keeps_every_mirror():
    """The shuffle reorders without losing or repeating a mirror."""
    index = index_snapshot(snapshot([mirror("m%d" % i, "DE", bandwidth=i + 1)
                                     for i in range(20)]))
    shuffled = weighted_shuffle(index.mirrors, random.Random(1))
    assert sorted(m.name for m in shuffled) == sorted(
        m.name for m in index.mirrors)


def test_unknown_content_names_valid_values():
    """Asking for a series or repository the snapshot lacks is UnknownContent
    listing what exists."""
    index = index_snapshot(snapshot([mirror("de", "DE")]))
    with pytest.raises(UnknownContent) as error:
        content_key(index, "archive", "warty")
    assert "noble" in error.value.valid and "jammy/amd64" in error.value.valid
    with pytest.raises(UnknownContent) as error:
        content_key(index, "repo", arch="s390x", repo="releases-40-everything")
    assert "repo=releases-40-everything&arch=x86_64" in error.value.valid
    assert content_key(index, "archive", "noble", "arm64") == \
        ("archive", "noble", "arm64")


def test_known_content_nobody_carries_fresh_is_an_empty_list(locator):
    """A series known to the snapshot but carried by no fresh mirror gives an
    empty list, not an error."""
    index = index_snapshot(snapshot([mirror("de", "DE", freshness=7)]))
    key = content_key(index, "archive", "noble")
    assert select(index, client(locator, "192.0.2.1"), Request(key),
                  random.Random(0)) == []


def test_content_for_path():
    """A redirect's path tells its content: a repository, a suite's series and
    arch, or the whole archive."""
    index = index_snapshot(snapshot([mirror("de", "DE")]))
    assert content_for_path(
        index, "releases/40/Everything/x86_64/os/repodata/repomd.xml") == \
        ("repo", "releases-40-everything", "x86_64")
    assert content_for_path(
        index, "dists/noble-updates/main/binary-arm64/Packages.gz") == \
        ("archive", "noble", "arm64")
    assert content_for_path(index, "dists/noble/InRelease") == \
        ("archive", "noble")
    assert content_for_path(index, "pool/main/h/hello/hello.deb") == \
        ("archive",)


# Mirrors of every protocol combination, for the protocol= tables.
PROTOCOL_MIRRORS = [
    mirror("both", "DE", urls={"http": "http://both.example/",
                               "https": "https://both.example/"}),
    mirror("plain", "DE"),
    mirror("secure", "DE", urls={"https": "https://secure.example/"}),
    mirror("ftp", "DE", urls={"ftp": "ftp://ftp.example/"}),
    mirror("rsync", "DE", urls={"rsync": "rsync://rsync.example/",
                                "http": "http://rsync.example/"}),
]


@pytest.mark.parametrize("text, protocols", [
    (None, None),
    ("", None),
    ("  ", None),
    ("https", ("https",)),
    ("HTTPS", ("https",)),
    ("http,ftp", ("http", "ftp")),
    (" ftp , http ", ("ftp", "http")),
    ("https,https,http", ("https", "http")),
    ("https,", ("https",)),
    ("rsync,https,http,ftp", ("rsync", "https", "http", "ftp")),
])
def test_protocol_parameter_parsed(text, protocols):
    """?protocol= names one or more protocols comma-separated, in order, once
    each, any case; no value is the endpoint's default."""
    assert parse_protocols(text) == protocols


@pytest.mark.parametrize("text, message", [
    ("gopher", "unknown protocol 'gopher'"),
    ("https,gopher", "unknown protocol 'gopher'"),
    ("http;https", "unknown protocol 'http;https'"),
    ("https+http", "unknown protocol 'https+http'"),
    (",", "names no protocol"),
])
def test_unknown_protocol_is_a_bad_parameter(text, message):
    """An unknown protocol, or a value naming none, is a BadParameter that
    names it and lists the valid ones."""
    with pytest.raises(BadParameter) as error:
        parse_protocols(text)
    assert message in str(error.value)
    assert "https,http,ftp,rsync" in str(error.value)


@pytest.mark.parametrize("asked, secure, protocols", [
    (None, False, ("https", "http")),
    (None, True, ("https",)),
    (("http",), False, ("http",)),
    (("http",), True, ("http",)),
    (("https", "http"), True, ("https", "http")),
    (("ftp",), True, ("ftp",)),
])
def test_redirect_never_downgrades_unless_asked(asked, secure, protocols):
    """A redirect asked over https offers https only unless protocol= names
    others; protocol= always wins."""
    assert redirect_protocols(asked, secure) == protocols


@pytest.mark.parametrize("protocols, urls", [
    (("https",), {"both": "https://both.example/",
                  "secure": "https://secure.example/"}),
    (("http",), {"both": "http://both.example/",
                 "plain": "http://plain.example/ubuntu/",
                 "rsync": "http://rsync.example/"}),
    (("http", "ftp"), {"both": "http://both.example/",
                       "plain": "http://plain.example/ubuntu/",
                       "ftp": "ftp://ftp.example/",
                       "rsync": "http://rsync.example/"}),
    (("https", "http"), {"both": "https://both.example/",
                         "plain": "http://plain.example/ubuntu/",
                         "secure": "https://secure.example/",
                         "rsync": "http://rsync.example/"}),
    (("rsync", "http"), {"both": "http://both.example/",
                         "plain": "http://plain.example/ubuntu/",
                         "rsync": "rsync://rsync.example/"}),
    (("ftp",), {"ftp": "ftp://ftp.example/"}),
])
def test_only_the_protocols_asked_for(locator, protocols, urls):
    """Only mirrors serving one of the protocols are chosen, each with its URL
    of the first one it serves."""
    chosen = choose(PROTOCOL_MIRRORS, client(locator, "192.0.2.1"),
                    protocols=protocols)
    assert {c.mirror.name: c.url for c in chosen} == urls


@pytest.mark.parametrize("protocols, kept", [
    (("https",), ["https://master.example/", "HTTPS://upper.example/"]),
    (("http",), ["http://plain.example/"]),
    (("http", "ftp"), ["http://plain.example/", "ftp://ftp.example/"]),
    (("rsync",), []),
])
def test_fallback_urls_of_the_protocols(protocols, kept):
    """Fallback URLs are offered only of the protocols asked for, in the
    configured order."""
    configured = ("https://master.example/", "http://plain.example/",
                  "ftp://ftp.example/", "HTTPS://upper.example/",
                  "master.example/no-scheme/")
    assert fallback_urls(configured, protocols) == kept
