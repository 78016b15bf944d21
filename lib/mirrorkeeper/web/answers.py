"""A short-lived cache of what the busiest pages and endpoints answer.

The mirror listings and /api/1/status read every mirror of a
distribution: tens of milliseconds of queries, rendering or JSON for a
thousand mirrors, for an answer that changes when the prober records a
probe, not between one request and the next.  AnswerCache keeps each
computed answer (the rendered listing, the encoded status) by key (the
page and the filters it reads), for `seconds` at most, and only while the
data it was computed from has not visibly changed:

- `data_version(store)` is read on every request (two index-only
  aggregates): the newest probe record's id, which every recorded probe
  raises (the prober writes a mirror's content records, detector checks
  and probe record in one transaction), and the number and highest id of
  mirrors, which registrations and deletions change.  A changed version
  is a miss at once.
- Every form this process handles that writes (register, edit, review,
  pause, resubmit, delete) clears the cache.
- What neither shows (a mirror edited or enabled by another process: the
  command line, the prober's verdicts) is at most `seconds` old.

Requests that miss while the same answer is being computed wait for it
rather than computing it again.  A failure (an unknown distribution or
mirror) is not kept.  Everything here runs in the reactor thread; the
computing is done by the caller, in the database threads as usual.
`seconds` of 0 turns the cache off.
"""

from storm.expr import Count, Max, Select
from twisted.internet import defer

from mirrorkeeper.model.distributionmirror import DistributionMirror
from mirrorkeeper.model.mirrorcontent import MirrorProbeRecord

# How many answers are kept at most: each distinct ?distribution= and
# ?mirror= of the status endpoint is one.
LIMIT = 256


def data_version(store):
    """What changes when the mirrors or their probes do: (newest probe
    record id, number of mirrors, highest mirror id)."""
    (newest_probe,), = store.execute(Select(Max(MirrorProbeRecord.id)))
    (mirrors, highest), = store.execute(Select(
        (Count(), Max(DistributionMirror.id)), tables=DistributionMirror))
    return (newest_probe, mirrors, highest)


class _Entry:
    __slots__ = ("version", "time", "value")

    def __init__(self, version, time, value):
        self.version = version
        self.time = time
        self.value = value


class AnswerCache:
    """Answers by key, each kept `seconds` while its version holds; see
    the module docstring.  `clock` has seconds() (a reactor, a Clock)."""

    def __init__(self, seconds, clock, limit=LIMIT):
        self.seconds = seconds
        self.clock = clock
        self.limit = limit
        self._entries = {}
        self._pending = {}
        self._generation = 0
        self.hits = 0
        self.misses = 0

    @property
    def enabled(self):
        return self.seconds > 0

    def clear(self):
        """Forget every answer; those being computed are not kept."""
        self._entries.clear()
        self._pending.clear()
        self._generation += 1

    def answer(self, key, version, compute):
        """A Deferred firing with the answer for `key` at `version`: kept
        if fresh, else compute() (a value or a Deferred), kept."""
        if not self.enabled:
            return defer.maybeDeferred(compute)
        now = self.clock.seconds()
        entry = self._entries.get(key)
        if entry is not None and entry.version == version and \
                now - entry.time < self.seconds:
            self.hits += 1
            return defer.succeed(entry.value)
        self.misses += 1
        waiting = self._pending.get((key, version))
        if waiting is not None:
            d = defer.Deferred()
            waiting.append(d)
            return d
        waiting = self._pending[(key, version)] = []
        generation = self._generation

        def computed(value):
            self._forget_pending(key, version, waiting)
            if generation == self._generation:
                # Timed from the start: the data may have changed while
                # it was being read.
                self._entries.pop(key, None)
                self._entries[key] = _Entry(version, now, value)
                while len(self._entries) > self.limit:
                    del self._entries[next(iter(self._entries))]
            for d in waiting:
                d.callback(value)
            return value

        def failed(failure):
            self._forget_pending(key, version, waiting)
            for d in waiting:
                d.errback(failure)
            return failure

        return defer.maybeDeferred(compute).addCallbacks(computed, failed)

    def _forget_pending(self, key, version, waiting):
        if self._pending.get((key, version)) is waiting:
            del self._pending[(key, version)]
