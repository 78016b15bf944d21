"""A real, throwaway PostgreSQL server for the tests.

    server = PostgresServer().start()      # initdb + postgres, ~1 s
    server.create_database("scratch")
    store = Store(create_database(server.uri("scratch")))
    ...
    server.stop()                          # stops postgres, removes its files

The server lives in a fresh temporary directory (data files, log, unix
socket) and listens on 127.0.0.1 on a free port, with durability switched off
(fsync, synchronous_commit, full_page_writes): a crash loses nothing a test
cares about. Every role connects as the superuser ``postgres`` without a
password (trust authentication, loopback and the private socket only).

initdb refuses to run as root, so under root the server runs as the
unprivileged ``nobody`` user (setpriv, no user is created) and the temporary
directory is given to that user.

A fresh database per test is cheap when it is cloned from a template that is
prepared once (schema applied, sample data loaded):

    databases = TemplateDatabases(server, prepare=apply_schema)
    uri = databases.new()                  # CREATE DATABASE ... TEMPLATE
    ...
    databases.drop(uri)

``prepare(uri)`` is called once, on the first ``new()``; it must close every
connection it opened, because PostgreSQL copies a template only while nobody
is connected to it. After it returns, the template refuses connections so
that no test can change it by accident.

A missing server is an error (PostgresNotFound), never a reason to skip.

Clean-up: stop() is registered with atexit, and the server gets SIGINT (a
fast shutdown) from the kernel if the process that started it dies, so no
postgres process outlives a test run even when it is killed. (That needs the
server to be started from the main thread; see _command.) Directories left
behind by a killed run are removed by the next start().

Cost, measured on a 2-CPU machine: start() about 1 s; a copy of a template
about 0.05 s when the template is nearly empty, 0.3-0.5 s for one with ~40
tables (PostgreSQL copies every file of the template and its catalogs).
release() instead of drop() empties a database back to the template's rows
and sequences, for the next new(), in a tenth of that.
"""

import atexit
import glob
import io
import os
import pwd
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time

import psycopg2
from psycopg2 import sql

__all__ = [
    "PostgresNotFound",
    "PostgresServerError",
    "PostgresServer",
    "TemplateDatabases",
    "find_postgres_bindir",
    "shared_postgres_server",
]

# The user the server runs as when we are root; it exists on every Debian
# machine and owns nothing, so the server can touch only its own directory.
UNPRIVILEGED_USER = "nobody"

DIRECTORY_PREFIX = "mirrorkeeper-pg-"
SUPERUSER = "postgres"


class PostgresNotFound(RuntimeError):
    """The PostgreSQL server programs (initdb, postgres) are not installed."""


class PostgresServerError(RuntimeError):
    """The throwaway server could not be set up or did not start."""


def _version_key(path):
    return [int(part) for part in re.findall(r"\d+", path)]


def find_postgres_bindir():
    """The directory holding initdb and postgres, or PostgresNotFound.

    Looked for in $MIRRORKEEPER_PG_BINDIR, `pg_config --bindir`, Debian's
    /usr/lib/postgresql/<version>/bin (newest version first) and PATH.
    """
    candidates = []
    searched = []
    override = os.environ.get("MIRRORKEEPER_PG_BINDIR")
    if override:
        candidates.append(override)
    pg_config = shutil.which("pg_config")
    if pg_config:
        try:
            candidates.append(subprocess.run(
                [pg_config, "--bindir"], capture_output=True, text=True,
                check=True).stdout.strip())
        except (OSError, subprocess.CalledProcessError):
            pass
    candidates.extend(sorted(glob.glob("/usr/lib/postgresql/*/bin"),
                             key=_version_key, reverse=True))
    for name in ("postgres", "initdb"):
        found = shutil.which(name)
        if found:
            candidates.append(os.path.dirname(os.path.realpath(found)))
    for bindir in candidates:
        searched.append(bindir)
        if all(os.access(os.path.join(bindir, name), os.X_OK)
               for name in ("initdb", "postgres")):
            return bindir
    raise PostgresNotFound(
        "PostgreSQL server programs (initdb, postgres) not found; searched "
        "%s. Install the server (Debian: apt-get install postgresql, which "
        ".ci/run does) or set MIRRORKEEPER_PG_BINDIR."
        % (", ".join(searched) or "pg_config, /usr/lib/postgresql/*/bin "
           "and PATH",))


