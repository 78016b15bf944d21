"""Probing rsync mirrors natively: the rsync client, listing many files
at once.

C{rsync --list-only --files-from=- rsync://ADDRESS:PORT/module/ DIR}
asks the daemon for the entry (presence, size, mtime) of each path it
reads on its standard input, without transferring anything: the paths
asked of one daemon's module while a listing runs are listed together by
the next, so that a mirror's plan costs a few client runs, not one per
file.  A fetch (trace files, a few hundred bytes) lists first, then
copies the file into a temporary directory.  The client is run with the
address the caller has already judged in place of the host name, so that
it cannot resolve the name elsewhere, and without the environment that
could send it through a proxy or a connect program.  Limits, timeouts
and address policy belong to the caller
(L{mirrorkeeper.prober.client.ProbeClient}); a path whose Deferred is
cancelled is withdrawn, and the client is killed once every path it
lists is.
"""

from __future__ import annotations

import math
import os
import re
import shutil
import tempfile
from datetime import datetime, timezone

import attrs
from twisted.internet import defer, error
from twisted.internet.protocol import ProcessProtocol

RSYNC = "rsync"
# Paths listed by one client run: a mirror's plan in a few runs, and a
# listing that stays small.
MAX_BATCH = 100
# A listing is a line a path (and a line of stderr for each one missing);
# far more than MAX_BATCH paths of a few hundred bytes is not the answer
# to our question, and the listing is refused rather than cut short.
MAX_OUTPUT = 1024 * 1024

# rsync's exit codes (its man page, EXIT VALUES).
_STARTING = 5          # error starting client-server protocol
_SOCKET = 10           # error in socket I/O
_STREAM = 12           # error in rsync protocol data stream
_PARTIAL = 23          # partial transfer due to error
_VANISHED = 24         # partial transfer due to vanished source files
_TIMEOUTS = (30, 35)   # timeout in data send/receive; waiting for daemon

# "-rw-r--r--            123 2026/12/01 22:53:11 Release"
_ENTRY = re.compile(
    r"(?P<mode>[-dlcbps][-rwxsStTl]{9})\s+(?P<size>\d+)\s+"
    r"(?P<date>\d{4}/\d\d/\d\d \d\d:\d\d:\d\d)\s(?P<name>.+)\Z")


class RsyncReplyError(Exception):
    """The daemon answered, but refused what the probe asked (an
    @ERROR line: access denied, authentication required, too many
    connections ...), or the client failed in a way that says nothing
    of the network.

    @ivar exit_code: the client's exit status, an int.
    @ivar reply: the line that says why, str.
    """

    def __init__(self, exit_code, reply):
        self.exit_code = exit_code
        self.reply = reply
        super().__init__(f"rsync exit {exit_code}: {reply}")


class RsyncTimeout(error.TimeoutError):
    """The rsync client gave up waiting for the daemon."""


class RsyncMissing(Exception):
    """The rsync client cannot be run here: the prober's fault, not the
    mirror's."""


@attrs.frozen
class RsyncEntry:
    """One line of a listing: a file's kind, size and mtime (UTC)."""

    mode: str
    size: int
    mtime: datetime
    name: str

    @property
    def is_file(self):
        return self.mode.startswith("-")


@attrs.frozen
class RsyncAnswer:
    """What the daemon said about one path.

    @ivar found: True if the path is a regular file.
    @ivar reply: the listing line, or the line that says it is missing.
    @ivar entry: the L{RsyncEntry} of the file, or None.
    @ivar exit_code: the client's exit status.
    @ivar address: the address the client connected to.
    @ivar body: for fetches, the file's bytes; otherwise None.
    """

    found: bool
    reply: str
    entry: RsyncEntry | None = None
    exit_code: int = 0
    address: str = ""
    body: bytes | None = attrs.field(default=None, repr=False)


def parse_listing(text):
    """The L{RsyncEntry} of each line of C{text}, the output of
    C{rsync --list-only --no-human-readable} run with TZ=UTC; lines that
    are not entries (a daemon's message of the day) are skipped."""
    entries = []
    for line in text.splitlines():
        match = _ENTRY.match(line.rstrip("\r"))
        if match is None:
            continue
        try:
            mtime = datetime.strptime(match["date"], "%Y/%m/%d %H:%M:%S")
        except ValueError:
            continue
        entries.append(RsyncEntry(match["mode"], int(match["size"]),
                                  mtime.replace(tzinfo=timezone.utc),
                                  match["name"]))
    return entries


