"""The authorisation table: every action that changes something, tried by
an anonymous visitor, the mirror's owner, another owner, a mirror admin
and a site admin.  What is allowed works; the rest is refused and leaves
the database as it was.  On both backends, over HTTP in-process."""

import pytest

from mirrorkeeper.enums import MirrorStatus
from mirrorkeeper.model.distributionmirror import DistributionMirrorSet
from tests.web_harness import InProcessClient, World

ROLES = {"anonymous": None, "owner": "olive", "other owner": "oscar",
         "mirror admin": "adam", "site admin": "sita"}

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
        {"owner", "other owner", "mirror admin", "site admin"}),
    "edit": (
        setup_plain,
        lambda client, name: client.post(mirror_path(name, "edit"), dict(
            MIRROR_FORM, http_base_url="http://%s.example.org/ubuntu/"
            % name)),
        lambda store, name, before: find(store, name).display_name ==
        "Edited",
        {"owner", "mirror admin", "site admin"}),
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
        {"owner", "site admin"}),
    "resume": (
        setup_paused,
        lambda client, name: client.post(mirror_path(name, "pause"),
                                         {"paused": "0"}),
        lambda store, name, before: not find(store, name).owner_paused,
        {"owner", "site admin"}),
    "resubmit a broken mirror": (
        setup_broken,
        lambda client, name: client.post(mirror_path(name, "resubmit")),
        lambda store, name, before: find(store, name).status is
        MirrorStatus.PENDING_REVIEW,
        {"owner", "site admin"}),
    "resubmit a pending mirror": (
        setup_plain,
        lambda client, name: client.post(mirror_path(name, "resubmit")),
        lambda store, name, before: False,
        set()),
    "delete a mirror never probed": (
        setup_plain,
        lambda client, name: client.post(mirror_path(name, "delete")),
        lambda store, name, before: find(store, name) is None,
        {"owner", "mirror admin", "site admin"}),
    "delete a probed mirror": (
        setup_probed,
        lambda client, name: client.post(mirror_path(name, "delete")),
        lambda store, name, before: find(store, name) is None,
        set()),
}


@pytest.mark.parametrize("action", list(ACTIONS))
def test_authorisation_table(store, action):
    """Each role may do exactly what the table allows; a refused request
    is answered 403 and changes nothing in the database."""
    world = World(store)
    setup, perform, took, allowed = ACTIONS[action]
    outcomes = {}
    for number, (role, login) in enumerate(ROLES.items()):
        client = InProcessClient(store)
        if login is not None:
            client.login(login)
        name = "auth-%d" % number
        if setup is not None:
            setup(world, name)
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
    world = World(store)
    world.mirror("forms")
    expected = {"edit": {"owner", "mirror admin", "site admin"},
                "review": {"mirror admin", "site admin"},
                "delete": {"owner", "mirror admin", "site admin"}}
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
