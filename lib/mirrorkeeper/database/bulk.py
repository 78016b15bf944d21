"""Writing many rows at once, in the store's transaction.

Storm writes a row a statement; a probe record's thousand places made a
thousand parameters' worth of SQL text to build, parse and plan per
hundred rows.  `insert_rows` hands the rows to the driver in one call
instead, through the store's own connection, so they are part of the
transaction the store commits: COPY on PostgreSQL, `executemany` on
SQLite (one prepared statement, run per row inside the library).

On PostgreSQL, COPY of a thousand places took about a third of the time
of psycopg2's `execute_values` (one INSERT of a thousand rows), whose
statement the server must parse and plan (bench/probe_rows.py).
"""

import io

from storm.databases.postgres import Postgres

__all__ = ["insert_rows"]

# COPY's text format: a backslash, tab, newline or carriage return in a
# value is written as its escape; None is \N.
_COPY_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t",
                               "\n": "\\n", "\r": "\\r"})


def _copy_field(value):
    if value is None:
        return "\\N"
    if value is True:
        return "t"
    if value is False:
        return "f"
    if isinstance(value, str):
        return value.translate(_COPY_ESCAPES)
    return str(value)


def copy_text(rows):
    """`rows` in COPY's text format."""
    return "".join("\t".join(map(_copy_field, row)) + "\n" for row in rows)


def insert_rows(store, table, columns, rows):
    """INSERT `rows` (tuples of plain values, in the order of `columns`)
    into `table`, in the store's current transaction; does not commit.
    `table` and `columns` are names from our own code, never input."""
    rows = rows if isinstance(rows, list) else list(rows)
    if not rows:
        return
    # Storm begins its transaction with its first statement (on SQLite
    # by an explicit BEGIN); the driver's cursor must write inside it.
    store.execute("SELECT 1", noresult=True)
    cursor = store._connection.build_raw_cursor()
    try:
        if isinstance(store.get_database(), Postgres):
            cursor.copy_expert("COPY %s (%s) FROM STDIN" % (
                table, ", ".join(columns)), io.StringIO(copy_text(rows)))
        else:
            cursor.executemany(
                "INSERT INTO %s (%s) VALUES (%s)" % (
                    table, ", ".join(columns),
                    ", ".join(["?"] * len(columns))), rows)
    finally:
        cursor.close()
