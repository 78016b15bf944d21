"""The mirror list daemon in the test's own reactor, on loopback port 0,
with a snapshot, a GeoIP database and a configuration written for the
test, and an HTTP client to ask it."""

import json
import os

from twisted.internet import defer, protocol, reactor
from twisted.web.client import Agent, ResponseDone
from twisted.web.http_headers import Headers

from mirrorkeeper.publish.poolfacts import write_pool_facts
from mirrorkeeper.publish.server import Options, makeService
from mirrorkeeper.publish.snapshot import write_snapshot
from tests.mirrorlist_snapshots import write_geoip

CONFIG = """\
[publication]
trusted_proxies = {trusted}
allow_ip_parameter = true
minimum_mirrors = {minimum}
fallback_urls = {fallback}
"""


class DaemonTestMixin:
    """For trial TestCases: start_daemon(snapshot) and get(path)."""

    @defer.inlineCallbacks
    def start_daemon(self, snapshot, trusted="127.0.0.1", minimum=5,
                     fallback="", reload_interval=3600, extra_config="",
                     listen="tcp:0:interface=127.0.0.1", pool_files=None):
        """`extra_config` is more of [publication], one setting a line;
        `listen` an endpoint on loopback port 0 (ssl: for https);
        `pool_files` {path: (size, sha256)}: the snapshot has these pool
        file facts (none when None)."""
        folder = self.mktemp()
        os.makedirs(folder)
        self.snapshot_path = os.path.join(folder, "snapshot.json")
        if pool_files is not None:
            snapshot = dict(snapshot, pool_facts=True)
            write_pool_facts(self.snapshot_path, snapshot["serial"],
                             snapshot["distribution"],
                             [(path, size, sha256) for path, (size, sha256)
                              in pool_files.items()])
        write_snapshot(snapshot, self.snapshot_path)
        config = os.path.join(folder, "mirrorkeeper.conf")
        with open(config, "w") as f:
            f.write(CONFIG.format(trusted=trusted, minimum=minimum,
                                  fallback=fallback) + extra_config)
        self.statistics_dir = os.path.join(folder, "statistics")
        options = Options()
        options.parseOptions([
            "--config", config, "--listen", listen,
            "--snapshot", self.snapshot_path,
            "--geoip", write_geoip(os.path.join(folder, "geo.mmdb")),
            "--asn-database", os.path.join(folder, "geo.mmdb"),
            "--statistics", self.statistics_dir,
            "--reload-interval", str(reload_interval)])
        self.service = makeService(options, reactor)
        self.service.startService()
        self.addCleanup(self.service.stopService)
        port = yield self.service.web.listening
        self.base_url = "%s://127.0.0.1:%d" % (
            "https" if listen.startswith("ssl:") else "http",
            port.getHost().port)
        return self.base_url

    @defer.inlineCallbacks
    def get(self, path, headers=None):
        """(response, body bytes) of GET `path`; redirects not followed."""
        agent = Agent(reactor)
        response = yield agent.request(
            b"GET", (self.base_url + path).encode(),
            Headers({k: [v] for k, v in (headers or {}).items()}))
        body = yield read_body(response)
        return response, body

    def replace_snapshot(self, snapshot):
        write_snapshot(snapshot, self.snapshot_path)


class _Collect(protocol.Protocol):
    def __init__(self, done):
        self.done, self.data = done, []

    def dataReceived(self, data):
        self.data.append(data)

    def connectionLost(self, reason):
        if reason.check(ResponseDone):
            self.done.callback(b"".join(self.data))
        else:
            self.done.errback(reason)


def read_body(response):
    """A Deferred firing with the whole body of `response`."""
    done = defer.Deferred()
    response.deliverBody(_Collect(done))
    return done


def header(response, name):
    values = response.headers.getRawHeaders(name)
    return values[0] if values else None


def lines(body):
    return body.decode().splitlines()


def load(path):
    with open(path) as f:
        return json.load(f)
