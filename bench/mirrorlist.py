"""The mirror list benchmark: snapshot build time and size for 1,000
mirrors and 500 RPM repositories, then wrk against the daemon on loopback
(mirrorlist, metalink, redirect: requests per second, p99 latency and the
daemon's CPU per request), side by side with nginx serving a static file of
the same size in the same run, and the daemon's memory; first one daemon
process, then one per core (--workers 0, the processes sharing the port).

    run(size) -> [(figure, value, unit, reference, ratio)]

Needs wrk and nginx (apt-get install wrk nginx-light); bench only, not in
.ci/run.  The client wrk plays is a German address (X-Forwarded-For from
a trusted 127.0.0.1, located by a generated GeoIP database), so each list
is Germany's mirrors and the rest of Europe's, as for a real client.
"""

import os
import random
import re
import shutil
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
import urllib.request
from datetime import datetime

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, os.path.join(ROOT, "lib"))
sys.path.insert(0, ROOT)

MIRRORS = 1000
REPOSITORIES = 500
# wrk's run per endpoint, by size.
DURATIONS = {"quick": 3, "large": 10}
CONNECTIONS = 32
# mirrorbits' published figure, the issue's goal for mirrorlist.
GOAL_RPS = 8000.0
GOAL_BUILD_SECONDS = 10.0

# Where the 1,000 mirrors are: roughly Fedora's spread.
COUNTRY_WEIGHTS = {"US": 18, "DE": 10, "FR": 5, "NL": 4, "GB": 5, "SE": 3,
                   "CZ": 3, "PL": 3, "IT": 3, "ES": 3, "CH": 2, "AT": 2,
                   "BR": 4, "AR": 1, "CA": 4, "JP": 4, "CN": 6, "IN": 3,
                   "KR": 2, "AU": 3, "ZA": 1, "RU": 4, "TW": 2, "SG": 2,
                   "IL": 1, "TR": 2}
SERIES = ["jammy", "noble", "oracular"]
ARCHES = ["amd64", "arm64", "i386"]
COMPONENTS = ["main", "universe"]
POCKETS = [0, 10, 20, 30, 40]
RPM_ARCHES = ["x86_64", "aarch64", "ppc64le", "s390x", "source"]
CLIENT = "192.0.2.9"