def rsync_url(address, port, path):
    """The rsync:// URL of C{path} ("/module/dir/file") at the IP
    C{address}, which takes the place of the host name."""
    host = f"[{address}]" if ":" in address else address
    return f"rsync://{host}:{port}{path}"


class _Collect(ProcessProtocol):
    def __init__(self, done):
        self.done = done
        self.out = bytearray()
        self.err = bytearray()
        self.overflowed = False

    def outReceived(self, data):
        if len(self.out) + len(data) > MAX_OUTPUT:
            self.overflowed = True
        if len(self.out) < MAX_OUTPUT:
            self.out += data[:MAX_OUTPUT - len(self.out)]

    def errReceived(self, data):
        if len(self.err) < MAX_OUTPUT:
            self.err += data[:MAX_OUTPUT - len(self.err)]

    def processEnded(self, reason):
        code = getattr(reason.value, "exitCode", None)
        if code is None:
            code = -1
        if not self.done.called:
            self.done.callback((code, self.out.decode("utf-8", "replace"),
                                self.err.decode("utf-8", "replace"),
                                self.overflowed))


def _reason(text):
    """The line of the client's stderr that says why: the daemon's @ERROR,
    else the first complaint (later ones are its consequences)."""
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    errors = [line for line in lines if line.startswith("@ERROR")]
    causes = [line for line in lines if not line.startswith("rsync error:")]
    return (errors or causes or lines or [""])[0]


class _Asked:
    """One path asked of a module, waiting for its listing."""

    __slots__ = ("relative", "deferred", "withdrawn", "batch")

    def __init__(self, relative):
        self.relative = relative
        self.deferred = None
        self.withdrawn = False
        # The _Batch listing it, once one does.
        self.batch = None


class _Batch:
    """The paths one client run lists, and how to stop it."""

    __slots__ = ("asked", "kill")

    def __init__(self, asked):
        self.asked = asked
        self.kill = None
        for each in asked:
            each.batch = self

    def withdrawn(self):
        """One of its paths was withdrawn: the client is killed once all
        are (their probes timed out)."""
        if self.kill is not None and all(
                each.withdrawn for each in self.asked):
            self.kill()


def _missing_reason(err, relative):
    """The line of the client's stderr about `relative`, if any."""
    quoted = '"%s"' % (relative,)
    for line in err.splitlines():
        if quoted in line:
            return line.strip()
    return ""


