"""The network phase of a prober run: plans in, reports out.

Everything here runs in the reactor and touches no database: it is given
plain MirrorPlans and a probe client, and produces one plain MirrorReport per
mirror, with the full log of what was asked and what came back.  Persisting
the reports is another step (mirrorkeeper.prober.record).
"""

import secrets
from collections import Counter
from datetime import datetime, timezone
from urllib.parse import urlsplit

import attrs
from twisted.internet import defer
from twisted.python.failure import Failure

from mirrorkeeper.enums import MirrorFreshness
from mirrorkeeper.freshness import freshness_found
from mirrorkeeper.prober.client import site_of
from mirrorkeeper.prober.detectors import judge, sync_marker_url
from mirrorkeeper.enums import ProbeOutcome
from mirrorkeeper.prober.result import format_log
from mirrorkeeper.timeutil import as_utc

# Outcomes that say the network, not the mirror, failed: nothing came back
# from the mirror.  A mirror whose every probe ends like this is
# unreachable, and when most mirrors of a run are, the prober itself is cut
# off.  (A TLS failure is the mirror's: it answered, with a certificate we
# cannot trust.)
NETWORK_FAILURES = frozenset([
    ProbeOutcome.TIMEOUT, ProbeOutcome.CONNECTION_REFUSED,
    ProbeOutcome.CONNECTION_ERROR, ProbeOutcome.CONNECTION_LOST,
    ProbeOutcome.DNS_ERROR, ProbeOutcome.HOST_SKIPPED,
])

# What a protocol's probe of a path that cannot exist may end with and
# still leave that protocol unusable: nothing trustworthy came back.
UNUSABLE = NETWORK_FAILURES | {
    ProbeOutcome.TLS_ERROR, ProbeOutcome.FORBIDDEN_ADDRESS,
    ProbeOutcome.INVALID_URL, ProbeOutcome.PROBER_ERROR}


# The content checks of one mirror in progress at once: each asks for its
# index file, then for the files telling its freshness; four times the
# per-host limit keeps the host's slots busy.
CHECKS_AT_ONCE = 8


def absent_path_name(token):
    """The name of the file asked for to see whether a mirror answers 200
    for anything: no archive has it."""
    return "mirrorkeeper-absent-%s" % (token,)


@attrs.frozen
class ContentFinding:
    """What a mirror answered for one ContentCheck: `found` is True, False,
    or None when the network failed before the mirror could say (then
    what was known of the place stays as it was, with its freshness
    unknown); `outcome` is how the probe of the index file ended."""

    check: object
    found: bool | None
    freshness: MirrorFreshness
    outcome: ProbeOutcome = ProbeOutcome.FOUND


@attrs.frozen
class CDImageFinding:
    """`found` as for ContentFinding: None when a missing image failed at
    the network level."""

    check: object
    found: bool | None
    missing: tuple


@attrs.frozen
class ReleaseFinding:
    """What a mirror served for a ReleaseCheck: the SHA-256 of its copy,
    or None when it served none that counts (missing, or larger than a
    control file may be: not the master's).  `found` is None when the
    network failed before the mirror could say: what it holds is then
    unknown, which is not "different"."""

    check: object
    found: bool | None
    sha256: str | None
    outcome: ProbeOutcome
    note: str


def release_finding(check, result):
    """The ReleaseFinding of `check` given the ProbeResult of its GET."""
    if result.outcome in NETWORK_FAILURES:
        return ReleaseFinding(check, None, None, result.outcome, "%s: "
                              "unknown, %s" % (check.label, result.message))
    if result.outcome is ProbeOutcome.TOO_LARGE:
        return ReleaseFinding(check, True, None, result.outcome, "%s: "
                              "larger than %d bytes, refused as not the "
                              "master's" % (check.label, check.max_size))
    if not result.found:
        return ReleaseFinding(check, False, None, result.outcome, "%s: %s"
                              % (check.label, result.message))
    digest = result.sha256
    return ReleaseFinding(check, True, digest, result.outcome, "%s has "
                          "SHA-256 %s: %s" % (
                              check.label, digest[:16],
                              "the master's current one"
                              if digest == check.current
                              else "not the master's current one"))


