"""The probe client: one object holding everything a prober run learns.

L{ProbeClient} implements L{IProbeClient}: it turns a URL into a
L{ProbeResult}, following redirects, enforcing the global and per-host
limits, the timeout, the address policy and host skipping.  The protocols
underneath (L{mirrorkeeper.prober.http}, L{mirrorkeeper.prober.ftp},
L{mirrorkeeper.prober.rsync}) know none of those rules.

An HTTP probe is plain calls from end to end: the slot allocator calls it
when it may send, the connection pool calls it with the answer, and it calls
whoever asked with its result (L{ProbeClient.probe_then}); the timeouts of
all requests share one timer (L{mirrorkeeper.prober.deadlines}).  Only
L{ProbeClient.probe} and L{ProbeClient.fetch} make a Deferred, for callers
that want one.
"""

from __future__ import annotations

import hashlib
import posixpath
import re
from collections import Counter
from urllib.parse import quote, unquote, urljoin, urlsplit

import attrs
from OpenSSL import SSL
from service_identity.exceptions import CertificateError, VerificationError
from twisted.internet import defer, error
from twisted.internet.ssl import optionsForClientTLS
from twisted.logger import Logger
from twisted.python.failure import Failure
from zope.interface import implementer

from mirrorkeeper.interfaces.prober import IProbeClient
from mirrorkeeper.prober.addresses import (  # noqa: F401
    AddressFamilies, AddressPolicy, HostResolver)
from mirrorkeeper.prober.connect import FamilyRecord
from mirrorkeeper.prober.deadlines import Deadlines
from mirrorkeeper.prober.ftp import (
    FTPReplyError, FTPSessionLost, FTPSessionPool)
from mirrorkeeper.prober.http import (
    BodyTooLarge,
    ConnectionDropped,
    HTTPConnectionPool,
    HTTPProtocolError,
    Site,
)
from mirrorkeeper.enums import ProbeOutcome
from mirrorkeeper.prober.result import ProbeResult
from mirrorkeeper.prober.rsync import (
    RsyncMissing, RsyncReplyError, RsyncRunner, RsyncTimeout)
from mirrorkeeper.prober.slots import SlotAllocator

log = Logger()

_DEFAULT_PORTS = {"http": 80, "https": 443, "ftp": 21, "rsync": 873}
# The parsed "scheme://host:port" prefixes kept between two forgets.
_SITES_CACHED = 1024
# What a probe over each protocol but HTTP sends, for its result.
_METHODS = {"ftp": "SIZE", "rsync": "LIST"}
_VERBS = {b"HEAD": "HEAD", b"GET": "GET"}
_REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
_NOT_FOUND_STATUSES = frozenset({404, 410})
# The last line of each probe's log, but for the detail: once per outcome,
# not once per request.
_RESULT_LINES = {outcome: f"Result: {outcome.name}. {outcome.message}"
                 for outcome in ProbeOutcome}
# Characters left alone when quoting a request target: the reserved set
# and "%" so that an already quoted URL is not quoted twice.
_TARGET_SAFE = "/?#[]@!$&'()*+,;=:%~-._"
# URLs that _parse may take apart without urlsplit: a lower-case scheme,
# a plain host[:port], and a path of characters that quoting leaves alone
# (no "%", query, fragment, space or control character).  Everything
# else goes the long way.
_PLAIN_URL = re.compile(
    r"(https?|ftp|rsync)://([A-Za-z0-9._:-]+)"
    r"(/[A-Za-z0-9/._~!$&'()*+,;=:@-]*)\Z"
)


class _InvalidURL(Exception):
    pass


@attrs.frozen
class ProbeStats:
    """A snapshot of a run's counters.

    @ivar probes: probes finished.
    @ivar requests: HTTP requests and FTP commands sent (a redirect is one
        request per hop; a retried request counts twice).
    @ivar connections_opened: TCP connections opened, HTTP and FTP.
    @ivar outcomes: a dict of L{ProbeOutcome} to the number of probes that
        ended so.
    """

    probes: int
    requests: int
    connections_opened: int
    outcomes: dict

    @property
    def failures(self):
        """The outcomes other than FOUND, with their counts."""
        return {k: v for k, v in self.outcomes.items()
                if k is not ProbeOutcome.FOUND}


