"""Run the fake mirror farm as a daemon, for demos and benchmarks.

    python -m tests.farm --demo
    python -m tests.farm --root /srv/tree fresh=serve dead=hang \\
        moved=redirect:fresh slow=slow:0.2 secure=https \\
        --ca-file var/farm-ca.pem

Each MIRROR is NAME=KIND[:ARGUMENT]; the kinds are listed by --help.  Once
every mirror listens, one line per mirror ("NAME URL") is printed, then
"ready"; the farm runs until interrupted.  Everything listens on loopback.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile

from twisted.internet import defer, task

from . import (
    AnswerAnything,
    Hang,
    MirrorFarm,
    NotFound,
    RedirectForever,
    RedirectLoop,
    RedirectToMirror,
    RedirectToOtherFile,
    RedirectUnknownScheme,
    ServerError,
    ServeTree,
    Slow,
)
from .archive import write_archive_tree

KINDS = {
    "serve": "serve the tree (HEAD, GET, 404 for what is missing)",
    "notfound": "404 everywhere",
    "anything": "serve the tree, and 200 with a page for what is missing",
    "error500": "500 everywhere",
    "hang": "accept and never answer",
    "refuse": "a closed port",
    "slow:SECONDS": "serve the tree, each answer SECONDS late",
    "redirect:NAME": "302 to the same path on mirror NAME",
    "loop": "a redirect loop",
    "forever": "endless redirects",
    "otherfile": "redirect everything to /index.html",
    "gopher": "redirect to gopher://",
    "https": "serve the tree over HTTPS, certificate from the farm's CA",
    "https-self-signed": "serve over HTTPS with a self-signed certificate",
    "https-wrong-host": "serve over HTTPS with a certificate for another host",
    "ftp": "anonymous FTP over the tree",
    "ftp-nosize": "anonymous FTP without the SIZE command",
}

DEMO = [
    "fresh=serve", "missing=notfound", "broken=error500", "dead=hang",
    "gone=refuse", "slow=slow:0.5", "moved=redirect:fresh", "loop=loop",
    "liar=otherfile", "gopher=gopher", "secure=https",
    "forged=https-self-signed", "ftp=ftp",
]


def add(farm, spec, root):
    """Add the mirror C{spec} ("NAME=KIND[:ARGUMENT]") to C{farm}."""
    name, _, kind = spec.partition("=")
    kind, _, argument = kind.partition(":")
    simple = {
        "serve": ServeTree, "notfound": NotFound, "error500": ServerError,
        "hang": Hang, "loop": RedirectLoop, "forever": RedirectForever,
        "otherfile": RedirectToOtherFile, "gopher": RedirectUnknownScheme,
        "anything": AnswerAnything,
    }
    if kind in simple:
        return farm.add_mirror(name, simple[kind](), root=root)
    if kind == "slow":
        return farm.add_mirror(name, Slow(float(argument or 1)), root=root)
    if kind == "redirect":
        return farm.add_mirror(name, RedirectToMirror(argument))
    if kind == "refuse":
        return farm.add_refusing_mirror(name)
    if kind.startswith("https"):
        tls = kind[len("https-"):] or "valid"
        return farm.add_mirror(name, ServeTree(), root=root, tls=tls)
    if kind in ("ftp", "ftp-nosize"):
        return farm.add_ftp_mirror(name, root, size=kind == "ftp")
    raise SystemExit(f"unknown kind {kind!r} in {spec!r}; see --help")


def parse(argv):
    parser = argparse.ArgumentParser(
        prog="python -m tests.farm",
        description="Fake mirrors on loopback.",
        epilog="kinds: " + "; ".join(f"{k}: {v}" for k, v in KINDS.items()),
    )
    parser.add_argument("mirrors", nargs="*", metavar="NAME=KIND[:ARG]")
    parser.add_argument("--root", help="the archive tree to serve"
                        " (default: a fresh sample tree)")
    parser.add_argument("--interface", default="127.0.0.1",
                        help="loopback address to listen on")
    parser.add_argument("--ca-file",
                        help="write the farm CA's certificate (PEM) here")
    parser.add_argument("--demo", action="store_true",
                        help="one mirror of each kind")
    options = parser.parse_args(argv)
    if not options.interface.startswith("127.") and options.interface != "::1":
        parser.error("the farm listens on loopback only")
    if options.demo:
        options.mirrors = DEMO + options.mirrors
    if not options.mirrors:
        parser.error("no mirrors; name some or pass --demo")
    return options


def main(reactor, *argv):
    options = parse(argv)
    root = options.root
    if root is None:
        root = tempfile.mkdtemp(prefix="mirrorkeeper-farm-")
        reactor.addSystemEventTrigger("after", "shutdown", shutil.rmtree,
                                      root, True)
        write_archive_tree(root)
    farm = MirrorFarm(reactor, interface=options.interface)
    reactor.addSystemEventTrigger("before", "shutdown", farm.stop)
    for spec in options.mirrors:
        mirror = add(farm, spec, root)
        print(mirror.name, mirror.base_url)
    if options.ca_file:
        with open(options.ca_file, "wb") as f:
            f.write(farm.ca.pem)
    print("ready", flush=True)
    return defer.Deferred()


if __name__ == "__main__":
    task.react(main, sys.argv[1:])
