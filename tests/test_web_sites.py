"""A site's page and "My mirrors": the mirrors a person runs, with their
status, freshness and last probe, why a disabled one is disabled and
what to do next; the mirror's own page says the same.  On both backends,
in-process."""

from mirrorkeeper.enums import MirrorFreshness, MirrorStatus
from mirrorkeeper.model.site import SiteSet
from tests.probe_findings import findings, probed
from tests.web_harness import InProcessClient
from tests.web_harness import client, world  # noqa: F401

UNREACHABLE = ("could not be reached in 2 consecutive probe runs; in the "
               "last one, every request failed: the host name could not "
               "be resolved (3 requests)")


def a_site(world):
    """Olive's site runs two mirrors; oscar's mirror's site has her as an
    admin too."""
    store = world.store
    sites = SiteSet(store)
    site = sites.new("olive-org", "Olive's University",
                     [world.people["olive"]],
                     web_url="https://www.example.edu/")
    world.mirror("uni-one", site=site, status=MirrorStatus.OFFICIAL,
                 enabled=True)
    down = world.mirror("uni-two", site=site, status=MirrorStatus.OFFICIAL)
    down.failed_runs = 2
    probed(store, down, findings(unreachable=True,
                                 outcomes={"dns-error": 3}))
    sites["oscars-mirror"].addAdmin(world.people["olive"])
    store.commit()
    return site


def test_my_mirrors_lists_what_a_person_runs(world, client):
    """Olive's mirrors page lists the mirrors she owns and the one she
    helps run through its site, with each one's status, freshness and
    last probe; a disabled one says why and what to do."""
    a_site(world)
    world.mirror("paused-one", owner_paused=True)
    world.mirror("broken-one", status=MirrorStatus.BROKEN)
    assert client.get("/+mymirrors").status == 303
    client.login("olive")
    page = client.get("/+mymirrors")
    assert page.status == 200
    text = page.text
    for name in ("uni-one", "uni-two", "oscars-mirror", "paused-one",
                 "broken-one"):
        assert 'id="mirror-%s"' % (name,) in text, name
    assert "Official, disabled, unreachable" in text
    assert "Pending review, paused" in text
    assert "Broken, disabled" in text
    assert UNREACHABLE in text
    assert "/api/1/mirrors/uni-two/+probe" in text
    assert "resubmit it for review" in text
    assert "resume it on its page" in text
    assert MirrorFreshness.UNKNOWN.title in text
    # Oscar runs only his own.
    client.login("oscar")
    text = client.get("/+mymirrors").text
    assert "oscars-mirror" in text and "uni-one" not in text


def test_a_team_owners_members_see_its_mirrors(world, client):
    """A mirror owned by a team, or whose site a team administers, is on
    each member's page."""
    from mirrorkeeper.model.person import PersonSet
    team = PersonSet(world.store).newTeam(
        "mirror-team", "Mirror team", members=[world.people["oscar"]])
    world.people["mirror-team"] = team
    world.mirror("team-owned", owner="mirror-team")
    site = SiteSet(world.store).new("team-site", "Team site", [team])
    world.mirror("team-site-mirror", site=site)
    client.login("oscar")
    text = client.get("/+mymirrors").text
    assert "team-owned" in text and "team-site-mirror" in text


def test_the_mirror_page_says_the_same(world, client):
    """A disabled mirror's page tells its runners, and the mirror admins,
    why and what to do next; others read neither."""
    a_site(world)
    page = "/ubuntu/+mirror/uni-two"
    text = client.get(page).text
    assert "What to do next" not in text and UNREACHABLE not in text
    assert "Olive&#x27;s University" in text or \
        "Olive's University" in text
    for viewer in ("olive", "adam"):
        client.login(viewer)
        text = client.get(page).text
        assert "What to do next" in text and UNREACHABLE in text
        assert "/api/1/mirrors/uni-two/+probe" in text
    client.login("oscar")
    assert "What to do next" not in client.get(page).text


def test_a_sites_page_and_its_admins(world, client, store):
    """A site's page lists its mirrors and admins; an admin adds another
    by name or address, and who is added may then edit its mirrors."""
    a_site(world)
    text = client.get("/+site/olive-org").text
    assert "uni-one" in text and "uni-two" in text
    assert "Olive (olive)" in text
    assert "https://www.example.edu/" in text
    assert 'name="admin"' not in text
    assert client.get("/+site/no-such-site").status == 404
    client.login("oscar")
    assert client.post("/ubuntu/+mirror/uni-one/+edit", {
        "display_name": "Oscar was here", "country": "BR",
        "speed": "S1G", "pulse_type": "PULL",
        "http_base_url": "http://uni-one.example.org/ubuntu/"}
    ).status == 403
    client.login("olive")
    refused = client.post("/+site/olive-org/+admins",
                          {"admin": "nobody-at-all"})
    assert refused.status == 400 and "nobody is called" in refused.text
    added = client.post("/+site/olive-org/+admins",
                        {"admin": "oscar@example.org"})
    assert added.status == 303
    store.rollback()
    assert [a.name for a in SiteSet(store)["olive-org"].admins] == [
        "olive", "oscar"]
    other = InProcessClient(store)
    other.login("oscar")
    assert other.post("/ubuntu/+mirror/uni-one/+edit", {
        "display_name": "Oscar was here", "country": "BR",
        "speed": "S1G", "pulse_type": "PULL",
        "http_base_url": "http://uni-one.example.org/ubuntu/"}
    ).status == 303
    assert "uni-one" in other.get("/+mymirrors").text


