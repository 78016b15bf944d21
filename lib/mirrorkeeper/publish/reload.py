"""Keeping the daemon's snapshot current without a restart.

A SnapshotSource holds the MirrorIndex requests are answered from.  It
looks at the snapshot file every `interval` seconds (its modification
time, size and inode: a new snapshot is renamed into place, so the inode
changes even within one second) and on SIGHUP; a changed file is read and
indexed in a thread, and only when that succeeded does the new index
replace the old one, in the reactor thread, between two requests.  A
request in flight keeps the index it started with (see
keep_out_of_collections for the garbage collector); a bad file is logged
and the old snapshot goes on serving.  So is a snapshot whose serial is
lower than the one in use: serials only grow (see
mirrorkeeper.publish.snapshot.next_serial), and a lower one is an old file
put back or a numbering that restarted, never newer news.

Each load opens the facts of the snapshot's pool files, of its serial
(mirrorkeeper.publish.poolfacts), when the snapshot says it has them:
facts that are missing, corrupt or of another snapshot are logged, and the
snapshot serves all the same (only metalinks of pool files need them).
"""

import gc
import os
import signal

from twisted.application.service import Service
from twisted.internet import defer, threads
from twisted.internet.task import LoopingCall
from twisted.logger import Logger

from mirrorkeeper.publish.poolfacts import PoolFacts
from mirrorkeeper.publish.selection import index_snapshot
from mirrorkeeper.publish.snapshot import (
    SnapshotError, check_shape, read_snapshot)


def load_index(path, threshold, continent_overrides):
    """The MirrorIndex of the snapshot file at `path` (runs in a
    thread: it touches no Twisted state); SnapshotError if the file cannot
    be read or is not of a snapshot's shape.  Its pool_facts are those
    of its serial, opened read-only (see PoolFacts.open()), when the
    snapshot says it has them."""
    snapshot = read_snapshot(path)
    check_shape(snapshot, path)
    try:
        index = index_snapshot(snapshot, threshold, continent_overrides)
    except (KeyError, IndexError, TypeError, ValueError,
            AttributeError) as error:
        # What check_shape() does not look at (a mirror's records).
        raise SnapshotError("the snapshot %s is malformed: %s: %s" % (
            path, type(error).__name__, error)) from None
    if snapshot.get("pool_facts"):
        index.pool_facts = PoolFacts.open(path, index.serial,
                                          snapshot.get("distribution"))
    return index


def keep_out_of_collections():
    """Take every object alive now (the index just put in use, and the rest
    of the process) out of the garbage collector's full collections, after
    one last full collection.  A full collection walks every object that
    can hold others, and answers no request meanwhile: with an index of
    1,000 mirrors one took 156 ms under wrk's 32 connections (11.7 ms
    with the index left out), which was the daemon's p99.  What the index
    drops is freed as before, by its count of references; its cycles, if
    any, go at the next reload."""
    gc.unfreeze()
    gc.collect()
    gc.freeze()


def _signature(path):
    try:
        stat = os.stat(path)
    except OSError:
        return None
    return (stat.st_mtime_ns, stat.st_size, stat.st_ino)


class SnapshotSource(Service):
    """The current MirrorIndex of a snapshot file, reloaded when the file
    changes or on SIGHUP."""

    log = Logger()

    def __init__(self, reactor, path, threshold, continent_overrides=None,
                 interval=5.0, handle_sighup=True):
        self.reactor = reactor
        self.path = path
        self.threshold = threshold
        self.continent_overrides = continent_overrides or {}
        self.interval = interval
        self.handle_sighup = handle_sighup
        self.current = None
        self.reloads = 0
        # Snapshot files that failed to load, and when the last did (Unix
        # time): what /metrics tells.
        self.reload_errors = 0
        self.last_reload_error = None
        self._signature = None
        self._loading = None
        self._poll = None
        self._previous_handler = None

    def load_now(self):
        """Read the snapshot in the calling thread (at start: a daemon
        without a snapshot has nothing to answer); SnapshotError if it
        cannot be read."""
        signature = _signature(self.path)
        self.current = load_index(self.path, self.threshold,
                                  self.continent_overrides)
        self._signature = signature

    def startService(self):
        Service.startService(self)
        if self.current is None:
            self.load_now()
        self.log.info("Snapshot {serial} ({generated}) in use in process "
                      "{pid}", serial=self.current.serial,
                      generated=self.current.generated, pid=os.getpid())
        self._check_pool_facts(self.current)
        keep_out_of_collections()
        self._poll = LoopingCall(self.check)
        self._poll.clock = self.reactor
        self._poll.start(self.interval, now=False)
        if self.handle_sighup:
            self._previous_handler = signal.signal(
                signal.SIGHUP, self._sighup)

    def stopService(self):
        Service.stopService(self)
        if self._poll is not None and self._poll.running:
            self._poll.stop()
        if self.handle_sighup and self._previous_handler is not None:
            signal.signal(signal.SIGHUP, self._previous_handler)
        return self._loading

    def _sighup(self, signum, frame):
        self.reactor.callFromThread(self.check, force=True)

    def check(self, force=False):
        """Reload if the file changed (or `force`); a Deferred that fires
        when done (with True if a new snapshot is in use)."""
        if self._loading is not None:
            return self._loading
        signature = _signature(self.path)
        if signature is None or (signature == self._signature
                                 and not force):
            return defer.succeed(False)
        self._loading = threads.deferToThreadPool(
            self.reactor, self.reactor.getThreadPool(), load_index,
            self.path, self.threshold, self.continent_overrides)
        self._loading.addCallbacks(self._loaded, self._failed,
                                   callbackArgs=(signature,),
                                   errbackArgs=(signature,))
        return self._loading

    def _loaded(self, index, signature):
        self._loading = None
        old = self.current
        if old is not None and index.serial < old.serial:
            # Not tried again until the file changes once more.
            self._signature = signature
            self.reload_errors += 1
            self.last_reload_error = self.reactor.seconds()
            self.log.error(
                "The snapshot {path} has serial {serial}, lower than the "
                "{current} in use: refused, {current} goes on serving",
                path=self.path, serial=index.serial, current=old.serial)
            return False
        self.current = index
        self._signature = signature
        self.reloads += 1
        self.log.info("Snapshot {serial} ({generated}) in use in process "
                      "{pid}, replacing {old}", serial=index.serial,
                      generated=index.generated, pid=os.getpid(),
                      old=old.serial if old else None)
        self._check_pool_facts(index)
        keep_out_of_collections()
        return True

    def _check_pool_facts(self, index):
        facts = index.pool_facts
        if facts is not None and facts.problem:
            facts.reported = True
            self.log.error("{problem}: metalinks of pool files answer 503 "
                           "while snapshot {serial} serves",
                           problem=facts.problem, serial=index.serial)

    def _failed(self, failure, signature):
        self._loading = None
        # Not tried again until the file changes once more.
        self._signature = signature
        self.reload_errors += 1
        self.last_reload_error = self.reactor.seconds()
        if failure.check(SnapshotError):
            # A bad file, not a bug: its message says what is wrong.
            self.log.error("{error}; the previous snapshot goes on "
                           "serving", error=failure.getErrorMessage())
        else:
            self.log.failure("The snapshot {path} could not be loaded; the "
                             "previous one goes on serving", failure,
                             path=self.path)
        return False
