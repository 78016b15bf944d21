"""People, teams and their email addresses."""

from storm.locals import Bool, DateTime, Int, Reference, Storm, Unicode
from zope.interface import implementer

from mirrorkeeper.errors import DuplicateError, InvalidValueError, \
    NotFoundError
from mirrorkeeper.interfaces.person import IPerson, IPersonSet
from mirrorkeeper.model.base import StoreBoundSet, store_of
from mirrorkeeper.timeutil import utcnow
from mirrorkeeper.validators import valid_email, valid_name, valid_text


class EmailAddress(Storm):
    __storm_table__ = "email_address"

    id = Int(primary=True)
    person_id = Int(name="person", allow_none=False)
    person = Reference(person_id, "Person.id")
    email = Unicode(allow_none=False)
    is_preferred = Bool(allow_none=False)

    def __init__(self, person, email, is_preferred=False):
        self.person = person
        self.email = email
        self.is_preferred = is_preferred


class TeamMembership(Storm):
    __storm_table__ = "team_membership"

    id = Int(primary=True)
    team_id = Int(name="team", allow_none=False)
    member_id = Int(name="member", allow_none=False)

    def __init__(self, team, member):
        self.team_id = team.id
        self.member_id = member.id


@implementer(IPerson)
class Person(Storm):
    __storm_table__ = "person"

    id = Int(primary=True)
    name = Unicode(allow_none=False)
    display_name = Unicode(allow_none=False)
    is_team = Bool(allow_none=False)
    password_hash = Unicode()
    date_created = DateTime(allow_none=False)
    # When they showed the address is theirs (schema patch 0023); None for
    # an account signed up for on the web and not verified yet.  Whoever
    # makes a person otherwise (an admin, on the command line) vouches.
    date_verified = DateTime()

    def __init__(self, name, display_name, is_team=False, verified=True):
        self.name = name
        self.display_name = display_name
        self.is_team = is_team
        self.date_created = utcnow()
        self.date_verified = self.date_created if verified else None

    @property
    def is_verified(self):
        return self.date_verified is not None

    def __repr__(self):
        return "<Person %s>" % (self.name,)

    @property
    def _emails(self):
        return store_of(self).find(
            EmailAddress, EmailAddress.person_id == self.id).order_by(
                EmailAddress.id)

    @property
    def preferred_email(self):
        for address in self._emails:
            if address.is_preferred:
                return address.email
        return None

    @property
    def email_addresses(self):
        return [address.email for address in self._emails]

    @property
    def members(self):
        return list(store_of(self).find(
            Person, TeamMembership.team_id == self.id,
            TeamMembership.member_id == Person.id).order_by(Person.name))

    def addEmail(self, email, preferred=False):
        email = valid_email(email)
        store = store_of(self)
        if store.find(EmailAddress, EmailAddress.email == email).any():
            raise DuplicateError("the address %s is already registered"
                                 % (email,))
        if self.preferred_email is None:
            preferred = True
        elif preferred:
            for address in self._emails:
                address.is_preferred = False
        store.add(EmailAddress(self, email, preferred))

    def addMember(self, person):
        if not self.is_team:
            raise InvalidValueError("%s is not a team" % (self.name,))
        store = store_of(self)
        if not store.find(TeamMembership, team_id=self.id,
                          member_id=person.id).any():
            store.add(TeamMembership(self, person))

    def inTeam(self, team):
        if team is None:
            return False
        if team.id == self.id:
            return True
        return not store_of(self).find(
            TeamMembership, team_id=team.id,
            member_id=self.id).is_empty()

    def recipients(self, _visited=None):
        if self.preferred_email is not None:
            return [(self.display_name, self.preferred_email)]
        # Teams may be members of each other: visit each one once.
        visited = _visited if _visited is not None else set()
        visited.add(self.id)
        recipients = []
        for member in self.members:
            if member.id in visited:
                continue
            for recipient in member.recipients(visited):
                if recipient not in recipients:
                    recipients.append(recipient)
        return recipients


@implementer(IPersonSet)
class PersonSet(StoreBoundSet):

    def new(self, name, display_name, email=None, is_team=False,
            verified=True):
        name = valid_name(name)
        display_name = valid_text(display_name, "display_name")
        if display_name is None:
            raise InvalidValueError("give a display name", "display_name")
        if self.getByName(name) is not None:
            raise DuplicateError("the name %s is already taken" % (name,),
                                 "name")
        # The address is checked before the person is added, so that a bad
        # one registers nobody.
        if email is not None:
            email = valid_email(email)
            if self.getByEmail(email) is not None:
                raise DuplicateError("the address %s is already registered"
                                     % (email,))
        person = Person(name, display_name, is_team=is_team,
                        verified=verified)
        self.store.add(person)
        if email is not None:
            person.addEmail(email)
        return person

    def newTeam(self, name, display_name, members=(), email=None):
        team = self.new(name, display_name, email=email, is_team=True)
        for member in members:
            team.addMember(member)
        return team

    def getByName(self, name):
        return self.store.find(Person, Person.name == name).one()

    def getByEmail(self, email):
        return self.store.find(
            Person, EmailAddress.email == email.strip().lower(),
            EmailAddress.person_id == Person.id).one()

    def __getitem__(self, name):
        person = self.getByName(name)
        if person is None:
            raise NotFoundError("no person or team is called %r" % (name,))
        return person
