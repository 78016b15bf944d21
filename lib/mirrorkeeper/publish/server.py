"""`mirrorkeeper mirrorlist-server`: the mirror list daemon.

    mirrorkeeper mirrorlist-server [--listen tcp:8080:interface=127.0.0.1]
        [--snapshot PATH] [--geoip PATH] [--asn-database PATH]
    twistd -n mirrorlist-server [the same options]

What it answers (every answer carries X-Mirrorlist-Snapshot: the serial
and build time of the snapshot that produced it):

``/mirrors.txt``
    apt's list for the caller's location: one base URL per line, for
    ``deb mirror+http://HOST/mirrors.txt SUITE COMPONENT``.  ?series= and
    ?arch= narrow it to mirrors carrying that series (and arch) fresh
    enough; ?content=cdimage (with series=, flavour=) lists CD image
    mirrors instead.  With ?series=SUITE the mirrors the prober saw serve
    the master's current Release of the suite come first, marked
    ``priority:1`` (apt's mirror method tries them before any other), so
    that apt does not mix a Release and the packages it lists from
    copies of different ages, or ask for a new file where it is missing.
``/mirrors/CC.txt``
    the same for the country CC only (Ubuntu's mirrors.txt per country,
    Launchpad's +countrymirrors-archive).
``/mirrorlist?repo=R&arch=A``
    dnf/yum's mirrorlist: a comment header, then one repository URL a line.
``/metalink?repo=R&arch=A``
    the repository's repomd.xml as a Metalink 3.0 (what dnf reads), or
    Metalink 4 (RFC 5854) with ?version=4 or Accept: application/
    metalink4+xml.
``/metalink/PATH``
    a Metalink 4 (3.0 with ?version=3) of the archive file PATH (a pool
    file; a suite's Release, InRelease, Packages or Sources index) with
    the master's size and hashes, offering the mirrors a redirect for
    PATH would (the configured fallback URLs when none qualifies), so
    that aria2c and other metalink clients verify what they download; a
    404 for a file the master has no size and hashes of.  A pool file's
    come from the facts file beside the snapshot
    (mirrorkeeper.publish.poolfacts), looked up per request: a 503 when
    that file is missing or unusable.
``/redirect/PATH``
    302 to PATH on the best mirror, with RFC 6249 ``Link: <url>;
    rel=duplicate; pri=N`` headers for the next ones; a client whose
    Accept names application/metalink4+xml (aria2c's does) gets the
    Metalink 4 of /metalink/PATH instead when there is one.
``/metrics``
    the daemon's requests and snapshot for Prometheus (see
    mirrorkeeper.publish.metrics), for this process only.

Every endpoint takes ?country=CC (or "global"), ?protocol= and ?ip=
when the configuration allows it.  Unknown content is a 404 whose body
lists the valid values.  The client's address is the socket's, or the
nearest untrusted address of X-Forwarded-For when the socket's is a
configured trusted proxy.

?protocol= is one or more of https, http, ftp, rsync, comma-separated,
preferred first: only mirror URLs (and fallback URLs) of those schemes
are offered, in the body, the Location and the Link headers alike; a
mirror serving several gets its URL of the first.  Any other value is a
400 saying which are valid.  Without it the apt lists prefer http then
https, the mirrorlist and the redirect https then http, the metalink
https, http then ftp.  A redirect asked over https (a TLS connection, or
X-Forwarded-Proto: https from a configured trusted proxy, the rule of
X-Forwarded-For) goes to https URLs only unless ?protocol= allows
another: never a downgrade to http the client did not ask for.  When no
mirror and no fallback URL of the protocols qualifies a list is a
comment saying so, a redirect a 503 saying so.

``--workers N`` (or ``[publication] workers`` in the configuration file;
the command line wins) runs N processes answering on the one port
(SO_REUSEPORT, see mirrorkeeper.publish.workers), 0 one per core; the
default is one
process, as twistd and the tests run it and as a host behind a load
balancer may want (each worker holds the whole snapshot in memory, and
opens the pool file facts on its own).
"""

import ipaddress
import random
from dataclasses import dataclass, replace

from twisted.application.internet import TimerService
from twisted.application.service import MultiService, Service
from twisted.internet import defer, endpoints, threads
from twisted.logger import Logger

