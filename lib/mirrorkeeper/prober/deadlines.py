"""Timeouts for many requests with one timer.

A probe client has up to a hundred requests in flight and sends thousands a
second, all with the same timeout.  A timer per request (C{callLater}, then
C{cancel} when the answer comes) cost more than a third of the probe's own
work per request.  L{Deadlines} keeps the requests in flight in the order
they started, which with one timeout is the order of their deadlines, and
one timer, set for the earliest deadline still pending.  A request times
out at its deadline, as a timer of its own would: never before it.

A reactor runs the timers that are due before it reads its sockets: after
a stall (the process starved of CPU, a long callback), an answer that came
back in time may be there unread.  So a request whose deadline has come is
given up one pass of the reactor later, after the sockets have been read,
and only if it has not ended by then.
"""

from __future__ import annotations


class Deadlines:
    """Requests in flight, each to be told C{time_out()} once it has taken
    C{timeout} seconds.

    @param clock: provides IReactorTime.
    @param timeout: seconds a request may take, the same for all.
    """

    def __init__(self, clock, timeout):
        self._clock = clock
        self.timeout = timeout
        # Request to deadline, in the order the requests started (dicts
        # keep it), hence of their deadlines.
        self._pending = {}
        # The requests past their deadline, given up on the next pass.
        self._due = {}
        self._timer = None
        self._timer_at = None

    def __len__(self):
        return len(self._pending)

    def start(self, request, now=None):
        """Time C{request} from C{now} (the clock's time, if the caller has
        not just read it); its C{time_out()} is called once the deadline
        has come (on the reactor's next pass) unless L{stop} is called
        first.  Starting a request already timed
        restarts its time."""
        if now is None:
            now = self._clock.seconds()
        pending = self._pending
        pending.pop(request, None)
        if self._due:
            self._due.pop(request, None)
        pending[request] = deadline = now + self.timeout
        if self._timer is None:
            self._set_timer(deadline)

    def stop(self, request):
        """Stop timing C{request} (it ended); nothing if it is not timed."""
        pending = self._pending
        pending.pop(request, None)
        if self._due:
            self._due.pop(request, None)
        if not pending and self._timer is not None:
            # Nothing left to time: no timer outlives the requests.
            self._timer.cancel()
            self._timer = None

    def _set_timer(self, deadline):
        self._timer_at = deadline
        self._timer = self._clock.callLater(
            max(0, deadline - self._clock.seconds()), self._expire)

    def _expire(self):
        self._timer = None
        # The timer was set for a deadline and fires at it or later;
        # reading the clock again could give an instant a rounding error
        # earlier.
        now = max(self._clock.seconds(), self._timer_at)
        pending = self._pending
        due = self._due
        if not due:
            self._clock.callLater(0, self._give_up)
        while pending:
            request = next(iter(pending))
            deadline = pending[request]
            if deadline > now:
                self._set_timer(deadline)
                return
            del pending[request]
            due[request] = None

    def _give_up(self):
        due = self._due
        while due:
            # One that ends meanwhile (stop) leaves the queue.
            request = next(iter(due))
            del due[request]
            # It may start another request, timed from now.
            request.time_out()
