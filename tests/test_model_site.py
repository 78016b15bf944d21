"""Sites: organisations that run mirrors, with admins many to many; and
the upgrade (schema patch 0022) that gives each mirror registered before
them a site of its own, on both backends."""

import os
import shutil
from datetime import datetime

import pytest
from zope.interface.verify import verifyObject

from mirrorkeeper.database.migrate import SCHEMA_DIR, upgrade
from mirrorkeeper.enums import (
    MirrorContent, MirrorPulseType, MirrorSpeed, MirrorStatus)
from mirrorkeeper.errors import DuplicateError, InvalidValueError
from mirrorkeeper.interfaces.site import ISite, ISiteSet
from mirrorkeeper.model.country import CountrySet
from mirrorkeeper.model.distributionmirror import DistributionMirrorSet
from mirrorkeeper.model.person import PersonSet
from mirrorkeeper.model.site import SiteSet
from mirrorkeeper.sampledata import load_sample_data
from tests.empty_stores import empty_store  # noqa: F401


@pytest.fixture
def people(store):
    load_sample_data(store)
    found = PersonSet(store)
    return {name: found.new(name, name.capitalize())
            for name in ("ana", "ben", "cy")}


def new_mirror(store, name, owner, site=None):
    from mirrorkeeper.model.distribution import DistributionSet
    return DistributionSet(store).getByName("ubuntu").newMirror(
        owner, name, MirrorSpeed.S1G, CountrySet(store)["BR"],
        MirrorContent.ARCHIVE, MirrorPulseType.PULL,
        http_base_url="http://%s.example.org/ubuntu/" % name, site=site)


def test_a_site_and_its_admins(store, people):
    """A site has admins, people or teams (through their members), and
    runs the mirrors registered to it."""
    sites = SiteSet(store)
    verifyObject(ISiteSet, sites)
    team = PersonSet(store).newTeam("uni-team", "Uni team",
                                    members=[people["ben"]])
    site = sites.new("example-uni", "Example University", [people["ana"]],
                     web_url="https://www.example.edu/")
    verifyObject(ISite, site)
    site.addAdmin(team)
    site.addAdmin(team)
    assert [admin.name for admin in site.admins] == ["ana", "uni-team"]
    assert site.isAdmin(people["ana"]) and site.isAdmin(people["ben"])
    assert not site.isAdmin(people["cy"]) and not site.isAdmin(None)
    one = new_mirror(store, "mirror1.example.edu", people["ana"], site)
    two = new_mirror(store, "mirror2.example.edu", people["ben"], site)
    assert site.mirrors == [one, two]
    assert sites.administeredBy(people["ben"]) == [site]
    assert sites.administeredBy(people["cy"]) == []


def test_a_mirror_without_a_site_gets_its_own(store, people):
    """A mirror registered without a site gets one named after it, run
    by its owner; a taken name gets the first free number."""
    SiteSet(store).new("taken.example.org", "Someone else")
    mirror = new_mirror(store, "taken.example.org", people["cy"])
    assert mirror.site.name == "taken.example.org-2"
    assert mirror.site.admins == [people["cy"]]
    other = new_mirror(store, "free.example.org", people["cy"])
    assert other.site.name == "free.example.org"


@pytest.mark.parametrize("name, url, field", [
    ("Bad Name", None, "name"),
    ("ok", "javascript:alert(1)", "web_url"),
    ("ok", "https://", "web_url"),
    ("ok", "https://example.org/\x01", "web_url"),
    ("ok", "https://example.org/" + "a" * 3000, "web_url"),
])
def test_bad_sites_are_refused(store, people, name, url, field):
    """A bad name or web address is refused, naming the field."""
    with pytest.raises(InvalidValueError) as error:
        SiteSet(store).new(name, "A site", web_url=url)
    assert error.value.field == field


def test_site_names_are_unique(store, people):
    SiteSet(store).new("once", "Once")
    with pytest.raises(DuplicateError):
        SiteSet(store).new("once", "Twice")


