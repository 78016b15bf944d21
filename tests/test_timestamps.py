"""Timestamp files: their format and parser, the local target, targets as
the configuration names them, and the history of plantings on both
backends."""

import os
from datetime import datetime, timedelta, timezone

import pytest
from zope.interface.verify import verifyObject

from mirrorkeeper.errors import ConfigurationError
from mirrorkeeper.interfaces.timestamps import ITimestampTarget
from mirrorkeeper.model.distribution import DistributionSet
from mirrorkeeper.model.timestamps import PlantedTimestampSet
from mirrorkeeper.sampledata import load_sample_data
from mirrorkeeper.timestampfile import (
    TimestampError, timestamp_file_body, parse_timestamp)
from mirrorkeeper.timestamps import PlantingError, target_from_spec
from mirrorkeeper.timestamps.local import LocalTarget
from mirrorkeeper.timestamps.sftp import (
    SFTPTarget, load_known_hosts, load_private_key)
from tests.harness.sftp import write_key_pair

WHEN = datetime(2026, 11, 24, 19, 35, 23)
EPOCH = 1795548923


def test_format_is_epoch_line():
    """A timestamp file is the Unix time in whole seconds on one
    newline-terminated line."""
    assert timestamp_file_body(WHEN) == b"%d\n" % EPOCH
    assert timestamp_file_body(WHEN.replace(microsecond=999999)) == \
        b"%d\n" % EPOCH


def test_format_takes_zoned_time_as_utc():
    """A zoned time is planted as the same instant."""
    zoned = WHEN.replace(tzinfo=timezone.utc).astimezone(
        timezone(timedelta(hours=2)))
    assert timestamp_file_body(zoned) == b"%d\n" % EPOCH


def test_parse_epoch():
    """An epoch line parses to the zoneless UTC time it says."""
    assert parse_timestamp(b"%d\n" % EPOCH) == WHEN
    assert parse_timestamp(b"%d" % EPOCH) == WHEN


def test_parse_epoch_with_fraction_and_more_lines():
    """A fractional epoch (mirrorchecker's time.time()) is read to the
    second, and lines after the first are ignored."""
    assert parse_timestamp(b"%d.8123\nsomething else\n" % EPOCH) == WHEN
    assert parse_timestamp(b"  %d  \r\n" % EPOCH) == WHEN


def test_parse_ftpsync_trace():
    """An ftpsync trace file's date line parses, whatever follows it."""
    trace = (b"Tue Nov 24 19:35:23 UTC 2026\n"
             b"Date: Tue, 24 Nov 2026 19:35:23 +0000\n"
             b"Creator: ftpsync 20180513\nRunning on host: master\n")
    assert parse_timestamp(trace) == WHEN
    assert parse_timestamp(b"Wed Nov  4 01:02:03 GMT 2026\n") == \
        datetime(2026, 11, 4, 1, 2, 3)


def test_round_trip():
    """What is planted parses back to the time planted."""
    assert parse_timestamp(timestamp_file_body(WHEN)) == WHEN


@pytest.mark.parametrize("data, says", [
    (b"", "empty"),
    (b"  \n\n", "empty"),
    (b"\nTue Nov 24 19:35:23 UTC 2026\n", "first line of the timestamp "
     "file is empty"),
    (b"<html><body>404 Not Found</body></html>\n", "<html>"),
    (b"yesterday\n", "neither Unix time nor a date"),
    (b"-1795548923\n", "neither"),
    (b"1795548923abc\n", "neither"),
    (b"\xff\xfe1\x00\n", "not text"),
    (b"Tue Nov 24 19:35:23 CET 2026\n", "neither"),
    (b"Tue Feb 30 19:35:23 UTC 2026\n", "impossible"),
    (b"999999999999\n", "beyond the year 9999"),
    (b"1" * 500, "500 bytes long"),
], ids=["empty", "blank", "blank-first-line", "html", "word", "negative",
        "trailing-letters", "binary", "other-zone", "impossible-date",
        "far-future", "long-line"])
