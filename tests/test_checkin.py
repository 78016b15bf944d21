"""Mirrors that talk back: tokens, check-ins and probe-me-now.

The check-in client runs as a subprocess on a real archive tree and talks
HTTPS to the real web daemon on loopback, whose certificate a test CA
signs; the queued prober run is the real cronscript probing a real mirror
server.  Both database backends."""

import concurrent.futures
import json
import os
import shutil
import ssl
import subprocess
import sys
import threading
import urllib.error
import urllib.request
from datetime import timedelta

import pytest
from cryptography.hazmat.primitives import serialization

from mirrorkeeper.archive.files import details_of, read_file
from mirrorkeeper.database.store import open_store
from mirrorkeeper.enums import (
    MirrorFreshness, MirrorStatus, ProbeRecordState)
from mirrorkeeper.errors import InvalidValueError
from mirrorkeeper.model import checkin
from mirrorkeeper.model.distribution import DistributionSet
from mirrorkeeper.model.distributionmirror import DistributionMirrorSet
from mirrorkeeper.model.masterarchive import MasterFileDetailSet
from mirrorkeeper.timeutil import utcnow
from tests.archive_builder import DebianArchive
from tests.farm.certificates import TestCA
from tests.harness.postgres import TemplateDatabases
from tests.test_prober_script import World as ProberWorld
from tests.web_harness import InProcessClient, World
from tests.web_server import WebServer, copy_sqlite

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CLIENT = os.path.join(ROOT, "lib", "mirrorkeeper", "checkin",
                      "report_mirror.py")
HOUR = timedelta(hours=1)


# The model, on a real database.

def test_a_token_is_shown_once_kept_hashed_and_revocable(sample_store):
    """A token checks out for its mirror only, is stored as its hash, and
    stops working when revoked or replaced."""
    store = sample_store
    mirrors = DistributionMirrorSet(store)
    mirror, other = mirrors["valid-mirror"], mirrors["archive-404-mirror"]
    secret = checkin.create_token(store, mirror)
    stored = store.find(checkin.MirrorToken).one()
    assert secret not in stored.secret_hash and len(stored.secret_hash) == 64
    assert checkin.check_token(store, mirror, secret)
    assert not checkin.check_token(store, other, secret)
    assert not checkin.check_token(store, mirror, secret + "x")
    assert not checkin.check_token(store, mirror, None)
    replacement = checkin.create_token(store, mirror)
    assert not checkin.check_token(store, mirror, secret)
    assert checkin.check_token(store, mirror, replacement)
    assert checkin.revoke_tokens(store, mirror) == 1
    assert not checkin.check_token(store, mirror, replacement)
    assert not checkin.token_state(store, mirror).active


@pytest.mark.parametrize("body, field", [
    (b"not json", "report"),
    (b'{"format": 2}', "format"),
    (b'{"format": 1, "suites": []}', "suites"),
    (b'{"format": 1, "suites": [{"suite": "../etc", "files": {}}]}',
     "suite"),
    (b'{"format": 1, "repositories": [{"path": "a/repomd.xml", '
     b'"sha256": "xyz"}]}', "sha256"),
    (b'{"format": 1, "suites": "warty"}', "suites"),
])
def test_a_report_that_is_not_one_is_refused(body, field):
    """A report that is malformed names what is wrong."""
    with pytest.raises(InvalidValueError) as caught:
        checkin.read_report(body)
    assert caught.value.field == field


def test_probe_requests_are_rate_limited_and_drained_when_applied(
        sample_store):
    """A mirror asks at most once per interval; it stays in the queue
    until a probe newer than its request has taken effect."""
    store = sample_store
    mirror = DistributionMirrorSet(store)["valid-mirror"]
    now = utcnow()
    interval = timedelta(minutes=15)
    first = checkin.request_probe(store, mirror, interval, now)
    assert first.queued
    again = checkin.request_probe(store, mirror, interval,
                                  now + timedelta(minutes=5))
    assert not again.queued and again.retry_after == 600
    assert checkin.queued_mirror_ids(store) == [mirror.id]
    # A probe from before the request does not serve it, nor one whose
    # findings have not taken effect yet.
    mirror.newProbeRecord("log", now - HOUR)
    assert checkin.drain_queue(store) == []
    pending = mirror.newProbeRecord("log", now + timedelta(minutes=1))
    pending.state = ProbeRecordState.PENDING
    assert checkin.drain_queue(store) == []
    pending.state = ProbeRecordState.APPLIED
    assert checkin.drain_queue(store) == [mirror.id]
    assert checkin.queued_mirror_ids(store) == []
    later = checkin.request_probe(store, mirror, interval, now + interval)
    assert later.queued
    assert checkin.queued_mirror_ids(store) == [mirror.id]


