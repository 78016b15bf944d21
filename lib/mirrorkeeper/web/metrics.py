"""/metrics: the mirrors' state and the prober's last runs for
Prometheus, in the text exposition format 0.0.4, written by the client
library (prometheus_client) from a registry made for each scrape.

    mirrorkeeper_mirrors{distribution,content,status,freshness,listed}
        how many mirrors are in each state;
    mirrorkeeper_mirror_unreachable{distribution,mirror}
        1 for a mirror the last trusted probe run could not reach;
    mirrorkeeper_mirror_freshness_level{distribution,mirror}
        each mirror's overall freshness as its enum value (1 up to date ...
        7 more than two days behind, 8 unknown);
    mirrorkeeper_mirror_lag_seconds{distribution,mirror}
        each mirror's lag behind the master as measured (trace files,
        planted timestamps), absent when no detector measured one;
    mirrorkeeper_mirror_last_probe_timestamp_seconds{distribution,mirror}
        when each probed mirror was last probed;
    mirrorkeeper_mirror_last_probe_duration_seconds{distribution,mirror}
        how long that probe took, as the prober recorded it;
    mirrorkeeper_last_probe_timestamp_seconds
        the newest probe of all;
    mirrorkeeper_prober_last_run_*{content}
        the newest judged prober run of each --content-type (archive,
        cdimage): its start and verdict times (_started_timestamp_seconds,
        _judged_timestamp_seconds), _duration_seconds from start to
        verdict, _distrusted (1 when nothing it found took effect),
        _mirrors, _unreachable_mirrors, _requests, and
        _failures{content,kind} by ProbeOutcome name.  Counts are absent
        for runs judged before schema patch 0011.

read(store) gathers what exposition() needs, in the database thread: each
mirror's state from the read model (mirrorkeeper.model.mirrorstate), the
same the pages, the API and the snapshot show.
"""

import calendar
from dataclasses import dataclass, field

from prometheus_client import CollectorRegistry
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.exposition import (
    CONTENT_TYPE_PLAIN_0_0_4, generate_latest)
from storm.expr import Desc

from mirrorkeeper.enums import MirrorContent
from mirrorkeeper.mirrorjson import enum_label
from mirrorkeeper.model.mirrorcontent import ProberRunRecord
from mirrorkeeper.model.mirrorstate import states_where

CONTENT_TYPE = CONTENT_TYPE_PLAIN_0_0_4

# The content label of the prober's runs: its --content-type.
_PROBER_CONTENT = {MirrorContent.ARCHIVE: "archive",
                   MirrorContent.RELEASE: "cdimage"}


def _timestamp(when):
    return calendar.timegm(when.timetuple()) + when.microsecond / 1e6


@dataclass
class MetricsData:
    """Everything /metrics tells, read from the database at once."""

    # [IMirrorState] of every mirror, from the read model.
    states: list
    # [ProberRunFacts]: the newest judged run of each content type.
    runs: list = field(default_factory=list)


@dataclass(frozen=True)
class ProberRunFacts:
    """A judged prober run as /metrics tells it: plain values, read in the
    database thread and used outside it."""

    content: MirrorContent
    date_started: object
    date_judged: object
    duration_seconds: float
    trusted: bool
    probed: int | None
    requests: int | None
    unreachable: int | None
    failures: dict | None

    @classmethod
    def of(cls, run):
        return cls(run.content, run.date_started, run.date_judged,
                   run.duration_seconds, bool(run.trusted), run.probed,
                   run.requests, run.unreachable, run.failures)


def last_prober_runs(store):
    """[ProberRunFacts] of the newest judged run of each content type."""
    runs = []
    for content in MirrorContent:
        run = store.find(
            ProberRunRecord, ProberRunRecord.content == content,
            ProberRunRecord.date_judged != None).order_by(  # noqa: E711
                Desc(ProberRunRecord.date_judged),
                Desc(ProberRunRecord.id)).first()
        if run is not None:
            runs.append(ProberRunFacts.of(run))
    return runs


def read(store):
    """The MetricsData of every mirror (run in the database thread)."""
    return MetricsData(states_where(store), last_prober_runs(store))


