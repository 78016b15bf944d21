"""The mirror-disabled message: why in words first, where the probe logs
are, how the mirror comes back, and the run's own configuration."""

from datetime import timedelta

from zope.component import getUtility

from mirrorkeeper.config import load_config
from mirrorkeeper.interfaces.distributionmirror import IDistributionMirrorSet
from mirrorkeeper.mail.notifications import (
    MailSettings, mirror_disabled_message, mirror_path,
    queue_mirror_disabled)
from mirrorkeeper.mail.outbox import pending
from mirrorkeeper.web.app import MIRROR

WHY = (
    "None of the 12 index files probed is there: "
    "dists/noble/main/binary-amd64/Packages.gz and 11 others answered 404.",
    "The mirror answered 200 for a path that cannot exist "
    "(dists/mirrorkeeper-3f9a2c0e/Release): its answers prove nothing.",
    "The mirror could not be reached in 2 consecutive runs: the connection "
    "was refused.",
)

CONFIG = """\
[mail]
from_address = Ubuntu mirrors <mirrors@ubuntu.example.org>
site_name = Ubuntu mirror registry
[web]
base_url = https://mirrors.ubuntu.example.org/
"""


def compose(**values):
    arguments = dict(
        sender="mirrorkeeper <noreply@example.org>",
        recipient=("Jane Owner", "jane@example.com"),
        reason="as the owner of the mirror jane-mirror",
        distribution_name="Ubuntu", mirror_name="jane-mirror",
        mirror_title="Jane's mirror",
        mirror_url="http://mirror.jane.example.com/ubuntu/",
        log="GET dists/noble/Release -> 404\n", site_name="mirrorkeeper",
        mirror_path="/ubuntu/+mirror/jane-mirror",
        probe_log_path="/ubuntu/+mirror/jane-mirror/+probe/7",
        probe_interval=timedelta(days=1))
    arguments.update(values)
    return mirror_disabled_message(**arguments).get_content()


def paragraphs(body):
    return [" ".join(p.split()) for p in body.split("\n\n")]


def test_why_comes_first_in_words_wrapped():
    """The prober's sentences follow the opening paragraph, in their order,
    one paragraph each, wrapped to 72 columns (a path is never broken)."""
    body = compose(why=WHY)
    found = paragraphs(body)
    assert found[1].endswith("The last probe found:")
    assert found[2:5] == ["- " + sentence for sentence in WHY]
    assert found[5].startswith("How it comes back:")
    assert all(len(line) <= 72 for line in body.splitlines())
    assert "    dists/noble/main/binary-amd64/Packages.gz" not in body
    assert "  dists/noble/main/binary-amd64/Packages.gz and 11" in body


def test_without_why_says_the_content_is_missing():
    """With no sentence from the prober, the message says the mirror lacks
    the content it should carry."""
    found = paragraphs(compose(why=()))
    assert found[1].endswith("The last probe found it missing the content "
                             "it is expected to carry.")
    assert found[2].startswith("How it comes back:")


def test_how_it_comes_back():
    """The message says the next probe enables the mirror again, when that
    is, and how the owner can check the mirror."""
    body = " ".join(compose(why=WHY).split())
    assert ("once the mirror answers and carries its content again, the "
            "next probe finds it so and enables the mirror again") in body
    assert "looks at each mirror about once a day" in body
    assert "To check the mirror yourself, fetch from " \
        "http://mirror.jane.example.com/ubuntu/ the files" in body
    assert "about every 6 hours" in " ".join(compose(
        probe_interval=timedelta(hours=6)).split())


def test_links_with_the_sites_url():
    """With the site's public URL, the probe log and the mirror's page are
    links of their own."""
    body = compose(base_url="https://mirrors.example.org")
    lines = body.splitlines()
    assert ("    https://mirrors.example.org/ubuntu/+mirror/jane-mirror"
            "/+probe/7") in lines
    assert "    https://mirrors.example.org/ubuntu/+mirror/jane-mirror" in (
        lines)