# The owner's token page, in process.

@pytest.fixture
def web(store):
    world = World(store)
    client = InProcessClient(store)
    return world, client


def test_the_owner_makes_a_token_seen_once_and_revokes_it(web):
    """The owner's form shows the new token once; revoking it is a POST
    with the CSRF token like every owner form."""
    world, client = web
    mirror = world.mirror("olives-mirror", status=MirrorStatus.OFFICIAL)
    page = "/ubuntu/+mirror/olives-mirror/+token"
    assert client.get(page).status == 303  # to the login
    client.login("olive")
    assert "has no token" in client.get(page).text
    made = client.post(page, {"action": "create"})
    assert made.status == 200
    secret = made.text.split('<pre class="token">')[1].split("<")[0]
    assert checkin.check_token(world.store, mirror, secret)
    shown = client.get(page).text
    assert secret not in shown and "has a token" in shown
    forged = client.post(page, {"action": "revoke"}, csrf=False)
    assert forged.status == 403
    assert checkin.token_state(world.store, mirror).active
    assert client.post(page, {"action": "revoke"}).status == 303
    assert not checkin.check_token(world.store, mirror, secret)
    assert "Token and check-in" in client.get(
        "/ubuntu/+mirror/olives-mirror").text


def test_the_token_page_shows_the_checkin_beside_the_probers_view(web):
    """What the host reported is shown beside what the prober saw."""
    world, client = web
    mirror = world.mirror("olives-mirror", status=MirrorStatus.OFFICIAL)
    checkin.record_checkin(world.store, mirror, _report("c" * 64))
    world.store.commit()
    client.login("olive")
    text = client.get("/ubuntu/+mirror/olives-mirror/+token").text
    assert "The prober saw" in text and "The check-in says" in text
    assert "dists/warty/Release" in text and "unknown" in text
    assert "This mirror is public" in text


def test_another_person_may_not_make_a_token(web):
    """Only whoever may edit the mirror reaches its token."""
    world, client = web
    world.mirror("olives-mirror", status=MirrorStatus.OFFICIAL)
    client.login("oscar")
    page = "/ubuntu/+mirror/olives-mirror/+token"
    assert client.get(page).status == 403
    assert client.post(page, {"action": "create"}).status == 403
    assert world.store.find(checkin.MirrorToken).is_empty()


def _prerelease_report(suites):
    return checkin.read_report(json.dumps({"format": 1, "suites": [
        {"suite": suite, "files": {"dists/%s/Release" % suite: "d" * 64},
         "components": [{"component": "main", "architectures": ["i386"],
                         "source": False}]} for suite in suites]}).encode())


def test_mirror_admins_see_who_carries_a_release_before_it_is_public(web):
    """+prerelease lists, for hoary (in development), the mirrors whose
    newest check-in carries it, with its age: a private one as carrying
    it by its word, a public one beside what the prober found, which
    the check-in leaves as it was; a check-in too old, or of released
    series only, is not listed."""
    from mirrorkeeper.enums import PackagePublishingPocket
    world, client = web
    store = world.store
    now = utcnow()
    public = world.mirror("public-mirror", status=MirrorStatus.OFFICIAL)
    private = world.mirror("private-mirror", status=MirrorStatus.OFFICIAL)
    private.private = True
    stale = world.mirror("stale-mirror", status=MirrorStatus.OFFICIAL)
    released = world.mirror("warty-mirror", status=MirrorStatus.OFFICIAL)
    hoary = world.ubuntu.getSeries("hoary")
    record = public.ensureMirrorDistroArchSeries(
        hoary.getArch("i386"), PackagePublishingPocket.RELEASE,
        hoary.components[0])
    record.freshness = MirrorFreshness.ONEWEEKBEHIND
    checkin.record_checkin(store, public, _prerelease_report(
        ["warty", "hoary", "hoary-updates"]), now=now - 2 * HOUR)
    checkin.record_checkin(store, private, _prerelease_report(["hoary"]),
                           now=now - 5 * HOUR)
    checkin.record_checkin(store, stale, _prerelease_report(["hoary"]),
                           now=now - 49 * HOUR)
    checkin.record_checkin(store, released, _prerelease_report(["warty"]),
                           now=now)
    checkin.carry_checkin(store, public, 48 * HOUR)
    store.commit()
    page = "/ubuntu/+prerelease"
    assert client.get(page).status == 303       # to the login
    client.login("olive")                       # owns them, no admin
    assert client.get(page).status == 403
    client.login("adam")
    answer = client.get(page)
    assert answer.status == 200
    text = answer.text
    assert "hoary (5.04)" in text and "warty (4.10)" not in text
    rows = text.split('class="prerelease"')[1].split("</table>")[0]
    rows = rows.split("<tr>")[2:]
    assert [row.split("</a>")[0].rsplit(">", 1)[1] for row in rows] == [
        "public-mirror", "private-mirror"]
    assert "2 h 0 min" in rows[0] and "hoary hoary-updates" in rows[0]
    assert MirrorFreshness.ONEWEEKBEHIND.title in rows[0]
    assert "5 h 0 min" in rows[1] and "private: its check-in is" in rows[1]
    # The public mirror's check-in changed nothing the prober found.
    assert [r.freshness for r in public.arch_series] == [
        MirrorFreshness.ONEWEEKBEHIND]


