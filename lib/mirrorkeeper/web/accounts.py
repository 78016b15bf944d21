"""Accounts people make themselves: sign-up, verifying the address, and
resetting a forgotten password by mail.

    GET|POST /+signup          name, display name, address, password
    GET|POST /+verify/TOKEN    confirm the address (the link mailed)
    GET|POST /+reset           ask for a password reset link
    GET|POST /+reset/TOKEN     set a new password (the link mailed)

The rules:

- An account signed up for cannot log in until its address is verified
  (model.person's date_verified): so nobody registers mirrors, or takes
  an address, with an address that is not theirs.
- The answers never tell whether an address has an account.  Signing up
  with an address that has one makes nothing and mails that address
  instead (an unverified account gets a new verification link, a
  verified one is told it exists, with how to log in or reset); asking
  for a reset says the same whether or not a link was sent.
- The tokens (model.accounttoken) are single-use, expire, and are
  stored only as their SHA-256.  A reset ends every session of the
  account, and counts as verifying its address.
- Every request that may send mail counts against its address and the
  client's, as failed logins do (throttle.LoginThrottle), so that the
  site cannot be made to mail someone without end.

Messages are queued in the transaction that makes their token, and the
outbox is delivered after it commits (MirrorKeeperWeb.deliver_mail).

AccountHandlers is mixed into the application (web.app.MirrorKeeperWeb),
whose routes name its methods.
"""

import math
from urllib.parse import quote

from twisted.web.template import tags

from mirrorkeeper.errors import (
    DuplicateError, InvalidValueError, MirrorKeeperError)
from mirrorkeeper.mail.accounts import (
    already_registered_message, password_reset_message, verification_message)
from mirrorkeeper.mail.outbox import queue
from mirrorkeeper.model import accounttoken, websession
from mirrorkeeper.model.person import PersonSet
from mirrorkeeper.timeutil import utcnow
from mirrorkeeper.validators import (
    TEXT_LIMITS, valid_email, valid_name, valid_text)
from mirrorkeeper.web.forms import FormError
from mirrorkeeper.web.layout import post_form
from mirrorkeeper.web.passwords import MAX_LENGTH, check_password_rules
from mirrorkeeper.web.site import client_address, local_path, redirect
from mirrorkeeper.web.throttle import Busy

SIGNUP_FIELDS = [
    ("name", "Name", "text", "autocomplete=username",
     "Your account's short name: lower-case letters, digits, '.', '-' or "
     "'+'.  It is shown as the owner of your mirrors."),
    ("display_name", "Your name", "text", "autocomplete=name",
     "The name people read."),
    ("email", "Email address", "text", "autocomplete=email",
     "We send a link to it: the account works once you follow it."),
    ("password", "Password", "password", "autocomplete=new-password",
     "At least 8 characters."),
]


def _with_next(path, next_path):
    if not next_path or next_path == "/":
        return path
    return "%s%snext=%s" % (path, "&" if "?" in path else "?",
                            quote(next_path, safe=""))


# In a database thread.

def sign_up(store, values, password_hash, site_url, settings, next_path):
    """Make the account `values` asks for, unverified, and queue the
    verification message; or, for an address that has an account already,
    make nothing and mail that address.  FormError for a value that
    cannot be taken.  Returns the address mailed."""
    name = valid_name(values.get("name"))
    display_name = valid_text(values.get("display_name"), "display_name")
    if display_name is None:
        raise FormError("give your name, as people should read it",
                        "display_name")
    email = valid_email(values.get("email"))
    people = PersonSet(store)
    known = people.getByEmail(email)
    if known is not None:
        if known.is_verified or known.is_team:
            queue(store, already_registered_message(
                settings, (known.display_name, email), known.name,
                site_url + "/+login", site_url + "/+reset"))
        else:
            _queue_verification(store, known, email, site_url, settings,
                                next_path)
        return email
    try:
        person = people.new(name, display_name, email, verified=False)
    except (DuplicateError, InvalidValueError) as error:
        raise FormError.from_error(error) from None
    person.password_hash = password_hash
    _queue_verification(store, person, email, site_url, settings,
                        next_path)
    return email


def _queue_verification(store, person, email, site_url, settings,
                        next_path):
    token = accounttoken.issue_token(store, person, accounttoken.VERIFY)
    queue(store, verification_message(
        settings, (person.display_name, email), person.name,
        _with_next("%s/+verify/%s" % (site_url, token), next_path),
        accounttoken.LIFETIMES[accounttoken.VERIFY]))


def token_is_good(store, token, purpose):
    return accounttoken.find_token(store, token, purpose) is not None


