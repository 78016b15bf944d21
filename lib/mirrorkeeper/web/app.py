"""The mirrorkeeper web application: its routes and their handlers.

MirrorKeeperWeb is given what it needs (a transactor for the database,
the session signer, the settings) and has no global state; the same
class serves a daemon, a test's in-process client and a benchmark.
Every handler reads or writes through `self.db.run(...)` in a database
thread, gets plain values back, and renders them in the reactor thread;
a listing, rendered once for each state of the data and kept, is
rendered in the database thread, and only the page around it here.
"""

import math
import time
from urllib.parse import quote

import attrs
from twisted.internet import defer
from twisted.logger import Logger

from mirrorkeeper.addresspolicy import AddressPolicy
from mirrorkeeper.errors import (
    DuplicateError, InvalidURLError, InvalidValueError)
from mirrorkeeper.mail.notifications import MailSettings
from mirrorkeeper.mail.outbox import deliver_pending
from mirrorkeeper.model.mirrorstate import KeptStates
from mirrorkeeper.settings import Mail, Publication, Web
from mirrorkeeper.validators import TEXT_LIMITS, valid_whole_number
from mirrorkeeper.web import (
    actions, api, feeds, listing_pages, metrics, mirror_pages, queries,
    statistics_pages)
from mirrorkeeper.web.accounts import AccountHandlers
from mirrorkeeper.web.answers import AnswerCache, data_version
from mirrorkeeper.web.checkin_pages import CheckinHandlers, CheckinSettings
from mirrorkeeper.web.forms import (
    EDIT_FIELDS, REGISTER_FIELDS, REVIEW_FIELDS, FormError, mirror_values)
from mirrorkeeper.web.layout import (
    STYLESHEET, Flattened, html_page, mirror_href)
from mirrorkeeper.web.network_pages import NetworkHandlers
from mirrorkeeper.web.policy import Viewer, Who
from mirrorkeeper.web.propagation import PropagationCache, propagation
from mirrorkeeper.web.site import (
    HTTPError, Response, client_address, json_response, local_path, redirect,
    route)
from mirrorkeeper.web.site_pages import SITE_FIELD, SiteHandlers
from mirrorkeeper.web.throttle import Busy, InlinePasswordPool, LoginThrottle

MIRROR = "/{distribution}/+mirror/{name}"

log = Logger()


@attrs.frozen
class WebSettings:
    """What the application takes from the [web] configuration; the
    defaults are the settings' (mirrorkeeper.settings)."""

    admins_team: str = Web.admins_team.default
    site_name: str = Mail.site_name.default
    base_url: str = Web.base_url.default  # e.g. https://mirrors.example.org
    propagation_days: int = Web.propagation_days.default
    # [publication] statistics_dir: the mirror list daemon's daily counts
    # (web.statistics_pages).
    statistics_dir: str = Publication.statistics_dir.default
    # Seconds shared HTTP caches may keep an answer of the API or a feed
    # (Cache-Control: max-age).
    cache_seconds: float = Web.cache_seconds.default
    # [prober] allowed_networks: where a registered mirror's URL may lead
    # besides global addresses.
    allowed_networks: tuple = ()
    # [checkin]: check-ins and probe-me-now (web.checkin_pages).
    checkin: CheckinSettings = CheckinSettings()
    # [mail]: what the announcements to mirrors are sent as
    # (web.network_pages).
    mail: MailSettings = MailSettings()

    @classmethod
    def from_config(cls, config):
        return cls(allowed_networks=config.allowed_networks(),
                   checkin=CheckinSettings.from_config(config),
                   mail=MailSettings.from_config(config),
                   admins_team=config.get("web", "admins_team"),
                   site_name=config.get("mail", "site_name"),
                   base_url=config.get("web", "base_url").rstrip("/"),
                   propagation_days=config.getint("web",
                                                  "propagation_days"),
                   statistics_dir=config.get("publication",
                                             "statistics_dir"),
                   cache_seconds=config.getfloat("web", "cache_seconds"))


class _MonotonicClock:
    @staticmethod
    def seconds():
        return time.monotonic()


