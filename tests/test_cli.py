"""The `mirrorkeeper` command line, run as admins run it: in-process through
its console entry point main(argv), and as a real process, on both database
backends."""

import json
import os
import select
import sqlite3
import subprocess
import sys
import time
from collections import namedtuple
from contextlib import contextmanager
from datetime import datetime

import psycopg2
import pytest

from mirrorkeeper.database.migrate import available_patches
from mirrorkeeper.database.store import open_store
from mirrorkeeper.enums import (
    MirrorContent, MirrorFreshness, MirrorPulseType, MirrorSpeed,
    MirrorStatus, PackagePublishingPocket, SeriesStatus)
from mirrorkeeper.mail.outbox import OutboxMessage
from mirrorkeeper.model.distribution import DistributionSet
from mirrorkeeper.model.distributionmirror import DistributionMirrorSet
from mirrorkeeper.model.person import PersonSet
from mirrorkeeper.scripts.cli import main

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

# The tables an admin command can write to; "nothing changed" means none of
# them gained or lost a row.
TABLES = ["person", "email_address", "team_membership", "distribution",
          "distro_series", "distro_series_component", "component",
          "distro_arch_series", "distribution_mirror", "mirror_netblock",
          "mirror_acl_address", "mirror_country_allowed",
          "mirror_probe_record", "mail_outbox"]

Result = namedtuple("Result", "status out err")


def run(capsys, uri, *args):
    """Run the command line in-process on the database `uri`."""
    status = main(["--database", uri] + list(args))
    out, err = capsys.readouterr()
    return Result(status, out, err)


def process_env(**extra):
    env = dict(os.environ, PYTHONPATH=os.path.join(ROOT, "lib"),
               PYTHONUNBUFFERED="1", **extra)
    env.pop("MIRRORKEEPER_DATABASE", None)
    return env


def run_process(*args, cwd=None):
    """Run the command line as a process of its own, as the console script
    does."""
    done = subprocess.run(
        [sys.executable, "-m", "mirrorkeeper.scripts.cli"] + list(args),
        capture_output=True, text=True, cwd=cwd or ROOT, env=process_env(),
        timeout=60)
    return Result(done.returncode, done.stdout, done.stderr)


@contextmanager
def reading(uri):
    """A store on `uri` to read back what the command line wrote."""
    store = open_store(uri)
    try:
        yield store
    finally:
        store.rollback()
        store.close()


def row_counts(uri):
    with reading(uri) as store:
        return {table: store.execute(
            "SELECT COUNT(*) FROM %s" % table).get_one()[0]
            for table in TABLES}


@pytest.fixture
def sample_uri(database_uri, capsys):
    """A database holding the sample data, loaded by the command line."""
    result = run(capsys, database_uri, "sample-data")
    assert result.status == 0, result.err
    return database_uri


REGISTER = ["mirror", "register", "ubuntu", "mirror-br-1", "--owner",
            "sample.person", "--country", "BR", "--speed", "1G",
            "--content", "archive", "--pulse-type", "push"]


# The schema and the sample data.

def test_db_upgrade_applies_each_patch_once_and_status_reports_it(
        tmp_path, capsys):
    """db upgrade applies the missing patches to an empty database, a second
    upgrade applies none, and db status lists them all as applied."""
    uri = "sqlite:%s" % (tmp_path / "new.db")
    before = run(capsys, uri, "db", "status")
    assert ["patch-0001-registry.sql", "pending"] in [
        line.split() for line in before.out.splitlines()]
    first = run(capsys, uri, "db", "upgrade")
    assert first.status == 0
    patches = [name for _, name in available_patches()]
    assert first.out.splitlines() == ["Applied %s" % name
                                      for name in patches]
    second = run(capsys, uri, "db", "upgrade")
    assert second.out == "The schema is current: nothing to apply.\n"
    status = run(capsys, uri, "db", "status")
    assert "pending" not in status.out
    assert status.out.count(" applied ") == len(patches)
    assert "The schema is current." in status.out


def test_db_status_on_an_upgraded_database(database_uri, capsys):
    """db status reports a database built by the migrations as current."""
    result = run(capsys, database_uri, "db", "status")
    assert result.status == 0
    assert [line.split()[:2] for line in result.out.splitlines()[1:-1]] == [
        [name, "applied"] for _, name in available_patches()]
    assert result.out.endswith("The schema is current.\n")


