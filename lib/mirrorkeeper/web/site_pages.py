"""The pages of the people who run mirrors: a site's page and "My
mirrors".

    GET      /+site/NAME           a site (an organisation, model.site):
                                   its mirrors and its admins
    GET|POST /+site/NAME/+edit     its display name and web address
    POST     /+site/NAME/+admins   add an admin (a person or team, by
                                   name or address)
    POST     /+site/NAME/+admins/+remove
                                   remove one (by name); never its last
    GET      /+mymirrors           every mirror the person logged in
                                   owns or helps run through their sites

What state a mirror is in is the read model's (model.mirrorstate), why a
disabled mirror's last probe found it wanting is model.probefindings'
(why_disabled); what to do about it is said here, once, by
`mirror_advice`, for "My mirrors" and for the mirror's own page alike.

SiteHandlers is mixed into the application (web.app.MirrorKeeperWeb),
whose routes name its methods.
"""

from urllib.parse import quote

import attrs
from storm.expr import Or, Select
from twisted.web.template import tags

from mirrorkeeper.enums import MirrorStatus
from mirrorkeeper.errors import MirrorKeeperError, NotFoundError
from mirrorkeeper.model.checkin import PROBED_STATUSES
from mirrorkeeper.model.distributionmirror import DistributionMirror
from mirrorkeeper.model.mirrorstate import states_of
from mirrorkeeper.model.person import PersonSet, TeamMembership
from mirrorkeeper.model.probefindings import why_disabled
from mirrorkeeper.model.site import SiteAdmin, SiteSet, valid_web_url
from mirrorkeeper.validators import TEXT_LIMITS, valid_text
from mirrorkeeper.web.forms import FormError
from mirrorkeeper.web.layout import (
    format_minute, freshness_badge, mirror_href, post_form)
from mirrorkeeper.web.site import redirect


# The mirror forms' one field of sites (web.forms has the rest): which of
# the person's sites runs the mirror.
SITE_FIELD = (
    "site", "Site", "text",
    "Optional: the name of a site you run (see My mirrors), to group the "
    "mirror with its others.  A mirror registered without one gets a "
    "site of its own.")


def site_href(name):
    return "/+site/%s" % (quote(name),)


def chosen_site(store, who, name, current=None):
    """The site named `name` for a mirror to join, if `who` may add
    mirrors to it (an admin of it, or a site admin); None for an empty
    name or the mirror's `current` site (no change).  FormError on the
    site field otherwise."""
    name = (name or "").strip()[:TEXT_LIMITS["name"]]
    if not name or (current is not None and name == current.name):
        return None
    site = SiteSet(store).getByName(name)
    if site is None or not who.may_manage_site(site):
        raise FormError("you run no site called %r: give one of yours, or "
                        "leave it empty" % (name,), "site")
    return site


def status_words(state):
    """A mirror's status as its owner reads it: pending review, official,
    unofficial or broken, then paused, disabled or unreachable."""
    words = [state.status.title]
    if state.status is MirrorStatus.OFFICIAL and not state.official:
        words = ["Approved (not applied to be official)"]
    if state.owner_paused:
        words.append("paused")
    elif not state.enabled:
        words.append("disabled")
    if state.unreachable:
        words.append("unreachable")
    return ", ".join(words)


