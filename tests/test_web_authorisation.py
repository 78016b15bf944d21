"""The authorisation table: every action that changes something, tried by
an anonymous visitor, the mirror's owner, an admin of the mirror's site
(the organisation that runs it, model.site), another owner, a mirror
admin and a site admin.  What is allowed works; the rest is refused and leaves
the database as it was.  On both backends, over HTTP in-process."""

import pytest

from mirrorkeeper.enums import MirrorStatus
from mirrorkeeper.model.distributionmirror import DistributionMirrorSet
from mirrorkeeper.model.person import PersonSet
from mirrorkeeper.model.site import SiteSet
from tests.web_harness import PASSWORD_HASH, InProcessClient, World

ROLES = {"anonymous": None, "owner": "olive", "its site's admin": "hana",
         "other owner": "oscar", "mirror admin": "adam",
         "site admin": "sita"}
# Those who run the mirror: its owner and its site's admins.
RUN_IT = {"owner", "its site's admin"}

MIRROR_FORM = {"display_name": "Edited", "country": "BR", "speed": "S1G",
               "pulse_type": "PULL"}


def columns(mirror):
    """What any action could change, as plain values."""
    if mirror is None:
        return None
    return (mirror.status, mirror.whiteboard, mirror.reviewer_id,
            mirror.date_reviewed, mirror.display_name, mirror.owner_paused,
            mirror.enabled, mirror.http_base_url, mirror.owner_id)


def find(store, name):
    return DistributionMirrorSet(store).getByName(name)


# Each action: (how to set its mirror up, the request, whether it took).
def setup_plain(world, name):
    world.mirror(name)


def setup_paused(world, name):
    world.mirror(name, owner_paused=True)


def setup_broken(world, name):
    world.mirror(name, status=MirrorStatus.BROKEN)


def setup_probed(world, name):
    mirror = world.mirror(name)
    mirror.newProbeRecord("probed once\n")
    world.store.commit()


def mirror_path(name, action):
    return "/ubuntu/+mirror/%s/+%s" % (name, action)


ACTIONS = {
    "register": (
        None,
        lambda client, name: client.post("/ubuntu/+newmirror", dict(
            MIRROR_FORM, name=name, content="ARCHIVE",
            http_base_url="http://%s.example.net/" % name)),
        lambda store, name, before: find(store, name) is not None,
        RUN_IT | {"other owner", "mirror admin", "site admin"}),
    "edit": (
        setup_plain,
        lambda client, name: client.post(mirror_path(name, "edit"), dict(
            MIRROR_FORM, http_base_url="http://%s.example.org/ubuntu/"
            % name)),
        lambda store, name, before: find(store, name).display_name ==
        "Edited",
        RUN_IT | {"mirror admin", "site admin"}),
    "review": (
        setup_plain,
        lambda client, name: client.post(mirror_path(name, "review"), {
            "status": "OFFICIAL", "whiteboard": "Looks good."}),
        lambda store, name, before: find(store, name).status is
        MirrorStatus.OFFICIAL,
        {"mirror admin", "site admin"}),
    "pause": (
        setup_plain,
        lambda client, name: client.post(mirror_path(name, "pause"),
                                         {"paused": "1"}),
        lambda store, name, before: find(store, name).owner_paused,
        RUN_IT | {"site admin"}),
    "resume": (
        setup_paused,
        lambda client, name: client.post(mirror_path(name, "pause"),
                                         {"paused": "0"}),
        lambda store, name, before: not find(store, name).owner_paused,
        RUN_IT | {"site admin"}),
    "resubmit a broken mirror": (
        setup_broken,
        lambda client, name: client.post(mirror_path(name, "resubmit")),
        lambda store, name, before: find(store, name).status is
        MirrorStatus.PENDING_REVIEW,
        RUN_IT | {"site admin"}),
    "resubmit a pending mirror": (
        setup_plain,
        lambda client, name: client.post(mirror_path(name, "resubmit")),
        lambda store, name, before: False,
        set()),
    "delete a mirror never probed": (
        setup_plain,
        lambda client, name: client.post(mirror_path(name, "delete")),
        lambda store, name, before: find(store, name) is None,
        RUN_IT | {"mirror admin", "site admin"}),
    "delete a probed mirror": (
        setup_probed,
        lambda client, name: client.post(mirror_path(name, "delete")),
        lambda store, name, before: find(store, name) is None,
        set()),
    "add an admin to its site": (
        setup_plain,
        lambda client, name: client.post("/+site/%s/+admins" % (name,),
                                         {"admin": "oscar"}),
        lambda store, name, before: "oscar" in [
            admin.name for admin in SiteSet(store)[name].admins],
        RUN_IT | {"site admin"}),
    "edit its site": (
        setup_plain,
        lambda client, name: client.post("/+site/%s/+edit" % (name,), {
            "display_name": "Renamed", "web_url": "https://example.edu/"}),
        lambda store, name, before: SiteSet(store)[name].display_name ==
        "Renamed",
        RUN_IT | {"site admin"}),
}


def with_site_admin(world):
    """The world, and hana: an admin of each mirror's site (made from now
    on), who owns none of them."""
    hana = PersonSet(world.store).new("hana", "Hana", "hana@example.org")
    hana.password_hash = PASSWORD_HASH
    world.people["hana"] = hana
    world.store.commit()
    return world


@pytest.mark.parametrize("action", list(ACTIONS))
def test_authorisation_table(store, action):
    """Each role may do exactly what the table allows; a refused request
    is answered 403 and changes nothing in the database."""
    world = with_site_admin(World(store))
    setup, perform, took, allowed = ACTIONS[action]
    outcomes = {}
    for number, (role, login) in enumerate(ROLES.items()):
        client = InProcessClient(store)
        if login is not None:
            client.login(login)
        name = "auth-%d" % number
        if setup is not None:
            setup(world, name)
            SiteSet(store)[name].addAdmin(world.people["hana"])
            store.commit()
        store.rollback()
        before = columns(find(store, name))
        response = perform(client, name)
        store.rollback()
        if took(store, name, before):
            outcomes[role] = "done (%d)" % response.status
            assert response.status == 303, (role, response.text)
        else:
            outcomes[role] = "refused (%d)" % response.status
            assert columns(find(store, name)) == before, role
            assert response.status == 403, (role, response.status)
    assert {role for role, outcome in outcomes.items()
            if outcome.startswith("done")} == allowed, outcomes


def test_form_pages_follow_the_same_rules(store):
    """The edit, review and delete forms are shown only to those who may
    use them."""
    world = with_site_admin(World(store))
    world.mirror("forms")
    SiteSet(store)["forms"].addAdmin(world.people["hana"])
    store.commit()
    expected = {"edit": RUN_IT | {"mirror admin", "site admin"},
                "review": {"mirror admin", "site admin"},
                "delete": RUN_IT | {"mirror admin", "site admin"}}
    for role, login in ROLES.items():
        client = InProcessClient(store)
        if login is not None:
            client.login(login)
        for form, allowed in expected.items():
            response = client.get(mirror_path("forms", form))
            if role in allowed:
                assert response.status == 200, (role, form)
                assert response.csrf_token() == client.csrf_token()
            elif login is None:
                assert response.status == 303, (role, form)
            else:
                assert response.status == 403, (role, form)
