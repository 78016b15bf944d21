"""People and teams: registration, email addresses, membership and who
receives the mail sent to them."""

import pytest
from zope.component import getUtility

from mirrorkeeper.errors import (
    DuplicateError, InvalidValueError, NotFoundError)
from mirrorkeeper.interfaces.person import IPersonSet
from mirrorkeeper.model.person import Person
from tests.rollback_stores import (  # noqa: F401
    rollback_sample_store, rollback_store,
    shared_empty_store, shared_sample_store)


@pytest.fixture
def people(rollback_store):
    return getUtility(IPersonSet)


def test_new_person(store):
    """A new person has a validated name, a display name, is no team and
    has the address given, preferred; all survive a commit."""
    people = getUtility(IPersonSet)
    person = people.new("jane", "Jane Doe", " Jane@Example.COM ")
    store.commit()
    found = people["jane"]
    assert found == person
    assert (found.name, found.display_name, found.is_team) == (
        "jane", "Jane Doe", False)
    assert found.preferred_email == "jane@example.com"
    assert found.email_addresses == ["jane@example.com"]
    assert found.members == []
    assert found.date_created is not None


def test_new_person_without_email(people):
    """A person may have no address: no preferred one and no recipients."""
    person = people.new("nomail", "No Mail")
    assert person.preferred_email is None
    assert person.email_addresses == []
    assert person.recipients() == []


def test_duplicate_name(people, rollback_store):
    """A taken name is a DuplicateError naming it, and adds nobody."""
    people.new("jane", "Jane Doe")
    with pytest.raises(DuplicateError, match="the name jane is already taken"):
        people.new("jane", "Another Jane")
    assert rollback_store.find(Person, Person.name == "jane").count() == 1


def test_invalid_name(people, rollback_store):
    """An invalid name is an InvalidValueError naming it, and adds nobody."""
    with pytest.raises(InvalidValueError, match="invalid name 'Jane Doe'"):
        people.new("Jane Doe", "Jane Doe")
    assert rollback_store.find(Person).count() == 0


def test_invalid_email_adds_nobody(people, rollback_store):
    """A person whose address is invalid is not registered."""
    with pytest.raises(InvalidValueError, match="invalid email address"):
        people.new("jane", "Jane Doe", "not-an-address")
    assert people.getByName("jane") is None
    assert rollback_store.find(Person).count() == 0


def test_duplicate_email_adds_nobody(people, rollback_store):
    """An address already registered, in any case, is a DuplicateError,
    and the second person is not registered."""
    people.new("jane", "Jane Doe", "jane@example.com")
    with pytest.raises(DuplicateError,
                       match="jane@example.com is already registered"):
        people.new("janet", "Janet", "JANE@example.com")
    assert people.getByName("janet") is None
    assert rollback_store.find(Person).count() == 1


def test_add_email_first_is_preferred(people):
    """The first address added becomes the preferred one; later ones do not
    unless asked, and the list keeps the order they were added in."""
    person = people.new("jane", "Jane Doe")
    person.addEmail("first@example.com")
    person.addEmail("second@example.com")
    assert person.preferred_email == "first@example.com"
    assert person.email_addresses == ["first@example.com",
                                      "second@example.com"]
    person.addEmail("third@example.com", preferred=True)
    assert person.preferred_email == "third@example.com"
    assert person.email_addresses == ["first@example.com",
                                      "second@example.com",
                                      "third@example.com"]


def test_add_email_twice(people):
    """The same address twice on one person is a DuplicateError too."""
    person = people.new("jane", "Jane Doe", "jane@example.com")
    with pytest.raises(DuplicateError):
        person.addEmail("jane@example.com")
    assert person.email_addresses == ["jane@example.com"]


def test_get_by_email(people):
    """getByEmail finds the owner of an address in any case, else None."""
    jane = people.new("jane", "Jane Doe", "jane@example.com")
    jane.addEmail("doe@example.org")
    assert people.getByEmail("jane@example.com") == jane
    assert people.getByEmail(" DOE@Example.org ") == jane
    assert people.getByEmail("nobody@example.com") is None


