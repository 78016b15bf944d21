"""The migration runner: numbered patches applied once each, in order, and
a failing patch leaving the database as it was, on both backends."""

import os
import shutil

import pytest

from mirrorkeeper.database.migrate import (
    SCHEMA_DIR, applied_patches, available_patches, is_current,
    pending_patches, split_statements, upgrade)
from mirrorkeeper.errors import SchemaError
from tests.empty_stores import empty_store  # noqa: F401

REAL_PATCHES = sorted(name for name in os.listdir(SCHEMA_DIR)
                      if name.startswith("patch-") and name.endswith(".sql"))

BROKEN_PATCH = """\
-- A patch whose second statement fails.
CREATE TABLE broken_first (
    id SERIAL PRIMARY KEY,
    note TEXT
);
INSERT INTO no_such_table (id) VALUES (1);
CREATE TABLE broken_third (id INTEGER);
"""


@pytest.fixture
def broken_schema_dir(tmp_path):
    """The real patches plus patch-9999-broken.sql."""
    folder = tmp_path / "schema"
    shutil.copytree(SCHEMA_DIR, folder)
    (folder / "patch-9999-broken.sql").write_text(BROKEN_PATCH)
    return str(folder)


def recorded(store):
    return sorted(store.execute(
        "SELECT number, name FROM schema_patch ORDER BY number"))


def table_exists(store, table):
    """True if `table` can be read (the transaction is rolled back
    afterwards either way)."""
    try:
        store.execute("SELECT COUNT(*) FROM %s" % table).get_one()
    except Exception:
        store.rollback()
        return False
    store.rollback()
    return True


def test_upgrade_applies_every_patch_and_records_it(empty_store):
    """On an empty database every patch is applied in order and recorded in
    schema_patch, after which the schema is current."""
    assert not is_current(empty_store)
    assert upgrade(empty_store) == REAL_PATCHES
    assert recorded(empty_store) == [
        (int(name[6:10]), name) for name in REAL_PATCHES]
    assert is_current(empty_store)
    assert empty_store.execute(
        "SELECT COUNT(*) FROM country").get_one() == (249,)
    for (date,) in empty_store.execute(
            "SELECT date_applied FROM schema_patch"):
        assert date is not None


def test_second_upgrade_is_a_no_op(empty_store):
    """Upgrading an up-to-date database applies nothing and changes no
    record."""
    upgrade(empty_store)
    before = list(empty_store.execute(
        "SELECT number, name, date_applied FROM schema_patch "
        "ORDER BY number"))
    assert upgrade(empty_store) == []
    assert list(empty_store.execute(
        "SELECT number, name, date_applied FROM schema_patch "
        "ORDER BY number")) == before
    assert empty_store.execute(
        "SELECT COUNT(*) FROM country").get_one() == (249,)


def test_failing_patch_leaves_database_as_it_was(store, broken_schema_dir):
    """A patch whose second statement fails is rolled back whole: the table
    of its first statement does not exist and it is not recorded, and the
    error names the patch and the failing statement."""
    store.commit()
    before = recorded(store)
    with pytest.raises(SchemaError) as caught:
        upgrade(store, broken_schema_dir)
    message = str(caught.value)
    assert "patch-9999-broken.sql" in message
    assert "INSERT INTO no_such_table" in message
    assert not table_exists(store, "broken_first")
    assert not table_exists(store, "broken_third")
    assert recorded(store) == before
    assert 9999 not in [number for number, _ in recorded(store)]
    assert pending_patches(store, broken_schema_dir) == [
        (9999, "patch-9999-broken.sql")]
    # The store is still usable, with the rest of the schema intact.
    assert store.execute(
        "SELECT COUNT(*) FROM country").get_one() == (249,)


def test_failing_patch_keeps_the_patches_before_it(empty_store,
                                                   broken_schema_dir):
    """On an empty database the good patches before a failing one stay
    applied and recorded; only the failing one is undone."""
    with pytest.raises(SchemaError, match="patch-9999-broken.sql"):
        upgrade(empty_store, broken_schema_dir)
    assert recorded(empty_store) == [
        (int(name[6:10]), name) for name in REAL_PATCHES]
    assert not table_exists(empty_store, "broken_first")
    assert not is_current(empty_store, broken_schema_dir)
    assert is_current(empty_store)


def test_patch_applied_after_fix(store, broken_schema_dir):
    """Once the failing patch is fixed, the next upgrade applies it."""
    store.commit()
    with pytest.raises(SchemaError):
        upgrade(store, broken_schema_dir)
    with open(os.path.join(broken_schema_dir, "patch-9999-broken.sql"),
              "w") as f:
        f.write("CREATE TABLE broken_first (\n    id SERIAL PRIMARY KEY\n);\n")
    assert upgrade(store, broken_schema_dir) == ["patch-9999-broken.sql"]
    assert table_exists(store, "broken_first")
    assert (9999, "patch-9999-broken.sql") in recorded(store)


# split_statements

def test_split_statements():
    """Statements end where a line ends with ';', may span lines, lose their
    final ';', and comment and blank lines are dropped."""
    sql = ("-- a comment\n"
           "CREATE TABLE a (\n"
           "    id INTEGER  \n"
           ");\n"
           "\n"
           "   -- an indented comment\n"
           "INSERT INTO a VALUES (1);\n"
           "INSERT INTO a VALUES (2); INSERT INTO a VALUES (3);\n")
    assert split_statements(sql) == [
        "CREATE TABLE a (\n    id INTEGER\n)",
        "INSERT INTO a VALUES (1)",
        "INSERT INTO a VALUES (2); INSERT INTO a VALUES (3)",
    ]