def verify(store, token):
    """Verify the address of `token`'s account; its name, or None for a
    token that does not work."""
    person = accounttoken.redeem_token(store, token, accounttoken.VERIFY)
    if person is None:
        return None
    if person.date_verified is None:
        person.date_verified = utcnow()
    return person.name


def ask_reset(store, email, site_url, settings):
    """Queue a reset link for the person with address `email`, if there
    is one who logs in; nothing otherwise (the page says the same)."""
    person = PersonSet(store).getByEmail(email)
    if person is None or person.is_team:
        return
    token = accounttoken.issue_token(store, person, accounttoken.RESET)
    queue(store, password_reset_message(
        settings, (person.display_name, email), person.name,
        "%s/+reset/%s" % (site_url, token),
        accounttoken.LIFETIMES[accounttoken.RESET]))


def reset(store, token, password_hash):
    """Give `token`'s account the new password, end its sessions, and
    count its address as verified; its name, or None for a token that
    does not work."""
    person = accounttoken.redeem_token(store, token, accounttoken.RESET)
    if person is None:
        return None
    person.password_hash = password_hash
    if person.date_verified is None:
        person.date_verified = utcnow()
    websession.end_sessions(store, person.id)
    accounttoken.end_tokens(store, person, accounttoken.RESET)
    return person.name


# Pages.

def _field(field, label, kind, autocomplete, help_text, values, error):
    attributes = {"id": field, "name": field, "type": kind,
                  "autocomplete": autocomplete.split("=")[1]}
    if field == "email":
        attributes["inputmode"] = "email"
    if kind != "password":
        attributes["value"] = values.get(field, "").encode(
            "utf-8", "replace").decode("utf-8")
    limit = MAX_LENGTH if kind == "password" else \
        TEXT_LIMITS.get(field, TEXT_LIMITS["login"])
    attributes["maxlength"] = str(limit)
    mine = error is not None and getattr(error, "field", None) == field
    if mine:
        attributes["aria-invalid"] = "true"
    return tags.div(tags.label(label, for_=field), tags.input(**attributes),
                    tags.div(help_text, class_="muted"),
                    tags.div(str(error), class_="error") if mine else "")


def signup_page(csrf_token, next_path, values=None, error=None):
    values = values or {}
    unplaced = error is not None and getattr(error, "field", None) not in [
        field for field, *_ in SIGNUP_FIELDS]
    return [
        tags.h1("Sign up"),
        tags.p("With an account you register your mirrors, see how they "
               "are doing, and run them with others."),
        tags.p(str(error), class_="error", role="alert") if unplaced else "",
        post_form(_with_next("/+signup", next_path), csrf_token, *[
            _field(*field, values=values, error=error)
            for field in SIGNUP_FIELDS],
            tags.button("Sign up", type="submit"), class_="stacked"),
        tags.p("Already signed up? ", tags.a(
            "Log in", href=_with_next("/+login", next_path)), ".")]


def check_your_mail_page(email):
    return [tags.h1("Check your mail"),
            tags.p("We sent a message to ", tags.strong(email),
                   ".  Follow the link in it to confirm the address; then "
                   "log in."),
            tags.p("Nothing there after a few minutes?  Look in the spam "
                   "folder, or sign up again with the same address to have "
                   "it sent again.")]


def verify_page(csrf_token, token, next_path):
    return [tags.h1("Confirm your address"),
            post_form(_with_next("/+verify/" + token, next_path), csrf_token,
                      tags.button("Confirm my address", type="submit"),
                      class_="stacked")]


def expired_page(what):
    return [tags.h1("This link does not work"),
            tags.p("It was used already, replaced by a newer one, or has "
                   "expired.  ", what)]


def reset_request_page(csrf_token, error=None, sent_to=None):
    if sent_to is not None:
        return [tags.h1("Check your mail"),
                tags.p("If an account has the address ", tags.strong(sent_to),
                       ", we sent it a link to set a new password.  It works "
                       "once, for an hour.")]
    return [tags.h1("Forgot your password?"),
            tags.p(str(error), class_="error", role="alert") if error
            else "",
            post_form("/+reset", csrf_token,
                      tags.label("Your account's email address", for_="email"),
                      tags.input(type="text", id="email", name="email",
                                 autocomplete="email", inputmode="email",
                                 maxlength=str(TEXT_LIMITS["login"])),
                      tags.button("Send me a link", type="submit"),
                      class_="stacked")]


def reset_page(csrf_token, token, error=None):
    return [tags.h1("Set a new password"),
            tags.p(str(error), class_="error", role="alert") if error
            else "",
            post_form("/+reset/" + token, csrf_token,
                      tags.label("New password", for_="password"),
                      tags.input(type="password", id="password",
                                 name="password",
                                 autocomplete="new-password",
                                 maxlength=str(MAX_LENGTH)),
                      tags.div("At least 8 characters.  Every session of "
                               "the account ends.", class_="muted"),
                      tags.button("Set the password", type="submit"),
                      class_="stacked")]


