"""Stores are passed, never found: only the command line's entry point
binds the set utilities to a store, and a prober run is told its
database."""

import ast
import logging
import pathlib

import pytest
from twisted.internet.task import Clock

import mirrorkeeper
from mirrorkeeper.prober.job import ProberOptions, ProberRun

PACKAGE = pathlib.Path(mirrorkeeper.__file__).parent
# The names that find a store through the global site manager, and the
# modules allowed to use them: the model's registration itself, and the
# command line, whose script base binds the utilities to its store.
FINDERS = {"getUtility", "queryUtility", "getGlobalSiteManager",
           "register_utilities"}
ALLOWED = ("model/__init__.py", "scripts/")


def names_called(path):
    """The names of the functions called in the module at `path`, as
    written (``getUtility(...)``, ``component.getUtility(...)``)."""
    tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            function = node.func
            if isinstance(function, ast.Name):
                yield function.id
            elif isinstance(function, ast.Attribute):
                yield function.attr


def test_only_the_command_line_finds_stores():
    """Outside scripts/, no module looks a set utility up or registers
    one: the web, the prober and the publisher are given their stores."""
    found = []
    for path in sorted(PACKAGE.rglob("*.py")):
        relative = path.relative_to(PACKAGE).as_posix()
        if relative.startswith(ALLOWED):
            continue
        found += ["%s: %s" % (relative, name)
                  for name in sorted(set(names_called(path)) & FINDERS)]
    assert found == []


def test_the_check_sees_a_lookup():
    """The scan above can fail: it sees the script base's registration."""
    assert "register_utilities" in set(
        names_called(PACKAGE / "scripts" / "base.py"))


def test_prober_run_needs_its_database_uri(store, database_uri):
    """A prober run without its database's URI is refused at once, with an
    error naming what is missing, rather than writing its findings to
    whatever database a writer thread would open by default."""
    logger = logging.getLogger("test")
    with pytest.raises(TypeError, match="database_uri"):
        ProberRun(Clock(), store, ProberOptions(), logger)
    for missing in (None, ""):
        with pytest.raises(ValueError, match="database_uri"):
            ProberRun(Clock(), store, ProberOptions(), logger,
                      database_uri=missing)
    run = ProberRun(Clock(), store, ProberOptions(), logger,
                    database_uri=database_uri)
    assert run.database_uri == database_uri
