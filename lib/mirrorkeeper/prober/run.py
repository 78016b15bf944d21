"""The network phase of a prober run: plans in, reports out.

Everything here runs in the reactor and touches no database: it is given
plain MirrorPlans and a probe client, and produces one plain MirrorReport per
mirror, with the full log of what was asked and what came back.  Persisting
the reports is another step (mirrorkeeper.prober.record).
"""

from datetime import datetime, timezone
from urllib.parse import urlsplit

import attrs
from twisted.internet import defer
from twisted.python.failure import Failure

from mirrorkeeper.enums import MirrorFreshness
from mirrorkeeper.freshness import freshness_found
from mirrorkeeper.prober.detectors import judge, sync_marker_url
from mirrorkeeper.prober.result import ProbeOutcome, format_timestamp
from mirrorkeeper.timeutil import as_utc

# Outcomes that say the network, not the mirror's content, failed: when
# nearly every probe of a run ends like this, the prober itself is cut off.
NETWORK_FAILURES = frozenset([
    ProbeOutcome.TIMEOUT, ProbeOutcome.CONNECTION_REFUSED,
    ProbeOutcome.DNS_ERROR, ProbeOutcome.HOST_SKIPPED,
])


@attrs.frozen
class ContentFinding:
    """What a mirror answered for one ContentCheck."""

    check: object
    found: bool
    freshness: MirrorFreshness


@attrs.frozen
class CDImageFinding:
    check: object
    found: bool
    missing: tuple


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
    # (has IPv4, has IPv6) of the mirror's host, or None if not resolved.
    address_families: tuple | None = None
    # Seconds between the log's first line and its last, to the
    # millisecond as the log stamps them (what a reader of the log would
    # work out), or None if the clock went backwards.
    duration_seconds: float | None = None

    @property
    def carries_anything(self):
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


class _MirrorProbe:
    """Probes one mirror's plan and collects its log."""

    def __init__(self, client, plan, clock):
        self.client = client
        self.plan = plan
        self.clock = clock
        self.lines = []
        self.requests = 0
        self.outcomes = {}

    def note(self, text):
        """Log `text` stamped with the clock's time; return that time."""
        now = self.clock.seconds()
        self.lines.append("%s %s" % (format_timestamp(now), text))
        return now

    def _record(self, result):
        self.requests += 1
        self.outcomes[result.outcome] = \
            self.outcomes.get(result.outcome, 0) + 1
        self.lines.extend(result.log_lines)
        return result

    def probe(self, url):
        return self.client.probe(url).addCallback(self._record)

    def probe_all(self, urls):
        """Probe `urls` at once: a Deferred firing with their results, in
        order, once all are in (or failing with the first failure, wrapped
        in a FirstError, as gatherResults does)."""
        return _Gathered(
            [self.client.probe(url) for url in urls], self._record).deferred

    def check_content(self, check):
        def control_probed(control):
            if not control.found:
                return ContentFinding(check, False, MirrorFreshness.UNKNOWN)
            return self.probe_all(check.freshness_urls.values()).addCallback(
                freshness_probed)

        def freshness_probed(results):
            found = {result.url for result in results if result.found}
            return ContentFinding(
                check, True, freshness_found(check.freshness_urls, found))

        return self.probe(check.control_url).addCallback(control_probed)

    def check_cdimage(self, check):
        def probed(results):
            missing = tuple(result.url for result in results
                            if not result.found)
            return CDImageFinding(check, not missing, missing)

        return self.probe_all(check.urls).addCallback(probed)

    @defer.inlineCallbacks
    def check_detectors(self):
        checks = self.plan.detector_checks
        if not checks:
            return ()
        marker = yield self.probe(sync_marker_url(self.plan.base_url))
        if marker.found:
            self.note("The mirror is syncing: %s is there" % (marker.url,))
        results = yield defer.gatherResults([
            self.client.fetch(check.url, check.max_size).addCallback(
                self._record) for check in checks])
        now = as_utc(datetime.fromtimestamp(self.clock.seconds(),
                                            timezone.utc))
        findings = tuple(judge(check, result, now, marker.found)
                         for check, result in zip(checks, results))
        for finding in findings:
            self.note("%s detector: %s" % (finding.check.detector,
                                           finding.note))
        return findings

    @defer.inlineCallbacks
    def run(self):
        plan = self.plan
        started = self.note("Probing %s (%s) at %s" % (
            plan.name, plan.content.title, plan.base_url))
        content = yield defer.gatherResults(
            [self.check_content(check) for check in plan.content_checks])
        images = yield defer.gatherResults(
            [self.check_cdimage(check) for check in plan.cdimage_checks])
        detected = yield self.check_detectors()
        for finding in content:
            if finding.found:
                self.note("Carries %s: %s" % (finding.check.label,
                                              finding.freshness.name))
            else:
                self.note("Does not carry %s" % (finding.check.label,))
        for finding in images:
            check = finding.check
            if finding.found:
                self.note("Carries the %s images of %s" % (
                    check.flavour, check.series_name))
            else:
                self.note("Lacks %d of the %d %s images of %s" % (
                    len(finding.missing), len(check.urls), check.flavour,
                    check.series_name))
        finished = self.note("Done: %d requests" % (self.requests,))
        families = self.client.address_families(
            urlsplit(plan.base_url).hostname or "")
        if families is not None:
            families = (families.ipv4, families.ipv6)
        return MirrorReport(plan, tuple(content), tuple(images), detected,
                            "\n".join(self.lines) + "\n", self.requests,
                            dict(self.outcomes), families,
                            logged_duration(started, finished))


