"""Metalinks of Debian files from the mirror list daemon (issue 17, section
3): /metalink/PATH and a redirect asked for a metalink, with the master's
size and hashes and only the mirrors that qualify for the file; and the
rule that a suite's files come only from mirrors holding a version of its
InRelease that lists them: the current one, or for by-hash paths any
version that still counts."""

import time

from lxml import etree
from twisted.internet import defer
from twisted.trial import unittest

from mirrorkeeper.enums import MirrorFreshness as F
from mirrorkeeper.publish.formats import METALINK3_NS, METALINK4_NS
from mirrorkeeper.publish.selection import (
    copy_requirement, file_requirement, index_snapshot, suite_copy)
from tests.mirrorlist_daemon import DaemonTestMixin, header
from tests.mirrorlist_snapshots import mirror as any_mirror, snapshot

NEW = "pool/main/h/hello/hello_1.0-3_amd64.deb"
OLD = "pool/main/h/hello/hello_1.0-1_amd64.deb"
RELEASE = "dists/stable/Release"
PACKAGES = "dists/stable/main/binary-amd64/Packages.gz"
# The SHA-256 of Packages.gz as the current InRelease lists it, and as the
# older one, which still counts, does.
LISTED_NOW, LISTED_BEFORE = "5" * 64, "6" * 64
BY_HASH = "dists/stable/main/binary-amd64/by-hash/SHA256/"
MASTER = "http://master.example/debian/"
GERMAN = {b"X-Forwarded-For": b"192.0.2.1"}
DAY = 24 * 3600
PLACES = [["stable", "amd64", "main", "release"],
          ["stable", "amd64", "main", "updates"]]
# The master's facts of two pool files, in the facts file beside the
# snapshot (mirrorkeeper.publish.poolfacts).
POOL_FILES = {NEW: (1234, "a" * 64), OLD: (1200, "b" * 64)}


def mirror(name, country, **fields):
    return any_mirror(name, country, places=[0, 1], repositories=(),
                      **fields)


def world(now, with_fresh=True):
    """A fresh German mirror serving the master's current InRelease, one
    two days behind serving none the master still counts, and a French one
    up to date but probed before the new file and the Release were
    written, serving the master's previous InRelease; the master's facts
    of the suite's Release."""
    mirrors = [
        mirror("behind", "DE", freshness=F.TWODAYSBEHIND.value,
               probed=now - 60),
        mirror("early", "FR", freshness=F.UP.value, probed=now - 3 * 3600,
               copies={"0": 1})]
    if with_fresh:
        mirrors.append(mirror("fresh", "DE", freshness=F.UP.value,
                              probed=now - 60, copies={"0": 0}))
    files = {
        RELEASE: [{"size": 900, "timestamp": now - 3600, "md5": "c" * 32,
                   "sha1": "d" * 40, "sha256": "e" * 64,
                   "sha512": "f" * 128},
                  {"size": 800, "timestamp": now - 5 * DAY,
                   "md5": "1" * 32, "sha1": "2" * 40, "sha256": "3" * 64,
                   "sha512": "4" * 128}]}
    copies = [{"dir": "dists/stable", "path": "dists/stable/InRelease",
               "hashes": [LISTED_NOW, LISTED_BEFORE, "7" * 64],
               "versions": [["e" * 64, [0, 2]], ["8" * 64, [1, 2]]]}]
    return snapshot(mirrors, places=PLACES, files=files) | {
        "pool": {NEW: [now - 3600, [0]]}, "pool_since": now - 8 * DAY,
        "copies": copies}


