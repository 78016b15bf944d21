"""mirrorkeeper-check-mirror: a Nagios/Icinga plugin asking mirrorkeeper's
web API how one mirror, or every mirror, is doing.

    mirrorkeeper-check-mirror --api http://mirrors.example.org/api/1/ \\
        --mirror mirror-br-1 -w 1d -c 2d

It follows the plugin conventions: one status line on standard output,
``SERVICE STATUS - text | perfdata``, and exit 0 (OK), 1 (WARNING),
2 (CRITICAL) or 3 (UNKNOWN: the check itself could not be made).  A mirror
is CRITICAL when it is disabled or its lag passes -c, WARNING when its lag
passes -w or is not known; the lag, in seconds, is the perfdata.  Without
--mirror, every mirror is checked and the worst status is the plugin's.
"""

import argparse
import json
import re
import sys
import urllib.error
import urllib.parse
import urllib.request

OK, WARNING, CRITICAL, UNKNOWN = 0, 1, 2, 3
STATUS_NAMES = {OK: "OK", WARNING: "WARNING", CRITICAL: "CRITICAL",
                UNKNOWN: "UNKNOWN"}
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
_DURATION = re.compile(r"^(\d+(?:\.\d+)?)([smhdw]?)$")


def parse_duration(text):
    """Seconds in '90', '90s', '30m', '6h', '1d' or '1w'; ValueError
    otherwise."""
    match = _DURATION.match(text.strip().lower())
    if not match:
        raise ValueError("%r is not a duration such as 3600, 6h or 1d"
                         % (text,))
    return int(float(match.group(1)) * _UNITS[match.group(2) or "s"])


def describe_lag(seconds):
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size:
            return "%.1f%s" % (seconds / size, unit)
    return "%ds" % (seconds,)


def perf_seconds(seconds):
    """A perfdata value in seconds; U (the plugin guidelines' "unknown")
    when the lag is not known, since an empty value is not valid
    perfdata and graphs it as zero."""
    return "U" if seconds is None else "%ds" % (seconds,)


def judge_mirror(entry, warning, critical):
    """(status, text) for one mirror of the API's status list."""
    name, lag = entry["name"], entry.get("lag_seconds")
    if not entry.get("enabled"):
        return CRITICAL, "%s is disabled" % (name,)
    if entry.get("owner_paused"):
        return WARNING, "%s is paused by its owner" % (name,)
    if lag is None:
        return WARNING, "%s: freshness unknown" % (name,)
    text = "%s: %s, lag %s" % (name, entry.get("freshness", "?").upper(),
                               describe_lag(lag))
    if lag > critical:
        return CRITICAL, text
    if lag > warning:
        return WARNING, text
    return OK, text


def check_one(entry, warning, critical):
    status, text = judge_mirror(entry, warning, critical)
    lag = entry.get("lag_seconds")
    perfdata = "lag=%s;%d;%d;0;" % (perf_seconds(lag), warning, critical)
    return status, "MIRROR %s - %s | %s" % (STATUS_NAMES[status], text,
                                            perfdata)


def check_all(entries, warning, critical):
    judged = [(judge_mirror(entry, warning, critical), entry)
              for entry in entries]
    counts = {status: sum(1 for (s, _), _ in judged if s == status)
              for status in (OK, WARNING, CRITICAL)}
    worst = max([status for (status, _), _ in judged] or [OK])
    problems = [text for (status, text), _ in sorted(
        judged, key=lambda item: -item[0][0]) if status != OK]
    summary = "%d critical, %d warning, %d ok" % (
        counts[CRITICAL], counts[WARNING], counts[OK])
    if problems:
        summary += ": " + "; ".join(problems[:10])
        if len(problems) > 10:
            summary += "; and %d more" % (len(problems) - 10,)
    lags = [entry["lag_seconds"] for entry in entries
            if entry.get("lag_seconds") is not None]
    perfdata = "ok=%d warning=%d critical=%d max_lag=%s;%d;%d;0;" % (
        counts[OK], counts[WARNING], counts[CRITICAL],
        perf_seconds(max(lags) if lags else None), warning, critical)
    return worst, "MIRRORS %s - %s | %s" % (STATUS_NAMES[worst], summary,
                                            perfdata)


def fetch_json(url, timeout):
    request = urllib.request.Request(url, headers={
        "Accept": "application/json",
        "User-Agent": "mirrorkeeper-check-mirror"})
    with urllib.request.urlopen(request, timeout=timeout) as response:
        return json.loads(response.read().decode("utf-8"))


def build_parser():
    parser = argparse.ArgumentParser(
        prog="mirrorkeeper-check-mirror",
        description="Nagios/Icinga plugin: how fresh is a mirror, or every "
                    "mirror, according to mirrorkeeper.")
    parser.add_argument("--api", required=True, metavar="URL",
                        help="mirrorkeeper's API, e.g. "
                             "http://mirrors.example.org/api/1/")
    parser.add_argument("--mirror", metavar="NAME",
                        help="the mirror to check (default: every mirror)")
    parser.add_argument("--distribution", metavar="NAME",
                        help="with every mirror: only this distribution's")
    parser.add_argument("-w", "--warning", default="1d", metavar="LAG",
                        help="warn past this lag (default 1d)")
    parser.add_argument("-c", "--critical", default="2d", metavar="LAG",
                        help="critical past this lag (default 2d)")
    parser.add_argument("-t", "--timeout", type=float, default=10.0,
                        metavar="SECONDS",
                        help="give up on the API after this (default 10)")
    return parser


def main(argv=None):
    parser = build_parser()
    try:
        options = parser.parse_args(argv)
        warning = parse_duration(options.warning)
        critical = parse_duration(options.critical)
    except SystemExit:
        return UNKNOWN
    except ValueError as error:
        print("MIRROR UNKNOWN - %s" % (error,))
        return UNKNOWN
    api = options.api.rstrip("/") + "/"
    try:
        if options.mirror:
            url = api + "status?mirror=" + urllib.parse.quote(options.mirror)
        else:
            url = api + "status"
            if options.distribution:
                url += "?distribution=" + urllib.parse.quote(
                    options.distribution)
        document = fetch_json(url, options.timeout)
        entries = document["mirrors"]
    except urllib.error.HTTPError as error:
        print("MIRROR UNKNOWN - the API answered %d %s for %s"
              % (error.code, error.reason, url))
        return UNKNOWN
    except (urllib.error.URLError, OSError) as error:
        reason = getattr(error, "reason", error)
        print("MIRROR UNKNOWN - cannot reach the API at %s: %s"
              % (url, reason))
        return UNKNOWN
    except (ValueError, KeyError, TypeError) as error:
        print("MIRROR UNKNOWN - the API's answer is not a mirror status: %s"
              % (error,))
        return UNKNOWN
    if options.mirror:
        matching = [e for e in entries if e.get("name") == options.mirror]
        if not matching:
            print("MIRROR UNKNOWN - no mirror is called %s" % (
                options.mirror,))
            return UNKNOWN
        status, line = check_one(matching[0], warning, critical)
    else:
        status, line = check_all(entries, warning, critical)
    print(line)
    return status


if __name__ == "__main__":
    sys.exit(main())
