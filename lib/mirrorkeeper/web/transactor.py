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
import threading

from twisted.internet import defer
from twisted.python.failure import Failure

from mirrorkeeper.database.store import backend_of, open_store
from mirrorkeeper.database.transaction import committed


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
                        result = committed(
                            store, function, *args, **kwargs)
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
        return defer.maybeDeferred(committed, self.store, function, *args,
                                   **kwargs)