class RsyncRunner:
    """Runs the rsync client for probes.

    @param reactor: provides IReactorProcess and IReactorTime.
    @param timeout: seconds the client itself waits for the daemon
        (--contimeout and --timeout); callers usually cancel sooner.
    @param families: the L{mirrorkeeper.prober.connect.FamilyRecord}
        addresses are ordered by and answers reported to, or None.
    @param executable: the rsync client, a name on PATH or a path.
    @param slots: the L{mirrorkeeper.prober.slots.SlotAllocator} whose
        slot each client run holds (keyed by the site), or None to run
        at once.
    """

    def __init__(self, reactor, timeout=30, families=None,
                 executable=RSYNC, slots=None):
        self._reactor = reactor
        self._timeout = max(1, math.ceil(timeout))
        self._families = families
        self._executable = executable
        self._slots = slots
        # {(site, addresses, module): [_Asked]}, and the keys whose next
        # listing has been asked for.
        self._waiting = {}
        self._asking = set()
        self.requests_sent = 0
        self.processes_run = 0

    def check(self, site, addresses, path):
        """List C{path} on the daemon of C{site}: a Deferred firing with
        an L{RsyncAnswer}, or failing with ConnectionRefusedError,
        ConnectError, ConnectionLost, L{RsyncTimeout} or
        L{RsyncReplyError}.  Cancelling it withdraws the path; the client
        is killed once every path it lists is withdrawn."""
        if isinstance(addresses, str):
            addresses = (addresses,)
        module, _, relative = path.lstrip("/").partition("/")
        asked = _Asked(relative.rstrip("/") or ".")
        key = (site, tuple(addresses), module)
        asked.deferred = defer.Deferred(
            lambda d: self._withdraw(key, asked))
        self._waiting.setdefault(key, []).append(asked)
        if key not in self._asking:
            self._asking.add(key)
            # Next turn: what the caller asks in this one joins the run.
            self._reactor.callLater(0, self._ask_slot, key)
        return asked.deferred

    @defer.inlineCallbacks
    def fetch(self, site, addresses, path, max_size):
        """As L{check}, then copy the file if it is at most C{max_size}
        bytes: the answer's body is its content.  A larger file is
        answered found with no body."""
        answer = yield self.check(site, addresses, path)
        if answer.found and answer.entry.size <= max_size:
            body = yield self._copy(site, answer.address, path, max_size)
            answer = attrs.evolve(answer, body=body)
        return answer

    def _withdraw(self, key, asked):
        asked.withdrawn = True
        waiting = self._waiting.get(key)
        if waiting is not None and asked in waiting:
            waiting.remove(asked)
        elif asked.batch is not None:
            asked.batch.withdrawn()

    def _ask_slot(self, key):
        if self._slots is None:
            return self._start(None, key)
        self._slots.acquire(key[0], self._start, key)

    def _start(self, ticket, key):
        """With a slot: list what waits for `key`, MAX_BATCH at most."""
        waiting = self._waiting.pop(key, [])
        batch, rest = waiting[:MAX_BATCH], waiting[MAX_BATCH:]
        self._asking.discard(key)
        if rest:
            self._waiting[key] = rest
            self._asking.add(key)
            self._reactor.callLater(0, self._ask_slot, key)
        if not batch:
            if ticket is not None:
                self._slots.release(ticket)
            return
        site, addresses, module = key
        d = self._list_batch(site, addresses, module, _Batch(batch))

        def answered(answers):
            for asked in batch:
                if not asked.deferred.called:
                    asked.deferred.callback(answers[asked.relative])

        def failed(failure):
            for asked in batch:
                if not asked.deferred.called:
                    asked.deferred.errback(failure)

        def done(_):
            if ticket is not None:
                self._slots.release(ticket)
        d.addCallbacks(answered, failed)
        d.addBoth(done)

    @defer.inlineCallbacks
    def _list_batch(self, site, addresses, module, batch):
        """{relative path: RsyncAnswer} of the _Batch `batch`, from the
        first of `addresses` that takes the connection."""
        if self._families is not None:
            addresses = self._families.order(site.host, addresses)
        last = None
        for address in addresses:
            try:
                answers = yield self._list(site, address, module, batch)
            except (error.ConnectionRefusedError, error.ConnectError) as e:
                if self._families is not None:
                    self._families.failed(site.host, address)
                last = e
                continue
            return answers
        raise last

    def _arguments(self):
        seconds = str(self._timeout)
        return ["--no-motd", "--copy-links", "--contimeout=" + seconds,
                "--timeout=" + seconds]

    def _run(self, arguments, requests=1, stdin=b"", batch=None):
        """Run the client: a Deferred firing with (exit status, stdout,
        stderr, whether stdout overflowed), or failing with RsyncTimeout
        when it has not ended within the timeout (it is killed then).
        Cancelling it, or withdrawing every path of the _Batch `batch`,
        kills the client."""
        executable = shutil.which(self._executable)
        if executable is None:
            return defer.fail(RsyncMissing(
                f"the rsync client ({self._executable}) is not installed"))
        self.processes_run += 1
        self.requests_sent += requests
        # Nothing of ours that could redirect the client: no proxy, no
        # connect program, no password to give away; UTC listings.
        env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"),
               "TZ": "UTC", "LC_ALL": "C", "RSYNC_PASSWORD": ""}
        state = {}

        def kill(_=None):
            transport = state.get("transport")
            if transport is not None and transport.pid is not None:
                try:
                    transport.signalProcess("KILL")
                except error.ProcessExitedAlready:
                    pass

        done = defer.Deferred(kill)
        protocol = _Collect(done)
        try:
            state["transport"] = self._reactor.spawnProcess(
                protocol, executable, [executable] + arguments, env=env,
                childFDs={0: "w", 1: "r", 2: "r"})
        except OSError as e:
            return defer.fail(RsyncMissing(f"cannot run rsync: {e}"))

        def expire():
            # A daemon that trickles its answer outlasts the client's own
            # timeouts: the run as a whole has the same deadline.
            state["expired"] = True
            kill()
        deadline = self._reactor.callLater(self._timeout, expire)

        def ended(result):
            if deadline.active():
                deadline.cancel()
            if state.get("expired"):
                raise RsyncTimeout("no complete answer within %d s"
                                   % (self._timeout,))
            return result
        done.addBoth(ended)
        if stdin:
            state["transport"].write(stdin)
        state["transport"].closeStdin()
        if batch is not None:
            batch.kill = kill
            # Withdrawn while it waited for an address to answer.
            batch.withdrawn()
        return done

    @defer.inlineCallbacks
    def _list(self, site, address, module, batch):
        directory = tempfile.mkdtemp(prefix="mirrorkeeper-rsync-")
        paths = "".join(asked.relative + "\n" for asked in batch.asked)
        try:
            # Nothing is copied into the directory: --list-only with a
            # destination lists, and reads the paths from stdin.
            code, out, err, overflowed = yield self._run(
                ["--list-only", "--no-human-readable", "--files-from=-",
                 "--no-implied-dirs"] + self._arguments()
                + [rsync_url(address, site.port, "/%s/" % (module,)),
                   directory + "/"],
                requests=len(batch.asked), stdin=paths.encode("utf-8"),
                batch=batch)
        finally:
            shutil.rmtree(directory, ignore_errors=True)
        self._judge_failure(site, address, code, err)
        if overflowed:
            raise RsyncReplyError(code, "the listing is longer than %d "
                                  "bytes" % (MAX_OUTPUT,))
        if code not in (0, _PARTIAL, _VANISHED, _STARTING):
            raise RsyncReplyError(code, _reason(err))
        listed = {}
        for line in out.splitlines():
            for entry in parse_listing(line):
                listed.setdefault(entry.name, (entry, line.strip()))
        answers = {}
        for asked in batch.asked:
            found = listed.get(asked.relative)
            if found is None:
                # Missing, as the daemon said of it (or of the module).
                answers[asked.relative] = RsyncAnswer(
                    False, _missing_reason(err, asked.relative)
                    or _reason(err) or "not listed", exit_code=code,
                    address=address)
                continue
            entry, line = found
            answers[asked.relative] = RsyncAnswer(entry.is_file, line, entry,
                                                  code, address)
        return answers

    def _judge_failure(self, site, address, code, err):
        """Raise what an exit status other than success or a missing file
        says; record that the daemon answered when it did."""
        missing = "No such file or directory" in err or \
            "Unknown module" in err
        answered = code in (0, _PARTIAL, _VANISHED) or "@ERROR" in err
        if answered and self._families is not None:
            self._families.connected(site.host, address)
            self._families.answered(site.host, address)
        if code == 0 or (code in (_PARTIAL, _VANISHED, _STARTING)
                         and missing):
            return
        reply = _reason(err) or f"exit status {code}"
        if code in _TIMEOUTS:
            raise RsyncTimeout(reply)
        if code == _SOCKET:
            if "Connection refused" in err:
                raise error.ConnectionRefusedError(reply)
            raise error.ConnectError(string=reply)
        if code == _STREAM and not answered:
            raise error.ConnectionLost(reply)
        raise RsyncReplyError(code, reply)

    @defer.inlineCallbacks
    def _copy(self, site, address, path, max_size):
        directory = tempfile.mkdtemp(prefix="mirrorkeeper-rsync-")
        try:
            code, _, err, _ = yield self._run(
                self._arguments()
                + ["--max-size=%d" % (max_size,),
                   rsync_url(address, site.port, path), directory + "/"])
            self._judge_failure(site, address, code, err)
            name = path.rstrip("/").rsplit("/", 1)[-1]
            try:
                with open(os.path.join(directory, name), "rb") as f:
                    return f.read(max_size + 1)[:max_size]
            except OSError:
                # Gone, or grown past max_size, between list and copy.
                return None
        finally:
            shutil.rmtree(directory, ignore_errors=True)
