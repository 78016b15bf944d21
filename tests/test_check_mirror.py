"""The Nagios/Icinga plugin: judging mirrors from the API's status, and its
status line and exit code."""

import pytest

from mirrorkeeper.scripts.check_mirror import (
    CRITICAL, OK, UNKNOWN, WARNING, check_all, check_one, main,
    parse_duration)

DAY = 86400


def entry(name, lag, enabled=True, freshness="up", paused=False):
    return {"name": name, "lag_seconds": lag, "enabled": enabled,
            "freshness": freshness, "owner_paused": paused}


def test_parse_duration():
    """Durations are seconds, or a number with s, m, h, d or w."""
    assert parse_duration("90") == 90
    assert parse_duration("30m") == 1800
    assert parse_duration("1.5h") == 5400
    assert parse_duration("2d") == 2 * DAY
    with pytest.raises(ValueError):
        parse_duration("soon")


def test_one_mirror_by_lag():
    """A mirror is OK within -w, WARNING past it, CRITICAL past -c, with its
    lag as perfdata."""
    assert check_one(entry("m", 3600), DAY, 2 * DAY) == (
        OK, "MIRROR OK - m: UP, lag 1.0h | lag=3600s;86400;172800;0;")
    status, line = check_one(entry("m", int(1.5 * DAY), freshness=
                                    "twodaysbehind"), DAY, 2 * DAY)
    assert status == WARNING and line.startswith("MIRROR WARNING - m: ")
    status, line = check_one(entry("m", 3 * DAY), DAY, 2 * DAY)
    assert status == CRITICAL and "lag 3.0d" in line


def test_disabled_paused_and_unknown_mirrors():
    """A disabled mirror is CRITICAL; a paused one or one of unknown
    freshness is WARNING."""
    assert check_one(entry("m", 0, enabled=False), DAY, 2 * DAY)[0] == \
        CRITICAL
    assert check_one(entry("m", 0, paused=True), DAY, 2 * DAY)[0] == WARNING
    status, line = check_one(entry("m", None), DAY, 2 * DAY)
    assert status == WARNING and "freshness unknown" in line
    assert "lag=U;86400;172800;0;" in line


def test_all_mirrors_worst_wins():
    """Checking every mirror, the worst status is the plugin's and the
    problems are named, worst first."""
    status, line = check_all(
        [entry("a", 60), entry("b", 3 * DAY), entry("c", None)], DAY,
        2 * DAY)
    assert status == CRITICAL
    assert line.startswith("MIRRORS CRITICAL - 1 critical, 1 warning, 1 ok: "
                           "b: UP, lag 3.0d; c: freshness unknown |")
    assert "max_lag=259200s;86400;172800;0;" in line
    assert check_all([entry("a", 60)], DAY, 2 * DAY)[0] == OK


def test_unreachable_api_is_unknown(capsys):
    """When the API cannot be reached the plugin says so and exits
    UNKNOWN."""
    import socket
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    status = main(["--api", "http://127.0.0.1:%d/api/1/" % port, "-t", "2"])
    assert status == UNKNOWN
    assert capsys.readouterr().out.startswith(
        "MIRROR UNKNOWN - cannot reach the API at http://127.0.0.1:")


def test_bad_threshold_is_unknown(capsys):
    """A threshold that is no duration is UNKNOWN with a message."""
    assert main(["--api", "http://127.0.0.1:1/", "-w", "soon"]) == UNKNOWN
    assert "is not a duration" in capsys.readouterr().out


# Against the real web daemon.

@pytest.fixture(scope="module")
def web(tmp_path_factory):
    """The web daemon over the sample data, with valid-mirror measured 5
    hours behind by its trace file and archive-404-mirror disabled."""
    from mirrorkeeper.database.store import open_store
    from mirrorkeeper.enums import MirrorFreshness, PackagePublishingPocket
    from mirrorkeeper.model.distributionmirror import DistributionMirrorSet
    from mirrorkeeper.model.mirrorcontent import MirrorFreshnessCheck
    from tests.web_server import WebServer

    server = WebServer(tmp_path_factory.mktemp("check-mirror")).populate()
    store = open_store(server.database_uri)
    mirrors = DistributionMirrorSet(store)
    valid = mirrors["valid-mirror"]
    warty = valid.distribution.getSeries("warty")
    valid.ensureMirrorDistroSeriesSource(
        warty, PackagePublishingPocket.RELEASE,
        warty.components[0]).freshness = MirrorFreshness.SIXHOURSBEHIND
    check = MirrorFreshnessCheck(valid, "trace", "project/trace/master")
    check.freshness, check.lag_seconds = MirrorFreshness.SIXHOURSBEHIND, \
        5 * 3600
    store.add(check)
    mirrors["archive-404-mirror"].enabled = False
    store.commit()
    store.close()
    server.start()
    yield server
    server.stop()


def plugin(*args):
    import subprocess
    import sys
    return subprocess.run(
        [sys.executable, "-m", "mirrorkeeper.scripts.check_mirror"] +
        list(args), capture_output=True, text=True, timeout=60)


def test_plugin_against_the_web_daemon(web):
    """The plugin reads one mirror's lag from the running daemon's API and
    exits by the thresholds; a disabled mirror is critical; an unknown one
    is UNKNOWN."""
    api = web.url + "api/1/"
    ok = plugin("--api", api, "--mirror", "valid-mirror", "-w", "6h",
                "-c", "1d")
    assert ok.returncode == OK, ok.stdout
    assert ok.stdout == ("MIRROR OK - valid-mirror: SIXHOURSBEHIND, lag "
                         "5.0h | lag=18000s;21600;86400;0;\n")
    warn = plugin("--api", api, "--mirror", "valid-mirror", "-w", "1h")
    assert warn.returncode == WARNING
    assert warn.stdout.startswith("MIRROR WARNING - valid-mirror")
    disabled = plugin("--api", api, "--mirror", "archive-404-mirror")
    assert disabled.returncode == CRITICAL
    assert "archive-404-mirror is disabled" in disabled.stdout
    missing = plugin("--api", api, "--mirror", "no-such-mirror")
    assert missing.returncode == UNKNOWN
    assert "404" in missing.stdout


def test_plugin_all_mirrors_against_the_web_daemon(web):
    """Checking every mirror of a distribution reports the worst and names
    the problems."""
    result = plugin("--api", web.url + "api/1/", "--distribution", "ubuntu")
    assert result.returncode == CRITICAL
    assert result.stdout.startswith("MIRRORS CRITICAL - ")
    assert "archive-404-mirror is disabled" in result.stdout
    assert "max_lag=" in result.stdout
