"""Mirrors that talk back, on the web: the owner's token page, and the two
calls a mirror's host makes with its token.

    GET|POST /DIST/+mirror/NAME/+token   the token (made, shown once,
                                          revoked), the newest check-in
                                          beside what the prober saw
    POST /api/1/mirrors/NAME/+checkin    what the host's tree carries
                                          (mirrorkeeper-report-mirror)
    POST /api/1/mirrors/NAME/+probe      probe me now
    GET /DIST/+prerelease                the mirrors that checked in with a
                                          series not released yet (the
                                          distribution's mirror admins)

The token page is an owner form like the others: the session says who,
policy.Who.may_edit decides (the owner, the distribution's mirror admins),
the site checks the form's CSRF token.  The two API calls take no cookie
and no session: the mirror's token, sent as ``Authorization: Bearer
TOKEN``, is all they go by (so there is nothing for a forged form to
borrow), and a token that is not the mirror's active one, or a mirror
that does not exist, is a 403 that changes nothing.

CheckinHandlers is mixed into the application (web.app.MirrorKeeperWeb),
whose routes name its methods.
"""

import math
from datetime import timedelta

import attrs
from storm.exceptions import IntegrityError
from twisted.web.template import tags

from mirrorkeeper.model import checkin
from mirrorkeeper.model.distributionmirror import DistributionMirrorSet
from mirrorkeeper.settings import Checkin
from mirrorkeeper.web.layout import (
    format_minute, freshness_badge, mirror_href, post_form)
from mirrorkeeper.web.site import (
    HTTPError, client_address, json_response, redirect)

BAD_TOKEN = ("That is not this mirror's token: it was revoked, replaced, "
             "or never made; nothing was changed.  The mirror's owner makes "
             "a new one on the mirror's +token page.")


@attrs.frozen
class CheckinSettings:
    """What the handlers take from [checkin]; the defaults are the
    settings' (mirrorkeeper.settings.Checkin)."""

    max_age_hours: int = Checkin.max_age_hours.default
    probe_interval_minutes: int = Checkin.probe_interval_minutes.default
    queue_run_minutes: int = Checkin.queue_run_minutes.default

    @classmethod
    def from_config(cls, config):
        return cls(*(config.getint("checkin", key) for key in (
            "max_age_hours", "probe_interval_minutes",
            "queue_run_minutes")))

    @property
    def max_age(self):
        return timedelta(hours=self.max_age_hours)

    @property
    def probe_interval(self):
        return timedelta(minutes=self.probe_interval_minutes)


def bearer_token(request):
    """The token of an ``Authorization: Bearer`` header, or None."""
    header = (request.getHeader(b"authorization") or b"").decode(
        "latin-1").strip()
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return token.strip()


