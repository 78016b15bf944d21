"""Accounts made on the web site: sign-up with a verification message
that really arrives (the test SMTP server), password reset by mail with a
single-use token that expires, both throttled, and neither telling
whether an address has an account.  On both backends, in-process."""

import hashlib
import re
from datetime import timedelta
from urllib.parse import urlsplit

import pytest

from mirrorkeeper.mail.delivery import SMTPMailDelivery
from mirrorkeeper.model import accounttoken
from mirrorkeeper.model.accounttoken import AccountToken
from mirrorkeeper.model.distributionmirror import DistributionMirrorSet
from mirrorkeeper.model.person import PersonSet
from mirrorkeeper.timeutil import utcnow
from tests.web_harness import PASSWORD, InProcessClient
from tests.web_harness import world  # noqa: F401

NEW_PASSWORD = "a brand new passphrase"


@pytest.fixture
def mail(smtp_server):
    smtp_server.clear()
    return smtp_server


@pytest.fixture
def client(store, world, mail):
    """The site in-process, delivering its mail to the test SMTP
    server."""
    client = InProcessClient(store)
    client.app.mail_delivery = SMTPMailDelivery(mail.host, mail.port)
    return client


def link_in(received, kind):
    """The path of the /+KIND/ link in a received message, and its
    text."""
    text = received.message.get_body().get_content()
    match = re.search(r"(http://\S+/\+%s/[0-9a-f]{64}\S*)" % (kind,), text)
    assert match, text
    parts = urlsplit(match.group(1))
    return parts.path + ("?" + parts.query if parts.query else ""), text


def sign_up(client, name="nadia", email="nadia@example.net",
            password=PASSWORD, next_path=None):
    path = "/+signup" + ("?next=%s" % (next_path,) if next_path else "")
    return client.post(path, {"name": name, "display_name": name.title(),
                              "email": email, "password": password})


def test_sign_up_verify_log_in_and_register(client, mail, store):
    """A sign-up mails a verification link; until it is followed the
    account cannot log in; the link works once, and then the person logs
    in and registers a mirror."""
    page = sign_up(client, next_path="%2Fubuntu%2F%2Bnewmirror")
    assert page.status == 200
    assert "Check your mail" in page.text and "nadia@example.net" in page.text
    [received] = mail.messages
    assert received.rcpt_to == ["nadia@example.net"]
    assert "confirm your address" in str(received.message["Subject"])
    path, text = link_in(received, "verify")
    assert "nadia" in text
    token = re.search(r"[0-9a-f]{64}", path).group(0)
    # Only the token's hash is kept.
    stored = [row.token_hash for row in store.find(AccountToken)]
    assert token not in stored
    assert hashlib.sha256(token.encode()).hexdigest() in stored

    refused = client.post("/+login", {"login": "nadia",
                                      "password": PASSWORD})
    assert refused.status == 403 and "Confirm your address" in refused.text
    assert "nadia" not in client.get("/").text

    confirm = client.get(path)
    assert confirm.status == 200 and "Confirm my address" in confirm.text
    done = client.post(path)
    assert done.status == 303
    assert done.headers["location"] == (
        "/+login?verified=1&next=%2Fubuntu%2F%2Bnewmirror")
    assert client.post(path).status == 400
    assert client.get(path).status == 400

    client.login("nadia")
    registered = client.post("/ubuntu/+newmirror", {
        "name": "nadias-mirror", "display_name": "Nadia's", "country": "BR",
        "speed": "S1G", "content": "ARCHIVE", "pulse_type": "PULL",
        "http_base_url": "http://nadia.example.net/ubuntu/"})
    assert registered.status == 303, registered.text
    store.rollback()
    mirror = DistributionMirrorSet(store).getByName("nadias-mirror")
    assert mirror.owner.name == "nadia"
    assert "nadias-mirror" in client.get("/+mymirrors").text


def test_an_address_with_an_account_is_not_told_apart(client, mail,
                                                      store):
    """Signing up with an address that has an account answers as any
    sign-up does and makes nothing: the address is told it has an account
    (verified), or sent a new link that replaces the old (not yet)."""
    fresh = sign_up(client, name="newcomer", email="new@example.net")
    taken = sign_up(client, name="someone", email="olive@example.org")
    assert taken.status == fresh.status == 200
    assert taken.text.replace("olive@example.org", "X") == \
        fresh.text.replace("new@example.net", "X")
    store.rollback()
    assert PersonSet(store).getByName("someone") is None
    first, told = mail.wait_for(2)
    assert told.rcpt_to == ["olive@example.org"]
    assert "already have an account" in str(told.message["Subject"])
    assert "olive" in told.message.get_body().get_content()

    old_path, _ = link_in(first, "verify")
    again = sign_up(client, name="whoever", email="new@example.net")
    assert again.status == 200
    [_, _, resent] = mail.wait_for(3)
    new_path, _ = link_in(resent, "verify")
    assert client.post(old_path).status == 400
    assert client.post(new_path).status == 303


