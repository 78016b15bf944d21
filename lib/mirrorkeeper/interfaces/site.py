"""Sites: the organisations that run mirrors, and their admins."""

from zope.interface import Attribute, Interface


class ISite(Interface):
    """An organisation that runs one or more mirrors (MirrorManager's
    Site), with admins, people or teams, many to many."""

    id = Attribute("The database id.")
    name = Attribute("The unique short name, e.g. 'example-university'.")
    display_name = Attribute("The name people read.")
    web_url = Attribute("The organisation's web address, or None.")
    date_created = Attribute("When the site was registered (UTC).")
    admins = Attribute("Its admins, people and teams, ordered by name.")
    mirrors = Attribute("The mirrors it runs, ordered by name.")

    def addAdmin(person):
        """Make `person` (or a team) an admin of the site (idempotent)."""

    def removeAdmin(person):
        """`person` (or a team) is no longer an admin of the site:
        NotFoundError if they were not one, InvalidValueError if they are
        its last admin."""

    def rename(name):
        """Give the site another short name: DuplicateError if another
        site has it, InvalidValueError for a bad name."""

    def isAdmin(person):
        """True if `person` is an admin of the site, or a direct member of
        a team that is; False for None."""


class ISiteSet(Interface):
    """The sites mirrorkeeper knows."""

    def new(name, display_name, admins=(), web_url=None):
        """Register a site; DuplicateError if the name is taken,
        InvalidValueError for a bad name or web address."""

    def newForMirror(name, display_name, owner):
        """A site of its own for a new mirror called `name`, whose admin is
        `owner`: named `name`, or `name-N` if that is taken."""

    def __iter__():
        """Every site, ordered by name."""

    def getByName(name):
        """The site called `name`, or None."""

    def __getitem__(name):
        """The site called `name`, or NotFoundError."""

    def administeredBy(person):
        """The sites `person` is an admin of, directly or through a team
        they are a direct member of, ordered by name."""
