"""Fixtures every test can ask for.

`store` is a Storm store on a fresh, empty-but-for-reference-data database,
once on SQLite and once on a real PostgreSQL server the harness starts: a
test that takes it runs on both backends.  The set utilities are registered
on it.  `sample_store` is the same with the sample data loaded.
"""

import os
import shutil
import sys

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "lib"))
sys.path.insert(0, os.path.dirname(HERE))

from mirrorkeeper.database.migrate import upgrade  # noqa: E402
from mirrorkeeper.database.store import open_store  # noqa: E402
from mirrorkeeper.model import register_utilities  # noqa: E402
from tests.harness.postgres import (  # noqa: E402
    TemplateDatabases, shared_postgres_server)

BACKENDS = ["sqlite", "postgres"]

# Tests run on the defaults, never on a mirrorkeeper.conf lying around.
os.environ["MIRRORKEEPER_CONFIG"] = os.devnull
os.environ.pop("MIRRORKEEPER_DATABASE", None)


def _apply_schema(uri):
    store = open_store(uri)
    try:
        upgrade(store)
    finally:
        store.close()


@pytest.fixture(scope="session")
def postgres_databases():
    """Fresh PostgreSQL databases with the schema, cloned from a template."""
    server = shared_postgres_server()
    databases = TemplateDatabases(server, prepare=_apply_schema)
    yield databases
    server.stop()


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory):
    """An SQLite file with the schema, copied for each test."""
    path = str(tmp_path_factory.mktemp("sqlite-template") / "template.db")
    _apply_schema("sqlite:" + path + "?journal_mode=DELETE")
    return path


@pytest.fixture(params=BACKENDS)
def database_uri(request, tmp_path):
    """The URI of a fresh database with the schema, on each backend."""
    if request.param == "sqlite":
        path = str(tmp_path / "mirrorkeeper.db")
        shutil.copyfile(request.getfixturevalue("sqlite_template"), path)
        yield "sqlite:" + path
    else:
        databases = request.getfixturevalue("postgres_databases")
        uri = databases.new()
        yield uri
        databases.release(uri)


@pytest.fixture(scope="module", params=BACKENDS)
def module_databases(request, tmp_path_factory):
    """new() gives the URI of a fresh database with the schema, as
    `database_uri` does, on each backend, kept until the module's end: for
    worlds that cost seconds to build (an archive, mirrors, a prober run,
    a daemon) and that the module's tests only read."""
    made = []

    def new():
        if request.param == "sqlite":
            path = str(tmp_path_factory.mktemp("module-db") /
                       "mirrorkeeper.db")
            shutil.copyfile(request.getfixturevalue("sqlite_template"), path)
            return "sqlite:" + path
        made.append(request.getfixturevalue("postgres_databases").new())
        return made[-1]
    yield new
    for uri in made:
        request.getfixturevalue("postgres_databases").drop(uri)


@pytest.fixture
def store(database_uri):
    store = open_store(database_uri)
    register_utilities(store)
    yield store
    store.rollback()
    store.close()


@pytest.fixture
def sample_store(store):
    from mirrorkeeper.sampledata import load_sample_data
    load_sample_data(store)
    store.commit()
    return store


@pytest.fixture(scope="session")
def smtp_server():
    """A real SMTP server on 127.0.0.1 that keeps what it receives."""
    from tests.harness.smtp import SMTPServer
    server = SMTPServer().start()
    yield server
    server.stop()