def mirror_advice(state, why=(), site_url=""):
    """What the people who run a mirror should do next, in sentences:
    nothing for a mirror that is listed.  `why` is why_disabled's
    sentences for it; `site_url` the site's absolute URL (for the +probe
    address)."""
    if state.owner_paused:
        return ["It is paused: it is neither probed nor listed until you "
                "resume it on its page."]
    advice = []
    if state.status is MirrorStatus.PENDING_REVIEW:
        advice.append("The distribution's mirror admins review each new "
                      "mirror; once they have, the prober probes it and "
                      "enables it when it finds its content.  Nothing "
                      "needs doing meanwhile.")
    elif state.status is MirrorStatus.BROKEN:
        advice.append("The mirror admins marked it broken (their notes are "
                      "on its page): fix it, then resubmit it for review "
                      "on its page.")
    if state.unreachable:
        advice.append("The last %d probe run(s) could not reach it: check "
                      "that its URLs answer from outside your network."
                      % (state.failed_runs,))
    if not state.enabled and state.status in PROBED_STATUSES:
        if why:
            advice.append("Fix what its last probe found (each request "
                          "and answer is in the probe's log).")
        elif state.last_probe is None:
            advice.append("It has not been probed yet: the prober enables "
                          "it once it finds it carrying its content.")
        advice.append(
            "Once it is fixed, ask for a probe rather than waiting for the "
            "daily one: make a check-in token on its \"Token and "
            "check-in\" page, then run mirrorkeeper-report-mirror --probe "
            "on the mirror host, or POST to %s/api/1/mirrors/%s/+probe "
            "with the header 'Authorization: Bearer TOKEN'."
            % (site_url, state.name))
    return advice


@attrs.frozen
class OwnedMirror:
    """One row of "My mirrors" or of a site's page."""

    state: object               # its MirrorState
    site: str | None
    site_display_name: str | None
    why_disabled: tuple         # why_disabled's sentences


@attrs.frozen
class SitePage:
    name: str
    display_name: str
    web_url: str | None
    admins: tuple               # ((name, display name, is_team), ...)
    mirrors: tuple              # (OwnedMirror, ...)
    may_manage: bool


def _owned(store, mirrors, with_why):
    """[OwnedMirror] of `mirrors` (model objects), in their order."""
    states = states_of(store, [mirror.id for mirror in mirrors])
    why = why_disabled(store, [m for m in mirrors if not m.enabled]) \
        if with_why else {}
    return [OwnedMirror(states[mirror.id],
                        mirror.site.name if mirror.site else None,
                        mirror.site.display_name if mirror.site else None,
                        tuple(why.get(mirror.id, ())))
            for mirror in mirrors]


def read_site(store, who, name):
    """The SitePage of site `name` as `who` sees it: why its mirrors are
    disabled only to those who may read their logs."""
    site = SiteSet(store).getByName(name)
    if site is None:
        raise NotFoundError("no site is called %r" % (name,))
    mirrors = site.mirrors
    rows = _owned(store, mirrors, with_why=False)
    shown = {m.id for m in mirrors if who.may_see_logs(m) and not m.enabled}
    why = why_disabled(store, [m for m in mirrors if m.id in shown])
    rows = [attrs.evolve(row, why_disabled=tuple(why.get(row.state.id, ())))
            for row in rows]
    return SitePage(site.name, site.display_name, site.web_url,
                    tuple((admin.name, admin.display_name, admin.is_team)
                          for admin in site.admins),
                    tuple(rows), who.may_manage_site(site))


def add_site_admin(store, who, name, admin_name):
    """Make the person or team `admin_name` (a name or an address) an
    admin of site `name`."""
    site = SiteSet(store)[name]
    who.require(who.may_manage_site(site),
                "add admins to the site %s" % (site.name,))
    admin_name = (admin_name or "").strip()[:TEXT_LIMITS["login"]]
    people = PersonSet(store)
    person = people.getByName(admin_name)
    if person is None and "@" in admin_name:
        person = people.getByEmail(admin_name)
    if person is None:
        raise FormError("nobody is called %r: give the name of a person or "
                        "team with an account" % (admin_name,), "admin")
    site.addAdmin(person)
    return site.name


def remove_site_admin(store, who, name, admin_name):
    """The person or team `admin_name` is no longer an admin of site
    `name`; FormError if they are not one or are its last (the model
    keeps a site's last admin)."""
    site = SiteSet(store)[name]
    who.require(who.may_manage_site(site),
                "remove admins of the site %s" % (site.name,))
    admin_name = (admin_name or "").strip()[:TEXT_LIMITS["login"]]
    person = PersonSet(store).getByName(admin_name)
    if person is None:
        raise FormError("%r is not an admin of the site %s"
                        % (admin_name, site.name), "admin")
    try:
        site.removeAdmin(person)
    except MirrorKeeperError as error:
        raise FormError.from_error(error) from None


