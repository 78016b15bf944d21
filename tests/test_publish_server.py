"""The mirror list daemon over real HTTP on loopback: each output, the
client's address and proxies, 404s, statistics, and snapshots reloaded
without a failed request."""

import gc
import os
import re
import signal
import time
from collections import Counter

from lxml import etree
from prometheus_client.parser import text_string_to_metric_families
from twisted.internet import defer, reactor, task
from twisted.trial import unittest

from mirrorkeeper.publish.formats import METALINK3_NS, METALINK4_NS, MM0_NS
from mirrorkeeper.publish.statistics import read_statistics
from tests.mirrorlist_daemon import DaemonTestMixin, header, lines
from tests.mirrorlist_snapshots import mirror, snapshot

REPOMD = "releases/40/Everything/x86_64/os/repodata/repomd.xml"
FILES = {REPOMD: [
    {"size": 3000 + n, "timestamp": 1717000000 - n, "md5": "%032d" % n,
     "sha1": "%040d" % n, "sha256": "%064d" % n, "sha512": "%0128d" % n}
    for n in range(3)]}

MIRRORS = [
    mirror("de1", "DE"), mirror("de2", "DE"), mirror("fr", "FR"),
    mirror("br", "BR", urls={"http": "http://br.example/pub/",
                             "https": "https://br.example/pub/"}),
    mirror("us", "US"),
]

GERMAN = {b"X-Forwarded-For": b"203.0.113.50, 192.0.2.9"}
BRAZILIAN = {b"X-Forwarded-For": b"203.0.113.50"}


def world(serial=1):
    return snapshot([dict(m) for m in MIRRORS], serial=serial, files=FILES)


