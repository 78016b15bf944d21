#!/usr/bin/env python3
"""mirrorkeeper-report-mirror: tell mirrorkeeper what this mirror carries.

Run it on the mirror host after each sync (from ftpsync's or rsync's
post-hook).  It reads the local tree: each suite's Release and InRelease
(under every dists/ of the tree: the top one, and those of series kept
under a root of their own, such as ports/dists/) and each RPM
repository's repodata/repomd.xml, with their
SHA-256; which series, pockets, components and architectures the tree
has; the trace files of project/trace/.  It sends that to the
mirrorkeeper web site over HTTPS with the mirror's token, which the
mirror's owner creates on the mirror's page (+token)::

    mirrorkeeper-report-mirror --site https://mirrors.example.org \\
        --mirror my-mirror --token-file /etc/mirrorkeeper-token \\
        --root /srv/mirror/ubuntu [--probe] [--ca-file CA.pem] [--dry-run]

--probe also asks for the mirror to be probed now.  --dry-run prints the
report and sends nothing.  The server's certificate is always verified,
against the system's roots or --ca-file.

This file needs Python 3 and its standard library only: copy it to the
host and run ``python3 report_mirror.py``.

Exit codes: 0 reported; 1 the server refused or failed (its message is
printed); 2 bad usage or an unreadable tree or token; 3 the server could
not be reached.
"""

import argparse
import hashlib
import json
import os
import re
import socket
import ssl
import sys
import urllib.error
import urllib.parse
import urllib.request

VERSION = 1

EXIT_OK, EXIT_REFUSED, EXIT_USAGE, EXIT_UNREACHABLE = 0, 1, 2, 3

# What one report holds at most: more is not one mirror's tree.
MAX_SUITES = 500
MAX_REPOSITORIES = 2000
MAX_TRACES = 100
# The largest control file read (an InRelease of a big suite is ~300 KB).
MAX_CONTROL_BYTES = 16 * 1024 * 1024
# How deep below the root a repodata/ directory is looked for.
MAX_RPM_DEPTH = 8
# How deep below the root a dists/ directory is looked for: a series'
# root is a folder or two (ports/, old-releases/ubuntu/).
MAX_DISTS_DEPTH = 3
# Folders that hold no dists/ of their own, and are large.
NOT_ROOTS = ("dists", "pool", "project", "repodata", "Packages")
TRACE_DIR = "project/trace"


class ReportError(Exception):
    """The tree or the options cannot make a report."""


def _sha256(path):
    digest = hashlib.sha256()
    size = 0
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 16), b""):
            size += len(block)
            if size > MAX_CONTROL_BYTES:
                raise ReportError("%s is larger than %d bytes: not a "
                                  "control file" % (path, MAX_CONTROL_BYTES))
            digest.update(block)
    return digest.hexdigest()


def _release_fields(path):
    """The fields of a Release file's first stanza that say what the suite
    has: Suite, Codename, Date, Components, Architectures."""
    fields = {}
    with open(path, "rb") as f:
        for raw in f:
            line = raw.decode("utf-8", "replace").rstrip("\n")
            if not line.strip():
                break
            if line[:1] in (" ", "\t"):
                continue
            name, _, value = line.partition(":")
            if name in ("Suite", "Codename", "Date", "Components",
                        "Architectures"):
                fields[name] = value.strip()
    return fields


def _has_index(directory, name):
    try:
        return any(entry == name or entry.startswith(name + ".")
                   for entry in os.listdir(directory))
    except OSError:
        return False


def read_suite(root, suite, under=""):
    """What the tree has of `under`/dists/`suite` (`under` is a series'
    root, "" for the top of the tree): its control files' SHA-256, and
    the components and architectures whose indexes are there."""
    prefix = under + "/" if under else ""
    base = os.path.join(root, prefix, "dists", suite)
    files = {}
    for name in ("Release", "InRelease"):
        path = os.path.join(base, name)
        if os.path.isfile(path):
            files["%sdists/%s/%s" % (prefix, suite, name)] = _sha256(path)
    fields = {}
    if os.path.isfile(os.path.join(base, "Release")):
        fields = _release_fields(os.path.join(base, "Release"))
    components = fields.get("Components", "").split() or sorted(
        entry for entry in os.listdir(base)
        if os.path.isdir(os.path.join(base, entry)))
    architectures = fields.get("Architectures", "").split()
    carried = []
    for component in components:
        # A component such as updates/main is named by its last part on
        # disk as in the Release file.
        folder = os.path.join(base, component)
        if not os.path.isdir(folder):
            continue
        arches = sorted(
            entry[len("binary-"):] for entry in os.listdir(folder)
            if entry.startswith("binary-") and _has_index(
                os.path.join(folder, entry), "Packages"))
        if architectures:
            arches = [arch for arch in arches if arch in architectures]
        carried.append({
            "component": component,
            "architectures": arches,
            "source": _has_index(os.path.join(folder, "source"), "Sources"),
        })
    return {"suite": suite, "root": under, "codename": fields.get("Codename"),
            "date": fields.get("Date"), "files": files,
            "components": carried}