def test_a_database_without_the_schema_is_refused(tmp_path, capsys):
    """A command on a database lacking schema patches exits 1 telling to
    run `mirrorkeeper db upgrade`."""
    path = str(tmp_path / "empty.db")
    result = run(capsys, "sqlite:" + path, "mirrors")
    assert result.status == 1
    assert result.err.startswith("mirrorkeeper: error: the database ")
    assert "run `mirrorkeeper db upgrade`" in result.err
    assert len(result.err.splitlines()) == 1
    # The check only reads: the refused database gained no table.
    with sqlite3.connect(path) as connection:
        assert connection.execute(
            "SELECT COUNT(*) FROM sqlite_master").fetchone() == (0,)


def test_sample_data_loads_once(database_uri, capsys):
    """sample-data loads the sample distribution and its mirrors, and a
    second run is refused with nothing changed."""
    first = run(capsys, database_uri, "sample-data")
    assert first.status == 0
    with reading(database_uri) as store:
        ubuntu = DistributionSet(store)["ubuntu"]
        assert [m.name for m in ubuntu.mirrors] == [
            "archive-404-mirror", "invalid-mirror", "new-mirror",
            "unreachable-mirror", "valid-mirror"]
    counts = row_counts(database_uri)
    second = run(capsys, database_uri, "sample-data")
    assert second.status == 1
    assert second.err == (
        "mirrorkeeper: error: the distribution 'ubuntu' exists already: "
        "the sample data is loaded only into a database without it\n")
    assert row_counts(database_uri) == counts


# Registering people, distributions, series.

def test_person_and_team_add(database_uri, capsys):
    """person add and team add register people with their addresses and a
    team with its members."""
    assert run(capsys, database_uri, "person", "add", "ana", "Ana Lima",
               "--email", "Ana@Example.org").status == 0
    assert run(capsys, database_uri, "person", "add", "bo", "Bo").status == 0
    result = run(capsys, database_uri, "team", "add", "br-admins",
                 "Brazil Mirror Admins", "--member", "ana", "--member", "bo",
                 "--email", "admins@example.org")
    assert result.status == 0, result.err
    with reading(database_uri) as store:
        people = PersonSet(store)
        assert people["ana"].display_name == "Ana Lima"
        assert people["ana"].preferred_email == "ana@example.org"
        assert people["bo"].email_addresses == []
        team = people["br-admins"]
        assert team.is_team
        assert [member.name for member in team.members] == ["ana", "bo"]
        assert team.preferred_email == "admins@example.org"


def test_distribution_series_arch_and_component_add(database_uri, capsys):
    """distribution, series, arch and component add build a distribution
    the way the model reads it back."""
    for args in [
            ["person", "add", "owner", "The Owner"],
            ["team", "add", "admins", "Admins", "--member", "owner"],
            ["distribution", "add", "debian", "--display-name", "Debian",
             "--title", "Debian GNU/Linux", "--owner", "owner",
             "--mirror-admin", "admins"],
            ["series", "add", "debian", "bookworm", "12", "--status",
             "current", "--component", "main", "--component", "contrib"],
            ["arch", "add", "debian", "bookworm", "amd64"],
            ["arch", "add", "debian", "bookworm", "hurd-i386",
             "--unofficial"],
            ["component", "add", "debian", "bookworm", "non-free"]]:
        result = run(capsys, database_uri, *args)
        assert result.status == 0, (args, result.err)
    with reading(database_uri) as store:
        debian = DistributionSet(store)["debian"]
        assert (debian.title, debian.owner.name, debian.mirror_admin.name,
                debian.supports_mirrors) == (
            "Debian GNU/Linux", "owner", "admins", True)
        bookworm = debian.getSeries("bookworm")
        assert (bookworm.version, bookworm.status) == (
            "12", SeriesStatus.CURRENT)
        assert [c.name for c in bookworm.components] == [
            "main", "contrib", "non-free"]
        assert [a.architecture_tag for a in
                bookworm.official_architectures] == ["amd64"]
        assert bookworm.getArch("hurd-i386").official is False


# Registering mirrors.