def test_a_suites_files_need_a_copy_of_its_release():
    """A suite's Release and plain indexes ask for its current copy; a
    by-hash index for any version that lists it (none, for a hash none
    lists); a suite the snapshot has no copy of, and pool files, ask for
    none."""
    now = int(time.time())
    index = index_snapshot(world(now), F.ONEWEEKBEHIND)
    assert copy_requirement(index, RELEASE) == (0, {0})
    assert copy_requirement(index, PACKAGES) == (0, {0})
    assert copy_requirement(index, BY_HASH + LISTED_NOW) == (0, {0})
    assert copy_requirement(index, BY_HASH + LISTED_BEFORE) == (0, {1})
    assert copy_requirement(index, BY_HASH + "7" * 64) == (0, {0, 1})
    assert copy_requirement(index, BY_HASH + "9" * 64) == (0, set())
    assert copy_requirement(index, "dists/stable-updates/Release") is None
    assert copy_requirement(index, NEW) is None
    assert suite_copy(index, "stable") == (0, {0})
    assert suite_copy(index, "stable-updates") is None
    assert file_requirement(index, RELEASE) is None
    assert file_requirement(index, NEW) == (now - 3600, (0,))
    holders = {mirror.name: [index.holds_copy(mirror.index, (0, versions))
                             for versions in ({0}, {1})]
               for mirror in index.mirrors}
    assert holders == {"behind": [False, False], "early": [False, True],
                       "fresh": [True, False]}