class _HostState:
    """What the run knows about one site: its limit and its record.

    @ivar answered: True once the site has sent an answer (an HTTP
        response, an FTP reply) to any request of the run.
    """

    __slots__ = ("requests", "timeouts", "answered", "bad_certificate")

    def __init__(self):
        self.requests = 0
        self.timeouts = 0
        self.answered = False
        self.bad_certificate = None


def _site_url(site):
    host = f"[{site.host}]" if ":" in site.host else site.host
    return f"{site.scheme}://{host}:{site.port}"


def _file_name(url):
    return posixpath.basename(unquote(urlsplit(url).path))


def _parse(url, sites=None):
    """Split a URL into a L{Site}, a request target (bytes) and a path.

    @param sites: a dict used as a cache of the L{Site} of each
        "scheme://host:port" already parsed, or None.
    @raise _InvalidURL: when the URL cannot be probed.
    """
    if sites is not None:
        plain = _PLAIN_URL.match(url)
        if plain is not None:
            prefix = url[: plain.start(3)]
            site = sites.get(prefix)
            if site is None:
                site = sites[prefix] = _parse(prefix + "/")[0]
            path = plain.group(3)
            return site, path.encode("ascii"), path
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError as e:
        raise _InvalidURL(str(e)) from None
    scheme = parts.scheme.lower()
    if scheme not in _DEFAULT_PORTS:
        raise _InvalidURL(f"unsupported scheme {scheme!r}")
    host = parts.hostname
    if not host:
        raise _InvalidURL("no host")
    target = quote(parts.path or "/", safe=_TARGET_SAFE)
    if parts.query:
        target += "?" + quote(parts.query, safe=_TARGET_SAFE)
    site = Site(scheme, host, port or _DEFAULT_PORTS[scheme])
    return site, target.encode("ascii"), unquote(parts.path or "/")


def site_of(url):
    """The L{Site} (scheme, host and port) the requests for C{url} go to,
    or None if it cannot be probed."""
    try:
        return _parse(url)[0]
    except _InvalidURL:
        return None


