"""A mirror's values go through one check, validators.valid_mirror_fields,
whether it is registered or edited: tried over HTTP against the real
twisted.web site (in-process, as tests/web_harness.py does), on both
backends, and on the function itself."""

import re

import pytest

from mirrorkeeper.addresspolicy import AddressPolicy
from mirrorkeeper.errors import InvalidURLError, InvalidValueError
from mirrorkeeper.model.distributionmirror import DistributionMirrorSet
from mirrorkeeper.validators import (
    MAX_ASN, MAX_BANDWIDTH_MBPS, normalise_base_url, valid_address,
    valid_email, valid_mirror_fields, valid_name, valid_netblock, valid_text)
from tests.web_harness import client, world  # noqa: F401


EDIT = {"display_name": "Changed", "country": "BR", "speed": "S1G",
        "pulse_type": "PULL",
        "http_base_url": "http://edited.example.org/ubuntu/"}

BAD_NUMBERS = [
    ("asn", "0"),
    ("asn", str(MAX_ASN + 1)),
    ("asn", "AS64500"),
    ("asn", "-64500"),
    ("asn", "64\u00b2"),
    ("bandwidth_mbps", "0"),
    ("bandwidth_mbps", str(MAX_BANDWIDTH_MBPS + 1)),
    ("bandwidth_mbps", "1e3"),
    ("bandwidth_mbps", "9" * 5000),
]


def error_of(page, field):
    """The message the form shows beside `field`, or None; and whether
    the field is marked invalid."""
    match = re.search(r'<div><label for="%s">.*?</div>(?=<div><label|'
                      r'<div class="check"|<button)' % (field,), page.text,
                      re.S)
    assert match is not None, page.text
    widget = re.search(r'<(?:input|select|textarea)[^>]*\bname="%s"[^>]*>'
                       % (field,), match.group(0)).group(0)
    message = re.search(r'<div class="error">([^<]*)</div>',
                        match.group(0))
    return (message.group(1) if message else None,
            'aria-invalid="true"' in widget)


@pytest.mark.parametrize("field,value", BAD_NUMBERS)
def test_an_edit_with_a_bad_number_is_refused_on_its_field(
        client, store, world, field, value):
    """An edit giving a bad ASN or bandwidth is a 400 showing the message
    beside that field, and changes nothing of the mirror."""
    world.mirror("edited", asn=64500, bandwidth_mbps=800)
    client.login("olive")
    response = client.post("/ubuntu/+mirror/edited/+edit",
                           dict(EDIT, **{"asn": "64501", field: value}))
    assert response.status == 400
    message, marked = error_of(response, field)
    assert marked and message is not None
    assert message.startswith("invalid %s " % (
        "ASN" if field == "asn" else "bandwidth",))
    for other in ("asn", "bandwidth_mbps", "display_name"):
        if other != field:
            assert error_of(response, other) == (None, False)
    store.rollback()
    mirror = DistributionMirrorSet(store).getByName("edited")
    assert (mirror.display_name, mirror.asn, mirror.bandwidth_mbps) == \
        (None, 64500, 800)


def test_an_edit_sets_the_asn_and_bandwidth(client, store, world):
    """Good numbers are saved, and the edit form shows them again with
    the bounds each takes."""
    world.mirror("edited")
    client.login("olive")
    response = client.post("/ubuntu/+mirror/edited/+edit", dict(
        EDIT, asn=" 4200000000 ", bandwidth_mbps="2500"))
    assert response.status == 303, response.text
    store.rollback()
    mirror = DistributionMirrorSet(store).getByName("edited")
    assert (mirror.display_name, mirror.asn, mirror.bandwidth_mbps) == \
        ("Changed", 4200000000, 2500)
    form = client.get("/ubuntu/+mirror/edited/+edit").text
    asn = re.search(r'<input[^>]*name="asn"[^>]*>', form).group(0)
    assert 'value="4200000000"' in asn and 'max="%d"' % MAX_ASN in asn
    bandwidth = re.search(r'<input[^>]*name="bandwidth_mbps"[^>]*>',
                          form).group(0)
    assert 'max="%d"' % MAX_BANDWIDTH_MBPS in bandwidth
    response = client.post("/ubuntu/+mirror/edited/+edit", dict(EDIT))
    assert response.status == 303, response.text
    store.rollback()
    assert mirror.asn is None
    assert mirror.bandwidth_mbps == 1000      # the speed's, S1G


