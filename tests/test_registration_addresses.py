"""Registration refuses mirror URLs that lead where the prober may not go
(internal addresses, localhost, numeric spellings of IPv4 addresses),
unless [prober] allowed_networks names them: on the command line and in
the web forms, on both database backends."""

import pytest

from mirrorkeeper.config import load_config
from mirrorkeeper.model.distributionmirror import DistributionMirrorSet
from mirrorkeeper.scripts.cli import main
from mirrorkeeper.web.app import WebSettings
from tests.web_harness import InProcessClient
from tests.web_harness import world  # noqa: F401

REGISTER = ["mirror", "register", "ubuntu", "mirror-new", "--owner",
            "sample.person", "--country", "BR", "--speed", "1G",
            "--content", "archive", "--pulse-type", "push"]


def write_config(tmp_path, prober=""):
    path = tmp_path / "mirrorkeeper.conf"
    path.write_text("[prober]\n" + prober)
    return str(path)


def run(capsys, uri, config, *args):
    status = main(["--database", uri, "--config", config] + list(args))
    out, err = capsys.readouterr()
    return status, out, err


@pytest.fixture
def sample_uri(database_uri, tmp_path, capsys):
    status, _, err = run(capsys, database_uri, write_config(tmp_path),
                         "sample-data")
    assert status == 0, err
    return database_uri


def registered(uri):
    from mirrorkeeper.database.store import open_store
    store = open_store(uri)
    try:
        mirror = DistributionMirrorSet(store).getByName("mirror-new")
        return None if mirror is None else (
            mirror.http_base_url, mirror.https_base_url, mirror.ftp_base_url,
            mirror.rsync_base_url)
    finally:
        store.close()


@pytest.mark.parametrize("option, url, reason", [
    ("--http", "http://127.0.0.1:8080/ubuntu/",
     "127.0.0.1 is a loopback address"),
    ("--http", "http://169.254.169.254/latest/", "link-local"),
    ("--http", "http://[2002:a9fe:a9fe::]/", "6to4 form of 169.254.169.254"),
    ("--https", "https://100.100.100.200/", "carrier-grade NAT"),
    ("--http", "http://localhost/ubuntu/", "localhost names this machine"),
    ("--http", "http://2130706433/ubuntu/",
     "numeric spelling of the IPv4 address 127.0.0.1"),
    ("--http", "http://0x7f000001/ubuntu/", "numeric spelling"),
    ("--http", "http://0177.0.0.1/ubuntu/", "numeric spelling"),
    ("--ftp", "ftp://10.0.0.1/pub/", "private"),
    ("--rsync", "rsync://192.168.1.1/ubuntu/", "private"),
    ("--http", "http://mirror.example.org/ubuntu/\x1b[2J",
     "control character"),
    ("--http", "http://mirror.example.org/" + "a" * 2100, "2048"),
])
def test_cli_refuses_internal_urls(sample_uri, tmp_path, capsys, option, url,
                                   reason):
    """`mirror register` refuses the URL with one line naming it and why,
    and registers nothing."""
    args = [option, url]
    if option == "--rsync":
        args += ["--http", "http://mirror.example.org/ubuntu/"]
    status, out, err = run(capsys, sample_uri, write_config(tmp_path),
                           *REGISTER, *args)
    assert status != 0
    assert out == ""
    assert len(err.splitlines()) == 1
    assert err.startswith("mirrorkeeper: error: invalid URL ")
    assert reason in err
    assert url[:60].encode("unicode_escape").decode() in err
    assert registered(sample_uri) is None


def test_cli_takes_loopback_when_allowed(sample_uri, tmp_path, capsys):
    """With loopback in [prober] allowed_networks, loopback URLs, localhost
    and a numeric spelling of a loopback address (stored as the dotted
    quad) are registered."""
    config = write_config(tmp_path,
                          "allowed_networks = 127.0.0.0/8, ::1/128\n")
    status, out, err = run(
        capsys, sample_uri, config, *REGISTER,
        "--http", "http://0x7f000001:8080/ubuntu",
        "--https", "https://[::1]:8443/ubuntu/",
        "--ftp", "ftp://localhost/pub/ubuntu/",
        "--rsync", "rsync://127.0.0.2/ubuntu")
    assert status == 0, err
    assert registered(sample_uri) == (
        "http://127.0.0.1:8080/ubuntu/", "https://[::1]:8443/ubuntu/",
        "ftp://localhost/pub/ubuntu/", "rsync://127.0.0.2/ubuntu/")


