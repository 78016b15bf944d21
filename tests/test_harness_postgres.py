"""The throwaway PostgreSQL server the suite runs its PostgreSQL tests on."""

import os
import shutil
import signal
import subprocess
import sys
import tempfile
import textwrap
import time

import psycopg2
import pytest
from storm.database import create_database
from storm.store import Store

from tests.harness.postgres import (
    PostgresNotFound,
    PostgresServer,
    TemplateDatabases,
    find_postgres_bindir,
)


@pytest.fixture(scope="module")
def server():
    server = PostgresServer().start()
    yield server
    server.stop()


def _wait_gone(pid, timeout=30):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with open("/proc/%d/stat" % pid) as f:
                # A zombie has finished; only its parent's wait() is missing.
                if f.read().rsplit(")", 1)[1].split()[0] == "Z":
                    return True
        except FileNotFoundError:
            return True
        time.sleep(0.05)
    return False


def test_listens_on_loopback_only(server):
    """The server listens on 127.0.0.1 and nowhere else."""
    rows = server.execute("SHOW listen_addresses")
    assert rows == [("127.0.0.1",)]
    assert server.uri("x") == "postgres://postgres@127.0.0.1:%d/x" % (
        server.port,)


def test_durability_is_off(server):
    """fsync, synchronous_commit and full_page_writes are off for speed."""
    for setting in ("fsync", "synchronous_commit", "full_page_writes"):
        assert server.execute("SHOW " + setting) == [("off",)]


def test_psycopg2_round_trip(server):
    """A database it creates takes SQL through psycopg2 and keeps the rows."""
    server.create_database("psycopg_round_trip")
    connection = psycopg2.connect(**server.dsn("psycopg_round_trip"))
    try:
        with connection.cursor() as cursor:
            cursor.execute("CREATE TABLE mirror (name text PRIMARY KEY)")
            cursor.execute("INSERT INTO mirror VALUES ('a'), ('b')")
        connection.commit()
        with connection.cursor() as cursor:
            cursor.execute("SELECT name FROM mirror ORDER BY name")
            assert cursor.fetchall() == [("a",), ("b",)]
            cursor.execute("INSERT INTO mirror VALUES ('a')")
    except psycopg2.IntegrityError:
        connection.rollback()
    else:
        pytest.fail("a duplicate primary key was accepted")
    finally:
        connection.close()
    server.drop_database("psycopg_round_trip")
    assert "psycopg_round_trip" not in server.database_names()


def test_storm_store_on_uri(server):
    """A Storm store opened on uri(name) writes rows another store reads."""
    server.create_database("storm_round_trip")
    uri = server.uri("storm_round_trip")
    writer = Store(create_database(uri))
    writer.execute("CREATE TABLE series (id serial PRIMARY KEY, name text)")
    writer.execute("INSERT INTO series (name) VALUES ('warty'), ('hoary')")
    writer.commit()
    writer.close()
    reader = Store(create_database(uri))
    names = [name for (name,) in reader.execute(
        "SELECT name FROM series ORDER BY id")]
    reader.close()
    assert names == ["warty", "hoary"]
    server.drop_database("storm_round_trip")


def test_template_databases_are_independent_copies(server):
    """Each new() database starts as the prepared template, unaffected by
    what tests did to earlier copies."""
    prepared = []

    def prepare(uri):
        prepared.append(uri)
        store = Store(create_database(uri))
        store.execute("CREATE TABLE country (code text PRIMARY KEY)")
        store.execute("INSERT INTO country VALUES ('BR'), ('DE')")
        store.commit()
        store.close()

    databases = TemplateDatabases(server, prepare, template="tmpl_test")
    first = databases.new()
    second = databases.new()
    assert first != second
    assert len(prepared) == 1
    store = Store(create_database(first))
    store.execute("DELETE FROM country")
    store.commit()
    store.close()
    store = Store(create_database(second))
    codes = [code for (code,) in store.execute(
        "SELECT code FROM country ORDER BY code")]
    store.close()
    assert codes == ["BR", "DE"]
    with pytest.raises(psycopg2.OperationalError, match="not currently "
                       "accepting connections"):
        server.connect("tmpl_test")
    databases.drop(first)
    databases.drop(second)
    server.drop_database("tmpl_test")
    assert not {"tmpl_test", first.rsplit("/", 1)[1]} & set(
        server.database_names())