def test_getitem_and_get_by_name(people):
    """getByName gives None and indexing a NotFoundError for an unknown
    name."""
    assert people.getByName("nobody") is None
    with pytest.raises(NotFoundError,
                       match="no person or team is called 'nobody'"):
        people["nobody"]


def test_new_team(people):
    """A team is a person with members, listed by name."""
    zoe = people.new("zoe", "Zoe")
    adam = people.new("adam", "Adam")
    team = people.newTeam("admins", "Admins", members=[zoe, adam])
    assert team.is_team
    assert team.members == [adam, zoe]
    assert adam.members == []


def test_add_member_is_idempotent(people):
    """Adding a member twice keeps one membership."""
    adam = people.new("adam", "Adam")
    team = people.newTeam("admins", "Admins")
    team.addMember(adam)
    team.addMember(adam)
    assert team.members == [adam]


def test_add_member_to_a_person(people):
    """Only a team takes members."""
    adam = people.new("adam", "Adam")
    zoe = people.new("zoe", "Zoe")
    with pytest.raises(InvalidValueError, match="adam is not a team"):
        adam.addMember(zoe)


def test_in_team(people):
    """A person is in a team they are a direct member of, and in
    themselves; not in other teams, nor in None."""
    adam = people.new("adam", "Adam")
    zoe = people.new("zoe", "Zoe")
    team = people.newTeam("admins", "Admins", members=[adam])
    assert adam.inTeam(team)
    assert not zoe.inTeam(team)
    assert adam.inTeam(adam)
    assert team.inTeam(team)
    assert not adam.inTeam(None)


def test_recipients_of_a_person(people):
    """Mail to a person goes to their preferred address."""
    jane = people.new("jane", "Jane Doe", "jane@example.com")
    jane.addEmail("other@example.com")
    assert jane.recipients() == [("Jane Doe", "jane@example.com")]


def test_recipients_of_a_team_with_address(people):
    """Mail to a team with its own address goes to that address only."""
    adam = people.new("adam", "Adam", "adam@example.com")
    team = people.newTeam("admins", "Admins", members=[adam],
                          email="admins@example.com")
    assert team.recipients() == [("Admins", "admins@example.com")]


def test_recipients_of_a_team_without_address(people):
    """Mail to a team without an address goes to each member with one, in
    member order, through nested teams, each recipient once."""
    adam = people.new("adam", "Adam", "adam@example.com")
    zoe = people.new("zoe", "Zoe", "zoe@example.com")
    people.new("nomail", "No Mail")
    inner = people.newTeam("inner", "Inner", members=[zoe, adam])
    outer = people.newTeam("outer", "Outer",
                           members=[inner, zoe, people["nomail"]])
    assert outer.recipients() == [("Adam", "adam@example.com"),
                                  ("Zoe", "zoe@example.com")]


def test_recipients_of_teams_in_a_cycle(people):
    """Teams that are members of each other (or of themselves) still give
    each recipient once, instead of recursing forever."""
    adam = people.new("adam", "Adam", "adam@example.com")
    first = people.newTeam("first", "First", members=[adam])
    second = people.newTeam("second", "Second", members=[first])
    first.addMember(second)
    second.addMember(second)
    assert first.recipients() == [("Adam", "adam@example.com")]
    assert second.recipients() == [("Adam", "adam@example.com")]


def test_sample_people(rollback_sample_store):
    """The sample mirror admins team has Mark and Foo Bar, and mail to it
    goes to both."""
    people = getUtility(IPersonSet)
    admins = people["ubuntu-mirror-admins"]
    assert [p.name for p in admins.members] == ["foo.bar", "mark"]
    assert admins.recipients() == [
        ("Foo Bar", "foo.bar@example.com"),
        ("Mark Shuttleworth", "mark@example.com")]
