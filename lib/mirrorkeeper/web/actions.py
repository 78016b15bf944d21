"""What people change through the web, each in one database thread and
one transaction, checked against the rules of policy.Who first.

Each function takes the store and the Who of the request, refuses with
policy.Forbidden (changing nothing) what the person may not do, raises
forms.FormError for values that cannot be taken, and returns plain
values.
"""

import attrs

from mirrorkeeper.addresspolicy import AddressPolicy
from mirrorkeeper.enums import MirrorStatus
from mirrorkeeper.errors import (
    DuplicateError, InvalidURLError, InvalidValueError)
from mirrorkeeper.model.distributionmirror import (
    URL_SCHEMES, DistributionMirrorSet)
from mirrorkeeper.model import websession
from mirrorkeeper.model.person import Person, PersonSet
from mirrorkeeper.timeutil import utcnow
from mirrorkeeper.web import queries
from mirrorkeeper.web.forms import (
    FormError, read_mirror_form, read_review_form)
from mirrorkeeper.web.passwords import password_fingerprint
from mirrorkeeper.web.site_pages import chosen_site


def _model_error(error):
    """A FormError for what the model refused, on the field it names."""
    return FormError.from_error(error)


def register_mirror(store, who, distribution_name, values, policy=None):
    """Register a mirror owned by the person logged in: PENDING_REVIEW
    and disabled, as every new mirror.  Returns its name.  `policy` (an
    AddressPolicy from [prober] allowed_networks; default: global
    addresses only) says which addresses its URLs may have."""
    distribution = queries.get_distribution(store, distribution_name)
    who.require(who.may_register(distribution),
                "register mirrors of %s" % (distribution.display_name,))
    fields = read_mirror_form(store, values,
                              policy=policy or AddressPolicy())
    fields["site"] = chosen_site(store, who, values.get("site"))
    try:
        mirror = distribution.newMirror(
            who.person, fields.pop("name"), fields.pop("speed"),
            fields.pop("country"), fields.pop("content"),
            fields.pop("pulse_type"), enabled=False,
            **{key: value for key, value in fields.items()
               if value is not None})
    except (DuplicateError, InvalidValueError, InvalidURLError) as error:
        raise _model_error(error) from None
    return mirror.name


def edit_mirror(store, who, distribution_name, mirror_name, values,
                policy=None):
    """Change a mirror's details; `policy` as for register_mirror."""
    distribution = queries.get_distribution(store, distribution_name)
    mirror = queries.get_mirror(store, distribution, mirror_name)
    who.require(who.may_edit(mirror), "edit %s" % (mirror.name,))
    fields = read_mirror_form(store, values, editing=True,
                              policy=policy or AddressPolicy())
    site = chosen_site(store, who, values.get("site"), mirror.site)
    if site is not None:
        mirror.site = site
    mirrors = DistributionMirrorSet(store)
    urls = {scheme: fields.pop("%s_base_url" % scheme)
            for scheme in URL_SCHEMES}
    try:
        # Every URL is checked before any is set: a query made between
        # two changes would flush a mirror with, for a moment, no URL.
        for scheme, url in urls.items():
            other = mirrors.getByURL(url) if url else None
            if other is not None and other.id != mirror.id:
                raise DuplicateError(
                    "the URL %s is already registered for the mirror %s"
                    % (url, other.name), "%s_base_url" % (scheme,))
        for scheme, url in urls.items():
            mirror.setURL(scheme, url)
    except (DuplicateError, InvalidValueError, InvalidURLError) as error:
        raise _model_error(error) from None
    for field, value in fields.items():
        setattr(mirror, field, value)
    return mirror.name


def review_mirror(store, who, distribution_name, mirror_name, values):
    """Record a mirror admin's review: status, whiteboard, reviewer and
    date."""
    distribution = queries.get_distribution(store, distribution_name)
    mirror = queries.get_mirror(store, distribution, mirror_name)
    who.require(who.may_review(mirror), "review %s" % (mirror.name,))
    status, whiteboard = read_review_form(values)
    mirror.status = status
    mirror.whiteboard = whiteboard
    mirror.reviewer = who.person
    mirror.date_reviewed = utcnow()
    return mirror.name


def set_paused(store, who, distribution_name, mirror_name, paused):
    """Pause a mirror (neither probed nor listed) or resume it."""
    distribution = queries.get_distribution(store, distribution_name)
    mirror = queries.get_mirror(store, distribution, mirror_name)
    who.require(who.may_pause(mirror), "pause or resume %s"
                % (mirror.name,))
    mirror.owner_paused = paused
    return mirror.name


def resubmit_mirror(store, who, distribution_name, mirror_name):
    """Send a BROKEN mirror back for review."""
    distribution = queries.get_distribution(store, distribution_name)
    mirror = queries.get_mirror(store, distribution, mirror_name)
    who.require(who.may_resubmit(mirror), "resubmit %s" % (mirror.name,))
    mirror.status = MirrorStatus.PENDING_REVIEW
    return mirror.name


def delete_mirror(store, who, distribution_name, mirror_name):
    """Delete a mirror that was never probed (its registration was a
    mistake); a probed mirror has a history and stays."""
    distribution = queries.get_distribution(store, distribution_name)
    mirror = queries.get_mirror(store, distribution, mirror_name)
    who.require(who.may_delete(mirror), "delete %s%s" % (
        mirror.name, ": it has been probed"
        if mirror.last_probe_record is not None else ""))
    store.remove(mirror)
    store.flush()
    return mirror_name


def find_login(store, login):
    """(person id, stored password hash, whether their address is
    verified) of the person whose name or address is `login`; (None,
    None, False) for nobody, a team, or a person with no password.  The
    hash is checked by the caller, off this thread (see
    throttle.PasswordPool), and checked as long for nobody as for
    somebody."""
    people = PersonSet(store)
    login = (login or "").strip()
    person = people.getByName(login)
    if person is None and "@" in login:
        person = people.getByEmail(login)
    if person is None or person.is_team or person.password_hash is None:
        return None, None, False
    return person.id, person.password_hash, person.is_verified


def start_session(store, person_id, stored, address, user_agent):
    """A session row for `person_id`, if their password is still `stored`
    (it may have changed while it was being checked): (its token, the
    password fingerprint), else None."""
    person = store.get(Person, person_id)
    if person is None or person.password_hash != stored:
        return None
    return (websession.start_session(store, person, address, user_agent),
            password_fingerprint(stored))


def end_session(store, token):
    """Log a session out on the server."""
    websession.end_session(store, token)


def list_sessions(store, who, token):
    """[SessionRow] of the person logged in, the newest used first."""
    who.require(who.person is not None, "see your sessions")
    return [SessionRow(row.date_created, row.date_last_used, row.address,
                       row.user_agent, websession.is_current(row, token))
            for row in websession.sessions_of(store, who.person.id)]


def end_sessions(store, who, token, keep_this_one):
    """End the logged-in person's sessions (but `token`'s, if
    `keep_this_one`); how many were ended."""
    who.require(who.person is not None, "end your sessions")
    return websession.end_sessions(store, who.person.id,
                                   token if keep_this_one else None)


@attrs.frozen
class SessionRow:
    """One session, as the sessions page shows it."""

    created: object
    last_used: object
    address: str | None
    user_agent: str | None
    current: bool
