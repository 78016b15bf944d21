"""The mirror network on the web: what a master needs to know of the
mirrors that pull from it.

    GET /rsync_acl[?distribution=NAME]   the rsync ACL addresses of the
                                         approved mirrors, one a line
    GET /DIST/+tiers                     the tree of who pulls from whom
    GET|POST /DIST/+mirror/NAME/+upstream
                                         where the mirror pulls from
    GET|POST /DIST/+announce             a mirror admin's message to every
                                         approved mirror's owner, and the
                                         past ones

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

Announcements (mirrorkeeper.model.announcements): the distribution's
mirror admins (policy.Who.is_mirror_admin) write to the owners of its
approved mirrors, for instance that a release is on the master and they
may start syncing; the messages go through the outbox, and the page
lists what was sent, by whom, when, to how many.

NetworkHandlers is mixed into the application (web.app.MirrorKeeperWeb),
whose routes name its methods.
"""

from urllib.parse import quote

from twisted.web.template import tags

from mirrorkeeper.errors import InvalidValueError, NotFoundError
from mirrorkeeper.mail.notifications import MailSettings
from mirrorkeeper.model import announcements, tiers
from mirrorkeeper.model.distribution import Distribution, DistributionSet
from mirrorkeeper.model.distributionmirror import (
    DistributionMirror, MirrorACLAddress)
from mirrorkeeper.web.layout import (
    format_minute, freshness_badge, mirror_href, post_form)
from mirrorkeeper.web.site import Response, redirect

TEXT = "text/plain; charset=utf-8"


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
        *tiers.approved(*conditions)).config(distinct=True)
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


def announce_page(distribution, title, past, csrf_token, values=None,
                  error=None):
    """The mirror admins' form and the past announcements (newest
    first)."""
    values = values or {}
    href = "/%s/+announce" % (quote(distribution),)
    body = [tags.h1("Tell the %s mirrors" % (title,)),
            tags.p("A message to the owner of every approved mirror of %s "
                   "(official, not paused), each owner once: for example "
                   "that a new release is on the master and they may "
                   "start syncing.  Answers go to you." % (title,)),
            tags.p("Which mirrors carry a release before it is public: ",
                   tags.a("before the release",
                          href="/%s/+prerelease" % (quote(distribution),)),
                   ".")]
    if error:
        body.append(tags.p(error, class_="error"))
    body.append(post_form(
        href, csrf_token,
        tags.p(tags.label("Subject ", tags.input(
            type="text", name="subject", size="60",
            maxlength=str(announcements.MAX_SUBJECT),
            value=values.get("subject", "")))),
        tags.p(tags.label("Message", tags.br(), tags.textarea(
            values.get("body", ""), name="body", rows="12", cols="72"))),
        tags.button("Send to the mirrors' owners", type="submit")))
    body.append(tags.h2("Sent before"))
    if not past:
        body.append(tags.p("Nothing yet."))
    else:
        rows = [tags.tr(tags.th("When"), tags.th("By"), tags.th("Subject"),
                        tags.th("To"))]
        for each in past:
            rows.append(tags.tr(
                tags.td(format_minute(each.date_sent)), tags.td(each.sender),
                tags.td(tags.details(tags.summary(each.subject),
                                     tags.pre(each.body))),
                tags.td("%d owners" % (each.recipients,))))
        body.append(tags.table(*rows, class_="announcements"))
    return body


class NetworkHandlers:
    """The handlers of this module's routes."""

    @property
    def mail_settings(self):
        """[mail] as WebSettings carries it; the defaults without."""
        return getattr(self.settings, "mail", None) or MailSettings()

    async def announce(self, ctx, distribution):
        def admin_of(store, who):
            from mirrorkeeper.web import queries
            dist = queries.get_distribution(store, distribution)
            who.require(who.is_mirror_admin(dist),
                        "write to the owners of the %s mirrors"
                        % (dist.title,))
            return dist

        def read(store, who):
            dist = admin_of(store, who)
            return dist.title, announcements.announcements(store, dist)

        def write(store, who, subject, body):
            dist = admin_of(store, who)
            return announcements.announce(
                store, dist, who.person, subject, body,
                self.mail_settings).recipients

        error = None
        values = {}
        if ctx.method == "POST":
            values = {"subject": ctx.form.get("subject") or "",
                      "body": ctx.form.get("body") or ""}
            try:
                await self.change(ctx, write, values["subject"],
                                  values["body"])
            except InvalidValueError as refused:
                error = str(refused)
            else:
                # Redirected, so that reloading the page sends nothing.
                return redirect("/%s/+announce" % (quote(distribution),))
        viewer, (title, past) = await self.as_who(ctx, read)
        return self.page(ctx, viewer, "Tell the %s mirrors" % (title,),
                         announce_page(distribution, title, past,
                                       ctx.csrf_token, values, error),
                         status=200 if error is None else 400)

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