def test_mirror_register_stores_every_field(sample_uri, capsys):
    """mirror register stores every registration field, normalised, and
    the mirror starts pending review."""
    result = run(
        capsys, sample_uri, *REGISTER,
        "--http", "HTTP://Mirror.Example.com.br/ubuntu",
        "--https", "https://mirror.example.com.br:443/ubuntu/",
        "--ftp", "ftp://mirror.example.com.br/ubuntu",
        "--rsync", "rsync://mirror.example.com.br/ubuntu",
        "--display-name", "Mirror BR 1", "--description", "In Recife.",
        "--official-candidate", "--bandwidth", "800", "--private",
        "--internet2", "--asn", "64500", "--asn-clients",
        "--netblock", "192.0.2.7/24", "--netblock", "2001:db8::/32",
        "--acl-address", "198.51.100.1", "--acl-address", "Sync.Example.org",
        "--country-allowed", "BR", "--country-allowed", "Argentina",
        "--pulse-source", "rsync://archive.ubuntu.com/ubuntu",
        "--whiteboard", "Asked on IRC.", "--picks-up-new-series")
    assert result.status == 0, result.err
    assert result.out == ("Registered the Ubuntu mirror mirror-br-1 (Brazil, "
                          "https://mirror.example.com.br/ubuntu/), pending "
                          "review.\n")
    with reading(sample_uri) as store:
        mirror = DistributionMirrorSet(store)["mirror-br-1"]
        assert mirror.distribution.name == "ubuntu"
        assert mirror.owner.name == "sample.person"
        assert mirror.country.iso3166code2 == "BR"
        assert mirror.speed is MirrorSpeed.S1G
        assert mirror.content is MirrorContent.ARCHIVE
        assert mirror.pulse_type is MirrorPulseType.PUSH
        assert mirror.status is MirrorStatus.PENDING_REVIEW
        assert not mirror.enabled and not mirror.owner_paused
        assert (mirror.http_base_url, mirror.https_base_url,
                mirror.ftp_base_url, mirror.rsync_base_url) == (
            "http://mirror.example.com.br/ubuntu/",
            "https://mirror.example.com.br/ubuntu/",
            "ftp://mirror.example.com.br/ubuntu/",
            "rsync://mirror.example.com.br/ubuntu/")
        assert (mirror.display_name, mirror.description, mirror.whiteboard,
                mirror.pulse_source) == (
            "Mirror BR 1", "In Recife.", "Asked on IRC.",
            "rsync://archive.ubuntu.com/ubuntu")
        assert mirror.official_candidate and mirror.private
        assert mirror.picks_up_new_series
        assert mirror.internet2 and mirror.asn_clients
        assert (mirror.bandwidth_mbps, mirror.asn) == (800, 64500)
        assert mirror.netblocks == ["192.0.2.0/24", "2001:db8::/32"]
        assert mirror.acl_addresses == ["198.51.100.1", "sync.example.org"]
        assert [c.iso3166code2 for c in mirror.countries_allowed] == [
            "BR", "AR"]


def test_mirror_register_takes_a_mirror_offering_only_rsync(
        sample_uri, capsys):
    """A mirror whose only URL is rsync is registered; its rsync URL is
    the one the prober and the pages use."""
    result = run(capsys, sample_uri, *REGISTER,
                 "--rsync", "rsync://Only.Example.com.br/ubuntu")
    assert result.status == 0, result.err
    assert "(Brazil, rsync://only.example.com.br/ubuntu/)" in result.out
    with reading(sample_uri) as store:
        mirror = DistributionMirrorSet(store)["mirror-br-1"]
        assert (mirror.http_base_url, mirror.https_base_url,
                mirror.ftp_base_url) == (None, None, None)
        assert mirror.base_url == "rsync://only.example.com.br/ubuntu/"


SPEEDS = [("S100M", MirrorSpeed.S100M), ("100M", MirrorSpeed.S100M),
          ("100 Mbps", MirrorSpeed.S100M), ("1000M", MirrorSpeed.S1G),
          ("512 kbps", MirrorSpeed.S512K)]


def test_mirror_register_reads_speeds_as_people_write_them(
        sample_uri, capsys):
    """--speed takes the enum's name, a number with a unit, or Mbps."""
    for number, (speed, expected) in enumerate(SPEEDS):
        result = run(capsys, sample_uri, "mirror", "register", "ubuntu",
                     "m%d" % number, "--owner", "mark", "--country",
                     "Brazil", "--speed", speed, "--content", "release",
                     "--pulse-type", "pull",
                     "--ftp", "ftp://m%d.example.org/" % number)
        assert result.status == 0, result.err
    with reading(sample_uri) as store:
        mirrors = DistributionMirrorSet(store)
        assert [mirrors["m%d" % number].speed
                for number in range(len(SPEEDS))] == [
            expected for _, expected in SPEEDS]


