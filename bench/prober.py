"""The prober benchmark: the real cronscript against a farm of K mirrors.

For each K of the size (bench.world.SIZES):

1. generate the world of K mirrors and write it into a fresh SQLite
   database through the model;
2. start the farm (bench.farm) serving it, one process per core;
3. run cronscripts/distributionmirror-prober.py as cron does, as a
   subprocess, with [prober] allowed_networks = 127.0.0.0/8 ::1/128 (the
   world lives on loopback); sample its CPU
   from /proc while it runs and take its rusage (CPU, peak RSS) from
   os.wait4;
4. check what it recorded against what the world says each mirror carries
   (World.expected_records);
5. run `curl --parallel --parallel-max 100 -I` over the very requests the
   farm answered during the prober's run, against the same farm, and take
   its rusage the same way.

The network phase is timed by the farm: from the first request it received
to the last answer it sent (or the timeout of the last request it never
answered, if later).  Its lower bound comes from the latencies and
the per-host limit (bench.world.lower_bound).
"""

from __future__ import annotations

import collections
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from datetime import datetime

from bench.farm import Farm
from bench.report import Figure
from bench.world import LOOPBACK_PREFIX, generate_world, lower_bound

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CRONSCRIPT = os.path.join(ROOT, "cronscripts", "distributionmirror-prober.py")

# The prober's limits: its defaults.
MAX_PARALLEL = 100
MAX_PARALLEL_PER_HOST = 2
# A dead mirror costs (30 requests / per-host limit) timeouts before the
# prober skips it: 2 s keeps that within the run's length, yet is 13 times
# the slowest mirror's latency.  (With 1 s, the burst of work when the
# first 100 mirrors start at once could delay answers past the timeout.)
TIMEOUT = 2.0
# One process: the figures are of one reactor's CPU per request, against
# curl's; a profile sees the whole run.  (--workers shares a run between
# processes: `workers = 0` is one per core.)
WORKERS = 1
# Whatever happens, a run is killed after this long.
RUN_DEADLINE = 3600.0
CURL_PARALLEL = 100

DESIGN_LEAN_US = 45
DESIGN_CURL_US = 90

_CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def _free_port():
    with socket.socket() as s:
        s.bind((LOOPBACK_PREFIX + ".0.1", 0))
        return s.getsockname()[1]


def _process_cpu(pid):
    """CPU seconds (user + system) `pid` has used so far, from /proc."""
    try:
        with open("/proc/%d/stat" % pid, encoding="ascii") as f:
            fields = f.read().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None
    return (int(fields[11]) + int(fields[12])) / _CLOCK_TICKS


def _peak_rss_kb(pid):
    """The peak resident memory of `pid` since it exec'd, from /proc."""
    try:
        with open("/proc/%d/status" % pid, encoding="ascii") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return None


def run_measured(command, stdout, stderr, deadline=RUN_DEADLINE, env=None):
    """Run `command`; returns (exit status, wall seconds, rusage, samples,
    peak RSS in KB) where samples are (time.time(), CPU seconds) taken every
    0.1 s.  The peak RSS is the process's own high-water mark (VmHWM) read
    while it runs: the rusage's ru_maxrss of a child also counts the
    parent's memory it was forked with."""
    started = time.time()
    process = subprocess.Popen(command, stdout=stdout, stderr=stderr,
                               cwd=ROOT, env=env)
    samples = [(started, 0.0)]
    peak = 0
    while True:
        pid, status, rusage = os.wait4(process.pid, os.WNOHANG)
        if pid:
            break
        if time.time() - started > deadline:
            process.kill()
            pid, status, rusage = os.wait4(process.pid, 0)
            break
        cpu = _process_cpu(process.pid)
        if cpu is not None:
            samples.append((time.time(), cpu))
            peak = max(peak, _peak_rss_kb(process.pid) or 0)
        time.sleep(0.1)
    ended = time.time()
    process.returncode = os.waitstatus_to_exitcode(status)
    samples.append((ended, rusage.ru_utime + rusage.ru_stime))
    return process.returncode, ended - started, rusage, samples, peak


def _cpu_at(samples, when):
    """The CPU used at `when`, interpolated between samples."""
    before = samples[0]
    for sample in samples:
        if sample[0] >= when:
            span = sample[0] - before[0]
            if span <= 0:
                return sample[1]
            return before[1] + (sample[1] - before[1]) * \
                (when - before[0]) / span
        before = sample
    return samples[-1][1]