@implementer(IProbeClient)
class ProbeClient:
    """Probes mirrors for one run.  See L{IProbeClient}.

    @param reactor: provides IReactorTCP, IReactorTime and
        IReactorPluggableNameResolver.
    @param timeout: seconds a request may take (connect, TLS, response).
    @param max_parallel: requests in flight across all mirrors.
    @param max_parallel_per_host: requests in flight to one site.
    @param max_redirects: redirects followed before TOO_MANY_REDIRECTS.
    @param allowed_networks: networks (CIDR str or ipaddress network
        objects) probed even though they are not global, e.g.
        ("127.0.0.0/8", "::1/128"); every other non-global address is
        refused (see L{mirrorkeeper.addresspolicy}).
    @param trust_root: the IOpenSSLTrustRoot certificates are verified
        against (e.g. a twisted.internet.ssl.Certificate of a test CA);
        None trusts the platform's roots.
    @param hosts: a dict of host name to a list of addresses used instead
        of resolving that name, as curl's --resolve does.
    @param user_agent: the User-Agent header, str.
    """

    # A mirror that cannot answer in 30 s is of no use to apt either.
    timeout = 30.0
    # Bounds sockets and memory for the whole run; 100 keeps a 2-core
    # machine busy without queueing inside the kernel.
    max_parallel = 100
    # What apt and mirror operators consider polite for one client.
    max_parallel_per_host = 2
    # apt follows redirects too, but real mirrors need at most one or two.
    max_redirects = 5
    # Launchpad's thresholds for a host that has answered: judge it only
    # after 30 requests, and give up on it when fewer than 3 requests go by
    # per timeout.
    min_requests_to_judge_timeouts = 30
    min_requests_per_timeout = 3
    # A host that has never answered is given up after this many timeouts:
    # it is most likely dead or blackholed, and waiting out 30 requests
    # would cost 15 timeouts at the per-host limit of 2 (7.5 minutes).
    max_timeouts_without_answer = 3
    # Real mirrors send under 2 KB of headers; 64 KB stops a hostile one
    # from growing our memory without refusing any honest server.
    max_header_bytes = 64 * 1024
    user_agent = "mirrorkeeper-prober/0.1"

    def __init__(
        self,
        reactor,
        *,
        timeout=None,
        max_parallel=None,
        max_parallel_per_host=None,
        max_redirects=None,
        allowed_networks=(),
        trust_root=None,
        hosts=None,
        user_agent=None,
    ):
        self._reactor = reactor
        if timeout is not None:
            self.timeout = timeout
        if max_parallel is not None:
            self.max_parallel = max_parallel
        if max_parallel_per_host is not None:
            self.max_parallel_per_host = max_parallel_per_host
        if max_redirects is not None:
            self.max_redirects = max_redirects
        if user_agent is not None:
            self.user_agent = user_agent
        self._resolver = HostResolver(
            reactor, AddressPolicy(allowed_networks), hosts
        )
        self._trust_root = trust_root
        self._slots = SlotAllocator(self.max_parallel,
                                    self.max_parallel_per_host)
        self._host_states = {}
        # How many sites of each host name have a state: what is known of
        # a name (its addresses, families, TLS options) is let go with
        # its last site.
        self._sites_of_host = Counter()
        self._sites = {}
        self._tls_options = {}
        # Which addresses of each host connected and which families
        # answered, over HTTP and FTP alike.
        self._families = FamilyRecord()
        self._http = HTTPConnectionPool(
            reactor,
            tls_options_for=self._tls_options_for,
            user_agent=self.user_agent,
            connect_timeout=self.timeout,
            max_header_bytes=self.max_header_bytes,
            families=self._families,
        )
        self._ftp = FTPSessionPool(reactor, connect_timeout=self.timeout,
                                   families=self._families)
        # It takes the slots itself: one per client run, each listing
        # the many paths a mirror's plan asks at once.
        self._rsync = RsyncRunner(reactor, timeout=self.timeout,
                                  families=self._families, slots=self._slots)
        self._deadlines = Deadlines(reactor, self.timeout)
        self._probes = 0
        self._outcomes = Counter()

    # The interface.

    def probe(self, url):
        d = defer.Deferred()
        _Probe(self, url, b"HEAD", 0, (), True, d.callback, ()).hop(url)
        return d

    def probe_then(self, url, callback, *args):
        _Probe(self, url, b"HEAD", 0, (), True, callback, args).hop(url)

    def fetch(self, url, max_size, headers=(), keep_body=True):
        extra = tuple((k.encode("latin-1"), v.encode("latin-1"))
                      for k, v in headers)
        d = defer.Deferred()
        _Probe(self, url, b"GET", max_size, extra, keep_body, d.callback,
               ()).hop(url)
        return d

    @property
    def stats(self):
        return ProbeStats(
            probes=self._probes,
            requests=(self._http.requests_sent + self._ftp.requests_sent
                      + self._rsync.requests_sent),
            connections_opened=(self._http.connections_opened
                                + self._ftp.connections_opened
                                + self._rsync.processes_run),
            outcomes=dict(self._outcomes),
        )

    def address_families(self, host):
        # What was measured, not what DNS said: a family counts once an
        # answer came back over it.
        return self._families.families(host)

    def skipped_hosts(self):
        skipped = {}
        for site, state in self._host_states.items():
            reason = self._skip_reason(state)
            if reason:
                skipped[_site_url(site)] = reason
        return skipped

    def forget(self, urls):
        sites = {site_of(url) for url in urls}
        sites.discard(None)
        hosts = set()
        for site in sites:
            if self._slots.busy(site):
                continue
            self._http.forget(site)
            self._ftp.forget(site)
            state = self._host_states.get(site)
            if state is None or self._skip_reason(state):
                continue
            del self._host_states[site]
            self._sites_of_host[site.host] -= 1
            if not self._sites_of_host[site.host]:
                del self._sites_of_host[site.host]
                hosts.add(site.host)
        for host in hosts:
            self._resolver.forget(host)
            self._families.forget(host)
            self._tls_options.pop(host, None)
        # Only a cache of parsed URL prefixes: kept small, not pruned.
        if len(self._sites) > _SITES_CACHED:
            self._sites.clear()

    def close(self):
        d = defer.gatherResults([self._http.close(), self._ftp.close()])
        d.addCallback(lambda _: None)
        return d

    # What the probes use.

    def _host(self, site):
        state = self._host_states.get(site)
        if state is None:
            state = self._host_states[site] = _HostState()
            self._sites_of_host[site.host] += 1
        return state

    def _skip_reason(self, state):
        if state.bad_certificate:
            return ("its TLS certificate failed verification earlier in"
                    f" this run ({state.bad_certificate})")
        timeouts = state.timeouts
        if not timeouts:
            return None
        if not state.answered:
            if timeouts >= self.max_timeouts_without_answer:
                return f"{timeouts} requests timed out and it never answered"
            return None
        if (
            state.requests >= self.min_requests_to_judge_timeouts
            and state.requests / timeouts < self.min_requests_per_timeout
        ):
            return f"{timeouts} of its {state.requests} requests timed out"
        return None

    def _tls_options_for(self, host):
        options = self._tls_options.get(host)
        if options is None:
            options = optionsForClientTLS(host, trustRoot=self._trust_root)
            self._tls_options[host] = options
        return options

    def _record(self, result):
        self._probes += 1
        self._outcomes[result.outcome] += 1