BAD_REGISTRATIONS = [
    (["--country", "Atlantis", "--http", "http://m.example.org/"],
     "unknown country 'Atlantis': give an ISO 3166 code such as 'BR' or a "
     "name such as 'Brazil'"),
    (["--country", "BR", "--http", "http://m.example.org/?x=1"],
     "invalid URL 'http://m.example.org/?x=1': a base URL has no query or "
     "fragment"),
    (["--country", "BR", "--http", "ftp://m.example.org/"],
     "invalid http URL 'ftp://m.example.org/': it must start with http://"),
    (["--country", "BR", "--http", "http://VALID-mirror.example.org/ubuntu"],
     "the URL http://valid-mirror.example.org/ubuntu/ is already registered "
     "for the mirror valid-mirror"),
    (["--country", "BR"],
     "a mirror needs at least one URL: http, https, ftp or rsync"),
    (["--country", "BR", "--http", "http://m.example.org/", "--netblock",
      "10.0.0.0/33"], "invalid netblock '10.0.0.0/33'"),
    (["--country", "BR", "--http", "http://m.example.org/", "--bandwidth",
      "fast"], "invalid bandwidth 'fast': give a whole number from 1 to "
     "10000000 Mbps"),
    (["--country", "BR", "--http", "http://m.example.org/", "--bandwidth",
      "1" + "0" * 20], "invalid bandwidth '1%s': give a whole number from 1 "
     "to 10000000 Mbps" % ("0" * 20,)),
    (["--country", "BR", "--http", "http://m.example.org/", "--asn", "0"],
     "invalid ASN '0': give a whole number from 1 to 4294967295"),
    (["--country", "BR", "--http", "http://m.example.org/",
      "--country-allowed", "XX"],
     "unknown country 'XX': give an ISO 3166 code such as 'BR' or a name "
     "such as 'Brazil'"),
]


BAD_COMMANDS = [
    (["mirror", "register", "ubuntu", "m", "--owner", "nobody-here",
      "--country", "BR", "--speed", "1G", "--content", "archive",
      "--pulse-type", "pull", "--http", "http://m.example.org/"],
     "no person or team is called 'nobody-here'"),
    (["mirror", "register", "debian", "m", "--owner", "mark", "--country",
      "BR", "--speed", "1G", "--content", "archive", "--pulse-type", "pull",
      "--http", "http://m.example.org/"],
     "no distribution is called 'debian'"),
    (["mirror", "register", "ubuntu", "m", "--owner", "mark", "--country",
      "BR", "--speed", "3G", "--content", "archive", "--pulse-type", "pull",
      "--http", "http://m.example.org/"],
     "invalid speed '3G': choose one of 128K, 256K, 512K, 1M, 2M, 10M, 45M, "
     "100M, 1G, 2G, 4G, 10G, 20G, 40G, 100G"),
    (["mirror", "register", "ubuntu", "m", "--owner", "mark", "--country",
      "BR", "--speed", "1G", "--content", "packages", "--pulse-type", "pull",
      "--http", "http://m.example.org/"],
     "invalid --content 'packages': choose one of archive, release"),
    (["mirror", "register", "ubuntu", "valid-mirror", "--owner", "mark",
      "--country", "BR", "--speed", "1G", "--content", "archive",
      "--pulse-type", "pull", "--http", "http://m.example.org/"],
     "a mirror called valid-mirror is already registered"),
    (["mirror", "review", "new-mirror", "--status", "approved",
      "--reviewer", "mark"],
     "invalid --status 'approved': choose one of pending-review, "
     "unofficial, official, broken"),
    (["mirror", "review", "new-mirror", "--status", "official",
      "--reviewer", "sample.person"],
     "sample.person cannot review mirrors of ubuntu: only its mirror admins "
     "(ubuntu-mirror-admins) and its owner (mark) can"),
    (["mirror", "enable", "no-such-mirror"],
     "no mirror is called 'no-such-mirror'"),
    (["series", "add", "ubuntu", "breezy", "5.10", "--status", "stable"],
     "invalid --status 'stable': choose one of experimental, development, "
     "frozen, current, supported, obsolete"),
    (["series", "add", "ubuntu", "warty", "4.10"],
     "ubuntu already has a series called warty"),
    (["arch", "add", "ubuntu", "breezy", "amd64"],
     "ubuntu has no series called 'breezy'"),
    (["person", "add", "mark", "Another Mark"],
     "the name mark is already taken"),
    (["person", "add", "Bad Name", "Bad"],
     "invalid name 'Bad Name': use lower-case letters, digits, '.', '+' and "
     "'-', starting with a letter or digit"),
    (["team", "add", "t", "T", "--member", "ghost"],
     "no person or team is called 'ghost'"),
    # The team is added before its address is found bad: rolled back.
    (["team", "add", "t", "T", "--member", "mark", "--email", "t-at-home"],
     "invalid email address 't-at-home'"),
    (["distribution", "add", "kubuntu", "--display-name", "Kubuntu",
      "--title", "Kubuntu", "--owner", "mark", "--mirror-admin", "ghosts"],
     "no person or team is called 'ghosts'"),
    (["mirrors", "debian"], "no distribution is called 'debian'"),
    (["mirror", "list", "--content", "dvd"],
     "invalid --content 'dvd': choose one of archive, release"),
]


