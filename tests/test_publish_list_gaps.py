"""Lists and redirects that never leave a client nowhere to go: series
names with a hyphen, IPv6 clients no mirror is known to serve, and
countries_allowed in per-country lists for clients of unknown place."""

import random

from twisted.internet import defer
from twisted.trial import unittest

from mirrorkeeper.publish.selection import (
    Client, Request, content_for_path, index_snapshot, select)
from mirrorkeeper.publish.geoip import parse_address
from tests.mirrorlist_daemon import DaemonTestMixin, header, lines
from tests.mirrorlist_snapshots import PLACES, mirror, snapshot

# noble-lts is a series of its own, not noble's.
HYPHENATED = PLACES + [["noble-lts", "amd64", "main", "release"]]
LTS = len(PLACES)


def test_series_with_a_hyphen_in_redirect_paths():
    """dists/noble-lts/ is noble-lts's, dists/noble-lts-updates/ too, and
    dists/noble-updates/ is noble's."""
    index = index_snapshot(snapshot(
        [mirror("lts", "DE", places=[LTS]), mirror("de", "DE")],
        places=HYPHENATED))
    assert content_for_path(
        index, "dists/noble-lts/main/binary-amd64/Packages.gz") == \
        ("archive", "noble-lts", "amd64")
    assert content_for_path(index, "dists/noble-lts-updates/InRelease") == \
        ("archive", "noble-lts")
    assert content_for_path(index, "dists/noble-updates/InRelease") == \
        ("archive", "noble")
    assert content_for_path(index, "dists/unknown-x/InRelease") == \
        ("archive",)


def test_any_family_takes_mirrors_not_known_to_lack_ipv6():
    """With any_family an IPv6 client gets the unresolved mirrors too, never
    those known to lack IPv6."""
    index = index_snapshot(snapshot([
        mirror("v4", "DE", has_ipv6=False),
        mirror("unresolved", "DE", has_ipv6=None),
        mirror("v6", "DE", has_ipv6=True)]))
    ipv6 = Client(parse_address("2001:db8::1"), "DE")
    strict = select(index, ipv6, Request(("archive",)), random.Random(0))
    assert [c.mirror.name for c in strict] == ["v6"]
    relaxed = select(index, ipv6, Request(("archive",), any_family=True),
                     random.Random(0))
    assert sorted(c.mirror.name for c in relaxed) == ["unresolved", "v6"]


def test_country_asked_stands_for_an_unknown_client():
    """A mirror allowed for AR only is listed for AR to a client GeoIP does not
    place, not to a client known to be in DE."""
    index = index_snapshot(snapshot([
        mirror("ar", "AR", countries_allowed=["AR"])]))
    nowhere = Client(parse_address("10.9.9.9"))
    german = Client(parse_address("192.0.2.1"), "DE")
    for who, expected in ((nowhere, ["ar"]), (german, [])):
        chosen = select(index, who, Request(
            ("archive",), "AR", strict_country=True), random.Random(0))
        assert [c.mirror.name for c in chosen] == expected


IPV6_CLIENT = "?ip=2001:db8::1"