def _tls_problem(failure):
    """A few words on what went wrong if C{failure} is a TLS failure, else
    None."""
    value = failure.value
    if isinstance(value, ConnectionDropped) and value.reason is not None:
        value = value.reason.value
    if isinstance(value, (VerificationError, CertificateError)):
        return "the certificate does not name this host"
    if isinstance(value, SSL.Error):
        reasons = ([r[-1] for r in value.args[0] if isinstance(r, tuple) and r]
                   if value.args else [])
        return "; ".join(str(r) for r in reasons) or "TLS handshake failed"
    return None


class _Probe:
    """One probe of one URL, through its redirects.

    The request in flight (one at a time) is C{ticket} (its slots),
    C{handle} (what cancels it), C{state} and C{site} (its host's), and
    C{timed_out}; the client's L{Deadlines} times it.  It is the
    L{mirrorkeeper.prober.http.IResponseReceiver} of its HTTP requests.
    """

    __slots__ = ("client", "url", "method", "max_body", "extra_headers",
                 "keep_body", "done", "done_args", "log", "started",
                 "redirects", "status", "current", "finished", "ticket",
                 "handle", "site", "state", "timed_out")

    def __init__(self, client, url, method, max_body, extra_headers,
                 keep_body, done, done_args):
        self.client = client
        self.url = url
        self.method = method
        self.max_body = max_body
        self.extra_headers = extra_headers
        self.keep_body = keep_body
        # Called with the result, then done_args.
        self.done = done
        self.done_args = done_args
        # (seconds, text): what was asked and what came back, stamped
        # with the reactor's time; formatted when a log is written.
        self.log = []
        self.started = client._reactor.seconds()
        self.redirects = []
        self.status = None
        self.current = url
        self.finished = False
        self.ticket = None
        self.handle = None
        self.site = None
        self.state = None
        self.timed_out = False

    def note(self, text):
        """Add a line to the log, stamped with the reactor's time."""
        self.log.append((self.client._reactor.seconds(), text))

    def hop(self, url):
        self.current = url
        client = self.client
        try:
            site, target, path = _parse(url, client._sites)
        except _InvalidURL as e:
            return self.finish(ProbeOutcome.INVALID_URL, f"{url}: {e}.")
        if site.scheme == "ftp" and self.method != b"HEAD":
            return self.finish(ProbeOutcome.INVALID_URL,
                               "Fetching over FTP is not supported.")
        state = client._host(site)
        if (state.timeouts or state.bad_certificate) and self.skipped(
                site, state):
            return
        addresses = client._resolver.known(site.host)
        if addresses is not None:
            try:
                self.resolved(addresses, site, state, target, path)
            except Exception:
                self.crashed(Failure())
            return
        d = client._resolver.resolve(site.host)
        if not d.called:
            # getaddrinfo may hang on a dead DNS server; the timeout covers it.
            d.addTimeout(client.timeout, client._reactor)
        d.addCallbacks(self.resolved, self.resolve_failed,
                       callbackArgs=(site, state, target, path))
        d.addErrback(self.crashed)

    def skipped(self, site, state):
        """Finish the probe HOST_SKIPPED if the run gave up on C{site};
        True if it did.  (Only a host with a timeout or a bad certificate
        may be: callers look at those first.)"""
        reason = self.client._skip_reason(state)
        if reason:
            self.note(f"Skipping {_site_url(site)}: {reason}.")
            self.finish(ProbeOutcome.HOST_SKIPPED,
                        f"{_site_url(site)}: {reason}.")
            return True
        return False

    def resolve_failed(self, failure):
        if failure.check(defer.TimeoutError):
            message = f"no answer within {self.client.timeout:g} s"
        else:
            message = failure.getErrorMessage()
        self.note(f"Cannot resolve the host of {self.current}: {message}.")
        self.finish(ProbeOutcome.DNS_ERROR, f"{message}.")

    def resolved(self, addresses, site, state, target, path):
        forbidden = self.client._resolver.forbidden(site.host, addresses)
        if forbidden:
            self.note(
                f"Refusing {self.current}: {site.host} resolves to"
                f" {', '.join(forbidden)}, which this prober may not probe."
            )
            return self.finish(ProbeOutcome.FORBIDDEN_ADDRESS,
                               f"{site.host} is {forbidden[0]}.")
        # The host's slot first, then a global one; send() runs once both
        # are held.  Every address was judged above; a new connection may
        # use any of them (see mirrorkeeper.prober.connect).  The rsync
        # runner holds the slots of its client runs itself.
        if site.scheme == "rsync":
            return self.send(None, site, state, addresses, target, path)
        self.client._slots.acquire(site, self.send, site, state, addresses,
                                   target, path)

    def send(self, ticket, site, state, addresses, target, path):
        self.ticket = ticket
        try:
            self._send(site, state, addresses, target, path)
        except Exception:
            self.release()
            self.crashed(Failure())

    def _send(self, site, state, addresses, target, path):
        if (state.timeouts or state.bad_certificate) and self.skipped(
                site, state):
            return self.release()
        state.requests += 1
        client = self.client
        self.site = site
        self.state = state
        self.timed_out = False
        scheme = site.scheme
        if scheme == "http" or scheme == "https":
            now = client._reactor.seconds()
            self.log.append((now, f"{_VERBS[self.method]} {self.current}"))
            # Timed from before it is sent: a request may end at once.
            client._deadlines.start(self, now)
            try:
                self.handle = client._http.request(
                    site, addresses, self.method, target, self,
                    self.extra_headers, self.max_body, self.keep_body)
            except Exception:
                self.request_failed(Failure())
            return
        if scheme == "ftp":
            self.note(f"SIZE {path} on {self.current}")
            d = client._ftp.check(site, addresses, path)
            client._deadlines.start(self)
            self.handle = d
            d.addCallbacks(self.ftp_answered, self.request_failed)
        else:
            # The rsync runner gives each client run its deadline: a path
            # may wait for the run that lists it.
            self.note(f"rsync --list-only {self.current}")
            if self.method == b"GET":
                d = client._rsync.fetch(site, addresses, path, self.max_body)
            else:
                d = client._rsync.check(site, addresses, path)
            d.addCallbacks(self.rsync_answered, self.request_failed)
        d.addErrback(self.crashed)

    def time_out(self):
        """The request took the client's timeout (and its answer was not
        there either when the sockets were read next): cancel it."""
        self.timed_out = True
        handle = self.handle
        if handle is not None:
            handle.cancel()

    def release(self):
        """Stop timing the request and give back its slots."""
        self.client._deadlines.stop(self)
        self.handle = None
        # A probe holds a ticket only once it is granted (see send).
        ticket, self.ticket = self.ticket, None
        if ticket is not None:
            self.client._slots.release(ticket)

    def response_received(self, response):
        try:
            self.answered(response)
        except Exception:
            self.crashed(Failure())

    def answered(self, response):
        # Recorded before the slot goes to the next request, which is
        # judged (skipped or not) as soon as it gets the slot.
        self.state.answered = True
        self.release()
        self.status = status = response.status
        how = ""
        if response.retried:
            how = (" (the kept-alive connection had closed; sent again on a"
                   " new one)")
        elif response.reused:
            how = " (over a kept-alive connection)"
        self.log.append((self.client._reactor.seconds(),
                         f"{response.version} {status} {response.reason}"
                         f"{how}"))
        if status == 200:
            return self.finish(ProbeOutcome.FOUND, body=response.body,
                               sha256=response.sha256)
        if status in _REDIRECT_STATUSES:
            location = response.headers.get("location", "").strip()
            if not location:
                return self.finish(ProbeOutcome.HTTP_ERROR,
                                   f"{status} redirect without a Location.")
            return self.redirect(location)
        if status in _NOT_FOUND_STATUSES:
            return self.finish(ProbeOutcome.NOT_FOUND,
                               f"HTTP {status} {response.reason}.")
        return self.finish(ProbeOutcome.HTTP_ERROR,
                           f"HTTP {status} {response.reason}.")

    def ftp_answered(self, answer):
        self.state.answered = True
        self.release()
        self.status = answer.code
        how = " (over a kept-alive session)" if answer.reused else ""
        self.note(f"{answer.command}: {answer.reply}{how}")
        if answer.found:
            return self.finish(ProbeOutcome.FOUND)
        if answer.command == "LIST" and (answer.code or 0) < 400:
            return self.finish(ProbeOutcome.NOT_FOUND,
                               "Not in its directory's listing.")
        if answer.code in (450, 550) or answer.command == "LIST":
            return self.finish(ProbeOutcome.NOT_FOUND, f"FTP {answer.reply}")
        return self.finish(ProbeOutcome.FTP_ERROR, f"FTP {answer.reply}")

    def rsync_answered(self, answer):
        self.state.answered = True
        self.release()
        self.status = answer.exit_code
        self.note(f"rsync exit {answer.exit_code} from {answer.address}:"
                     f" {answer.reply}")
        if not answer.found:
            return self.finish(ProbeOutcome.NOT_FOUND, answer.reply)
        if self.method == b"GET" and answer.body is None:
            return self.finish(ProbeOutcome.TOO_LARGE,
                               f"{answer.entry.size} bytes.")
        sha256 = None
        if answer.body is not None:
            sha256 = hashlib.sha256(answer.body).hexdigest()
        return self.finish(ProbeOutcome.FOUND, body=answer.body,
                           sha256=sha256)

    def redirect(self, location):
        try:
            url = urljoin(self.current, location)
            scheme = urlsplit(url).scheme.lower()
        except ValueError:
            self.note(f"Bad redirect Location {location!r}")
            return self.finish(ProbeOutcome.PROTOCOL_ERROR,
                               f"bad Location {location[:200]!r}.")
        self.note(f"Redirected to {url}")
        if scheme not in _DEFAULT_PORTS:
            return self.finish(ProbeOutcome.REDIRECT_UNKNOWN_SCHEME,
                               f"Location: {url}")
        if url == self.url or url in self.redirects:
            return self.finish(ProbeOutcome.REDIRECT_LOOP,
                               f"{url} was already visited.")
        if _file_name(url) != _file_name(self.url):
            return self.finish(
                ProbeOutcome.REDIRECT_TO_OTHER_FILE,
                f"asked for {_file_name(self.url)!r}, redirected to"
                f" {_file_name(url)!r}.",
            )
        if len(self.redirects) >= self.client.max_redirects:
            return self.finish(ProbeOutcome.TOO_MANY_REDIRECTS,
                               f"more than {self.client.max_redirects}.")
        self.redirects.append(url)
        self.hop(url)

    def request_failed(self, failure):
        try:
            self.failed(failure, self.site, self.state)
        except Exception:
            self.crashed(Failure())

    def failed(self, failure, site, state):
        # What the failure says about the host is recorded before the slot
        # goes to the next request, which is judged as soon as it gets it.
        if failure.check(RsyncTimeout):
            self.timed_out = True
        if self.timed_out:
            state.timeouts += 1
        elif failure.check(HTTPProtocolError, BodyTooLarge, FTPReplyError,
                           RsyncReplyError):
            # Bytes came back, if not the ones wanted: the host is alive.
            state.answered = True
        self.release()
        message = failure.getErrorMessage()
        if self.timed_out:
            self.note(f"No complete answer within"
                         f" {self.client.timeout:g} s; gave up.")
            return self.finish(ProbeOutcome.TIMEOUT,
                               f"after {self.client.timeout:g} s.")
        problem = _tls_problem(failure)
        if problem is not None:
            if site.scheme == "https":
                state.bad_certificate = problem
            self.note(f"TLS failure with {_site_url(site)}: {problem}.")
            return self.finish(ProbeOutcome.TLS_ERROR, f"{problem}.")
        outcome = ProbeOutcome.CONNECTION_ERROR
        if failure.check(error.ConnectionRefusedError):
            outcome = ProbeOutcome.CONNECTION_REFUSED
        elif failure.check(error.DNSLookupError):
            outcome = ProbeOutcome.DNS_ERROR
        elif failure.check(ConnectionDropped, FTPSessionLost,
                           error.ConnectionLost):
            outcome = ProbeOutcome.CONNECTION_LOST
        elif failure.check(HTTPProtocolError):
            outcome = ProbeOutcome.PROTOCOL_ERROR
        elif failure.check(BodyTooLarge):
            outcome = ProbeOutcome.TOO_LARGE
        elif failure.check(FTPReplyError):
            self.status = failure.value.code
            outcome = ProbeOutcome.FTP_ERROR
        elif failure.check(RsyncReplyError):
            self.status = failure.value.exit_code
            outcome = ProbeOutcome.RSYNC_ERROR
        elif failure.check(RsyncMissing):
            outcome = ProbeOutcome.PROBER_ERROR
        elif not failure.check(error.ConnectError, error.ConnectionClosed):
            log.failure("Unexpected failure probing {url}", failure,
                        url=self.current)
        self.note(f"{outcome.title}: {message}")
        return self.finish(outcome, message)

    def crashed(self, failure):
        self.release()
        log.failure("Probe of {url} crashed", failure, url=self.url)
        self.finish(ProbeOutcome.PROBER_ERROR, failure.getErrorMessage())

    def finish(self, outcome, detail="", body=None, sha256=None):
        if self.finished:
            return
        self.finished = True
        now = self.client._reactor.seconds()
        self.log.append((now, f"{_RESULT_LINES[outcome]} {detail}" if detail
                         else _RESULT_LINES[outcome]))
        result = ProbeResult(
            url=self.url,
            outcome=outcome,
            status=self.status,
            final_url=self.current,
            redirects=tuple(self.redirects),
            started=self.started,
            finished=now,
            log=tuple(self.log),
            detail=detail,
            body=(body if outcome is ProbeOutcome.FOUND and self.keep_body
                  and self.method == b"GET" else None),
            sha256=(sha256 if outcome is ProbeOutcome.FOUND
                    and self.method == b"GET" else None),
            method=_METHODS.get(self.current[:self.current.find(":")]
                                .lower(), self.method.decode()),
        )
        self.client._record(result)
        try:
            self.done(result, *self.done_args)
        except Exception:
            log.failure("Handing on the result of probing {url} failed",
                        url=self.url)