def test_parse_garbage(data, says):
    """Anything but an epoch or a UTC date line is a TimestampError saying
    what was found."""
    with pytest.raises(TimestampError) as caught:
        parse_timestamp(data)
    assert says in str(caught.value)


def test_parse_takes_bytes():
    """A str is a programming error, not a bad file."""
    with pytest.raises(TypeError):
        parse_timestamp("1795548923\n")


# The local target.

def test_local_target_writes_file(tmp_path):
    """Planting into a local directory leaves exactly the file, readable by
    all, with the content given."""
    target = LocalTarget(str(tmp_path))
    assert verifyObject(ITimestampTarget, target)
    assert target.plant("stamp", b"%d\n" % EPOCH).result is None
    assert os.listdir(tmp_path) == ["stamp"]
    assert (tmp_path / "stamp").read_bytes() == b"1795548923\n"
    assert os.stat(tmp_path / "stamp").st_mode & 0o777 == 0o644


def test_local_target_replaces_atomically(tmp_path):
    """A new timestamp replaces the old file by rename: a reader of the old
    file reads it whole, and no temporary file is left."""
    target = LocalTarget(str(tmp_path))
    target.write("stamp", b"1\n" * 1000)
    with open(tmp_path / "stamp", "rb") as old:
        target.write("stamp", b"2\n")
        assert old.read() == b"1\n" * 1000
    assert (tmp_path / "stamp").read_bytes() == b"2\n"
    assert os.listdir(tmp_path) == ["stamp"]


def test_local_target_missing_directory(tmp_path):
    """A directory that does not exist is a PlantingError naming it, and
    nothing is created."""
    target = LocalTarget(str(tmp_path / "gone"))
    failure = target.plant("stamp", b"1\n").result
    assert failure.check(PlantingError)
    assert "gone does not exist" in str(failure.value)
    assert os.listdir(tmp_path) == []
    failure.trap(PlantingError)


def test_local_target_failed_rename_leaves_nothing(tmp_path):
    """A write that cannot be renamed into place (a directory is in the
    way) fails and leaves no temporary file."""
    (tmp_path / "stamp").mkdir()
    with pytest.raises(PlantingError, match="cannot write stamp"):
        LocalTarget(str(tmp_path)).write("stamp", b"1\n")
    assert os.listdir(tmp_path) == ["stamp"]


@pytest.mark.parametrize("name", ["", ".", "..", "a/b", "../stamp"])
def test_local_target_refuses_paths(tmp_path, name):
    """The file name is a plain name, never a path."""
    with pytest.raises(ValueError):
        LocalTarget(str(tmp_path)).write(name, b"1\n")


# Targets as configured.

@pytest.fixture(scope="module")
def key_files(tmp_path_factory):
    directory = tmp_path_factory.mktemp("keys")
    key = str(directory / "id_ed25519")
    write_key_pair(key)
    known_hosts = str(directory / "known_hosts")
    with open(known_hosts, "w"):
        pass
    return key, known_hosts


def test_spec_local():
    """local:/path is a LocalTarget on that directory."""
    target = target_from_spec("local:/srv/mirror/ubuntu/")
    assert isinstance(target, LocalTarget)
    assert target.directory == "/srv/mirror/ubuntu"
    assert target.description == "local:/srv/mirror/ubuntu"


def test_spec_sftp(key_files):
    """sftp://user@host:port/path is an SFTPTarget; the port defaults to
    22, and /~/ means the user's home."""
    key, known_hosts = key_files
    target = target_from_spec("sftp://mirror@Master.Example.org/srv/ubuntu",
                              key, known_hosts)
    assert isinstance(target, SFTPTarget)
    assert verifyObject(ITimestampTarget, target)
    assert (target.user, target.host, target.port, target.directory) == (
        "mirror", "master.example.org", 22, "/srv/ubuntu")
    assert target.known_hosts_name == "master.example.org"
    assert target.remote_path("stamp") == "/srv/ubuntu/stamp"
    assert target.description == \
        "sftp://mirror@master.example.org:22/srv/ubuntu"
    home = target_from_spec("sftp://m@127.0.0.1:2222/~/pub", key,
                            known_hosts)
    assert home.known_hosts_name == "[127.0.0.1]:2222"
    assert home.remote_path("stamp") == "pub/stamp"


