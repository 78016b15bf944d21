"""The migration runner: numbered SQL patches, each applied once.

Patches live in the schema/ folder beside this module (the repository's
database/schema/ points there) and are named ``patch-NNNN-what.sql``.  The
database records every patch it has in ``schema_patch``; upgrading applies
the missing ones in order, each in a transaction of its own together with the
row that records it, so a patch that fails leaves the database as it was.

Patches are written in PostgreSQL's dialect.  For SQLite the runner rewrites
``SERIAL PRIMARY KEY`` to ``INTEGER PRIMARY KEY AUTOINCREMENT``; patches keep
to SQL that both backends read the same way otherwise; a statement that
begins with ``/* sqlite */`` or ``/* postgresql */`` runs on that backend
only.  A statement ends with ``;`` at the end of a line (outside the
``$$``-quoted body of a PostgreSQL function); a comment is a line of its
own.
"""

import os
import re

from storm.databases.sqlite import SQLite

from mirrorkeeper.errors import SchemaError
from mirrorkeeper.timeutil import utcnow

SCHEMA_DIR = os.path.join(os.path.dirname(__file__), "schema")

_PATCH_NAME = re.compile(r"^patch-(\d{4})-[\w-]+\.sql$")
_ONLY = re.compile(r"\s*/\* (sqlite|postgresql) \*/\s*")

_CREATE_PATCH_TABLE = """
    CREATE TABLE IF NOT EXISTS schema_patch (
        number INTEGER PRIMARY KEY,
        name TEXT NOT NULL,
        date_applied TIMESTAMP WITHOUT TIME ZONE NOT NULL)
"""


def available_patches(schema_dir=SCHEMA_DIR):
    """[(number, file name)] of the patches on disk, in order."""
    patches = []
    for name in os.listdir(schema_dir):
        match = _PATCH_NAME.match(name)
        if match:
            patches.append((int(match.group(1)), name))
    patches.sort()
    numbers = [number for number, _ in patches]
    if len(set(numbers)) != len(numbers):
        raise SchemaError("two schema patches share a number in %s"
                          % (schema_dir,))
    return patches


def applied_patches(store):
    """The set of patch numbers the database has."""
    store.execute(_CREATE_PATCH_TABLE)
    return {number for (number,) in
            store.execute("SELECT number FROM schema_patch")}


def pending_patches(store, schema_dir=SCHEMA_DIR):
    """[(number, file name)] of the patches the database lacks."""
    applied = applied_patches(store)
    store.commit()
    return [patch for patch in available_patches(schema_dir)
            if patch[0] not in applied]


def split_statements(sql):
    """The statements of a patch, split where a line ends with a semicolon
    outside a function's $$-quoted body; comments stand on lines of their
    own and are dropped."""
    statements, current = [], []
    in_body = False
    for line in sql.splitlines():
        stripped = line.rstrip()
        if not stripped.strip() or stripped.lstrip().startswith("--"):
            continue
        current.append(stripped)
        in_body ^= stripped.count("$$") % 2 == 1
        if stripped.endswith(";") and not in_body:
            statements.append("\n".join(current)[:-1])
            current = []
    if current:
        raise SchemaError("the patch ends without a semicolon: %s"
                          % (current[0].strip(),))
    return statements


def _is_sqlite(store):
    return isinstance(store.get_database(), SQLite)


def _dialect(store, statement):
    """`statement` as the store's backend reads it, or None when it is
    for the other backend only."""
    sqlite = _is_sqlite(store)
    only = _ONLY.match(statement)
    if only is not None:
        if only.group(1) != ("sqlite" if sqlite else "postgresql"):
            return None
        statement = statement[only.end():]
    if sqlite:
        return statement.replace("SERIAL PRIMARY KEY",
                                 "INTEGER PRIMARY KEY AUTOINCREMENT")
    return statement


def upgrade(store, schema_dir=SCHEMA_DIR):
    """Apply every missing patch, in order; return the names applied.

    Each patch is committed with its schema_patch row, or rolled back whole
    and reported as SchemaError naming the patch and the failing statement.
    """
    applied = []
    newest = max(applied_patches(store), default=0)
    pending = pending_patches(store, schema_dir)
    late = [name for number, name in pending if number < newest]
    if late:
        # A patch written against an older schema, that landed after a
        # newer one was applied here: its statements may not hold now.
        raise SchemaError(
            "%s is numbered below patch %04d, which this database already "
            "has: give it a number above the newest patch" % (
                ", ".join(late), newest))
    for number, name in pending:
        with open(os.path.join(schema_dir, name), encoding="utf-8") as f:
            statements = split_statements(f.read())
        statement = None
        try:
            for statement in statements:
                statement = _dialect(store, statement)
                if statement is not None:
                    store.execute(statement, noresult=True)
            if _is_sqlite(store) and any(
                    "writable_schema" in each for each in statements):
                # A schema's text rewritten in place: SQLite reads it
                # again only once its version changes.
                (version,) = store.execute("PRAGMA schema_version").get_one()
                store.execute("PRAGMA schema_version = %d" % (version + 1,),
                              noresult=True)
            store.execute(
                "INSERT INTO schema_patch (number, name, date_applied) "
                "VALUES (?, ?, ?)", (number, name, utcnow()), noresult=True)
            store.commit()
        except Exception as error:
            store.rollback()
            first_line = (statement or "").strip().splitlines()[:1]
            raise SchemaError("schema patch %s failed at %r: %s" % (
                name, first_line[0] if first_line else "", error)) from error
        applied.append(name)
    return applied


def is_current(store, schema_dir=SCHEMA_DIR):
    """True when the database has every patch on disk."""
    return not pending_patches(store, schema_dir)