def _free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _read_pid(path):
    try:
        with open(path) as f:
            return int(f.readline().strip())
    except (OSError, ValueError):
        return None


def remove_stale_directories(parent=None):
    """Remove server directories whose run was killed before cleaning up.

    A directory is stale when neither the process that made it nor its
    postmaster is alive any more.
    """
    parent = parent or tempfile.gettempdir()
    for path in glob.glob(os.path.join(parent, DIRECTORY_PREFIX + "*")):
        owner = _read_pid(os.path.join(path, "owner.pid"))
        postmaster = _read_pid(os.path.join(path, "data", "postmaster.pid"))
        if owner is None or _alive(owner):
            continue
        if postmaster is not None and _alive(postmaster):
            continue
        shutil.rmtree(path, ignore_errors=True)


class PostgresServer:
    """One throwaway PostgreSQL server; see the module docstring.

    Attributes once started: host ("127.0.0.1"), port, socket_dir,
    superuser, directory (removed by stop()).
    """

    host = "127.0.0.1"
    superuser = SUPERUSER
    # Starting is initdb (~1 s) then recovery-free startup; a loaded CI
    # machine can be ten times slower, so wait generously before failing.
    start_timeout = 60
    stop_timeout = 30
    # Another process may take the free port between our probe and
    # postgres's bind; then we try another.
    bind_attempts = 5

    def __init__(self, bindir=None, parent_dir=None):
        self._bindir = bindir
        self._parent_dir = parent_dir
        self.directory = None
        self.port = None
        self._process = None
        self._log = None
        self._lock = threading.Lock()

    # -- life cycle -----------------------------------------------------

    def start(self):
        """Create the cluster and start the server; returns self."""
        if self._process is not None:
            raise PostgresServerError("this server is already started")
        bindir = self._bindir or find_postgres_bindir()
        self._bindir = bindir
        parent = self._parent_dir or tempfile.gettempdir()
        remove_stale_directories(parent)
        self.directory = tempfile.mkdtemp(prefix=DIRECTORY_PREFIX, dir=parent)
        atexit.register(self.stop)
        try:
            with open(os.path.join(self.directory, "owner.pid"), "w") as f:
                f.write("%d\n" % os.getpid())
            self._run_as = self._unprivileged_user()
            if self._run_as is not None:
                self._check_reachable(parent)
                os.chown(self.directory, *self._run_as)
            self._initdb()
            self._start_postgres()
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self):
        """Stop the server (fast shutdown) and remove its directory.

        Safe to call more than once, and on a server that failed to start.
        """
        with self._lock:
            process, self._process = self._process, None
            if process is not None:
                self._terminate(process)
            if self._log is not None:
                self._log.close()
                self._log = None
            if self.directory is not None:
                shutil.rmtree(self.directory, ignore_errors=True)
                self.directory = None
            atexit.unregister(self.stop)

    def __enter__(self):
        return self.start() if self._process is None else self

    def __exit__(self, *exc_info):
        self.stop()

    @property
    def running(self):
        return self._process is not None and self._process.poll() is None

    @property
    def socket_dir(self):
        return self.directory

    # -- databases ------------------------------------------------------

    def uri(self, dbname):
        """A Storm URI for `dbname`: postgres://postgres@127.0.0.1:PORT/db."""
        self._require_running()
        return "postgres://%s@%s:%d/%s" % (
            self.superuser, self.host, self.port, dbname)

    def dsn(self, dbname):
        """Keyword arguments for psycopg2.connect() to reach `dbname`."""
        self._require_running()
        return {"host": self.host, "port": self.port,
                "user": self.superuser, "dbname": dbname}

    def connect(self, dbname="postgres", autocommit=False):
        """A new psycopg2 connection to `dbname`; close it when done."""
        connection = psycopg2.connect(**self.dsn(dbname))
        connection.autocommit = autocommit
        return connection

    def execute(self, statement, params=None, dbname="postgres"):
        """Run one statement in autocommit mode; returns the rows, if any."""
        connection = self.connect(dbname, autocommit=True)
        try:
            with connection.cursor() as cursor:
                cursor.execute(statement, params)
                if cursor.description is not None:
                    return cursor.fetchall()
                return None
        finally:
            connection.close()

    def create_database(self, name, template=None):
        """Create database `name`, empty or as a copy of `template`.

        Copying a template fails if anyone is connected to the template.
        """
        statement = sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name))
        if template is not None:
            statement += sql.SQL(" TEMPLATE {}").format(
                sql.Identifier(template))
        self.execute(statement)

    def drop_database(self, name):
        """Drop database `name`, disconnecting its sessions; no error if
        it does not exist."""
        self.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(
            sql.Identifier(name)))

    def database_names(self):
        """The names of the databases other than the built-in ones."""
        rows = self.execute(
            "SELECT datname FROM pg_database WHERE datname NOT IN "
            "('postgres', 'template0', 'template1') ORDER BY datname")
        return [name for (name,) in rows]

    def log(self):
        """The server's log so far, for error messages."""
        if self.directory is None:
            return ""
        try:
            with open(os.path.join(self.directory, "postgres.log"),
                      errors="replace") as f:
                return f.read()
        except OSError:
            return ""

    # -- internals ------------------------------------------------------

    def _require_running(self):
        if self._process is None:
            raise PostgresServerError("the PostgreSQL server is not started")

    def _unprivileged_user(self):
        """(uid, gid) to run the server as, or None to run as ourselves."""
        if os.geteuid() != 0:
            return None
        try:
            entry = pwd.getpwnam(UNPRIVILEGED_USER)
        except KeyError:
            raise PostgresServerError(
                "running as root, and there is no %r user to run PostgreSQL "
                "as (initdb refuses to run as root)" % UNPRIVILEGED_USER)
        if shutil.which("setpriv") is None:
            raise PostgresServerError(
                "running as root, and setpriv (util-linux) is missing: it is "
                "needed to run PostgreSQL as %r" % UNPRIVILEGED_USER)
        return entry.pw_uid, entry.pw_gid

    def _check_reachable(self, parent):
        # The unprivileged user must be able to walk down to the directory.
        path = os.path.abspath(parent)
        while True:
            mode = os.stat(path).st_mode
            if not mode & 0o001:
                raise PostgresServerError(
                    "%s is not searchable by other users, so PostgreSQL "
                    "(running as %r) cannot reach its files; set TMPDIR to "
                    "a directory it can reach" % (path, UNPRIVILEGED_USER))
            if path == os.path.dirname(path):
                return
            path = os.path.dirname(path)

    def _command(self, program, *args):
        command = [os.path.join(self._bindir, program), *args]
        options = []
        # The kernel sends SIGINT (fast shutdown) to the server when the
        # thread that started it ends, however it ends: for the main
        # thread, that is when the test process dies. A server started
        # from another thread relies on stop() and atexit alone.
        if threading.current_thread() is threading.main_thread() and \
                shutil.which("setpriv"):
            options.append("--pdeathsig=SIGINT")
        if self._run_as is not None:
            uid, gid = self._run_as
            options += ["--reuid=%d" % uid, "--regid=%d" % gid,
                        "--clear-groups"]
        return ["setpriv", *options, *command] if options else command

    def _environment(self):
        env = {key: value for key, value in os.environ.items()
               if not key.startswith("PG")}
        env["LC_ALL"] = "C"
        env["LANG"] = "C"
        return env

    def _initdb(self):
        data = os.path.join(self.directory, "data")
        result = subprocess.run(
            self._command("initdb", "--pgdata=" + data,
                          "--username=" + self.superuser, "--auth=trust",
                          "--encoding=UTF8", "--locale=C", "--no-sync"),
            cwd=self.directory, env=self._environment(),
            stdin=subprocess.DEVNULL, capture_output=True, text=True)
        if result.returncode != 0:
            raise PostgresServerError(
                "initdb failed (exit %d):\n%s%s" % (
                    result.returncode, result.stdout, result.stderr))

    def _start_postgres(self):
        failure = None
        for _ in range(self.bind_attempts):
            port = _free_port()
            failure = self._try_start(port)
            if failure is None:
                self.port = port
                return
            if "could not bind" not in failure and \
                    "already in use" not in failure:
                break
        raise PostgresServerError(
            "PostgreSQL did not start:\n%s" % (failure,))

    def _try_start(self, port):
        """Start postgres on `port`; None when it accepts connections, else
        the reason it did not."""
        log_path = os.path.join(self.directory, "postgres.log")
        if self._log is not None:
            self._log.close()
        self._log = open(log_path, "ab")
        settings = {
            "listen_addresses": self.host,
            "port": str(port),
            "unix_socket_directories": self.directory,
            "fsync": "off",
            "synchronous_commit": "off",
            "full_page_writes": "off",
            "max_connections": "200",
            "shared_buffers": "32MB",
        }
        args = ["-D", os.path.join(self.directory, "data")]
        for key, value in settings.items():
            args += ["-c", "%s=%s" % (key, value)]
        process = subprocess.Popen(
            self._command("postgres", *args), cwd=self.directory,
            env=self._environment(), stdin=subprocess.DEVNULL,
            stdout=self._log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + self.start_timeout
        while time.monotonic() < deadline:
            if process.poll() is not None:
                return "exited with %d; log:\n%s" % (
                    process.returncode, self.log())
            try:
                psycopg2.connect(host=self.host, port=port,
                                 user=self.superuser, dbname="postgres",
                                 connect_timeout=2).close()
            except psycopg2.OperationalError:
                time.sleep(0.02)
                continue
            self._process = process
            return None
        self._terminate(process)
        return "not accepting connections after %d s; log:\n%s" % (
            self.start_timeout, self.log())

    def _terminate(self, process):
        for sig, wait in ((signal.SIGINT, self.stop_timeout),
                          (signal.SIGQUIT, 5), (signal.SIGKILL, 5)):
            if process.poll() is not None:
                return
            try:
                process.send_signal(sig)
            except ProcessLookupError:
                return
            try:
                process.wait(wait)
                return
            except subprocess.TimeoutExpired:
                continue


class TemplateDatabases:
    """Fresh databases cloned from a template prepared once.

    `prepare(uri)` builds the template (applies the schema, loads what every
    test needs) and must close its connections before returning.
    """

    def __init__(self, server, prepare=None, template="mirrorkeeper_template",
                 prefix="mirrorkeeper_test_"):
        self.server = server
        self.template = template
        self._prepare = prepare
        self._prefix = prefix
        self._prepared = False
        self._counter = 0
        self._lock = threading.Lock()
        # Databases release() gave back, and what it puts back in them.
        self._free = []
        self._kept = None

    def prepare(self):
        """Create and prepare the template now, if not done yet."""
        with self._lock:
            if self._prepared:
                return
            server = self.server
            server.drop_database(self.template)
            server.create_database(self.template)
            if self._prepare is not None:
                self._prepare(server.uri(self.template))
            connection = server.connect(self.template)
            try:
                self._remember(connection)
            finally:
                connection.close()
            # Sessions left open by prepare() would make every copy fail;
            # after this nobody can connect, so the template stays as built.
            server.execute(
                sql.SQL("ALTER DATABASE {} WITH ALLOW_CONNECTIONS false"
                        ).format(
                    sql.Identifier(self.template)))
            server.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE datname = %s AND pid <> pg_backend_pid()",
                (self.template,))
            self._prepared = True

    def new(self, name=None):
        """A fresh copy of the template; returns its Storm URI.  Without a
        `name`, one given back by release() is handed out again if there
        is one: the same as a copy, and ten times cheaper."""
        self.prepare()
        if name is None:
            with self._lock:
                if self._free:
                    return self.server.uri(self._free.pop())
                self._counter += 1
                name = "%s%d_%d" % (self._prefix, os.getpid(),
                                    self._counter)
        self.server.create_database(name, template=self.template)
        return self.server.uri(name)

    def drop(self, uri_or_name):
        """Drop a database made by new(), given its URI or name."""
        self.server.drop_database(uri_or_name.rsplit("/", 1)[-1])

    def release(self, uri_or_name):
        """Done with a database made by new(): brought back to the
        template's state and kept for the next new(), or dropped if that
        cannot be made sure of (the test changed the schema, or left a
        session that would not end)."""
        name = uri_or_name.rsplit("/", 1)[-1]
        try:
            reset = self._reset(name)
        except psycopg2.Error:
            reset = False
        if reset:
            with self._lock:
                self._free.append(name)
        else:
            self.drop(name)

    # What release() puts back: each table's rows, each sequence's value,
    # and what the schema is made of, read from the template once.
    _SCHEMA = """
        SELECT (SELECT string_agg(x, ',' ORDER BY x) FROM (
                  SELECT n.nspname || '.' || c.relname || ':' ||
                         c.relkind::text
                    FROM pg_class c
                    JOIN pg_namespace n ON n.oid = c.relnamespace
                   WHERE n.nspname !~ '^(pg_|information_schema)') r(x)),
               (SELECT string_agg(x, ',' ORDER BY x) FROM (
                  SELECT attrelid::regclass || '.' || attname || ':' ||
                         atttypid || ':' || attnotnull
                    FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid
                   WHERE c.relnamespace = 'public'::regnamespace
                     AND a.attnum > 0 AND NOT a.attisdropped) r(x)),
               (SELECT string_agg(x, ',' ORDER BY x) FROM (
                  SELECT conname || ':' || pg_get_constraintdef(oid)
                    FROM pg_constraint
                   WHERE connamespace = 'public'::regnamespace) r(x)),
               (SELECT string_agg(x, ',' ORDER BY x) FROM (
                  SELECT proname || ':' || md5(prosrc) FROM pg_proc
                   WHERE pronamespace = 'public'::regnamespace) r(x)),
               (SELECT string_agg(x, ',' ORDER BY x) FROM (
                  SELECT tgname || ':' || tgenabled::text FROM pg_trigger
                   WHERE NOT tgisinternal) r(x))
    """

    def _remember(self, connection):
        with connection.cursor() as cursor:
            cursor.execute(self._SCHEMA)
            schema = cursor.fetchone()
            cursor.execute("SELECT tablename FROM pg_tables "
                           "WHERE schemaname = 'public' ORDER BY 1")
            tables = [table for (table,) in cursor.fetchall()]
            rows = {}
            for table in tables:
                data = io.BytesIO()
                cursor.copy_expert(sql.SQL("COPY {} TO STDOUT").format(
                    sql.Identifier(table)), data)
                if data.getvalue():
                    rows[table] = data.getvalue()
            cursor.execute("SELECT sequencename FROM pg_sequences "
                           "WHERE schemaname = 'public' ORDER BY 1")
            sequences = {}
            for (sequence,) in cursor.fetchall():
                cursor.execute(sql.SQL(
                    "SELECT last_value, is_called FROM {}").format(
                        sql.Identifier(sequence)))
                sequences[sequence] = cursor.fetchone()
        connection.rollback()
        self._kept = (schema, tables, rows, sequences)

    def _reset(self, name):
        schema, tables, rows, sequences = self._kept
        self.server.execute(
            "SELECT pg_terminate_backend(pid, 5000) FROM pg_stat_activity "
            "WHERE datname = %s AND pid <> pg_backend_pid()", (name,))
        connection = self.server.connect(name)
        try:
            with connection.cursor() as cursor:
                cursor.execute("SET lock_timeout = '5s'")
                cursor.execute(self._SCHEMA)
                if cursor.fetchone() != schema:
                    return False
                # No trigger and no foreign key check while the template's
                # rows go back, in any order.  DELETE, not TRUNCATE: the
                # tables are small, and TRUNCATE makes new files for each
                # (ten times slower than a copy of the template).
                cursor.execute("SET session_replication_role = replica")
                cursor.execute(sql.SQL("; ").join(
                    sql.SQL("DELETE FROM {}").format(sql.Identifier(table))
                    for table in tables))
                for table, data in rows.items():
                    cursor.copy_expert(sql.SQL("COPY {} FROM STDIN").format(
                        sql.Identifier(table)), io.BytesIO(data))
                if sequences:
                    cursor.execute(sql.SQL("SELECT {}").format(
                        sql.SQL(", ").join(
                            sql.SQL("setval({}, {}, {})").format(
                                sql.Literal(sequence), sql.Literal(value),
                                sql.Literal(called))
                            for sequence, (value, called)
                            in sequences.items())))
            connection.commit()
            return True
        finally:
            connection.close()


_shared = None
_shared_lock = threading.Lock()


def shared_postgres_server():
    """The one server of this test process, started on first use.

    For a session-wide fixture: it is stopped at exit (atexit), or earlier
    by stop_shared_postgres_server().
    """
    global _shared
    with _shared_lock:
        if _shared is None or not _shared.running:
            _shared = PostgresServer().start()
        return _shared


def stop_shared_postgres_server():
    """Stop the server shared_postgres_server() started, if any."""
    global _shared
    with _shared_lock:
        if _shared is not None:
            _shared.stop()
            _shared = None