class _Collector:
    def __init__(self, data):
        self.data = data

    def collect(self):
        data = self.data
        summaries = data.states
        per_mirror = ["distribution", "mirror"]

        def gauge(name, help_text, labels=()):
            return GaugeMetricFamily(name, help_text, labels=list(labels))

        counts = {}
        for s in summaries:
            key = (s.distribution, enum_label(s.content),
                   enum_label(s.status), enum_label(s.freshness),
                   "true" if s.listed else "false")
            counts[key] = counts.get(key, 0) + 1
        family = gauge("mirrorkeeper_mirrors", "Mirrors by distribution, "
                       "content, review status, freshness and whether users "
                       "are offered them.", ["distribution", "content",
                                             "status", "freshness",
                                             "listed"])
        for key, count in sorted(counts.items()):
            family.add_metric(list(key), count)
        yield family

        family = gauge("mirrorkeeper_mirror_unreachable", "1 for each mirror "
                       "the last trusted probe run could not reach (left out "
                       "of the mirror lists), else 0.", per_mirror)
        for s in summaries:
            family.add_metric([s.distribution, s.name], int(s.unreachable))
        yield family

        family = gauge("mirrorkeeper_mirror_freshness_level", "Each mirror's "
                       "overall freshness: 1 up to date ... 7 more than two "
                       "days behind, 8 unknown.", per_mirror)
        for s in summaries:
            family.add_metric([s.distribution, s.name], s.freshness.value)
        yield family

        family = gauge("mirrorkeeper_mirror_lag_seconds", "Each mirror's lag "
                       "behind the master as its detectors measured it.",
                       per_mirror)
        for s in summaries:
            if s.measured_lag_seconds is not None:
                family.add_metric([s.distribution, s.name],
                                  s.measured_lag_seconds)
        yield family

        family = gauge("mirrorkeeper_mirror_last_probe_timestamp_seconds",
                       "When each mirror was last probed (Unix time).",
                       per_mirror)
        newest = None
        for s in summaries:
            if s.last_probe is not None:
                date = s.last_probe
                newest = date if newest is None else max(newest, date)
                family.add_metric([s.distribution, s.name], _timestamp(date))
        yield family

        family = gauge("mirrorkeeper_mirror_last_probe_duration_seconds",
                       "How long each mirror's last probe took.", per_mirror)
        for s in summaries:
            if s.last_probe_duration is not None:
                family.add_metric([s.distribution, s.name],
                                  s.last_probe_duration)
        yield family

        family = gauge("mirrorkeeper_last_probe_timestamp_seconds",
                       "The newest probe of any mirror (Unix time).")
        if newest is not None:
            family.add_metric([], _timestamp(newest))
        yield family

        yield from self._runs(data.runs)

    def _runs(self, runs):
        prefix = "mirrorkeeper_prober_last_run_"
        families = {}

        def add(name, help_text, content, value, kind=None):
            labels = ["content"] + (["kind"] if kind is not None else [])
            if name not in families:
                families[name] = GaugeMetricFamily(prefix + name, help_text,
                                                   labels=labels)
            families[name].add_metric(
                [content] + ([kind] if kind is not None else []), value)

        for run in runs:
            content = _PROBER_CONTENT[run.content]
            add("started_timestamp_seconds", "When the newest judged prober "
                "run started (Unix time).", content,
                _timestamp(run.date_started))
            add("judged_timestamp_seconds", "When it was judged (Unix "
                "time).", content, _timestamp(run.date_judged))
            add("duration_seconds", "Seconds from its start to its "
                "verdict.", content, run.duration_seconds)
            add("distrusted", "1 when the run was distrusted: nothing it "
                "found took effect.", content, 0 if run.trusted else 1)
            if run.probed is not None:
                add("mirrors", "Mirrors it probed.", content, run.probed)
            if run.unreachable is not None:
                add("unreachable_mirrors", "Mirrors it could not reach at "
                    "the network level.", content, run.unreachable)
            if run.requests is not None:
                add("requests", "Requests it made.", content, run.requests)
            failures = run.failures
            if failures is not None:
                # Present, at 0, for a run without failures.
                families.setdefault("failures", GaugeMetricFamily(
                    prefix + "failures", "Its requests that did not find "
                    "what they asked for, by outcome.",
                    labels=["content", "kind"]))
                for kind, count in sorted(failures.items()):
                    add("failures", "", content, count, kind)
        yield from families.values()


def exposition(data):
    """The text of /metrics for `data`, a MetricsData (see read())."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(_Collector(data))
    return generate_latest(registry)
