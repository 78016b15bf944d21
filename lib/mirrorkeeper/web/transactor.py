"""Running database work off the reactor thread, one store per thread.

Storm objects must never cross a thread boundary, and a slow query must
never hold up the reactor.  A Transactor owns a few worker threads, each
with a store of its own opened on first use and closed when the worker
stops.  ``run(function, *args)`` calls ``function(store, *args)`` in a
worker, commits when it returns (rolls back when it raises), and gives
the reactor a Deferred firing with its result: plain values only (ids,
strings, dataclasses), never a model object.  This is the pattern of
Storm's own storm.twisted.transact, without the zstorm and transaction
packages it needs.

InlineTransactor does the same work in the caller's thread on a store it
is given: for scripts and in-process tests, where no reactor runs the
threads.
"""

import contextlib
import queue
import random
import threading
import time

from storm.exceptions import OperationalError
from twisted.internet import defer
from twisted.python.failure import Failure

from mirrorkeeper.database.store import backend_of, open_store

# How many times a transaction that lost to a concurrent one is run, and
# the longest pause (seconds) before running it again: a random part of
# it, so that the losers of one race do not meet again in the next.
ATTEMPTS = 5
PAUSE = 0.05

# PostgreSQL's SQLSTATEs for a transaction that lost to another:
# serialization failure and deadlock.  Run again, it sees the winner's
# work and decides afresh.
_LOST_TO_ANOTHER = {"40001", "40P01"}


def lost_to_another(error):
    """Whether `error` ended a transaction only because a concurrent one
    won (PostgreSQL's serialization failures and deadlocks, SQLite's
    "database is locked"): nothing was wrong with the work itself."""
    if not isinstance(error, OperationalError):
        return False
    # Storm raises its own copy of the driver's exception, from it: the
    # SQLSTATE is on the driver's (the copy's pgcode is not a string).
    pgcode = getattr(error.__cause__, "pgcode", None)
    return pgcode in _LOST_TO_ANOTHER or "database is locked" in str(error)


def _transact(store, function, args, kwargs):
    """function(store, *args, **kwargs), committed; run again (at most
    ATTEMPTS times in all) when it lost to a concurrent transaction, so
    that such a loss is never the client's error.  The work must touch
    nothing but the store (mail goes through the outbox, in it)."""
    for attempt in range(1, ATTEMPTS + 1):
        try:
            result = function(store, *args, **kwargs)
            store.commit()
            return result
        except BaseException as error:
            store.rollback()
            if attempt == ATTEMPTS or not lost_to_another(error):
                raise
        time.sleep(random.uniform(0, PAUSE * attempt))


class Transactor:
    """Worker threads with a store each; see the module docstring."""

    # Web requests read a lot and write a little; a few threads keep the
    # database busy without many connections (SQLite serialises writers
    # anyway, PostgreSQL counts connections).
    threads = 4

    def __init__(self, database_uri, reactor, threads=None):
        self.database_uri = database_uri
        self.reactor = reactor
        if threads is not None:
            self.threads = threads
        self._jobs = queue.Queue()
        self._workers = []
        # SQLite has one writer at a time, and a transaction that read
        # before it wrote cannot wait for another writer: it fails after
        # the busy timeout.  The threads of one process take turns instead,
        # which costs SQLite nothing it had; PostgreSQL runs them at once.
        self._turns = threading.Lock() \
            if backend_of(database_uri) == "sqlite" \
            else contextlib.nullcontext()

    def start(self):
        for number in range(self.threads):
            worker = threading.Thread(
                target=self._work, name="mirrorkeeper-web-db-%d" % number,
                daemon=True)
            worker.start()
            self._workers.append(worker)

    def stop(self):
        """Let every worker finish its job, close its store and end."""
        for _ in self._workers:
            self._jobs.put(None)
        for worker in self._workers:
            worker.join()
        self._workers = []

    def run(self, function, *args, **kwargs):
        """A Deferred firing with function(store, *args, **kwargs), run and
        committed in a worker thread."""
        d = defer.Deferred()
        self._jobs.put((d, function, args, kwargs))
        return d

    def _work(self):
        store = None
        try:
            while True:
                job = self._jobs.get()
                if job is None:
                    return
                d, function, args, kwargs = job
                try:
                    if store is None:
                        store = open_store(self.database_uri)
                    with self._turns:
                        result = _transact(store, function, args, kwargs)
                except BaseException:
                    outcome = Failure()
                    self.reactor.callFromThread(d.errback, outcome)
                else:
                    self.reactor.callFromThread(d.callback, result)
        finally:
            if store is not None:
                store.close()


class InlineTransactor:
    """Runs the work at once in the caller's thread, on `store`."""

    def __init__(self, store):
        self.store = store

    def start(self):
        pass

    def stop(self):
        pass

    def run(self, function, *args, **kwargs):
        return defer.maybeDeferred(_transact, self.store, function, args,
                                   kwargs)
