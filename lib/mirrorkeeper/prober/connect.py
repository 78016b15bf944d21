"""Connecting to a host with several addresses, and what each IP family did.

A mirror's name often resolves to IPv6 and IPv4 addresses, and one of them
may be broken while the other serves.  L{AddressesEndpoint} connects to the
addresses of a host in turn, interleaving the families as RFC 8305 ("happy
eyeballs") orders them, and L{FamilyRecord} keeps, per host, what each
address did during the run: the order of later connections follows it, and
it says which families actually answered, which is what the mirror lists'
choice by IP family needs (not what DNS claims).

Nothing here judges addresses: the caller passes only addresses its policy
allows, and only those are ever connected to.
"""

from __future__ import annotations

from itertools import zip_longest

from twisted.internet import defer, error
from twisted.internet.endpoints import TCP4ClientEndpoint, TCP6ClientEndpoint
from twisted.internet.interfaces import IStreamClientEndpoint
from zope.interface import implementer

from mirrorkeeper.prober.addresses import AddressFamilies

# What a connection attempt to an address last did.  Lower sorts first.
_UNTRIED, _WORKS, _FAILED = 0, 1, 2


def family(address):
    """The IP version of C{address} (str): 4 or 6."""
    return 6 if ":" in address else 4


class _HostRecord:
    __slots__ = ("addresses", "answered")

    def __init__(self):
        # Address -> _WORKS (connected, or an attempt under way) or _FAILED
        # (refused, unreachable, timed out, or beaten by another address).
        self.addresses = {}
        # The IP versions over which an answer came back.
        self.answered = set()


class FamilyRecord:
    """What connections to each host did during one run, by address.

    Host names are as in probed URLs (lower case).
    """

    def __init__(self):
        self._hosts = {}

    def _host(self, host):
        record = self._hosts.get(host)
        if record is None:
            record = self._hosts[host] = _HostRecord()
        return record

    def order(self, host, addresses):
        """The order in which to try C{addresses} for a new connection to
        C{host}.

        Addresses of one family keep their order (the resolver's, which
        follows RFC 6724), those that failed before going last.  The
        families alternate, one address each (RFC 8305 section 4).  The
        first family is one not tried yet in this run if there is one, so
        that the run measures every family (the next connection to a host
        whose IPv6 answered starts with its IPv4); then one that works;
        then one whose addresses all failed.  Between equals IPv6 goes
        first, as RFC 8305 prefers.

        @param addresses: a sequence of str.
        @return: a list of str, the same addresses.
        """
        if len(addresses) < 2:
            return list(addresses)
        seen = self._host(host).addresses
        by_family = {6: [], 4: []}
        for address in addresses:
            by_family[family(address)].append(address)
        groups = []
        for version in (6, 4):
            group = by_family[version]
            if group:
                group.sort(key=lambda a: seen.get(a, _UNTRIED) == _FAILED)
                groups.append(group)
        groups.sort(key=lambda group: min(seen.get(a, _UNTRIED)
                                          for a in group))
        return [a for row in zip_longest(*groups) for a in row
                if a is not None]

    def started(self, host, address):
        """A connection attempt to C{address} of C{host} begins."""
        self._host(host).addresses.setdefault(address, _WORKS)

    def connected(self, host, address):
        """A connection to C{address} of C{host} was made."""
        self._host(host).addresses[address] = _WORKS

    def failed(self, host, address):
        """A connection to C{address} of C{host} could not be made, or
        another address connected first while it was still trying."""
        self._host(host).addresses[address] = _FAILED

    def answered(self, host, address):
        """An answer came back from C{host} over a connection to C{address}."""
        self._host(host).answered.add(family(address))

    def forget(self, host):
        """Let go of what connections to C{host} did: the run is done with
        it."""
        self._hosts.pop(host, None)

    def families(self, host):
        """The IP families over which C{host} answered in this run.

        @return: an L{AddressFamilies}, or None if no connection to
            C{host} was attempted.
        """
        record = self._hosts.get(host.lower())
        if record is None:
            return None
        return AddressFamilies(ipv4=4 in record.answered,
                               ipv6=6 in record.answered)


