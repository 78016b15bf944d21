"""Tiers: a mirror pulls from the master or from a mirror of its own
distribution, never in a cycle; a mirror whose upstream is behind is
said to be."""

import pytest

from mirrorkeeper.enums import MirrorFreshness, MirrorStatus
from mirrorkeeper.errors import InvalidValueError
from mirrorkeeper.model.distribution import DistributionSet
from mirrorkeeper.model.distributionmirror import DistributionMirrorSet
from mirrorkeeper.model.tiers import set_upstream, tier_tree, upstream_trouble
from tests.web_harness import World


@pytest.fixture
def world(store):
    world = World(store)
    for name in ("tier1", "tier2", "tier3"):
        world.mirror(name, status=MirrorStatus.OFFICIAL, enabled=True)
    return world


def mirrors(world, *names):
    found = DistributionMirrorSet(world.store)
    return [found[name] for name in names]


def test_chain_and_cycles_refused(world):
    one, two, three = mirrors(world, "tier1", "tier2", "tier3")
    set_upstream(two, one)
    set_upstream(three, two)
    assert (three.upstream, two.upstream, one.upstream) == (two, one, None)
    with pytest.raises(InvalidValueError, match="tier1 cannot pull from "
                       "tier3: tier3 pulls from tier1 already") as error:
        set_upstream(one, three)
    assert error.value.field == "upstream"
    with pytest.raises(InvalidValueError, match="cannot pull from itself"):
        set_upstream(one, one)
    assert one.upstream is None
    set_upstream(three, None)
    assert three.upstream is None


def test_only_a_mirror_of_the_same_distribution(world, store):
    one, = mirrors(world, "tier1")
    other = DistributionSet(store).new(
        "kubuntu", "Kubuntu", "Kubuntu", world.ubuntu.owner,
        world.ubuntu.mirror_admin)
    elsewhere = other.newMirror(
        world.people["olive"], "elsewhere", one.speed, one.country,
        one.content, one.pulse_type,
        http_base_url="http://elsewhere.example.org/")
    with pytest.raises(InvalidValueError, match="not a mirror of Ubuntu"):
        set_upstream(one, elsewhere)


def test_upstream_behind_is_said(world, store):
    one, two = mirrors(world, "tier1", "tier2")
    set_upstream(two, one)
    store.commit()
    assert upstream_trouble(one) is None
    one.enabled = False
    store.commit()
    assert "pulls from the mirror tier1, which is disabled itself" in \
        upstream_trouble(two)


def test_tree(world, store):
    one, two, three = mirrors(world, "tier1", "tier2", "tier3")
    set_upstream(two, one)
    set_upstream(three, two)
    one.enabled = False
    store.commit()
    roots = tier_tree(store, world.ubuntu)
    top = [node for node in roots if node.name == "tier1"]
    assert len(top) == 1 and "tier2" not in [n.name for n in roots]
    (middle,) = top[0].children
    (bottom,) = middle.children
    assert (top[0].tier, middle.tier, bottom.tier) == (1, 2, 3)
    assert middle.name == "tier2" and bottom.name == "tier3"
    assert "tier1, which is disabled" in middle.upstream_behind
    assert top[0].upstream_behind is None
    # tier2 is enabled and not known to be behind.
    assert middle.freshness is MirrorFreshness.UNKNOWN
    assert bottom.upstream_behind is None
