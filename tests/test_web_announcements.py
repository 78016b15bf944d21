"""Telling mirrors a release is coming: a mirror admin writes on the web
to the owner of every approved mirror of a distribution; the messages go
through the outbox to the test SMTP server, one per owner, once; the
page lists what was sent."""

import pytest

from mirrorkeeper.enums import MirrorStatus
from mirrorkeeper.mail.delivery import SMTPMailDelivery
from mirrorkeeper.mail.outbox import deliver_pending, pending
from mirrorkeeper.model.announcements import MirrorAnnouncement
from mirrorkeeper.model.distributionmirror import DistributionMirrorSet
from tests.web_harness import InProcessClient, World

ANNOUNCE = "/ubuntu/+announce"
NEWS = {"subject": "Noble is on the master",
        "body": "Noble's files are on the master now.\n\nStart syncing."}


@pytest.fixture
def world(store):
    world = World(store)
    # The sample's own mirrors are paused: only the ones below count.
    for mirror in world.ubuntu.mirrors:
        mirror.owner_paused = True
    # olive owns two approved mirrors, oscar one (and a pending one, from
    # the World); sita's approved mirror is paused: she is not told.
    for name, owner in (("olive-one", "olive"), ("olive-two", "olive"),
                        ("oscar-one", "oscar"), ("sita-one", "sita")):
        world.mirror(name, owner=owner, status=MirrorStatus.OFFICIAL,
                     enabled=name != "olive-two")
    DistributionMirrorSet(store)["sita-one"].owner_paused = True
    store.commit()
    return world


@pytest.fixture
def admin(store, world):
    client = InProcessClient(store)
    client.login("adam")
    return client


def test_one_message_per_owner_once(admin, store, smtp_server):
    smtp_server.clear()
    answer = admin.post(ANNOUNCE, NEWS)
    assert answer.status == 303, answer.text
    store.rollback()
    delivery = SMTPMailDelivery(smtp_server.host, smtp_server.port)
    result = deliver_pending(store, delivery)
    assert result.sent == 2
    messages = smtp_server.wait_for(2)
    assert sorted(m.rcpt_to[0] for m in messages) == [
        "olive@example.org", "oscar@example.org"]
    for message in messages:
        parsed = message.message
        assert parsed["Subject"] == "Ubuntu: Noble is on the master"
        assert parsed["Reply-To"] == "Adam <adam@example.org>"
        text = parsed.get_body().get_content()
        assert "Start syncing." in text
    olive = next(m for m in messages if m.rcpt_to[0].startswith("olive"))
    assert "owner of olive-one, olive-two" in " ".join(
        olive.message.get_body().get_content().split())
    # Sent once: a second delivery has nothing left.
    assert deliver_pending(store, delivery).sent == 0
    assert len(smtp_server.messages) == 2
    (record,) = store.find(MirrorAnnouncement)
    assert (record.subject, record.recipients, record.sender.name) == (
        NEWS["subject"], 2, "adam")
    page = admin.get(ANNOUNCE)
    assert page.status == 200
    assert "Noble is on the master" in page.text
    assert "2 owners" in page.text and "Adam" in page.text


def test_only_mirror_admins(store, world):
    owner = InProcessClient(store)
    owner.login("olive")
    assert owner.get(ANNOUNCE).status == 403
    assert owner.post(ANNOUNCE, NEWS).status == 403
    nobody = InProcessClient(store)
    assert nobody.post(ANNOUNCE, NEWS).status == 403
    assert nobody.get(ANNOUNCE).headers["location"].startswith("/+login")
    store.rollback()
    assert store.find(MirrorAnnouncement).is_empty()
    assert not list(pending(store))


def test_csrf_token_required(admin, store):
    assert admin.post(ANNOUNCE, NEWS, csrf=False).status == 403
    store.rollback()
    assert store.find(MirrorAnnouncement).is_empty()
    assert not list(pending(store))


def test_bad_input_is_refused_and_sends_nothing(admin, store):
    for form, says in (({"subject": " ", "body": "x"}, "a subject"),
                       ({"subject": "x", "body": ""}, "say something"),
                       ({"subject": "a\x07b", "body": "x"},
                        "control character"),
                       ({"subject": "x" * 201, "body": "x"}, "subject")):
        answer = admin.post(ANNOUNCE, form)
        assert answer.status == 400, form
        assert says in answer.text, (form, answer.text[-2000:])
    store.rollback()
    assert store.find(MirrorAnnouncement).is_empty()
    assert not list(pending(store))
