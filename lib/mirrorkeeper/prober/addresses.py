"""Where a mirror's host name leads, and whether the prober may go there.

A registered mirror URL must not become a way to reach inside the network
the prober runs in (cloud metadata services, intranet hosts, the prober's
own loopback services).  Host names are therefore resolved by the prober
itself, checked against an L{AddressPolicy}, and connections go to the
address that was checked, so a DNS answer that changes between the check
and the connection cannot slip through.  Every address a name resolves to
is judged, and one refused address refuses the host: which of them a
connection would use is not the mirror's to choose.  The policy itself is
L{mirrorkeeper.addresspolicy.AddressPolicy}.
"""

from __future__ import annotations

import attrs
from twisted.internet import defer, error
from twisted.internet.interfaces import IResolutionReceiver
from zope.interface import implementer

# The policy lives beside registration's use of it; re-exported here for
# the prober's modules.
from mirrorkeeper.addresspolicy import AddressPolicy, parse_address

__all__ = ["AddressFamilies", "AddressPolicy", "HostResolver"]


@attrs.frozen
class AddressFamilies:
    """The IP families a host name resolved to."""

    ipv4: bool
    ipv6: bool


def _ip(text):
    # A scope ("fe80::1%eth0") is not part of the address.
    return parse_address(text)


@implementer(IResolutionReceiver)
class _Resolution:
    """Collects the addresses one host name resolves to."""

    def __init__(self, done):
        self._done = done
        self._addresses = []

    def resolutionBegan(self, resolution):
        pass

    def addressResolved(self, address):
        if address.host not in self._addresses:
            self._addresses.append(address.host)

    def resolutionComplete(self):
        self._done(self._addresses)


class HostResolver:
    """Resolves each host name once per run and judges its addresses.

    @param reactor: provides IReactorPluggableNameResolver (its
        nameResolver does the lookups, getaddrinfo in a thread by default).
    @param policy: the L{AddressPolicy} addresses are judged by.
    @param hosts: a dict of host name to a list of addresses used instead
        of looking the name up, as curl's --resolve does.
    @raise ValueError: if C{hosts} holds something that is not an address.
    """

    def __init__(self, reactor, policy, hosts=None):
        self._reactor = reactor
        self._policy = policy
        self._hosts = {}
        for name, addresses in (hosts or {}).items():
            for address in addresses:
                _ip(address)
            self._hosts[name.lower()] = list(addresses)
        self._addresses = {}
        self._waiting = {}
        self._families = {}
        self._verdicts = {}

    def known(self, host):
        """The addresses C{host} resolved to earlier in the run (a non-empty
        list of str), or None if it has not, or resolved to none."""
        return self._addresses.get(host) or None

    def resolve(self, host):
        """The addresses of C{host}.

        @param host: a host name or an IP address, str, lower case.
        @return: a Deferred firing with a non-empty list of addresses (str),
            or failing with DNSLookupError.  Cancelling it abandons only
            this caller's wait.
        """
        addresses = self._addresses.get(host)
        if addresses is not None:
            if not addresses:
                return defer.fail(error.DNSLookupError(host))
            return defer.succeed(addresses)
        try:
            _ip(host)
        except ValueError:
            pass
        else:
            return defer.succeed(self._resolved(host, [host]))
        if host in self._hosts:
            return defer.succeed(self._resolved(host, self._hosts[host]))
        d = defer.Deferred()
        waiting = self._waiting.get(host)
        if waiting is not None:
            waiting.append(d)
            return d
        self._waiting[host] = [d]

        def done(addresses):
            self._resolved(host, addresses)
            for waiter in self._waiting.pop(host, []):
                if waiter.called:
                    continue
                if addresses:
                    waiter.callback(addresses)
                else:
                    waiter.errback(error.DNSLookupError(host))

        self._reactor.nameResolver.resolveHostName(_Resolution(done), host, 0)
        return d

    def _resolved(self, host, addresses):
        self._addresses[host] = addresses
        versions = {_ip(a).version for a in addresses}
        self._families[host] = AddressFamilies(ipv4=4 in versions,
                                               ipv6=6 in versions)
        return addresses

    def forget(self, host):
        """Let go of what the run learnt of C{host} (its addresses and
        their verdicts), unless it is being looked up: asked again, it is
        looked up and judged afresh."""
        if host in self._waiting:
            return
        self._addresses.pop(host, None)
        self._families.pop(host, None)
        self._verdicts.pop(host, None)

    def forbidden(self, host, addresses):
        """The addresses of C{host} the policy refuses (judged once per
        host)."""
        forbidden = self._verdicts.get(host)
        if forbidden is None:
            forbidden = [a for a in addresses if not self._policy.allows(a)]
            self._verdicts[host] = forbidden
        return forbidden

    def refusals(self, host, addresses):
        """Why the policy refuses each of the L{forbidden} addresses of
        C{host}, in words: a list of str, empty if it refuses none."""
        return [self._policy.refusal(a)
                for a in self.forbidden(host, addresses)]

    def families(self, host):
        """The L{AddressFamilies} of C{host}, or None if not resolved yet."""
        return self._families.get(host.lower())