class DaemonTests(DaemonTestMixin, unittest.TestCase):
    timeout = 10

    def setUp(self):
        return self.start_daemon(world())

    @defer.inlineCallbacks
    def test_apt_list_for_the_callers_location(self):
        """/mirrors.txt lists one base URL a line, the caller's country first,
        and names the snapshot."""
        response, body = yield self.get("/mirrors.txt", GERMAN)
        self.assertEqual(response.code, 200)
        urls = lines(body)
        self.assertEqual(sorted(urls[:2]), ["http://de1.example/ubuntu/",
                                            "http://de2.example/ubuntu/"])
        self.assertEqual(urls[2], "http://fr.example/ubuntu/")
        self.assertEqual(header(response, b"x-mirrorlist-snapshot"),
                         b"1 2024-06-01T12:00:00Z")

    @defer.inlineCallbacks
    def test_apt_list_per_country(self):
        """/mirrors/BR.txt lists Brazil's mirrors only, http first for apt."""
        _, body = yield self.get("/mirrors/BR.txt", GERMAN)
        self.assertEqual(lines(body), ["http://br.example/pub/"])
        _, body = yield self.get("/mirrors/BR.txt?protocol=https")
        self.assertEqual(lines(body), ["https://br.example/pub/"])

    @defer.inlineCallbacks
    def test_apt_list_of_a_country_without_mirrors_falls_back(self):
        """/mirrors/NL.txt, where no mirror is, lists Europe's mirrors then the
        world's under a comment saying so; never an empty list."""
        response, body = yield self.get("/mirrors/NL.txt")
        self.assertEqual(response.code, 200)
        got = lines(body)
        self.assertEqual(got[0], "# no mirror in NL qualifies: mirrors of "
                         "its continent (EU), then of the world")
        self.assertEqual(sorted(got[1:4]), [
            "http://de1.example/ubuntu/", "http://de2.example/ubuntu/",
            "http://fr.example/ubuntu/"])
        self.assertEqual(len(got), 6)
        _, body = yield self.get("/mirrors/JP.txt")
        got = lines(body)
        self.assertEqual(got[0], "# no mirror in JP or its continent (AS) "
                         "qualifies: mirrors of the world")
        self.assertEqual(len(got), 6)
        # A country that has its own mirrors gets them alone, as before.
        _, body = yield self.get("/mirrors/FR.txt")
        self.assertEqual(lines(body), ["http://fr.example/ubuntu/"])

    @defer.inlineCallbacks
    def test_apt_list_takes_the_suite_names_apt_uses(self):
        """?series=noble-updates is noble's updates pocket: noble's list, not a
        404; an unknown series with a pocket suffix is still a 404."""
        _, plain = yield self.get("/mirrors/DE.txt?series=noble")
        response, body = yield self.get(
            "/mirrors/DE.txt?series=noble-updates")
        self.assertEqual(response.code, 200)
        self.assertEqual(sorted(lines(body)), sorted(lines(plain)))
        response, _ = yield self.get("/mirrors.txt?series=noble-security"
                                     "&arch=amd64")
        self.assertEqual(response.code, 200)
        response, body = yield self.get("/mirrors.txt?series=warty-updates")
        self.assertEqual(response.code, 404)
        self.assertIn("unknown archive content warty-updates", body.decode())

    @defer.inlineCallbacks
    def test_apt_list_narrowed_by_series_and_arch(self):
        """?series= and ?arch= keep the mirrors carrying them; an unknown
        series is a 404 listing the valid ones."""
        _, body = yield self.get("/mirrors.txt?series=jammy&arch=amd64",
                                 GERMAN)
        self.assertEqual(len(lines(body)), 5)
        response, body = yield self.get("/mirrors.txt?series=warty")
        self.assertEqual(response.code, 404)
        self.assertIn("unknown archive content warty", body.decode())
        self.assertIn("\nnoble/arm64\n", body.decode())

    @defer.inlineCallbacks
    def test_forwarded_for_only_from_trusted_proxies(self):
        """X-Forwarded-For is taken from the nearest untrusted hop, and ?ip=
        when allowed."""
        _, body = yield self.get("/mirrors.txt", BRAZILIAN)
        self.assertEqual(lines(body)[0], "https://br.example/pub/".replace(
            "https", "http"))
        _, body = yield self.get("/mirrors.txt?ip=192.0.2.1")
        self.assertIn(lines(body)[0], ["http://de1.example/ubuntu/",
                                       "http://de2.example/ubuntu/"])

    @defer.inlineCallbacks
    def test_dnf_mirrorlist(self):
        """/mirrorlist gives a comment header then repository URLs, https where
        the mirror has it."""
        _, body = yield self.get(
            "/mirrorlist?repo=releases-40-everything&arch=x86_64", BRAZILIAN)
        got = lines(body)
        self.assertTrue(got[0].startswith(
            "# repo = releases-40-everything arch = x86_64 country = BR "
            "continent = SA"))
        self.assertEqual(got[1],
                         "https://br.example/pub/releases/40/Everything/"
                         "x86_64/os/")
        self.assertEqual(len(got), 6)

    @defer.inlineCallbacks
    def test_unknown_repository_lists_the_valid_ones(self):
        """An unknown repo/arch is a 404 whose body lists every valid repo and
        arch."""
        response, body = yield self.get("/mirrorlist?repo=nope&arch=x86_64")
        self.assertEqual(response.code, 404)
        self.assertIn(b"repo=releases-40-everything&arch=aarch64", body)

    @defer.inlineCallbacks
    def test_metalink_3(self):
        """The metalink carries the newest repomd.xml's size, timestamp and
        hashes, older ones as alternates, and URLs by preference."""
        response, body = yield self.get(
            "/metalink?repo=releases-40-everything&arch=x86_64", GERMAN)
        self.assertEqual(header(response, b"content-type"),
                         b"application/metalink+xml")
        ns = {"m": METALINK3_NS, "mm0": MM0_NS}
        root = etree.fromstring(body)
        self.assertEqual(root.get("version"), "3.0")
        element = root.find("m:files/m:file", ns)
        self.assertEqual(element.get("name"), "repomd.xml")
        self.assertEqual(element.findtext("m:size", None, ns), "3000")
        self.assertEqual(element.findtext("mm0:timestamp", None, ns),
                         "1717000000")
        self.assertEqual(element.findtext(
            "m:verification/m:hash[@type='sha256']", None, ns), "0" * 64)
        alternates = element.findall("mm0:alternates/mm0:alternate", ns)
        self.assertEqual([a.findtext("m:size", None, ns)
                          for a in alternates], ["3001", "3002"])
        urls = element.findall("m:resources/m:url", ns)
        self.assertEqual([u.get("preference") for u in urls],
                         ["100", "99", "98", "97", "96"])
        self.assertEqual(urls[0].get("location"), "DE")
        self.assertTrue(urls[0].text.endswith("/" + REPOMD))

    @defer.inlineCallbacks
    def test_metalink_4_on_request(self):
        """?version=4 or Accept: application/metalink4+xml gives an RFC 5854
        document."""
        for path, headers in [
                ("/metalink?repo=releases-40-everything&arch=x86_64"
                 "&version=4", GERMAN),
                ("/metalink?repo=releases-40-everything&arch=x86_64",
                 {**GERMAN, b"Accept": b"application/metalink4+xml"})]:
            response, body = yield self.get(path, headers)
            self.assertEqual(header(response, b"content-type"),
                             b"application/metalink4+xml")
            ns = {"m": METALINK4_NS}
            element = etree.fromstring(body).find("m:file", ns)
            self.assertEqual(element.findtext("m:hash[@type='sha-256']",
                                              None, ns), "0" * 64)
            urls = element.findall("m:url", ns)
            self.assertEqual(urls[0].get("priority"), "1")
            self.assertEqual(urls[0].get("location"), "de")

    @defer.inlineCallbacks
    def test_redirect_with_link_headers(self):
        """/redirect/PATH is a 302 to the best mirror with RFC 6249 Link
        headers for the next ones."""
        response, _ = yield self.get("/redirect/dists/noble/InRelease",
                                     BRAZILIAN)
        self.assertEqual(response.code, 302)
        self.assertEqual(header(response, b"location"),
                         b"https://br.example/pub/dists/noble/InRelease")
        links = response.headers.getRawHeaders(b"link")
        self.assertEqual(len(links), 4)
        self.assertRegex(links[0].decode(),
                         r"^<http://\w+\.example/ubuntu/dists/noble/InRelease>"
                         r"; rel=duplicate; pri=1; geo=\w\w$")

    @defer.inlineCallbacks
    def test_unknown_page(self):
        """A path the daemon does not serve is a 404 naming the ones it
        does."""
        response, body = yield self.get("/nothing")
        self.assertEqual(response.code, 404)
        self.assertIn(b"/mirrorlist?repo=&arch=", body)

    @defer.inlineCallbacks
    def test_statistics_per_country_and_content(self):
        """Requests are logged with time, country and content, and counted per
        day, country and content."""
        yield self.get("/mirrors.txt?series=noble", GERMAN)
        yield self.get("/mirrors.txt?series=noble", GERMAN)
        yield self.get("/mirrorlist?repo=releases-40-everything&arch=x86_64",
                       BRAZILIAN)
        self.service.statistics.flush()
        log = open(os.path.join(self.statistics_dir, "requests.log")).read()
        self.assertRegex(log.splitlines()[0],
                         r"^\d{4}-\d\d-\d\dT[\d:]+Z DE apt/noble 200 1$")
        day = log[:10]
        counts = read_statistics(self.statistics_dir, day)
        self.assertEqual(counts[("DE", "apt/noble", "")], 2)
        self.assertEqual(
            counts[("BR", "repo/releases-40-everything/x86_64", "")], 1)

    @defer.inlineCallbacks
    def test_statistics_count_the_protocols_asked_for(self):
        """The counts say which ?protocol= each request asked for, as the
        daemon read it ("" for none): a redirect's what the client asked,
        answered as a metalink too, and a value it cannot read 'unknown'."""
        yield self.get("/mirrors.txt?series=noble&protocol=HTTPS,http",
                       GERMAN)
        yield self.get("/mirrors.txt?series=noble&protocol=gopher", GERMAN)
        yield self.get("/redirect/dists/noble/InRelease?protocol=http",
                       BRAZILIAN)
        yield self.get("/redirect/dists/noble/InRelease?protocol=http", {
            **BRAZILIAN, b"Accept": b"application/metalink4+xml"})
        yield self.get("/redirect/dists/noble/InRelease", BRAZILIAN)
        self.service.statistics.flush()
        counts = Counter()
        for name in os.listdir(self.statistics_dir):
            if name.endswith(".json"):
                counts.update(read_statistics(self.statistics_dir,
                                              name[:10]))
        self.assertEqual(counts[("DE", "apt/noble", "https,http")], 1)
        self.assertEqual(counts[("DE", "unknown", "unknown")], 1)
        by_protocol = Counter()
        for (country, content, protocol), requests in counts.items():
            if country == "BR":
                by_protocol[protocol] += requests
        self.assertEqual(by_protocol, {"http": 2, "": 1})

    @defer.inlineCallbacks
    def scrape(self):
        """{(sample name, sorted labels without worker): value} of
        /metrics, and the response."""
        response, body = yield self.get("/metrics")
        samples = {}
        for family in text_string_to_metric_families(body.decode()):
            for sample in family.samples:
                labels = dict(sample.labels)
                self.assertEqual(labels.pop("worker"), "0")
                samples[(sample.name, tuple(sorted(labels.items())))] = \
                    sample.value
        return response, samples

    @defer.inlineCallbacks
    def test_metrics_count_requests_by_endpoint_country_and_status(self):
        """/metrics counts each request under its endpoint, the client's
        country and the status it got."""
        yield self.get("/mirrors.txt", GERMAN)
        yield self.get("/mirrors/BR.txt", GERMAN)
        yield self.get("/mirrorlist?repo=releases-40-everything&arch=x86_64",
                       BRAZILIAN)
        yield self.get("/mirrorlist?repo=nothing&arch=x86_64", BRAZILIAN)
        yield self.get("/redirect/" + REPOMD, GERMAN)
        yield self.get("/nothing")
        response, samples = yield self.scrape()
        self.assertEqual(response.code, 200)
        self.assertIn(b"text/plain", header(response, b"content-type"))

        def requests(endpoint, country, status):
            return samples.get(("mirrorkeeper_mirrorlist_requests_total", (
                ("country", country), ("endpoint", endpoint),
                ("status", status))))
        self.assertEqual(requests("apt", "DE", "200"), 2)
        self.assertEqual(requests("mirrorlist", "BR", "200"), 1)
        self.assertEqual(requests("mirrorlist", "BR", "404"), 1)
        self.assertEqual(requests("redirect", "DE", "302"), 1)
        self.assertEqual(requests("unknown", "unknown", "404"), 1)
        self.assertEqual(requests("metrics", "unknown", "200"), None)
        total = sum(value for (name, _), value in samples.items()
                    if name == "mirrorkeeper_mirrorlist_requests_total")
        self.assertEqual(total, 6)
        # The scrape itself is counted for the next one.
        _, samples = yield self.scrape()
        self.assertEqual(requests("metrics", "unknown", "200"), 1)

    @defer.inlineCallbacks
    def test_metrics_tell_the_snapshot_and_its_reloads(self):
        """/metrics gives the serial and age of the snapshot answering, its
        reloads and the files that failed to load."""
        _, samples = yield self.scrape()
        self.assertEqual(samples[("mirrorkeeper_mirrorlist_snapshot_serial",
                                  ())], 1)
        generated = samples[(
            "mirrorkeeper_mirrorlist_snapshot_generated_timestamp_seconds",
            ())]
        self.assertEqual(generated, 1717243200)  # 2024-06-01T12:00:00Z
        age = samples[("mirrorkeeper_mirrorlist_snapshot_age_seconds", ())]
        self.assertLess(abs(age - (time.time() - generated)), 60)
        self.assertEqual(samples[(
            "mirrorkeeper_mirrorlist_snapshot_reload_errors_total", ())], 0)
        self.replace_snapshot(world(serial=7))
        yield self.service.source.check()
        with open(self.snapshot_path, "w") as f:
            f.write("{not json")
        yield self.service.source.check()
        self.flushLoggedErrors()
        _, samples = yield self.scrape()
        self.assertEqual(samples[("mirrorkeeper_mirrorlist_snapshot_serial",
                                  ())], 7)
        self.assertEqual(samples[(
            "mirrorkeeper_mirrorlist_snapshot_reloads_total", ())], 1)
        self.assertEqual(samples[(
            "mirrorkeeper_mirrorlist_snapshot_reload_errors_total", ())], 1)
        self.assertLess(abs(samples[(
            "mirrorkeeper_mirrorlist_snapshot_last_reload_error_timestamp_"
            "seconds", ())] - time.time()), 60)

    @defer.inlineCallbacks
    def test_new_snapshot_is_served_without_a_failed_request(self):
        """A new snapshot file is picked up while requests keep coming, and
        none of them fails."""
        results = []

        @defer.inlineCallbacks
        def ask():
            response, body = yield self.get("/mirrors.txt", GERMAN)
            results.append((response.code,
                            header(response, b"x-mirrorlist-snapshot")))

        asking = defer.DeferredList([ask() for _ in range(30)],
                                    fireOnOneErrback=True)
        self.replace_snapshot(world(serial=2))
        reloaded = yield self.service.source.check()
        more = defer.DeferredList([ask() for _ in range(30)],
                                  fireOnOneErrback=True)
        yield asking
        yield more
        self.assertTrue(reloaded)
        self.assertEqual({code for code, _ in results}, {200})
        self.assertEqual(results[-1][1][:2], b"2 ")

    @defer.inlineCallbacks
    def test_the_index_in_use_is_out_of_the_collectors_reach(self):
        """Once a snapshot is in use, its index is in none of the garbage
        collector's generations: a full collection does not walk it (with
        an index of 1,000 mirrors that took 100 ms or more)."""
        self.addCleanup(gc.unfreeze)
        self.replace_snapshot(world(serial=3))
        reloaded = yield self.service.source.check()
        self.assertTrue(reloaded)
        index = self.service.source.current
        self.assertGreater(gc.get_freeze_count(), 0)
        self.assertFalse(any(each is index for each in gc.get_objects()))

    @defer.inlineCallbacks
    def test_sighup_reloads(self):
        """SIGHUP makes the daemon read the snapshot file again."""
        self.replace_snapshot(world(serial=5))
        os.kill(os.getpid(), signal.SIGHUP)
        for _ in range(100):
            if self.service.source.current.serial == 5:
                break
            yield task.deferLater(reactor, 0.02, lambda: None)
        response, _ = yield self.get("/mirrors.txt")
        self.assertEqual(header(response, b"x-mirrorlist-snapshot")[:2],
                         b"5 ")

    @defer.inlineCallbacks
    def test_broken_snapshot_leaves_the_old_one_serving(self):
        """A snapshot file that cannot be read is logged, and the previous
        snapshot keeps answering."""
        with open(self.snapshot_path, "w") as f:
            f.write("{not json")
        reloaded = yield self.service.source.check()
        self.assertFalse(reloaded)
        self.flushLoggedErrors()
        response, _ = yield self.get("/mirrors.txt")
        self.assertEqual(response.code, 200)
        self.assertEqual(header(response, b"x-mirrorlist-snapshot")[:2],
                         b"1 ")