class NoIPv6MirrorTests(DaemonTestMixin, unittest.TestCase):
    """No mirror is measured to answer over IPv6."""

    timeout = 10

    def setUp(self):
        return self.start_daemon(snapshot([
            mirror("v4", "DE", has_ipv6=False),
            mirror("unresolved", "FR", has_ipv6=None),
            mirror("lts", "DE", places=[LTS], has_ipv6=None),
            mirror("ar", "AR", countries_allowed=["AR"])], places=HYPHENATED),
            fallback="http://master.example/ubuntu/")

    @defer.inlineCallbacks
    def test_ipv6_client_gets_unmeasured_mirrors_with_a_note(self):
        """An IPv6 client gets the mirrors not known to lack IPv6 under a
        comment line, never an empty list."""
        response, body = yield self.get("/mirrors.txt" + IPV6_CLIENT)
        self.assertEqual(response.code, 200)
        got = lines(body)
        self.assertEqual(got[0], "# no mirror is known to answer over "
                         "IPv6: mirrors not known to lack it")
        # ar is allowed for AR only, and 2001:db8::1 is in DE.
        self.assertEqual(sorted(got[1:]), [
            "http://lts.example/ubuntu/",
            "http://unresolved.example/ubuntu/"])
        _, body = yield self.get("/mirrorlist?repo=releases-40-everything"
                                 "&arch=x86_64&ip=2001:db8::1")
        self.assertTrue(lines(body)[0].startswith(
            "# no mirror is known to answer over IPv6"))
        self.assertIn("http://unresolved.example/ubuntu/releases/40/"
                      "Everything/x86_64/os/", lines(body))
        self.assertNotIn("v4.example", body.decode())
        # An IPv4 client's list has no such line.
        _, body = yield self.get("/mirrors.txt?ip=192.0.2.1")
        self.assertTrue(lines(body)[0].startswith("http://"))

    @defer.inlineCallbacks
    def test_ipv6_redirect_is_never_a_404(self):
        """An IPv6 client's redirect goes to a mirror not known to lack IPv6, a
        302 and not a 404; a series with a hyphen goes to the mirror carrying
        it."""
        response, _ = yield self.get(
            "/redirect/dists/noble/InRelease" + IPV6_CLIENT)
        self.assertEqual(response.code, 302)
        self.assertNotIn(b"v4.example", header(response, b"location"))
        # noble-lts is carried by "lts" alone (a hyphen in the series).
        response, _ = yield self.get(
            "/redirect/dists/noble-lts/main/binary-amd64/Packages.gz"
            + IPV6_CLIENT)
        self.assertEqual(response.code, 302)
        self.assertEqual(
            header(response, b"location"),
            b"http://lts.example/ubuntu/dists/noble-lts/main/binary-amd64/"
            b"Packages.gz")

    @defer.inlineCallbacks
    def test_per_country_list_honours_countries_allowed_for_unknown_place(
            self):
        """/mirrors/AR.txt lists AR's mirror allowed for AR to a client GeoIP
        does not place; a German gets South America's instead, under a note."""
        _, body = yield self.get("/mirrors/AR.txt")
        self.assertEqual(lines(body), ["http://ar.example/ubuntu/"])
        _, body = yield self.get("/mirrors/AR.txt?ip=192.0.2.1")
        self.assertNotIn("http://ar.example/ubuntu/", lines(body))
        self.assertTrue(lines(body)[0].startswith("# no mirror in AR"))

    @defer.inlineCallbacks
    def test_empty_country_widens_before_the_fallback(self):
        """/mirrors/NL.txt, with a fallback configured, gives Europe's mirrors,
        not the fallback (nor AR's mirror, allowed for AR only)."""
        _, body = yield self.get("/mirrors/NL.txt")
        got = lines(body)
        self.assertEqual(got[0], "# no mirror in NL qualifies: mirrors of "
                         "its continent (EU)")
        self.assertEqual(sorted(got[1:]), [
            "http://lts.example/ubuntu/", "http://unresolved.example/ubuntu/",
            "http://v4.example/ubuntu/"])


class NoMirrorAtAllTests(DaemonTestMixin, unittest.TestCase):
    """Only a mirror known to lack IPv6."""

    timeout = 10

    @defer.inlineCallbacks
    def test_ipv6_client_gets_the_fallback_with_a_note(self):
        """With no mirror an IPv6 client may use, it gets the fallback URL
        under a comment line, and the redirect goes there."""
        yield self.start_daemon(snapshot([mirror("v4", "DE",
                                                 has_ipv6=False)]),
                                fallback="http://master.example/ubuntu/")
        _, body = yield self.get("/mirrors.txt" + IPV6_CLIENT)
        self.assertEqual(lines(body), [
            "# no mirror is known to answer over IPv6: the configured "
            "fallback URLs", "http://master.example/ubuntu/"])
        response, _ = yield self.get(
            "/redirect/pool/main/h/hello/hello_1.0-3_amd64.deb"
            + IPV6_CLIENT)
        self.assertEqual(response.code, 302)
        self.assertEqual(header(response, b"location"),
                         b"http://master.example/ubuntu/pool/main/h/hello/"
                         b"hello_1.0-3_amd64.deb")

    @defer.inlineCallbacks
    def test_without_fallback_a_comment_not_an_empty_body(self):
        """With no fallback configured the list is a comment saying so, and the
        redirect a 503, not a 404."""
        yield self.start_daemon(snapshot([mirror("v4", "DE",
                                                 has_ipv6=False)]))
        response, body = yield self.get("/mirrors.txt" + IPV6_CLIENT)
        self.assertEqual(response.code, 200)
        self.assertEqual(lines(body), [
            "# no mirror qualifies, and no fallback URL is configured"])
        response, body = yield self.get("/redirect/dists/noble/InRelease"
                                        + IPV6_CLIENT)
        self.assertEqual(response.code, 503)
        self.assertIn(b"no fallback URL is configured", body)