@pytest.mark.parametrize("spec, says", [
    ("/srv/ubuntu", "neither local:/path nor sftp://"),
    ("http://master/ubuntu", "neither"),
    ("local:srv/ubuntu", "absolute directory"),
    ("sftp://mirror:secret@master/srv", "has a password"),
    ("sftp://master/srv", "lacks a user"),
    ("sftp://mirror@master", "must end with a directory"),
    ("sftp://mirror@master:99999/srv", "malformed"),
])
def test_spec_errors(key_files, spec, says):
    """A target the planter cannot use is a ConfigurationError saying
    why."""
    key, known_hosts = key_files
    with pytest.raises(ConfigurationError, match=says):
        target_from_spec(spec, key, known_hosts)


def test_spec_sftp_needs_key_and_known_hosts(key_files):
    """An SFTP target without a private key or a known_hosts file is a
    ConfigurationError naming the missing setting."""
    key, known_hosts = key_files
    with pytest.raises(ConfigurationError, match="private_key"):
        target_from_spec("sftp://m@master/srv", None, known_hosts)
    with pytest.raises(ConfigurationError, match="known_hosts"):
        target_from_spec("sftp://m@master/srv", key, "")


def test_key_files_errors(key_files, tmp_path):
    """A missing, public or unreadable key, and a missing known_hosts file,
    are ConfigurationErrors naming the file."""
    key, _ = key_files
    for path, says in [(str(tmp_path / "none"), "cannot read"),
                       (key + ".pub", "is a public key")]:
        with pytest.raises(ConfigurationError, match=says):
            load_private_key(path)
    (tmp_path / "junk").write_text("not a key\n")
    with pytest.raises(ConfigurationError, match="not a private key"):
        load_private_key(str(tmp_path / "junk"))
    with pytest.raises(ConfigurationError, match="known_hosts file"):
        load_known_hosts(str(tmp_path / "none"))


# The history.

def test_history(store):
    """Plantings are kept per distribution and target, found by the time
    the file said, and pruned by when they were planted."""
    ubuntu = load_sample_data(store)
    other = DistributionSet(store).new("debian", "Debian", "Debian",
                                       ubuntu.owner, ubuntu.mirror_admin)
    history = PlantedTimestampSet(store)
    local, remote = "local:/srv/ubuntu", "sftp://m@master:22/srv/ubuntu"
    old = WHEN - timedelta(days=40)
    history.record(ubuntu, local, old, old + timedelta(seconds=1))
    for target in (local, remote):
        history.record(ubuntu, target, WHEN, WHEN + timedelta(seconds=2))
    newer = WHEN + timedelta(minutes=5)
    history.record(ubuntu, local, newer, newer + timedelta(seconds=1))
    store.commit()
    assert [(p.target, p.date_stamp) for p in history.getHistory(
        ubuntu, local)] == [(local, newer), (local, WHEN), (local, old)]
    assert len(history.getHistory(ubuntu)) == 4
    assert history.getLatest(ubuntu).date_stamp == newer
    assert history.getLatest(ubuntu, remote).date_stamp == WHEN
    assert [p.target for p in history.findByStamp(ubuntu, WHEN)] == [
        local, remote]
    zoned = WHEN.replace(tzinfo=timezone.utc)
    assert len(history.findByStamp(ubuntu, zoned)) == 2
    assert history.findByStamp(ubuntu, WHEN + timedelta(seconds=1)) == []
    assert history.getLatest(other) is None
    assert history.getHistory(other) == []
    assert history.prune(WHEN - timedelta(days=30)) == 1
    store.commit()
    assert [p.date_stamp for p in history.getHistory(ubuntu, local)] == [
        newer, WHEN]
