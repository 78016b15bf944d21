"""`mirrorkeeper config show`, run as the console script runs it: every
setting with its value and where the value came from."""

import json
import os
import subprocess
import sys

from mirrorkeeper import settings

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def config_show(tmp_path, *args, **environment):
    env = dict(os.environ, PYTHONPATH=os.path.join(ROOT, "lib"),
               **environment)
    env.pop("MIRRORKEEPER_DATABASE", None)
    env.update(environment)
    done = subprocess.run(
        [sys.executable, "-m", "mirrorkeeper.scripts.cli"] + list(args),
        capture_output=True, text=True, cwd=str(tmp_path), env=env,
        timeout=60)
    return done


def world(tmp_path):
    path = tmp_path / "site.conf"
    path.write_text("[prober]\ntimeout = 12.5\n"
                    "[web]\nsecret = do-not-print-me\n"
                    "[timestamps]\ntargets =\n    alpha local:/srv/alpha\n"
                    "    beta local:/srv/beta\n")
    return str(path)


def test_show_tells_each_source(tmp_path):
    """A file, an environment variable and the defaults each show as the
    source of what they set; secrets and database passwords are
    hidden."""
    path = world(tmp_path)
    done = config_show(
        tmp_path, "config", "show", MIRRORKEEPER_CONFIG=path,
        MIRRORKEEPER_DATABASE="postgres://ada:hunter2@db.example/mk")
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()

    def line_of(key, section):
        start = lines.index("[%s]" % (section,))
        return next(line for line in lines[start:]
                    if line.startswith(key + " ="))

    assert line_of("timeout", "prober").split() == [
        "timeout", "=", "12.5", "#", "file", path]
    assert line_of("uri", "database").split() == [
        "uri", "=", "postgres://ada:***@db.example/mk", "#", "environment",
        "MIRRORKEEPER_DATABASE"]
    assert line_of("max_parallel", "prober").split() == [
        "max_parallel", "=", "100", "#", "default"]
    assert line_of("secret", "web").split()[:3] == ["secret", "=", "***"]
    assert "hunter2" not in done.stdout
    assert "do-not-print-me" not in done.stdout
    targets = lines.index(line_of("targets", "timestamps"))
    assert lines[targets + 1:targets + 3] == [
        "    alpha local:/srv/alpha", "    beta local:/srv/beta"]
    shown = sum(1 for line in lines if " = " in line or line.endswith(" ="))
    declared = sum(len(section.settings)
                   for section in settings.SECTIONS.values())
    assert shown >= declared


def test_show_json_and_the_command_line(tmp_path):
    """--json gives every value as its kind with its source; --database on
    the command line wins over the environment."""
    path = world(tmp_path)
    done = config_show(
        tmp_path, "--database", "sqlite:given.db", "config", "show",
        "--json", MIRRORKEEPER_CONFIG=path,
        MIRRORKEEPER_DATABASE="sqlite:from-env.db")
    assert done.returncode == 0, done.stderr
    shown = json.loads(done.stdout)
    assert shown["file"] == path
    values = shown["settings"]
    assert values["database"]["uri"] == {
        "value": "sqlite:given.db", "source": "command line",
        "where": "--database"}
    assert values["prober"]["timeout"] == {
        "value": 12.5, "source": "file", "where": path}
    assert values["publication"]["include_unofficial"] == {
        "value": False, "source": "default", "where": None}
    assert values["web"]["secret"]["value"] == "***"
    for section in settings.SECTIONS.values():
        assert set(section.settings) <= set(values[section.name])


def test_show_refuses_a_misspelt_key(tmp_path):
    """A file with a key that is no setting is an error naming file and
    key, exit status 1."""
    path = tmp_path / "site.conf"
    path.write_text("[web]\ncache_second = 0\n")
    done = config_show(tmp_path, "config", "show",
                       MIRRORKEEPER_CONFIG=str(path))
    assert done.returncode == 1
    assert str(path) in done.stderr
    assert "[web] cache_second" in done.stderr
    assert "did you mean cache_seconds?" in done.stderr
    assert done.stdout == ""