MIRROR_FORM = {"display_name": "Second", "country": "BR", "speed": "S1G",
               "content": "ARCHIVE", "pulse_type": "PULL"}


def test_a_mirror_registered_to_a_site(world, client, store):
    """A mirror registered naming one of its owner's sites joins it; a
    site the person does not run is refused (400, nothing made); none
    named, it gets a site of its own."""
    a_site(world)
    client.login("olive")
    form = dict(MIRROR_FORM, name="uni-three", site="olive-org",
                http_base_url="http://uni-three.example.org/ubuntu/")
    page = client.get("/ubuntu/+newmirror")
    assert 'name="site"' in page.text
    assert client.post("/ubuntu/+newmirror", form).status == 303
    refused = client.post("/ubuntu/+newmirror", dict(
        form, name="uni-four", site="no-such-site",
        http_base_url="http://uni-four.example.org/ubuntu/"))
    assert refused.status == 400 and "you run no site" in refused.text
    client.login("oscar")
    refused = client.post("/ubuntu/+newmirror", dict(
        form, name="uni-five", http_base_url="http://five.example.org/"))
    assert refused.status == 400
    assert client.post("/ubuntu/+newmirror", dict(
        form, name="uni-five", site="",
        http_base_url="http://five.example.org/")).status == 303
    store.rollback()
    sites = SiteSet(store)
    assert [m.name for m in sites["olive-org"].mirrors] == [
        "uni-one", "uni-three", "uni-two"]
    assert sites["uni-five"].admins == [world.people["oscar"]]
    from mirrorkeeper.model.distributionmirror import DistributionMirrorSet
    assert DistributionMirrorSet(store).getByName("uni-four") is None


def test_a_site_is_edited_by_its_admins(world, client, store):
    """A site's admins change its display name and web address; a bad
    address is refused with the field named."""
    a_site(world)
    client.login("olive")
    assert client.get("/+site/olive-org/+edit").status == 200
    bad = client.post("/+site/olive-org/+edit", {
        "display_name": "Renamed", "web_url": "javascript:alert(1)"})
    assert bad.status == 400 and 'aria-invalid="true"' in bad.text
    assert client.post("/+site/olive-org/+edit", {
        "display_name": "Renamed", "web_url": "https://uni.example.edu/"}
    ).status == 303
    store.rollback()
    site = SiteSet(store)["olive-org"]
    assert (site.display_name, site.web_url) == (
        "Renamed", "https://uni.example.edu/")
    client.login("oscar")
    assert client.get("/+site/olive-org/+edit").status == 403


EDIT_FORM = {"display_name": "Moved", "country": "BR", "speed": "S1G",
             "pulse_type": "PULL",
             "http_base_url": "http://lone.example.org/ubuntu/"}


def test_a_mirror_moves_to_another_of_its_owners_sites(world, client,
                                                      store):
    """A mirror migrated to a site of its own joins another site of its
    runner's through its edit form; a site they do not run is refused,
    and a mirror admin editing it leaves its site as it is."""
    a_site(world)
    world.mirror("lone")
    client.login("olive")
    form = client.get("/ubuntu/+mirror/lone/+edit").text
    assert 'name="site"' in form and 'value="lone"' in form
    refused = client.post("/ubuntu/+mirror/lone/+edit",
                          dict(EDIT_FORM, site="oscars-mirror-not"))
    assert refused.status == 400 and "you run no site" in refused.text
    assert client.post("/ubuntu/+mirror/lone/+edit",
                       dict(EDIT_FORM, site="olive-org")).status == 303
    store.rollback()
    assert SiteSet(store)["olive-org"].mirrors[0].name == "lone"
    client.login("adam")
    assert client.post("/ubuntu/+mirror/lone/+edit",
                       dict(EDIT_FORM, site="olive-org")).status == 303
    assert client.post("/ubuntu/+mirror/lone/+edit",
                       dict(EDIT_FORM, site="lone")).status == 400
    store.rollback()
    from mirrorkeeper.model.distributionmirror import DistributionMirrorSet
    assert DistributionMirrorSet(store)["lone"].site.name == "olive-org"


