"""Login throttling, and password checking off the database threads.

LoginThrottle counts failed logins for each account and for each client
address.  The first few are free; after them each try waits, the wait
doubling with every further failure up to `longest_wait`, so guessing is
slow but nobody is locked out for good.  A try made while waiting is
refused without checking the password and counts for nothing: an
attacker who keeps trying does not push the wait further out.  An
account's own count is not held against the address its owner last
logged in from (their usual place), so that someone hammering an owner's
name from elsewhere does not lock the owner out; the address's count
still holds there.  The counts are this process's own, kept in memory
and bounded.

PasswordPool runs the password hash, checking one or making one for a
new password (scrypt: ~50 ms of CPU and 16 MiB each), on a small thread
pool of its own, with a bounded queue: a flood of logins waits for those
threads, or is told the site is busy, and never takes the database
threads the pages need.
"""

from collections import OrderedDict

from twisted.internet import defer, threads
from twisted.python.threadpool import ThreadPool

from mirrorkeeper.web.passwords import hash_password, verify_password


class _Failures:
    __slots__ = ("count", "last")

    def __init__(self):
        self.count = 0
        self.last = 0.0


class _Bounded(OrderedDict):
    """A dict that forgets its oldest entries past `limit`."""

    def __init__(self, limit):
        OrderedDict.__init__(self)
        self.limit = limit

    def touch(self, key, factory):
        value = self.pop(key, None)
        if value is None:
            value = factory()
        self[key] = value
        while len(self) > self.limit:
            self.popitem(last=False)
        return value


class LoginThrottle:
    """See the module docstring.  `clock` has seconds()."""

    # Failures before the first wait: enough for a few typos.
    free_failures = 5
    # The first wait, doubled for each failure after it: 5, 10, 20, 40 s...
    first_wait = 5.0
    # ... and never more than this, however many failures.
    longest_wait = 900.0
    # Failures this old are forgotten.
    forget_after = 3600.0
    # Accounts, addresses and usual places remembered at most.
    limit = 100_000

    def __init__(self, clock):
        self.clock = clock
        self._accounts = _Bounded(self.limit)
        self._addresses = _Bounded(self.limit)
        self._usual = _Bounded(self.limit)

    def _wait_of(self, failures, now):
        if failures is None or failures.count < self.free_failures:
            return 0.0
        if now - failures.last > self.forget_after:
            return 0.0
        wait = min(self.first_wait * 2 ** (failures.count -
                                           self.free_failures),
                   self.longest_wait)
        return max(0.0, failures.last + wait - now)

    def wait(self, login, address):
        """Seconds before `login` may be tried from `address` (0: now)."""
        now = self.clock.seconds()
        login = login.lower()
        waits = [self._wait_of(self._addresses.get(address), now)]
        if self._usual.get(login) != address:
            waits.append(self._wait_of(self._accounts.get(login), now))
        return max(waits)

    def failed(self, login, address):
        """A wrong password for `login` from `address`."""
        now = self.clock.seconds()
        for table, key in ((self._accounts, login.lower()),
                           (self._addresses, address)):
            failures = table.touch(key, _Failures)
            if now - failures.last > self.forget_after:
                failures.count = 0
            failures.count += 1
            failures.last = now

    def succeeded(self, login, address):
        """`login` logged in from `address`: its usual place from now on."""
        login = login.lower()
        self._accounts.pop(login, None)
        self._addresses.pop(address, None)
        self._usual.pop(login, None)
        self._usual.touch(login, lambda: address)


class Busy(Exception):
    """Too many password checks are waiting: try again shortly."""


class PasswordPool:
    """verify(password, stored) on threads of its own; see the module
    docstring."""

    # Two hashes at once use two cores' worth at most, leaving the rest of
    # the machine to the pages.
    threads = 2
    # Checks allowed to wait for a thread; past this a login is told the
    # site is busy at once (at ~50 ms each, a second's worth of queue).
    queue_limit = 40

    def __init__(self, reactor, threads=None, queue_limit=None):
        self.reactor = reactor
        if threads is not None:
            self.threads = threads
        if queue_limit is not None:
            self.queue_limit = queue_limit
        self._pool = ThreadPool(1, self.threads, name="mirrorkeeper-passwords")
        self._outstanding = 0

    def start(self):
        self._pool.start()

    def stop(self):
        self._pool.stop()

    def verify(self, password, stored):
        """A Deferred firing with verify_password(password, stored), or
        failing with Busy at once when the queue is full."""
        return self._run(verify_password, password, stored)

    def hash(self, password):
        """A Deferred firing with hash_password(password) (failing with
        its InvalidValueError for a password the rules refuse), or with
        Busy as verify does."""
        return self._run(hash_password, password)

    def _run(self, function, *args):
        if self._outstanding >= self.threads + self.queue_limit:
            return defer.fail(Busy())
        self._outstanding += 1

        def done(result):
            self._outstanding -= 1
            return result
        return threads.deferToThreadPool(
            self.reactor, self._pool, function, *args).addBoth(done)


class InlinePasswordPool:
    """verify() in the caller's thread: for in-process tests and scripts."""

    def start(self):
        pass

    def stop(self):
        pass

    def verify(self, password, stored):
        return defer.maybeDeferred(verify_password, password, stored)

    def hash(self, password):
        return defer.maybeDeferred(hash_password, password)