@attrs.frozen
class MirrorReport:
    """Everything one mirror's probe learnt, ready to be recorded."""

    plan: object
    content_findings: tuple
    cdimage_findings: tuple
    detector_findings: tuple
    log: str
    requests: int
    outcomes: dict
    # (answered over IPv4, answered over IPv6), as measured, or None.
    address_families: tuple | None = None
    # Seconds between the log's first line and its last, to the
    # millisecond as the log stamps them (what a reader of the log would
    # work out), or None if the clock went backwards.
    duration_seconds: float | None = None
    # {scheme: ProbeOutcome of asking that URL for a path that cannot
    # exist}, for each of the mirror's URLs.
    protocols: dict = attrs.Factory(dict)
    # The base URL the content was probed at.
    base_url: str = ""
    # The URL of a path that cannot exist that the mirror answered 200 for,
    # or "": a mirror that does so proves nothing by its 200s.
    lies: str = ""
    # The detector findings made without an answer (the network failed):
    # their indexes in detector_findings.
    unobserved_detectors: frozenset = frozenset()
    # The ReleaseFindings of the plan's release checks.
    release_findings: tuple = ()

    @property
    def carries_anything(self):
        if self.lies:
            return False
        return any(finding.found for finding in self.content_findings) or \
            any(finding.found for finding in self.cdimage_findings) or \
            any(finding.found and finding.check.rpm_repository_id
                for finding in self.detector_findings)

    @property
    def unreachable(self):
        """True when every request failed at the network level."""
        return self.requests > 0 and sum(
            count for outcome, count in self.outcomes.items()
            if outcome in NETWORK_FAILURES) == self.requests


def rebased(url, old_base, new_base):
    """`url`, under `old_base`, moved under `new_base`."""
    if new_base == old_base or not url.startswith(old_base):
        return url
    return new_base + url[len(old_base):]


def _beside(url, name):
    """The URL of `name` in the directory of `url`."""
    return url[:url.rindex("/") + 1] + name