def find_roots(root):
    """The folders below `root` (relative, "/"-separated; "" for `root`
    itself) that hold a dists/ directory, at most MAX_DISTS_DEPTH deep,
    never inside a dists/, pool/ or hidden folder, nor through a
    symbolic link."""
    found = []
    root = os.path.abspath(root)
    for folder, subfolders, _ in os.walk(root):
        relative = os.path.relpath(folder, root)
        relative = "" if relative == "." else relative.replace(os.sep, "/")
        if "dists" in subfolders and not os.path.islink(
                os.path.join(folder, "dists")):
            found.append(relative)
        depth = relative.count("/") + 1 if relative else 0
        subfolders[:] = [] if depth >= MAX_DISTS_DEPTH else sorted(
            name for name in subfolders
            if not name.startswith(".") and name not in NOT_ROOTS)
    return sorted(found)


def read_suites(root):
    """Every suite of every dists/ of the tree (find_roots)."""
    suites = []
    for under in find_roots(root):
        dists = os.path.join(root, under, "dists")
        names = sorted(
            name for name in os.listdir(dists)
            if not name.startswith(".") and
            not os.path.islink(os.path.join(dists, name)) and
            os.path.isdir(os.path.join(dists, name)))
        if len(suites) + len(names) > MAX_SUITES:
            raise ReportError("%s has more than %d suites"
                              % (root, MAX_SUITES))
        suites += [read_suite(root, name, under) for name in names]
    return suites


_REVISION = re.compile(rb"<revision>\s*([^<\s]+)\s*</revision>")


def read_repositories(root):
    """Each repodata/repomd.xml below `root`, with its SHA-256 and the
    revision it says."""
    found = []
    root = os.path.abspath(root)
    for folder, subfolders, names in os.walk(root):
        relative = os.path.relpath(folder, root)
        depth = 0 if relative == "." else relative.count(os.sep) + 1
        if depth >= MAX_RPM_DEPTH:
            subfolders[:] = []
        # Never the Debian side (it is large and has no repodata), an RPM
        # repository's Packages/ nor hidden folders.
        subfolders[:] = sorted(
            name for name in subfolders if not name.startswith(".") and
            name != "Packages" and
            not (depth == 0 and name in ("dists", "pool", "project")))
        if os.path.basename(folder) == "repodata" and "repomd.xml" in names:
            path = os.path.join(folder, "repomd.xml")
            with open(path, "rb") as f:
                head = f.read(MAX_CONTROL_BYTES)
            match = _REVISION.search(head)
            found.append({
                "path": os.path.relpath(path, root).replace(os.sep, "/"),
                "sha256": _sha256(path),
                "revision": match.group(1).decode("ascii", "replace")
                if match else None})
            subfolders[:] = []
            if len(found) > MAX_REPOSITORIES:
                raise ReportError("%s has more than %d RPM repositories"
                                  % (root, MAX_REPOSITORIES))
    return found


def read_traces(root):
    """The first line of each trace file of project/trace/."""
    directory = os.path.join(root, TRACE_DIR)
    try:
        names = sorted(os.listdir(directory))
    except FileNotFoundError:
        return []
    traces = []
    for name in names:
        path = os.path.join(directory, name)
        if name.startswith(".") or not os.path.isfile(path):
            continue
        with open(path, "rb") as f:
            first = f.readline(200).decode("utf-8", "replace").strip()
        traces.append({"path": "%s/%s" % (TRACE_DIR, name),
                       "first_line": first})
        if len(traces) >= MAX_TRACES:
            break
    return traces


def make_report(root, mirror):
    """The report of the tree at `root`, as a dict ready for JSON;
    ReportError if there is nothing a mirror carries there."""
    if not os.path.isdir(root):
        raise ReportError("%s is not a directory" % (root,))
    try:
        report = {"format": VERSION, "mirror": mirror,
                  "suites": read_suites(root),
                  "repositories": read_repositories(root),
                  "traces": read_traces(root)}
    except OSError as error:
        raise ReportError("cannot read the tree: %s" % (error,)) from None
    if not report["suites"] and not report["repositories"]:
        raise ReportError("%s has neither dists/*/Release nor "
                          "repodata/repomd.xml: is it the mirror's root?"
                          % (root,))
    return report