# The client over HTTPS to the real daemon.

class Site:
    """The web daemon over HTTPS on loopback (a test CA signs its
    certificate), its database, and a mirror tree the master's history
    partly knows."""

    def __init__(self, tmp_path, database_uri):
        """`database_uri`: a database as WebServer.populate() leaves it
        (see PopulatedDatabases)."""
        self.tmp_path = tmp_path
        ca = TestCA()
        self.ca_file = tmp_path / "ca.pem"
        self.ca_file.write_bytes(ca.pem)
        issued = ca.issue(["127.0.0.1"])
        key_file = tmp_path / "server.pem"
        key = issued.privateKey.original.to_cryptography_key()
        key_file.write_bytes(key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption()) + issued.dumpPEM())
        self.server = WebServer(tmp_path, database_uri)
        with open(self.server.config, "a") as f:
            f.write("base_url = https://127.0.0.1\n[checkin]\n"
                    "probe_interval_minutes = 15\n")
        self.server.start(endpoint="ssl:0:interface=127.0.0.1:privateKey=%s"
                          % (key_file,))
        port = self.server.url.rstrip("/").rsplit(":", 1)[1]
        self.url = "https://127.0.0.1:%s" % (port,)
        self.tree = self._archive()

    def store(self):
        return open_store(self.server.database_uri)

    def _archive(self):
        """The mirror's tree: warty as the master had it three days ago,
        warty-updates as it has it now; the master's history knows
        both."""
        master = DebianArchive(self.tmp_path / "master")
        for suite in ("warty", "warty-updates"):
            master.add_binary(suite, "hello", "1.0-1")
            master.publish(suite, version="4.10")
        tree = str(self.tmp_path / "mirror")
        shutil.copytree(master.root, tree)
        now = utcnow()
        store = self.store()
        ubuntu = DistributionSet(store).getByName("ubuntu")
        history = MasterFileDetailSet(store)
        path = "dists/warty/Release"
        history.record(ubuntu, path, details_of(
            *read_file(master.root, path)), now - 72 * HOUR)
        master.publish("warty", version="4.10.1")
        history.record(ubuntu, path, details_of(
            *read_file(master.root, path)), now - 3 * HOUR)
        path = "dists/warty-updates/Release"
        history.record(ubuntu, path, details_of(
            *read_file(master.root, path)), now - 72 * HOUR)
        store.commit()
        store.close()
        return tree

    def token(self, name="valid-mirror"):
        store = self.store()
        secret = checkin.create_token(
            store, DistributionMirrorSet(store)[name])
        store.commit()
        store.close()
        path = self.tmp_path / ("%s.token" % name)
        path.write_text(secret + "\n")
        return path

    def report(self, token_file, *args, ca=True, mirror="valid-mirror"):
        command = [sys.executable, CLIENT, "--site", self.url, "--mirror",
                   mirror, "--root", self.tree, "--token-file",
                   str(token_file)]
        if ca:
            command += ["--ca-file", str(self.ca_file)]
        env = {key: value for key, value in os.environ.items()
               if not key.startswith("SSL_CERT")}
        return subprocess.run(command + list(args), capture_output=True,
                              text=True, timeout=60, env=env,
                              cwd=str(self.tmp_path))

    def checkin(self, name="valid-mirror"):
        store = self.store()
        try:
            mirror = DistributionMirrorSet(store)[name]
            return checkin.judge_checkin(store, mirror, 48 * HOUR)
        finally:
            store.close()