class DebianMetalinkTests(DaemonTestMixin, unittest.TestCase):
    timeout = 30

    def start(self, **options):
        self.now = int(time.time())
        return self.start_daemon(
            world(self.now, **options), fallback=MASTER,
            extra_config="freshness_threshold = oneweekbehind\n",
            pool_files=POOL_FILES)

    @defer.inlineCallbacks
    def metalink4(self, path, headers=GERMAN):
        response, body = yield self.get(path, headers)
        self.assertEqual(response.code, 200, body)
        self.assertEqual(header(response, b"content-type"),
                         b"application/metalink4+xml")
        ns = {"m": METALINK4_NS}
        element = etree.fromstring(body).find("m:file", ns)
        return element, [(url.text, url.get("priority"))
                         for url in element.findall("m:url", ns)]

    @defer.inlineCallbacks
    def test_pool_file_metalink(self):
        """The new pool file's Metalink 4 names it, gives the master's size,
        SHA-256 and the whole file as one piece, and offers the fresh mirror
        only."""
        yield self.start()
        element, urls = yield self.metalink4("/metalink/" + NEW)
        ns = {"m": METALINK4_NS}
        self.assertEqual(element.get("name"), "hello_1.0-3_amd64.deb")
        self.assertEqual(element.findtext("m:size", None, ns), "1234")
        self.assertEqual(element.findtext("m:hash[@type='sha-256']", None,
                                          ns), "a" * 64)
        pieces = element.find("m:pieces", ns)
        self.assertEqual((pieces.get("type"), pieces.get("length"),
                          pieces.findtext("m:hash", None, ns)),
                         ("sha-256", "1234", "a" * 64))
        self.assertEqual(urls, [("http://fresh.example/ubuntu/" + NEW, "1")])
        self.assertEqual(element.find("m:url", ns).get("location"), "de")
        _, urls = yield self.metalink4("/metalink/" + OLD)
        self.assertEqual(sorted(url for url, _ in urls), [
            "http://%s.example/ubuntu/%s" % (name, OLD)
            for name in ("behind", "early", "fresh")])
        self.assertEqual(sorted(priority for _, priority in urls),
                         ["1", "2", "3"])

    @defer.inlineCallbacks
    def test_release_metalink_offers_mirrors_with_its_current_copy(self):
        """The Release's metalink carries its newest version and offers only
        the mirror serving the master's current InRelease; its index files'
        redirects too."""
        yield self.start()
        element, urls = yield self.metalink4("/metalink/" + RELEASE)
        ns = {"m": METALINK4_NS}
        self.assertEqual(element.findtext("m:size", None, ns), "900")
        self.assertEqual(element.findtext("m:hash[@type='sha-512']", None,
                                          ns), "f" * 128)
        self.assertEqual(urls, [("http://fresh.example/ubuntu/" + RELEASE,
                                 "1")])
        for _ in range(5):
            response, _ = yield self.get("/redirect/" + PACKAGES, GERMAN)
            self.assertEqual(header(response, b"location"),
                             b"http://fresh.example/ubuntu/" +
                             PACKAGES.encode())
            self.assertIsNone(response.headers.getRawHeaders(b"link"))

    @defer.inlineCallbacks
    def test_by_hash_goes_to_the_versions_that_list_it(self):
        """An index asked by hash goes to the mirrors holding a version of
        the InRelease that lists that hash, the older one too; a hash no
        version lists goes to the fallback."""
        yield self.start()
        for listed, holder in ((LISTED_NOW, "fresh"),
                               (LISTED_BEFORE, "early"),
                               ("9" * 64, None)):
            for _ in range(3):
                response, _ = yield self.get("/redirect/" + BY_HASH + listed,
                                             GERMAN)
                self.assertEqual(response.code, 302)
                base = MASTER if holder is None \
                    else "http://%s.example/ubuntu/" % (holder,)
                self.assertEqual(header(response, b"location"),
                                 (base + BY_HASH + listed).encode())

    @defer.inlineCallbacks
    def test_metalink_3_on_request(self):
        """?version=3 gives a Metalink 3.0 of the pool file with its size and
        sha256 and no timestamp it does not have."""
        yield self.start()
        response, body = yield self.get("/metalink/%s?version=3" % NEW,
                                        GERMAN)
        self.assertEqual(header(response, b"content-type"),
                         b"application/metalink+xml")
        ns = {"m": METALINK3_NS}
        element = etree.fromstring(body).find("m:files/m:file", ns)
        self.assertEqual(element.findtext("m:size", None, ns), "1234")
        self.assertEqual(element.findtext(
            "m:verification/m:hash[@type='sha256']", None, ns), "a" * 64)
        self.assertNotIn(b"timestamp", body)

    @defer.inlineCallbacks
    def test_no_mirror_qualifies_the_fallback(self):
        """With no mirror synced after the new file, its metalink offers the
        configured fallback URL, and its redirect goes there."""
        yield self.start(with_fresh=False)
        _, urls = yield self.metalink4("/metalink/" + NEW)
        self.assertEqual(urls, [(MASTER + NEW, "1")])
        response, _ = yield self.get("/redirect/" + NEW, GERMAN)
        self.assertEqual(header(response, b"location"),
                         (MASTER + NEW).encode())

    @defer.inlineCallbacks
    def test_redirect_answers_a_metalink_when_asked(self):
        """A redirect asked with aria2c's Accept is the Metalink 4; without it,
        or for a file with no known hashes, a 302."""
        yield self.start()
        accept = {**GERMAN, b"Accept": b"*/*,application/metalink4+xml,"
                  b"application/metalink+xml"}
        _, urls = yield self.metalink4("/redirect/" + NEW, accept)
        self.assertEqual(urls, [("http://fresh.example/ubuntu/" + NEW, "1")])
        response, _ = yield self.get("/redirect/" + NEW, GERMAN)
        self.assertEqual(response.code, 302)
        self.assertEqual(header(response, b"vary"), b"Accept")
        response, _ = yield self.get("/redirect/pool/main/o/other.deb",
                                     accept)
        self.assertEqual(response.code, 302)
        self.assertIsNone(header(response, b"vary"))

    @defer.inlineCallbacks
    def test_unknown_file_and_bad_version(self):
        """A file the snapshot has no hashes of is a 404 saying so; version=9
        is a 400."""
        yield self.start()
        response, body = yield self.get("/metalink/pool/main/o/other.deb")
        self.assertEqual(response.code, 404)
        self.assertIn(b"no size and hashes of pool/main/o/other.deb", body)
        response, body = yield self.get("/metalink/%s?version=9" % NEW)
        self.assertEqual(response.code, 400)
        self.assertIn(b"3 or 4", body)
        response, _ = yield self.get("/metalink")
        self.assertEqual(response.code, 404)

    @defer.inlineCallbacks
    def test_apt_list_of_a_suite_puts_consistent_mirrors_first(self):
        """A suite's apt list gives first, marked priority:1, the mirror
        serving its current InRelease, then the others unmarked; a list of
        another suite, or of the whole archive, marks none."""
        yield self.start()
        _, body = yield self.get("/mirrors.txt?series=stable", GERMAN)
        lines = body.decode().splitlines()
        self.assertEqual(lines[0], "http://fresh.example/ubuntu/\tpriority:1")
        self.assertEqual(sorted(lines[1:]), ["http://behind.example/ubuntu/",
                                             "http://early.example/ubuntu/"])
        for path in ("/mirrors.txt?series=stable-updates", "/mirrors.txt"):
            _, body = yield self.get(path, GERMAN)
            self.assertNotIn(b"priority", body)
            self.assertEqual(len(body.splitlines()), 3)