class _MirrorProbe:
    """Probes one mirror's plan and collects its log."""

    def __init__(self, client, plan, clock, token):
        self.client = client
        self.plan = plan
        self.clock = clock
        self.token = token
        # (seconds, text), formatted once the report is made.
        self.log = []
        self.requests = 0
        self.outcomes = {}
        self.base_url = plan.base_url

    def note(self, text):
        """Log `text` stamped with the clock's time; return that time."""
        now = self.clock.seconds()
        self.log.append((now, text))
        return now

    def _record(self, result):
        self.requests += 1
        self.outcomes[result.outcome] = \
            self.outcomes.get(result.outcome, 0) + 1
        self.log.extend(result.log)
        return result

    def url(self, url):
        """`url` of the plan, at the base URL being probed."""
        return rebased(url, self.plan.base_url, self.base_url)

    def probe(self, url):
        return self.probe_all((url,)).addCallback(lambda results: results[0])

    def probe_all(self, urls):
        """Probe `urls` at once: a Deferred firing with their results, in
        order, once all are in (or failing with the first failure, wrapped
        in a FirstError, as gatherResults does)."""
        base, probed = self.plan.base_url, self.base_url
        if probed != base:
            urls = [rebased(url, base, probed) for url in urls]
        return _Gathered(self.client, urls, self._record).deferred

    def absent_url(self, base_url):
        """A URL beside the first file the plan asks for, at `base_url`,
        of a file that cannot exist."""
        first = next(iter(self.plan.urls), self.plan.base_url)
        return _beside(rebased(first, self.plan.base_url, base_url),
                       absent_path_name(self.token))

    @defer.inlineCallbacks
    def choose_protocol(self):
        """Ask each of the mirror's URLs for a file that cannot exist.
        Fires with ({scheme: outcome}, the base URL to probe the content
        at or None if none answered, the URL a lying mirror answered 200
        for or "")."""
        bases = self.plan.base_urls
        # Asked before self.base_url moves: these URLs are absolute.
        results = yield self.probe_all(
            [self.absent_url(base) for _, base in bases])
        protocols, chosen, lies = {}, None, ""
        for (scheme, base), result in zip(bases, results):
            protocols[scheme] = result.outcome
            if result.found:
                lies = lies or result.url
                self.note("%s answered 200 for %s, a file that cannot "
                          "exist: its answers prove nothing"
                          % (base, result.url))
            elif result.outcome not in UNUSABLE and chosen is None:
                chosen = base
        if chosen is not None:
            lies = ""
            if chosen != self.plan.base_url:
                self.note("%s cannot be used (%s): probing %s instead" % (
                    self.plan.base_url,
                    protocols[self.plan.base_urls[0][0]].title, chosen))
        return protocols, chosen, lies

    def check_content(self, check):
        """A Deferred firing with the ContentFinding of `check`."""
        return _ContentChecked(self, check).deferred

    def check_cdimage(self, check):
        def probed(results):
            missing = tuple(result.url for result in results
                            if not result.found)
            if any(result.outcome in NETWORK_FAILURES for result in results):
                return CDImageFinding(check, None, missing)
            return CDImageFinding(check, not missing, missing)

        return self.probe_all(check.urls).addCallback(probed)

    @defer.inlineCallbacks
    def check_detectors(self):
        checks = tuple(attrs.evolve(check, url=self.url(check.url))
                       for check in self.plan.detector_checks)
        if not checks:
            return (), frozenset()
        marker = yield self.probe(sync_marker_url(self.base_url))
        if marker.found:
            self.note("The mirror is syncing: %s is there" % (marker.url,))
        # A control file is judged by its SHA-256 alone: its body is let
        # go as it arrives.
        results = yield defer.gatherResults([
            self.client.fetch(check.url, check.max_size,
                              keep_body=check.kind == "time").addCallback(
                self._record) for check in checks])
        now = as_utc(datetime.fromtimestamp(self.clock.seconds(),
                                            timezone.utc))
        findings = tuple(judge(check, result, now, marker.found)
                         for check, result in zip(checks, results))
        unobserved = frozenset(
            index for index, result in enumerate(results)
            if result.outcome in NETWORK_FAILURES)
        for finding in findings:
            self.note("%s detector: %s" % (finding.check.detector,
                                           finding.note))
        return findings, unobserved

    def check_releases(self):
        """A Deferred firing with the ReleaseFindings of the plan.  Each
        copy is hashed as it arrives and never kept: a mirror's InRelease
        files add up to megabytes, and a hostile one may send each at the
        largest size allowed."""
        def fetched(result, check):
            finding = release_finding(check, self._record(result))
            self.note("Release copy: %s" % (finding.note,))
            return finding

        return defer.gatherResults([
            self.client.fetch(self.url(check.url), check.max_size,
                              keep_body=False).addCallback(fetched, check)
            for check in self.plan.release_checks]).addCallback(tuple)

    @defer.inlineCallbacks
    def run(self):
        plan = self.plan
        started = self.note("Probing %s (%s) at %s" % (
            plan.name, plan.content.title, plan.base_url))
        if plan.bands_as_of is not None:
            self.note("Freshness is judged by the uploads the master had "
                      "published as of %s" % (
                          bands_timestamp(plan.bands_as_of),))
        protocols, chosen, lies = yield self.choose_protocol()
        content = images = detected = releases = ()
        unobserved = frozenset()
        if lies:
            self.note("Carries nothing: a mirror that answers 200 for a file "
                      "that cannot exist proves nothing by its answers")
        else:
            self.base_url = chosen or plan.base_url
            content = yield _InTurn(plan.content_checks, self.check_content,
                                    CHECKS_AT_ONCE).deferred
            images = yield defer.gatherResults(
                [self.check_cdimage(check) for check in plan.cdimage_checks])
            detected, unobserved = yield self.check_detectors()
            releases = yield self.check_releases()
        for finding in content:
            if finding.found:
                self.note("Carries %s: %s" % (finding.check.label,
                                              finding.freshness.name))
            elif finding.found is None:
                self.note("Cannot tell whether it carries %s: %s" % (
                    finding.check.label, finding.outcome.message))
            else:
                self.note("Does not carry %s" % (finding.check.label,))
        for finding in images:
            check = finding.check
            if finding.found:
                self.note("Carries the %s images of %s" % (
                    check.flavour, check.series_name))
            else:
                self.note("%s %d of the %d %s images of %s" % (
                    "Could not check" if finding.found is None else "Lacks",
                    len(finding.missing), len(check.urls), check.flavour,
                    check.series_name))
        finished = self.note("Done: %d requests" % (self.requests,))
        families = self.client.address_families(
            urlsplit(self.base_url).hostname or "")
        if families is not None:
            families = (families.ipv4, families.ipv6)
        return MirrorReport(plan, tuple(content), tuple(images), detected,
                            "\n".join(format_log(self.log)) + "\n",
                            self.requests,
                            dict(self.outcomes), families,
                            logged_duration(started, finished),
                            protocols=protocols, base_url=self.base_url,
                            lies=lies, unobserved_detectors=unobserved,
                            release_findings=releases)