def test_an_edit_says_whether_the_mirror_picks_up_new_series(
        client, store, world):
    """The owner says on the edit form whether the mirror carries new
    releases at once (what the release lifecycle expects of it); the
    form shows it checked again."""
    world.mirror("edited")
    client.login("olive")
    response = client.post("/ubuntu/+mirror/edited/+edit", dict(
        EDIT, picks_up_new_series="on"))
    assert response.status == 303, response.text
    store.rollback()
    mirror = DistributionMirrorSet(store).getByName("edited")
    assert mirror.picks_up_new_series
    form = client.get("/ubuntu/+mirror/edited/+edit").text
    box = re.search(r'<input[^>]*name="picks_up_new_series"[^>]*>',
                    form).group(0)
    assert "checked" in box
    response = client.post("/ubuntu/+mirror/edited/+edit", dict(EDIT))
    assert response.status == 303, response.text
    store.rollback()
    assert not mirror.picks_up_new_series


@pytest.mark.parametrize("field,value", BAD_NUMBERS[:3] + BAD_NUMBERS[5:7])
def test_a_registration_with_a_bad_number_is_refused_on_its_field(
        client, store, field, value):
    """Registering checks the numbers as editing does; nothing is
    registered."""
    client.login("olive")
    response = client.post("/ubuntu/+newmirror", {
        "name": "numbered", "country": "BR", "speed": "S1G",
        "content": "ARCHIVE", "pulse_type": "PULL",
        "https_base_url": "https://numbered.example.net/ubuntu/",
        field: value})
    assert response.status == 400
    assert error_of(response, field)[1]
    store.rollback()
    assert DistributionMirrorSet(store).getByName("numbered") is None


def test_an_edit_needs_one_url_and_rsync_alone_will_do(
        client, store, world):
    """An edit that leaves no URL is refused on the HTTPS field, and the
    mirror keeps its URL; one that leaves only an rsync URL is taken."""
    world.mirror("edited")
    client.login("olive")
    page = "/ubuntu/+mirror/edited/+edit"
    response = client.post(page, dict(EDIT, http_base_url=""))
    assert response.status == 400
    message, marked = error_of(response, "https_base_url")
    assert marked and "at least one URL" in message
    store.rollback()
    mirror = DistributionMirrorSet(store).getByName("edited")
    assert mirror.http_base_url == "http://edited.example.org/ubuntu/"
    response = client.post(page, dict(
        EDIT, http_base_url="",
        rsync_base_url="rsync://edited.example.org/ubuntu"))
    assert response.status == 303
    store.rollback()
    assert (mirror.http_base_url, mirror.rsync_base_url) == (
        None, "rsync://edited.example.org/ubuntu/")
    assert mirror.base_url == mirror.rsync_base_url


def test_a_mirror_offering_only_rsync_is_registered(client, store):
    """The registration form takes a mirror whose only URL is rsync; its
    page links to it."""
    client.login("olive")
    response = client.post("/ubuntu/+newmirror", {
        "name": "rsynced", "country": "BR", "speed": "S1G",
        "content": "ARCHIVE", "pulse_type": "PULL",
        "rsync_base_url": "rsync://rsynced.example.net/ubuntu"})
    assert response.status == 303, response.text
    store.rollback()
    mirror = DistributionMirrorSet(store).getByName("rsynced")
    assert mirror.rsync_base_url == "rsync://rsynced.example.net/ubuntu/"
    assert mirror.http_base_url is None
    page = client.get("/ubuntu/+mirror/rsynced").text
    assert 'href="rsync://rsynced.example.net/ubuntu/"' in page


def test_valid_mirror_fields_gives_normal_forms():
    """Each value comes back in its normal form; blank ones are None;
    fields it does not know pass as they are."""
    speed = object()
    assert valid_mirror_fields({
        "name": " m-1 ", "display_name": "  M  ", "description": "",
        "http_base_url": "HTTP://M.example.org:80/u", "https_base_url": " ",
        "ftp_base_url": None, "rsync_base_url": "rsync://m.example.org/u",
        "bandwidth_mbps": "100", "asn": 64500, "speed": speed}) == {
        "name": "m-1", "display_name": "M", "description": None,
        "http_base_url": "http://m.example.org/u/", "https_base_url": None,
        "ftp_base_url": None, "rsync_base_url": "rsync://m.example.org/u/",
        "bandwidth_mbps": 100, "asn": 64500, "speed": speed}
    assert valid_mirror_fields({"asn": ""}) == {"asn": None}