def test_bad_input_changes_nothing(sample_uri, capsys):
    """A command naming something unknown or giving a bad value (a bad
    country, URL, speed, enum value...) exits 1 with one line naming the
    problem, and changes nothing."""
    register = ["mirror", "register", "ubuntu", "m", "--owner", "mark",
                "--speed", "100M", "--content", "archive", "--pulse-type",
                "pull"]
    cases = [(register + args, message)
             for args, message in BAD_REGISTRATIONS] + BAD_COMMANDS
    counts = row_counts(sample_uri)
    for args, message in cases:
        result = run(capsys, sample_uri, *args)
        assert (result.status, result.err, result.out) == (
            1, "mirrorkeeper: error: %s\n" % message, ""), args
        assert row_counts(sample_uri) == counts, args
    with reading(sample_uri) as store:
        new_mirror = DistributionMirrorSet(store)["new-mirror"]
        assert new_mirror.status is MirrorStatus.PENDING_REVIEW
        assert new_mirror.reviewer is None


def test_usage_errors_exit_2(sample_uri, capsys):
    """A missing required option or an unknown command is a usage error:
    exit 2 with the usage on stderr."""
    result = run(capsys, sample_uri, "mirror", "register", "ubuntu", "m")
    assert result.status == 2
    assert "the following arguments are required: --owner" in result.err
    assert result.err.startswith("usage: mirrorkeeper")
    assert run(capsys, sample_uri, "frobnicate").status == 2


def test_an_unreadable_configuration_is_an_error(sample_uri, capsys,
                                                 tmp_path):
    """--config naming a missing file exits 1 with one line saying so."""
    result = run(capsys, sample_uri, "--config",
                 str(tmp_path / "missing.conf"), "mirrors")
    assert result.status == 1
    assert result.err.startswith(
        "mirrorkeeper: error: cannot read the configuration ")


# Listing and showing.

def test_mirror_list_table_and_filters(sample_uri, capsys):
    """mirror list prints one row per mirror, and its filters keep only the
    mirrors that match them."""
    result = run(capsys, sample_uri, "mirror", "list", "ubuntu")
    lines = result.out.splitlines()
    assert lines[0].split() == ["NAME", "COUNTRY", "CONTENT", "STATUS",
                                "ENABLED", "FRESHNESS", "BASE", "URL"]
    assert [line.split()[0] for line in lines[1:]] == [
        "archive-404-mirror", "invalid-mirror", "new-mirror",
        "unreachable-mirror", "valid-mirror"]
    new_mirror_row = [line for line in lines if line.startswith("new-")][0]
    assert new_mirror_row.split() == [
        "new-mirror", "BR", "Archive", "Pending", "review", "no", "Last",
        "update", "unknown", "http://new-mirror.example.org/ubuntu/"]

    def names(*filters):
        out = run(capsys, sample_uri, "mirror", "list", *filters).out
        return [line.split()[0] for line in out.splitlines()[1:]]

    assert names("--official") == ["valid-mirror"]
    assert names("--content", "release") == ["invalid-mirror"]
    assert names("--status", "pending-review") == ["new-mirror"]
    assert names("--enabled", "--content", "archive") == [
        "archive-404-mirror", "unreachable-mirror", "valid-mirror"]
    empty = run(capsys, sample_uri, "mirror", "list", "--official",
                "--content", "release")
    assert empty.out == "No mirror matches.\n"


def test_mirror_list_json(sample_uri, capsys):
    """mirror list --json prints a JSON list with an object per mirror."""
    result = run(capsys, sample_uri, "mirror", "list", "--json",
                 "--enabled")
    mirrors = json.loads(result.out)
    assert [m["name"] for m in mirrors] == [
        "archive-404-mirror", "invalid-mirror", "unreachable-mirror",
        "valid-mirror"]
    valid = mirrors[-1]
    # As the API writes a mirror (mirrorkeeper.mirrorjson), among others.
    assert {key: valid[key] for key in (
        "name", "distribution", "display_name", "country", "country_name",
        "content", "status", "official", "enabled", "owner_paused",
        "unreachable", "freshness", "base_url")} == {
        "name": "valid-mirror", "distribution": "ubuntu",
        "display_name": None, "country": "AF", "country_name": "Afghanistan",
        "content": "archive", "status": "official", "official": True,
        "enabled": True, "owner_paused": False, "unreachable": False,
        "freshness": "unknown",
        "base_url": "http://valid-mirror.example.org/ubuntu/"}


