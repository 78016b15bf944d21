"""The demonstration `make run` gives: real mirrors on loopback, probed.

The sample mirrors are pointed at a small farm of HTTP servers that this
process runs on 127.0.0.1, each serving an archive tree written from what
the database describes: valid-mirror carries everything, archive-404-mirror
nothing, and unreachable-mirror's port refuses connections.  The prober then
runs against them exactly as cron would run it, and the listing that follows
shows what it found.  Mail the run queues stays in the outbox: the demo has
no SMTP server to give it to.
"""

import os
import shutil
import socket

from mirrorkeeper.model.publishing import BinaryPackageFile, SourcePackageFile

# Which sample mirror gets which tree.
DEMO_TREES = {"valid-mirror": "full", "archive-404-mirror": "empty"}


def archive_paths(store, distribution):
    """Every path of `distribution`'s archive that the database knows: its
    indexes and its published files."""
    probe = distribution.mirrors[0]
    paths = [path for *_, path in probe.guessPackagesPaths()]
    paths += [path for *_, path in probe.guessSourcesPaths()]
    paths += [f.path for f in store.find(BinaryPackageFile)]
    paths += [f.path for f in store.find(SourcePackageFile)]
    return paths


def write_archive(root, store, distribution, leave_out=()):
    """Write the archive tree under `root`, less the paths containing any
    string of `leave_out`; return the paths written."""
    written = []
    for path in archive_paths(store, distribution):
        if any(part in path for part in leave_out):
            continue
        full = os.path.join(root, *path.split("/"))
        os.makedirs(os.path.dirname(full), exist_ok=True)
        with open(full, "wb") as f:
            f.write(b"mirrored by the mirrorkeeper demo\n")
        written.append(path)
    return written


def closed_port(interface="127.0.0.1"):
    """A port on `interface` that nothing listens on."""
    with socket.socket() as s:
        s.bind((interface, 0))
        return s.getsockname()[1]


def start_demo_mirrors(reactor, store, distribution, root):
    """Write the demo trees under `root`, serve them on 127.0.0.1, and point
    the sample mirrors at them; return the listening ports (stop them with
    stopListening).  The caller commits."""
    # Imported here: twisted.web.static warns about its own deprecations on
    # import, which nothing but the demo needs to hear.
    from twisted.web.server import Site
    from twisted.web.static import File
    shutil.rmtree(root, ignore_errors=True)
    trees = {"full": os.path.join(root, "full"),
             "empty": os.path.join(root, "empty")}
    for tree in trees.values():
        os.makedirs(tree)
    write_archive(trees["full"], store, distribution)
    ports, urls = [], {}
    for name, tree in trees.items():
        port = reactor.listenTCP(0, Site(File(tree)), interface="127.0.0.1")
        ports.append(port)
        urls[name] = "http://127.0.0.1:%d/" % port.getHost().port
    for mirror in distribution.mirrors:
        if mirror.name in DEMO_TREES:
            mirror.setURL("http", urls[DEMO_TREES[mirror.name]])
        elif mirror.name == "unreachable-mirror":
            mirror.setURL("http", "http://127.0.0.1:%d/" % closed_port())
    return ports


def probe_demo_mirrors(store, database_uri, distribution, root, logger):
    """Serve the demo mirrors and run the prober over them, as cron would
    (every archive mirror, whenever it was last probed); return the run's
    RunSummary.  Runs the reactor: for the `demo` entry point only."""
    from twisted.internet import reactor

    from mirrorkeeper.addresspolicy import LOOPBACK_NETWORKS
    from mirrorkeeper.prober.job import ProberOptions, ProberRun
    from mirrorkeeper.scripts.base import run_reactor

    ports = start_demo_mirrors(reactor, store, distribution, root)
    store.commit()
    options = ProberOptions(force=True, timeout=5,
                            allowed_networks=LOOPBACK_NETWORKS)
    run = ProberRun(reactor, store, options, logger,
                    database_uri=database_uri)

    def probe_then_stop_serving():
        d = run.run()
        d.addBoth(lambda result: [port.stopListening() for port in ports]
                  and result)
        return d

    return run_reactor(probe_then_stop_serving)


# What the demo asks the mirror list daemon, to show what package managers
# get: (what it is, path, whether only the headers matter).
DEMO_REQUESTS = [
    ("apt's list for a client in Brazil (deb mirror+http://.../mirrors.txt)",
     "/mirrors.txt?country=BR", False),
    ("apt's list for France, which has no mirror of its own",
     "/mirrors/FR.txt", False),
    ("a redirect to the best mirror for a file, with its Link headers",
     "/redirect/dists/%s/Release", True),
]


def free_port(interface="127.0.0.1"):
    """A port on `interface` free at the moment of asking."""
    return closed_port(interface)


def show_publication(snapshot, snapshot_path, config_path=None, out=None):
    """Serve `snapshot_path` with the real mirror list daemon (a process of
    its own, on loopback), print what package managers get from it, and
    stop it.  `snapshot` is the dict written there."""
    import subprocess
    import sys
    import time
    import urllib.error
    import urllib.request
    out = out or sys.stdout
    port = free_port()
    command = [os.path.join(os.path.dirname(sys.executable), "mirrorkeeper"),
               "mirrorlist-server", "--snapshot", snapshot_path,
               "--listen", "tcp:%d:interface=127.0.0.1" % port]
    if config_path:
        command[1:1] = ["--config", config_path]
    if not os.path.exists(command[0]):
        command[0:1] = [sys.executable, "-m", "mirrorkeeper.scripts.cli"]
    base = "http://127.0.0.1:%d" % port
    daemon = subprocess.Popen(command, stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL)

    class NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args):
            return None

    opener = urllib.request.build_opener(NoRedirect)

    def get(path):
        for _ in range(300):
            try:
                return opener.open(base + path)
            except urllib.error.HTTPError as answer:
                return answer
            except OSError:
                time.sleep(0.05)
        raise OSError("the mirror list daemon did not start on %s" % base)

    series = snapshot["places"][0][0] if snapshot["places"] else "none"
    try:
        print("\nWhat package managers get (the mirror list daemon, serving "
              "snapshot %d on %s)" % (snapshot["serial"], base), file=out)
        for title, path, headers_only in DEMO_REQUESTS:
            path = path.replace("%s", series)
            answer = get(path)
            print("\n%s\n  GET %s -> %d" % (title, path, answer.status),
                  file=out)
            if headers_only:
                for name in ("Location", "Link"):
                    for value in answer.headers.get_all(name) or ():
                        print("  %s: %s" % (name, value), file=out)
            else:
                for line in answer.read().decode().splitlines():
                    print("  " + line, file=out)
        if snapshot["repositories"]:
            repository = snapshot["repositories"][0]
            query = "repo=%s&arch=%s" % (repository["name"],
                                         repository["arch"])
            for title, path in (("dnf's mirrorlist", "/mirrorlist?"),
                                ("dnf's metalink (first lines)",
                                 "/metalink?")):
                answer = get(path + query)
                print("\n%s\n  GET %s -> %d" % (title, path + query,
                                                answer.status), file=out)
                for line in answer.read().decode().splitlines()[:8]:
                    print("  " + line, file=out)
        else:
            print("\ndnf's mirrorlist and metalink: the sample distribution "
                  "has no RPM repositories (see /mirrorlist?repo=&arch= and "
                  "/metalink?repo=&arch= for one that has)", file=out)
    finally:
        daemon.terminate()
        daemon.wait(timeout=30)
