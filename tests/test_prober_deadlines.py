"""Deadlines: the timeouts of many requests with one timer, on a fake
clock."""

from twisted.internet.task import Clock
from twisted.trial import unittest

from mirrorkeeper.prober.deadlines import Deadlines


class Request:
    """Notes the clock's time when told it timed out; may then start
    another request, as a probe does when a slot is handed on."""

    def __init__(self, clock, then=None):
        self.clock = clock
        self.timed_out_at = []
        self.then = then

    def time_out(self):
        self.timed_out_at.append(self.clock.seconds())
        if self.then is not None:
            self.then()


class DeadlinesTests(unittest.TestCase):
    def setUp(self):
        self.clock = Clock()
        self.deadlines = Deadlines(self.clock, 30)

    def request(self, then=None):
        return Request(self.clock, then)

    def test_timed_out_at_the_deadline_not_before(self):
        """A request is told at its deadline, not a moment earlier."""
        request = self.request()
        self.clock.advance(0.1)
        self.deadlines.start(request)
        self.clock.advance(29.9)
        self.assertEqual(request.timed_out_at, [])
        self.clock.advance(0.1)
        self.assertEqual(request.timed_out_at, [30.1])
        self.assertEqual(len(self.deadlines), 0)

    def test_each_at_its_own_deadline(self):
        """Requests started at different times each time out at their own
        deadline, with one timer at a time."""
        first, second, third = (self.request() for _ in range(3))
        self.deadlines.start(first)
        self.clock.advance(10)
        self.deadlines.start(second)
        self.deadlines.start(third)
        self.assertEqual(len(self.clock.getDelayedCalls()), 1)
        self.clock.advance(20)
        self.assertEqual((first.timed_out_at, second.timed_out_at),
                         ([30], []))
        self.clock.advance(10)
        self.assertEqual((second.timed_out_at, third.timed_out_at),
                         ([40], [40]))
        self.assertEqual(self.clock.getDelayedCalls(), [])

    def test_stopped_request_never_times_out(self):
        """A request stopped before its deadline is not told, and the ones
        after it still are."""
        first, second = self.request(), self.request()
        self.deadlines.start(first)
        self.clock.advance(5)
        self.deadlines.start(second)
        self.deadlines.stop(first)
        self.clock.advance(30)
        self.assertEqual((first.timed_out_at, second.timed_out_at),
                         ([], [35]))

    def test_no_timer_once_nothing_is_timed(self):
        """Stopping the last request cancels the timer: none outlives the
        requests (a reactor is left clean)."""
        request = self.request()
        self.deadlines.start(request)
        self.deadlines.stop(request)
        self.deadlines.stop(request)
        self.assertEqual(self.clock.getDelayedCalls(), [])

    def test_restart_times_from_now(self):
        """Starting a request again (its next hop) times it from then."""
        request = self.request()
        self.deadlines.start(request)
        self.clock.advance(20)
        self.deadlines.start(request)
        self.clock.advance(20)
        self.assertEqual(request.timed_out_at, [])
        self.clock.advance(10)
        self.assertEqual(request.timed_out_at, [50])

    def test_request_started_by_a_time_out_is_timed_from_then(self):
        """A request started while others time out gets the whole timeout,
        and the ones already due are all told at once."""
        follower = self.request()
        leader = self.request(then=lambda: self.deadlines.start(follower))
        other = self.request()
        self.deadlines.start(leader)
        self.deadlines.start(other)
        self.clock.advance(30)
        self.assertEqual((leader.timed_out_at, other.timed_out_at,
                          follower.timed_out_at), ([30], [30], []))
        self.clock.advance(30)
        self.assertEqual(follower.timed_out_at, [60])

    def test_given_up_after_the_sockets_are_read(self):
        """A request whose deadline came is given up on the reactor's next
        pass, after its sockets are read: one that ends before then is not
        told."""
        late, answered = self.request(), self.request()
        self.deadlines.start(late)
        self.deadlines.start(answered)
        # Only the due timer, not what it schedules for the next pass.
        self.clock.getDelayedCalls()[0].func()
        self.deadlines.stop(answered)
        self.clock.advance(0)
        self.assertEqual((late.timed_out_at, answered.timed_out_at),
                         ([0], []))