@implementer(IStreamClientEndpoint)
class AddressesEndpoint:
    """Connects to the first of a host's addresses that accepts.

    Attempts are staggered, not sequential: the next address is tried as
    soon as the one before fails (refused, unreachable) or after
    C{attempt_delay} seconds without an answer, whichever comes first, and
    the attempts under way race; the first connection made wins and the
    others are abandoned.  Sequential fallback would only move on when an
    attempt fails, and the usual way an IPv6 path is broken is a blackhole
    (SYNs dropped, no error ever): the first address would eat the whole
    request timeout and the working one would never be reached.

    @param reactor: provides IReactorTCP and IReactorTime.
    @param host: the host name the addresses belong to, str (the key of
        C{record}).
    @param addresses: the addresses to connect to, str, at least one; all
        already allowed by the caller's address policy.
    @param port: the TCP port.
    @param timeout: seconds each attempt may take.
    @param record: the L{FamilyRecord} that orders the attempts and learns
        what each did.
    """

    # RFC 8305's recommended Connection Attempt Delay.
    attempt_delay = 0.25

    def __init__(self, reactor, host, addresses, port, timeout, record):
        self._reactor = reactor
        self._host = host
        self._addresses = addresses
        self._port = port
        self._timeout = timeout
        self._record = record

    def connect(self, protocolFactory):
        """Connect C{protocolFactory} to the first address that accepts.

        @return: a Deferred firing with the connected protocol, or failing
            with a connection error: a refusal if any address refused (the
            host is there and says no), else the first address's failure.
            Cancelling it abandons every attempt.
        """
        addresses = self._record.order(self._host, self._addresses)
        if len(addresses) == 1:
            return self._attempt(addresses[0], protocolFactory)
        return _Race(self, addresses, protocolFactory).deferred

    def _attempt(self, address, factory):
        """One attempt at C{address}, recorded: a Deferred as from an
        endpoint."""
        record, host = self._record, self._host
        record.started(host, address)
        if family(address) == 6:
            endpoint = TCP6ClientEndpoint(self._reactor, address, self._port,
                                          self._timeout)
        else:
            endpoint = TCP4ClientEndpoint(self._reactor, address, self._port,
                                          self._timeout)
        d = endpoint.connect(factory)

        def connected(protocol):
            record.connected(host, address)
            return protocol

        def failed(failure):
            if not failure.check(defer.CancelledError,
                                 error.ConnectingCancelledError):
                record.failed(host, address)
            return failure

        d.addCallbacks(connected, failed)
        return d


class _Race:
    """The attempts of one L{AddressesEndpoint.connect} call."""

    def __init__(self, endpoint, addresses, factory):
        self.endpoint = endpoint
        self.factory = factory
        self.remaining = list(reversed(addresses))
        self.pending = {}
        self.failures = []
        self.timer = None
        self.done = False
        self.deferred = defer.Deferred(self.cancel)
        self.start_next()

    def start_next(self):
        self.timer = None
        address = self.remaining.pop()
        if self.remaining:
            self.timer = self.endpoint._reactor.callLater(
                self.endpoint.attempt_delay, self.start_next
            )
        d = self.endpoint._attempt(address, self.factory)
        self.pending[address] = d
        d.addCallbacks(self.connected, self.failed, callbackArgs=(address,),
                       errbackArgs=(address,))

    def stop(self):
        """Abandon the timer and the attempts under way (they are recorded
        as beaten: they were slower than the one that connected, or the
        caller gave up on them)."""
        self.done = True
        if self.timer is not None:
            self.timer.cancel()
            self.timer = None
        pending, self.pending = self.pending, {}
        for d in pending.values():
            d.cancel()
        return pending

    def connected(self, protocol, address):
        if self.done:
            # Connected in the same moment as the winner: not needed.
            protocol.transport.abortConnection()
            return
        del self.pending[address]
        beaten = self.stop()
        for other in beaten:
            self.endpoint._record.failed(self.endpoint._host, other)
        self.deferred.callback(protocol)

    def failed(self, failure, address):
        if self.done:
            return
        del self.pending[address]
        self.failures.append(failure)
        if self.remaining:
            # Move on now rather than when the delay is up.
            if self.timer is not None:
                self.timer.cancel()
            self.start_next()
        elif not self.pending:
            self.done = True
            refused = [f for f in self.failures
                       if f.check(error.ConnectionRefusedError)]
            self.deferred.errback(refused[0] if refused else self.failures[0])

    def cancel(self, d):
        # The caller gave up (its timeout): every attempt is abandoned, and
        # Deferred fails with CancelledError.
        self.stop()