def read_token(options):
    if options.token_file:
        try:
            with open(options.token_file, encoding="ascii") as f:
                token = f.read().strip()
        except (OSError, UnicodeDecodeError) as error:
            raise ReportError("cannot read the token file: %s" % (error,)) \
                from None
    else:
        token = os.environ.get("MIRRORKEEPER_TOKEN", "").strip()
    if not token:
        raise ReportError("no token: give --token-file, or set "
                          "MIRRORKEEPER_TOKEN")
    if not re.fullmatch(r"[A-Za-z0-9_-]{16,200}", token):
        raise ReportError("the token is not one mirrorkeeper made (it is "
                          "letters, digits, '-' and '_')")
    return token


def ssl_context(ca_file):
    try:
        context = ssl.create_default_context(cafile=ca_file)
    except (OSError, ssl.SSLError) as error:
        raise ReportError("cannot load the CA file %s: %s"
                          % (ca_file, error)) from None
    context.check_hostname = True
    context.verify_mode = ssl.CERT_REQUIRED
    return context


class Refused(Exception):
    """The server answered, and not with success."""

    def __init__(self, status, message):
        Exception.__init__(self, "%d: %s" % (status, message))
        self.status = status


def post(url, token, body, context, timeout):
    """The server's JSON answer to `body` (bytes) POSTed to `url`;
    Refused for an error answer, OSError when there is no answer."""
    request = urllib.request.Request(url, data=body, method="POST", headers={
        "Authorization": "Bearer " + token,
        "Content-Type": "application/json",
        "User-Agent": "mirrorkeeper-report-mirror/%d" % (VERSION,)})
    try:
        with urllib.request.urlopen(request, timeout=timeout,
                                    context=context) as answer:
            return json.loads(answer.read(1 << 20).decode("utf-8"))
    except urllib.error.HTTPError as error:
        try:
            message = json.loads(error.read(1 << 16).decode("utf-8"))
            message = message.get("error") or message
        except ValueError:
            message = error.reason
        if error.headers.get("Retry-After"):
            message = "%s (retry after %s s)" % (
                message, error.headers["Retry-After"])
        raise Refused(error.code, message) from None
    except ValueError:
        raise Refused(200, "the answer was not JSON") from None


def api_url(site, mirror, action):
    return "%s/api/1/mirrors/%s/%s" % (
        site.rstrip("/"), urllib.parse.quote(mirror, safe=""), action)


def parse_args(argv):
    parser = argparse.ArgumentParser(
        prog="mirrorkeeper-report-mirror",
        description="Report what this mirror's tree carries to "
        "mirrorkeeper (after each sync).")
    parser.add_argument("--site", required=True,
                        help="the mirrorkeeper web site, https://...")
    parser.add_argument("--mirror", required=True,
                        help="the mirror's name on the site")
    parser.add_argument("--root", required=True,
                        help="the mirror's tree: the directory its base "
                        "URL serves")
    parser.add_argument("--token-file",
                        help="file holding the mirror's token (else "
                        "$MIRRORKEEPER_TOKEN)")
    parser.add_argument("--ca-file",
                        help="PEM certificates to verify the site with "
                        "(default: the system's)")
    parser.add_argument("--probe", action="store_true",
                        help="also ask for the mirror to be probed now")
    parser.add_argument("--timeout", type=float, default=60.0,
                        help="seconds to wait for the site (default 60)")
    parser.add_argument("--dry-run", action="store_true",
                        help="print the report; send nothing")
    return parser.parse_args(argv)


def main(argv=None):
    options = parse_args(sys.argv[1:] if argv is None else argv)
    say = sys.stderr.write
    try:
        report = make_report(options.root, options.mirror)
        if options.dry_run:
            json.dump(report, sys.stdout, indent=1, sort_keys=True)
            sys.stdout.write("\n")
            return EXIT_OK
        site = urllib.parse.urlsplit(options.site)
        if site.scheme != "https" or not site.hostname:
            raise ReportError("--site must be an https:// URL: the token "
                              "is not sent in clear")
        token = read_token(options)
        context = ssl_context(options.ca_file)
    except ReportError as error:
        say("mirrorkeeper-report-mirror: %s\n" % (error,))
        return EXIT_USAGE
    body = json.dumps(report).encode("utf-8")
    try:
        answer = post(api_url(options.site, options.mirror, "+checkin"),
                      token, body, context, options.timeout)
        print("Reported: %s" % (answer.get("message", "done"),))
        if options.probe:
            answer = post(api_url(options.site, options.mirror, "+probe"),
                          token, b"{}", context, options.timeout)
            print("Probe: %s" % (answer.get("message", "queued"),))
    except Refused as error:
        say("mirrorkeeper-report-mirror: the site refused: %s\n" % (error,))
        return EXIT_REFUSED
    except (OSError, socket.timeout, ssl.SSLError) as error:
        reason = getattr(error, "reason", error)
        say("mirrorkeeper-report-mirror: cannot reach %s: %s\n"
            % (options.site, reason))
        return EXIT_UNREACHABLE
    return EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
