"""The mirror network on the web: what a master needs to know of the
mirrors that pull from it.

    GET /rsync_acl[?distribution=NAME]   the rsync ACL addresses of the
                                         approved mirrors, one a line
    GET /DIST/+tiers                     the tree of who pulls from whom
    GET|POST /DIST/+mirror/NAME/+upstream
                                         where the mirror pulls from

A master's rsyncd.conf lets in only the hosts that mirror it ("hosts
allow"); MirrorManager published the addresses its mirrors registered
for that as /rsync_acl, one a line, for masters to fetch from cron.
Only approved mirrors' addresses are listed: official ones (a mirror
admin reviewed them) whose owner has not paused them.  A mirror the
prober disabled for being behind stays listed: it is disabled until it
syncs, and it must be let in to sync.

Tiers (mirrorkeeper.model.tiers): the page shows each mirror under the
one it pulls from, and a mirror whose upstream is disabled or behind
says so.  The owner (or a mirror admin) says where a mirror pulls from
on its +upstream form, checked as every owner form is (policy.Who, the
CSRF token).

NetworkHandlers is mixed into the application (web.app.MirrorKeeperWeb),
whose routes name its methods.
"""

from twisted.web.template import tags

from mirrorkeeper.enums import MirrorStatus
from mirrorkeeper.errors import InvalidValueError, NotFoundError
from mirrorkeeper.model import tiers
from mirrorkeeper.model.distribution import Distribution, DistributionSet
from mirrorkeeper.model.distributionmirror import (
    DistributionMirror, MirrorACLAddress)
from mirrorkeeper.web.layout import freshness_badge, mirror_href, post_form
from mirrorkeeper.web.site import Response, redirect

TEXT = "text/plain; charset=utf-8"


def approved(*conditions):
    """The conditions on DistributionMirror of an approved mirror, and
    `conditions`."""
    return (DistributionMirror.status == MirrorStatus.OFFICIAL,
            DistributionMirror.owner_paused == False,  # noqa: E712
            *conditions)


def rsync_acl(store, distribution_name=None):
    """The rsync ACL addresses of the approved mirrors (of the
    distribution called `distribution_name`, if given), sorted, each
    once."""
    conditions = []
    if distribution_name is not None:
        distribution = DistributionSet(store).getByName(distribution_name)
        if distribution is None:
            raise NotFoundError("no distribution is called %r"
                                % (distribution_name,))
        conditions.append(
            DistributionMirror.distribution_id == distribution.id)
    rows = store.find(
        MirrorACLAddress.address,
        MirrorACLAddress.distribution_mirror_id == DistributionMirror.id,
        DistributionMirror.distribution_id == Distribution.id,
        *approved(*conditions)).config(distinct=True)
    return sorted(rows)


MASTER = "the master"


def _tier_items(distribution, nodes):
    items = []
    for node in nodes:
        line = [tags.a(node.title, href=mirror_href(distribution, node.name)),
                " ", freshness_badge(node.freshness)]
        if not node.enabled:
            line.append(" (disabled)")
        if node.upstream_behind:
            line += [" ", tags.span("Its upstream is behind. ",
                                    node.upstream_behind,
                                    class_="upstream-behind")]
        if node.children:
            line.append(tags.ul(*_tier_items(distribution, node.children)))
        items.append(tags.li(*line, class_="tier-%d" % (node.tier,)))
    return items


def tiers_page(distribution, title, nodes):
    """The tree of `distribution`'s mirrors (TierNodes) under its
    master."""
    body = [tags.h1("Tiers of the %s mirrors" % (title,)),
            tags.p("Each mirror under the one it pulls from; tier 1 pulls "
                   "from the master.  A mirror whose upstream is behind "
                   "cannot be ahead of it.")]
    if not nodes:
        body.append(tags.p("No mirrors are registered."))
        return body
    body.append(tags.ul(tags.li(
        "The master of %s" % (title,),
        tags.ul(*_tier_items(distribution, nodes))), class_="tiers"))
    return body


def upstream_page(distribution, name, title, current, choices, csrf_token,
                  error=None):
    """The form saying where the mirror pulls from: `choices` are the
    names of the mirrors it may pull from, `current` the name it pulls
    from or None (the master)."""
    href = mirror_href(distribution, name) + "/+upstream"
    options = [tags.option(MASTER, value="",
                           **({"selected": "selected"}
                              if current is None else {}))]
    for choice in choices:
        options.append(tags.option(
            choice, value=choice,
            **({"selected": "selected"} if choice == current else {})))
    body = [tags.h1("Where %s pulls from" % (title,)),
            tags.p(tags.a("Back to the mirror",
                          href=mirror_href(distribution, name)))]
    if error:
        body.append(tags.p(error, class_="error"))
    body.append(post_form(
        href, csrf_token,
        tags.label("Pulls from ", tags.select(*options, name="upstream")),
        tags.button("Save", type="submit")))
    return body


class NetworkHandlers:
    """The handlers of this module's routes."""

    async def tiers_page(self, ctx, distribution):
        def read(store, who):
            from mirrorkeeper.web import queries
            dist = queries.get_distribution(store, distribution)
            return dist.title, tiers.tier_tree(store, dist)
        viewer, (title, nodes) = await self.as_who(ctx, read)
        return self.page(ctx, viewer, "Tiers of the %s mirrors" % (title,),
                         tiers_page(distribution, title, nodes))

    async def upstream(self, ctx, distribution, name):
        def mirror_of(store, who):
            from mirrorkeeper.web import queries
            dist = queries.get_distribution(store, distribution)
            mirror = queries.get_mirror(store, dist, name)
            who.require(who.may_edit(mirror), "say where %s pulls from"
                        % (name,))
            return dist, mirror

        def read(store, who):
            dist, mirror = mirror_of(store, who)
            choices = sorted(
                other.name for other in dist.mirrors if other.id != mirror.id)
            current = mirror.upstream.name if mirror.upstream else None
            return mirror.title, current, choices

        def write(store, who, chosen):
            dist, mirror = mirror_of(store, who)
            upstream = None
            if chosen:
                upstream = store.find(
                    DistributionMirror,
                    DistributionMirror.distribution_id == dist.id,
                    DistributionMirror.name == chosen).one()
                if upstream is None:
                    raise InvalidValueError(
                        "no mirror of %s is called %r" % (dist.title, chosen),
                        "upstream")
            tiers.set_upstream(mirror, upstream)

        error = None
        if ctx.method == "POST":
            chosen = (ctx.form.get("upstream") or "").strip()
            try:
                await self.change(ctx, write, chosen)
            except InvalidValueError as refused:
                error = str(refused)
            else:
                return redirect(mirror_href(distribution, name))
        viewer, (title, current, choices) = await self.as_who(ctx, read)
        return self.page(ctx, viewer, "Where %s pulls from" % (title,),
                         upstream_page(distribution, name, title, current,
                                       choices, ctx.csrf_token, error),
                         status=200 if error is None else 400)

    async def rsync_acl(self, ctx):
        name = ctx.query.get("distribution") or None
        addresses = await self.db.run(rsync_acl, name)
        return Response(200, "".join(
            address + "\n" for address in addresses).encode("utf-8"), TEXT)