def admins_of(store, name):
    store.rollback()
    return [admin.name for admin in SiteSet(store)[name].admins]


def test_an_admin_is_removed_on_the_sites_page(world, client, store):
    """A site's admins remove one another, teams too, and themselves (and
    still see its page); a site keeps its last admin, said in words; an
    outsider's removal, or one without the form's token, is refused and
    changes nothing."""
    from mirrorkeeper.model.person import PersonSet
    a_site(world)
    remove = "/+site/olive-org/+admins/+remove"
    client.login("olive")
    alone = client.get("/+site/olive-org").text
    assert remove not in alone and "keeps its last admin" in alone
    last = client.post(remove, {"admin": "olive"})
    assert last.status == 400 and 'role="alert"' in last.text
    assert "olive is the last admin of the site olive-org" in last.text
    assert admins_of(store, "olive-org") == ["olive"]
    team = PersonSet(store).newTeam("uni-team", "Uni team")
    SiteSet(store)["olive-org"].addAdmin(team)
    store.commit()
    assert client.post("/+site/olive-org/+admins",
                       {"admin": "oscar"}).status == 303
    page = client.get("/+site/olive-org").text
    assert page.count('action="%s"' % (remove,)) == 3
    assert 'name="admin" value="uni-team"' in page
    # Refused, and nothing changed: an outsider, nobody, a form without
    # the token or with another's, someone who is no admin.
    outsider = client.elsewhere()
    assert outsider.post(remove, {"admin": "oscar"}).status == 403
    outsider.login("adam")
    assert outsider.post(remove, {"admin": "oscar"}).status == 403
    assert client.post(remove, {"admin": "oscar"}, csrf=False).status == 403
    assert client.post(remove, {"admin": "oscar", "csrf_token":
                                outsider.csrf_token()}).status == 403
    stranger = client.post(remove, {"admin": "adam"})
    assert stranger.status == 400
    assert "adam is not an admin of the site olive-org" in stranger.text
    assert client.post(remove, {"admin": "no-such-person"}).status == 400
    assert admins_of(store, "olive-org") == ["olive", "oscar", "uni-team"]
    # A site admin removes the team; olive removes herself.
    outsider.login("sita")
    assert outsider.post(remove, {"admin": "uni-team"}).status == 303
    left = client.post(remove, {"admin": "olive"})
    assert (left.status, left.headers["location"]) == (303,
                                                       "/+site/olive-org")
    assert admins_of(store, "olive-org") == ["oscar"]
    after = client.get("/+site/olive-org")
    assert after.status == 200 and remove not in after.text
    assert "Oscar (oscar)" in after.text


def test_the_api_says_each_mirrors_site(world, client, store):
    """Each mirror in the API's answers names its site, as the site is
    now (its display name changed on its page too); /api/1/sites lists
    every site with its mirrors' names, a site that runs none too."""
    a_site(world)
    SiteSet(store).new("empty-org", "Runs nothing", [world.people["oscar"]])
    store.commit()
    olive_org = {"name": "olive-org", "display_name": "Olive's University"}
    status = client.get("/api/1/status?distribution=ubuntu").json()
    sites = {entry["name"]: entry["site"] for entry in status["mirrors"]}
    assert sites["uni-one"] == sites["uni-two"] == olive_org
    assert sites["oscars-mirror"]["name"] == "oscars-mirror"
    client.login("olive")
    assert client.post("/+site/olive-org/+edit", {
        "display_name": "Renamed", "web_url": ""}).status == 303
    renamed = dict(olive_org, display_name="Renamed")
    checked = []
    for path, key in [("/api/1/status?mirror=uni-two", "mirrors"),
                      ("/api/1/mirrors?country=BR", "mirrors"),
                      ("/api/1/mirrors/uni-one", "mirror")]:
        answer = client.get(path)
        assert answer.status == 200, path
        found = answer.json()[key]
        for entry in found if key == "mirrors" else [found]:
            if entry["name"].startswith("uni-"):
                assert entry["site"] == renamed, path
                checked.append(entry["name"])
    assert sorted(checked) == ["uni-one", "uni-one", "uni-two", "uni-two"]
    listed = client.get("/api/1/sites").json()["sites"]
    assert [(site["name"], site["display_name"], site["web_url"],
             site["mirrors"]) for site in listed
            if site["name"] in ("olive-org", "empty-org")] == [
        ("empty-org", "Runs nothing", None, []),
        ("olive-org", "Renamed", None, ["uni-one", "uni-two"])]
    assert "/api/1/sites" in [endpoint["path"] for endpoint in
                              client.get("/api/1/").json()["endpoints"]]
