"""A cache of what the busiest pages and endpoints answer, that the
database invalidates.

The mirror listings and /api/1/status read every mirror of a
distribution: tens of milliseconds of queries, rendering or JSON for a
thousand mirrors, for an answer that changes when something writes (a
probe recorded or applied, an admin's edit, a check-in), not between one
request and the next.  AnswerCache keeps each computed answer (the
rendered listing, the encoded status) by key (the page and the filters
it reads) and by the version of the data it was computed from:

- `data_version(store)` is read on every request, before the answer is
  looked up or computed: one statement of two aggregates, the read
  model's states_version (the number of mirrors and the sum of their
  revisions, which the database raises in the transaction of every
  change to what the read model says, whoever the writer: schema patch
  0024).  Any change is a miss at the next request, in every process.
- An answer is computed after its version was read, so it is at least
  as new as its version: it may be newer, never older.

Requests that miss while the same answer is being computed wait for it
rather than computing it again.  A failure (an unknown distribution or
mirror) is not kept.  Everything here runs in the reactor thread; the
computing is done by the caller, in the database threads as usual.
"""

from twisted.internet import defer

from mirrorkeeper.model.mirrorstate import states_version

# How many answers are kept at most, the least recently used going first:
# each distinct ?distribution= and ?mirror= of the status endpoint, and
# each view of a listing, is one.
LIMIT = 256


def data_version(store):
    """What changes whenever what the read model says of a mirror may
    have (see the module docstring)."""
    return states_version(store)


class _Entry:
    __slots__ = ("version", "value")

    def __init__(self, version, value):
        self.version = version
        self.value = value


class AnswerCache:
    """Answers by key, each kept while its version holds; see the module
    docstring."""

    def __init__(self, limit=LIMIT):
        self.limit = limit
        self._entries = {}
        self._pending = {}
        self.hits = 0
        self.misses = 0

    def answer(self, key, version, compute):
        """A Deferred firing with the answer for `key` at `version`: the
        one kept if it was computed at that version, else compute() (a
        value or a Deferred), kept."""
        entry = self._entries.pop(key, None)
        if entry is not None:
            # Last in the dict: the most recently used.
            self._entries[key] = entry
            if entry.version == version:
                self.hits += 1
                return defer.succeed(entry.value)
        self.misses += 1
        waiting = self._pending.get((key, version))
        if waiting is not None:
            d = defer.Deferred()
            waiting.append(d)
            return d
        waiting = self._pending[(key, version)] = []

        def computed(value):
            del self._pending[(key, version)]
            self._entries.pop(key, None)
            self._entries[key] = _Entry(version, value)
            while len(self._entries) > self.limit:
                del self._entries[next(iter(self._entries))]
            for d in waiting:
                d.callback(value)
            return value

        def failed(failure):
            del self._pending[(key, version)]
            for d in waiting:
                d.errback(failure)
            return failure

        return defer.maybeDeferred(compute).addCallbacks(computed, failed)
