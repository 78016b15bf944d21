"""The web daemon as admins run it: `mirrorkeeper web` on loopback, its
database threads, and the account commands that set it up."""

import json
import shutil
import subprocess
import urllib.error
import urllib.parse
import urllib.request
from concurrent.futures import ThreadPoolExecutor

import pytest

from tests.web_server import MIRRORKEEPER, WebServer


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    server = WebServer(tmp_path_factory.mktemp("web-daemon")).populate()
    server.start()
    yield server
    server.stop()


class NoRedirect(urllib.request.HTTPRedirectHandler):
    """Redirects are answers to look at, not to follow."""

    def redirect_request(self, *args):
        return None


def fetch(url, data=None, headers=None):
    request = urllib.request.Request(url, data=data, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=20) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read()


def test_daemon_serves_pages_api_and_metrics(server):
    """The daemon answers pages, the JSON API, feeds and metrics over
    real sockets."""
    for path, wanted in [("", b"Ubuntu Linux"),
                         ("ubuntu/+archivemirrors", b"valid-mirror"),
                         ("ubuntu/+mirror/valid-mirror", b"valid-mirror"),
                         ("ubuntu/+archivemirrors-rss", b"<rss"),
                         ("metrics", b"mirrorkeeper_mirrors{"),
                         ("ubuntu/+propagation", b"propagation")]:
        status, _, body = fetch(server.url + path)
        assert status == 200 and wanted in body, path
    status, headers, body = fetch(server.url + "api/1/status")
    assert headers["Content-Type"] == "application/json"
    assert {m["name"] for m in json.loads(body)["mirrors"]} >= {
        "valid-mirror", "new-mirror"}


def test_concurrent_requests_are_answered_by_the_database_threads(server):
    """Many requests at once are all answered, each from a store of its
    own thread."""
    with ThreadPoolExecutor(16) as pool:
        results = list(pool.map(
            lambda n: fetch(server.url + "api/1/mirrors/valid-mirror")[0],
            range(64)))
    assert results == [200] * 64


def test_admin_and_password_commands_make_accounts_that_log_in(server):
    """The site admin made by `admin create` and the owner given a
    password by `person set-password` log in; a wrong password does
    not."""
    for login, password, wanted in [("sita", "correct horse battery", 303),
                                    ("olive", "correct horse battery", 303),
                                    ("olive", "wrong password!", 403)]:
        opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(), NoRedirect())
        with opener.open(server.url + "+login", timeout=20) as response:
            page = response.read().decode("utf-8")
        token = page.split('name="csrf_token" value="')[1].split('"')[0]
        data = urllib.parse.urlencode({
            "csrf_token": token, "login": login,
            "password": password}).encode("ascii")
        try:
            status = opener.open(server.url + "+login", data,
                                 timeout=20).status
        except urllib.error.HTTPError as error:
            status = error.code
        assert status == wanted, login


def test_password_commands_refuse_short_passwords(server):
    """`person set-password` refuses a short password and changes
    nothing."""
    result = subprocess.run(
        [MIRRORKEEPER, "person", "set-password", "olive"], input="short\n",
        text=True, capture_output=True, env=server.env, timeout=60)
    assert result.returncode == 1
    assert "at least 8 characters" in result.stderr


@pytest.mark.parametrize("endpoint,starts", [
    ("tcp:0:interface=0.0.0.0", False),
    ("tcp:0", False),
    ("tcp:0:interface=\\:\\:", False),
    ("unix:web.sock", False),
    ("tcp:0:interface=127.0.0.1", True),
    ("tcp6:0:interface=\\:\\:1", True),
])
def test_daemon_refuses_public_endpoints_without_base_url(
        tmp_path, endpoint, starts, sqlite_template):
    """Without [web] base_url the daemon starts only on loopback: links
    would otherwise have nothing but a client's Host to come from.  (It
    refuses before listening anywhere.)"""
    server = WebServer(tmp_path)
    # The schema, as `mirrorkeeper db upgrade` makes it (conftest's
    # template is made by the same upgrade()), without its second.
    shutil.copyfile(sqlite_template, str(tmp_path / "web.db"))
    if starts:
        server.start(endpoint=endpoint)
        server.stop()
        return
    result = subprocess.run(
        [MIRRORKEEPER, "web", "--listen", endpoint], text=True,
        capture_output=True, env=server.env, cwd=str(tmp_path), timeout=60)
    assert result.returncode != 0
    assert "base_url is not set" in result.stderr
