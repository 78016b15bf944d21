"""Sites: the organisations that run mirrors (schema patch 0022).

A site, as MirrorManager has it, is an organisation with a name and a
web address; it runs one or more mirrors (mirror1.example.org,
mirror2.example.org), and has admins, people or teams, many to many.
Every admin of a site may change its mirrors, as their owner may.  A
mirror registered without a site gets one of its own, named after it,
whose admin is its owner.
"""

from urllib.parse import urlsplit

from storm.databases.postgres import Postgres
from storm.locals import DateTime, Int, Reference, Storm, Unicode
from zope.interface import implementer

from mirrorkeeper.errors import (
    DuplicateError, InvalidValueError, NotFoundError)
from mirrorkeeper.interfaces.site import ISite, ISiteSet
from mirrorkeeper.model.base import StoreBoundSet, store_of
from mirrorkeeper.timeutil import utcnow
from mirrorkeeper.validators import MAX_URL_LENGTH, valid_name, valid_text


class SiteAdmin(Storm):
    __storm_table__ = "site_admin"

    id = Int(primary=True)
    site_id = Int(name="site", allow_none=False)
    person_id = Int(name="person", allow_none=False)
    person = Reference(person_id, "Person.id")

    def __init__(self, site, person):
        self.site_id = site.id
        self.person_id = person.id


def valid_web_url(url, field="web_url"):
    """`url`, an http or https address of a web page, or None for none;
    InvalidValueError otherwise."""
    url = valid_text(url, field, limit=MAX_URL_LENGTH)
    if url is None:
        return None
    try:
        parts = urlsplit(url)
    except ValueError:
        parts = None
    if parts is None or parts.scheme not in ("http", "https") or \
            not parts.hostname or " " in url:
        raise InvalidValueError(
            "invalid web address %r: give an http:// or https:// URL"
            % (url[:100],), field)
    return url


@implementer(ISite)
class Site(Storm):
    __storm_table__ = "site"

    id = Int(primary=True)
    name = Unicode(allow_none=False)
    display_name = Unicode(allow_none=False)
    web_url = Unicode()
    date_created = DateTime(allow_none=False)

    def __init__(self, name, display_name, web_url=None):
        self.name = name
        self.display_name = display_name
        self.web_url = web_url
        self.date_created = utcnow()

    def __repr__(self):
        return "<Site %s>" % (self.name,)

    @property
    def admins(self):
        """The site's admins, people and teams, by name."""
        from mirrorkeeper.model.person import Person
        return list(store_of(self).find(
            Person, SiteAdmin.site_id == self.id,
            SiteAdmin.person_id == Person.id).order_by(Person.name))

    @property
    def mirrors(self):
        """The mirrors the site runs, by name."""
        from mirrorkeeper.model.distributionmirror import DistributionMirror
        return list(store_of(self).find(
            DistributionMirror,
            DistributionMirror.site_id == self.id).order_by(
                DistributionMirror.name))

    def addAdmin(self, person):
        """Make `person` (or a team) an admin of the site (idempotent)."""
        store = store_of(self)
        if store.find(SiteAdmin, site_id=self.id,
                      person_id=person.id).is_empty():
            store.add(SiteAdmin(self, person))
            store.flush()

    def removeAdmin(self, person):
        """`person` (or a team) is no longer an admin of the site.
        NotFoundError if they were not one; InvalidValueError if they are
        its last: a site keeps someone to answer for its mirrors."""
        store = store_of(self)
        if isinstance(store.get_database(), Postgres):
            # Two admins removing each other at once would each count the
            # other still there, and (repeatable read) leave no admin.
            # With the site's admin rows locked first, the second waits
            # for the first and then loses to it, a serialization failure
            # that committed() runs again: it finds the last admin.
            # SQLite has one writer at a time already.
            store.execute("SELECT id FROM site_admin WHERE site = ? "
                          "FOR UPDATE", (self.id,))
        found = store.find(SiteAdmin, site_id=self.id, person_id=person.id)
        if found.is_empty():
            raise NotFoundError("%s is not an admin of the site %s"
                                % (person.name, self.name))
        if store.find(SiteAdmin, site_id=self.id).count() == 1:
            raise InvalidValueError(
                "%s is the last admin of the site %s: add another first"
                % (person.name, self.name))
        found.remove()
        store.flush()

    def rename(self, name):
        """Give the site the short name `name`; DuplicateError if another
        site has it, InvalidValueError for a bad name."""
        name = valid_name(name)
        other = SiteSet(store_of(self)).getByName(name)
        if other is not None and other is not self:
            raise DuplicateError("a site called %s already exists"
                                 % (name,), "name")
        self.name = name

    def isAdmin(self, person):
        """Whether `person` is one of the site's admins, or a member of a
        team that is."""
        if person is None:
            return False
        return any(person.inTeam(admin) for admin in self.admins)


@implementer(ISiteSet)
class SiteSet(StoreBoundSet):

    def new(self, name, display_name, admins=(), web_url=None):
        """A new site; DuplicateError if the name is taken."""
        name = valid_name(name)
        display_name = valid_text(display_name, "display_name")
        if display_name is None:
            raise InvalidValueError("give the site a display name",
                                    "display_name")
        web_url = valid_web_url(web_url)
        if self.getByName(name) is not None:
            raise DuplicateError("a site called %s already exists"
                                 % (name,), "name")
        site = Site(name, display_name, web_url)
        self.store.add(site)
        self.store.flush()
        for admin in admins:
            site.addAdmin(admin)
        return site

    def newForMirror(self, name, display_name, owner):
        """A site of its own for a mirror called `name` that has none: the
        mirror's name if it is free (as patch 0022 named them), else that
        name with the first free number after it."""
        candidate, number = name, 1
        while self.getByName(candidate) is not None:
            number += 1
            suffix = "-%d" % (number,)
            candidate = name[:64 - len(suffix)] + suffix
        return self.new(candidate, display_name or name, [owner])

    def __iter__(self):
        """Every site, by name."""
        return iter(self.store.find(Site).order_by(Site.name))

    def getByName(self, name):
        return self.store.find(Site, Site.name == name).one()

    def __getitem__(self, name):
        site = self.getByName(name)
        if site is None:
            raise NotFoundError("no site is called %r" % (name,))
        return site

    def administeredBy(self, person):
        """The sites `person` is an admin of, directly or through a team
        they are a member of, by name."""
        from mirrorkeeper.model.person import TeamMembership
        teams = [person.id] + list(self.store.find(
            TeamMembership.team_id, TeamMembership.member_id == person.id))
        return list(self.store.find(
            Site, SiteAdmin.site_id == Site.id,
            SiteAdmin.person_id.is_in(teams)).config(
                distinct=True).order_by(Site.name))
