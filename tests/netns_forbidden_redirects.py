"""Run inside a private network namespace by
test_prober_forbidden_redirects: a mirror on 127.0.0.1 redirects to the
cloud metadata address 169.254.169.254, spelt in IPv4, IPv6 and numeric
forms, while a prober allowing loopback probes it.

The namespace carries those addresses on its own loopback interface, each
with a listener on port 80 that counts connections and answers 200, so a
prober that followed a redirect would reach it and be counted.  The
namespace has no other interface: nothing leaves it.

Prints one JSON object: {"refused": [...], "control": {...}, "listeners":
{address: connections}}; see the test for what is checked.
"""

from __future__ import annotations

import json
import os
import sys

from twisted.internet import defer, protocol, task

from mirrorkeeper.addresspolicy import LOOPBACK_NETWORKS
from mirrorkeeper.prober.client import ProbeClient
from tests.farm import MirrorFarm
from tests.farm.archive import write_archive_tree
from tests.farm.behaviours import RedirectToURL, ServeTree
from tests.farm.testing import RELEASE

METADATA = "169.254.169.254"
# The IPv6 addresses that carry 169.254.169.254, each given to the
# namespace's loopback interface so that a connection to it would succeed.
IPV6_FORMS = {
    "6to4": "2002:a9fe:a9fe::",
    "NAT64": "64:ff9b::a9fe:a9fe",
    "local-use NAT64": "64:ff9b:1::a9fe:a9fe",
    "Teredo": "2001:0:4136:e378:8000:63bf:5601:5601",
}
# Where the hostile mirror redirects to (the path is kept, so that the
# redirect is to the same file).
TARGETS = {
    "IPv4": "http://%s" % (METADATA,),
    "IPv4 with port": "http://%s:80" % (METADATA,),
    "IPv4-mapped": "http://[::ffff:%s]" % (METADATA,),
    "numeric": "http://2852039166",
    "hex": "http://0xa9fea9fe",
    "name resolving to it and to loopback": "http://metadata.test",
}
TARGETS.update(("%s form" % form, "http://[%s]" % address)
               for form, address in IPV6_FORMS.items())


class _Counting(protocol.Protocol):
    def connectionMade(self):
        self.factory.connections += 1

    def dataReceived(self, data):
        self.transport.write(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n")


class CountingFactory(protocol.ServerFactory):
    protocol = _Counting

    def __init__(self):
        self.connections = 0


@defer.inlineCallbacks
def probe_all(reactor, root):
    listeners = {}
    for address in [METADATA] + list(IPV6_FORMS.values()):
        factory = CountingFactory()
        reactor.listenTCP(80, factory, interface=address)
        listeners[address] = factory

    farm = MirrorFarm(reactor)
    tree = os.path.join(root, "tree")
    os.makedirs(tree)
    write_archive_tree(tree)
    farm.add_mirror("honest", ServeTree(), root=tree)
    hostile = {}
    for name, target in TARGETS.items():
        hostile[name] = farm.add_mirror(
            name.replace(" ", "-"),
            RedirectToURL(lambda path, target=target: target + path))
    # Loopback first: the refusal must come from judging every address,
    # not only the one a connection would use first.
    hosts = {"metadata.test": ["127.0.0.1", METADATA]}

    client = ProbeClient(reactor, timeout=5,
                         allowed_networks=LOOPBACK_NETWORKS, hosts=hosts)
    honest = yield client.probe(farm.mirrors["honest"].url(RELEASE))
    refused = []
    for name, mirror in hostile.items():
        for method in ("probe", "fetch"):
            if method == "probe":
                result = yield client.probe(mirror.url(RELEASE))
            else:
                result = yield client.fetch(mirror.url(RELEASE), 1000)
            refused.append({
                "target": name, "method": method,
                "outcome": result.outcome.name,
                "redirects": list(result.redirects),
                "log": list(result.log_lines),
                "message": result.message,
                "mirror_requests": mirror.counters.requests,
            })
    yield client.close()
    before_control = {a: f.connections for a, f in listeners.items()}

    # The control: a client allowed to go there does reach every listener
    # through the same redirects, so the zero counts above mean something.
    control_client = ProbeClient(
        reactor, timeout=5, hosts={"metadata.test": [METADATA]},
        allowed_networks=LOOPBACK_NETWORKS + ("169.254.0.0/16",) + tuple(
            a + "/128" for a in IPV6_FORMS.values()))
    control = {}
    for name, mirror in hostile.items():
        result = yield control_client.probe(mirror.url(RELEASE))
        control[name] = result.outcome.name
    yield control_client.close()
    yield farm.stop()
    return {
        "honest": honest.outcome.name,
        "refused": refused,
        "listeners_before_control": before_control,
        "control": control,
        "listeners_after_control": {a: f.connections
                                    for a, f in listeners.items()},
    }


def main(reactor, root):
    d = probe_all(reactor, root)
    d.addCallback(lambda report: print(json.dumps(report)))
    return d


if __name__ == "__main__":
    task.react(main, sys.argv[1:])
