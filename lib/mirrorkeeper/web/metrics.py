"""/metrics: the mirrors' state in Prometheus' text exposition format
(version 0.0.4), written by hand: a few gauges do not need a library.

    mirrorkeeper_mirrors{distribution,content,status,freshness,listed}
        how many mirrors are in each state;
    mirrorkeeper_mirror_freshness_level{distribution,mirror}
        each mirror's overall freshness as its enum value (1 up to date ...
        7 more than two days behind, 8 unknown);
    mirrorkeeper_mirror_last_probe_timestamp_seconds{distribution,mirror}
        when each probed mirror was last probed;
    mirrorkeeper_mirror_last_probe_duration_seconds{distribution,mirror}
        how long that probe took, read from its log;
    mirrorkeeper_last_probe_timestamp_seconds
        the newest probe of all.
"""

import calendar
from collections import Counter

from mirrorkeeper.scripts.commands.common import enum_label

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"


def _escape(value):
    return str(value).replace("\\", "\\\\").replace("\n", "\\n").replace(
        '"', '\\"')


def _labels(**labels):
    return "{%s}" % ",".join('%s="%s"' % (key, _escape(value))
                             for key, value in labels.items())


def _timestamp(when):
    return calendar.timegm(when.timetuple()) + when.microsecond / 1e6


def exposition(summaries, probes):
    """The text of /metrics for `summaries` (MirrorSummary) and `probes`
    ({mirror id: (date, duration or None)})."""
    lines = []

    def family(name, kind, help_text):
        lines.append("# HELP %s %s" % (name, help_text))
        lines.append("# TYPE %s %s" % (name, kind))

    counts = Counter(
        (s.distribution, enum_label(s.content), enum_label(s.status),
         enum_label(s.freshness),
         "true" if s.listed else "false")
        for s in summaries)
    family("mirrorkeeper_mirrors", "gauge",
           "Mirrors by distribution, content, review status, freshness "
           "and whether users are offered them.")
    for (distribution, content, status, freshness, listed), count in \
            sorted(counts.items()):
        lines.append("mirrorkeeper_mirrors%s %d" % (_labels(
            distribution=distribution, content=content, status=status,
            freshness=freshness, listed=listed), count))
    family("mirrorkeeper_mirror_unreachable", "gauge",
           "1 for each mirror the last trusted probe run could not reach "
           "(left out of the mirror lists), else 0.")
    for s in summaries:
        lines.append("mirrorkeeper_mirror_unreachable%s %d" % (_labels(
            distribution=s.distribution, mirror=s.name), s.unreachable))
    family("mirrorkeeper_mirror_freshness_level", "gauge",
           "Each mirror's overall freshness: 1 up to date ... 7 one week "
           "behind, 8 unknown.")
    for s in summaries:
        lines.append("mirrorkeeper_mirror_freshness_level%s %d" % (_labels(
            distribution=s.distribution, mirror=s.name), s.freshness.value))
    family("mirrorkeeper_mirror_last_probe_timestamp_seconds", "gauge",
           "When each mirror was last probed (Unix time).")
    newest = None
    for s in summaries:
        if s.id in probes:
            date = probes[s.id][0]
            newest = date if newest is None else max(newest, date)
            lines.append(
                "mirrorkeeper_mirror_last_probe_timestamp_seconds%s %.3f"
                % (_labels(distribution=s.distribution, mirror=s.name),
                   _timestamp(date)))
    family("mirrorkeeper_mirror_last_probe_duration_seconds", "gauge",
           "How long each mirror's last probe took.")
    for s in summaries:
        if probes.get(s.id, (None, None))[1] is not None:
            lines.append(
                "mirrorkeeper_mirror_last_probe_duration_seconds%s %.3f"
                % (_labels(distribution=s.distribution, mirror=s.name),
                   probes[s.id][1]))
    family("mirrorkeeper_last_probe_timestamp_seconds", "gauge",
           "The newest probe of any mirror (Unix time).")
    if newest is not None:
        lines.append("mirrorkeeper_last_probe_timestamp_seconds %.3f"
                     % _timestamp(newest))
    return ("\n".join(lines) + "\n").encode("utf-8")