def build_database(path, seed=1):
    """An SQLite database with the schema, a distribution, MIRRORS official
    mirrors carrying the archive (records at various freshness) and
    REPOSITORIES RPM repositories with their repomd.xml history."""
    from mirrorkeeper.database.migrate import upgrade
    from mirrorkeeper.database.store import open_store
    from mirrorkeeper.enums import SeriesStatus
    from mirrorkeeper.model import register_utilities
    from mirrorkeeper.model.distribution import DistributionSet
    from mirrorkeeper.model.distroseries import ComponentSet
    from mirrorkeeper.model.person import PersonSet

    rng = random.Random(seed)
    store = open_store("sqlite:" + path)
    upgrade(store)
    register_utilities(store)
    owner = PersonSet(store).new("admin", "Admin", "admin@example.com")
    ubuntu = DistributionSet(store).new("ubuntu", "Ubuntu", "Ubuntu",
                                        owner=owner, mirror_admin=owner)
    components = [ComponentSet(store).ensure(name) for name in COMPONENTS]
    for number, name in enumerate(SERIES):
        series = ubuntu.newSeries(name, "2%d.04" % number,
                                  SeriesStatus.SUPPORTED, components)
        for arch in ARCHES:
            series.newArch(arch)
    store.commit()
    distribution_id, owner_id = ubuntu.id, owner.id
    store.close()

    db = sqlite3.connect(path)
    countries = dict(db.execute("SELECT iso3166code2, id FROM country"))
    arch_series = [row[0] for row in db.execute(
        "SELECT id FROM distro_arch_series ORDER BY id")]
    series_ids = [row[0] for row in db.execute(
        "SELECT id FROM distro_series ORDER BY id")]
    component_ids = [row[0] for row in db.execute(
        "SELECT id FROM component ORDER BY id")]
    codes = list(COUNTRY_WEIGHTS)
    weights = [COUNTRY_WEIGHTS[c] for c in codes]
    now = datetime(2024, 6, 1).isoformat(" ")
    mirrors = []
    for n in range(MIRRORS):
        country = rng.choices(codes, weights)[0]
        name = "mirror%04d" % n
        mirrors.append((
            distribution_id, owner_id, name,
            "http://%s.example/ubuntu/" % name,
            "https://%s.example/ubuntu/" % name if n % 2 else None,
            True, 8, countries[country], 1, 2, True, 30, now,
            rng.choice([100, 1000, 1000, 10000]), False, False,
            64500 + n % 50, n % 10 == 0, False, True, n % 3 != 0))
    db.executemany(
        "INSERT INTO distribution_mirror (distribution, owner, name, "
        "http_base_url, https_base_url, enabled, speed, country, content, "
        "pulse_type, official_candidate, status, date_created, "
        "bandwidth_mbps, private, internet2, asn, asn_clients, owner_paused, "
        "has_ipv4, has_ipv6) VALUES (%s)" % ",".join("?" * 21), mirrors)
    mirror_ids = [row[0] for row in db.execute(
        "SELECT id FROM distribution_mirror ORDER BY id")]
    db.executemany(
        "INSERT INTO mirror_netblock (distribution_mirror, netblock) "
        "VALUES (?, ?)", [(m, "10.%d.%d.0/24" % (i // 256, i % 256))
                          for i, m in enumerate(mirror_ids[::5])])
    freshness = [1, 1, 1, 2, 3, 5, 6, 8]
    binary, source = [], []
    for mirror in mirror_ids:
        for arch in arch_series:
            for component in component_ids:
                for pocket in POCKETS:
                    binary.append((mirror, arch, component, pocket,
                                   rng.choice(freshness)))
        for series in series_ids:
            for component in component_ids:
                for pocket in POCKETS:
                    source.append((mirror, series, component, pocket,
                                   rng.choice(freshness)))
    db.executemany(
        "INSERT INTO mirror_distro_arch_series (distribution_mirror, "
        "distro_arch_series, component, pocket, freshness) "
        "VALUES (?, ?, ?, ?, ?)", binary)
    db.executemany(
        "INSERT INTO mirror_distro_series_source (distribution_mirror, "
        "distro_series, component, pocket, freshness) "
        "VALUES (?, ?, ?, ?, ?)", source)
    repositories, details = [], []
    for n in range(REPOSITORIES):
        arch = RPM_ARCHES[n % len(RPM_ARCHES)]
        path = "releases/%d/Spin%d/%s/os" % (30 + n // 50, n // 5 % 10, arch)
        repositories.append((distribution_id, path, arch, str(30 + n // 50),
                             now))
        for version in range(3):
            details.append((distribution_id, path + "/repodata/repomd.xml",
                            3000 + version, "2024-05-%02d 00:00:00"
                            % (version + 1), "%032x" % n, "%040x" % n,
                            "%064x" % n, "%0128x" % n,
                            "2024-05-%02d 00:00:00" % (version + 1)))
    db.executemany(
        "INSERT INTO rpm_repository (distribution, path, arch, version, "
        "date_created) VALUES (?, ?, ?, ?, ?)", repositories)
    db.executemany(
        "INSERT INTO master_file_detail (distribution, path, size, "
        "date_modified, md5, sha1, sha256, sha512, date_first_seen) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", details)
    repo_ids = [row[0] for row in db.execute(
        "SELECT id FROM rpm_repository ORDER BY id")]
    carried = []
    for mirror in mirror_ids:
        for repo in repo_ids:
            if rng.random() < 0.6:
                carried.append((mirror, repo, rng.choice(freshness)))
    db.executemany(
        "INSERT INTO mirror_rpm_repository (distribution_mirror, "
        "rpm_repository, freshness) VALUES (?, ?, ?)", carried)
    db.commit()
    db.close()
    return len(binary) + len(source) + len(carried)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(url, deadline=30.0):
    end = time.monotonic() + deadline
    while True:
        try:
            with urllib.request.urlopen(url, timeout=5) as response:
                return response.read()
        except OSError:
            if time.monotonic() > end:
                raise
            time.sleep(0.1)


def wrk(url, duration, headers=(), cpu_of=None):
    """(requests per second, p99 latency in ms, non-2xx/3xx count, CPU
    seconds the processes `cpu_of` (pids) used per request, or None)."""
    args = ["wrk", "-t2", "-c%d" % CONNECTIONS, "-d%ds" % duration,
            "--latency"]
    for header in headers:
        args += ["-H", header]
    before = cpu_seconds(cpu_of) if cpu_of else None
    output = subprocess.run(args + [url], capture_output=True, text=True,
                            check=True).stdout
    cpu = cpu_seconds(cpu_of) - before if cpu_of else None
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))
    requests = int(re.search(r"(\d+) requests in", output).group(1))
    value, unit = re.search(r"^\s+99%\s+([\d.]+)(\w+)", output,
                            re.M).groups()
    p99 = float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    return (rps, p99, int(errors.group(1)) if errors else 0,
            cpu / requests if cpu is not None and requests else None)


def cpu_seconds(pids):
    """User and system CPU seconds the processes `pids` have used."""
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0
    for pid in pids:
        try:
            with open("/proc/%d/stat" % pid) as f:
                fields = f.read().rsplit(") ", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])
    return total / ticks


def worker_pids(log_path, count, deadline=30.0):
    """The process ids of the daemon's `count` processes, once each has
    logged the snapshot it serves."""
    end = time.monotonic() + deadline
    while True:
        with open(log_path) as f:
            pids = set(re.findall(r"in use in process (\d+)", f.read()))
        if len(pids) >= count:
            return sorted(int(pid) for pid in pids)
        if time.monotonic() > end:
            raise RuntimeError("the daemon's workers did not start")
        time.sleep(0.1)


NGINX_CONF = """\
daemon off;
master_process off;
worker_processes 1;
error_log {dir}/nginx-error.log;
pid {dir}/nginx.pid;
events {{ worker_connections 1024; }}
http {{
    access_log off;
    client_body_temp_path {dir}/tmp;
    proxy_temp_path {dir}/tmp;
    fastcgi_temp_path {dir}/tmp;
    uwsgi_temp_path {dir}/tmp;
    scgi_temp_path {dir}/tmp;
    server {{
        listen 127.0.0.1:{port};
        root {dir}/static;
    }}
}}
"""


def start_nginx(directory, files):
    """nginx on loopback serving `files` ({name: bytes}); (process, URL)."""
    os.makedirs(os.path.join(directory, "static"))
    os.makedirs(os.path.join(directory, "tmp"))
    for name, data in files.items():
        with open(os.path.join(directory, "static", name), "wb") as f:
            f.write(data)
    port = free_port()
    conf = os.path.join(directory, "nginx.conf")
    with open(conf, "w") as f:
        f.write(NGINX_CONF.format(dir=directory, port=port))
    process = subprocess.Popen(["nginx", "-c", conf, "-p", directory],
                               stderr=subprocess.DEVNULL)
    url = "http://127.0.0.1:%d" % port
    wait_for(url + "/" + next(iter(files)))
    return process, url


def rss_mb(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024.0
    return None


def run(size="quick", **ignored):
    """The figures: [(figure, value, unit, reference, ratio)]."""
    from mirrorkeeper.database.store import open_store
    from mirrorkeeper.model.distribution import DistributionSet
    from mirrorkeeper.publish.poolfacts import write_master_pool_facts
    from mirrorkeeper.publish.snapshot import build_snapshot, write_snapshot
    from tests.mirrorlist_snapshots import write_geoip

    duration = DURATIONS.get(size, DURATIONS["quick"])
    directory = tempfile.mkdtemp(prefix="bench-mirrorlist-")
    processes = []
    figures = []

    def figure(name, value, unit, reference=None):
        ratio = value / reference if reference else None
        figures.append((name, round(value, 3), unit, reference,
                        round(ratio, 3) if ratio is not None else None))

    try:
        database = os.path.join(directory, "mirrorkeeper.db")
        build_database(database)
        store = open_store("sqlite:" + database)
        started = time.monotonic()
        ubuntu = DistributionSet(store)["ubuntu"]
        snapshot = build_snapshot(store, ubuntu)
        path = os.path.join(directory, "snapshot.json")
        write_master_pool_facts(store, ubuntu, path, snapshot["serial"])
        size_bytes = write_snapshot(snapshot, path)
        build = time.monotonic() - started
        store.close()
        figure("snapshot build (1,000 mirrors, 500 repositories)", build,
               "s", GOAL_BUILD_SECONDS)
        figure("snapshot size", size_bytes / 1e6, "MB")

        geoip = write_geoip(os.path.join(directory, "geo.mmdb"))
        config = os.path.join(directory, "mirrorkeeper.conf")
        with open(config, "w") as f:
            f.write("[publication]\ntrusted_proxies = 127.0.0.1\n")
        repo = snapshot["repositories"][0]
        paths = {
            "mirrorlist": "/mirrorlist?repo=%s&arch=%s" % (repo["name"],
                                                           repo["arch"]),
            "metalink": "/metalink?repo=%s&arch=%s" % (repo["name"],
                                                       repo["arch"]),
            "redirect": "/redirect/dists/noble/InRelease",
        }
        headers = ["X-Forwarded-For: " + CLIENT]
        nginx = static_url = None
        # One process (the default), then one per core (--workers 0).
        cores = os.cpu_count() or 1
        for workers in sorted({1, cores}):
            label = "1 process" if workers == 1 else \
                "--workers %d" % workers
            port = free_port()
            log_path = os.path.join(directory, "daemon-%d.log" % workers)
            with open(log_path, "w") as log:
                daemon = subprocess.Popen(
                    [os.path.join(os.path.dirname(sys.executable),
                                  "mirrorkeeper"),
                     "mirrorlist-server", "--config", config,
                     "--listen", "tcp:%d:interface=127.0.0.1" % port,
                     "--snapshot", path, "--geoip", geoip,
                     "--asn-database", geoip, "--workers", str(workers),
                     "--statistics", os.path.join(directory, "statistics")],
                    stderr=log, stdout=subprocess.DEVNULL)
            processes.append(daemon)
            base = "http://127.0.0.1:%d" % port
            wait_for(base + "/mirrors.txt")
            pids = worker_pids(log_path, workers)
            if nginx is None:
                samples = {name: urllib.request.urlopen(
                    urllib.request.Request(
                        base + paths[name],
                        headers={"X-Forwarded-For": CLIENT})).read()
                    for name in ("mirrorlist", "metalink")}
                nginx, static_url = start_nginx(
                    os.path.join(directory, "nginx"),
                    {"mirrorlist": samples["mirrorlist"],
                     "metalink": samples["metalink"],
                     "redirect": b"x" * 60})
                processes.append(nginx)
            for name, request_path in paths.items():
                rps, p99, errors, cpu = wrk(base + request_path, duration,
                                            headers, cpu_of=pids)
                nginx_rps, nginx_p99, _, _ = wrk(
                    static_url + "/" + name, duration)
                if errors and name != "redirect":
                    figure("%s, %s: non-2xx answers" % (name, label),
                           errors, "responses")
                figure("%s, %s: req/s (nginx static, same bytes)"
                       % (name, label), rps, "req/s", nginx_rps)
                figure("%s, %s: p99 (nginx static, same bytes)"
                       % (name, label), p99, "ms", nginx_p99)
                if cpu is not None:
                    figure("%s, %s: daemon CPU per request"
                           % (name, label), cpu * 1e6, "us")
                if name == "mirrorlist":
                    figure("mirrorlist, %s: req/s (goal)" % label, rps,
                           "req/s", GOAL_RPS)
            figure("daemon memory (RSS), %s" % label,
                   sum(rss_mb(pid) or 0 for pid in pids), "MB")
            daemon.terminate()
            daemon.wait(30)
        figure("mirrorlist response size", len(samples["mirrorlist"]) / 1e3,
               "kB")
    finally:
        for process in processes:
            process.terminate()
            try:
                process.wait(10)
            except subprocess.TimeoutExpired:
                process.kill()
        shutil.rmtree(directory, ignore_errors=True)
    return figures


if __name__ == "__main__":
    for row in run(sys.argv[1] if len(sys.argv) > 1 else "quick"):
        print("%-52s %10s %-6s reference %-10s ratio %s" % row)