def _give_valid_mirror_content(uri):
    """Record that valid-mirror carries warty/i386 (up to date) and warty's
    sources (a day behind), and probe it."""
    with reading(uri) as store:
        mirror = DistributionMirrorSet(store)["valid-mirror"]
        warty = mirror.distribution.getSeries("warty")
        main_component = warty.components[0]
        release = PackagePublishingPocket.RELEASE
        mirror.ensureMirrorDistroArchSeries(
            warty.getArch("i386"), release,
            main_component).freshness = MirrorFreshness.UP
        mirror.ensureMirrorDistroSeriesSource(
            warty, release, main_component).freshness = \
            MirrorFreshness.ONEDAYBEHIND
        mirror.newProbeRecord("probed\n",
                              date_created=datetime(2024, 1, 2, 3, 4, 5))
        store.commit()


def test_mirror_show_json(sample_uri, capsys):
    """mirror show --json gives every detail, the content records with
    their freshness, and the date of the last probe."""
    _give_valid_mirror_content(sample_uri)
    result = run(capsys, sample_uri, "mirror", "show", "valid-mirror",
                 "--json")
    shown = json.loads(result.out)
    assert shown["freshness"] == "onedaybehind"
    assert shown["arch_series"] == [{
        "series": "warty", "architecture": "i386", "pocket": "release",
        "component": "main", "freshness": "up"}]
    assert shown["source_series"] == [{
        "series": "warty", "pocket": "release", "component": "main",
        "freshness": "onedaybehind"}]
    assert shown["last_probe"] == "2024-01-02T03:04:05Z"
    assert shown["probe_count"] == 1
    assert (shown["owner"], shown["reviewer"], shown["speed"],
            shown["pulse_type"], shown["bandwidth_mbps"]) == (
        "mark", "mark", "100M", "pull", 100)
    assert shown["date_reviewed"] == "2005-05-01T00:00:00Z"


def test_mirror_show_text(sample_uri, capsys):
    """mirror show prints the details, the content records and the last
    probe for a person to read."""
    _give_valid_mirror_content(sample_uri)
    out = run(capsys, sample_uri, "mirror", "show", "valid-mirror").out
    assert out.startswith("Mirror valid-mirror of Ubuntu Linux\n")
    assert "  owner:               mark (Mark Shuttleworth)\n" in out
    assert "  freshness:           One day behind\n" in out
    assert "  warty/i386 release main: up\n" in out
    assert "  warty source release main: onedaybehind\n" in out
    assert out.endswith("Last probe: 2024-01-02 03:04:05 UTC\n")


# Reviewing, enabling, disabling.

def test_mirror_review_sets_status_reviewer_and_date(sample_uri, capsys):
    """mirror review records the status, the reviewer, the date of the
    review and the whiteboard."""
    result = run(capsys, sample_uri, "mirror", "review", "new-mirror",
                 "--status", "official", "--reviewer", "foo.bar",
                 "--whiteboard", "Checked the archive by hand.")
    assert result.status == 0, result.err
    assert result.out == "Reviewed new-mirror: Official (by foo.bar).\n"
    with reading(sample_uri) as store:
        mirror = DistributionMirrorSet(store)["new-mirror"]
        assert mirror.status is MirrorStatus.OFFICIAL
        assert mirror.reviewer.name == "foo.bar"
        assert mirror.date_reviewed.year >= 2024
        assert mirror.whiteboard == "Checked the archive by hand."
        assert mirror.isOfficial()


def test_logging_goes_to_stderr_at_the_level_asked(sample_uri, capsys):
    """Warnings are logged to stderr as `WARNING message`, and -qq silences
    them while the command's own output stays on stdout."""
    assert run(capsys, sample_uri, *REGISTER, "--http",
               "http://br.example.org/").status == 0
    review = ["mirror", "review", "mirror-br-1", "--status", "official",
              "--reviewer", "mark"]
    warned = run(capsys, sample_uri, *review)
    assert warned.err == ("WARNING mirror-br-1 did not ask for official "
                          "status: it is not listed as official\n")
    assert warned.out == "Reviewed mirror-br-1: Official (by mark).\n"
    silenced = run(capsys, sample_uri, "-qq", *review)
    assert (silenced.status, silenced.err, silenced.out) == (
        0, "", warned.out)


