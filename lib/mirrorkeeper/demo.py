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