from mirrorkeeper.config import load_config
from mirrorkeeper.enums import MirrorFreshness
from mirrorkeeper.errors import ConfigurationError
from mirrorkeeper.publish import formats, workers
from mirrorkeeper.publish.metrics import CONTENT_TYPE as METRICS_TYPE
from mirrorkeeper.publish.metrics import DaemonMetrics
from mirrorkeeper.publish.geoip import Locator, parse_address
from mirrorkeeper.publish.http import HTTPFactory
from mirrorkeeper.publish.reload import SnapshotSource
from mirrorkeeper.publish.selection import (
    BadParameter, Client, Order, Request, UnknownContent, cached_groups,
    content_key, copy_requirement, fallback_urls, file_facts,
    parse_protocols, pick, redirect_protocols, remember, suite_copy,
    suite_series)
from mirrorkeeper.publish.statistics import (
    FLUSH_INTERVAL, LogRotation, Statistics)
from mirrorkeeper.settings import (
    MIRRORLIST_DAEMON, Publication, twistd_options)

SNAPSHOT_HEADER = b"X-Mirrorlist-Snapshot"

# Mirrors in a metalink or a redirect's Link headers: dnf tries a handful,
# and a longer document only costs bytes on every request.
MAX_METALINK_URLS = 50
MAX_LINK_HEADERS = 10

# Clients (address, X-Forwarded-For, ip=) whose place is remembered: a
# GeoIP look-up and address parsing saved on every request of a client
# seen before, for about 200 bytes each.
MAX_CACHED_CLIENTS = 65536
# What _choose() worked out for a client and what it asks, kept for the
# clients and contents asked for last: a client asking again (apt asks
# for each file it fetches) then costs only the pick of an order.
MAX_CACHED_CHOICES = 16384


@dataclass(frozen=True)
class ServerSettings:
    """What the daemon needs from the configuration; the defaults are the
    settings' (mirrorkeeper.settings)."""

    minimum: int = Publication.minimum_mirrors.default
    trusted_proxies: tuple = ()
    allow_ip_parameter: bool = Publication.allow_ip_parameter.default
    fallback_urls: tuple = ()

    @classmethod
    def from_config(cls, config):
        section = "publication"
        proxies = []
        for text in config.get(section, "trusted_proxies").split():
            try:
                proxies.append(ipaddress.ip_network(text, strict=False))
            except ValueError:
                raise ConfigurationError(
                    "[publication] trusted_proxies: %r is not an address or "
                    "network" % (text,)) from None
        return cls(minimum=config.getint(section, "minimum_mirrors"),
                   trusted_proxies=tuple(proxies),
                   allow_ip_parameter=config.getboolean(
                       section, "allow_ip_parameter"),
                   fallback_urls=tuple(config.get(
                       section, "fallback_urls").split()))


class _Fallback:
    """A fallback base URL, in the shape of a selection Choice."""

    def __init__(self, url):
        self.url = url
        self.mirror = None
        self.group = "fallback"


class _Choices:
    """The Choices of an answer (a sequence, not copied), and `note`: a
    comment line saying why they are not the usual ones (or None);
    `order`, the selection Order they are (None for the fallback), which
    keeps what is rendered of it."""

    __slots__ = ("choices", "note", "order")

    def __init__(self, choices, note=None):
        self.choices = choices
        self.note = note
        self.order = choices if isinstance(choices, Order) else None

    def __len__(self):
        return len(self.choices)

    def __iter__(self):
        return iter(self.choices)

    def __getitem__(self, item):
        return self.choices[item]


class _Chosen:
    """What _choose() works out once for a client and what it asks: the
    selection CandidateList its answers pick an order of (`pool`) with
    the `note` to give with it, or else the fixed _Choices (the fallback,
    or none)."""

    __slots__ = ("client", "pool", "note", "choices")

    def __init__(self, client, pool=None, note=None, choices=None):
        self.client = client
        self.pool = pool
        self.note = note
        self.choices = choices


def _arg(request, name):
    values = request.args.get(name.encode())
    if not values:
        return None
    return values[0].decode("utf-8", "replace").strip() or None


