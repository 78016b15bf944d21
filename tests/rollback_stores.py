"""Stores shared by the tests of one module, rolled back after each test.

A fresh PostgreSQL database per test costs a third of a second; the many
model tests that never commit do not need one.  `rollback_store` and
`rollback_sample_store` give such a test a store on a database made once per
module and backend (like conftest's `store` and `sample_store`, on SQLite
and on PostgreSQL), roll back whatever the test did, and check afterwards
that it committed nothing.  A test that commits takes conftest's fixtures.

Import the fixtures into a test module to use them:

    from tests.rollback_stores import rollback_sample_store  # noqa: F401
"""

import shutil

import pytest

from mirrorkeeper.database.store import open_store
from mirrorkeeper.model import register_utilities

# Tables whose row counts must be as they were after each test.
_WATCHED_TABLES = ["person", "email_address", "team_membership",
                   "distribution", "distro_series", "distro_arch_series",
                   "component", "distribution_mirror", "mirror_netblock",
                   "mirror_distro_arch_series", "mirror_distro_series_source",
                   "mirror_cd_image_distro_series", "mirror_probe_record",
                   "mail_outbox", "source_package_publishing_history",
                   "binary_package_publishing_history"]


def _counts(store):
    return [store.execute("SELECT COUNT(*) FROM %s" % table).get_one()[0]
            for table in _WATCHED_TABLES]


def _module_store(request, tmp_path_factory, sample):
    if request.param == "sqlite":
        path = str(tmp_path_factory.mktemp("rollback-store") / "shared.db")
        shutil.copyfile(request.getfixturevalue("sqlite_template"), path)
        uri, drop = "sqlite:" + path, None
    else:
        databases = request.getfixturevalue("postgres_databases")
        uri = databases.new()
        drop = databases.drop
    store = open_store(uri)
    if sample:
        from mirrorkeeper.sampledata import load_sample_data
        load_sample_data(store)
    store.commit()
    return store, uri, drop


def _per_test(store):
    store.rollback()
    register_utilities(store)
    baseline = _counts(store)
    store.rollback()
    yield store
    store.rollback()
    assert _counts(store) == baseline, \
        "a test committed in a shared store: give it conftest's store"
    store.rollback()


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def shared_empty_store(request, tmp_path_factory):
    store, uri, drop = _module_store(request, tmp_path_factory, False)
    yield store
    store.rollback()
    store.close()
    if drop:
        drop(uri)


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def shared_sample_store(request, tmp_path_factory):
    store, uri, drop = _module_store(request, tmp_path_factory, True)
    yield store
    store.rollback()
    store.close()
    if drop:
        drop(uri)


@pytest.fixture
def rollback_store(shared_empty_store):
    """A store on a database with the schema, rolled back after the test;
    never commit in it."""
    yield from _per_test(shared_empty_store)


@pytest.fixture
def rollback_sample_store(shared_sample_store):
    """A store on a database with the sample data, rolled back after the
    test; never commit in it."""
    yield from _per_test(shared_sample_store)
