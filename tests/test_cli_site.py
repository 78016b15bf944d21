"""`mirrorkeeper site`: the organisations that run mirrors, managed from
the command line, run as a real process (and in-process for the many
refusals) on both database backends."""

import json

import pytest

from mirrorkeeper.model.distributionmirror import DistributionMirrorSet
from mirrorkeeper.model.site import SiteSet
from tests.test_cli import reading, run, run_process

# The tables a site command can write to.
TABLES = ["site", "site_admin", "distribution_mirror", "person"]


def snapshot(uri):
    """Every row of TABLES' columns that site commands change."""
    with reading(uri) as store:
        return {
            "site": store.execute("SELECT id, name, display_name, web_url "
                                  "FROM site ORDER BY id").get_all(),
            "site_admin": store.execute(
                "SELECT site, person FROM site_admin "
                "ORDER BY site, person").get_all(),
            "mirrors": store.execute(
                "SELECT id, site FROM distribution_mirror "
                "ORDER BY id").get_all()}


@pytest.fixture
def sample_uri(database_uri, capsys):
    result = run(capsys, database_uri, "sample-data")
    assert result.status == 0, result.err
    assert run(capsys, database_uri, "team", "add", "uni-team", "Uni team",
               "--member", "foo.bar").status == 0
    return database_uri


def test_a_site_created_given_admins_and_mirrors_as_a_process(sample_uri):
    """An admin creates a site, names its admins (a person and a team),
    moves two mirrors to it, renames it and changes its web address; list
    and show say each step, in text and JSON."""
    def site(*args):
        result = run_process("--database", sample_uri, "site", *args)
        assert (result.status, result.err) == (0, ""), args
        return result.out

    assert site("create", "example-uni", "--display-name",
                "Example University", "--web-url", "https://example.edu/",
                "--admin", "mark") == (
        "Registered the site example-uni (Example University) with 1 "
        "admin(s).\n")
    assert site("add-admin", "example-uni", "uni-team") == (
        "uni-team is an admin of the site example-uni.\n")
    assert site("move-mirror", "example-uni", "valid-mirror",
                "invalid-mirror") == (
        "Moved valid-mirror to the site example-uni from valid-mirror.\n"
        "The site valid-mirror runs no mirror now.\n"
        "Moved invalid-mirror to the site example-uni from invalid-mirror.\n"
        "The site invalid-mirror runs no mirror now.\n")
    assert site("rename", "example-uni", "uni") == (
        "Renamed the site example-uni to uni.\n")
    assert site("edit", "uni", "--web-url", "https://www.example.edu/",
                "--display-name", "Example Uni") == (
        "Site uni: Example Uni, https://www.example.edu/.\n")
    assert site("remove-admin", "uni", "mark") == (
        "mark is no longer an admin of the site uni.\n")
    shown = site("show", "uni").splitlines()
    assert shown[0] == "Site uni (Example Uni)"
    assert shown[1].split() == ["web", "address:",
                                "https://www.example.edu/"]
    assert shown[3:] == [
        "Admins:", "  uni-team (Uni team), a team", "Mirrors:",
        "  invalid-mirror (ubuntu), owned by foo.bar",
        "  valid-mirror (ubuntu), owned by mark"]
    listed = json.loads(site("list", "--json"))
    uni = [entry for entry in listed if entry["name"] == "uni"]
    assert uni == [dict(json.loads(site("show", "uni", "--json")))]
    assert [m["name"] for m in uni[0]["mirrors"]] == [
        "invalid-mirror", "valid-mirror"]
    assert [a["name"] for a in uni[0]["admins"]] == ["uni-team"]
    table = site("list").splitlines()
    assert table[0].split() == ["NAME", "DISPLAY", "NAME", "MIRRORS",
                                "ADMINS", "WEB", "ADDRESS"]
    assert ["uni", "Example", "Uni", "2", "uni-team",
            "https://www.example.edu/"] in [row.split() for row in table]
    with reading(sample_uri) as store:
        mirrors = DistributionMirrorSet(store)
        assert mirrors["valid-mirror"].site.name == "uni"
        assert SiteSet(store)["uni"].isAdmin(
            mirrors["invalid-mirror"].owner)
        assert SiteSet(store)["valid-mirror"].mirrors == []


