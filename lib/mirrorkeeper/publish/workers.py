"""Several mirror list daemon processes on one port (``--workers N``).

The design's stateless replicas on one machine: every worker is a whole
daemon (its own snapshot, reloaded on its own, its own statistics files,
its own /metrics under the label worker="NUMBER", given by --worker)
listening on the same TCP port with SO_REUSEPORT, so the kernel spreads
new connections over them and each core answers requests.  The process
started is worker 0: it listens first (so ``tcp:0`` has a port to share),
then starts the others as ``python -m mirrorkeeper.publish.workers`` with
the same options, forwards SIGHUP to them, restarts one that dies, and
stops them when it stops.  A worker whose parent is gone (its stdin, a
pipe from the parent, closes) stops too.
"""

import os
import signal
import socket
import sys

from twisted.application.service import Service
from twisted.internet import defer, protocol
from twisted.logger import Logger

# Seconds a stopping worker gets before SIGKILL, and before a worker that
# died is started again.
STOP_TIMEOUT = 10.0
RESTART_DELAY = 1.0


def worker_count(value):
    """The number of processes `--workers` asks for: 0 means one per
    core."""
    value = int(value)
    if value < 0:
        raise ValueError("--workers must be 0 (one per core) or more")
    return value or os.cpu_count() or 1


def _split(description):
    """An endpoint description's fields, split at colons not escaped by a
    backslash (as Twisted's endpoint strings are)."""
    fields, current, escaped = [], [], False
    for character in description:
        if escaped:
            current.append(character)
            escaped = False
        elif character == "\\":
            escaped = True
        elif character == ":":
            fields.append("".join(current))
            current = []
        else:
            current.append(character)
    fields.append("".join(current))
    return fields


def parse_tcp(description):
    """(family, interface, port, backlog) of a ``tcp:PORT[:interface=X]
    [:backlog=N]`` or ``tcp6:...`` endpoint; ValueError for anything
    else (SO_REUSEPORT needs a TCP port)."""
    fields = _split(description)
    kind = fields[0].lower()
    if kind not in ("tcp", "tcp6") or len(fields) < 2:
        raise ValueError("--workers and --reuse-port need a tcp: or tcp6: "
                         "endpoint, not %r" % (description,))
    positional, keywords = [], {}
    for field in fields[1:]:
        name, equals, value = field.partition("=")
        if equals:
            keywords[name] = value
        else:
            positional.append(field)
    port = int(keywords.pop("port", positional[0] if positional else 0))
    interface = keywords.pop("interface", "::" if kind == "tcp6" else "")
    backlog = int(keywords.pop("backlog", 50))
    if keywords or len(positional) > 1:
        raise ValueError("unknown fields in endpoint %r" % (description,))
    family = socket.AF_INET6 if kind == "tcp6" or ":" in interface \
        else socket.AF_INET
    return family, interface, port, backlog


def listen_reuseport(reactor, description, factory):
    """Listen on the TCP endpoint `description` with SO_REUSEPORT (and
    SO_REUSEADDR), so that other processes may listen on the same port;
    the reactor's listening port."""
    family, interface, port, backlog = parse_tcp(description)
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        sock.bind((interface, port))
        sock.listen(backlog)
        sock.setblocking(False)
        return reactor.adoptStreamPort(sock.fileno(), family, factory)
    finally:
        # The port holds a duplicate of the descriptor.
        sock.close()


def endpoint_with_port(description, port):
    """`description` (a tcp endpoint) naming `port`: what the other
    workers listen on when the first asked for port 0."""
    family, interface, _, backlog = parse_tcp(description)
    kind = "tcp6" if family == socket.AF_INET6 else "tcp"
    text = "%s:%d:backlog=%d" % (kind, port, backlog)
    if interface:
        text += ":interface=" + interface.replace(":", "\\:")
    return text


class _Worker(protocol.ProcessProtocol):
    def __init__(self, pool, number):
        self.pool = pool
        self.number = number
        self.ended = defer.Deferred()

    def processEnded(self, reason):
        self.pool._ended(self, reason)
        self.ended.callback(None)