class _Gathered:
    """What gatherResults does for the probes of one check, with one
    counter instead of a DeferredList: C{deferred} fires with the results
    of `deferreds`, each passed through `each` first, in order."""

    def __init__(self, deferreds, each):
        self.deferred = defer.Deferred()
        self.results = [None] * len(deferreds)
        self.waiting = len(deferreds)
        self.each = each
        if not deferreds:
            self.deferred.callback([])
        for index, d in enumerate(deferreds):
            d.addCallbacks(self.one, self.failed, (index,), None, (index,))

    def one(self, result, index):
        try:
            result = self.each(result)
        except Exception:
            return self.failed(Failure(), index)
        self.results[index] = result
        self.waiting -= 1
        if not self.waiting and not self.deferred.called:
            self.deferred.callback(self.results)
        return result

    def failed(self, failure, index):
        if not self.deferred.called:
            self.deferred.errback(defer.FirstError(failure, index))
        return failure


def logged_duration(started, finished):
    """Seconds from `started` to `finished` (POSIX times) as the log's
    timestamps tell them, each cut to the millisecond, or None if the
    clock went backwards."""
    def stamped(seconds):
        moment = datetime.fromtimestamp(seconds, timezone.utc)
        return moment.replace(microsecond=moment.microsecond // 1000 * 1000)
    taken = (stamped(finished) - stamped(started)).total_seconds()
    return taken if taken >= 0 else None


def probe_mirror(client, plan, clock):
    """Probe one mirror: a Deferred firing with its MirrorReport."""
    return _MirrorProbe(client, plan, clock).run()


def probe_mirrors(client, plans, clock, mirrors_in_flight=50,
                  on_report=None):
    """Probe every plan, at most `mirrors_in_flight` mirrors at once (the
    client's own limits bound the requests; this bounds the memory of the
    requests waiting for them).

    Fires with the MirrorReports in the order of `plans`, or, given
    `on_report`, with what it returns for each report as the report
    completes (a value or a Deferred), so that a caller can hand each
    report on and keep only what it needs of it.
    """
    limit = defer.DeferredSemaphore(max(1, mirrors_in_flight))

    def one(plan):
        d = limit.run(probe_mirror, client, plan, clock)
        if on_report is not None:
            d.addCallback(on_report)
        return d

    return defer.gatherResults([one(plan) for plan in plans])