@pytest.mark.parametrize("fields,error,field,message", [
    ({"name": ""}, InvalidValueError, "name", "give the mirror a name"),
    ({"name": "Bad Name"}, InvalidValueError, "name", "invalid name"),
    ({"display_name": "a\x07"}, InvalidValueError, "display_name",
     "control character U+0007"),
    ({"asn": True}, InvalidValueError, "asn", "invalid ASN True"),
    ({"asn": 0}, InvalidValueError, "asn",
     "invalid ASN 0: give a whole number from 1 to 4294967295"),
    ({"bandwidth_mbps": 1.5}, InvalidValueError, "bandwidth_mbps",
     "invalid bandwidth 1.5"),
    ({"bandwidth_mbps": " fast "}, InvalidValueError, "bandwidth_mbps",
     "invalid bandwidth 'fast': give a whole number from 1 to 10000000 "
     "Mbps"),
    ({"ftp_base_url": "http://m.example.org/"}, InvalidURLError,
     "ftp_base_url", "it must start with ftp://"),
    ({"http_base_url": None, "rsync_base_url": None},
     InvalidValueError, "https_base_url", "at least one URL"),
    ({"https_base_url": "https://127.0.0.1/u/"}, InvalidURLError,
     "https_base_url", "mirrors must be at global addresses"),
    ({"https_base_url": "https://m.example.org/\udcff/"}, InvalidURLError,
     "https_base_url", "not valid UTF-8"),
    ({"http_base_url": "http://m.example.org/\x1b[2J"}, InvalidURLError,
     "http_base_url", "invalid URL 'http://m.example.org/\\x1b[2J': it "
     "contains the control character U+001B"),
])
def test_valid_mirror_fields_names_the_field_at_fault(fields, error, field,
                                                      message):
    """The first value at fault is an error carrying its field; a policy
    refuses what the prober may not reach."""
    with pytest.raises(error) as raised:
        valid_mirror_fields(fields, AddressPolicy())
    assert raised.value.field == field
    assert message in str(raised.value)


@pytest.mark.parametrize("check,field", [
    (lambda: valid_email("nobody"), "email"),
    (lambda: valid_netblock("192.0.2.0/33"), "netblocks"),
    (lambda: valid_address("bad host"), "acl_addresses"),
    (lambda: valid_name("Bad"), "name"),
    (lambda: valid_name("Bad", "series"), "series"),
    (lambda: valid_text("a\x00", "title"), "title"),
    (lambda: normalise_base_url("ftp://x.example/", "http"),
     "http_base_url"),
])
def test_every_refusal_carries_its_field(check, field):
    """Each validator's refusal names the field it is about."""
    with pytest.raises(ValueError) as raised:
        check()
    assert raised.value.field == field


def test_the_daemon_refuses_a_bad_asn_in_an_edit(tmp_path):
    """Over a loopback socket to the real `mirrorkeeper web` daemon, an
    owner's edit with an ASN out of bounds is a 400 marking the ASN
    field, and the mirror the command line shows is as it was."""
    import json
    import urllib.error
    import urllib.parse
    import urllib.request

    from tests.web_server import PASSWORD, WebServer

    class NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args):
            return None

    server = WebServer(tmp_path).populate()
    server.command("mirror", "register", "ubuntu", "olives-mirror",
                   "--owner", "olive", "--country", "BR", "--speed", "1G",
                   "--content", "archive", "--pulse-type", "pull",
                   "--http", "http://olives.example.org/ubuntu/",
                   "--asn", "64500", "--bandwidth", "800")
    server.start()
    try:
        opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(), NoRedirect())

        def send(path, form=None):
            data = None if form is None else urllib.parse.urlencode(
                form).encode("ascii")
            try:
                with opener.open(server.url + path, data,
                                 timeout=30) as response:
                    return response.status, response.read().decode()
            except urllib.error.HTTPError as error:
                return error.code, error.read().decode()

        def token(page):
            return page.split('name="csrf_token" value="')[1].split('"')[0]

        _, page = send("+login")
        assert send("+login", {"csrf_token": token(page), "login": "olive",
                               "password": PASSWORD})[0] == 303
        edit = "ubuntu/+mirror/olives-mirror/+edit"
        status, page = send(edit)
        assert status == 200
        status, page = send(edit, dict(EDIT, csrf_token=token(page),
                                       asn=str(MAX_ASN + 1)))
        assert status == 400
        assert re.search(r'<input[^>]*name="asn"[^>]*aria-invalid="true"|'
                         r'<input[^>]*aria-invalid="true"[^>]*name="asn"',
                         page)
        assert "invalid ASN '%d'" % (MAX_ASN + 1,) in page
    finally:
        server.stop()
    shown = json.loads(server.command("mirror", "show", "olives-mirror",
                                      "--json").stdout)
    shown = shown.get("mirror", shown)
    assert (shown["display_name"], shown["asn"], shown["bandwidth_mbps"]) \
        == (None, 64500, 800)