class PopulatedDatabases:
    """Databases as WebServer.populate() leaves them (schema, sample data,
    sita the site admin and olive an owner, with their passwords): made
    by the real command line once per module and backend, then copied for
    each test, as conftest copies its templates.  populate() runs five
    `mirrorkeeper` processes, 3 s of each Site's 4 s; none of these tests
    is about them (tests/test_cli.py is)."""

    def __init__(self, request, tmp_path_factory):
        self.request = request
        self.tmp_path_factory = tmp_path_factory
        self._sqlite = None
        self._postgres = None
        self._made = []

    def new(self, database_uri):
        """A populated database on `database_uri`'s backend: on SQLite,
        `database_uri` itself, its file replaced by a copy; on PostgreSQL,
        a new database (give it back with release())."""
        if database_uri.startswith("sqlite:"):
            if self._sqlite is None:
                directory = self.tmp_path_factory.mktemp("populated")
                WebServer(directory).populate()
                self._sqlite = str(directory / "web.db")
            copy_sqlite(self._sqlite, database_uri[len("sqlite:"):])
            return database_uri
        if self._postgres is None:
            server = self.request.getfixturevalue("postgres_databases").server
            directory = self.tmp_path_factory.mktemp("populated-postgres")
            self._postgres = TemplateDatabases(
                server, template="mirrorkeeper_checkin_site",
                prefix="mirrorkeeper_checkin_",
                prepare=lambda uri: WebServer(directory, uri).populate())
        uri = self._postgres.new()
        self._made.append(uri)
        return uri

    def release(self, uri):
        if self._postgres is not None and uri in self._made:
            self._postgres.release(uri)

    def close(self):
        if self._postgres is not None:
            for uri in set(self._made):
                self._postgres.drop(uri)
            self._postgres.server.drop_database(self._postgres.template)


@pytest.fixture(scope="module")
def populated_databases(request, tmp_path_factory):
    databases = PopulatedDatabases(request, tmp_path_factory)
    yield databases
    databases.close()


@pytest.fixture
def site(tmp_path, database_uri, populated_databases):
    uri = populated_databases.new(database_uri)
    site = Site(tmp_path, uri)
    yield site
    site.server.stop()
    populated_databases.release(uri)


def test_the_client_reports_the_tree_over_https(site):
    """A check-in with the mirror's token is kept and judged against the
    master's history: one suite current, one behind since the master
    replaced its Release three hours ago."""
    result = site.report(site.token())
    assert result.returncode == 0, result.stderr
    assert "Reported: 1 of 2 control files are the master's current " \
        "ones" in result.stdout
    view = site.checkin()
    verdicts = {each.path: (each.verdict, each.lag) for each in view.files}
    assert verdicts["dists/warty-updates/Release"] == (
        "current", timedelta(0))
    verdict, lag = verdicts["dists/warty/Release"]
    assert verdict == "behind" and 3 * HOUR <= lag < 4 * HOUR
    assert view.freshness is MirrorFreshness.SIXHOURSBEHIND
    suites = {suite: (components, arches)
              for suite, components, arches, _ in view.suites}
    assert suites["warty"] == (("main",), ("amd64", "arm64"))


def test_a_private_mirror_carries_what_it_checks_in(site):
    """The check-in of a private mirror, over HTTPS, becomes its content
    records: sources of warty (behind) and warty-updates (current)."""
    store = site.store()
    DistributionMirrorSet(store)["valid-mirror"].private = True
    store.commit()
    store.close()
    result = site.report(site.token())
    assert result.returncode == 0, result.stderr
    store = site.store()
    mirror = DistributionMirrorSet(store)["valid-mirror"]
    sources = {(r.distro_series.name, r.pocket.name, r.component.name):
               r.freshness for r in mirror.source_series}
    store.close()
    assert sources == {
        ("warty", "RELEASE", "main"): MirrorFreshness.SIXHOURSBEHIND,
        ("warty", "UPDATES", "main"): MirrorFreshness.UP}