def test_cli_allowed_networks_open_only_what_they_name(sample_uri, tmp_path,
                                                       capsys):
    config = write_config(tmp_path, "allowed_networks = 127.0.0.2/32\n")
    status, _, err = run(capsys, sample_uri, config, *REGISTER,
                         "--http", "http://127.0.0.3/ubuntu/")
    assert status != 0 and "127.0.0.3 is a loopback address" in err
    status, _, err = run(capsys, sample_uri, config, *REGISTER,
                         "--http", "http://127.0.0.2/ubuntu/")
    assert status == 0, err


def test_cli_refuses_the_old_setting(sample_uri, tmp_path, capsys):
    """A configuration still setting allow_private_addresses is refused,
    naming the setting that replaced it."""
    config = write_config(tmp_path, "allow_private_addresses = true\n")
    status, _, err = run(capsys, sample_uri, config, *REGISTER,
                         "--http", "http://127.0.0.1/ubuntu/")
    assert status != 0
    assert "allow_private_addresses" in err
    assert "[prober] allowed_networks" in err
    assert registered(sample_uri) is None


# The web forms.

FORM = {"name": "mirror-new", "country": "BR", "speed": "S1G",
        "content": "ARCHIVE", "pulse_type": "PULL"}


@pytest.mark.parametrize("field, url, reason", [
    ("http_base_url", "http://127.0.0.1:8080/ubuntu/", "loopback"),
    ("https_base_url", "https://169.254.169.254/", "link-local"),
    ("http_base_url", "http://[::ffff:169.254.169.254]/",
     "IPv4-mapped form of 169.254.169.254"),
    ("http_base_url", "http://localhost/", "localhost names this machine"),
    ("http_base_url", "http://0x7f000001/", "numeric spelling"),
    ("ftp_base_url", "ftp://10.0.0.1/pub/", "private"),
])
def test_web_registration_refuses_internal_urls(world, store, field, url,
                                                reason):
    """The registration form shows the reason and registers nothing."""
    client = InProcessClient(store)
    client.login("olive")
    response = client.post("/ubuntu/+newmirror", dict(FORM, **{field: url}))
    assert response.status == 400
    assert reason in response.text
    store.rollback()
    assert DistributionMirrorSet(store).getByName("mirror-new") is None


def test_web_registration_takes_allowed_networks(world, store):
    client = InProcessClient(store, WebSettings(
        allowed_networks=("127.0.0.0/8", "::1/128")))
    client.login("olive")
    response = client.post("/ubuntu/+newmirror", dict(
        FORM, http_base_url="http://127.1:8080/ubuntu"))
    assert response.status == 303, response.text
    store.rollback()
    mirror = DistributionMirrorSet(store)["mirror-new"]
    assert mirror.http_base_url == "http://127.0.0.1:8080/ubuntu/"


def test_web_edit_refuses_internal_urls(world, store):
    """The edit form refuses a URL into the network too, changing
    nothing."""
    world.mirror("olives-mirror")
    client = InProcessClient(store)
    client.login("olive")
    response = client.post("/ubuntu/+mirror/olives-mirror/+edit", {
        "country": "BR", "speed": "S1G", "pulse_type": "PULL",
        "http_base_url": "http://[64:ff9b::a9fe:a9fe]/ubuntu/"})
    assert response.status == 400
    assert "NAT64 form of 169.254.169.254" in response.text
    store.rollback()
    mirror = DistributionMirrorSet(store)["olives-mirror"]
    assert mirror.http_base_url == "http://olives-mirror.example.org/ubuntu/"


def test_web_settings_read_allowed_networks(tmp_path):
    path = tmp_path / "mirrorkeeper.conf"
    path.write_text("[prober]\nallowed_networks = 127.0.0.0/8 ::1\n")
    assert WebSettings.from_config(load_config(str(path))).allowed_networks \
        == ("127.0.0.0/8", "::1/128")
    assert WebSettings.from_config(load_config(None)).allowed_networks == ()