@pytest.mark.parametrize("values, field", [
    ({"name": "Bad Name"}, "name"),
    ({"name": "olive", "email": "other@example.net"}, "name"),
    ({"email": "not an address"}, "email"),
    ({"password": "short"}, "password"),
    ({"display_name": ""}, "display_name"),
])
def test_bad_sign_ups_are_refused(client, mail, store, values, field):
    """A bad or taken name, a bad address or password, no display name:
    400, the field named, nothing made, no mail."""
    form = dict({"name": "nadia", "display_name": "Nadia",
                 "email": "nadia@example.net", "password": PASSWORD},
                **values)
    response = client.post("/+signup", form)
    assert response.status == 400
    assert re.search(r'<input [^>]*id="%s"[^>]*aria-invalid="true"'
                     % (field,), response.text), response.text
    store.rollback()
    assert PersonSet(store).getByEmail("nadia@example.net") is None
    assert mail.messages == []


def test_password_reset(client, mail, store):
    """A reset link is mailed to an address with an account, and the page
    says the same for one without; the link sets a new password once,
    ends every session, and expires."""
    logged_in = client.elsewhere()
    logged_in.login("olive")
    assert logged_in.get("/+sessions").status == 200
    nobody = client.post("/+reset", {"email": "nobody@example.net"})
    somebody = client.post("/+reset", {"email": "olive@example.org"})
    assert nobody.status == somebody.status == 200
    assert nobody.text.replace("nobody@example.net", "X") == \
        somebody.text.replace("olive@example.org", "X")
    [received] = mail.wait_for(1)
    assert received.rcpt_to == ["olive@example.org"]
    path, _ = link_in(received, "reset")
    assert client.get(path).status == 200
    short = client.post(path, {"password": "short"})
    assert short.status == 400 and "at least 8" in short.text
    done = client.post(path, {"password": NEW_PASSWORD})
    assert done.status == 303
    assert done.headers["location"] == "/+login?reset=1"
    assert client.post(path, {"password": "yet another one"}).status == 400
    # Every session ended; the old password is gone.
    assert logged_in.get("/+sessions").status == 303
    assert client.post("/+login", {"login": "olive",
                                   "password": PASSWORD}).status == 403
    client.login("olive", NEW_PASSWORD)


def test_a_reset_link_expires(client, store, world):
    """A reset token an hour and more old does nothing."""
    olive = world.people["olive"]
    token = accounttoken.issue_token(
        store, olive, accounttoken.RESET,
        now=utcnow() - timedelta(hours=1, minutes=1))
    store.commit()
    assert client.get("/+reset/" + token).status == 400
    assert client.post("/+reset/" + token,
                       {"password": NEW_PASSWORD}).status == 400
    for bad in ("x" * 64, token.upper(), token[:-1], "%00" + token):
        assert client.get("/+reset/" + bad).status == 400, bad


def test_a_token_is_for_one_purpose_once(store, world):
    """A verification token resets no password, and a token is used
    once."""
    olive = world.people["olive"]
    token = accounttoken.issue_token(store, olive, accounttoken.VERIFY)
    assert accounttoken.redeem_token(store, token,
                                     accounttoken.RESET) is None
    assert accounttoken.redeem_token(store, token,
                                     accounttoken.VERIFY) == olive
    assert accounttoken.redeem_token(store, token,
                                     accounttoken.VERIFY) is None


def test_mail_sending_requests_are_throttled(client, mail):
    """After 5 sign-ups or resets for one address, the next waits (429)
    and sends nothing."""
    for number in range(5):
        assert client.post("/+reset", {"email": "olive@example.org"}
                           ).status == 200
    mail.wait_for(5)
    refused = client.post("/+reset", {"email": "olive@example.org"})
    assert refused.status == 429 and "try again in" in refused.text
    refused = sign_up(client, email="olive@example.org")
    assert refused.status == 429
    assert len(mail.messages) == 5
    # The client's address counts too, whatever the address asked for.
    for number in range(5):
        client.post("/+reset", {"email": "n%d@example.net" % number})
    assert client.post("/+reset", {"email": "fresh@example.net"}
                       ).status == 429
    other = client.elsewhere("192.0.2.7")
    assert other.post("/+reset", {"email": "fresh@example.net"}
                      ).status == 200


def test_a_visitor_sees_how_to_register(client):
    """A visitor not logged in is shown the way to register a mirror:
    sign up, then register; the login page links to sign-up."""
    text = client.get("/ubuntu").text
    assert "/+signup?next=%2Fubuntu%2F%2Bnewmirror" in text
    login = client.get("/+login?next=%2Fubuntu%2F%2Bnewmirror").text
    assert "/+signup?next=%2Fubuntu%2F%2Bnewmirror" in login
    assert 'href="/+reset"' in login
