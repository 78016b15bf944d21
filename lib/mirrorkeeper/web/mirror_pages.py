"""A mirror's own pages: its details and records, a probe's log, and the
forms that change it (register, edit, review, delete); the login form.

Each function takes plain values and returns twisted.web.template tags.
"""

from twisted.web.template import tags

from mirrorkeeper.web.chart import freshness_history_chart
from mirrorkeeper.web.forms import choices, limit_of, number_range
from mirrorkeeper.web.layout import (
    format_bandwidth, format_minute, freshness_badge, mirror_href,
    post_form)
from mirrorkeeper.web.queries import FRESHNESS_HISTORY_DAYS


def _details(pairs):
    items = []
    for label, value in pairs:
        if value in (None, ""):
            continue
        items += [tags.dt(label), tags.dd(value)]
    return tags.dl(*items, class_="details")


def _lag(seconds):
    """A lag as people read it: '0 s', '3 h 20 min', or None (unknown)."""
    if seconds is None:
        return None
    hours, minutes = divmod(seconds // 60, 60)
    if not hours and not minutes:
        return "%d s" % seconds
    return ("%d h %d min" % (hours, minutes)) if hours \
        else "%d min" % minutes


def _actions(detail, csrf_token):
    summary = detail.summary
    href = mirror_href(summary.distribution, summary.name)
    actions = []
    if "edit" in detail.permissions:
        actions.append(tags.a("Edit", href=href + "/+edit"))
        # The token its host checks in and asks for probes with
        # (web.checkin_pages).
        actions.append(tags.a("Token and check-in", href=href + "/+token"))
    if "review" in detail.permissions:
        actions.append(tags.a("Review", href=href + "/+review"))
    if "pause" in detail.permissions:
        paused = summary.owner_paused
        actions.append(post_form(
            href + "/+pause", csrf_token,
            tags.input(type="hidden", name="paused",
                       value="0" if paused else "1"),
            tags.button("Resume" if paused else "Pause", type="submit",
                        class_="inline")))
    if "resubmit" in detail.permissions:
        actions.append(post_form(
            href + "/+resubmit", csrf_token,
            tags.button("Resubmit for review", type="submit",
                        class_="inline")))
    if "delete" in detail.permissions:
        actions.append(tags.a("Delete", href=href + "/+delete"))
    return tags.div(*actions, class_="actions") if actions else ""


def mirror_page(detail, csrf_token, site_url=""):
    """`site_url`: the site's absolute URL, for the addresses the owner is
    told to use."""
    from mirrorkeeper.web.site_pages import mirror_advice, site_href
    summary = detail.summary
    state = summary.status.title
    if summary.status.name == "OFFICIAL" and not summary.official:
        state += " (its owner did not apply to be official)"
    state += ", enabled" if summary.enabled else ", disabled"
    if summary.owner_paused:
        state += ", paused by its owner"
    if summary.unreachable:
        state += (", unreachable: the last probe could not reach it, so "
                  "the mirror lists leave it out until one does")
    body = [
        tags.h1(summary.title),
        _actions(detail, csrf_token),
        _details([
            ("Name", summary.name),
            ("Status", state),
            ("Freshness", freshness_badge(summary.freshness)),
            ("Lag", _lag(summary.lag_seconds)),
            ("In the mirror lists", "yes" if summary.listed else
             "no: %s" % ", ".join(summary.why_unpublished())),
            ("Last probed", format_minute(summary.last_probe)),
            ("Content", summary.content.title),
            ("Country", "%s (%s), %s" % (summary.country_name,
                                         summary.country_code,
                                         summary.continent_name)),
            ("Speed", summary.speed),
            ("Bandwidth", format_bandwidth(summary.bandwidth_mbps)),
            ("Sync", detail.pulse_type + (
                " from %s" % detail.pulse_source if detail.pulse_source
                else "")),
            ("Owner", "%s (%s)" % (detail.owner_display_name,
                                   summary.owner)),
            ("Site", tags.a(detail.site[1], href=site_href(detail.site[0]))
             if detail.site else None),
            ("Registered", format_minute(summary.date_created)),
            ("Official candidate", "yes" if detail.official_candidate
             else "no"),
            ("Reviewed", "%s by %s" % (format_minute(detail.date_reviewed),
                                       detail.reviewer)
             if detail.reviewer else "not yet"),
            ("Description", detail.description),
            ("Whiteboard", detail.whiteboard),
        ]),
    ]
    if detail.why_disabled:
        body += [tags.h2("Why it is disabled"),
                 tags.p("What its last probe found:"),
                 tags.ul(*[tags.li(sentence)
                           for sentence in detail.why_disabled])]
    advice = mirror_advice(summary, detail.why_disabled, site_url) \
        if "logs" in detail.permissions else []
    if advice:
        body += [tags.h2("What to do next"),
                 tags.ul(*[tags.li(sentence) for sentence in advice],
                         class_="advice")]
    body += [
        tags.h2("URLs"),
        tags.ul(*[tags.li(tags.a(url, href=url)) for _, url in summary.urls]),
        tags.h2("What it carries"),
    ]
    if detail.records:
        body.append(tags.div(tags.table(
            tags.thead(tags.tr(tags.th("Series"), tags.th("Part"),
                               tags.th("Component"), tags.th("Pocket"),
                               tags.th("Freshness"))),
            tags.tbody(*[tags.tr(
                tags.td(record.series), tags.td(record.place),
                tags.td(record.component), tags.td(record.pocket),
                tags.td(freshness_badge(record.freshness)
                        if record.freshness is not None else ""))
                for record in detail.records])), class_="scroll"))
    else:
        body.append(tags.p("Nothing recorded yet: the prober has not found "
                           "content on this mirror."))
    if detail.freshness_history:
        body += [tags.h2("Freshness at each probe"),
                 tags.p("Over the last %d days, oldest on the left."
                        % (FRESHNESS_HISTORY_DAYS,)),
                 tags.div(freshness_history_chart(detail.freshness_history),
                          class_="scroll")]
    if detail.probes is not None:
        href = mirror_href(summary.distribution, summary.name)
        body.append(tags.h2("Probe history"))
        if detail.probes:
            body.append(tags.div(tags.table(
                tags.thead(tags.tr(tags.th("Probed"), tags.th(
                    "Took", class_="num"), tags.th("Log"))),
                tags.tbody(*[tags.tr(
                    tags.td(format_minute(probe.date)),
                    tags.td("%.1f s" % probe.duration
                            if probe.duration is not None else "-",
                            class_="num"),
                    tags.td(tags.a("read the log", href="%s/+probe/%d" % (
                        href, probe.id))))
                    for probe in detail.probes])), class_="scroll"))
        else:
            body.append(tags.p("Never probed."))
    return body


def probe_log_page(distribution, log):
    return [tags.h1("Probe of %s" % (log.title,)),
            tags.p(format_minute(log.date), " - ",
                   tags.a("back to the mirror",
                          href=mirror_href(distribution, log.mirror))),
            _places_found(log.places),
            tags.h2("Log"),
            tags.pre(log.log, class_="log")]


_FOUND = {True: "yes", False: "no", None: "cannot tell"}


def _places_found(places):
    """What a probe found, place by place (probelogs.FoundPlace)."""
    if not places:
        return ""
    return [tags.h2("What it found"), tags.div(tags.table(
        tags.thead(tags.tr(tags.th("Place"), tags.th("Found"),
                           tags.th("Freshness"), tags.th("Judged by"),
                           tags.th("Lag"), tags.th("Answer"))),
        tags.tbody(*[tags.tr(
            tags.td(place.label), tags.td(_FOUND[place.found]),
            tags.td(freshness_badge(place.freshness)
                    if place.freshness is not None else ""),
            tags.td(place.detector or ""),
            tags.td(_lag(place.lag_seconds) or ""),
            tags.td(place.outcome or ""))
            for place in places])), class_="scroll")]


def _field(field, label, kind, help_text, values, errors, countries):
    # What was typed is shown again as typed, but a byte of invalid UTF-8
    # (a lone surrogate, see site._parse_form) cannot be sent back.
    value = values.get(field, "").encode("utf-8", "replace").decode("utf-8")
    error = errors.get(field)
    attributes = {"id": field, "name": field}
    if error:
        attributes["aria-invalid"] = "true"
    if kind == "checkbox":
        box = tags.input(type="checkbox", **attributes)
        if value:
            box(checked="checked")
        widget = tags.div(box, " ", tags.label(label, for_=field),
                          class_="check")
        label_tag = ""
    elif kind == "textarea":
        widget = tags.textarea(value, rows="4", **attributes)
        label_tag = tags.label(label, for_=field)
    elif kind in ("text", "url"):
        widget = tags.input(type=kind, value=value, **attributes)
        label_tag = tags.label(label, for_=field)
    elif kind == "number":
        low, high = number_range(field)
        widget = tags.input(type=kind, value=value, min=str(low),
                            max=str(high), **attributes)
        label_tag = tags.label(label, for_=field)
    else:
        options = []
        for option_value, option_label in choices(kind, countries):
            option = tags.option(option_label, value=option_value)
            if option_value == value:
                option(selected="selected")
            options.append(option)
        widget = tags.select(*options, **attributes)
        label_tag = tags.label(label, for_=field)
    limit = limit_of(field, kind)
    if limit is not None:
        # The browser stops at the limit; the server checks it anyway.
        widget(maxlength=str(limit))
        help_text = ("%s  At most %s characters." % (
            help_text, format(limit, ","))).strip()
    return tags.div(
        label_tag, widget,
        tags.div(help_text, class_="muted") if help_text else "",
        tags.div(error, class_="error") if error else "")


def form_page(heading, action, csrf_token, fields, values, error=None,
              countries=(), submit="Save", intro=None):
    """A form of `fields` (see forms), filled with `values`; `error` is a
    FormError (or its message) to show."""
    errors = {}
    message = None
    if error is not None:
        field = getattr(error, "field", None)
        message = str(error)
        if field:
            errors[field] = message
    return [
        tags.h1(heading),
        tags.p(intro) if intro else "",
        tags.p(message, class_="error", role="alert") if message else "",
        post_form(action, csrf_token, *[
            _field(field, label, kind, help_text, values, errors, countries)
            for field, label, kind, help_text in fields],
            tags.button(submit, type="submit"), class_="stacked")]


def delete_page(distribution, name, title, csrf_token):
    href = mirror_href(distribution, name)
    return [tags.h1("Delete %s?" % (title,)),
            tags.p("The mirror was never probed, so nothing but its "
                   "registration is lost."),
            post_form(href + "/+delete", csrf_token,
                      tags.button("Delete the mirror", type="submit")),
            tags.p(tags.a("Keep it", href=href))]


def login_page(csrf_token, next_path, error=None, login="", notice=None):
    from urllib.parse import quote
    signup = "/+signup" + ("?next=" + quote(next_path, safe="")
                           if next_path != "/" else "")
    return [
        tags.h1("Log in"),
        tags.p(error, class_="error", role="alert") if error else "",
        tags.p(notice, class_="notice", role="status") if notice else "",
        post_form("/+login", csrf_token,
                  tags.input(type="hidden", name="next", value=next_path),
                  tags.label("Name or email address", for_="login"),
                  tags.input(type="text", id="login", name="login",
                             value=login, autocomplete="username"),
                  tags.label("Password", for_="password"),
                  tags.input(type="password", id="password",
                             name="password",
                             autocomplete="current-password"),
                  tags.button("Log in", type="submit"),
                  class_="stacked"),
        tags.p("No account yet? ", tags.a("Sign up", href=signup),
               ".  ", tags.a("Forgot your password?", href="/+reset"))]


def sessions_page(rows, csrf_token):
    """The logged-in person's sessions (actions.SessionRow), and the forms
    that end them."""
    return [
        tags.h1("Your sessions"),
        tags.p("Each place you are logged in.  If you do not know one, end "
               "the others and change your password."),
        tags.div(tags.table(
            tags.thead(tags.tr(tags.th("Logged in"), tags.th("Last used"),
                               tags.th("From"), tags.th("Browser"))),
            tags.tbody(*[tags.tr(
                tags.td(format_minute(row.created),
                        " (this one)" if row.current else ""),
                tags.td(format_minute(row.last_used)),
                tags.td(row.address or "unknown"),
                tags.td(row.user_agent or "unknown")) for row in rows])),
            class_="scroll"),
        tags.div(
            post_form("/+sessions", csrf_token,
                      tags.input(type="hidden", name="end", value="others"),
                      tags.button("End all other sessions", type="submit")),
            post_form("/+sessions", csrf_token,
                      tags.input(type="hidden", name="end", value="all"),
                      tags.button("End every session, this one too",
                                  type="submit")),
            class_="actions")]


def error_page(status, message):
    return [tags.h1({403: "Not allowed", 404: "Not found",
                     400: "Bad request", 405: "Not allowed",
                     429: "Too many tries", 503: "Busy"}.get(
                         status, "Something went wrong")),
            tags.p(message), tags.p(tags.a("Home", href="/"))]


def register_intro(distribution_title):
    return ("Your mirror of %s starts pending review and disabled: the "
            "mirror admins review it, and the prober lists it once it "
            "finds it carrying content." % (distribution_title,))
