"""The address policy and the per-run host resolver."""

from twisted.internet import reactor
from twisted.trial import unittest

from mirrorkeeper.prober.addresses import (
    AddressFamilies, AddressPolicy, HostResolver)


class AddressPolicyTests(unittest.TestCase):
    def test_default_refuses_non_public(self):
        """By default only public addresses may be probed."""
        policy = AddressPolicy()
        for address in ["91.189.91.38", "2620:2d:4000:1::16"]:
            self.assertTrue(policy.allows(address), address)
        for address in ["127.0.0.1", "10.0.0.1", "172.16.5.4", "192.168.1.1",
                        "169.254.169.254", "0.0.0.0", "224.0.0.1",
                        "240.0.0.1", "::1", "::", "fe80::1%eth0", "fd00::1",
                        "ff02::1", "::ffff:10.0.0.1"]:
            self.assertFalse(policy.allows(address), address)

    def test_allowed_networks(self):
        """Allowed networks open exactly those addresses."""
        policy = AddressPolicy(allowed_networks=["127.0.0.2/32", "fd00::/8"])
        self.assertTrue(policy.allows("127.0.0.2"))
        self.assertTrue(policy.allows("fd12::1"))
        self.assertFalse(policy.allows("127.0.0.3"))

    def test_same_policy_as_registration(self):
        """The prober's policy is the one registration judges by."""
        from mirrorkeeper import addresspolicy

        self.assertIs(AddressPolicy, addresspolicy.AddressPolicy)


class HostResolverTests(unittest.TestCase):
    def test_bad_hosts_entry(self):
        """A hosts entry that is not an address is refused at once."""
        self.assertRaises(ValueError, HostResolver, reactor, AddressPolicy(),
                          {"m.test": ["nope"]})

    def test_hosts_and_literals(self):
        """Mapped names and literal addresses resolve without a lookup and
        record their families."""
        resolver = HostResolver(reactor, AddressPolicy(),
                                {"M.test": ["192.0.2.1", "2001:db8::1"]})
        self.assertEqual(self.successResultOf(resolver.resolve("m.test")),
                         ["192.0.2.1", "2001:db8::1"])
        self.assertEqual(
            self.successResultOf(resolver.resolve("2001:db8::2")),
            ["2001:db8::2"])
        self.assertEqual(resolver.families("m.test"),
                         AddressFamilies(ipv4=True, ipv6=True))
        self.assertEqual(resolver.families("2001:db8::2"),
                         AddressFamilies(ipv4=False, ipv6=True))
        self.assertEqual(
            resolver.forbidden("m.test", ["192.0.2.1", "2001:db8::1"]),
            ["192.0.2.1", "2001:db8::1"])
        reasons = resolver.refusals("m.test", ["192.0.2.1", "2001:db8::1"])
        self.assertEqual(len(reasons), 2)
        self.assertIn("192.0.2.1 is a documentation address", reasons[0])

    def test_every_address_judged(self):
        """One refused address among those a name resolves to refuses it."""
        resolver = HostResolver(
            reactor, AddressPolicy(["127.0.0.0/8"]),
            {"m.test": ["127.0.0.1", "2002:a9fe:a9fe::"]})
        addresses = self.successResultOf(resolver.resolve("m.test"))
        self.assertEqual(resolver.forbidden("m.test", addresses),
                         ["2002:a9fe:a9fe::"])
        self.assertIn("6to4 form of 169.254.169.254",
                      resolver.refusals("m.test", addresses)[0])