class MirrorKeeperWeb(AccountHandlers, CheckinHandlers, NetworkHandlers,
                      SiteHandlers):
    """The site's handlers; see site.WebResource for how they are
    called."""

    ROUTES = [
        route("GET", "/", "index"),
        route("GET", "/+style.css", "stylesheet", kind="text"),
        route("GET", "/+statistics", "statistics_page"),
        route("GET|POST", "/+login", "login"),
        route("POST", "/+logout", "logout"),
        route("GET|POST", "/+sessions", "sessions"),
        route("GET|POST", "/+signup", "signup"),
        route("GET|POST", "/+verify/{token}", "verify"),
        route("GET|POST", "/+reset", "reset_request"),
        route("GET|POST", "/+reset/{token}", "reset"),
        route("GET", "/+mymirrors", "my_mirrors"),
        route("GET", "/+site/{name}", "site_page"),
        route("GET|POST", "/+site/{name}/+edit", "site_edit"),
        route("POST", "/+site/{name}/+admins", "site_admins"),
        route("POST", "/+site/{name}/+admins/+remove", "site_admin_removal"),
        route("GET", "/metrics", "metrics", kind="text"),
        route("GET", "/api/1", "api_index", kind="json"),
        route("GET", "/api/1/distributions", "api_distributions",
              kind="json"),
        route("GET", "/api/1/mirrors", "api_mirrors", kind="json"),
        route("GET", "/api/1/mirrors/{name}", "api_mirror", kind="json"),
        route("POST", "/api/1/mirrors/{name}/+checkin", "api_checkin",
              kind="json"),
        route("POST", "/api/1/mirrors/{name}/+probe", "api_probe",
              kind="json"),
        route("GET", "/api/1/status", "api_status", kind="json"),
        route("GET", "/api/1/sites", "api_sites", kind="json"),
        route("GET", "/rsync_acl", "rsync_acl", kind="text"),
        route("GET", "/{distribution}", "distribution_page"),
        route("GET", "/{distribution}/+archivemirrors", "listing",
              listing="archive"),
        route("GET", "/{distribution}/+cdmirrors", "listing",
              listing="cdimage"),
        route("GET", "/{distribution}/+disabledmirrors", "listing",
              listing="disabled"),
        route("GET", "/{distribution}/+unofficialmirrors", "listing",
              listing="unofficial"),
        route("GET", "/{distribution}/+pendingreviewmirrors", "listing",
              listing="pending"),
        route("GET", "/{distribution}/+archivemirrors-rss", "feed",
              kind="text", listing="archive"),
        route("GET", "/{distribution}/+cdmirrors-rss", "feed", kind="text",
              listing="cdimage"),
        route("GET", "/{distribution}/+propagation", "propagation_page"),
        route("GET", "/{distribution}/+tiers", "tiers_page"),
        route("GET|POST", "/{distribution}/+announce", "announce"),
        route("GET", "/{distribution}/+prerelease", "prerelease"),
        route("GET|POST", "/{distribution}/+newmirror", "register"),
        route("GET", MIRROR, "mirror_page"),
        route("GET|POST", MIRROR + "/+edit", "edit"),
        route("GET|POST", MIRROR + "/+review", "review"),
        route("POST", MIRROR + "/+pause", "pause"),
        route("POST", MIRROR + "/+resubmit", "resubmit"),
        route("GET|POST", MIRROR + "/+delete", "delete"),
        route("GET", MIRROR + "/+probe/{probe}", "probe_log"),
        route("GET|POST", MIRROR + "/+token", "token"),
        route("GET|POST", MIRROR + "/+upstream", "upstream"),
    ]

    def __init__(self, db, signer, settings=None, propagation_cache=None,
                 clock=None, passwords=None, throttle=None,
                 mail_delivery=None):
        self.db = db
        self.signer = signer
        # The IMailDelivery the outbox is delivered through after a page
        # queued mail (web.accounts); None leaves it to the next prober
        # run's delivery.
        self.mail_delivery = mail_delivery
        self._delivering = defer.DeferredLock()
        # Password hashes on threads of their own (throttle.PasswordPool);
        # in the caller's thread by default, for in-process use.
        self.passwords = passwords or InlinePasswordPool()
        self.throttle = throttle or LoginThrottle(clock or _MonotonicClock())
        # Requests that send mail (sign-ups, reset links), counted as
        # failed logins are: by the address mailed, and the client's.
        self.mail_throttle = LoginThrottle(clock or _MonotonicClock())
        self.settings = settings or WebSettings()
        self.propagation_cache = propagation_cache or PropagationCache()
        self.answers = AnswerCache()
        self.states = KeptStates()

    # Helpers.

    def as_who(self, ctx, function, *args):
        """Run function(store, who, *args) in a database thread; fire with
        (viewer, its result)."""
        session, team = ctx.session, self.settings.admins_team

        def work(store):
            who = Who.identify(store, session, team)
            return who.viewer, function(store, who, *args)
        return self.db.run(work)

    async def change(self, ctx, function, *args):
        """as_who for work that writes.  The cached answers need no telling:
        what it changes of a mirror raises the mirror's revision."""
        return await self.as_who(ctx, function, *args)

    def deliver_mail(self):
        """Deliver the outbox (mail.outbox) in a database thread, one
        delivery at a time in this process; a Deferred that never fails
        (what went wrong is logged, and the messages wait there)."""
        if self.mail_delivery is None:
            return defer.succeed(None)

        def deliver(store):
            return deliver_pending(store, self.mail_delivery)

        d = self._delivering.run(self.db.run, deliver)
        d.addErrback(lambda failure: log.failure(
            "Delivering the mail outbox failed", failure))
        return d

    def page(self, ctx, viewer, title, body, status=200):
        return Response(status, html_page(
            title, viewer, ctx.csrf_token, *body,
            site_name=self.settings.site_name))

    def error(self, ctx, status, message):
        if ctx.kind == "json":
            return json_response({"error": message}, status)
        if ctx.kind == "text":
            return Response(status, (message + "\n").encode("utf-8"),
                            "text/plain; charset=utf-8")
        return self.page(ctx, Viewer(), message, mirror_pages.error_page(
            status, message), status)

    def site_url(self, ctx):
        """The site's absolute URL for links: [web] base_url, never the
        Host header a client sent.  Without base_url the daemon listens
        on loopback only (service.check_base_url), and the address the
        request reached is the site's."""
        if self.settings.base_url:
            return self.settings.base_url
        request = ctx.request
        local = request.getHost()
        host = getattr(local, "host", None) or "localhost"
        if ":" in host:
            host = "[%s]" % (host,)
        port = getattr(local, "port", None)
        secure = request.isSecure()
        if port and port != (443 if secure else 80):
            host += ":%d" % (port,)
        return "%s://%s" % ("https" if secure else "http", host)

    # Pages.

    async def stylesheet(self, ctx):
        return Response(200, STYLESHEET, "text/css; charset=utf-8",
                        {"Cache-Control": "public, max-age=3600"})

    async def index(self, ctx):
        def read(store, who):
            from mirrorkeeper.model.distribution import DistributionSet
            return [(d.name, d.title, d.supports_mirrors)
                    for d in DistributionSet(store)]
        viewer, found = await self.as_who(ctx, read)
        return self.page(ctx, viewer, "Distributions",
                         listing_pages.index(found))

    async def distribution_page(self, ctx, distribution):
        def read(store, who):
            dist = queries.get_distribution(store, distribution)
            counts = {kind: queries.listing_count(store, dist, kind)
                      for kind in queries.LISTINGS}
            return (dist.name, dist.title, counts,
                    who.may_see_admin_lists(dist), who.may_register(dist),
                    who.person is None and dist.supports_mirrors)
        viewer, found = await self.as_who(ctx, read)
        return self.page(ctx, viewer, found[1],
                         listing_pages.distribution_page(*found))

    async def listing(self, ctx, distribution, listing):
        heading, admins_only = queries.LISTINGS[listing]
        # The sort, filters and page: a bad one is a 400 before the
        # database is asked; an unknown parameter is ignored, and said.
        view, ignored = listing_pages.ListingView.from_query(ctx.query)
        path = "/%s/%s" % (quote(distribution),
                           listing_pages.LISTING_PATHS[listing])

        def allowed(store, who):
            dist = queries.get_distribution(store, distribution)
            if admins_only:
                who.require(who.may_see_admin_lists(dist),
                            "see the %s of %s" % (heading.lower(),
                                                  dist.display_name))
            if view.country and not queries.country_exists(
                    store, view.country):
                raise HTTPError(400, "Unknown country %r: give its "
                                "two-letter ISO 3166 code, such as BR."
                                % (view.country,))
            return dist.title, data_version(store)

        def render(store):
            # Flattened in the database thread, not the reactor's: done
            # once for each state of the data and view.
            dist = queries.get_distribution(store, distribution)
            return Flattened(listing_pages.listing(
                dist.title, heading, path,
                queries.listing(store, dist, listing, self.states), view,
                show_status=admins_only))

        viewer, (title, version) = await self.as_who(ctx, allowed)
        body = await self.answers.answer(
            ("listing", distribution, listing, view), version,
            lambda: self.db.run(render))
        notes = [listing_pages.ignored_parameters(ignored)] if ignored \
            else []
        return self.page(ctx, viewer, "%s: %s" % (title, heading),
                         notes + [body])

    async def statistics_page(self, ctx):
        days = statistics_pages.days_asked(ctx.query)
        folder = self.settings.statistics_dir

        def read(store, who):
            return statistics_pages.request_statistics(store, folder, days)
        viewer, stats = await self.as_who(ctx, read)
        return self.page(ctx, viewer, "Mirror list requests",
                         statistics_pages.statistics_page(stats))

    async def propagation_page(self, ctx, distribution):
        days, cache = self.settings.propagation_days, self.propagation_cache

        def read(store, who):
            dist = queries.get_distribution(store, distribution)
            return propagation(store, dist, days, cache)
        viewer, result = await self.as_who(ctx, read)
        return self.page(ctx, viewer, "%s: propagation" % (result.title,),
                         listing_pages.propagation_page(result))

    async def mirror_page(self, ctx, distribution, name):
        def read(store, who):
            dist = queries.get_distribution(store, distribution)
            return queries.mirror_detail(
                store, who, queries.get_mirror(store, dist, name))
        viewer, detail = await self.as_who(ctx, read)
        return self.page(ctx, viewer, detail.summary.title,
                         mirror_pages.mirror_page(detail, ctx.csrf_token,
                                                  self.site_url(ctx)))

    async def probe_log(self, ctx, distribution, name, probe):
        # An id is a positive 64-bit integer: anything else is asked of no
        # database.
        try:
            probe = valid_whole_number(probe, "probe", 1, 2 ** 63 - 1)
        except InvalidValueError:
            raise HTTPError(400, "Invalid probe id: give the number of "
                            "one of the mirror's probes.") from None

        def read(store, who):
            dist = queries.get_distribution(store, distribution)
            return queries.probe_log(
                store, who, queries.get_mirror(store, dist, name),
                probe)
        viewer, log = await self.as_who(ctx, read)
        return self.page(ctx, viewer, "Probe of %s" % (log.title,),
                         mirror_pages.probe_log_page(distribution, log))

    # Forms.

    async def _form(self, ctx, heading, fields, read, write, action,
                    submit, intro=None):
        """GET: show the form filled by read(store, who) -> (values,
        countries).  POST: write(store, who, form) -> where to go next; on
        a FormError, the form again with the message (400)."""
        if ctx.method == "POST":
            try:
                viewer, location = await self.change(ctx, write, ctx.form)
                return redirect(location)
            except (FormError, InvalidValueError, InvalidURLError,
                    DuplicateError) as error:
                error = FormError.from_error(error)
                viewer, (_, countries) = await self.as_who(ctx, read)
                return self.page(ctx, viewer, heading, mirror_pages.form_page(
                    heading, action, ctx.csrf_token, fields, ctx.form, error,
                    countries, submit, intro), status=400)
        viewer, (values, countries) = await self.as_who(ctx, read)
        return self.page(ctx, viewer, heading, mirror_pages.form_page(
            heading, action, ctx.csrf_token, fields, values, None,
            countries, submit, intro))

    @staticmethod
    def _countries(store):
        from mirrorkeeper.model.country import CountrySet
        return [(c.iso3166code2, c.name) for c in CountrySet(store)]

    async def register(self, ctx, distribution):
        def read(store, who):
            dist = queries.get_distribution(store, distribution)
            who.require(who.may_register(dist), "register a mirror")
            return ({"speed": "S100M", "content": "ARCHIVE",
                     "pulse_type": "PULL", "official_candidate": "on"},
                    self._countries(store))

        def write(store, who, form):
            name = actions.register_mirror(
                store, who, distribution, form,
                AddressPolicy(self.settings.allowed_networks))
            return mirror_href(distribution, name)
        return await self._form(
            ctx, "Register a mirror of %s" % (distribution,),
            REGISTER_FIELDS + [SITE_FIELD], read, write, "/%s/+newmirror" % (
                quote(distribution),), "Register the mirror",
            mirror_pages.register_intro(distribution))

    def _mirror_form(self, distribution, name, allowed, what):
        def read(store, who):
            dist = queries.get_distribution(store, distribution)
            mirror = queries.get_mirror(store, dist, name)
            who.require(allowed(who, mirror), "%s %s" % (what, name))
            return mirror_values(mirror), self._countries(store)
        return read

    async def edit(self, ctx, distribution, name):
        def write(store, who, form):
            actions.edit_mirror(store, who, distribution, name, form,
                                AddressPolicy(self.settings.allowed_networks))
            return mirror_href(distribution, name)
        mirror_form = self._mirror_form(distribution, name, Who.may_edit,
                                        "edit")

        def read(store, who):
            values, countries = mirror_form(store, who)
            site = queries.get_mirror(store, queries.get_distribution(
                store, distribution), name).site
            values["site"] = site.name if site is not None else ""
            return values, countries
        return await self._form(
            ctx, "Edit %s" % (name,), EDIT_FIELDS + [SITE_FIELD], read,
            write, mirror_href(distribution, name) + "/+edit", "Save")

    async def review(self, ctx, distribution, name):
        def write(store, who, form):
            actions.review_mirror(store, who, distribution, name, form)
            return mirror_href(distribution, name)
        return await self._form(
            ctx, "Review %s" % (name,), REVIEW_FIELDS,
            self._mirror_form(distribution, name, Who.may_review, "review"),
            write, mirror_href(distribution, name) + "/+review",
            "Save the review")

    async def pause(self, ctx, distribution, name):
        paused = ctx.form.get("paused") == "1"
        await self.change(ctx, actions.set_paused, distribution, name,
                          paused)
        return redirect(mirror_href(distribution, name))

    async def resubmit(self, ctx, distribution, name):
        await self.change(ctx, actions.resubmit_mirror, distribution, name)
        return redirect(mirror_href(distribution, name))

    async def delete(self, ctx, distribution, name):
        if ctx.method == "POST":
            await self.change(ctx, actions.delete_mirror, distribution, name)
            return redirect("/%s/" % (quote(distribution),))

        def read(store, who):
            dist = queries.get_distribution(store, distribution)
            mirror = queries.get_mirror(store, dist, name)
            who.require(who.may_delete(mirror), "delete %s" % (name,))
            return mirror.title
        viewer, title = await self.as_who(ctx, read)
        return self.page(ctx, viewer, "Delete %s" % (title,),
                         mirror_pages.delete_page(distribution, name, title,
                                                  ctx.csrf_token))

    # Accounts.

    async def login(self, ctx):
        next_path = local_path(ctx.query.get("next") or
                               ctx.form.get("next"))
        if ctx.method != "POST":
            viewer, _ = await self.as_who(ctx, lambda store, who: None)
            notice = None
            if ctx.query.get("verified"):
                notice = "Your address is confirmed: log in."
            elif ctx.query.get("reset"):
                notice = "Your new password is set: log in with it."
            return self.page(ctx, viewer, "Log in", mirror_pages.login_page(
                ctx.csrf_token, next_path, notice=notice))
        login = (ctx.form.get("login") or "").strip()[:TEXT_LIMITS["login"]]
        password = ctx.form.get("password") or ""
        address = client_address(ctx.request)

        def refused(status, message):
            return self.page(ctx, Viewer(), "Log in", mirror_pages.login_page(
                ctx.csrf_token, next_path, message, login), status=status)

        wait = self.throttle.wait(login, address)
        if wait > 0:
            return refused(429, "Too many failed logins: try again in %d s."
                           % (math.ceil(wait),))
        person_id, stored, verified = await self.db.run(actions.find_login,
                                                        login)
        try:
            matches = await self.passwords.verify(password, stored)
        except Busy:
            return refused(503, "Too many logins at once: try again in a "
                           "few seconds.")
        if matches and person_id is not None and not verified:
            # The password is theirs: saying so tells nothing new.
            return refused(403, "Confirm your address first: follow the "
                           "link in the message sent when you signed up "
                           "(sign up again with the same address to have "
                           "it sent again).")
        started = None
        if matches and person_id is not None:
            started = await self.db.run(
                actions.start_session, person_id, stored, address,
                (ctx.request.getHeader(b"user-agent") or b"").decode(
                    "latin-1"))
        if started is None:
            self.throttle.failed(login, address)
            return refused(403, "That name and password do not match.")
        self.throttle.succeeded(login, address)
        token, key = started
        # A new nonce: a token from before the login is no use.
        ctx.set_session(self.signer.new(person_id, key, token))
        return redirect(next_path)

    async def logout(self, ctx):
        await self.db.run(actions.end_session, ctx.session.token)
        ctx.set_session(self.signer.new())
        return redirect("/")

    async def sessions(self, ctx):
        """A person's sessions: when, from where; end all the others, or
        every one (this one too)."""
        token = ctx.session.token
        if ctx.method == "POST":
            everywhere = ctx.form.get("end") == "all"
            await self.as_who(ctx, actions.end_sessions, token,
                              not everywhere)
            if everywhere:
                ctx.set_session(self.signer.new())
                return redirect("/")
            return redirect("/+sessions")
        viewer, rows = await self.as_who(ctx, actions.list_sessions, token)
        return self.page(ctx, viewer, "Your sessions",
                         mirror_pages.sessions_page(rows, ctx.csrf_token))

    # Feeds, API, metrics.

    async def feed(self, ctx, distribution, listing):
        def read(store, who):
            dist = queries.get_distribution(store, distribution)
            return dist.title, queries.listing(store, dist, listing,
                                               self.states)
        _, (title, summaries) = await self.as_who(ctx, read)
        site = self.site_url(ctx)
        heading = queries.LISTINGS[listing][0]
        page = "%s/%s/%s" % (site, quote(distribution),
                             listing_pages.LISTING_PATHS[listing])
        body = feeds.mirrors_feed("%s %s" % (title, heading.lower()), page,
                                  "The %s of %s." % (heading.lower(), title),
                                  summaries, site,
                                  feed_url=page + "-rss")
        return Response(200, body, "application/rss+xml; charset=utf-8")

    async def api_index(self, ctx):
        return json_response(api.index())

    async def api_distributions(self, ctx):
        return json_response(await self.db.run(api.distributions))

    async def api_mirrors(self, ctx):
        return json_response(await self.db.run(api.mirrors, ctx.query))

    async def api_mirror(self, ctx, name):
        return json_response(await self.db.run(api.mirror, name))

    async def api_status(self, ctx):
        # Only what api.status reads: other parameters make no new answer.
        filters = {name: ctx.query[name] for name in ("distribution", "mirror")
                   if ctx.query.get(name)}
        version = await self.db.run(data_version)
        body = await self.answers.answer(
            ("status", filters.get("distribution"), filters.get("mirror")),
            version, lambda: self.db.run(
                api.status, filters, self.states).addCallback(
                lambda value: json_response(value).body))
        return Response(200, body, "application/json")

    async def api_sites(self, ctx):
        return json_response(await self.db.run(api.sites))

    async def metrics(self, ctx):
        data = await self.db.run(metrics.read)
        return Response(200, metrics.exposition(data), metrics.CONTENT_TYPE)


__all__ = ["MirrorKeeperWeb", "WebSettings"]
