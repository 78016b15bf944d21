"""Request slots under a global limit and a per-host limit.

L{SlotAllocator} does what two twisted.internet.defer.DeferredSemaphores
did for the probe client (a request takes its host's slot, then a global
one, each queue first come first served), without a Deferred per
acquisition: a probe is a plain callback, and a released slot goes straight
to the next waiter.
"""

from __future__ import annotations

from collections import deque

from twisted.logger import Logger

log = Logger()

# What a ticket is waiting for, or holds.
_WAITING_FOR_KEY, _WAITING_FOR_GLOBAL, _GRANTED, _CANCELLED = range(4)


class SlotTicket:
    """One request for a slot, returned by L{SlotAllocator.acquire}.

    @ivar key: the per-key limit's key (the probe client uses the site).
    @ivar state: what the ticket waits for, holds, or that it was
        cancelled (private values).
    """

    __slots__ = ("key", "state", "callback", "args")

    def __init__(self, key, callback, args):
        self.key = key
        self.state = _WAITING_FOR_KEY
        self.callback = callback
        self.args = args

    @property
    def granted(self):
        """True once both slots are held and the callback has been called
        (or is about to be, see L{SlotAllocator})."""
        return self.state == _GRANTED


class _KeyQueue:
    __slots__ = ("used", "waiters")

    def __init__(self):
        self.used = 0
        self.waiters = deque()


class SlotAllocator:
    """Grants slots so that at most C{limit} are held in all, and at most
    C{per_key} for any one key.

    A request first waits for a slot of its key, then (holding it) for a
    global slot; both queues are first in, first out.  When both are held
    the request's callback is called with the request's L{SlotTicket}.
    Callbacks are never nested: a callback that releases or acquires slots,
    directly or through what it calls, has the resulting grants run after
    it returns, in order.  A
    callback that raises is logged; the slot stays held until released.

    A key is kept only while it holds or waits for a slot: a run over
    thousands of hosts keeps those it is asking, not every one it asked.

    @param limit: slots held at once across all keys, at least 1.
    @param per_key: slots held at once for one key, at least 1.
    """

    def __init__(self, limit, per_key):
        if limit < 1 or per_key < 1:
            raise ValueError("limits must be at least 1")
        self.limit = limit
        self.per_key = per_key
        self.used = 0
        self._waiters = deque()
        self._keys = {}
        self._ready = deque()
        self._dispatching = False

    def acquire(self, key, callback, *args):
        """Ask for a slot for C{key}; C{callback(ticket, *args)} is called
        once both slots are held, C{ticket} being the one returned here.

        @return: a L{SlotTicket}, to give to L{release} once the work is
            done, or to L{cancel} while it still waits.
        """
        ticket = SlotTicket(key, callback, args)
        queue = self._keys.get(key)
        if queue is None:
            queue = self._keys[key] = _KeyQueue()
        if queue.used < self.per_key and not queue.waiters:
            queue.used += 1
            self._want_global(ticket)
        else:
            queue.waiters.append(ticket)
        return ticket

    def in_use(self, key):
        """The slots held for C{key}."""
        queue = self._keys.get(key)
        return queue.used if queue is not None else 0

    def waiting(self, key=None):
        """The tickets waiting, for C{key} or in all."""
        if key is not None:
            queue = self._keys.get(key)
            return len(queue.waiters) if queue is not None else 0
        return len(self._waiters) + sum(len(q.waiters)
                                        for q in self._keys.values())

    def busy(self, key):
        """Whether C{key} holds or waits for a slot."""
        return key in self._keys

    def busy_keys(self):
        """How many keys hold or wait for a slot."""
        return len(self._keys)

    def release(self, ticket):
        """Give back the slots a granted C{ticket} holds; the next waiters
        get them straight away."""
        if ticket.state != _GRANTED:
            raise ValueError("release of a ticket that holds no slot")
        ticket.state = _CANCELLED
        if self._waiters:
            self._grant(self._waiters.popleft())
        else:
            self.used -= 1
        self._release_key(ticket.key)

    def cancel(self, ticket):
        """Withdraw a waiting C{ticket}: it gives back the key slot it holds
        (if it waits for a global one) and nothing else.  Cancelling a
        ticket that was granted or already cancelled does nothing; a
        granted one is given back with L{release}."""
        state = ticket.state
        if state == _WAITING_FOR_KEY:
            ticket.state = _CANCELLED
            # Its key holds a slot (else it would not wait): it stays.
            self._keys[ticket.key].waiters.remove(ticket)
        elif state == _WAITING_FOR_GLOBAL:
            ticket.state = _CANCELLED
            self._waiters.remove(ticket)
            self._release_key(ticket.key)

    def _release_key(self, key):
        queue = self._keys[key]
        if queue.waiters:
            self._want_global(queue.waiters.popleft())
        else:
            queue.used -= 1
            if not queue.used:
                del self._keys[key]

    def _want_global(self, ticket):
        if self.used < self.limit and not self._waiters:
            self.used += 1
            self._grant(ticket)
        else:
            ticket.state = _WAITING_FOR_GLOBAL
            self._waiters.append(ticket)

    def _grant(self, ticket):
        ticket.state = _GRANTED
        if self._dispatching:
            self._ready.append(ticket)
            return
        self._dispatching = True
        ready = self._ready
        while True:
            try:
                ticket.callback(ticket, *ticket.args)
            except Exception:
                log.failure("Slot callback {callback!r} failed",
                            callback=ticket.callback)
            if not ready:
                break
            ticket = ready.popleft()
        self._dispatching = False
