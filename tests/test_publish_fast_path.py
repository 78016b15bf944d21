"""The mirror list daemon's fast path: the groups select() keeps per
snapshot answer exactly as the selection rules do, its pool of drawn
orders keeps the bandwidth weighting (also when the daemon keeps what it
worked out for a client), memory stays bounded, and nothing cached
outlives its snapshot."""

import ipaddress
import random
from collections import Counter

from twisted.internet import defer
from twisted.trial import unittest

from mirrorkeeper.publish import formats, selection, server
from mirrorkeeper.publish.http import Request as HTTPRequest
from mirrorkeeper.publish.selection import (
    Choice, Client, Request, index_snapshot, select, weighted_shuffle)
from tests.mirrorlist_daemon import DaemonTestMixin, lines
from tests.mirrorlist_snapshots import (
    CONTINENTS, PLACES, REPOSITORIES, mirror, snapshot)


def reference_select(index, client, request, rng, minimum=5):
    """select() as it was before its groups were cached: every rule worked
    out on every call (kept here as the specification the cache must
    match, draw for draw)."""
    eligible = index.carriers[request.content]
    version = client.address.version
    address = int(client.address)
    mirrors = index.mirrors
    protocols = request.protocols
    chosen, taken = [], set()
    # A client GeoIP does not place is taken to be in the country it asks
    # for, as far as countries_allowed goes.
    place = client.country or (
        request.country if request.country != "global" else None)

    def usable(position):
        mirror = mirrors[position]
        return (position in eligible and position not in taken
                and mirror.reachable_by(version)
                and mirror.url(protocols) is not None)

    def public(mirror):
        return not mirror.private and (
            not mirror.countries_allowed or
            place in mirror.countries_allowed)

    def add(group, positions):
        order = weighted_shuffle([mirrors[p] for p in positions], rng)
        for candidate in order:
            chosen.append(Choice(candidate, candidate.url(protocols), group))
            taken.add(candidate.index)

    prefix, group = None, []
    for block_version, network, mask, length, position in index.netblocks:
        if block_version != version or address & mask != network:
            continue
        if length != prefix:
            add("netblock", group)
            prefix, group = length, []
        if usable(position) and position not in group:
            group.append(position)
    add("netblock", group)
    if client.asn is not None:
        add("asn", [p for p in index.by_asn.get(client.asn, ())
                    if usable(p) and (
                        not mirrors[p].countries_allowed or
                        place in mirrors[p].countries_allowed)])
    country = request.country or client.country
    if country == "global":
        add("world", [p for p in index.carriers_list[request.content]
                      if usable(p) and public(mirrors[p])])
        return chosen
    if country:
        add("country", [p for p in index.by_country.get(country, ())
                        if usable(p) and public(mirrors[p])])
        if request.strict_country:
            return chosen
        continent = index.continent_of(country)
        if continent:
            add("continent", [p for p in index.by_continent.get(
                continent, ()) if usable(p) and public(mirrors[p])])
    if len(chosen) < minimum:
        add("world", [p for p in index.carriers_list[request.content]
                      if usable(p) and public(mirrors[p])])
    return chosen


NETBLOCKS = ["192.0.2.0/24", "192.0.2.0/25", "192.0.2.128/26",
             "10.0.0.0/8", "10.1.0.0/16", "10.1.2.0/24", "2001:db8::/32",
             "2001:db8:1::/48"]
ADDRESSES = ["192.0.2.5", "192.0.2.130", "192.0.2.200", "10.1.2.3",
             "10.1.9.9", "10.200.0.1", "198.51.100.7", "2001:db8:1::5",
             "2001:db8:2::5", "2001:db9::1"]


def random_world(rng, count=120):
    """A snapshot of `count` mirrors drawing every field selection reads at
    random: country, bandwidth, freshness, protocols, netblocks, ASN,
    privacy, countries_allowed and IP families."""
    mirrors = []
    for n in range(count):
        name = "m%03d" % n
        urls = {"http": "http://%s.example/ubuntu/" % name}
        if rng.random() < 0.5:
            urls["https"] = "https://%s.example/ubuntu/" % name
        if rng.random() < 0.2:
            urls = {"ftp": "ftp://%s.example/ubuntu/" % name}
        mirrors.append(mirror(
            name, rng.choice(sorted(CONTINENTS)),
            bandwidth=rng.choice([10, 100, 100, 1000, 10000]),
            freshness=rng.choice([1, 1, 2, 5, 6]),
            places=rng.sample(range(len(PLACES)), rng.randint(1, 5)),
            repositories=rng.sample(range(len(REPOSITORIES)),
                                    rng.randint(0, 2)),
            urls=urls,
            netblocks=rng.sample(NETBLOCKS, rng.choice([0, 0, 0, 1, 2])),
            asn=rng.choice([None, 64500, 64501, 64502]),
            asn_clients=rng.random() < 0.3,
            private=rng.random() < 0.1,
            countries_allowed=rng.sample(["DE", "FR", "BR"],
                                         rng.choice([0, 0, 0, 1, 2])),
            has_ipv4=rng.choice([True, True, None, False]),
            has_ipv6=rng.choice([True, False, None])))
    return snapshot(mirrors)