def _write_config(directory, uri):
    path = os.path.join(directory, "mirrorkeeper.conf")
    with open(path, "w", encoding="utf-8") as f:
        f.write("[database]\nuri = %s\n\n[prober]\ntimeout = %s\n"
                "max_parallel = %d\nmax_parallel_per_host = %d\n"
                "workers = %d\n"
                "allowed_networks = 127.0.0.0/8 ::1/128\nlock_file = %s\n\n"
                "[mail]\nsmtp_host = 127.0.0.1\nsmtp_port = 9\n" % (
                    uri, TIMEOUT, MAX_PARALLEL, MAX_PARALLEL_PER_HOST,
                    WORKERS, os.path.join(directory, "prober.lock")))
    return path


def build_world(size, mirrors, seed, directory):
    """Generate the world and its database; returns (world, world file,
    database URI, seconds taken)."""
    from mirrorkeeper.database.migrate import upgrade
    from mirrorkeeper.database.store import open_store
    from mirrorkeeper.model import register_utilities

    from bench.world import build_database

    started = time.monotonic()
    world = generate_world(size, mirrors=mirrors, seed=seed,
                           port=_free_port())
    world_file = os.path.join(directory, "world.json")
    with open(world_file, "w", encoding="utf-8") as f:
        f.write(world.to_json())
    uri = "sqlite:" + os.path.join(directory, "mirrorkeeper.db")
    store = open_store(uri)
    try:
        upgrade(store)
        register_utilities(store)
        build_database(world, store)
    finally:
        store.close()
    return world, world_file, uri, time.monotonic() - started


def _bands_as_of(mirror, default):
    """The instant the freshness bands of `mirror`'s last probe were told
    at, as its record's findings say (the prober's planner tells them
    when it works out what a distribution's mirrors share, and keeps that
    for minutes), or `default` if they say none."""
    import json

    record = mirror.last_probe_record
    try:
        told = json.loads(record.findings)["bands_as_of"]
        # Zoneless UTC, as the model's dates are.
        return datetime.strptime(told, "%Y-%m-%dT%H:%M:%S.%fZ")
    except (AttributeError, KeyError, TypeError, ValueError):
        return default


def check_records(world, uri, when):
    """(mirrors whose records are as the world says, mismatches) after a
    run that started at `when`; mismatches are (mirror, place, expected,
    recorded), the first few only.  Each mirror is judged by the world as
    it was when its bands were told (_bands_as_of): a long run probes its
    last mirrors after some uploads have crossed into an older freshness
    band, and on a flaky mirror, whose 503s fall by path, which upload
    stands for a band decides the band found."""
    from mirrorkeeper.database.store import open_store
    from mirrorkeeper.model import register_utilities
    from mirrorkeeper.model.distributionmirror import DistributionMirrorSet

    store = open_store(uri)
    register_utilities(store)
    good, mismatches = 0, []
    try:
        mirrors = DistributionMirrorSet(store)
        for mirror in world.mirrors:
            record = mirrors[mirror["name"]]
            found = {}
            for r in record.arch_series:
                arch = r.distro_arch_series
                found[(arch.distro_series.name, arch.architecture_tag,
                       r.pocket.name, r.component.name)] = r.freshness.name
            for r in record.source_series:
                found[(r.distro_series.name, "source", r.pocket.name,
                       r.component.name)] = r.freshness.name
            expected = world.expected_records(
                mirror, _bands_as_of(record, when))
            if found == expected:
                good += 1
            elif len(mismatches) < 10:
                for place in sorted(set(found) | set(expected)):
                    if found.get(place) != expected.get(place):
                        mismatches.append((mirror["name"],
                                           mirror["behaviour"], place,
                                           expected.get(place),
                                           found.get(place)))
                        break
    finally:
        store.close()
    return good, mismatches