def _endpoint(path):
    """The endpoint label of a request's path (/metrics counts requests
    by it)."""
    if path == "/mirrors.txt" or (path.startswith("/mirrors/")
                                  and path.endswith(".txt")):
        return "apt"
    if path in ("/mirrorlist", "/metalink", "/metrics"):
        return path[1:]
    if path.startswith("/metalink/"):
        return "metalink"
    if path.startswith("/redirect/"):
        return "redirect"
    return "unknown"


class MirrorListResource:
    """Answers every path of the daemon (see the module docstring), GET
    and HEAD alike: render(request) of a mirrorkeeper.publish.http
    Request.  Given the SnapshotSource, a Locator (or None),
    ServerSettings, Statistics (or None), a random.Random and
    DaemonMetrics (or None: no /metrics)."""

    log = Logger()

    def __init__(self, source, locator, settings, statistics=None,
                 rng=None, metrics=None):
        self.source = source
        self.locator = locator
        self.settings = settings
        self.statistics = statistics
        self.rng = rng or random.Random()
        self.metrics = metrics
        self._count = metrics.requests.count if metrics is not None \
            else (lambda endpoint, country, status: None)
        self._clients = {}
        # _choose()'s _Chosen, for the index `_index`, whose
        # X-Mirrorlist-Snapshot is `_snapshot`.
        self._chosen = {}
        self._index = self._snapshot = None

    # The client.

    def client_of(self, request):
        """The Client the request speaks for: worked out once per socket
        address, X-Forwarded-For and ip= (kept for the life of the
        daemon, whose GeoIP databases do not change, at most
        MAX_CACHED_CLIENTS, oldest out first)."""
        host = request.getClientAddress().host
        forwarded = request.getHeader(b"x-forwarded-for")
        ip = _arg(request, "ip") if self.settings.allow_ip_parameter \
            else None
        key = (host, forwarded, ip)
        cache = self._clients
        client = cache.get(key)
        if client is None:
            client = self._locate(host, forwarded, ip)
            if len(cache) >= MAX_CACHED_CLIENTS:
                del cache[next(iter(cache))]
            cache[key] = client
        return client

    def _locate(self, host, forwarded, ip):
        address = parse_address(host)
        if forwarded and self._trusted(address):
            for text in reversed(forwarded.decode("latin-1").split(",")):
                try:
                    hop = parse_address(text)
                except ValueError:
                    break
                address = hop
                if not self._trusted(hop):
                    break
        if ip:
            address = parse_address(ip)
        country, asn = (self.locator.locate(address) if self.locator
                        else (None, None))
        return Client(address, country, asn)

    def _trusted(self, address):
        return any(address in network
                   for network in self.settings.trusted_proxies)

    # Dispatch.

    def render(self, request):
        index = self.source.current
        if index is not self._index:
            self._index, self._chosen = index, {}
            self._snapshot = ("%d %s" % (
                index.serial, index.generated)).encode()
        request.setHeader(SNAPSHOT_HEADER, self._snapshot)
        path = request.path.decode("utf-8", "replace")
        endpoint = _endpoint(path)
        try:
            client = self.client_of(request)
        except ValueError:
            self._count(endpoint, None, 400)
            return self._error(request, 400, "bad client address\n")
        protocols = None
        try:
            protocols = self._protocols(request)
            if endpoint == "apt":
                country = None if path == "/mirrors.txt" else \
                    path[len("/mirrors/"):-len(".txt")].upper()
                return self._apt(request, index, client, protocols, country)
            if endpoint == "mirrorlist":
                return self._mirrorlist(request, index, client, protocols)
            if endpoint == "metalink" and path != "/metalink":
                path = path[len("/metalink/"):]
                return self._file_metalink(request, index, client,
                                           protocols, path,
                                           file_facts(index, path))
            if endpoint == "metalink":
                return self._metalink(request, index, client, protocols)
            if endpoint == "redirect":
                return self._redirect(request, index, client, protocols,
                                      path[len("/redirect/"):])
            if endpoint == "metrics" and self.metrics is not None:
                body = self.metrics.exposition()
                # Counted for the next scrape.
                self._count(endpoint, client.country, 200)
                request.setHeader(b"content-type", METRICS_TYPE.encode())
                return body
        except BadParameter as error:
            if protocols is None and _arg(request, "protocol"):
                # A protocol= it could not read: counted as such.
                protocols = ("unknown",)
            self._record(endpoint, client, "unknown", 400, index, protocols)
            return self._error(request, 400, "%s\n" % (error,))
        except UnknownContent as error:
            self._record(endpoint, client, "unknown", 404, index, protocols)
            return self._error(request, 404, "%s; valid values:\n%s\n" % (
                error, "\n".join(error.valid)))
        self._count("unknown", client.country, 404)
        return self._error(request, 404, (
            "no such page; try /mirrors.txt, /mirrors/CC.txt, "
            "/mirrorlist?repo=&arch=, /metalink?repo=&arch=, "
            "/metalink/PATH, /redirect/PATH, /metrics\n"))

    def _protocols(self, request):
        """The ?protocol= asked for (a tuple), or None; BadParameter."""
        return parse_protocols(_arg(request, "protocol"))

    def secure(self, request):
        """Whether the client asked over https: a TLS connection, or
        X-Forwarded-Proto naming https from a trusted proxy (the header
        from any other address is ignored, as X-Forwarded-For is).  Of a
        proxy chain's several values one https is enough: taking the
        client for an https one costs at most an https-only redirect,
        the other way a downgrade."""
        if request.isSecure():
            return True
        forwarded = request.getHeader(b"x-forwarded-proto")
        if not forwarded or not self.settings.trusted_proxies:
            return False
        try:
            peer = parse_address(request.getClientAddress().host)
        except ValueError:
            return False
        return self._trusted(peer) and "https" in (
            value.strip().lower()
            for value in forwarded.decode("latin-1").split(","))

    def _choose(self, index, client, key, protocols, country=None,
                strict=False, default=("https", "http"), since=None,
                copy=None):
        """The _Choices for `client`: a country's own list (`strict`) with
        no mirror in it widens to the continent's, then the world's, so
        that apt is never left nowhere to go; an IPv6 client that no
        mirror is known to serve then gets the mirrors not known to lack
        IPv6; then the configured fallback URLs.  `since` is a pool
        file's Request.since, `copy` a suite's or repository's file's
        Request.copy.  Worked out once for a client and what it asks (see
        MAX_CACHED_CHOICES) while its list is kept: each answer then
        picks one of the list's orders."""
        protocols = protocols or default
        key = (id(client), key, country, strict, protocols, since, copy)
        chosen = self._chosen.get(key)
        if chosen is None or chosen.client is not client or (
                chosen.pool is not None and not chosen.pool.cached):
            chosen = self._chosen[key] = self._work_out(
                index, client, key[1], protocols, country, strict, since,
                copy)
            if len(self._chosen) > MAX_CACHED_CHOICES:
                del self._chosen[next(iter(self._chosen))]
        if chosen.pool is None:
            return chosen.choices
        return _Choices(pick(index, chosen.pool, self.rng), chosen.note)

    def _work_out(self, index, client, key, protocols, country, strict,
                  since, copy):
        """The _Chosen of _choose()."""
        wanted = (country or "").upper() or None
        if wanted == "GLOBAL":
            wanted = "global"
        first = Request(key, wanted, strict, protocols, since=since,
                        copy=copy)
        attempts = [first]
        if strict:
            attempts.append(replace(first, strict_country=False))
        if client.address.version == 6:
            attempts += [replace(attempt, any_family=True)
                         for attempt in attempts]
        for attempt in attempts:
            pool = cached_groups(index, client, attempt, self.rng,
                                 self.settings.minimum)
            if pool.groups:
                return _Chosen(client, pool, (
                    "# no mirror is known to answer over IPv6: mirrors not "
                    "known to lack it\n") if attempt.any_family else None)
        configured = self.settings.fallback_urls
        fallback = [_Fallback(url)
                    for url in fallback_urls(configured, protocols)]
        if not fallback:
            if configured:
                return _Chosen(client, choices=_Choices((), (
                    "# no mirror qualifies over %s, and no configured "
                    "fallback URL is %s\n" % (_over(protocols),
                                              _over(protocols)))))
            return _Chosen(client, choices=_Choices((), (
                "# no mirror qualifies, and no fallback URL is "
                "configured\n")))
        return _Chosen(client, choices=_Choices(fallback, (
            "# no mirror is known to answer over IPv6: the configured "
            "fallback URLs\n") if client.address.version == 6 else None))

    def _record(self, endpoint, client, content, status, index, asked):
        """Count a request; `asked` is the ?protocol= it gave (a tuple), or
        None."""
        self._count(endpoint, client.country, status)
        if self.statistics is not None:
            self.statistics.record(client.country, content, status,
                                   index.serial, asked)

    def _rendered(self, index, choices, what, render):
        """render() of `choices`, made once per drawn order and kept with
        it (selection.remember()) under `what`, which with the order says
        all that the bytes depend on."""
        order = choices.order
        if order is None:
            return render()
        body = order.rendered.get(what)
        if body is None:
            body = render()
            remember(index, order, what, body)
        return body

    def _error(self, request, status, text):
        request.setResponseCode(status)
        request.setHeader(b"content-type", _TEXT_TYPE)
        return text.encode("utf-8")

    # The outputs.

    def _apt(self, request, index, client, protocols, country):
        kind = _arg(request, "content") or "archive"
        if kind not in ("archive", "cdimage"):
            raise UnknownContent("unknown content %s" % (kind,),
                                 ["archive", "cdimage"])
        suite = series = _arg(request, "series")
        if kind == "archive":
            series = suite_series(index, series)
        key = content_key(index, kind, series,
                          _arg(request, "arch"), _arg(request, "flavour"))
        asked = country or _arg(request, "country")
        choices = self._choose(index, client, key, protocols, asked,
                               strict=country is not None,
                               default=("http", "https"))
        self._record("apt", client, "/".join(("apt",) + key[1:]) if kind ==
                     "archive" else "/".join(key), 200, index, protocols)
        request.setHeader(b"content-type", _TEXT_TYPE)

        def render():
            # apt's mirror method picks a mirror per file: those known to
            # hold the suite's current Release, and so its indexes and
            # packages, go first, the others after as a last resort.
            synced = self._holding(index, choices, suite_copy(index, suite)
                                   if kind == "archive" and suite else None)
            wanted = (asked or client.country or "").upper()
            note = choices.note or ""
            if not (note and choices and choices[0].group == "fallback"):
                # (The fallback said once is enough.)
                note += fallback_note(index, wanted, choices) or ""
            root = index.series_roots.get(series, "") \
                if kind == "archive" else ""
            return note.encode("utf-8") + formats.url_list(
                choices, synced, root)
        return self._rendered(index, choices, (
            "apt", kind, suite, country is not None, asked), render)

    def _holding(self, index, choices, copy):
        """The `choices` whose mirror holds a version `copy` (a
        Request.copy, or None: none) accepts."""
        if copy is None:
            return []
        return [c for c in choices if c.mirror is not None and
                index.holds_copy(c.mirror.index, copy)]

    def _consistent_first(self, index, choices, repository):
        """The Choices of a repository's list, those whose mirror holds its
        current repomd.xml first: dnf fetches the repository's files from
        the mirror it read repomd.xml from."""
        holding = self._holding(index, choices, copy_requirement(
            index, repository["path"].rstrip("/") + "/repodata/repomd.xml"
            if repository["path"] else "repodata/repomd.xml"))
        if not holding:
            return choices
        first = set(map(id, holding))
        return holding + [c for c in choices if id(c) not in first]

    def _repository(self, request, index):
        key = content_key(index, "repo", arch=_arg(request, "arch"),
                          repo=_arg(request, "repo"))
        return key, index.repositories[key[1:]]

    def _mirrorlist(self, request, index, client, protocols):
        key, repository = self._repository(request, index)
        choices = self._choose(index, client, key, protocols,
                               _arg(request, "country"))
        self._record("mirrorlist", client, "repo/%s/%s" % key[1:], 200,
                     index, protocols)
        request.setHeader(b"content-type", _TEXT_TYPE)
        return self._rendered(index, choices, ("mirrorlist",), lambda: (
            choices.note or "").encode("utf-8") + formats.mirrorlist(
                self._consistent_first(index, choices, repository),
                repository, client.country,
                index.continent_of(client.country), index.serial))

    def _metalink(self, request, index, client, protocols):
        key, repository = self._repository(request, index)
        choices = self._choose(index, client, key, protocols,
                               _arg(request, "country"),
                               default=("https", "http", "ftp"))
        path = repository["path"] + "/repodata/repomd.xml"
        versions = index.files.get(path, [])
        accept = request.getHeader(b"accept")
        version = 4 if _arg(request, "version") == "4" or (
            accept and _METALINK4_ACCEPT in accept) else 3
        self._record("metalink", client, "metalink/%s/%s" % key[1:], 200,
                     index, protocols)
        if not choices:
            return self._metalink_body(request, version, "repomd.xml",
                                       versions, [])
        lines = self._rendered(
            index, choices, ("metalink", version),
            lambda: formats.url_lines(version, _urls(
                self._consistent_first(index, choices, repository), path,
                MAX_METALINK_URLS)))
        request.setHeader(b"content-type", _METALINK_TYPES[version])
        return formats.metalink_around(version, "repomd.xml", versions,
                                       lines)

    def _metalink_body(self, request, version, file_name, versions, urls):
        request.setHeader(b"content-type", _METALINK_TYPES[version])
        return formats.metalink(version, file_name, versions, urls)

    def _file_choices(self, request, index, client, protocols, facts):
        """_Choices of a redirect or metalink for the archive file of
        `facts` (selection.file_facts()).  A pool file only from mirrors
        that synced after the master's copy appeared, whatever the
        threshold, and a suite's or repository's files only from mirrors
        holding a version of its Release or repomd.xml that lists them:
        else a 404 for a new file, or an older copy whose hashes do not
        match."""
        return self._choose(index, client, facts.content, protocols,
                            _arg(request, "country"), since=facts.since,
                            copy=facts.copy)

    def _file_metalink(self, request, index, client, asked, path, facts,
                       version=None, protocols=None):
        """The Metalink of the archive file `path` (see /metalink/PATH), of
        `facts`: 4 unless ?version=3 (or `version`).  `asked` is the
        ?protocol= the client gave, `protocols` those it may be sent to
        (default: `asked`)."""
        if protocols is None:
            protocols = asked
        asked_version = _arg(request, "version")
        if asked_version not in (None, "3", "4"):
            raise BadParameter("version=%s: a metalink's version is 3 or 4"
                               % (asked_version,))
        if facts.error is not None:
            self._record("metalink", client, "unknown", 503, index, asked)
            if not index.pool_facts.reported:
                # Once: the problem is the file's, not each request's.
                index.pool_facts.reported = True
                self.log.error("{error}: metalinks of pool files answer "
                               "503 while snapshot {serial} serves",
                               error=facts.error, serial=index.serial)
            return self._error(request, 503, "the master's size and hashes "
                               "of %s are not available now; try "
                               "/redirect/%s\n" % (path, path))
        versions = facts.versions
        if not versions:
            self._record("metalink", client, "unknown", 404, index, asked)
            return self._error(request, 404, "the master has no size and "
                               "hashes of %s\n" % (path,))
        if version is None:
            version = 3 if asked_version == "3" else 4
        choices = self._file_choices(
            request, index, client,
            protocols or ("https", "http", "ftp"), facts)
        urls = _urls(choices, path, MAX_METALINK_URLS)
        self._record("metalink", client, "metalink/" + "/".join(
            facts.content), 200, index, asked)
        return self._metalink_body(request, version, path.rsplit("/", 1)[-1],
                                   versions, urls)

    def _redirect(self, request, index, client, asked, path):
        secure = self.secure(request)
        # Asked over https: https only, unless ?protocol= says otherwise.
        protocols = redirect_protocols(asked, secure)
        facts = file_facts(index, path)
        if facts.versions:
            # The master's size and hashes are known, so a metalink can be
            # given instead.  The answer depends on Accept: caches must
            # know.
            request.setHeader(b"vary", b"Accept")
            accept = request.getHeader(b"accept")
            if accept and _METALINK4_ACCEPT in accept:
                return self._file_metalink(request, index, client, asked,
                                           path, facts, version=4,
                                           protocols=protocols)
        choices = self._file_choices(request, index, client, protocols,
                                     facts)
        content = "redirect/" + "/".join(facts.content)
        if not choices:
            # Not a 404: the master may well have the file.
            self._record("redirect", client, content, 503, index, asked)
            if not self.settings.fallback_urls:
                return self._error(request, 503, "no mirror carries %s, and "
                                   "no fallback URL is configured\n"
                                   % (path,))
            why = ""
            if secure and not asked:
                why = ("; asked over https, a redirect goes to https "
                       "only unless protocol= allows http")
            return self._error(request, 503, (
                "no mirror carries %s over %s, and no configured fallback "
                "URL is %s%s\n" % (path, _over(protocols), _over(protocols),
                                   why)))
        self._record("redirect", client, content, 302, index, asked)
        # Rendered once per order, cut where the path goes.
        given = bool(path)
        headers, body = self._rendered(
            index, choices, ("redirect", given), lambda: formats.redirect(
                [(c.url, c.mirror and c.mirror.country)
                 for c in choices[:MAX_LINK_HEADERS + 1]], given))
        under = path.lstrip("/").encode("utf-8")
        request.setResponseCode(302)
        request.addHeaderLines(under.join(headers))
        request.setHeader(b"content-type", _TEXT_TYPE)
        return under.join(body)