def test_mirror_disable_and_enable(sample_uri, capsys):
    """mirror disable takes a mirror out of the lists, queueing mail to the
    owner and the mirror admins only with --notify; mirror enable puts it
    back."""
    quiet = run(capsys, sample_uri, "mirror", "disable", "unreachable-mirror")
    assert quiet.out == "Disabled unreachable-mirror.\n"
    told = run(capsys, sample_uri, "mirror", "disable", "valid-mirror",
               "--notify")
    assert told.status == 0, told.err
    with reading(sample_uri) as store:
        mirrors = DistributionMirrorSet(store)
        assert not mirrors["unreachable-mirror"].enabled
        assert not mirrors["valid-mirror"].enabled
        queued = [m.as_message() for m in store.find(OutboxMessage)]
        assert sorted(m["To"] for m in queued) == [
            "Foo Bar <foo.bar@example.com>",
            "Mark Shuttleworth <mark@example.com>"]
        assert all("valid-mirror has been disabled" in m["Subject"]
                   for m in queued)
    assert run(capsys, sample_uri, "mirror", "enable",
               "valid-mirror").status == 0
    with reading(sample_uri) as store:
        assert DistributionMirrorSet(store)["valid-mirror"].enabled


def test_mirrors_prints_official_then_enabled_by_country(sample_uri, capsys):
    """mirrors prints the official mirrors, then every enabled mirror, each
    list grouped under its countries."""
    result = run(capsys, sample_uri, "mirrors")
    assert result.status == 0
    lines = result.out.splitlines()
    assert lines[:6] == ["Mirrors of Ubuntu Linux", "",
                         "Official mirrors (1)", "====================",
                         "Afghanistan (Asia)", lines[5]]
    assert lines[5].split()[0] == "valid-mirror"
    enabled = lines[lines.index("Enabled mirrors (4)"):]
    assert [line.split()[0] if line.startswith("  ") else line
            for line in enabled[2:]] == [
        "Afghanistan (Asia)", "valid-mirror",
        "British Indian Ocean Territory (Asia)", "invalid-mirror",
        "unreachable-mirror", "archive-404-mirror"]
    assert "new-mirror" not in result.out


# The real process: the console script, its lock, the demo.

def test_the_console_script_as_a_process(sample_uri):
    """The command line run as a process lists mirrors as JSON, registers a
    mirror, and refuses bad input with exit status 1."""
    listed = run_process("--database", sample_uri, "mirror", "list",
                         "--official", "--json")
    assert listed.status == 0, listed.err
    assert [m["name"] for m in json.loads(listed.out)] == ["valid-mirror"]
    registered = run_process(*REGISTER, "--database", sample_uri,
                             "--https", "https://br.example.org/")
    assert registered.status == 0, registered.err
    with reading(sample_uri) as store:
        mirror = DistributionMirrorSet(store)["mirror-br-1"]
        assert mirror.https_base_url == "https://br.example.org/"
    counts = row_counts(sample_uri)
    refused = run_process("--database", sample_uri, "mirror", "register",
                          "ubuntu", "narnia", "--owner", "mark",
                          "--country", "Narnia", "--speed", "1G",
                          "--content", "archive", "--pulse-type", "pull",
                          "--http", "http://narnia.example.org/")
    assert refused.status == 1
    assert refused.err.startswith(
        "mirrorkeeper: error: unknown country 'Narnia'")
    assert row_counts(sample_uri) == counts


@contextmanager
def database_write_lock(uri):
    """Hold a lock that makes the next write (SQLite) or read of the
    distribution table (PostgreSQL) wait until the block ends."""
    if uri.startswith("sqlite:"):
        connection = sqlite3.connect(uri[len("sqlite:"):],
                                     isolation_level=None)
        connection.execute("BEGIN IMMEDIATE")
    else:
        connection = psycopg2.connect(uri.replace("postgres:", "postgresql:",
                                                  1))
        connection.cursor().execute(
            "LOCK TABLE distribution IN ACCESS EXCLUSIVE MODE")
    try:
        yield
    finally:
        connection.rollback()
        connection.close()


def _wait_for_line(stream, text, timeout=30):
    """Read `stream` until a line holding `text`; the lines read."""
    lines, deadline = [], time.monotonic() + timeout
    while time.monotonic() < deadline:
        ready, _, _ = select.select([stream], [], [], 0.1)
        if ready:
            line = stream.readline()
            if not line:
                break
            lines.append(line)
            if text in line:
                return lines
    raise AssertionError("never saw %r; got %r" % (text, lines))