SITE_FIELDS = [
    ("display_name", "Display name", "text", "The name people read."),
    ("web_url", "Web address", "url", "The organisation's web page."),
]


def site_values(store, who, name):
    """The site's edit form's values, if `who` may edit it."""
    site = SiteSet(store)[name]
    who.require(who.may_manage_site(site), "edit the site %s" % (name,))
    return {"display_name": site.display_name,
            "web_url": site.web_url or ""}, ()


def edit_site(store, who, name, values):
    """Change a site's display name and web address."""
    site = SiteSet(store)[name]
    who.require(who.may_manage_site(site), "edit the site %s" % (name,))
    try:
        display_name = valid_text(values.get("display_name"),
                                  "display_name")
        web_url = valid_web_url(values.get("web_url"))
    except MirrorKeeperError as error:
        raise FormError.from_error(error) from None
    if display_name is None:
        raise FormError("give the site a display name", "display_name")
    site.display_name = display_name
    site.web_url = web_url
    return site_href(site.name)


def my_mirrors(store, who):
    """[OwnedMirror] of every mirror the person logged in owns (they or a
    team they are in), or runs as an admin of its site, by
    distribution and name."""
    who.require(who.person is not None, "see your mirrors")
    person = who.person
    people = [person.id] + list(store.find(
        TeamMembership.team_id, TeamMembership.member_id == person.id))
    mirrors = list(store.find(
        DistributionMirror, Or(
            DistributionMirror.owner_id.is_in(people),
            DistributionMirror.site_id.is_in(Select(
                SiteAdmin.site_id, SiteAdmin.person_id.is_in(people))))
    ).order_by(
                    DistributionMirror.distribution_id,
                    DistributionMirror.name))
    return _owned(store, mirrors, with_why=True)


# Pages.

def _mirror_rows(rows, site_url, show_site):
    head = [tags.th("Mirror"), tags.th("Status"), tags.th("Freshness"),
            tags.th("Last probed")]
    if show_site:
        head.insert(1, tags.th("Site"))
    body = []
    for row in rows:
        state = row.state
        cells = [tags.td(tags.a(state.title, href=mirror_href(
            state.distribution, state.name)), " (%s)" % (state.distribution,)),
            tags.td(status_words(state), class_="status"),
            tags.td(freshness_badge(state.freshness)),
            tags.td(format_minute(state.last_probe))]
        if show_site:
            cells.insert(1, tags.td(tags.a(
                row.site_display_name, href=site_href(row.site))
                if row.site else ""))
        body.append(tags.tr(*cells, id="mirror-" + state.name))
        advice = mirror_advice(state, row.why_disabled, site_url) \
            if (row.why_disabled or show_site) else []
        if row.why_disabled or advice:
            detail = []
            if row.why_disabled:
                detail += [tags.p("Why it is disabled: what its last probe "
                                  "found"),
                           tags.ul(*[tags.li(s) for s in row.why_disabled])]
            if advice:
                detail += [tags.p("What to do next"),
                           tags.ul(*[tags.li(s) for s in advice])]
            body.append(tags.tr(tags.td(*detail, colspan=str(len(cells))),
                                class_="advice"))
    return tags.div(tags.table(tags.thead(tags.tr(*head)),
                               tags.tbody(*body)), class_="scroll")


def my_mirrors_page(rows, site_url):
    body = [tags.h1("My mirrors"),
            tags.p("Every mirror you own or help run through your sites, "
                   "with what to do next where there is something to do.")]
    if rows:
        body.append(_mirror_rows(rows, site_url, show_site=True))
    else:
        body.append(tags.p("You run no mirror yet: register one from a "
                           "distribution's page.", tags.a(
                               " Distributions", href="/")))
    return body