_METALINK_TYPES = {3: formats.METALINK3_TYPE.encode(),
                   4: formats.METALINK4_TYPE.encode()}
_METALINK4_ACCEPT = formats.METALINK4_TYPE.encode()
_TEXT_TYPE = formats.TEXT_TYPE.encode()


def _urls(choices, path, count):
    """[(URL of `path`, country or None)] on the first `count` of
    `choices`."""
    return [(formats.join(c.url, path), c.mirror and c.mirror.country)
            for c in choices[:count]]


def _over(protocols):
    """'https', 'http or ftp': the protocols of a request, for a message."""
    return " or ".join(protocols)


def fallback_note(index, country, choices):
    """The comment line that heads an apt list for `country` (a code, or
    '' when unknown) in which no mirror of that country qualified, saying
    whose mirrors it gives instead; None when the country's own come
    first, or there is no country to speak of.  apt skips lines starting
    with '#'."""
    if not country or country == "GLOBAL" or not choices:
        return None
    groups = [getattr(choice, "group", None) for choice in choices]
    if "country" in groups or groups[0] in ("netblock", "asn"):
        return None
    if groups[0] == "fallback":
        return ("# no mirror in %s qualifies: the configured fallback "
                "URLs\n" % (country,))
    continent = index.continent_of(country)
    if "continent" in groups:
        return ("# no mirror in %s qualifies: mirrors of its continent "
                "(%s)%s\n" % (country, continent,
                              ", then of the world" if "world" in groups
                              else ""))
    return ("# no mirror in %s or its continent (%s) qualifies: mirrors "
            "of the world\n" % (country, continent or "unknown"))