class _ContentChecked:
    """The ContentFinding of `check` for `probe` (a _MirrorProbe): its
    control file is probed first, then, if it is there, its freshness
    files at once.  `deferred` fires with the finding, or fails if
    recording or judging a result raised.  This is what probe(), then
    probe_all() from its callback, did, with one Deferred where they
    made four and chained two: a mirror makes one for each of its
    places, sixty and more."""

    def __init__(self, probe, check):
        self.deferred = defer.Deferred()
        self.probe = probe
        self.check = check
        self.results = []
        self.waiting = 0
        probe.client.probe_then(probe.url(check.control_url),
                                self.control_probed)

    def control_probed(self, control):
        check, probe = self.check, self.probe
        try:
            control = probe._record(control)
            if control.outcome in NETWORK_FAILURES:
                # Whether it is carried the network did not let us see.
                return self.deferred.callback(ContentFinding(
                    check, None, MirrorFreshness.UNKNOWN, control.outcome))
            if not control.found:
                return self.deferred.callback(ContentFinding(
                    check, False, MirrorFreshness.UNKNOWN, control.outcome))
            urls = [probe.url(url) for url in check.freshness_urls.values()]
        except Exception:
            return self.failed()
        if not urls:
            return self.judge()
        self.results = [None] * len(urls)
        self.waiting = len(urls)
        for index, url in enumerate(urls):
            probe.client.probe_then(url, self.freshness_probed, index)

    def freshness_probed(self, result, index):
        if self.deferred.called:
            return
        try:
            self.results[index] = self.probe._record(result)
        except Exception:
            return self.failed()
        self.waiting -= 1
        if not self.waiting:
            self.judge()

    def judge(self):
        check, results = self.check, self.results
        try:
            if any(result.outcome in NETWORK_FAILURES for result in results):
                # Carried, but how fresh the network did not let us see.
                finding = ContentFinding(check, True, MirrorFreshness.UNKNOWN)
            else:
                found = {result.url for result in results if result.found}
                finding = ContentFinding(check, True, freshness_found(
                    {band: self.probe.url(url)
                     for band, url in check.freshness_urls.items()}, found))
        except Exception:
            return self.failed()
        self.deferred.callback(finding)

    def failed(self):
        if not self.deferred.called:
            self.deferred.errback(Failure())


class _Gathered:
    """What gatherResults does for the probes of one check, without a
    Deferred per probe: C{deferred} fires with the results of probing
    `urls` with `client` (an IProbeClient), each passed through `each`
    first, in order; or fails, with a FirstError, if `each` raises."""

    def __init__(self, client, urls, each):
        self.deferred = defer.Deferred()
        self.results = [None] * len(urls)
        self.waiting = len(urls)
        self.each = each
        if not urls:
            self.deferred.callback([])
        for index, url in enumerate(urls):
            client.probe_then(url, self.one, index)

    def one(self, result, index):
        try:
            result = self.each(result)
        except Exception:
            return self.failed(Failure(), index)
        self.results[index] = result
        self.waiting -= 1
        if not self.waiting and not self.deferred.called:
            self.deferred.callback(self.results)

    def failed(self, failure, index):
        if not self.deferred.called:
            self.deferred.errback(defer.FirstError(failure, index))