def by_group(choices):
    """The groups of a list in order, each its (mirror, URL) pairs in any
    order: what the rules decide, leaving the shuffle aside."""
    groups = []
    for choice in choices:
        if not groups or groups[-1][0] != choice.group:
            groups.append((choice.group, set()))
        groups[-1][1].add((choice.mirror.name, choice.url))
    return groups


def test_cached_groups_answer_as_the_rules_do():
    """For clients, contents, countries and protocols of every kind, select()
    gives exactly the groups the uncached rules give, each of the same
    mirrors and URLs, the first time and from its pool."""
    world_rng = random.Random(5)
    contents = [("archive",), ("archive", "noble"),
                ("archive", "noble", "arm64"), ("archive", "jammy"),
                ("repo", "releases-40-everything", "x86_64")]
    compared = 0
    for _ in range(4):
        index = index_snapshot(random_world(world_rng))
        for _ in range(300):
            client = Client(
                ipaddress.ip_address(world_rng.choice(ADDRESSES)),
                world_rng.choice(["DE", "FR", "BR", "IL", "JP", None]),
                world_rng.choice([None, 64500, 64501, 64502, 65000]))
            request = Request(
                world_rng.choice(contents),
                world_rng.choice([None, None, "FR", "US", "global"]),
                world_rng.random() < 0.2,
                world_rng.choice([("https", "http"), ("http", "https"),
                                  ("https",), ("ftp",)]))
            minimum = world_rng.choice([1, 5, 50])
            seed = world_rng.random()
            expected = by_group(reference_select(
                index, client, request, random.Random(seed), minimum))
            for _ in range(2):
                assert by_group(select(index, client, request,
                                       random.Random(seed),
                                       minimum)) == expected
            compared += bool(expected)
    assert compared > 600


def test_four_times_the_bandwidth_comes_first_four_times_as_often():
    """Over many lists a mirror with four times the bandwidth of each of three
    others comes first about four times as often as each of them."""
    index = index_snapshot(snapshot(
        [mirror("big", "DE", bandwidth=400)] +
        [mirror("small%d" % n, "DE", bandwidth=100) for n in range(3)]))
    german = Client(ipaddress.ip_address("192.0.2.1"), "DE")
    rng = random.Random(20240601)
    firsts = Counter(
        select(index, german, Request(("archive", "noble")), rng)[0]
        .mirror.name for _ in range(14000))
    # Expected 8,000 against 2,000 each: a ratio of 4.
    for n in range(3):
        assert 3.5 < firsts["big"] / firsts["small%d" % n] < 4.6


def test_four_times_the_bandwidth_first_four_times_as_often_within_5():
    """Over 10,000 lists a mirror with four times the bandwidth of the other
    comes first four times as often, to within 5 %."""
    index = index_snapshot(snapshot([mirror("big", "DE", bandwidth=400),
                                     mirror("small", "DE", bandwidth=100)]))
    german = Client(ipaddress.ip_address("192.0.2.1"), "DE")
    rng = random.Random(15)
    firsts = Counter(
        select(index, german, Request(("archive",)), rng)[0].mirror.name
        for _ in range(10000))
    assert abs(firsts["big"] / firsts["small"] / 4 - 1) < 0.05


def test_each_mirror_is_first_in_its_share_of_the_pool():
    """Across the pool of one list, each mirror is first in its bandwidth's
    share of the orders to within one, and each order holds every mirror
    of the list once."""
    bandwidths = [1000, 400, 100, 100, 10, 10, 1]
    index = index_snapshot(snapshot([
        mirror("m%d" % n, "DE", bandwidth=b)
        for n, b in enumerate(bandwidths)]))
    german = Client(ipaddress.ip_address("192.0.2.1"), "DE")
    rng = random.Random(3)
    pool = selection.cached_groups(index, german, Request(("archive",)),
                                   rng, minimum=1)
    count = len(pool.orders)
    assert count == selection.ORDERS_PER_LIST
    orders = [pool.order(number, rng) for number in range(count)]
    firsts = Counter(order[0].mirror.name for order in orders)
    for n, bandwidth in enumerate(bandwidths):
        share = count * bandwidth / sum(bandwidths)
        assert abs(firsts["m%d" % n] - share) <= 1
    for order in orders:
        assert sorted(c.mirror.name for c in order) == \
            ["m%d" % n for n in range(len(bandwidths))]
    # Drawn once: picked again, an order is the same object.
    assert pool.order(5, rng) is orders[5]