def _admin_list(page, csrf_token, error):
    """The site's admins, each with a button that removes them for those
    who manage the site, but the last: a site keeps one."""
    removable = page.may_manage and len(page.admins) > 1
    items = []
    for name, display_name, team in page.admins:
        item = ["%s (%s)%s" % (display_name, name,
                               ", a team" if team else "")]
        if removable:
            item.append(post_form(
                site_href(page.name) + "/+admins/+remove", csrf_token,
                tags.input(type="hidden", name="admin", value=name),
                tags.button("Remove", type="submit", class_="inline",
                            **{"aria-label": "Remove %s as an admin"
                               % (name,)}),
                class_="inline"))
        items.append(tags.li(*item))
    notes = []
    if error:
        notes.append(tags.div(error, class_="error", role="alert"))
    elif page.may_manage and not removable:
        notes.append(tags.p("A site keeps its last admin: add another "
                            "before this one leaves.", class_="muted"))
    return tags.div(tags.ul(*items, class_="admins"), *notes)


def site_page(page, csrf_token, site_url, error=None, removal_error=None):
    body = [tags.h1(page.display_name)]
    if page.web_url:
        body.append(tags.p(tags.a(page.web_url, href=page.web_url,
                                  rel="nofollow")))
    body += [tags.h2("Mirrors")]
    if page.mirrors:
        body.append(_mirror_rows(page.mirrors, site_url, show_site=False))
    else:
        body.append(tags.p("It runs no mirror."))
    body += [tags.h2("Admins"),
             tags.p("Every admin of the site may change its mirrors."),
             _admin_list(page, csrf_token, removal_error)]
    if page.may_manage:
        body.insert(1, tags.div(tags.a(
            "Edit", href=site_href(page.name) + "/+edit"), class_="actions"))
        body.append(post_form(
            site_href(page.name) + "/+admins", csrf_token,
            tags.label("Add an admin: a person's or team's name, or "
                       "address", for_="admin"),
            tags.input(type="text", id="admin", name="admin",
                       maxlength=str(TEXT_LIMITS["login"]),
                       **({"aria-invalid": "true"} if error else {})),
            tags.div(error, class_="error", role="alert") if error else "",
            tags.button("Add the admin", type="submit"),
            class_="stacked"))
    return body


class SiteHandlers:
    """The handlers of the pages above (see web.app for `self`)."""

    async def site_page(self, ctx, name):
        viewer, page = await self.as_who(ctx, read_site, name)
        return self.page(ctx, viewer, page.display_name, site_page(
            page, ctx.csrf_token, self.site_url(ctx)))

    async def site_admins(self, ctx, name):
        return await self._change_admins(ctx, name, add_site_admin, "error")

    async def site_admin_removal(self, ctx, name):
        return await self._change_admins(ctx, name, remove_site_admin,
                                         "removal_error")

    async def _change_admins(self, ctx, name, change, error_place):
        """change(store, who, name, the form's admin), then the site's page
        (whoever removed themselves may read it too); on a FormError, the
        page with it where `error_place` says (400)."""
        try:
            await self.change(ctx, change, name, ctx.form.get("admin"))
        except FormError as error:
            viewer, page = await self.as_who(ctx, read_site, name)
            return self.page(ctx, viewer, page.display_name, site_page(
                page, ctx.csrf_token, self.site_url(ctx),
                **{error_place: str(error)}), status=400)
        return redirect(site_href(name))

    async def site_edit(self, ctx, name):
        return await self._form(
            ctx, "Edit the site %s" % (name,), SITE_FIELDS,
            lambda store, who: site_values(store, who, name),
            lambda store, who, form: edit_site(store, who, name, form),
            site_href(name) + "/+edit", "Save")

    async def my_mirrors(self, ctx):
        viewer, rows = await self.as_who(ctx, my_mirrors)
        return self.page(ctx, viewer, "My mirrors",
                         my_mirrors_page(rows, self.site_url(ctx)))