class _InTurn:
    """What gatherResults([work(item) for item in items]) does, with at
    most `at_once` of the works started and not done at a time, in order:
    a mirror's probes are made as its host can take them, not all at once
    (a waiting probe is a few objects more for the garbage collector to
    go through, and memory, for each of the mirrors in flight).
    C{deferred} fires with the results in the order of `items`, or fails
    with the first failure wrapped in a FirstError."""

    def __init__(self, items, work, at_once):
        self.deferred = defer.Deferred()
        self.items = tuple(items)
        self.results = [None] * len(self.items)
        self.work = work
        self.at_once = max(1, at_once)
        self.started = self.running = 0
        self.starting = False
        if not self.items:
            self.deferred.callback([])
        else:
            self.start()

    def start(self):
        if self.starting:
            # A work that ended at once: the loop below goes on.
            return
        self.starting = True
        try:
            while self.started < len(self.items) and \
                    self.running < self.at_once and not self.deferred.called:
                index = self.started
                self.started += 1
                self.running += 1
                try:
                    d = self.work(self.items[index])
                except Exception:
                    d = defer.fail()
                d.addCallbacks(self.one, self.failed, (index,), None,
                               (index,))
        finally:
            self.starting = False

    def one(self, result, index):
        self.results[index] = result
        self.running -= 1
        if self.started == len(self.items) and not self.running:
            if not self.deferred.called:
                self.deferred.callback(self.results)
        else:
            self.start()

    def failed(self, failure, index):
        self.running -= 1
        if not self.deferred.called:
            self.deferred.errback(defer.FirstError(failure, index))


def bands_timestamp(when):
    """How the log and the findings say `when` (a zoneless UTC datetime),
    the instant a plan's freshness bands were told at."""
    return when.isoformat(timespec="milliseconds") + "Z"


def logged_duration(started, finished):
    """Seconds from `started` to `finished` (POSIX times) as the log's
    timestamps tell them, each cut to the millisecond, or None if the
    clock went backwards."""
    def stamped(seconds):
        moment = datetime.fromtimestamp(seconds, timezone.utc)
        return moment.replace(microsecond=moment.microsecond // 1000 * 1000)
    taken = (stamped(finished) - stamped(started)).total_seconds()
    return taken if taken >= 0 else None


def probe_mirror(client, plan, clock, token=None):
    """Probe one mirror: a Deferred firing with its MirrorReport.  `token`
    names the file that cannot exist (default: a new random one)."""
    return _MirrorProbe(client, plan, clock,
                        token or secrets.token_hex(8)).run()


def _sites_of(plan):
    """The sites a plan's mirror is probed on, each with its URL there."""
    sites = {site_of(url): url for _, url in plan.base_urls}
    sites.pop(None, None)
    return sites


def probe_mirrors(client, plans, clock, mirrors_in_flight=50,
                  on_report=None, limit=None):
    """Probe every plan, at most `mirrors_in_flight` mirrors at once (the
    client's own limits bound the requests; this bounds the memory of the
    requests waiting for them and of the reports not yet handed on), or as
    `limit` (a DeferredSemaphore shared with other calls) lets.

    Fires with the MirrorReports in the order of `plans`, or, given
    `on_report`, with what it returns for each report as the report
    completes (a value or a Deferred), so that a caller can hand each
    report on and keep only what it needs of it.  If `on_report` fails, the
    result fails at once with a FirstError wrapping that failure.
    """
    if limit is None:
        limit = defer.DeferredSemaphore(max(1, mirrors_in_flight))
    # One name a run: a server that answers 200 for anything cannot have
    # learnt it, and the farm of a benchmark sees one path, not K.
    token = secrets.token_hex(8)
    # The plans still to finish on each site: once a site has none, the
    # client lets it go (mirrors sharing a site come in one call).
    users = Counter(site for plan in plans for site in _sites_of(plan))

    def finished(result, plan):
        done = []
        for site, url in _sites_of(plan).items():
            users[site] -= 1
            if not users[site]:
                del users[site]
                done.append(url)
        if done:
            client.forget(done)
        return result

    def probed(plan):
        d = probe_mirror(client, plan, clock, token)
        d.addBoth(finished, plan)
        if on_report is not None:
            d.addCallback(on_report)
        return d

    def one(plan):
        # A mirror keeps its place until `on_report` is done with its
        # report (written, say): a writer slower than the network holds
        # the probing back, instead of reports piling up in memory.
        return limit.run(probed, plan)

    # The first failure fails the whole; the others are consumed here, not
    # left to be reported as unhandled whenever they are collected.
    return defer.gatherResults([one(plan) for plan in plans],
                               consumeErrors=True)