class ListeningService(Service):
    """Listens on an endpoint string with a factory while running;
    `listening` fires with the port (whose getHost() tells the port number
    when the endpoint asked for port 0).  With `reuse_port` the endpoint
    must be tcp: or tcp6:, listened on with SO_REUSEPORT."""

    def __init__(self, reactor, description, factory, reuse_port=False):
        self.reactor = reactor
        self.description = description
        self.reuse_port = reuse_port
        self.endpoint = None if reuse_port else \
            endpoints.serverFromString(reactor, description)
        self.factory = factory
        self.listening = defer.Deferred()
        self.port = None

    def startService(self):
        Service.startService(self)
        if self.reuse_port:
            d = defer.maybeDeferred(workers.listen_reuseport, self.reactor,
                                    self.description, self.factory)
        else:
            d = self.endpoint.listen(self.factory)

        def listened(port):
            self.port = port
            self.listening.callback(port)
        d.addCallbacks(listened, self.listening.errback)

    def stopService(self):
        Service.stopService(self)
        if self.port is not None:
            port, self.port = self.port, None
            return port.stopListening()


class StatisticsFlusher(TimerService):
    """Writes the statistics every FLUSH_INTERVAL seconds, and at stop.

    What was recorded is taken in the reactor's thread and written in one
    of its pool's, one batch after the other, in order: a batch is a few
    megabytes of log and two files of counts to read and rewrite, which
    written between two requests held them all up (tens of milliseconds
    at a few thousand requests a second, the daemon's p99)."""

    log = Logger()

    def __init__(self, reactor, statistics):
        TimerService.__init__(self, FLUSH_INTERVAL, self.flush)
        self.clock = reactor
        self.statistics = statistics
        self._writing = defer.succeed(None)

    def flush(self):
        taken = self.statistics.take()
        if taken is None:
            return
        reactor = self.clock

        def write(_):
            return threads.deferToThreadPool(
                reactor, reactor.getThreadPool(), self.statistics.write,
                taken)

        def failed(failure):
            self.log.failure("Writing the statistics", failure)
        self._writing.addCallback(write).addErrback(failed)

    def stopService(self):
        d = defer.maybeDeferred(TimerService.stopService, self)
        d.addCallback(lambda _: self._writing)
        d.addCallback(lambda _: self.statistics.flush())
        return d