class AccountHandlers:
    """The handlers of the pages above (see web.app for `self`)."""

    def _mail_wait(self, ctx, email):
        """The 429 page if mail to `email` from this client must wait,
        else None; the request counts either way it is let through."""
        address = client_address(ctx.request)
        wait = self.mail_throttle.wait(email, address)
        if wait > 0:
            return self.error(ctx, 429, "Too many requests: try again in "
                              "%d s." % (math.ceil(wait),))
        self.mail_throttle.failed(email, address)
        return None

    async def signup(self, ctx):
        next_path = local_path(ctx.query.get("next"))
        viewer, _ = await self.as_who(ctx, lambda store, who: None)
        if ctx.method != "POST":
            return self.page(ctx, viewer, "Sign up",
                             signup_page(ctx.csrf_token, next_path))
        values = {key: ctx.form.get(key, "") for key in
                  ("name", "display_name", "email")}

        def again(error, status=400):
            return self.page(ctx, viewer, "Sign up", signup_page(
                ctx.csrf_token, next_path, values, error), status=status)
        password = ctx.form.get("password") or ""
        try:
            email = valid_email(values["email"])
            check_password_rules(password)
        except InvalidValueError as error:
            field = "email" if error.field == "email" else "password"
            return again(FormError(str(error), field))
        refused = self._mail_wait(ctx, email)
        if refused is not None:
            return refused
        try:
            password_hash = await self.passwords.hash(password)
        except Busy:
            return again(FormError("Too many people at once: try again in "
                                   "a few seconds."), 503)
        try:
            _, email = await self.change(
                ctx, lambda store, who: sign_up(
                    store, values, password_hash, self.site_url(ctx),
                    self.settings.mail, next_path))
        except MirrorKeeperError as error:
            return again(FormError.from_error(error))
        self.deliver_mail()
        return self.page(ctx, viewer, "Check your mail",
                         check_your_mail_page(email))

    async def verify(self, ctx, token):
        next_path = local_path(ctx.query.get("next"))
        if ctx.method == "POST":
            viewer, name = await self.change(ctx, lambda store, who: verify(
                store, token))
            if name is not None:
                return redirect(_with_next("/+login?verified=1", next_path))
        else:
            viewer, good = await self.as_who(
                ctx, lambda store, who: token_is_good(
                    store, token, accounttoken.VERIFY))
            if good:
                return self.page(ctx, viewer, "Confirm your address",
                                 verify_page(ctx.csrf_token, token,
                                             next_path))
        return self.page(ctx, viewer, "This link does not work",
                         expired_page("Sign up again with the same address "
                                      "to have a new one sent."),
                         status=400)

    async def reset_request(self, ctx):
        viewer, _ = await self.as_who(ctx, lambda store, who: None)
        if ctx.method != "POST":
            return self.page(ctx, viewer, "Forgot your password?",
                             reset_request_page(ctx.csrf_token))
        try:
            email = valid_email(ctx.form.get("email"))
        except InvalidValueError as error:
            return self.page(ctx, viewer, "Forgot your password?",
                             reset_request_page(ctx.csrf_token, error),
                             status=400)
        refused = self._mail_wait(ctx, email)
        if refused is not None:
            return refused
        await self.change(ctx, lambda store, who: ask_reset(
            store, email, self.site_url(ctx), self.settings.mail))
        self.deliver_mail()
        return self.page(ctx, viewer, "Check your mail",
                         reset_request_page(ctx.csrf_token, sent_to=email))

    async def reset(self, ctx, token):
        viewer, good = await self.as_who(
            ctx, lambda store, who: token_is_good(
                store, token, accounttoken.RESET))
        if good and ctx.method == "POST":
            password = ctx.form.get("password") or ""
            try:
                password_hash = await self.passwords.hash(password)
            except InvalidValueError as error:
                return self.page(ctx, viewer, "Set a new password",
                                 reset_page(ctx.csrf_token, token, error),
                                 status=400)
            except Busy:
                return self.page(ctx, viewer, "Set a new password",
                                 reset_page(ctx.csrf_token, token,
                                            "Too many people at once: try "
                                            "again in a few seconds."),
                                 status=503)
            _, name = await self.change(ctx, lambda store, who: reset(
                store, token, password_hash))
            if name is not None:
                ctx.set_session(self.signer.new())
                return redirect("/+login?reset=1")
        elif good:
            return self.page(ctx, viewer, "Set a new password",
                             reset_page(ctx.csrf_token, token))
        return self.page(ctx, viewer, "This link does not work",
                         expired_page(tags.a("Ask for a new one",
                                             href="/+reset")), status=400)
