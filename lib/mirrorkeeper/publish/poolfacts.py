"""The master's size and SHA-256 of every published pool file, in an SQLite
file beside the mirror list snapshot.

A metalink of a pool file (/metalink/PATH) gives the client the master's
size and hash to verify what it downloads.  A real Debian or Ubuntu has
more than a million pool files: as JSON in the snapshot they would cost
every daemon process about half a kilobyte of heap each.  So the snapshot
keeps only the control files (Release, InRelease, indexes, repomd.xml) in
its ``files``, and the snapshot generator writes the pool files' facts to
an indexed file the daemons look a path up in, one primary key look-up a
request, their memory flat in the size of the archive.

The file is ``SNAPSHOT.pool-SERIAL.sqlite`` (pool_facts_path()), beside
the snapshot file SNAPSHOT, written before the snapshot of that serial:
written to a temporary name, then renamed, and never changed afterwards.
It holds two tables::

    snapshot (serial, distribution)      -- one row: whose facts these are
    pool_file (path PRIMARY KEY, size, sha256)

A daemon that loads snapshot N opens N's facts read-only (and immutable:
no locking, as nothing ever writes the file) and checks that its row names
the snapshot's serial and distribution, so that it never pairs a snapshot
with another's facts.  The generator keeps the facts of the serial it
writes and of the one before (which daemons may still be serving) and
removes older ones.  Facts that are missing, corrupt or of another
snapshot make metalinks of the files the snapshot itself does not list
answer 503, with a log line saying why; everything else goes on serving.
"""

import glob
import os
import re
import sqlite3
from urllib.parse import quote

from mirrorkeeper.atomicfile import replacing
from mirrorkeeper.errors import MirrorKeeperError

_SCHEMA = (
    "CREATE TABLE snapshot (serial INTEGER NOT NULL, "
    "distribution TEXT NOT NULL)",
    "CREATE TABLE pool_file (path TEXT PRIMARY KEY, "
    "size INTEGER NOT NULL, sha256 TEXT NOT NULL) WITHOUT ROWID")

# Rows handed to SQLite at a time: the generator's memory stays flat too.
_BATCH = 10000


class PoolFactsError(MirrorKeeperError):
    """The pool files' facts of a snapshot cannot be used."""


def pool_facts_path(snapshot_path, serial):
    """The facts file of snapshot `serial` written at `snapshot_path`."""
    return "%s.pool-%d.sqlite" % (snapshot_path, serial)


def published_pool_files(store, distribution_id):
    """(path, size, sha256) of every pool file of the distribution some
    publication of which is not removed, as the master's Packages and
    Sources indexes give them (a file they give neither of is left out);
    a path may come more than once.  Paths are as clients ask for them,
    under the root of the file's series (IDistroSeries.root)."""
    queries = (
        "SELECT DISTINCT s.root || f.path, f.size, f.sha256 "
        "FROM binary_package_file f "
        "JOIN binary_package_publishing_history h "
        "ON h.binary_package_release = f.binary_package_release "
        "JOIN distro_arch_series a ON a.id = h.distro_arch_series "
        "JOIN distro_series s ON s.id = a.distro_series "
        "WHERE s.distribution = ? AND h.date_removed IS NULL "
        "AND f.size IS NOT NULL AND f.sha256 IS NOT NULL",
        "SELECT DISTINCT s.root || f.path, f.size, f.sha256 "
        "FROM source_package_file f "
        "JOIN source_package_publishing_history h "
        "ON h.source_package_release = f.source_package_release "
        "JOIN distro_series s ON s.id = h.distro_series "
        "WHERE s.distribution = ? AND h.date_removed IS NULL "
        "AND f.size IS NOT NULL AND f.sha256 IS NOT NULL")
    for query in queries:
        yield from store.execute(query, (distribution_id,))


def write_pool_facts(snapshot_path, serial, distribution_name, facts):
    """Write the facts file of snapshot `serial` of `distribution_name`
    (see pool_facts_path()) from `facts`, (path, size, sha256) rows (of a
    path given twice the first is kept), atomically; then remove the facts
    files of serials older than the one before.  Returns the number of
    pool files written."""
    path = pool_facts_path(snapshot_path, serial)
    with replacing(path, prefix=".pool-facts-") as temporary:
        db = sqlite3.connect(temporary)
        try:
            # A file nobody reads until it is renamed: no journal needed.
            db.execute("PRAGMA journal_mode = OFF")
            db.execute("PRAGMA synchronous = OFF")
            for statement in _SCHEMA:
                db.execute(statement)
            db.execute("INSERT INTO snapshot VALUES (?, ?)",
                       (serial, distribution_name))
            batch = []
            for row in facts:
                batch.append(row)
                if len(batch) == _BATCH:
                    db.executemany("INSERT OR IGNORE INTO pool_file "
                                   "VALUES (?, ?, ?)", batch)
                    batch = []
            db.executemany("INSERT OR IGNORE INTO pool_file "
                           "VALUES (?, ?, ?)", batch)
            db.commit()
            count = db.execute("SELECT count(*) FROM pool_file").fetchone()[0]
        finally:
            db.close()
    _remove_older(snapshot_path, serial - 1)
    return count