class Options(twistd_options(MIRRORLIST_DAEMON)):
    """The daemon's command line (twistd's and mirrorkeeper's); the
    options of mirrorkeeper.settings.MIRRORLIST_DAEMON stand in for their
    settings."""

    synopsis = "[options]"
    longdesc = ("Serve apt mirror lists, dnf mirrorlists and metalinks, "
                "and redirects to mirrors, from the mirror list snapshot.")
    optParameters = [
        ["config", "c", None, "the configuration file"],
        ["worker", None, 0, "this process's number among the workers (the "
         "worker label of /metrics; given by --workers to the processes it "
         "starts)", int],
    ]
    optFlags = [
        ["reuse-port", None, "listen with SO_REUSEPORT, so that other "
         "daemons may share the port (what --workers does)"],
    ]


# What a worker started by --workers is given again (the listening
# endpoint, --workers and --reuse-port are set for it).
_WORKER_OPTIONS = ("config",) + tuple(
    option.name for option in MIRRORLIST_DAEMON
    if option.name not in ("listen", "workers"))


def _worker_argv(options):
    argv = []
    for name in _WORKER_OPTIONS:
        if options[name] is not None:
            argv += ["--" + name, str(options[name])]
    return argv


def _continent_overrides(text):
    overrides = {}
    for pair in text.split():
        country, _, continent = pair.partition(":")
        if not continent:
            raise ConfigurationError("[publication] continent_overrides: "
                                     "%r is not COUNTRY:CONTINENT" % (pair,))
        overrides[country.upper()] = continent.upper()
    return overrides