def test_the_client_reports_the_suites_under_a_series_root(site):
    """A series kept under a root of its own (ports/dists/hoary) is
    reported with its root, as deep as MAX_DISTS_DEPTH and no deeper; a
    private mirror carries it once the series lives there."""
    ports = DebianArchive(os.path.join(site.tree, "ports"))
    ports.add_binary("hoary", "hello", "1.0-1", arch="i386")
    ports.publish("hoary", version="5.04", architectures=("i386",))
    deep = DebianArchive(os.path.join(site.tree, "a", "b", "c", "d"))
    deep.add_binary("breezy", "hello", "1.0-1")
    deep.publish("breezy")
    dry = site.report(site.token(), "--dry-run")
    assert dry.returncode == 0, dry.stderr
    report = json.loads(dry.stdout)
    assert [(suite["root"], suite["suite"]) for suite in report[
        "suites"]] == [("", "warty"), ("", "warty-updates"),
                       ("ports", "hoary")]
    hoary = report["suites"][2]
    assert sorted(hoary["files"]) == ["ports/dists/hoary/Release"]
    assert checkin.read_report(dry.stdout.encode())["suites"][2][
        "root"] == "ports"
    store = site.store()
    DistributionMirrorSet(store)["valid-mirror"].private = True
    DistributionSet(store).getByName("ubuntu").getSeries(
        "hoary").root = "ports/"
    store.commit()
    store.close()
    result = site.report(site.token())
    assert result.returncode == 0, result.stderr
    store = site.store()
    mirror = DistributionMirrorSet(store)["valid-mirror"]
    arch = {(r.distro_arch_series.distro_series.name,
             r.distro_arch_series.architecture_tag, r.pocket.name)
            for r in mirror.arch_series}
    store.close()
    assert ("hoary", "i386", "RELEASE") in arch


def test_a_bad_or_revoked_token_gets_403_and_changes_nothing(site):
    """Another mirror's token, or a revoked one, is refused; the stored
    check-in stays as it was."""
    token = site.token()
    assert site.report(token).returncode == 0
    before = site.checkin().date_reported
    wrong = site.token("archive-404-mirror")
    refused = site.report(wrong)
    assert refused.returncode == 1
    assert "refused: 403" in refused.stderr
    store = site.store()
    checkin.revoke_tokens(store, DistributionMirrorSet(store)[
        "valid-mirror"])
    store.commit()
    store.close()
    revoked = site.report(token)
    assert revoked.returncode == 1 and "403" in revoked.stderr
    assert site.checkin().date_reported == before
    assert site.checkin("archive-404-mirror") is None


def test_a_probe_request_with_a_bad_token_gets_403_and_queues_nothing(
        site):
    """+probe with another mirror's token, a revoked one, or none, is a
    403, and the mirror is not queued."""
    context = ssl.create_default_context(cafile=str(site.ca_file))
    other = site.token("archive-404-mirror").read_text().strip()
    revoked = site.token().read_text().strip()
    store = site.store()
    checkin.revoke_tokens(store, DistributionMirrorSet(store)[
        "valid-mirror"])
    store.commit()
    store.close()
    for secret in (other, revoked, None):
        headers = {"Authorization": "Bearer " + secret} if secret else {}
        request = urllib.request.Request(
            "%s/api/1/mirrors/valid-mirror/+probe" % (site.url,),
            data=b"{}", method="POST", headers=headers)
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(request, timeout=30, context=context)
        assert refused.value.code == 403
    store = site.store()
    assert checkin.queued_mirror_ids(store) == []
    store.close()


def test_the_servers_certificate_is_verified(site):
    """Without the CA that signed the site's certificate, the client
    sends nothing and says it cannot reach the site."""
    result = site.report(site.token(), ca=False)
    assert result.returncode == 3
    assert "CERTIFICATE_VERIFY_FAILED" in result.stderr
    assert site.checkin() is None


def test_probe_me_now_is_queued_once_per_interval(site):
    """--probe queues the mirror and says when it is probed; a second
    request within the interval is a 429 with Retry-After."""
    token = site.token()
    first = site.report(token, "--probe")
    assert first.returncode == 0, first.stderr
    assert "Probe: queued: probed by the queued prober run within 1 min" \
        in first.stdout
    second = site.report(token, "--probe")
    assert second.returncode == 1
    assert "429" in second.stderr and "retry after" in second.stderr
    store = site.store()
    mirror = DistributionMirrorSet(store)["valid-mirror"]
    assert checkin.queued_mirror_ids(store) == [mirror.id]
    store.close()