def test_a_released_database_comes_back_as_the_template(server):
    """release() empties a database back to the template's rows and
    sequences for the next new(); one whose schema a test changed is
    dropped instead."""
    def prepare(uri):
        store = Store(create_database(uri))
        store.execute("CREATE TABLE country (id SERIAL PRIMARY KEY, "
                      "code text UNIQUE)")
        store.execute("CREATE TABLE mirror (id SERIAL PRIMARY KEY, "
                      "country integer REFERENCES country(id))")
        store.execute("INSERT INTO country (code) VALUES ('BR'), ('DE')")
        store.commit()
        store.close()

    def contents(uri):
        store = Store(create_database(uri))
        rows = (list(store.execute("SELECT id, code FROM country "
                                   "ORDER BY id")),
                list(store.execute("SELECT * FROM mirror")),
                store.execute("SELECT nextval('mirror_id_seq')").get_one())
        store.rollback()
        store.close()
        return rows

    databases = TemplateDatabases(server, prepare, template="tmpl_release")
    first = databases.new()
    fresh = contents(first)
    store = Store(create_database(first))
    store.execute("DELETE FROM country WHERE code = 'BR'")
    store.execute("INSERT INTO country (code) VALUES ('FR')")
    store.execute("INSERT INTO mirror (country) VALUES (2), (3)")
    store.commit()
    # A session the test left open does not stop it.
    databases.release(first)
    store.close()
    again = databases.new()
    assert again == first
    assert contents(again) == fresh
    store = Store(create_database(again))
    store.execute("ALTER TABLE mirror ADD COLUMN name text")
    store.commit()
    store.close()
    databases.release(again)
    assert again.rsplit("/", 1)[1] not in server.database_names()
    assert databases.new() != again
    server.drop_database("tmpl_release")


def test_stop_removes_everything():
    """stop() ends the postgres process and removes its directory."""
    server = PostgresServer().start()
    directory = server.directory
    pid = int(open(os.path.join(directory, "data", "postmaster.pid"))
              .readline())
    server.stop()
    assert _wait_gone(pid, timeout=1)
    assert not os.path.exists(directory)
    server.stop()  # a second stop is harmless


def test_missing_binaries_is_an_error(tmp_path, monkeypatch):
    """Without initdb and postgres, finding the server raises an error that
    says what to install."""
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.setenv("MIRRORKEEPER_PG_BINDIR", str(tmp_path))
    monkeypatch.setattr("glob.glob", lambda pattern: [])
    with pytest.raises(PostgresNotFound, match="apt-get install postgresql"):
        find_postgres_bindir()
    with pytest.raises(PostgresNotFound):
        PostgresServer().start()


def test_killed_owner_leaves_no_server():
    """When the process that started the server is killed, the server shuts
    down and the next start() removes the directory left behind."""
    script = textwrap.dedent("""
        import os, sys, time
        from tests.harness.postgres import PostgresServer
        server = PostgresServer(parent_dir=sys.argv[1]).start()
        pid = open(os.path.join(server.directory, "data", "postmaster.pid"))
        print(pid.readline().strip(), server.directory, flush=True)
        time.sleep(600)
    """)
    # Not tmp_path: under root it is private, out of reach of the server's
    # unprivileged user.
    parent = tempfile.mkdtemp()
    os.chmod(parent, 0o755)
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(
        filter(None, [root, os.environ.get("PYTHONPATH")])))
    owner = subprocess.Popen([sys.executable, "-c", script, parent],
                             stdout=subprocess.PIPE, text=True, env=env)
    try:
        postmaster, directory = owner.stdout.readline().split()
    finally:
        owner.send_signal(signal.SIGKILL)
        owner.wait()
    assert _wait_gone(int(postmaster))
    assert os.path.isdir(directory)
    later = PostgresServer(parent_dir=parent).start()
    try:
        assert not os.path.exists(directory)
    finally:
        later.stop()
        shutil.rmtree(parent)