class WorkerPool(Service):
    """Workers 1 to count-1 as child processes (this process is worker 0),
    started once `listening` (a Deferred firing with this process's
    port) has fired, each given the daemon's `argv` with the actual port
    and --workers 1 --reuse-port."""

    log = Logger()

    def __init__(self, reactor, count, argv, listen, listening):
        self.reactor = reactor
        self.count = count
        self.argv = list(argv)
        self.listen = listen
        self.listening = listening
        self.workers = {}
        self.started = defer.Deferred()
        self._stopping = False
        self._previous_handler = None
        self._child_argv = None

    def startService(self):
        Service.startService(self)
        self._previous_handler = signal.signal(signal.SIGHUP, self._sighup)
        self.listening.addCallback(self._spawn_all)

    def _spawn_all(self, port):
        self._child_argv = self.argv + [
            "--listen", endpoint_with_port(self.listen, port.getHost().port),
            "--workers", "1", "--reuse-port"]
        for number in range(1, self.count):
            self._spawn(number)
        self.started.callback(sorted(self.pids()))
        return port

    def _spawn(self, number):
        if self._stopping:
            return
        worker = _Worker(self, number)
        worker.transport = self.reactor.spawnProcess(
            worker, sys.executable,
            [sys.executable, "-m", "mirrorkeeper.publish.workers"]
            + self._child_argv + ["--worker", str(number)],
            env=os.environ.copy(), childFDs={0: "w", 1: 1, 2: 2})
        self.workers[number] = worker
        self.log.info("Worker {number} started (process {pid})",
                      number=number, pid=worker.transport.pid)

    def pids(self):
        """The process ids of the running child workers."""
        return [w.transport.pid for w in self.workers.values()
                if w.transport.pid is not None]

    def _ended(self, worker, reason):
        if self.workers.get(worker.number) is worker:
            del self.workers[worker.number]
        if not self._stopping:
            self.log.error("Worker {number} ended ({reason}); starting it "
                           "again", number=worker.number,
                           reason=reason.getErrorMessage())
            self.reactor.callLater(RESTART_DELAY, self._spawn, worker.number)

    def _sighup(self, signum, frame):
        previous = self._previous_handler
        if callable(previous):
            previous(signum, frame)
        self.reactor.callFromThread(self._forward, "HUP")

    def _forward(self, name):
        for worker in list(self.workers.values()):
            try:
                worker.transport.signalProcess(name)
            except Exception:
                pass

    def stopService(self):
        Service.stopService(self)
        self._stopping = True
        if self._previous_handler is not None:
            signal.signal(signal.SIGHUP, self._previous_handler)
            self._previous_handler = None
        workers = list(self.workers.values())
        if not workers:
            return None
        self._forward("TERM")

        def kill():
            self._forward("KILL")
        timer = self.reactor.callLater(STOP_TIMEOUT, kill)

        def done(result):
            if timer.active():
                timer.cancel()
            return result
        return defer.DeferredList(
            [w.ended for w in workers]).addBoth(done)


class _ParentWatch(protocol.Protocol):
    """Stops the reactor when stdin (the parent's pipe) closes."""

    def __init__(self, reactor):
        self.reactor = reactor

    def connectionLost(self, reason):
        if self.reactor.running:
            self.reactor.stop()


def main(argv=None):
    """A worker process: the daemon with the options given, until SIGTERM,
    SIGINT or its parent's end."""
    from twisted.internet import reactor, stdio
    from twisted.logger import globalLogBeginner, textFileLogObserver

    from mirrorkeeper.publish.server import Options, makeService
    options = Options()
    options.parseOptions(sys.argv[1:] if argv is None else argv)
    service = makeService(options, reactor)
    service.startService()
    globalLogBeginner.beginLoggingTo([textFileLogObserver(sys.stderr)],
                                     redirectStandardIO=False)
    stdio.StandardIO(_ParentWatch(reactor), stdout=os.open(
        os.devnull, os.O_WRONLY))
    reactor.addSystemEventTrigger("before", "shutdown", service.stopService)
    reactor.run()
    return 0


if __name__ == "__main__":
    sys.exit(main())