def test_the_pools_stay_within_their_bytes():
    """Orders drawn and renderings kept for many lists stay within
    MAX_POOL_BYTES, the oldest lists forgotten; the index's count is what
    the lists it keeps hold, and a forgotten list's order keeps nothing
    more."""
    index = index_snapshot(snapshot([mirror("de%d" % n, "DE")
                                     for n in range(30)]))
    old, selection.MAX_POOL_BYTES = selection.MAX_POOL_BYTES, 60000
    try:
        rng = random.Random(1)
        orders = []
        for country in ("DE", "FR", "BR", "IL", "JP", "US", "CA") * 3:
            for _ in range(40):
                order = select(index, Client(ipaddress.ip_address(
                    "192.0.2.1"), country), Request(("archive",)), rng)
                selection.remember(index, order, "apt", b"x" * 300)
                orders.append(order)
            assert index.pool_bytes <= selection.MAX_POOL_BYTES
            assert index.pool_bytes == sum(
                pool.size for pool in index.groups_cache.values())
        assert len(index.groups_cache) < 7
        forgotten = orders[0]
        assert forgotten.pool is None and forgotten.rendered == {}
        selection.remember(index, forgotten, "mirrorlist", b"y")
        assert "mirrorlist" not in forgotten.rendered
    finally:
        selection.MAX_POOL_BYTES = old


def test_groups_cache_is_bounded():
    """Past MAX_CACHED_GROUPS combinations the oldest is forgotten and worked
    out again when asked."""
    index = index_snapshot(snapshot([mirror("de", "DE"),
                                     mirror("fr", "FR")]))
    old, selection.MAX_CACHED_GROUPS = selection.MAX_CACHED_GROUPS, 3
    try:
        for country in ("DE", "FR", "BR", "IL", "JP"):
            client = Client(ipaddress.ip_address("192.0.2.1"), country)
            select(index, client, Request(("archive",)), random.Random(0))
        assert len(index.groups_cache) == 3
        assert [key[7] for key in index.groups_cache] == ["BR", "IL", "JP"]
        german = Client(ipaddress.ip_address("192.0.2.1"), "DE")
        assert [c.mirror.name for c in select(
            index, german, Request(("archive",)), random.Random(0),
            minimum=1)] == ["de", "fr"]
        assert len(index.groups_cache) == 3
    finally:
        selection.MAX_CACHED_GROUPS = old


def test_clients_of_one_network_place_share_one_entry():
    """Two addresses in the same country, ASN and netblocks share one cached
    entry, and an address in a mirror's netblock gets its own."""
    index = index_snapshot(snapshot([
        mirror("de", "DE"), mirror("campus", "DE",
                                   netblocks=["192.0.2.0/25"])]))
    for text in ("192.0.2.1", "192.0.2.2", "192.0.2.200", "192.0.2.201"):
        select(index, Client(ipaddress.ip_address(text), "DE", 64500),
               Request(("archive",)), random.Random(0))
    assert len(index.groups_cache) == 2


class ReloadTests(DaemonTestMixin, unittest.TestCase):
    timeout = 10

    def setUp(self):
        return self.start_daemon(snapshot([mirror("de1", "DE"),
                                           mirror("de2", "DE")]),
                                 minimum=1)

    @defer.inlineCallbacks
    def test_new_snapshot_is_not_answered_from_the_old_ones_cache(self):
        """After a reload the same client asking the same list gets the new
        snapshot's mirrors, not what the old snapshot's cache held."""
        german = {b"X-Forwarded-For": b"192.0.2.9"}
        _, body = yield self.get("/mirrors.txt", german)
        self.assertEqual(sorted(lines(body)), ["http://de1.example/ubuntu/",
                                               "http://de2.example/ubuntu/"])
        self.assertTrue(self.service.source.current.groups_cache)
        self.replace_snapshot(snapshot([mirror("de3", "DE")], serial=2))
        reloaded = yield self.service.source.check()
        self.assertTrue(reloaded)
        self.assertEqual(self.service.source.current.groups_cache, {})
        _, body = yield self.get("/mirrors.txt", german)
        self.assertEqual(lines(body), ["http://de3.example/ubuntu/"])

    @defer.inlineCallbacks
    def test_client_place_is_looked_up_once(self):
        """A client asking twice is located by GeoIP once; another
        X-Forwarded-For is located anew."""
        resource = self.service.web.factory.resource
        located = []
        locate = resource.locator.locate

        def counting(address):
            located.append(str(address))
            return locate(address)
        resource.locator.locate = counting
        for forwarded in (b"192.0.2.9", b"192.0.2.9", b"198.51.100.4"):
            _, body = yield self.get("/mirrors.txt",
                                     {b"X-Forwarded-For": forwarded})
        self.assertEqual(located, ["192.0.2.9", "198.51.100.4"])