BAD = [
    (["show", "nowhere"], "no site is called 'nowhere'"),
    (["create", "Bad Name", "--display-name", "X"],
     "invalid name 'Bad Name': use lower-case letters, digits, '.', '+' "
     "and '-', starting with a letter or digit"),
    (["create", "valid-mirror", "--display-name", "X"],
     "a site called valid-mirror already exists"),
    (["create", "new-site", "--display-name", "Bell\x07"],
     "the display name contains the control character U+0007: only "
     "printable text is taken"),
    (["create", "new-site", "--display-name", "X", "--web-url",
      "javascript:alert(1)"],
     "invalid web address 'javascript:alert(1)': give an http:// or "
     "https:// URL"),
    (["create", "new-site", "--display-name", "X", "--admin", "ghost"],
     "no person or team is called 'ghost'"),
    (["edit", "valid-mirror", "--web-url", "ftp://example.org/"],
     "invalid web address 'ftp://example.org/': give an http:// or "
     "https:// URL"),
    (["edit", "valid-mirror", "--web-url", "https://exa mple.org/"],
     "invalid web address 'https://exa mple.org/': give an http:// or "
     "https:// URL"),
    (["edit", "valid-mirror", "--display-name", "  "],
     "give the site a display name"),
    (["edit", "valid-mirror", "--display-name", "line\nbreak"],
     "the display name contains the control character U+000A: only "
     "printable text is taken"),
    (["edit", "valid-mirror"],
     "give --display-name or --web-url (or both): nothing to change"),
    (["rename", "valid-mirror", "invalid-mirror"],
     "a site called invalid-mirror already exists"),
    (["rename", "valid-mirror", "caf\u00e9"],
     "invalid name 'caf\u00e9': use lower-case letters, digits, '.', '+' "
     "and '-', starting with a letter or digit"),
    (["rename", "nowhere", "somewhere"], "no site is called 'nowhere'"),
    (["add-admin", "valid-mirror", "ghost"],
     "no person or team is called 'ghost'"),
    (["remove-admin", "valid-mirror", "foo.bar"],
     "foo.bar is not an admin of the site valid-mirror"),
    (["remove-admin", "valid-mirror", "mark"],
     "mark is the last admin of the site valid-mirror: add another first"),
    (["move-mirror", "nowhere", "valid-mirror"],
     "no site is called 'nowhere'"),
    (["move-mirror", "invalid-mirror", "valid-mirror", "no-such-mirror"],
     "no mirror is called 'no-such-mirror'"),
]

REGISTER = ["mirror", "register", "ubuntu", "mirror2.example.edu",
            "--owner", "mark", "--country", "BR", "--speed", "1G",
            "--content", "archive", "--pulse-type", "pull", "--http",
            "http://mirror2.example.edu/ubuntu/"]


def test_a_mirror_registered_to_a_site(sample_uri, capsys):
    """`mirror register --site` puts the new mirror in that site, not a
    site of its own; an unknown site registers nothing."""
    before = snapshot(sample_uri)
    result = run(capsys, sample_uri, *REGISTER, "--site", "nowhere")
    assert (result.status, result.err) == (
        1, "mirrorkeeper: error: no site is called 'nowhere'\n")
    assert snapshot(sample_uri) == before
    result = run(capsys, sample_uri, *REGISTER, "--site", "valid-mirror")
    assert result.status == 0, result.err
    with reading(sample_uri) as store:
        sites = SiteSet(store)
        assert [m.name for m in sites["valid-mirror"].mirrors] == [
            "mirror2.example.edu", "valid-mirror"]
        assert sites.getByName("mirror2.example.edu") is None


def test_bad_input_changes_nothing(sample_uri, capsys):
    """An unknown site, person or mirror, a bad name, a control
    character, a web address that is no http(s) page, a taken name or
    the removal of a site's last admin exits 1 with one line saying so,
    and changes nothing."""
    before = snapshot(sample_uri)
    for args, message in BAD:
        result = run(capsys, sample_uri, "site", *args)
        assert (result.status, result.err, result.out) == (
            1, "mirrorkeeper: error: %s\n" % message, ""), args
    assert snapshot(sample_uri) == before
    # As a process too: the message and the status are the same.
    args, message = BAD[4]
    result = run_process("--database", sample_uri, "site", *args)
    assert (result.status, result.err) == (
        1, "mirrorkeeper: error: %s\n" % message)
    assert snapshot(sample_uri) == before


def test_the_web_lists_a_site_by_its_new_names_at_once(sample_uri):
    """The web keeps its listings until the database says their mirrors
    changed: a site renamed or given another display name by the command
    line (another process) is in the next listing by site."""
    from mirrorkeeper.database.store import open_store
    from tests.web_harness import InProcessClient
    store = open_store(sample_uri)
    try:
        client = InProcessClient(store)

        def heading():
            text = client.get("/ubuntu/+archivemirrors?group=site").text
            start = text.index('<tr class="site">')
            return text[start:text.index("</th>", start)]

        assert 'href="/+site/valid-mirror">valid-mirror</a>' in heading()
        for args in (["edit", "valid-mirror", "--display-name", "Valid"],
                     ["rename", "valid-mirror", "valid-site"]):
            result = run_process("--database", sample_uri, "site", *args)
            assert result.status == 0, result.err
        store.rollback()
        assert 'href="/+site/valid-site">Valid</a>' in heading()
    finally:
        store.rollback()
        store.close()
