"""Helpers for trial test cases that probe the farm."""

from __future__ import annotations

import os

from twisted.internet import reactor

from mirrorkeeper.addresspolicy import LOOPBACK_NETWORKS
from mirrorkeeper.prober.client import ProbeClient

from . import MirrorFarm
from .archive import write_archive_tree

RELEASE = "dists/noble/Release"
PACKAGES = "dists/noble/main/binary-amd64/Packages.gz"


class FarmTestMixin:
    """For twisted.trial.unittest.TestCase: a farm, a tree and clients,
    each cleaned up when the test ends (clients before the farm)."""

    def make_tree(self, **kwargs):
        """A fresh archive tree (see L{write_archive_tree}); its path."""
        root = os.path.abspath(self.mktemp())
        os.makedirs(root)
        write_archive_tree(root, **kwargs)
        return root

    def make_farm(self, interface="127.0.0.1"):
        farm = MirrorFarm(reactor, interface=interface)
        self.addCleanup(farm.stop)
        return farm

    def make_client(self, clock=None, **kwargs):
        """A ProbeClient allowing loopback unless told otherwise."""
        kwargs.setdefault("allowed_networks", LOOPBACK_NETWORKS)
        client = ProbeClient(clock if clock is not None else reactor, **kwargs)
        self.addCleanup(client.close)
        return client

    def assertLogSays(self, result, *fragments):
        """Each fragment appears in one of the result's log lines."""
        text = "\n".join(result.log_lines)
        for fragment in fragments:
            self.assertIn(fragment, text)