def test_metalinks_are_lxmls_documents_byte_for_byte():
    """The metalinks, 3 and 4, written around cached frames are byte for byte
    the ones lxml builds, whatever the URLs, countries and file versions
    hold."""
    versions = [{"timestamp": 1717000000, "size": 3000, "md5": "a" * 32,
                 "sha256": "b" * 64},
                {"timestamp": 1716000000, "size": 2999, "sha1": "c" * 40}]
    pool_file = [{"size": 4000, "sha256": "d" * 64}]
    rng = random.Random(3)
    alphabet = "abc/:.&<>\"'\t\n\r é€"
    for _ in range(500):
        urls = [("".join(rng.choice(alphabet)
                         for _ in range(rng.randint(0, 12))) +
                 rng.choice(["http://x/", "ftp://y/z", "rsync://&q/"]),
                 rng.choice([None, "DE", "", "A&\"<\n\t"]))
                for _ in range(rng.randint(0, 60))]
        chosen = rng.choice([versions, versions[:1], pool_file, []])
        for now in (1717000000, 1717000000.5, 1717000001):
            for version in (3, 4):
                assert formats.metalink(
                    version, "repomd.xml", chosen, urls, now) == \
                    formats.metalink_document(
                        version, "repomd.xml", chosen, urls, now)


def test_metalink3_refuses_what_xml_cannot_carry():
    """A URL with a control character is refused as lxml refuses it."""
    for build in (formats.metalink, formats.metalink_document):
        try:
            build(3, "repomd.xml", [], [("http://x/\x01", None)],
                  1717000000)
        except ValueError:
            continue
        raise AssertionError("%s accepted a control character" % build)


class _Peer:
    host = "127.0.0.1"


class _Channel:
    """What a publish.http Request asks of its connection."""

    secure = False
    peer = _Peer


class KeptChoicesTests(DaemonTestMixin, unittest.TestCase):
    timeout = 30

    def setUp(self):
        return self.start_daemon(snapshot([mirror("big", "DE", bandwidth=400),
                                           mirror("small", "DE",
                                                  bandwidth=100)]),
                                 minimum=1)

    def redirect(self, forwarded, path=b"dists/noble/Release"):
        request = HTTPRequest(_Channel, b"GET", b"/redirect/" + path, b"",
                              {b"x-forwarded-for": forwarded})
        self.service.web.factory.resource.render(request)
        self.assertEqual(request.code, 302)
        return request.lines.split(b"\r\n")[0]

    def test_redirects_of_a_kept_client_keep_the_weights(self):
        """Over 10,000 redirects of one client, answered from what the
        daemon keeps of it, the mirror with four times the bandwidth is the
        Location four times as often, to within 5 %; another client gets
        the same mirrors.  The daemon's draws are seeded: unseeded, the
        ratio's spread (about 2.5 % for 2,000 draws of the small mirror)
        put one run in twenty past 5 %."""
        self.service.web.factory.resource.rng = random.Random(15)
        firsts = Counter(self.redirect(b"192.0.2.9")
                         for _ in range(10000))
        big = firsts[b"Location: http://big.example/ubuntu/dists/noble/"
                     b"Release"]
        small = firsts[b"Location: http://small.example/ubuntu/dists/"
                       b"noble/Release"]
        self.assertEqual(big + small, 10000)
        self.assertLess(abs(big / small / 4 - 1), 0.05)
        self.assertIn(self.redirect(b"192.0.2.10"), firsts)

    def test_kept_choices_are_bounded(self):
        """Past MAX_CACHED_CHOICES clients and contents the oldest is
        forgotten, and its client is answered as before when it asks
        again."""
        resource = self.service.web.factory.resource
        old, server.MAX_CACHED_CHOICES = server.MAX_CACHED_CHOICES, 3
        try:
            for n in range(6):
                self.redirect(b"192.0.2.%d" % (n + 1))
            self.assertEqual(len(resource._chosen), 3)
            self.assertIn(self.redirect(b"192.0.2.1", b"pool/main/a.deb"), {
                b"Location: http://%s.example/ubuntu/pool/main/a.deb" % name
                for name in (b"big", b"small")})
            self.assertEqual(len(resource._chosen), 3)
        finally:
            server.MAX_CACHED_CHOICES = old
