"""Tiers on the web: the tree page, and the owner's form saying where a
mirror pulls from (permissions, CSRF, refusals)."""

import pytest

from mirrorkeeper.enums import MirrorStatus
from mirrorkeeper.model.distributionmirror import DistributionMirrorSet
from mirrorkeeper.model.tiers import set_upstream
from tests.web_harness import World
from tests.web_harness import client  # noqa: F401

UPSTREAM = "/ubuntu/+mirror/%s/+upstream"


@pytest.fixture
def world(store):
    world = World(store)
    world.mirror("tier-one", status=MirrorStatus.OFFICIAL, enabled=True)
    world.mirror("tier-two", status=MirrorStatus.OFFICIAL, enabled=True)
    return world


def mirror(store, name):
    store.rollback()
    return DistributionMirrorSet(store)[name]


def test_owner_sets_the_upstream_and_the_tree_shows_it(client, store):
    client.login("olive")
    form = client.get(UPSTREAM % "tier-two")
    assert form.status == 200
    assert '<option value="tier-one">' in form.text
    answer = client.post(UPSTREAM % "tier-two", {"upstream": "tier-one"})
    assert answer.status == 303, answer.text
    assert mirror(store, "tier-two").upstream.name == "tier-one"
    page = client.get("/ubuntu/+tiers")
    assert page.status == 200
    # tier-two is listed inside tier-one's item, one tier down.
    one = page.text.index('href="/ubuntu/+mirror/tier-one"')
    two = page.text.index('href="/ubuntu/+mirror/tier-two"')
    assert one < two
    assert page.text[one:two].count('<li class="tier-2">') == 1
    assert "Its upstream is behind" not in page.text
    # Back to the master.
    assert client.post(UPSTREAM % "tier-two", {"upstream": ""}).status == 303
    assert mirror(store, "tier-two").upstream is None


def test_upstream_behind_is_shown(client, store):
    one, two = mirror(store, "tier-one"), mirror(store, "tier-two")
    set_upstream(two, one)
    one.enabled = False
    store.commit()
    page = client.get("/ubuntu/+tiers")
    assert "Its upstream is behind" in page.text
    assert "pulls from the mirror tier-one, which is disabled itself" in \
        page.text


def test_cycle_refused_and_nothing_changed(client, store):
    one, two = mirror(store, "tier-one"), mirror(store, "tier-two")
    set_upstream(two, one)
    store.commit()
    client.login("olive")
    answer = client.post(UPSTREAM % "tier-one", {"upstream": "tier-two"})
    assert answer.status == 400
    assert "tier-two pulls from tier-one already" in answer.text
    assert mirror(store, "tier-one").upstream is None
    unknown = client.post(UPSTREAM % "tier-one", {"upstream": "nosuch"})
    assert unknown.status == 400 and "nosuch" in unknown.text


def test_only_the_owner_and_admins(client, store):
    client.login("oscar")
    assert client.post(UPSTREAM % "tier-two",
                       {"upstream": "tier-one"}).status == 403
    assert mirror(store, "tier-two").upstream is None
    admin = client.elsewhere()
    admin.login("adam")
    assert admin.post(UPSTREAM % "tier-two",
                      {"upstream": "tier-one"}).status == 303
    assert mirror(store, "tier-two").upstream.name == "tier-one"


def test_csrf_token_required(client, store):
    client.login("olive")
    answer = client.post(UPSTREAM % "tier-two", {"upstream": "tier-one"},
                         csrf=False)
    assert answer.status == 403
    assert mirror(store, "tier-two").upstream is None