class UntrustedProxyTests(DaemonTestMixin, unittest.TestCase):
    timeout = 10

    def setUp(self):
        return self.start_daemon(
            snapshot([mirror("br", "BR", freshness=7)]), trusted="10.0.0.1",
            fallback="http://fallback.example/ubuntu/")

    @defer.inlineCallbacks
    def test_forwarded_for_from_an_untrusted_address_is_ignored(self):
        """X-Forwarded-For from an address not trusted does not move the client
        to Brazil."""
        _, body = yield self.get("/mirrorlist?repo=releases-40-everything"
                                 "&arch=x86_64", BRAZILIAN)
        self.assertIn("country = unknown", lines(body)[0])

    @defer.inlineCallbacks
    def test_fallback_list_when_no_mirror_qualifies(self):
        """With no mirror fresh enough the configured fallback URLs are
        listed."""
        _, body = yield self.get("/mirrors.txt")
        self.assertEqual(lines(body), ["http://fallback.example/ubuntu/"])


# Mirrors of each protocol combination, for ?protocol= and the no-downgrade
# rule.
PROTOCOL_MIRRORS = [
    mirror("both", "DE", urls={"http": "http://both.example/ubuntu/",
                               "https": "https://both.example/ubuntu/"}),
    mirror("plain", "DE"),
    mirror("secure", "FR", urls={"https": "https://secure.example/ubuntu/"}),
    mirror("ftp", "FR", urls={"ftp": "ftp://ftp.example/ubuntu/"}),
    mirror("rsync", "US", urls={"rsync": "rsync://rsync.example/ubuntu/"}),
]
REPOSITORY = "/mirrorlist?repo=releases-40-everything&arch=x86_64"
METALINK = "/metalink?repo=releases-40-everything&arch=x86_64"
REDIRECT = "/redirect/dists/noble/InRelease"
OVER_TLS = {b"X-Forwarded-Proto": b"https"}