def _duration(delta):
    if delta is None:
        return ""
    minutes = int(delta.total_seconds() // 60)
    hours, minutes = divmod(minutes, 60)
    days, hours = divmod(hours, 24)
    if days:
        return "%d d %d h" % (days, hours)
    if hours:
        return "%d h %d min" % (hours, minutes)
    return "%d min" % (minutes,)


@attrs.frozen
class TokenPage:
    """Everything the token page shows: plain values."""

    distribution: str
    name: str
    title: str
    private: bool
    token: checkin.TokenState
    checkin: checkin.CheckinView | None
    prober_freshness: object
    last_probe: object
    queue: tuple | None
    settings: CheckinSettings


def _checkin_section(page):
    view = page.checkin
    if view is None:
        return [tags.h2("Check-in"),
                tags.p("The mirror's host has not checked in yet.")]
    if page.private:
        role = ("This mirror is private: the prober cannot reach it, so "
                "its check-in is what it carries, for %d hours."
                % (page.settings.max_age_hours,))
        if not view.counts:
            role += "  This one is older: it counts for nothing."
    else:
        role = ("This mirror is public: the prober's findings decide; the "
                "check-in is shown beside them, never in their place.")
    rows = [tags.tr(tags.th("File"), tags.th("On the master"),
                    tags.th("Behind by"))]
    for each in view.files + view.traces:
        rows.append(tags.tr(tags.td(each.path), tags.td(each.verdict),
                            tags.td(_duration(each.lag))))
    suites = [tags.li("%s: %s (%s)%s" % (
        suite, " ".join(components) or "no components",
        " ".join(arches) or "no architectures",
        ", sources" if sources else ""))
        for suite, components, arches, sources in view.suites]
    return [
        tags.h2("Check-in"),
        tags.p(role),
        tags.table(
            tags.tr(tags.th(""), tags.th("The prober saw"),
                    tags.th("The check-in says")),
            tags.tr(tags.th("Freshness"),
                    tags.td(freshness_badge(page.prober_freshness)),
                    tags.td(freshness_badge(view.freshness))),
            tags.tr(tags.th("When"),
                    tags.td(format_minute(page.last_probe)),
                    tags.td(format_minute(view.date_reported))),
            class_="checkin"),
        tags.p("%d of %d control files are the master's current ones; "
               "%d RPM repositories." % (view.current, len(view.files),
                                         view.repositories)),
        tags.table(*rows, class_="checkin-files"),
        tags.ul(*suites),
    ]


def token_page(page, csrf_token, secret=None, site_url=""):
    """The owner's token page; `secret` is a token just made, shown this
    once."""
    href = mirror_href(page.distribution, page.name) + "/+token"
    body = [tags.h1("Token of %s" % (page.title,)),
            tags.p(tags.a("Back to the mirror",
                          href=mirror_href(page.distribution, page.name)))]
    if secret is not None:
        body += [
            tags.p("The new token, shown this once: copy it to the mirror "
                   "host now (for example into a file only the sync user "
                   "reads).  The site keeps only its hash."),
            tags.pre(secret, class_="token"),
        ]
    token = page.token
    if token.active:
        body.append(tags.p("The mirror has a token, made %s, last used %s."
                           % (format_minute(token.date_created),
                              format_minute(token.date_last_used))))
    elif token.date_revoked is not None:
        body.append(tags.p("The mirror's token was revoked %s."
                           % (format_minute(token.date_revoked),)))
    else:
        body.append(tags.p("The mirror has no token."))
    body.append(post_form(
        href, csrf_token,
        tags.input(type="hidden", name="action", value="create"),
        tags.button("Make a new token" if token.active else "Make a token",
                    type="submit")))
    if token.active:
        body.append(post_form(
            href, csrf_token,
            tags.input(type="hidden", name="action", value="revoke"),
            tags.button("Revoke the token", type="submit")))
    body += [
        tags.h2("After each sync"),
        tags.p("Run mirrorkeeper-report-mirror on the mirror host (a "
               "single Python 3 file, standard library only) from the "
               "sync's post-hook; --probe also asks for a probe now "
               "(at most once every %d minutes):"
               % (page.settings.probe_interval_minutes,)),
        tags.pre("mirrorkeeper-report-mirror --site %s --mirror %s \\\n"
                 "    --token-file TOKEN-FILE --root MIRROR-ROOT --probe"
                 % (site_url or "https://SITE", page.name)),
        tags.p("Or ask for a probe alone: curl -X POST -H "
               "'Authorization: Bearer TOKEN' %s/api/1/mirrors/%s/+probe"
               % (site_url or "https://SITE", page.name)),
    ]
    if page.queue is not None:
        requested, applied = page.queue
        body.append(tags.p(
            "Probe asked for %s; %s." % (
                format_minute(requested),
                "probed and applied %s" % (format_minute(applied),)
                if applied else "waiting in the queue")))
    body += _checkin_section(page)
    return body


def prerelease_page(distribution, title, found, settings):
    """The mirror admins' page of the series not public yet: for each,
    the mirrors whose newest check-in carries it."""
    body = [tags.h1("Before the release: %s" % (title,)),
            tags.p("The series of %s still at their development location, "
                   "and the mirrors whose newest check-in (of the last %d "
                   "hours) carries them: how far a release has spread "
                   "before it is made public.  A private mirror's check-in "
                   "is what it carries; a public mirror's is shown beside "
                   "what the prober found, which decides."
                   % (title, settings.max_age_hours))]
    if not found:
        body.append(tags.p("No series of %s is in development." % (title,)))
    for series, mirrors in found:
        body.append(tags.h2("%s (%s)" % (series.name, series.version)))
        if not mirrors:
            body.append(tags.p("No mirror has checked in with it."))
            continue
        rows = [tags.tr(tags.th("Mirror"), tags.th("Checked in"),
                        tags.th("Age"), tags.th("Suites"),
                        tags.th("Control files current"),
                        tags.th("The prober found"))]
        for each in mirrors:
            if each.private:
                prober = "private: its check-in is what it carries"
            elif each.prober is None:
                prober = "nothing of it yet"
            else:
                prober = freshness_badge(each.prober)
            rows.append(tags.tr(
                tags.td(tags.a(each.title,
                               href=mirror_href(distribution, each.name))),
                tags.td(format_minute(each.date_reported)),
                tags.td(_duration(each.age)),
                tags.td(" ".join(each.suites)),
                tags.td("%d of %d" % (each.current, len(each.files))),
                tags.td(prober)))
        body.append(tags.table(*rows, class_="prerelease"))
    return body


class CheckinHandlers:
    """The handlers of the token page and of the mirrors' API calls; mixed
    into MirrorKeeperWeb, whose settings carry a CheckinSettings as
    `checkin`."""

    @property
    def checkin_settings(self):
        return getattr(self.settings, "checkin", None) or CheckinSettings()

    async def token(self, ctx, distribution, name):
        settings = self.checkin_settings

        def read(store, who, secret=None):
            from mirrorkeeper.web import queries
            dist = queries.get_distribution(store, distribution)
            mirror = queries.get_mirror(store, dist, name)
            who.require(who.may_edit(mirror), "manage the token of %s"
                        % (name,))
            state = mirror.getState()
            return TokenPage(
                distribution, mirror.name, mirror.title, mirror.private,
                checkin.token_state(store, mirror),
                checkin.judge_checkin(store, mirror, settings.max_age),
                state.freshness, state.last_probe,
                checkin.queue_state(store, mirror), settings)

        def write(store, who, action):
            from mirrorkeeper.web import queries
            dist = queries.get_distribution(store, distribution)
            mirror = queries.get_mirror(store, dist, name)
            who.require(who.may_edit(mirror), "manage the token of %s"
                        % (name,))
            if action == "create":
                return checkin.create_token(store, mirror, who.person)
            checkin.revoke_tokens(store, mirror)
            return None

        secret = None
        if ctx.method == "POST":
            action = ctx.form.get("action")
            if action not in ("create", "revoke"):
                raise HTTPError(400, "Choose to make or to revoke the "
                                "token.")
            viewer, secret = await self.change(ctx, write, action)
            if secret is None:
                return redirect(mirror_href(distribution, name) + "/+token")
        viewer, page = await self.as_who(ctx, read)
        return self.page(ctx, viewer, "Token of %s" % (page.title,),
                         token_page(page, ctx.csrf_token, secret,
                                    self.site_url(ctx)))

    async def prerelease(self, ctx, distribution):
        settings = self.checkin_settings

        def read(store, who):
            from mirrorkeeper.web import queries
            dist = queries.get_distribution(store, distribution)
            who.require(who.is_mirror_admin(dist),
                        "see which %s mirrors carry a release before it is "
                        "public" % (dist.title,))
            return dist.title, checkin.prerelease_checkins(
                store, dist, settings.max_age)
        viewer, (title, found) = await self.as_who(ctx, read)
        return self.page(ctx, viewer, "Before the release: %s" % (title,),
                         prerelease_page(distribution, title, found,
                                         settings))

    def _authorised(self, ctx, name):
        """The work of a token call, before what it does: the mirror called
        `name` whose active token the request carries, or a 403."""
        secret = bearer_token(ctx.request)

        def mirror_of(store):
            mirror = DistributionMirrorSet(store).getByName(name)
            if not checkin.check_token(store, mirror, secret):
                raise HTTPError(403, BAD_TOKEN)
            return mirror
        return mirror_of

    def _body(self, ctx):
        body = ctx.request.content.read(checkin.MAX_REPORT_BYTES + 1)
        if len(body) > checkin.MAX_REPORT_BYTES:
            raise HTTPError(413, "The report is larger than %d bytes."
                            % (checkin.MAX_REPORT_BYTES,))
        return body

    async def api_checkin(self, ctx, name):
        body = self._body(ctx)
        authorised = self._authorised(ctx, name)
        address = client_address(ctx.request)[:64] or None

        def work(store):
            mirror = authorised(store)
            # Read only once the token is good: a stranger's body is
            # never parsed.
            report = checkin.read_report(body)
            record = checkin.record_checkin(store, mirror, report, address)
            max_age = self.checkin_settings.max_age
            # A private mirror's check-in is what it carries; a public
            # one's is kept beside the prober's findings only.
            checkin.carry_checkin(store, mirror, max_age)
            view = checkin.judge_checkin(store, mirror, max_age)
            return {"mirror": mirror.name,
                    "date_reported": record.date_reported.isoformat() + "Z",
                    "control_files": len(view.files),
                    "current": view.current,
                    "freshness": view.freshness.name,
                    "message": "%d of %d control files are the master's "
                    "current ones" % (view.current, len(view.files))}
        return json_response(await self.db.run(work))

    async def api_probe(self, ctx, name):
        settings = self.checkin_settings
        authorised = self._authorised(ctx, name)

        def work(store):
            mirror = authorised(store)
            why = checkin.may_be_probed(mirror)
            if why is not None:
                raise HTTPError(409, "%s is not probed: %s." % (name, why))
            return checkin.request_probe(store, mirror,
                                         settings.probe_interval)
        try:
            answer = await self.db.run(work)
        except IntegrityError:
            # A mirror's first two requests at once: both inserted its
            # queue entry and the other committed first.  Asked again,
            # the entry is there, and this one is answered as too soon.
            answer = await self.db.run(work)
        if not answer.queued:
            raise HTTPError(
                429, "%s asked to be probed at %s; it may ask again in %d "
                "s (once every %d minutes)." % (
                    name, format_minute(answer.date_requested),
                    answer.retry_after, settings.probe_interval_minutes),
                {"Retry-After": str(answer.retry_after)})
        expected = answer.date_requested + timedelta(
            minutes=settings.queue_run_minutes)
        return json_response({
            "mirror": name, "queued": True,
            "date_requested": answer.date_requested.isoformat() + "Z",
            "probe_by": expected.isoformat() + "Z",
            "message": "queued: probed by the queued prober run within "
            "%d min (by %s)" % (
                max(1, math.ceil(settings.queue_run_minutes)),
                format_minute(expected))}, 202)


__all__ = ["CheckinHandlers", "CheckinSettings", "prerelease_page",
           "token_page"]
