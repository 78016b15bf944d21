"""Helpers for tests that probe the farm: trial test cases probing it in
process (L{FarmTestMixin}), and pytest tests running the prober cronscript
over farm processes (L{ProberWorld}, the L{prober_world} fixture)."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from twisted.internet import reactor

from mirrorkeeper.addresspolicy import LOOPBACK_NETWORKS
from mirrorkeeper.database.store import open_store
from mirrorkeeper.enums import (
    MirrorContent, MirrorPulseType, MirrorSpeed, MirrorStatus)
from mirrorkeeper.model import register_utilities
from mirrorkeeper.model.country import CountrySet
from mirrorkeeper.prober.client import ProbeClient
from mirrorkeeper.sampledata import load_sample_data

from . import MirrorFarm
from .archive import write_archive_tree

RELEASE = "dists/noble/Release"
PACKAGES = "dists/noble/main/binary-amd64/Packages.gz"
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))
PROBER = os.path.join(ROOT, "cronscripts", "distributionmirror-prober.py")


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


class ProberWorld:
    """The prober cronscript run over farm mirrors, as cron runs it.

    The database at C{uri} holds the sample Ubuntu with its own mirrors
    paused (they point at hosts off loopback), and the mirrors a test
    registers (L{add_mirror}) on farms run as processes of their own
    (L{start_farm}).  The configuration (L{write_config}) allows loopback
    and sends mail to C{smtp_server}.

    @ivar config: the configuration file L{run} uses unless told another.
    """

    def __init__(self, uri, tmp_path, smtp_server):
        self.uri = uri
        self.tmp_path = tmp_path
        self.smtp_server = smtp_server
        self.farms = []
        self.config = None
        smtp_server.clear()

    def store(self):
        """A new store on the database, the model's utilities bound."""
        store = open_store(self.uri)
        register_utilities(store)
        return store

    def load_sample(self, store):
        """The sample Ubuntu, loaded into C{store}, its mirrors paused."""
        ubuntu = load_sample_data(store)
        for mirror in ubuntu.mirrors:
            mirror.owner_paused = True
        return ubuntu

    def start_farm(self, root, mirrors, ca_file=None):
        """A farm process serving C{root} as C{mirrors} ({name: kind}, as
        C{python -m tests.farm} takes them), its CA written to C{ca_file}
        if given; {name: URL} once each one listens."""
        farm = subprocess.Popen(
            [sys.executable, "-m", "tests.farm", "--root", root]
            + (["--ca-file", ca_file] if ca_file else [])
            + ["%s=%s" % item for item in mirrors.items()],
            cwd=ROOT, stdout=subprocess.PIPE, stdin=subprocess.DEVNULL,
            text=True,
            env=dict(os.environ, PYTHONPATH=os.path.join(ROOT, "lib")))
        self.farms.append(farm)
        urls = {}
        for line in farm.stdout:
            if line.strip() == "ready":
                break
            name, url = line.split()
            urls[name] = url
        assert len(urls) == len(mirrors), "the farm did not start"
        return urls

    def stop_farms(self):
        while self.farms:
            farm = self.farms.pop()
            farm.terminate()
            farm.wait(timeout=30)

    def add_mirror(self, store, distribution, name, **base_urls):
        """An official, enabled archive mirror of C{distribution} in
        Germany, owned by the distribution's owner; C{base_urls} are
        {scheme: URL}."""
        mirror = distribution.newMirror(
            distribution.owner, name, MirrorSpeed.S1G,
            CountrySet(store)["DE"], MirrorContent.ARCHIVE,
            MirrorPulseType.PULL, enabled=True, official_candidate=True,
            **{"%s_base_url" % scheme: url
               for scheme, url in base_urls.items()})
        mirror.status = MirrorStatus.OFFICIAL
        return mirror

    def write_config(self, name="mirrorkeeper", uri=None, **sections):
        """Write the configuration file C{name}.conf; its path.  The
        database is C{uri} (the world's if None); C{sections} ({key:
        value} by section name) add to or override what every run has."""
        config = {
            "database": {"uri": uri or self.uri},
            "mail": {"smtp_host": self.smtp_server.host,
                     "smtp_port": self.smtp_server.port},
            # One process: what a run concludes, not how it is shared
            # (tests/test_prober_workers.py), and no helper to start.
            "prober": {"allowed_networks": "127.0.0.0/8 ::1/128",
                       "workers": 1,
                       "lock_file": self.tmp_path / "prober.lock"},
        }
        for section, values in sections.items():
            config.setdefault(section, {}).update(values)
        path = str(self.tmp_path / ("%s.conf" % name))
        with open(path, "w") as f:
            for section, values in config.items():
                f.write("[%s]\n" % section)
                f.writelines("%s = %s\n" % item for item in values.items())
        return path

    def run(self, *args, config=None, force=True, prefix=()):
        """Run the prober cronscript with C{args} (and --force unless told
        otherwise), under the command C{prefix}; with C{config}, else the
        world's L{config}."""
        return subprocess.run(
            list(prefix)
            + [sys.executable, PROBER, "--config", config or self.config]
            + (["--force"] if force else []) + list(args),
            cwd=ROOT, capture_output=True, text=True, timeout=300,
            stdin=subprocess.DEVNULL)


@pytest.fixture
def prober_world(database_uri, tmp_path, smtp_server):
    """A L{ProberWorld} on each backend; its farms stop when the test
    ends."""
    world = ProberWorld(database_uri, tmp_path, smtp_server)
    yield world
    world.stop_farms()
