"""People and teams: mirror owners, reviewers, a distribution's admins."""

from zope.interface import Attribute, Interface


class IPerson(Interface):
    """A person, or a team of people (a team is a person with members)."""

    id = Attribute("The database id.")
    name = Attribute("The unique short name, e.g. 'mark'.")
    display_name = Attribute("The name people read, e.g. 'Mark Shuttleworth'.")
    is_team = Attribute("True for a team.")
    date_created = Attribute("When the person was registered (UTC).")
    date_verified = Attribute(
        "When they showed their address is theirs (UTC), or None for a "
        "web sign-up not yet verified.")
    is_verified = Attribute("Whether date_verified is set.")
    preferred_email = Attribute(
        "The address mail goes to, or None if the person has none.")
    email_addresses = Attribute("All the person's addresses, as strings.")
    members = Attribute(
        "A team's direct members, ordered by name; empty for a person.")

    def addEmail(email, preferred=False):
        """Add an address; the first one added becomes the preferred one.

        Raises DuplicateError if the address belongs to anyone already.
        """

    def addMember(person):
        """Make `person` a member of this team (idempotent)."""

    def inTeam(team):
        """True if this person is `team` or a direct member of it."""

    def recipients():
        """(display name, address) for each one mail to this person or team
        goes to: the person's preferred address, or each member's."""


class IPersonSet(Interface):
    """The people and teams mirrorkeeper knows."""

    def new(name, display_name, email=None, verified=True):
        """Register a person; DuplicateError if the name is taken.  With
        verified=False (a sign-up on the web) the account cannot log in
        until its address is verified."""

    def newTeam(name, display_name, members=(), email=None):
        """Register a team with its first members."""

    def getByName(name):
        """The person or team called `name`, or None."""

    def getByEmail(email):
        """The person with that address, or None."""

    def __getitem__(name):
        """The person called `name`, or NotFoundError."""
