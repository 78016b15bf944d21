"""The statistics page: the mirror list daemon's daily counts, as its own
writer (publish.statistics.Statistics) left them, read back by day,
country, content and kind of list."""

import os
import re
import subprocess
import time

import pytest
from lxml import html

from mirrorkeeper.publish.snapshot import write_snapshot
from mirrorkeeper.publish.statistics import Statistics
from mirrorkeeper.web.app import WebSettings
from tests.mirrorlist_snapshots import mirror, snapshot
from tests.test_publish_daemon_process import BIN, fetch, free_port
from tests.web_harness import InProcessClient
from tests.web_harness import world  # noqa: F401

DAY = 86400


def table(page, caption):
    """[(label, requests, share)] of the table with `caption`."""
    (found,) = page.xpath("//table[caption='%s']" % caption)
    return [tuple(cell.text_content() for cell in row.xpath("td"))
            for row in found.xpath("tbody/tr")]


@pytest.fixture
def counted(tmp_path):
    """Requests counted yesterday and today by two daemon processes, and
    a counts file of another day that is not counts."""
    folder = str(tmp_path / "statistics")
    now = time.time()
    clock = [now - DAY]
    first = Statistics(folder, clock=lambda: clock[0], process="one")
    second = Statistics(folder, clock=lambda: clock[0], process="two")
    for _ in range(3):
        first.record("BR", "apt/warty/i386", 200, 1)
    first.record(None, "unknown", 400, 1)
    first.flush()
    clock[0] = now
    for _ in range(2):
        second.record("DE", "metalink/warty/i386", 200, 1)
    second.record("BR", "apt/warty/i386", 200, 1)
    second.record("ZZ", "redirect/warty/main", 200, 1)
    second.flush()
    day = time.strftime("%Y-%m-%d", time.gmtime(now - 2 * DAY))
    (tmp_path / "statistics" / ("%s.three.json" % day)).write_text(
        "not counts")
    return folder


def client_of(store, folder):
    return InProcessClient(store, WebSettings(cache_seconds=0,
                                              statistics_dir=folder))


def test_requests_by_day_country_content_and_kind(world, store, counted):
    response = client_of(store, counted).get("/+statistics?days=3")
    assert response.status == 200
    page = html.fromstring(response.body)
    text = page.text_content()
    assert "8 requests in all" in re.sub(r"\s+", " ", text)
    days = table(page, "Requests by day")
    assert [requests for _, requests, _ in days] == ["4", "4", "0"]
    assert table(page, "Requests by the country they came from") == [
        ("Brazil", "4", "50.0 %"), ("Germany", "2", "25.0 %"),
        ("unknown", "1", "12.5 %"), ("unknown (ZZ)", "1", "12.5 %")]
    assert table(page, "Requests by what they asked for")[:2] == [
        ("apt/warty/i386", "4", "50.0 %"),
        ("metalink/warty/i386", "2", "25.0 %")]
    assert [label for label, _, _ in table(
        page, "Requests by kind of list")] == [
        "apt mirror lists", "metalinks", "redirects",
        "refused (bad or unknown requests)"]
    # A bar per day, titled with its count.
    titles = [t.text for t in page.xpath("//svg//rect/title")]
    assert titles[-2:] == [days[1][0] + ": 4 requests",
                           days[0][0] + ": 4 requests"]


def test_no_counts_say_so(world, store, tmp_path):
    response = client_of(store, str(tmp_path / "none")).get("/+statistics")
    assert response.status == 200
    assert "No request was counted in these days." in response.text
    assert "last 14 days" in response.text


@pytest.mark.parametrize("days", ["0", "91", "x", "-1", "%C2%B2", "1e3"])
def test_a_bad_number_of_days_is_a_400(world, store, counted, days):
    response = client_of(store, counted).get("/+statistics?days=" + days)
    assert response.status == 400
    assert "Unknown number of days" in response.text


def test_the_front_page_links_the_statistics(world, store, counted):
    assert 'href="/+statistics"' in client_of(store, counted).get("/").text


def test_requests_by_protocol_counted_by_the_daemon_process(world, store,
                                                            tmp_path):
    """The mirror list daemon, as its own process, counts the protocol=
    of each request curl makes; the page shows them, in all and per day,
    with the counts of a file of the format before as not counted."""
    folder = tmp_path / "statistics"
    folder.mkdir()
    today = time.strftime("%Y-%m-%d", time.gmtime())
    (folder / ("%s.before.json" % (today,))).write_text(
        '[{"country": "-", "content": "apt/noble", "requests": 5}]')
    path = str(tmp_path / "snapshot.json")
    write_snapshot(snapshot([mirror("de", "DE", urls={
        "http": "http://de.example/ubuntu/",
        "https": "https://de.example/ubuntu/"})]), path)
    port = free_port()
    daemon = subprocess.Popen(
        [os.path.join(BIN, "mirrorkeeper"), "mirrorlist-server", "--listen",
         "tcp:%d:interface=127.0.0.1" % port, "--snapshot", path,
         "--statistics", str(folder), "--reload-interval", "3600"],
        cwd=str(tmp_path), stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE)
    try:
        base = "http://127.0.0.1:%d" % port
        fetch(base + "/mirrors.txt")     # waits for it to listen
        for query in ("protocol=https", "protocol=https", "protocol=https"
                      ",http", "protocol=gopher", ""):
            done = subprocess.run(
                ["curl", "-s", "-o", "/dev/null", "-w", "%{http_code}",
                 base + "/mirrors.txt?" + query], capture_output=True,
                text=True, timeout=30)
            assert done.stdout == ("400" if "gopher" in query else "200")
    finally:
        daemon.terminate()
        assert daemon.wait(10) == 0, daemon.stderr.read()
    # Its counts were flushed as it stopped.
    page = html.fromstring(client_of(store, str(folder)).get(
        "/+statistics?days=2").body)
    # (The first request waited for the daemon to listen: none asked.)
    assert table(page, "Requests by the protocols asked for") == [
        ("not counted", "5", "45.5 %"),
        ("https", "2", "18.2 %"),
        ("none asked", "2", "18.2 %"),
        ("https,http", "1", "9.1 %"), ("unknown", "1", "9.1 %")]
    (days,) = page.xpath("//table[@class='protocol-days']")
    assert [th.text_content() for th in days.xpath("thead/tr/th")] == [
        "Day", "not counted", "https", "none asked", "https,http", "other"]
    assert [[td.text_content() for td in row.xpath("td")]
            for row in days.xpath("tbody/tr")] == [
        [today, "5", "2", "2", "1", "1"],
        [time.strftime("%Y-%m-%d", time.gmtime(time.time() - DAY)),
         "0", "0", "0", "0", "0"]]
