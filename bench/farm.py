"""The benchmark farm: a world's mirrors on loopback, one process per core.

Each mirror listens on its own address (127.77.x.y, see bench.world; the
new host of a redirecting mirror on 127.78.x.y) and the world's port, so
the prober's per-host limit and its kept-alive connections are per
mirror, as on the Internet.  Mirror i is served by worker process
i % workers; each worker runs its own reactor.  A worker answers from the
world's behaviour table (`World.answer`), without any file on disk, after
the mirror's latency (a callLater, so the waiting costs no CPU); a dead
mirror accepts connections and never answers; nothing listens for a refusing
one.  The HTTP side is a small Protocol: request line and headers, one
answer at a time per connection, keep-alive, idle connections closed after
`keepalive` seconds as a real server closes them.

The parent drives the workers through their standard input and output, one
command a line, one JSON answer a line per worker:

    farm = Farm(world_file, workers=2)
    farm.start()
    farm.reset()              # zero the counters
    farm.record(prefix)       # write each answered request's URL to a file
    ... run a client ...
    stats = farm.stats()      # requests per mirror, first/last request, CPU
    farm.stop()

A worker stops by itself when its standard input closes (the parent went
away) or after `lifetime` seconds, whichever comes first.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

# Answers, by status; every answer is empty (Content-Length: 0), which is a
# valid answer to HEAD and keeps the farm cheap.
_REASONS = {200: b"OK", 302: b"Found", 400: b"Bad Request",
            404: b"Not Found", 503: b"Service Unavailable"}
_SERVER = b"Server: mirrorkeeper-bench-farm\r\n"


def _response(status, location=None, close=False):
    head = b"HTTP/1.1 %d %s\r\n" % (status, _REASONS[status]) + _SERVER
    if location is not None:
        head += b"Location: " + location.encode("ascii") + b"\r\n"
    if close:
        head += b"Connection: close\r\n"
    return head + b"Content-Length: 0\r\n\r\n"


# The worker: a reactor serving its share of the mirrors.

def _worker_main(arguments):
    # Imported here: the parent needs none of Twisted.
    from twisted.internet import reactor, stdio, task
    from twisted.internet.protocol import Factory, Protocol
    from twisted.protocols.basic import LineReceiver

    from bench.world import World

    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))

    with open(arguments.world, encoding="utf-8") as f:
        world = World.from_json(f.read())
    mine = [m for m in world.hosts
            if m["index"] % arguments.workers == arguments.worker]

    class Worker:
        def __init__(self):
            self.connections = set()
            self.recorder = None
            self.reset()

        def reset(self):
            self.first = self.last = self.last_hung = None
            for state in states.values():
                state.reset()

    class MirrorState:
        """One mirror: its description, its answers and its counters."""

        __slots__ = ("mirror", "latency", "dead", "answers", "requests",
                     "answered", "hung", "connections", "url_prefix")

        def __init__(self, mirror):
            self.mirror = mirror
            self.latency = mirror["latency"]
            self.dead = mirror["behaviour"] == "dead"
            self.answers = {}
            self.url_prefix = "http://%s:%d" % (mirror["address"],
                                                world.port)
            self.reset()

        def reset(self):
            self.requests = self.answered = self.hung = self.connections = 0

        def answer(self, target):
            """The bytes answering a request for `target` (bytes)."""
            status, location = world.answer(self.mirror,
                                            target.decode("latin-1"))
            if location is not None:
                return _response(status, location)
            response = self.answers.get(status)
            if response is None:
                response = self.answers[status] = _response(status)
            return response

    class MirrorProtocol(Protocol):
        """HTTP/1.1 for one connection: one request answered at a time."""

        max_request_bytes = 16 * 1024

        def __init__(self, state):
            self.state = state
            self.buffer = b""
            self.busy = False
            self.idle_since = time.monotonic()

        def connectionMade(self):
            self.state.connections += 1
            worker.connections.add(self)

        def connectionLost(self, reason):
            worker.connections.discard(self)

        def dataReceived(self, data):
            self.buffer += data
            if not self.busy:
                self.next_request()

        def next_request(self):
            end = self.buffer.find(b"\r\n\r\n")
            if end < 0:
                if len(self.buffer) > self.max_request_bytes:
                    self.transport.abortConnection()
                return
            head, self.buffer = self.buffer[:end], self.buffer[end + 4:]
            line_end = head.find(b"\r\n")
            parts = (head if line_end < 0 else head[:line_end]).split(b" ")
            state = self.state
            state.requests += 1
            now = time.time()
            if worker.first is None:
                worker.first = now
            self.busy = True
            if len(parts) != 3:
                reactor.callLater(state.latency, self.respond,
                                  _response(400, close=True), True, None)
                return
            method, target, version = parts
            if state.dead:
                state.hung += 1
                worker.last_hung = now
                return
            close = version == b"HTTP/1.0" or \
                b"connection: close" in head.lower()
            response = state.answer(target)
            if close:
                response = response[:-2] + b"Connection: close\r\n\r\n"
            reactor.callLater(state.latency, self.respond, response, close,
                              target)

        def respond(self, response, close, target):
            if not self.connected:
                return
            self.transport.write(response)
            state = self.state
            state.answered += 1
            worker.last = time.time()
            if worker.recorder is not None and target is not None:
                worker.recorder.write(state.url_prefix +
                                      target.decode("latin-1") + "\n")
            self.busy = False
            self.idle_since = time.monotonic()
            if close:
                self.transport.loseConnection()
            elif self.buffer:
                self.next_request()

    class MirrorFactory(Factory):
        def __init__(self, state):
            self.state = state

        def buildProtocol(self, addr):
            return MirrorProtocol(self.state)

    class Control(LineReceiver):
        delimiter = b"\n"

        def lineReceived(self, line):
            command, _, argument = line.decode().strip().partition(" ")
            reply = {"ok": True}
            if command == "stats":
                usage = resource.getrusage(resource.RUSAGE_SELF)
                reply.update(
                    cpu=usage.ru_utime + usage.ru_stime,
                    maxrss_kb=usage.ru_maxrss, first=worker.first,
                    last=worker.last, last_hung=worker.last_hung,
                    open_connections=len(
                        worker.connections),
                    mirrors={s.mirror["name"]: [s.requests, s.answered,
                                                s.hung, s.connections]
                             for s in states.values()})
            elif command == "reset":
                worker.reset()
            elif command == "record":
                if worker.recorder is not None:
                    worker.recorder.close()
                worker.recorder = open(argument, "w", encoding="ascii",
                                       buffering=1 << 20)
            elif command == "record-stop":
                if worker.recorder is not None:
                    worker.recorder.close()
                    worker.recorder = None
            else:
                reply = {"ok": False, "error": "unknown command %r"
                         % (command,)}
            self.sendLine(json.dumps(reply).encode())

        def connectionLost(self, reason):
            if reactor.running:
                reactor.stop()

    def close_idle():
        limit = time.monotonic() - arguments.keepalive
        for protocol in list(worker.connections):
            if not protocol.busy and protocol.idle_since < limit:
                protocol.transport.loseConnection()

    states = {}
    for mirror in mine:
        states[mirror["name"]] = state = MirrorState(mirror)
        if mirror["behaviour"] != "refusing":
            reactor.listenTCP(world.port, MirrorFactory(state),
                              backlog=128, interface=mirror["address"])
    worker = Worker()
    sweeper = task.LoopingCall(close_idle)
    sweeper.start(min(5.0, arguments.keepalive), now=False)
    reactor.callLater(arguments.lifetime, reactor.stop)
    control = Control()
    stdio.StandardIO(control)
    control.sendLine(json.dumps({"ready": True, "mirrors": len(mine)})
                     .encode())
    reactor.run()
    if worker.recorder is not None:
        worker.recorder.close()


# The parent's side.

class FarmError(Exception):
    pass


class Farm:
    """The worker processes serving a world; see the module docstring.

    @param world_file: the world, as World.to_json wrote it.
    @param workers: processes (default: one per core).
    @param keepalive: seconds an idle connection stays open.
    @param lifetime: seconds after which every worker stops by itself.
    @param log_dir: where each worker's standard error goes.
    """

    def __init__(self, world_file, workers=None, keepalive=15.0,
                 lifetime=4 * 3600, log_dir=None):
        self.world_file = world_file
        self.workers = workers or os.cpu_count() or 1
        self.keepalive = keepalive
        self.lifetime = lifetime
        self.log_dir = log_dir or os.path.dirname(world_file)
        self.processes = []
        self.usage = []

    def start(self):
        environment = dict(os.environ)
        environment["PYTHONPATH"] = os.pathsep.join(
            filter(None, [ROOT, environment.get("PYTHONPATH")]))
        for worker in range(self.workers):
            log = open(os.path.join(self.log_dir, "farm-%d.log" % worker),
                       "w")
            self.processes.append(subprocess.Popen(
                [sys.executable, "-m", "bench.farm", "--world",
                 self.world_file, "--worker", str(worker), "--workers",
                 str(self.workers), "--keepalive", str(self.keepalive),
                 "--lifetime", str(self.lifetime)],
                stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=log,
                cwd=ROOT, env=environment, text=True))
            log.close()
        for process in self.processes:
            line = process.stdout.readline()
            if not line or not json.loads(line).get("ready"):
                self.stop()
                raise FarmError("a farm worker did not start; see %s"
                                % (self.log_dir,))
        return self

    def _command(self, line):
        for process in self.processes:
            process.stdin.write(line + "\n")
            process.stdin.flush()
        replies = []
        for process in self.processes:
            text = process.stdout.readline()
            if not text:
                raise FarmError("a farm worker died; see %s"
                                % (self.log_dir,))
            reply = json.loads(text)
            if not reply.get("ok"):
                raise FarmError(reply.get("error", "farm command failed"))
            replies.append(reply)
        return replies

    def reset(self):
        self._command("reset")

    def record(self, prefix):
        """Each worker writes the URL of every request it answers to
        `prefix`.N; returns the file names."""
        names = ["%s.%d" % (prefix, n) for n in range(self.workers)]
        for process, name in zip(self.processes, names):
            process.stdin.write("record %s\n" % (name,))
            process.stdin.flush()
            reply = json.loads(process.stdout.readline())
            if not reply.get("ok"):
                raise FarmError(reply.get("error"))
        return names

    def stop_recording(self):
        self._command("record-stop")

    def stats(self):
        """The workers' counters merged: {"cpu" (seconds, all workers),
        "first", "last" (time.time() of the first request and the last
        answer), "last_hung" (of the last request never answered),
        "mirrors" {name: [requests, answered, hung, connections]},
        "open_connections", "maxrss_kb" (the largest worker's)}."""
        replies = self._command("stats")
        mirrors = {}
        for reply in replies:
            mirrors.update(reply["mirrors"])
        firsts = [r["first"] for r in replies if r["first"] is not None]
        lasts = [r["last"] for r in replies if r["last"] is not None]
        hungs = [r["last_hung"] for r in replies
                 if r["last_hung"] is not None]
        return {
            "cpu": sum(r["cpu"] for r in replies),
            "first": min(firsts) if firsts else None,
            "last": max(lasts) if lasts else None,
            "last_hung": max(hungs) if hungs else None,
            "mirrors": mirrors,
            "open_connections": sum(r["open_connections"] for r in replies),
            "maxrss_kb": max(r["maxrss_kb"] for r in replies),
        }

    def stop(self, timeout=10.0):
        """Stop the workers; returns the rusage of each."""
        usage = []
        for process in self.processes:
            try:
                process.stdin.close()
            except OSError:
                pass
        deadline = time.monotonic() + timeout
        for process in self.processes:
            while True:
                pid, _, rusage = os.wait4(process.pid, os.WNOHANG)
                if pid:
                    process.returncode = 0
                    usage.append(rusage)
                    break
                if time.monotonic() > deadline:
                    process.kill()
                    _, _, rusage = os.wait4(process.pid, 0)
                    process.returncode = -9
                    usage.append(rusage)
                    break
                time.sleep(0.05)
            process.stdout.close()
        self.processes = []
        self.usage = usage
        return usage

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc_info):
        if self.processes:
            self.stop()


def main(argv=None):
    parser = argparse.ArgumentParser(description="One farm worker process.")
    parser.add_argument("--world", required=True)
    parser.add_argument("--worker", type=int, required=True)
    parser.add_argument("--workers", type=int, required=True)
    parser.add_argument("--keepalive", type=float, default=15.0)
    parser.add_argument("--lifetime", type=float, default=4 * 3600)
    _worker_main(parser.parse_args(argv))


if __name__ == "__main__":
    main()