def _curl_config(url_files, path):
    """Write a curl config asking for every URL in `url_files`, taking the
    hosts in turn so that 100 transfers in flight are spread over hosts
    as the prober's are.  Returns the number of URLs."""
    by_host = collections.OrderedDict()
    for name in url_files:
        with open(name, encoding="ascii") as f:
            for line in f:
                url = line.strip()
                host = url.split("/", 3)[2]
                by_host.setdefault(host, []).append(url)
    queues = [collections.deque(urls) for urls in by_host.values()]
    count = 0
    with open(path, "w", encoding="ascii") as out:
        while queues:
            remaining = []
            for queue in queues:
                out.write('url = "%s"\n' % (queue.popleft(),))
                count += 1
                if queue:
                    remaining.append(queue)
            queues = remaining
    return count


def _summary(stderr_text):
    probed = re.search(r"Probed (\d+) mirrors", stderr_text)
    requests = re.search(r"(\d+) requests in ([\d.]+) s; failures: (.*)",
                         stderr_text)
    return {
        "probed": int(probed.group(1)) if probed else None,
        "requests": int(requests.group(1)) if requests else None,
        "run_seconds": float(requests.group(2)) if requests else None,
        "failures": requests.group(3) if requests else "",
    }


def run_one(size, mirrors, seed=1, keep=False, profile=False, log=print):
    """Benchmark the prober against a world of `mirrors` mirrors; returns
    (figures, details)."""
    directory = tempfile.mkdtemp(prefix="mirrorkeeper-bench-")
    try:
        return _run_one(size, mirrors, seed, directory, profile, log)
    finally:
        if keep:
            log("  (kept %s)" % (directory,))
        else:
            shutil.rmtree(directory, ignore_errors=True)


def _probe(farm, world, command, environment, uri, directory, name):
    """Run the prober once against `farm`; returns what was measured of
    the run, named `name` in its files."""
    from mirrorkeeper.timeutil import utcnow

    farm.reset()
    before = farm.stats()
    url_files = farm.record(os.path.join(directory, name + "-answered"))
    run_started = utcnow()
    with open(os.path.join(directory, name + ".log"), "w+") as err:
        status, wall, usage, samples, peak_kb = run_measured(
            command, subprocess.DEVNULL, err, env=environment)
        err.seek(0)
        stderr_text = err.read()
    farm.stop_recording()
    after = farm.stats()
    if status != 0:
        raise RuntimeError("the prober failed (exit status %d):\n%s"
                           % (status, stderr_text[-3000:]))

    # The lower bound, from what each mirror was actually asked.
    hosts = {}
    received = answered = hung = 0
    for m in world.hosts:
        requests_, answered_, hung_, _ = after["mirrors"][m["name"]]
        received += requests_
        answered += answered_
        hung += hung_
        if requests_:
            hosts[m["name"]] = (answered_, m["latency"], hung_, TIMEOUT)
    # The network phase: from the first request to the last answer, or
    # to the timeout of the last request never answered if later.
    first, last = after["first"], after["last"]
    if after["last_hung"] is not None:
        last = max(last, after["last_hung"] + TIMEOUT)
    good, mismatches = check_records(world, uri, run_started)
    return {
        "url_files": url_files, "summary": _summary(stderr_text),
        "wall": wall, "samples": samples, "peak_kb": peak_kb,
        "received": received, "answered": answered, "hung": hung,
        "bound": lower_bound(hosts, MAX_PARALLEL, MAX_PARALLEL_PER_HOST),
        "first": first, "last": last, "network": last - first,
        "network_cpu": _cpu_at(samples, last) - _cpu_at(samples, first),
        "cpu": usage.ru_utime + usage.ru_stime,
        "farm_cpu": after["cpu"] - before["cpu"],
        "good": good, "mismatches": mismatches,
    }


