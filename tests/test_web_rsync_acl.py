"""/rsync_acl over HTTP against the real web application: the rsync ACL
addresses of approved mirrors, one a line, for a master's rsyncd.conf."""

import pytest

from mirrorkeeper.enums import MirrorStatus
from mirrorkeeper.model.distributionmirror import DistributionMirrorSet
from tests.web_harness import InProcessClient, World


@pytest.fixture
def world(store):
    world = World(store)
    world.mirror("approved", status=MirrorStatus.OFFICIAL, enabled=True,
                 acl_addresses=["192.0.2.10", "2001:db8::10",
                                "rsync.approved.example.org"])
    # Disabled by the prober for being behind: still let in, to catch up.
    world.mirror("behind", status=MirrorStatus.OFFICIAL, enabled=False,
                 acl_addresses=["192.0.2.20", "192.0.2.10"])
    world.mirror("pending", acl_addresses=["198.51.100.1"])
    world.mirror("unofficial", status=MirrorStatus.UNOFFICIAL,
                 acl_addresses=["198.51.100.2"])
    paused = world.mirror("paused", status=MirrorStatus.OFFICIAL,
                          enabled=True, acl_addresses=["198.51.100.3"])
    paused.owner_paused = True
    store.commit()
    return world


def test_approved_mirrors_addresses_one_a_line(world, store):
    response = InProcessClient(store).get("/rsync_acl")
    assert response.status == 200
    assert response.headers["content-type"].startswith("text/plain")
    assert response.text.splitlines() == sorted([
        "192.0.2.10", "192.0.2.20", "2001:db8::10",
        "rsync.approved.example.org"])
    assert response.text.endswith("\n")


def test_by_distribution(world, store):
    client = InProcessClient(store)
    assert client.get("/rsync_acl?distribution=ubuntu").text == \
        client.get("/rsync_acl").text
    missing = client.get("/rsync_acl?distribution=nosuch")
    assert missing.status == 404
    assert "nosuch" in missing.text


def test_a_review_changes_the_list(world, store):
    """Approving a mirror lets it in; the list is read afresh."""
    client = InProcessClient(store)
    assert "198.51.100.1" not in client.get("/rsync_acl").text.split()
    DistributionMirrorSet(store)["pending"].status = MirrorStatus.OFFICIAL
    store.commit()
    assert "198.51.100.1" in client.get("/rsync_acl").text.split()
