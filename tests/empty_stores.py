"""The `empty_store` fixture, for tests of the schema's upgrades: `from
tests.empty_stores import empty_store`."""

import os

import pytest

from mirrorkeeper.database.store import open_store


@pytest.fixture(params=["sqlite", "postgres"])
def empty_store(request, tmp_path):
    """A store on a database with no schema at all, on each backend."""
    if request.param == "sqlite":
        store = open_store("sqlite:%s" % (tmp_path / "empty.db"))
        yield store
        store.close()
    else:
        server = request.getfixturevalue("postgres_databases").server
        name = "mirrorkeeper_empty_%d" % (os.getpid(),)
        server.drop_database(name)
        server.create_database(name)
        store = open_store(server.uri(name))
        yield store
        store.rollback()
        store.close()
        server.drop_database(name)
