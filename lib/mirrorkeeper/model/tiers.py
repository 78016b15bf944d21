"""Tiers: where each mirror pulls from.

A mirror pulls from the master archive or from another registered mirror
of the same distribution (its upstream; MirrorManager's "sites indicate
where they pull from, to let the system know about tiered mirrors").  The
mirrors of a distribution and the master make a tree: set_upstream refuses
a mirror of another distribution, the mirror itself and anything that
would close a cycle.

A mirror whose upstream is behind is behind for a reason it does not
control: `upstream_trouble` says so, for the pages and for the email that
tells its owner it was disabled, so that it is not blamed alone.
"""

from __future__ import annotations

import attrs

from mirrorkeeper.enums import MirrorFreshness, MirrorStatus
from mirrorkeeper.errors import InvalidValueError
from mirrorkeeper.model.distributionmirror import DistributionMirror
from mirrorkeeper.model.mirrorstate import states_where

__all__ = ["TierNode", "approved", "set_upstream", "tier_tree",
           "tiers_of", "upstream_trouble", "is_behind"]


def approved(*conditions):
    """The conditions on DistributionMirror of an approved mirror, and
    `conditions`: official (a mirror admin reviewed it) and not paused by
    its owner.  These are let in to pull from the master (the rsync ACL)
    and told what the master is about to have (announcements); the
    prober's verdict does not matter, as a mirror it disabled for being
    behind must sync to recover."""
    return (DistributionMirror.status == MirrorStatus.OFFICIAL,
            DistributionMirror.owner_paused == False,  # noqa: E712
            *conditions)


def is_behind(enabled, freshness):
    """True when a mirror so (enabled, MirrorFreshness) gives its
    downstream mirrors less than the master: disabled, or known to be
    behind."""
    return not enabled or freshness not in (MirrorFreshness.UP,
                                            MirrorFreshness.UNKNOWN)


def set_upstream(mirror, upstream):
    """Say that `mirror` pulls from `upstream`, a DistributionMirror, or
    from the master when None.

    @raise InvalidValueError: on the field "upstream", when `upstream` is
        of another distribution, is `mirror`, or pulls (through any chain)
        from `mirror`.
    """
    if upstream is not None:
        if upstream.distribution_id != mirror.distribution_id:
            raise InvalidValueError(
                "%s is not a mirror of %s: a mirror pulls from its own "
                "distribution's master or mirrors"
                % (upstream.name, mirror.distribution.display_name),
                "upstream")
        seen = set()
        above = upstream
        while above is not None and above.id not in seen:
            if above.id == mirror.id:
                raise InvalidValueError(
                    "%s cannot pull from %s: %s"
                    % (mirror.name, upstream.name,
                       "a mirror cannot pull from itself"
                       if upstream.id == mirror.id else
                       "%s pulls from %s already" % (
                           upstream.name, mirror.name)),
                    "upstream")
            seen.add(above.id)
            above = above.upstream
    mirror.upstream = upstream


def upstream_trouble(mirror):
    """A sentence saying that the mirror's upstream is behind (disabled,
    or known to lag the master), or None when it pulls from the master or
    from a mirror that is not."""
    upstream = mirror.upstream
    if upstream is None:
        return None
    freshness = upstream.getOverallFreshness()
    if not is_behind(upstream.enabled, freshness):
        return None
    return describe_trouble(upstream.name, upstream.enabled, freshness)


def describe_trouble(name, enabled, freshness):
    state = ("is disabled itself" if not enabled else
             "is itself %s" % (freshness.title.lower(),))
    return ("It pulls from the mirror %s, which %s: until that mirror "
            "catches up, this one cannot be up to date, whatever it "
            "does." % (name, state))


def tiers_of(store, distribution):
    """{mirror id: tier} for every mirror of `distribution`, from one
    query of (id, upstream id): 1 for a mirror that pulls from the master
    (or from no mirror of the distribution), one more than its upstream's
    otherwise, whatever that upstream's status (a disabled or unofficial
    upstream still puts its downstream one tier down)."""
    upstream_of = dict(store.find(
        (DistributionMirror.id, DistributionMirror.upstream_id),
        DistributionMirror.distribution_id == distribution.id))
    tiers = {}
    for start in upstream_of:
        chain = []
        current = start
        # Up to the master, a mirror of known tier, or (set_upstream
        # refuses them, but the rows are not checked) a cycle.
        while (current in upstream_of and current not in tiers
               and current not in chain):
            chain.append(current)
            current = upstream_of[current]
        base = tiers.get(current, 0)
        for depth, mirror_id in enumerate(reversed(chain), 1):
            tiers[mirror_id] = base + depth
    return tiers


@attrs.frozen
class TierNode:
    """One mirror in its distribution's tree, as plain values: `tier` is
    1 for those that pull from the master; `upstream_behind` the
    sentence of upstream_trouble, or None."""

    id: int
    name: str
    title: str
    enabled: bool
    freshness: MirrorFreshness
    tier: int
    upstream_behind: str | None
    children: tuple = ()


def tier_tree(store, distribution):
    """The tree of `distribution`'s mirrors: the TierNodes that pull from
    the master, each with those that pull from it, in the order the
    listings use (country, then registration)."""
    states = states_where(
        store, DistributionMirror.distribution_id == distribution.id)
    upstream_of = dict(store.find(
        (DistributionMirror.id, DistributionMirror.upstream_id),
        DistributionMirror.distribution_id == distribution.id))
    by_id = {state.id: state for state in states}
    below = {}
    for state in states:
        below.setdefault(upstream_of.get(state.id), []).append(state)

    def node(state, tier, upstream, seen):
        trouble = None
        if upstream is not None and is_behind(upstream.enabled,
                                              upstream.freshness):
            trouble = describe_trouble(upstream.name, upstream.enabled,
                                       upstream.freshness)
        seen = seen | {state.id}
        return TierNode(
            state.id, state.name, state.title, state.enabled,
            state.freshness, tier, trouble,
            tuple(node(child, tier + 1, state, seen)
                  for child in below.get(state.id, ())
                  if child.id not in seen))

    roots = [state for state in states
             if upstream_of.get(state.id) not in by_id]
    return tuple(node(state, 1, None, frozenset()) for state in roots)