def redirect_urls(response):
    """The Location then every Link header's URL of a redirect."""
    links = response.headers.getRawHeaders(b"link") or []
    return [header(response, b"location").decode()] + [
        re.match(r"^<([^>]*)>; rel=duplicate; pri=\d+", value.decode())
        .group(1) for value in links]


def body_urls(body):
    """Every URL of a list's lines or a metalink's <url> elements."""
    text = body.decode()
    if text.startswith("<?xml"):
        return [element.text for element in etree.fromstring(body).iter()
                if isinstance(element.tag, str)
                and element.tag.endswith("}url")]
    return [line for line in text.splitlines() if not line.startswith("#")]


def schemes(urls):
    return {url.split(":", 1)[0] for url in urls}


class ProtocolTests(DaemonTestMixin, unittest.TestCase):
    """?protocol= on every endpoint, and redirects asked over https."""

    timeout = 10

    def start(self, mirrors=PROTOCOL_MIRRORS, trusted="127.0.0.1",
              fallback="https://master.example/ubuntu/ "
                       "http://plain-master.example/ubuntu/"):
        return self.start_daemon(snapshot([dict(m) for m in mirrors]),
                                 trusted=trusted, fallback=fallback)

    @defer.inlineCallbacks
    def bodies(self, query):
        """{endpoint: (response, body)} of every endpoint asked `query`."""
        answers = {}
        for name, path in [("apt", "/mirrors.txt?"),
                           ("apt-country", "/mirrors/FR.txt?"),
                           ("mirrorlist", REPOSITORY + "&"),
                           ("metalink3", METALINK + "&"),
                           ("metalink4", METALINK + "&version=4&"),
                           ("redirect", REDIRECT + "?")]:
            answers[name] = yield self.get(path + query)
        return answers

    @defer.inlineCallbacks
    def test_https_only_everywhere(self):
        """With protocol=https every list, metalink, Location and Link header
        offers https URLs and nothing else."""
        yield self.start()
        answers = yield self.bodies("protocol=https")
        for name, (response, body) in answers.items():
            if name == "redirect":
                self.assertEqual(response.code, 302)
                urls = redirect_urls(response)
                self.assertEqual(body.decode().strip(), urls[0])
            else:
                self.assertEqual(response.code, 200, name)
                urls = body_urls(body)
            self.assertTrue(urls, name)
            self.assertEqual(schemes(urls), {"https"}, (name, urls))
        response, _ = answers["redirect"]
        self.assertEqual(sorted(redirect_urls(response)), [
            "https://both.example/ubuntu/dists/noble/InRelease",
            "https://secure.example/ubuntu/dists/noble/InRelease"])

    @defer.inlineCallbacks
    def test_http_and_ftp(self):
        """protocol=http,ftp offers http and ftp URLs only: a mirror with both
        https and http gives its http one."""
        yield self.start()
        answers = yield self.bodies("protocol=http,ftp")
        for name, (response, body) in answers.items():
            urls = redirect_urls(response) if name == "redirect" \
                else body_urls(body)
            self.assertTrue(urls, name)
            self.assertLessEqual(schemes(urls), {"http", "ftp"},
                                 (name, urls))
        response, _ = answers["redirect"]
        self.assertEqual(response.code, 302)
        self.assertEqual(sorted(redirect_urls(response)), [
            "ftp://ftp.example/ubuntu/dists/noble/InRelease",
            "http://both.example/ubuntu/dists/noble/InRelease",
            "http://plain.example/ubuntu/dists/noble/InRelease"])
        _, body = answers["metalink3"]
        root = etree.fromstring(body)
        self.assertEqual(sorted(
            element.get("protocol") for element in root.iter(
                "{%s}url" % METALINK3_NS)), ["ftp", "http", "http"])

    @defer.inlineCallbacks
    def test_unknown_protocol_is_a_400(self):
        """An unknown protocol is a 400 on every endpoint, whose body names it
        and the valid ones."""
        yield self.start()
        for query in ("protocol=gopher", "protocol=https,gopher",
                      "protocol=,"):
            answers = yield self.bodies(query)
            for name, (response, body) in answers.items():
                self.assertEqual(response.code, 400, (name, query))
                self.assertIsNone(header(response, b"location"))
                text = body.decode()
                self.assertIn("https,http,ftp,rsync", text)
                if "gopher" in query:
                    self.assertIn("unknown protocol 'gopher'", text)

    @defer.inlineCallbacks
    def test_no_downgrade_behind_a_trusted_proxy(self):
        """X-Forwarded-Proto: https from a trusted proxy makes the redirect
        https only, Link headers too; protocol= allowing http lets http in."""
        yield self.start()
        for proto in (b"https", b"HTTPS", b"http, https"):
            for _ in range(10):
                response, _ = yield self.get(
                    REDIRECT, {b"X-Forwarded-Proto": proto})
                self.assertEqual(response.code, 302)
                self.assertEqual(schemes(redirect_urls(response)),
                                 {"https"})
        response, _ = yield self.get(REDIRECT + "?protocol=https,http",
                                     OVER_TLS)
        self.assertEqual(schemes(redirect_urls(response)),
                         {"https", "http"})
        response, _ = yield self.get(REDIRECT + "?protocol=http", OVER_TLS)
        self.assertEqual(schemes(redirect_urls(response)), {"http"})
        # Asked over http, the redirect offers both as before.
        response, _ = yield self.get(REDIRECT,
                                     {b"X-Forwarded-Proto": b"http"})
        self.assertEqual(schemes(redirect_urls(response)),
                         {"https", "http"})

    @defer.inlineCallbacks
    def test_forwarded_proto_from_an_untrusted_address_is_ignored(self):
        """X-Forwarded-Proto from an address that is not a trusted proxy does
        not change the redirect."""
        yield self.start(trusted="10.0.0.1")
        response, _ = yield self.get(REDIRECT, OVER_TLS)
        self.assertEqual(schemes(redirect_urls(response)),
                         {"https", "http"})

    @defer.inlineCallbacks
    def test_over_https_without_an_https_mirror_the_https_fallback(self):
        """Asked over https with no https mirror, the redirect goes to the
        https fallback URL, never to an http mirror or fallback."""
        yield self.start([mirror("plain", "DE"), mirror("plain2", "FR")])
        response, body = yield self.get(REDIRECT, OVER_TLS)
        self.assertEqual(response.code, 302)
        self.assertEqual(redirect_urls(response), [
            "https://master.example/ubuntu/dists/noble/InRelease"])
        response, body = yield self.get("/mirrors.txt?protocol=https")
        self.assertEqual(lines(body), ["https://master.example/ubuntu/"])

    @defer.inlineCallbacks
    def test_over_https_without_any_https_url_a_503_saying_why(self):
        """Asked over https with neither an https mirror nor an https fallback
        URL, the redirect is a 503 saying why; a list is a comment."""
        yield self.start([mirror("plain", "DE")],
                         fallback="http://plain-master.example/ubuntu/")
        response, body = yield self.get(REDIRECT, OVER_TLS)
        self.assertEqual(response.code, 503)
        self.assertIsNone(header(response, b"location"))
        self.assertEqual(body.decode(), (
            "no mirror carries dists/noble/InRelease over https, and no "
            "configured fallback URL is https; asked over https, a "
            "redirect goes to https only unless protocol= allows http\n"))
        response, body = yield self.get(REDIRECT + "?protocol=https")
        self.assertEqual(response.code, 503)
        self.assertEqual(body.decode(), (
            "no mirror carries dists/noble/InRelease over https, and no "
            "configured fallback URL is https\n"))
        response, _ = yield self.get(REDIRECT + "?protocol=https,http",
                                     OVER_TLS)
        self.assertEqual(header(response, b"location"),
                         b"http://plain.example/ubuntu/dists/noble/InRelease")
        response, body = yield self.get("/mirrors.txt?protocol=https")
        self.assertEqual(response.code, 200)
        self.assertEqual(lines(body), [
            "# no mirror qualifies over https, and no configured fallback "
            "URL is https"])
