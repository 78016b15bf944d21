"""SlotAllocator: the global and per-host limits of the probe client."""

import random

from twisted.trial import unittest

from mirrorkeeper.prober.slots import SlotAllocator


class _Recorder:
    """Records the order in which tickets are granted, and checks the
    limits every time one is."""

    def __init__(self, allocator):
        self.allocator = allocator
        self.granted = []
        self.held = {}

    def __call__(self, ticket, name, key):
        self.granted.append(name)
        self.held[key] = self.held.get(key, 0) + 1
        assert sum(self.held.values()) <= self.allocator.limit
        assert self.held[key] <= self.allocator.per_key

    def acquire(self, name, key):
        return self.allocator.acquire(key, self, name, key)

    def release(self, ticket):
        self.held[ticket.key] -= 1
        self.allocator.release(ticket)


class SlotAllocatorTests(unittest.SynchronousTestCase):
    def test_granted_at_once_when_free(self):
        """A request under both limits has its callback called before
        acquire returns."""
        recorder = _Recorder(SlotAllocator(2, 1))
        ticket = recorder.acquire("a", "h1")
        self.assertEqual(recorder.granted, ["a"])
        self.assertTrue(ticket.granted)

    def test_per_key_queue_is_fifo(self):
        """Requests waiting for one key's slot get it in the order they
        asked."""
        recorder = _Recorder(SlotAllocator(10, 1))
        tickets = [recorder.acquire(name, "h") for name in "abcd"]
        self.assertEqual(recorder.granted, ["a"])
        for ticket in tickets:
            recorder.release(ticket)
        self.assertEqual(recorder.granted, list("abcd"))

    def test_global_queue_is_fifo(self):
        """Requests for different keys waiting for a global slot get it in
        the order they asked."""
        recorder = _Recorder(SlotAllocator(1, 5))
        tickets = [recorder.acquire(name, key)
                   for name, key in zip("abcd", ["h1", "h2", "h3", "h2"])]
        self.assertEqual(recorder.granted, ["a"])
        for ticket in tickets:
            recorder.release(ticket)
        self.assertEqual(recorder.granted, list("abcd"))

    def test_limits_never_exceeded(self):
        """Under random requests and releases neither the global nor any
        per-key count passes its limit, and every request is granted."""
        allocator = SlotAllocator(5, 2)
        recorder = _Recorder(allocator)
        rng = random.Random(7)
        tickets, asked = [], []
        for i in range(2000):
            granted = [t for t in tickets if t.granted]
            if granted and rng.random() < 0.5:
                ticket = granted[rng.randrange(len(granted))]
                tickets.remove(ticket)
                recorder.release(ticket)
            else:
                asked.append(i)
                tickets.append(recorder.acquire(i, f"h{rng.randrange(4)}"))
            self.assertLessEqual(allocator.used, 5)
            self.assertTrue(all(allocator.in_use(f"h{k}") <= 2
                                for k in range(4)))
        while tickets:
            ticket = next(t for t in tickets if t.granted)
            tickets.remove(ticket)
            recorder.release(ticket)
        self.assertEqual(sorted(recorder.granted), asked)
        self.assertEqual((allocator.used, allocator.waiting()), (0, 0))

    def test_only_keys_holding_or_waiting_are_kept(self):
        """Under random requests, releases and cancels, the allocator
        keeps the keys that hold or wait for a slot, and no other: once
        all is given back it keeps none, however many keys asked."""
        allocator = SlotAllocator(3, 1)
        rng = random.Random(11)
        tickets = []
        for i in range(3000):
            if tickets and rng.random() < 0.5:
                ticket = tickets.pop(rng.randrange(len(tickets)))
                if ticket.granted:
                    allocator.release(ticket)
                else:
                    allocator.cancel(ticket)
            else:
                tickets.append(allocator.acquire(
                    f"h{rng.randrange(50)}", lambda ticket: None))
            busy = {t.key for t in tickets}
            self.assertEqual(allocator.busy_keys(), len(busy))
            self.assertEqual({key for key in (f"h{k}" for k in range(50))
                              if allocator.busy(key)}, busy)
        for ticket in tickets:
            allocator.cancel(ticket)
        for ticket in tickets:
            if ticket.granted:
                allocator.release(ticket)
        self.assertEqual((allocator.busy_keys(), allocator.used), (0, 0))

    def test_cancel_waiting_for_key_releases_nothing(self):
        """Cancelling a request that waits for its key's slot frees no slot
        and lets the next waiter keep its place."""
        allocator = SlotAllocator(10, 1)
        recorder = _Recorder(allocator)
        first = recorder.acquire("a", "h")
        second = recorder.acquire("b", "h")
        third = recorder.acquire("c", "h")
        allocator.cancel(second)
        self.assertEqual((allocator.used, allocator.in_use("h")), (1, 1))
        self.assertEqual(recorder.granted, ["a"])
        recorder.release(first)
        self.assertEqual(recorder.granted, ["a", "c"])
        self.assertFalse(second.granted)
        recorder.release(third)
        self.assertEqual((allocator.used, allocator.in_use("h"),
                          allocator.waiting()), (0, 0, 0))

    def test_cancel_waiting_for_global_gives_back_only_its_key_slot(self):
        """Cancelling a request that holds its key's slot and waits for a
        global one gives back the key slot only."""
        allocator = SlotAllocator(1, 1)
        recorder = _Recorder(allocator)
        first = recorder.acquire("a", "h1")
        second = recorder.acquire("b", "h2")
        third = recorder.acquire("c", "h2")
        self.assertEqual((allocator.in_use("h2"), allocator.waiting("h2")),
                         (1, 1))
        allocator.cancel(second)
        self.assertEqual((allocator.used, allocator.in_use("h1")), (1, 1))
        self.assertEqual((allocator.in_use("h2"), allocator.waiting("h2")),
                         (1, 0))
        recorder.release(first)
        self.assertEqual(recorder.granted, ["a", "c"])
        recorder.release(third)
        self.assertEqual((allocator.used, allocator.in_use("h2")), (0, 0))

    def test_cancel_after_grant_does_nothing(self):
        """Cancelling a granted request changes no count; releasing it frees
        its slots."""
        allocator = SlotAllocator(2, 2)
        ticket = allocator.acquire("h", lambda ticket: None)
        allocator.cancel(ticket)
        self.assertEqual((allocator.used, allocator.in_use("h")), (1, 1))
        allocator.release(ticket)
        self.assertEqual((allocator.used, allocator.in_use("h")), (0, 0))

    def test_release_twice_refused(self):
        """Releasing a ticket that holds no slot raises ValueError and frees
        nothing."""
        allocator = SlotAllocator(2, 2)
        ticket = allocator.acquire("h", lambda ticket: None)
        allocator.release(ticket)
        self.assertRaises(ValueError, allocator.release, ticket)
        self.assertEqual(allocator.used, 0)

    def test_callbacks_are_not_nested(self):
        """A callback that releases its slot has the next waiter's callback
        run after it returns, not inside it."""
        allocator = SlotAllocator(1, 1)
        events = []
        tickets = {}

        def work(ticket, name):
            events.append(f"start {name}")
            if name != "a":
                allocator.release(ticket)
            events.append(f"end {name}")

        tickets["a"] = allocator.acquire("h", work, "a")
        for name in "bcd":
            tickets[name] = allocator.acquire("h", work, name)
        allocator.release(tickets["a"])
        self.assertEqual(
            events,
            ["start a", "end a", "start b", "end b", "start c", "end c",
             "start d", "end d"],
        )
        self.assertEqual(allocator.used, 0)

    def test_failing_callback_is_logged_and_others_still_run(self):
        """A callback that raises is logged and the callbacks queued after
        it still run."""
        allocator = SlotAllocator(1, 1)
        ran = []

        def boom(ticket):
            raise RuntimeError("boom")

        first = allocator.acquire("h", lambda ticket: None)
        second = allocator.acquire("h", boom)
        allocator.acquire("h", lambda ticket, name: ran.append(name), "c")
        allocator.release(first)
        self.assertEqual(len(self.flushLoggedErrors(RuntimeError)), 1)
        allocator.release(second)
        self.assertEqual(ran, ["c"])
