"""Connecting to hosts with several addresses (RFC 8305 order, staggered
attempts) and the record of which IP families answered, on a fake reactor:
no connection leaves the process."""

from twisted.internet import defer, error
from twisted.internet.address import IPv4Address, IPv6Address
from twisted.internet.protocol import Factory, Protocol
from twisted.internet.testing import MemoryReactorClock, StringTransport
from twisted.python.failure import Failure
from twisted.trial import unittest

from mirrorkeeper.prober.addresses import AddressFamilies
from mirrorkeeper.prober.connect import AddressesEndpoint, FamilyRecord

# Documentation addresses: the fake reactor only pretends to connect.
V4A, V4B = "192.0.2.1", "192.0.2.2"
V6A, V6B = "2001:db8::1", "2001:db8::2"


class OrderTests(unittest.SynchronousTestCase):
    def setUp(self):
        self.record = FamilyRecord()

    def test_families_interleaved_ipv6_first(self):
        """Untried, the families alternate one address at a time, IPv6
        first, each family in its given order."""
        order = self.record.order("m.test", [V4A, V4B, V6A, V6B])
        self.assertEqual(order, [V6A, V4A, V6B, V4B])
        self.assertEqual(self.record.order("m.test", [V4A, V6A, V4B]),
                         [V6A, V4A, V4B])

    def test_one_address(self):
        """One address, or one family, is tried in the order given."""
        self.assertEqual(self.record.order("m.test", [V4A]), [V4A])
        self.assertEqual(self.record.order("m.test", [V4B, V4A]), [V4B, V4A])

    def test_untried_family_first(self):
        """While one family's attempt is under way or has worked, the next
        connection starts with the untried one."""
        self.record.started("m.test", V6A)
        self.assertEqual(self.record.order("m.test", [V4A, V6A]), [V4A, V6A])
        self.record.connected("m.test", V6A)
        self.assertEqual(self.record.order("m.test", [V4A, V6A]), [V4A, V6A])
        self.record.started("m.test", V4A)
        self.record.connected("m.test", V4A)
        self.assertEqual(self.record.order("m.test", [V4A, V6A]), [V6A, V4A])

    def test_failed_addresses_last(self):
        """An address that failed goes after those of its family that did
        not, and a family whose addresses all failed goes last."""
        for address in (V6A, V4A, V4B):
            self.record.started("m.test", address)
        self.record.failed("m.test", V6A)
        self.record.failed("m.test", V4A)
        self.record.connected("m.test", V4B)
        self.assertEqual(self.record.order("m.test", [V4A, V4B, V6A]),
                         [V4B, V6A, V4A])

    def test_hosts_are_apart(self):
        """What one host's addresses did does not order another's."""
        self.record.started("a.test", V6A)
        self.record.failed("a.test", V6A)
        self.assertEqual(self.record.order("b.test", [V4A, V6A]), [V6A, V4A])

    def test_families_measured(self):
        """A family counts once an answer came over it; None until anything
        was tried."""
        self.assertIsNone(self.record.families("m.test"))
        self.record.started("m.test", V6A)
        self.record.failed("m.test", V6A)
        self.assertEqual(self.record.families("m.test"),
                         AddressFamilies(ipv4=False, ipv6=False))
        self.record.answered("m.test", V4A)
        self.assertEqual(self.record.families("M.Test"),
                         AddressFamilies(ipv4=True, ipv6=False))


class _Factory(Factory):
    protocol = Protocol


class EndpointTests(unittest.SynchronousTestCase):
    def setUp(self):
        self.reactor = MemoryReactorClock()
        self.record = FamilyRecord()

    def connect(self, addresses, host="m.test"):
        endpoint = AddressesEndpoint(self.reactor, host, addresses, 80, 30,
                                     self.record)
        return endpoint.connect(_Factory())

    def attempts(self):
        return [client[0] for client in self.reactor.tcpClients]

    def accept(self, index):
        host, port, factory = self.reactor.tcpClients[index][:3]
        protocol = factory.buildProtocol(None)
        address = (IPv6Address("TCP", host, port) if ":" in host
                   else IPv4Address("TCP", host, port))
        transport = StringTransport(peerAddress=address)
        protocol.makeConnection(transport)
        return transport

    def refuse(self, index, reason=None):
        factory = self.reactor.tcpClients[index][2]
        reason = reason or error.ConnectionRefusedError()
        factory.clientConnectionFailed(self.reactor.connectors[index],
                                       Failure(reason))

    def test_one_address_no_timer(self):
        """With one address there is one attempt and no stagger timer."""
        d = self.connect([V4A])
        self.assertEqual(self.attempts(), [V4A])
        self.assertEqual(self.reactor.getDelayedCalls(), [])
        self.accept(0)
        self.successResultOf(d)

    def test_next_address_after_the_delay(self):
        """An attempt without answer for 250 ms brings in the next address;
        the first to connect wins and the other is abandoned."""
        d = self.connect([V4A, V6A])
        self.assertEqual(self.attempts(), [V6A])
        self.reactor.advance(0.249)
        self.assertEqual(self.attempts(), [V6A])
        self.reactor.advance(0.001)
        self.assertEqual(self.attempts(), [V6A, V4A])
        self.accept(1)
        self.successResultOf(d)
        self.assertTrue(self.reactor.connectors[0].stoppedConnecting)
        self.assertEqual(self.reactor.getDelayedCalls(), [])
        # The IPv6 address was beaten: the next connection starts with IPv4.
        self.assertEqual(self.record.order("m.test", [V4A, V6A]), [V4A, V6A])

    def test_next_address_at_once_on_failure(self):
        """A refused attempt brings in the next address at once."""
        d = self.connect([V4A, V4B, V6A])
        self.refuse(0)
        self.assertEqual(self.attempts(), [V6A, V4A])
        self.refuse(1, error.NoRouteError())
        self.assertEqual(self.attempts(), [V6A, V4A, V4B])
        self.accept(2)
        self.successResultOf(d)

    def test_earlier_attempt_may_still_win(self):
        """An attempt overtaken by the delay keeps going and may connect
        first."""
        d = self.connect([V4A, V6A])
        self.reactor.advance(0.25)
        self.accept(0)
        self.successResultOf(d)
        self.assertTrue(self.reactor.connectors[1].stoppedConnecting)

    def test_every_address_fails(self):
        """When every attempt fails, the refusal is reported rather than
        another failure."""
        d = self.connect([V4A, V6A])
        self.refuse(0, error.NoRouteError())
        self.refuse(1)
        self.failureResultOf(d, error.ConnectionRefusedError)
        self.assertEqual(self.record.families("m.test"),
                         AddressFamilies(ipv4=False, ipv6=False))

    def test_every_address_fails_without_refusal(self):
        """Without a refusal, the first address's failure is reported."""
        d = self.connect([V4A, V6A])
        self.refuse(0, error.NoRouteError())
        self.refuse(1, error.TCPTimedOutError())
        self.failureResultOf(d, error.NoRouteError)

    def test_cancel_abandons_every_attempt(self):
        """Cancelling (the request's timeout) stops every attempt and the
        timer, and blames no address."""
        d = self.connect([V4A, V6A, V4B])
        self.reactor.advance(0.25)
        d.cancel()
        self.failureResultOf(d, defer.CancelledError)
        self.assertEqual([c.stoppedConnecting
                          for c in self.reactor.connectors], [True, True])
        self.assertEqual(self.reactor.getDelayedCalls(), [])
        self.assertEqual(self.record.order("m.test", [V4A, V6A, V4B]),
                         [V4A, V6A, V4B])