def write_master_pool_facts(store, distribution, snapshot_path, serial):
    """The facts file of snapshot `serial` of `distribution`, from the
    scanner's records in `store` (write_pool_facts()); the number of pool
    files."""
    return write_pool_facts(snapshot_path, serial, distribution.name,
                            published_pool_files(store, distribution.id))


def _remove_older(snapshot_path, oldest_kept):
    pattern = re.compile(re.escape(os.path.basename(snapshot_path))
                         + r"\.pool-(\d+)\.sqlite$")
    for name in glob.glob(glob.escape(snapshot_path) + ".pool-*.sqlite"):
        match = pattern.match(os.path.basename(name))
        if match and int(match.group(1)) < oldest_kept:
            try:
                os.unlink(name)
            except FileNotFoundError:
                pass


def _check_length(path):
    """sqlite3.DatabaseError if the file at `path` is not as long as its
    header says (a truncated copy): a look-up of a path on the missing
    pages would otherwise be an error at the first request, or worse none
    at all."""
    with open(path, "rb") as f:
        header = f.read(100)
        length = f.seek(0, os.SEEK_END)
    page_size = int.from_bytes(header[16:18], "big")
    pages = int.from_bytes(header[28:32], "big")
    expected = (65536 if page_size == 1 else page_size) * pages
    if len(header) < 100 or length != expected:
        raise sqlite3.DatabaseError("%d bytes long, not the %d its header "
                                    "says" % (length, expected))


class PoolFacts:
    """A snapshot's pool file facts, opened read-only: versions(path) looks
    one up.  When the file could not be used, `problem` says why and
    versions() raises PoolFactsError with it; `reported` is whether that
    was logged (once is enough)."""

    def __init__(self, path, connection=None, problem=None):
        self.path = path
        self.connection = connection
        self.problem = problem
        self.reported = False

    @classmethod
    def open(cls, snapshot_path, serial, distribution_name):
        """The facts of snapshot `serial` of `distribution_name` written at
        `snapshot_path`; never raises: a file that cannot be used gives
        PoolFacts whose `problem` says why."""
        path = pool_facts_path(snapshot_path, serial)
        if not os.path.exists(path):
            return cls(path, problem="the pool file facts %s of snapshot %d "
                       "are missing" % (path, serial))
        try:
            connection = sqlite3.connect(
                "file:%s?mode=ro&immutable=1" % (quote(
                    os.path.abspath(path)),), uri=True,
                check_same_thread=False)
        except sqlite3.Error as error:
            return cls(path, problem="the pool file facts %s cannot be "
                       "opened: %s" % (path, error))
        try:
            rows = connection.execute(
                "SELECT serial, distribution FROM snapshot").fetchall()
            connection.execute("SELECT path FROM pool_file LIMIT 1")
            _check_length(path)
        except sqlite3.Error as error:
            connection.close()
            return cls(path, problem="the pool file facts %s are corrupt: "
                       "%s" % (path, error))
        if rows != [(serial, distribution_name)]:
            connection.close()
            found = ", ".join("snapshot %s of %s" % row for row in rows)
            return cls(path, problem="the pool file facts %s are of %s, not "
                       "of snapshot %d of %s" % (
                           path, found or "no snapshot", serial,
                           distribution_name))
        return cls(path, connection)

    def versions(self, path):
        """[{"size", "sha256"}] of the pool file `path`, or None when the
        master publishes no such file; PoolFactsError when the facts cannot
        be read."""
        if self.connection is None:
            raise PoolFactsError(self.problem)
        try:
            row = self.connection.execute(
                "SELECT size, sha256 FROM pool_file WHERE path = ?",
                (path,)).fetchone()
        except sqlite3.Error as error:
            self.problem = "the pool file facts %s are corrupt: %s" % (
                self.path, error)
            self.connection.close()
            self.connection = None
            raise PoolFactsError(self.problem) from None
        return None if row is None else [{"size": row[0], "sha256": row[1]}]