def makeService(options, reactor=None):
    """The daemon as a MultiService: the web server on the endpoint, the
    snapshot source, and the statistics flusher."""
    if reactor is None:
        from twisted.internet import reactor
    config = load_config(options["config"]).with_options(
        options, MIRRORLIST_DAEMON)
    section = "publication"

    def setting(key):
        return config.get(section, key)

    threshold = MirrorFreshness.by_name(
        config.get(section, "freshness_threshold"))
    source = SnapshotSource(
        reactor, setting("snapshot_path"), threshold,
        _continent_overrides(config.get(section, "continent_overrides")),
        config.getfloat(section, "reload_interval"))
    geoip = setting("geoip_database")
    asn = setting("asn_database")
    locator = Locator(geoip, asn) if (geoip or asn) else None
    statistics = Statistics(setting("statistics_dir"),
                            rotation=LogRotation.from_config(config))
    metrics = DaemonMetrics(source, options["worker"])
    site = HTTPFactory(MirrorListResource(
        source, locator, ServerSettings.from_config(config), statistics,
        metrics=metrics), reactor)
    service = MultiService()
    source.setServiceParent(service)
    listen = setting("listen")
    count = workers.worker_count(config.getint(section, "workers"))
    reuse_port = options["reuse-port"] or count > 1
    if reuse_port:
        try:
            workers.parse_tcp(listen)
        except ValueError as error:
            raise ConfigurationError(str(error)) from None
    web = ListeningService(reactor, listen, site, reuse_port=reuse_port)
    web.setServiceParent(service)
    StatisticsFlusher(reactor, statistics).setServiceParent(service)
    service.pool = None
    if count > 1:
        service.pool = workers.WorkerPool(
            reactor, count, _worker_argv(options), listen, web.listening)
        service.pool.setServiceParent(service)
    service.source, service.web, service.statistics = source, web, statistics
    service.metrics = metrics
    return service