def test_no_invented_host_without_the_sites_url():
    """Without the site's public URL, the message names the pages' paths
    and no host."""
    body = compose(base_url="")
    flat = " ".join(body.split())
    assert ("on the mirrorkeeper web site, on the mirror's page under "
            "/ubuntu/+mirror/jane-mirror (this probe: "
            "/ubuntu/+mirror/jane-mirror/+probe/7)") in flat
    assert body.count("://") == 2  # the mirror's URL, twice


def test_mirror_path_is_the_web_route():
    """The path linked to is the web site's route for a mirror's page, and
    its probe logs are under it."""
    assert mirror_path("ubuntu", "jane-mirror") == MIRROR.format(
        distribution="ubuntu", name="jane-mirror")


def test_the_runs_configuration_reaches_the_mail(sample_store, tmp_path,
                                                 monkeypatch):
    """The configuration passed in gives the sender, the site's name and
    the links, whatever configuration the environment names."""
    path = tmp_path / "prober.conf"
    path.write_text(CONFIG)
    other = tmp_path / "other.conf"
    other.write_text("[mail]\nfrom_address = wrong <wrong@example.net>\n"
                     "site_name = wrong\n")
    monkeypatch.setenv("MIRRORKEEPER_CONFIG", str(other))
    mirror = getUtility(IDistributionMirrorSet)["valid-mirror"]
    record = mirror.newProbeRecord("GET dists/warty/Release -> 404\n")
    sample_store.flush()
    recipients = queue_mirror_disabled(
        sample_store, mirror, "GET dists/warty/Release -> 404\n",
        why=WHY[:1], config=load_config(str(path)))
    messages = [m.as_message() for m in pending(sample_store)]
    assert len(messages) == len(recipients) == 2
    for message in messages:
        assert message["From"] == "Ubuntu mirrors <mirrors@ubuntu.example.org>"
        # (Python's folding puts a long Subject on a line of its own.)
        assert message["Subject"].strip() == (
            "Ubuntu mirror registry: the Ubuntu "
            "mirror valid-mirror has been disabled")
        assert message["Message-ID"].endswith("@ubuntu.example.org>")
        body = message.get_content()
        assert ("    https://mirrors.ubuntu.example.org/ubuntu/+mirror/"
                "valid-mirror/+probe/%d\n" % record.id) in body
        assert "- " + WHY[0][:60] in " ".join(body.split())
        assert body.rstrip().endswith("-- \nUbuntu mirror registry")
    sample_store.rollback()


def test_plain_settings_and_the_default(sample_store):
    """MailSettings may stand for the configuration; without either, the
    defaults (here: no configuration file) are used, with no link."""
    mirror = getUtility(IDistributionMirrorSet)["valid-mirror"]
    queue_mirror_disabled(sample_store, mirror, "log\n", config=MailSettings(
        sender="a <a@example.org>", site_name="site",
        base_url="http://127.0.0.1:8000"))
    queue_mirror_disabled(sample_store, mirror, "log\n")
    with_settings, _, default, _ = [m.as_message()
                                    for m in pending(sample_store)]
    assert with_settings["From"] == "a <a@example.org>"
    assert "    http://127.0.0.1:8000/ubuntu/+mirror/valid-mirror\n" in (
        with_settings.get_content())
    assert default["From"] == "mirrorkeeper <noreply@localhost>"
    assert "under /ubuntu/+mirror/valid-mirror" in " ".join(
        default.get_content().split())
    sample_store.rollback()


def test_it_says_how_to_ask_for_a_probe_now():
    """The message tells the owner how to have the mirror probed within a
    minute once fixed: a token, then the check-in client's --probe or a
    POST to the mirror's +probe with it."""
    flat = " ".join(compose(base_url="https://mirrors.example.org").split())
    assert "make a token on the mirror's page (+token)" in flat
    assert "run mirrorkeeper-report-mirror --probe on the mirror host" in flat
    assert ("POST to https://mirrors.example.org/api/1/mirrors/jane-mirror/"
            "+probe with the header 'Authorization: Bearer TOKEN'") in flat
    bare = " ".join(compose(base_url="").split())
    assert ("POST to /api/1/mirrors/jane-mirror/+probe of the mirrorkeeper "
            "web site") in bare