def test_a_second_concurrent_run_is_refused(database_uri, capsys):
    """While one run holds the maintenance lock, a second run exits 1
    naming the lock, and the first run completes."""
    assert run(capsys, database_uri, "db", "status").status == 0
    with database_write_lock(database_uri):
        first = subprocess.Popen(
            [sys.executable, "-m", "mirrorkeeper.scripts.cli", "-v",
             "--database", database_uri, "sample-data"],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
            cwd=ROOT, env=process_env())
        try:
            _wait_for_line(first.stderr, "Acquired lock")
            second = run(capsys, database_uri, "sample-data")
        except BaseException:
            first.kill()
            raise
    out, err = first.communicate(timeout=60)
    assert second.status == 1
    assert second.err.startswith("mirrorkeeper: error: another run holds "
                                 "the lock ")
    assert second.err.endswith("; wait for it to finish\n")
    assert first.returncode == 0, err
    assert out.startswith("Loaded the sample data")
    with reading(database_uri) as store:
        assert [d.name for d in DistributionSet(store)] == ["ubuntu"]


def test_demo_sets_up_on_first_use_only(tmp_path):
    """demo on a directory without a database creates it, loads the sample
    data, probes the sample mirrors and prints valid-mirror as official; a
    second demo probes again but loads nothing again."""
    first = run_process("demo", cwd=str(tmp_path))
    assert first.status == 0, first.err
    assert os.path.exists(tmp_path / "var" / "mirrorkeeper.db")
    assert "INFO    Applied patch-0001-registry.sql\n" in first.err
    assert "INFO    Loaded the sample data: ubuntu with 5 mirrors\n" in \
        first.err
    official = first.out.split("Official mirrors (1)")[1].split(
        "Enabled mirrors")[0]
    assert "valid-mirror" in official
    assert "unreachable-mirror" not in official
    # The sample mirrors were served and probed: the empty one and the
    # one whose port refuses connections are no longer enabled.
    assert "Disabled archive-404-mirror" in first.err
    enabled = first.out.split("Enabled mirrors")[1]
    assert "valid-mirror" in enabled and "Up to date" in enabled
    assert "archive-404-mirror" not in enabled
    # Then what package managers get: the snapshot, served by the real
    # daemon, an apt list, a country's fallback and a redirect.
    assert os.path.exists(tmp_path / "var" / "mirrorlist-snapshot.json")
    published = first.out.split("What package managers get")[1]
    assert "GET /mirrors.txt?country=BR -> 200" in published
    assert "# no mirror in FR " in published
    assert "-> 302\n  Location: http://127.0.0.1:" in published
    assert "The web listing: http://127.0.0.1:8000/" in published
    second = run_process("demo", cwd=str(tmp_path))
    assert second.status == 0, second.err
    assert "Applied" not in second.err and "Loaded" not in second.err
    assert "INFO    Probed 3 mirrors" in second.err
    assert second.out.count("valid-mirror") == first.out.count(
        "valid-mirror")
    uri = "sqlite:%s" % (tmp_path / "var" / "mirrorkeeper.db")
    with reading(uri) as store:
        assert len(DistributionSet(store)["ubuntu"].mirrors) == 5


# Help.

def _leaf_commands(parser, prefix=()):
    import argparse
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                yield from _leaf_commands(sub, prefix + (name,))
            return
    yield prefix


def test_every_subcommand_has_help(capsys):
    """Every subcommand answers --help with exit 0 and a description."""
    from mirrorkeeper.scripts.cli import MirrorKeeperCommandLine
    commands = list(_leaf_commands(
        MirrorKeeperCommandLine().build_parser()))
    assert set(commands) >= {
        ("db", "upgrade"), ("db", "status"), ("sample-data",), ("demo",),
        ("person", "add"), ("team", "add"), ("distribution", "add"),
        ("series", "add"), ("arch", "add"), ("component", "add"),
        ("mirror", "register"), ("mirror", "list"), ("mirror", "show"),
        ("mirror", "review"), ("mirror", "enable"), ("mirror", "disable"),
        ("mirrors",)}
    for command in commands:
        assert main(list(command) + ["--help"]) == 0
        out = capsys.readouterr().out
        assert out.startswith("usage: mirrorkeeper " + " ".join(command))
        assert "--database URI" in out
        description = out.split("\n\n")[1]
        assert len(description) > 20, command