def _run_one(size, mirrors, seed, directory, profile, log):
    load_before = os.getloadavg()[0]
    if load_before > (os.cpu_count() or 1) / 2:
        log("  warning: the machine is busy (load average %.1f on %d "
            "cores): the figures will be inflated" % (
                load_before, os.cpu_count() or 1))
    world, world_file, uri, build_seconds = build_world(
        size, mirrors, seed, directory)
    log("  K=%d: world built in %.1f s (%d uploads); probing..." % (
        mirrors, build_seconds, len(world.description["uploads"])))
    config = _write_config(directory, uri)
    environment = dict(os.environ, MIRRORKEEPER_CONFIG=config)
    environment.pop("MIRRORKEEPER_DATABASE", None)
    # Compiled modules are cached, as they are where the prober is
    # installed: the first run writes the cache and the next one, whose
    # figures these are, reads it (without, each run compiles every
    # module of ours again, about 0.1 s of CPU).
    environment.pop("PYTHONDONTWRITEBYTECODE", None)
    environment["PYTHONPYCACHEPREFIX"] = os.path.join(directory, "pycache")
    command = [sys.executable, CRONSCRIPT, "--config", config,
               "--no-owner-notification"]
    # The next day's run, as cron starts it: it knows how long each
    # mirror's probe took and starts the slowest first (--force: the
    # mirrors were probed minutes ago, not a day).
    next_command = command + ["--force"]
    if profile:
        # Every thread's CPU, the writer's included (bench.cpuprofile).
        next_command[1:1] = ["-m", "bench.cpuprofile",
                             os.path.join(directory, "prober.prof")]

    with Farm(world_file, log_dir=directory) as farm:
        workers = farm.workers
        # The first run ever knows no mirror's duration: it starts them in
        # the order of their ids.  The figures are of the next one, the
        # run of every day after; the first's network phase is shown too.
        first_run = _probe(farm, world, command, environment, uri,
                           directory, "first")
        run = _probe(farm, world, next_command, environment, uri,
                     directory, "next")
        summary, samples, peak_kb = run["summary"], run["samples"], \
            run["peak_kb"]
        received, answered, hung = run["received"], run["answered"], \
            run["hung"]
        bound, network, wall = run["bound"], run["network"], run["wall"]
        first, last = run["first"], run["last"]
        prober_network_cpu, prober_cpu = run["network_cpu"], run["cpu"]
        farm_cpu = run["farm_cpu"]
        good, mismatches = run["good"], run["mismatches"]

        # curl, over the same answered requests, against the same farm.
        curl_file = os.path.join(directory, "curl.conf")
        curl_urls = _curl_config(run["url_files"], curl_file)
        farm.reset()
        before_curl = farm.stats()
        curl_status, curl_wall, curl_usage, _, curl_peak_kb = run_measured(
            ["curl", "--parallel", "--parallel-max", str(CURL_PARALLEL),
             "--head", "--silent", "--noproxy", "*", "--config", curl_file],
            subprocess.DEVNULL, subprocess.DEVNULL)
        after_curl = farm.stats()
        curl_answered = sum(v[1] for v in after_curl["mirrors"].values())
        curl_cpu = curl_usage.ru_utime + curl_usage.ru_stime

    profile_text = ""
    if profile:
        import io
        import pstats
        buffer = io.StringIO()
        stats = pstats.Stats(os.path.join(directory, "prober.prof"),
                             stream=buffer)
        stats.sort_stats("tottime").print_stats(25)
        stats.sort_stats("cumulative").print_stats(40)
        profile_text = buffer.getvalue()

    per_k = lambda cpu, n: 1e6 * cpu / n if n else None  # noqa: E731
    prefix = "K=%d " % (mirrors,)
    figures = [
        Figure(prefix + "network phase wall time", network, "s", bound[
            "seconds"], "lower bound (latency, limits)", "<= 1.2"),
        Figure(prefix + "network phase wall time, first run",
               first_run["network"], "s", first_run["bound"]["seconds"],
               "lower bound (latency, limits)"),
        Figure(prefix + "whole run wall time", wall, "s", network,
               "of which network phase"),
        Figure(prefix + "requests/s (network phase)", answered / network,
               "req/s", curl_answered / curl_wall if curl_wall else None,
               "curl --parallel-max 100"),
        Figure(prefix + "CPU per request (network phase)",
               per_k(prober_network_cpu, answered), "us",
               per_k(curl_cpu, curl_answered), "curl --parallel-max 100"),
        Figure(prefix + "CPU per request (network phase)",
               per_k(prober_network_cpu, answered), "us", DESIGN_LEAN_US,
               "design.md: lean protocol alone"),
        Figure(prefix + "CPU per request (whole run)",
               per_k(prober_cpu, answered), "us",
               per_k(curl_cpu, curl_answered), "curl --parallel-max 100"),
        # The higher of the two runs'.
        Figure(prefix + "peak memory (RSS)",
               max(peak_kb, first_run["peak_kb"]) / 1024, "MB",
               curl_peak_kb / 1024, "curl --parallel-max 100"),
        Figure(prefix + "farm CPU per request", per_k(farm_cpu, answered),
               "us", per_k(prober_network_cpu, answered), "prober's"),
        Figure(prefix + "mirrors recorded as the world says", good,
               "mirrors", len(world.mirrors), "mirrors in the world",
               "= 1"),
        Figure(prefix + "mirrors recorded as the world says, first run",
               first_run["good"], "mirrors", len(world.mirrors),
               "mirrors in the world", "= 1"),
    ]
    details = {
        "load_average_before": load_before,
        "load_average_after": os.getloadavg()[0],
        "mirrors": mirrors, "seed": seed, "world_build_seconds":
        build_seconds, "prober_summary": summary,
        "requests_received_by_farm": received,
        "requests_answered_by_farm": answered, "requests_hung": hung,
        "lower_bound": bound, "network_seconds": network,
        # The mean number of requests in flight (the global limit is
        # MAX_PARALLEL): the global bound's work over the network phase.
        "mean_in_flight": bound["global"] * MAX_PARALLEL / network,
        "process_wall_seconds": wall,
        "before_network_seconds": first - (samples[0][0]),
        "after_network_seconds": samples[-1][0] - last,
        "prober_cpu_seconds": prober_cpu,
        "prober_network_cpu_seconds": prober_network_cpu,
        "prober_peak_rss_kb": peak_kb,
        "farm_cpu_seconds": farm_cpu,
        "farm_workers": workers,
        "farm_busy_share": farm_cpu / (network * workers),
        "curl_urls": curl_urls, "curl_answered": curl_answered,
        "curl_status": curl_status, "curl_wall_seconds": curl_wall,
        "curl_cpu_seconds": curl_cpu, "curl_peak_rss_kb": curl_peak_kb,
        "records_correct": good, "mismatches": [list(map(str, m))
                                                for m in mismatches],
        "first_run": {
            key: first_run[key] for key in (
                "summary", "wall", "peak_kb", "received", "answered",
                "hung", "bound", "network", "network_cpu", "cpu",
                "farm_cpu", "good")},
        "first_run_mismatches": [list(map(str, m))
                                 for m in first_run["mismatches"]],
        "behaviours": dict(collections.Counter(
            m["behaviour"] for m in world.mirrors)),
        "farm_cpu_during_curl": after_curl["cpu"] - before_curl["cpu"],
    }
    if profile_text:
        details["profile"] = profile_text
    return figures, details