def test_split_statements_semicolon_inside_a_line():
    """A ';' that does not end a line does not end the statement."""
    assert split_statements("SELECT ';' AS x,\n  1;\n") == [
        "SELECT ';' AS x,\n  1"]


def test_split_statements_function_body():
    """A ';' ending a line inside a $$-quoted body does not end the
    statement; the one after the body does."""
    sql = ("CREATE FUNCTION f() RETURNS trigger AS $$\n"
           "BEGIN\n"
           "    RETURN NEW;\n"
           "END\n"
           "$$ LANGUAGE plpgsql;\n"
           "SELECT 1;\n")
    assert split_statements(sql) == [
        "CREATE FUNCTION f() RETURNS trigger AS $$\nBEGIN\n"
        "    RETURN NEW;\nEND\n$$ LANGUAGE plpgsql", "SELECT 1"]


def test_split_statements_empty():
    """A patch of only comments has no statements."""
    assert split_statements("-- nothing\n\n-- here\n") == []
    assert split_statements("") == []


def test_split_statements_missing_semicolon():
    """A patch whose last statement has no ';' is a SchemaError quoting
    that statement."""
    with pytest.raises(SchemaError, match="ends without a semicolon: "
                                          "CREATE TABLE b"):
        split_statements("CREATE TABLE a (id INTEGER);\nCREATE TABLE b (\n"
                         "  id INTEGER)\n")


def test_real_patches_split():
    """Every real patch splits into statements, none empty."""
    for name in REAL_PATCHES:
        with open(os.path.join(SCHEMA_DIR, name), encoding="utf-8") as f:
            statements = split_statements(f.read())
        assert statements, name
        assert all(statement.strip() for statement in statements)


# available_patches

def test_available_patches_in_order(tmp_path):
    """Patches are listed by number; files not named patch-NNNN-*.sql are
    ignored."""
    for name in ["patch-0010-ten.sql", "patch-0002-two.sql", "README",
                 "patch-12-short.sql", "patch-0003-three.sql.orig",
                 "patch-0001-one.sql"]:
        (tmp_path / name).write_text("SELECT 1;\n")
    assert available_patches(str(tmp_path)) == [
        (1, "patch-0001-one.sql"), (2, "patch-0002-two.sql"),
        (10, "patch-0010-ten.sql")]


def test_available_patches_rejects_duplicate_numbers(tmp_path):
    """Two patches with one number are a SchemaError naming the folder."""
    (tmp_path / "patch-0001-one.sql").write_text("SELECT 1;\n")
    (tmp_path / "patch-0001-other.sql").write_text("SELECT 1;\n")
    with pytest.raises(SchemaError) as caught:
        available_patches(str(tmp_path))
    assert "share a number" in str(caught.value)
    assert str(tmp_path) in str(caught.value)


def test_real_patches_available():
    """The shipped schema folder lists its patches, numbered from 1
    without gaps: a number handed out to work that never needed it is
    given to the next patch instead (upgrade refuses a patch numbered
    below one a database already has)."""
    patches = available_patches()
    assert [name for _, name in patches] == REAL_PATCHES
    assert [number for number, _ in patches] == list(
        range(1, len(patches) + 1))


def test_a_patch_numbered_below_an_applied_one_is_refused(tmp_path,
                                                          empty_store):
    """A patch that lands after a higher-numbered one was applied is not
    run against a schema it was not written for: upgrade says so and
    changes nothing."""
    (tmp_path / "patch-0001-one.sql").write_text(
        "CREATE TABLE one (id INTEGER);\n")
    (tmp_path / "patch-0003-three.sql").write_text(
        "CREATE TABLE three (id INTEGER);\n")
    upgrade(empty_store, str(tmp_path))
    (tmp_path / "patch-0002-two.sql").write_text(
        "CREATE TABLE two (id INTEGER);\n")
    with pytest.raises(SchemaError) as raised:
        upgrade(empty_store, str(tmp_path))
    assert "patch-0002-two.sql is numbered below patch 0003" in str(
        raised.value)
    assert applied_patches(empty_store) == {1, 3}


def test_a_mirror_may_offer_rsync_only_but_needs_a_url(empty_store):
    """After patch 0018 the database takes a mirror whose only URL is
    rsync, in the connection that upgraded it too, and still refuses a
    mirror with no URL."""
    from storm.exceptions import IntegrityError

    from mirrorkeeper.enums import (
        MirrorContent, MirrorPulseType, MirrorSpeed)
    from mirrorkeeper.model.country import CountrySet
    from mirrorkeeper.sampledata import load_sample_data
    store = empty_store
    upgrade(store)
    ubuntu = load_sample_data(store)
    mirror = ubuntu.newMirror(
        ubuntu.owner, "rsync-only", MirrorSpeed.S1G, CountrySet(store)["DE"],
        MirrorContent.ARCHIVE, MirrorPulseType.PULL,
        rsync_base_url="rsync://rsync-only.example.org/ubuntu")
    store.commit()
    mirror.rsync_base_url = None
    with pytest.raises(IntegrityError):
        store.flush()
    store.rollback()