def test_upgrade_gives_each_mirror_a_site_owned_as_before(empty_store,
                                                           tmp_path):
    """On a database of before sites, with mirrors in it, `db upgrade`
    makes one site per mirror, of its name, whose admin is its owner, who
    may then do all they did; nobody else becomes an admin."""
    store = empty_store
    before = tmp_path / "before-sites"
    before.mkdir()
    for name in os.listdir(SCHEMA_DIR):
        if name.startswith("patch-") and int(name[6:10]) < 22:
            shutil.copy(os.path.join(SCHEMA_DIR, name), before / name)
    upgrade(store, str(before))
    now = datetime(2026, 1, 2, 3, 4, 5)
    for person in ("owner-a", "owner-b", "admins"):
        store.execute("INSERT INTO person (name, display_name, is_team, "
                      "date_created) VALUES (?, ?, ?, ?)",
                      (person, person.title(), person == "admins", now))
    ids = dict(store.execute("SELECT name, id FROM person"))
    store.execute("INSERT INTO distribution (name, display_name, title, "
                  "owner, mirror_admin, date_created) VALUES "
                  "('alpha', 'Alpha', 'Alpha Linux', ?, ?, ?)",
                  (ids["admins"], ids["admins"], now))
    (distribution,) = store.execute(
        "SELECT id FROM distribution").get_one()
    (country,) = store.execute("SELECT MIN(id) FROM country").get_one()
    mirrors = [("a1", "owner-a", "A one"), ("a2", "owner-a", None),
               ("b1", "owner-b", "B one")]
    for name, owner, display_name in mirrors:
        store.execute(
            "INSERT INTO distribution_mirror (distribution, owner, name, "
            "display_name, http_base_url, speed, country, content, "
            "pulse_type, status, date_created) VALUES "
            "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (distribution, ids[owner], name, display_name,
             "http://%s.example.org/" % name, MirrorSpeed.S1G.value,
             country, MirrorContent.ARCHIVE.value,
             MirrorPulseType.PULL.value, MirrorStatus.OFFICIAL.value, now))
    store.commit()

    applied = upgrade(store)
    assert "patch-0022-sites.sql" in applied
    found = DistributionMirrorSet(store)
    for name, owner, display_name in mirrors:
        mirror = found.getByName(name)
        assert mirror.site.name == name
        assert mirror.site.display_name == (display_name or name)
        assert [admin.name for admin in mirror.site.admins] == [owner]
        assert mirror.site.mirrors == [mirror]
    # People made before accounts were (patch 0023) count as verified.
    assert PersonSet(store)["owner-a"].is_verified
    assert sorted(site.name for site in SiteSet(store).administeredBy(
        PersonSet(store)["owner-a"])) == ["a1", "a2"]
    # A mirror registered after the upgrade gets a site of its own too.
    new = found.getByName("a1").distribution.newMirror(
        PersonSet(store)["owner-b"], "a1.new", MirrorSpeed.S1G,
        CountrySet(store)["BR"], MirrorContent.ARCHIVE,
        MirrorPulseType.PULL, http_base_url="http://a1-new.example.org/")
    assert new.site.admins == [PersonSet(store)["owner-b"]]


def test_two_admins_removing_each_other_at_once_leave_one(
        postgres_databases):
    """On PostgreSQL, two admins removing each other in concurrent
    transactions: the second waits for the first, then, run again, finds
    the last admin and is refused.  The site keeps one."""
    import threading
    from mirrorkeeper.database.store import open_store
    from mirrorkeeper.database.transaction import committed
    uri = postgres_databases.new()
    first, watcher = open_store(uri), open_store(uri)
    try:
        people = PersonSet(first)
        SiteSet(first).new("pair", "Pair", [people.new("ana", "Ana"),
                                            people.new("ben", "Ben")])
        first.commit()
        SiteSet(first)["pair"].removeAdmin(people["ben"])
        outcome = []

        def remove_ana():
            second = open_store(uri)
            try:
                committed(second, lambda store: SiteSet(store)[
                    "pair"].removeAdmin(PersonSet(store)["ana"]))
                outcome.append("removed")
            except InvalidValueError as error:
                outcome.append(str(error))
            finally:
                second.close()

        thread = threading.Thread(target=remove_ana)
        thread.start()
        # Until the second waits on a lock (the old code never did: it
        # removed ana at once) or is done.
        while thread.is_alive() and not watcher.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE "
                "wait_event_type = 'Lock' AND datname = current_database()"
        ).get_one()[0]:
            watcher.rollback()
            thread.join(0.01)
        first.commit()
        thread.join()
        assert outcome == ["ana is the last admin of the site pair: add "
                           "another first"]
        assert [a.name for a in SiteSet(first)["pair"].admins] == ["ana"]
    finally:
        first.close()
        watcher.close()
        postgres_databases.drop(uri)
