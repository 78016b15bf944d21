"""Who may do what: the web's authorisation rules, in one place.

The rules, for a mirror of a distribution, and for the site (the
organisation, model.site) that runs it:

=====================  ======  ===========  ============  ==========
action                 owner   other person mirror admin  site admin
=====================  ======  ===========  ============  ==========
register a mirror      yes     yes          yes           yes
edit its details       yes     no           yes           yes
review it              no      no           yes           yes
pause or resume it     yes     no           no            yes
resubmit it (BROKEN)   yes     no           no            yes
delete it (unprobed)   yes     no           yes           yes
read its probe logs    yes     no           yes           yes
manage its site        yes     no           no            yes
(add or remove admins,
web address)
=====================  ======  ===========  ============  ==========

"Owner" is the mirror's owner and every admin of its site (people, or
the members of a team that is one), who run the mirror together.
Registering a mirror takes an account whose address is verified (see
web.accounts: an unverified one cannot log in).  Anonymous visitors may
only read the public pages.  A distribution's mirror admins are the
members of its mirror_admin team and its owner (as `mirrorkeeper mirror
review` has it).  Site admins are the members of the team named by [web]
admins_team (see `mirrorkeeper admin create`): "site" there is this web
site, not an organisation's.

A Who is made inside a database thread, from the session's person id;
`viewer` is the plain summary that may leave the thread for templates.
"""

import attrs

from mirrorkeeper.enums import MirrorStatus
from mirrorkeeper.model.person import Person
from mirrorkeeper.model.websession import find_session
from mirrorkeeper.web.passwords import password_fingerprint


class Forbidden(Exception):
    """The person making the request may not do this."""


class NotLoggedIn(Forbidden):
    """Only a logged-in person may do this."""


@attrs.frozen
class Viewer:
    """Who is looking, for the page chrome: plain values."""

    name: str | None = None
    display_name: str | None = None
    site_admin: bool = False

    @property
    def logged_in(self):
        return self.name is not None


class Who:
    """The person behind a request (or nobody), inside a database
    thread."""

    def __init__(self, store, person, admins_team_name):
        self.store = store
        self.person = person
        self.site_admin = False
        if person is not None:
            team = store.find(Person, Person.name == admins_team_name,
                              Person.is_team == True).one()  # noqa: E712
            self.site_admin = person.inTeam(team)

    @classmethod
    def identify(cls, store, session, admins_team_name):
        """The Who of a Session: nobody unless its person exists, the
        password it was made with is still theirs, and its row on the
        server (model.websession) has not been ended."""
        person = None
        if session is not None and session.person_id is not None:
            person = store.get(Person, session.person_id)
            if person is not None and (
                    person.is_team or person.password_hash is None or
                    password_fingerprint(person.password_hash)
                    != session.key or
                    find_session(store, person.id, session.token) is None):
                person = None
        return cls(store, person, admins_team_name)

    @property
    def viewer(self):
        if self.person is None:
            return Viewer()
        return Viewer(self.person.name, self.person.display_name,
                      self.site_admin)

    # The rules.

    def is_owner(self, mirror):
        """Whether the person runs `mirror`: they own it, or are an admin
        of its site."""
        if self.person is None:
            return False
        return mirror.owner_id == self.person.id or \
            self.is_site_admin_of(mirror.site)

    def is_site_admin_of(self, site):
        """Whether the person is an admin of `site` (an organisation)."""
        return site is not None and site.isAdmin(self.person)

    def may_manage_site(self, site):
        return self.is_site_admin_of(site) or self.site_admin

    def is_mirror_admin(self, distribution):
        if self.person is None:
            return False
        return self.site_admin or \
            self.person.inTeam(distribution.mirror_admin) or \
            self.person.inTeam(distribution.owner)

    def may_register(self, distribution):
        return self.person is not None and distribution.supports_mirrors

    def may_edit(self, mirror):
        return self.is_owner(mirror) or \
            self.is_mirror_admin(mirror.distribution)

    def may_review(self, mirror):
        return self.is_mirror_admin(mirror.distribution)

    def may_pause(self, mirror):
        return self.is_owner(mirror) or self.site_admin

    def may_resubmit(self, mirror):
        return (self.is_owner(mirror) or self.site_admin) and \
            mirror.status is MirrorStatus.BROKEN

    def may_delete(self, mirror):
        return self.may_edit(mirror) and mirror.last_probe_record is None

    def may_see_logs(self, mirror):
        return self.may_edit(mirror)

    def may_see_admin_lists(self, distribution):
        return self.is_mirror_admin(distribution)

    def require(self, allowed, what):
        """Forbidden (NotLoggedIn for nobody) unless `allowed`."""
        if allowed:
            return
        if self.person is None:
            raise NotLoggedIn("log in to %s" % (what,))
        raise Forbidden("you may not %s" % (what,))