# Requests sent at once: more than the web daemon has database threads.
N_AT_ONCE = 8


def test_first_requests_at_once_queue_the_mirror_once(site):
    """Several first requests to probe a mirror, sent at once: one is
    queued (202), the others are told it is too soon (429); none is a
    500, whichever of them commits first."""
    secret = site.token().read_text().strip()
    context = ssl.create_default_context(cafile=str(site.ca_file))
    url = "%s/api/1/mirrors/valid-mirror/+probe" % (site.url,)
    start = threading.Barrier(N_AT_ONCE)

    def ask():
        request = urllib.request.Request(
            url, data=b"{}", method="POST",
            headers={"Authorization": "Bearer " + secret,
                     "Content-Type": "application/json"})
        start.wait()
        try:
            with urllib.request.urlopen(request, timeout=30,
                                        context=context) as answer:
                return answer.status
        except urllib.error.HTTPError as error:
            return error.code

    with concurrent.futures.ThreadPoolExecutor(N_AT_ONCE) as pool:
        statuses = sorted(pool.map(lambda _: ask(), range(N_AT_ONCE)))
    assert statuses == [202] + [429] * (N_AT_ONCE - 1)
    store = site.store()
    mirror = DistributionMirrorSet(store)["valid-mirror"]
    assert checkin.queued_mirror_ids(store) == [mirror.id]
    store.close()