def run(size, seed=1, keep=False, profile=False, log=print,
        mirror_counts=None):
    """The prober benchmark at every K of `size`: (figures, details)."""
    from bench.world import SIZES

    counts = mirror_counts or SIZES[size]["mirror_counts"]
    figures, details = [], []
    for k in counts:
        f, d = run_one(size, k, seed=seed, keep=keep, profile=profile,
                       log=log)
        for figure in f:
            log(figure.line("prober "))
        for which in ("first_run_mismatches", "mismatches"):
            if d[which]:
                log("  %s: first mismatches (mirror, behaviour, place, "
                    "expected, recorded): %s" % (
                        "first run" if which.startswith("first")
                        else "next run", d[which][:3]))
        log("  network %.1f s of %.1f s (before %.1f s, after %.1f s); "
            "lower bound: global %.1f s, slowest host %.1f s (%s); "
            "%.0f requests in flight on average" % (
                d["network_seconds"], d["process_wall_seconds"],
                d["before_network_seconds"], d["after_network_seconds"],
                d["lower_bound"]["global"], d["lower_bound"]["host"],
                d["lower_bound"]["slowest_host"], d["mean_in_flight"]))
        if d.get("profile"):
            log(d["profile"])
        figures.extend(f)
        details.append(d)
    if len(details) >= 2:
        small, big = details[0], details[-1]
        cost = lambda d: d["prober_cpu_seconds"] / \
            d["requests_answered_by_farm"]  # noqa: E731
        scaling = Figure(
            "CPU per request, K=%d vs K=%d (whole run)" % (
                big["mirrors"], small["mirrors"]),
            1e6 * cost(big), "us", 1e6 * cost(small),
            "K=%d" % (small["mirrors"],), "~ 1 (linear)")
        log(scaling.line("prober "))
        figures.append(scaling)
    return figures, details
