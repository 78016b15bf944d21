"""What the web tests share: an in-process HTTP client and a small world
of people with passwords.

InProcessClient speaks real HTTP/1.1 to the real twisted.web Site over an
in-memory transport (as treq's StubTreq does): the request is parsed by
twisted.web, routed and rendered by mirrorkeeper.web, and the response
bytes are parsed back.  The database work runs inline on the test's store
(InlineTransactor), so each request has finished when `request` returns.
It keeps cookies like a browser.
"""

import json
import re
from http.cookies import SimpleCookie
from urllib.parse import urlencode

import pytest

from twisted.internet.address import IPv4Address, IPv6Address
from twisted.internet.testing import StringTransport
from twisted.web.server import Site

from mirrorkeeper.enums import (
    MirrorContent, MirrorPulseType, MirrorSpeed, MirrorStatus)
from mirrorkeeper.model.country import CountrySet
from mirrorkeeper.model.person import PersonSet
from mirrorkeeper.sampledata import load_sample_data
from mirrorkeeper.web.app import MirrorKeeperWeb, WebSettings
from mirrorkeeper.web.passwords import hash_password
from mirrorkeeper.web.sessions import COOKIE_NAME, SessionSigner
from mirrorkeeper.web.site import WebResource
from mirrorkeeper.web.transactor import InlineTransactor

SECRET = b"a test secret of the web, 32 bytes"
PASSWORD = "correct horse battery"
# Hashed once: scrypt is slow on purpose, and the world has four people
# in every test.
PASSWORD_HASH = hash_password(PASSWORD)


class HTTPResponse:
    def __init__(self, raw):
        head, _, self.body = raw.partition(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        self.status = int(lines[0].split()[1])
        self.headers = {}
        self.cookies = []
        for line in lines[1:]:
            name, _, value = line.partition(":")
            name, value = name.strip().lower(), value.strip()
            if name == "set-cookie":
                self.cookies.append(value)
            self.headers[name] = value

    @property
    def text(self):
        return self.body.decode("utf-8")

    def json(self):
        return json.loads(self.body)

    def csrf_token(self):
        """The CSRF token of the page's first form."""
        match = re.search(r'name="csrf_token" value="([^"]+)"', self.text)
        return match.group(1) if match else None


class InProcessClient:
    """`address` is where its requests come from, as the site sees it."""

    def __init__(self, store, settings=None, address="127.0.0.1",
                 clock=None):
        self.signer = SessionSigner(SECRET)
        # Without settings the API tells shared caches to keep nothing;
        # the site's own cache sees every change in the database.
        self.app = MirrorKeeperWeb(
            InlineTransactor(store), self.signer,
            settings or WebSettings(cache_seconds=0), clock=clock)
        self.site = Site(WebResource(self.app), timeout=None)
        self.cookies = {}
        self.address = address

    def elsewhere(self, address="127.0.0.1", cookies=None):
        """Another client of the same site: from `address`, with a copy
        of `cookies` (default: none), as another browser would be."""
        other = object.__new__(InProcessClient)
        other.signer, other.app, other.site = self.signer, self.app, self.site
        other.cookies = dict(cookies or {})
        other.address = address
        return other

    def request(self, method, path, form=None, headers=None):
        body = urlencode(form or {}).encode("utf-8") if form is not None \
            else b""
        headers = dict(headers or {})
        lines = ["%s %s HTTP/1.1" % (method, path),
                 "Host: %s" % (headers.pop("Host", "localhost"),),
                 "Connection: close", "Content-Length: %d" % len(body)]
        if form is not None:
            lines.append("Content-Type: application/x-www-form-urlencoded")
        if self.cookies:
            lines.append("Cookie: " + "; ".join(
                "%s=%s" % item for item in self.cookies.items()))
        for name, value in headers.items():
            lines.append("%s: %s" % (name, value))
        raw = ("\r\n".join(lines) + "\r\n\r\n").encode("utf-8") + body
        peer = (IPv6Address if ":" in self.address else IPv4Address)(
            "TCP", self.address, 40000)
        transport = StringTransport(
            hostAddress=IPv4Address("TCP", "127.0.0.1", 8000),
            peerAddress=peer)
        channel = self.site.buildProtocol(peer)
        channel.makeConnection(transport)
        channel.dataReceived(raw)
        response = HTTPResponse(transport.value())
        channel.connectionLost(None)
        for header in response.cookies:
            cookie = SimpleCookie(header)
            for name, morsel in cookie.items():
                self.cookies[name] = morsel.value
        return response

    def get(self, path, headers=None):
        return self.request("GET", path, headers=headers)

    def csrf_token(self):
        """The token the forms of this client's session carry (a first
        GET gives the client a session)."""
        if COOKIE_NAME not in self.cookies:
            self.get("/+login")
        return self.signer.csrf_token(
            self.signer.load(self.cookies[COOKIE_NAME]))

    def post(self, path, form=None, csrf=True):
        form = dict(form or {})
        if csrf:
            form.setdefault("csrf_token", self.csrf_token())
        return self.request("POST", path, form)

    def login(self, name, password=PASSWORD):
        response = self.post("/+login", {"login": name,
                                         "password": password})
        assert response.status == 303, response.text
        return response


class World:
    """The sample Ubuntu, and four people who log in: olive owns mirrors,
    oscar owns other mirrors, adam is one of Ubuntu's mirror admins, sita
    is a site admin."""

    def __init__(self, store):
        self.store = store
        self.ubuntu = load_sample_data(store)
        people = PersonSet(store)
        self.people = {}
        for name in ("olive", "oscar", "adam", "sita"):
            person = people.new(name, name.capitalize(),
                                "%s@example.org" % name)
            person.password_hash = PASSWORD_HASH
            self.people[name] = person
        people["ubuntu-mirror-admins"].addMember(self.people["adam"])
        people.newTeam("mirrorkeeper-admins", "Site admins",
                       members=[self.people["sita"]])
        self.mirror("oscars-mirror", "oscar")
        store.commit()

    def mirror(self, name, owner="olive", status=MirrorStatus.PENDING_REVIEW,
               enabled=False, content=MirrorContent.ARCHIVE, country="BR",
               **details):
        mirror = self.ubuntu.newMirror(
            self.people[owner], name, MirrorSpeed.S1G,
            CountrySet(self.store)[country], content, MirrorPulseType.PULL,
            http_base_url="http://%s.example.org/ubuntu/" % name,
            official_candidate=True, enabled=enabled, **details)
        mirror.status = status
        self.store.commit()
        return mirror


# The fixtures of most web tests: `from tests.web_harness import client,
# world` (a module defines its own `world` where it needs other mirrors).

@pytest.fixture
def world(store):
    """The sample data and the web's people, on the test's store."""
    return World(store)


@pytest.fixture
def client(store, world):
    """The site in-process, once `world` is set up."""
    return InProcessClient(store)