def test_dry_run_prints_the_report_and_sends_nothing(site, tmp_path):
    """--dry-run needs no token and no site: it prints what it would
    send."""
    result = subprocess.run(
        [sys.executable, CLIENT, "--site", "https://127.0.0.1:9",
         "--mirror", "valid-mirror", "--root", site.tree, "--dry-run"],
        capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert [suite["suite"] for suite in report["suites"]] == [
        "warty", "warty-updates"]
    assert checkin.read_report(result.stdout.encode())["suites"]
    nothing = subprocess.run(
        [sys.executable, CLIENT, "--site", "https://127.0.0.1:9",
         "--mirror", "m", "--root", str(tmp_path / "nowhere"),
         "--dry-run"], capture_output=True, text=True, timeout=60)
    assert nothing.returncode == 2 and "not a directory" in nothing.stderr


# The queued prober run.

@pytest.fixture
def prober_world(database_uri, tmp_path, smtp_server):
    smtp_server.clear()
    world = ProberWorld(database_uri, tmp_path, smtp_server)
    yield world
    world.stop()


def test_the_queued_run_probes_the_mirror_once_and_empties_the_queue(
        prober_world):
    """A mirror probed an hour ago that asks is probed again by the
    queued run, its record applied and the queue emptied; the next queued
    run has nothing to do."""
    world = prober_world
    assert world.run().returncode == 0
    store, mirror = world.mirror("valid-mirror")
    records = mirror.probe_records.count()
    checkin.request_probe(store, mirror, timedelta(minutes=15))
    store.commit()
    store.close()
    process = world.run("--queued")
    assert process.returncode == 0, process.stderr
    assert "Probed 1 mirrors." in process.stderr
    assert "left the queue" in process.stderr
    store, mirror = world.mirror("valid-mirror")
    assert mirror.probe_records.count() == records + 1
    assert mirror.last_probe_record.state is ProbeRecordState.APPLIED
    assert checkin.queued_mirror_ids(store) == []
    store.close()
    again = world.run("--queued")
    assert again.returncode == 0
    assert "No mirror asked to be probed." in again.stderr


def test_the_queued_run_waits_while_another_run_holds_the_lock(
        prober_world):
    """While another run holds the prober's lock, the queued run probes
    nothing, exits 0, and the mirror stays queued."""
    import fcntl
    world = prober_world
    store, mirror = world.mirror("valid-mirror")
    checkin.request_probe(store, mirror, timedelta(minutes=15))
    store.commit()
    with open(world.lock_file, "a") as held:
        fcntl.flock(held, fcntl.LOCK_EX | fcntl.LOCK_NB)
        process = world.run("--queued")
    assert process.returncode == 0, process.stderr
    assert "The queue waits for the next run" in process.stderr
    store.rollback()
    assert checkin.queued_mirror_ids(store) == [mirror.id]
    assert mirror.probe_records.is_empty()
    store.close()


# A private mirror's check-in is what it carries.

class _Details:
    def __init__(self, sha256, mtime):
        self.size, self.mtime = 1, mtime
        self.md5 = self.sha1 = self.sha512 = "0"
        self.sha256 = sha256


def _report(sha):
    return checkin.read_report(json.dumps({"format": 1, "suites": [
        {"suite": "warty", "files": {"dists/warty/Release": sha},
         "components": [{"component": "main", "architectures": ["i386"],
                         "source": True}]},
        {"suite": "elsewhere", "files": {}, "components": []}]}).encode())


def test_a_private_mirrors_checkin_is_what_it_carries_until_too_old(
        sample_store):
    """A private mirror's records become those of its check-in, as fresh
    as the master's history says; a public mirror's stay the prober's;
    a check-in too old counts for nothing."""
    store = sample_store
    mirrors = DistributionMirrorSet(store)
    private, public = mirrors["valid-mirror"], mirrors["archive-404-mirror"]
    private.private = True
    ubuntu = private.distribution
    now = utcnow()
    old_sha, new_sha = "a" * 64, "b" * 64
    history = MasterFileDetailSet(store)
    history.record(ubuntu, "dists/warty/Release", _Details(old_sha, now),
                   now - 72 * HOUR)
    history.record(ubuntu, "dists/warty/Release", _Details(new_sha, now),
                   now - 3 * HOUR)
    public_records = sorted(r.id for r in public.arch_series)
    for mirror in (private, public):
        checkin.record_checkin(store, mirror, _report(old_sha), now=now)
        checkin.carry_checkin(store, mirror, 48 * HOUR, now)
    arch = [(r.distro_arch_series.distro_series.name,
             r.distro_arch_series.architecture_tag, r.pocket.name,
             r.component.name, r.freshness) for r in private.arch_series]
    assert arch == [("warty", "i386", "RELEASE", "main",
                     MirrorFreshness.SIXHOURSBEHIND)]
    assert [(r.distro_series.name, r.freshness)
            for r in private.source_series] == [
        ("warty", MirrorFreshness.SIXHOURSBEHIND)]
    assert sorted(r.id for r in public.arch_series) == public_records
    # Two days on, nothing more heard: it counts for nothing.
    later = now + 49 * HOUR
    assert checkin.expire_checkins(store, 48 * HOUR, later) == [
        "valid-mirror"]
    assert {r.freshness for r in private.arch_series} == {
        MirrorFreshness.UNKNOWN}
    assert checkin.expire_checkins(store, 48 * HOUR, later) == []
    assert checkin.may_be_probed(private).startswith("it is private")


def test_two_queued_runs_at_once_probe_the_mirror_once(prober_world):
    """Two queued runs started together: the mirror is probed by one of
    them only, and leaves the queue."""
    world = prober_world
    store, mirror = world.mirror("valid-mirror")
    checkin.request_probe(store, mirror, timedelta(minutes=15))
    store.commit()
    store.close()
    command = [sys.executable, os.path.join(
        ROOT, "cronscripts", "distributionmirror-prober.py"), "--config",
        world.config, "--queued"]
    runs = [subprocess.Popen(command, stderr=subprocess.PIPE, text=True,
                             cwd=ROOT) for _ in range(2)]
    outputs = [run.communicate(timeout=120)[1] for run in runs]
    assert [run.returncode for run in runs] == [0, 0], outputs
    assert sum("Probed 1 mirrors." in output for output in outputs) == 1
    store, mirror = world.mirror("valid-mirror")
    assert mirror.probe_records.count() == 1
    assert checkin.queued_mirror_ids(store) == []
    store.close()


def test_the_queued_run_probes_each_mirror_for_what_it_carries(
        prober_world):
    """An archive mirror and a CD image mirror that both asked are both
    probed by one queued run, each by the plan of its content, and both
    leave the queue."""
    from tests.test_prober_script import CD_IMAGES, put_images
    world = prober_world
    put_images(world.cd_root, [path for _, _, path in CD_IMAGES])
    store = world.store()
    mirrors = DistributionMirrorSet(store)
    for name in ("valid-mirror", "invalid-mirror"):
        checkin.request_probe(store, mirrors[name], timedelta(minutes=15))
    store.commit()
    store.close()
    process = world.run("--queued")
    assert process.returncode == 0, process.stderr
    assert process.stderr.count("Probed 1 mirrors.") == 2
    store, cd = world.mirror("invalid-mirror")
    assert cd.last_probe_record.state is ProbeRecordState.APPLIED
    assert sorted((r.distro_series.name, r.flavour)
                  for r in cd.cdimage_series) == [
        ("hoary", "kubuntu"), ("warty", "ubuntu")]
    archive = DistributionMirrorSet(store)["valid-mirror"]
    assert archive.last_probe_record.state is ProbeRecordState.APPLIED
    assert not archive.arch_series.is_empty()
    assert checkin.queued_mirror_ids(store) == []
    store.close()


def test_a_cd_image_mirror_may_ask_to_be_probed(site):
    """+probe queues a CD image mirror as it does an archive mirror."""
    secret = site.token("invalid-mirror").read_text().strip()
    context = ssl.create_default_context(cafile=str(site.ca_file))
    request = urllib.request.Request(
        "%s/api/1/mirrors/invalid-mirror/+probe" % (site.url,), data=b"{}",
        method="POST", headers={"Authorization": "Bearer " + secret})
    with urllib.request.urlopen(request, timeout=30,
                                context=context) as answer:
        assert answer.status == 202
        assert json.loads(answer.read())["queued"] is True
    store = site.store()
    mirror = DistributionMirrorSet(store)["invalid-mirror"]
    assert checkin.queued_mirror_ids(store) == [mirror.id]
    store.close()


def _served(url, serial, deadline=30.0):
    """The body of `url` once the daemon serves a snapshot newer than
    `serial`."""
    import time
    end = time.monotonic() + deadline
    while True:
        try:
            with urllib.request.urlopen(url, timeout=5) as answer:
                header = answer.headers["X-Mirrorlist-Snapshot"]
                body = answer.read().decode()
            if int(header.split()[0]) > serial:
                return int(header.split()[0]), body
        except OSError:
            pass
        if time.monotonic() > end:
            raise AssertionError("no snapshot newer than %d at %s"
                                 % (serial, url))
        time.sleep(0.1)


def test_the_queued_run_writes_the_snapshot_the_daemon_serves(
        prober_world, tmp_path):
    """A mirror the lists leave out, probed because it asked, is in the
    mirror list daemon's answer right after the queued run: the run wrote
    the snapshot, and the daemon loaded it."""
    import signal
    import socket
    from tests.test_publish_daemon_process import BIN
    world = prober_world
    snapshot = tmp_path / "snapshot.json"
    with open(world.config, "a") as f:
        f.write("[publication]\nsnapshot_path = %s\nlock_file = %s\n"
                "include_unofficial = true\n"
                % (snapshot, tmp_path / "snapshot.lock"))
    snapshot_script = os.path.join(ROOT, "cronscripts",
                                   "generate-mirrorlist-snapshot.py")
    made = subprocess.run([sys.executable, snapshot_script, "--config",
                           world.config], capture_output=True, text=True,
                          timeout=120, cwd=ROOT)
    assert made.returncode == 0, made.stderr
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    daemon = subprocess.Popen(
        [os.path.join(BIN, "mirrorkeeper"), "mirrorlist-server",
         "--listen", "tcp:%d:interface=127.0.0.1" % port,
         "--snapshot", str(snapshot), "--statistics",
         str(tmp_path / "stats"), "--reload-interval", "3600"],
        cwd=str(tmp_path), stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL)
    try:
        url = "http://127.0.0.1:%d/mirrors.txt" % (port,)
        serial, before = _served(url, 0)
        store, mirror = world.mirror("valid-mirror")
        base = mirror.http_base_url
        assert base not in before
        checkin.request_probe(store, mirror, timedelta(minutes=15))
        store.commit()
        store.close()
        process = world.run("--queued")
        assert process.returncode == 0, process.stderr
        assert "Snapshot %d of ubuntu" % (serial + 1) in process.stderr
        daemon.send_signal(signal.SIGHUP)
        _, after = _served(url, serial)
        assert base in after.splitlines()
    finally:
        daemon.terminate()
        daemon.wait(10)
    # Without the setting, the queued run leaves the snapshot alone.
    with open(world.config, "a") as f:
        f.write("[checkin]\nsnapshot_after_queued_run = false\n")
    store, mirror = world.mirror("archive-404-mirror")
    checkin.request_probe(store, mirror, timedelta(minutes=15))
    store.commit()
    store.close()
    quiet = world.run("--queued")
    assert quiet.returncode == 0, quiet.stderr
    assert "Probed 1 mirrors." in quiet.stderr
    assert "Snapshot" not in quiet.stderr
