"""The SQL statements Storm runs, recorded: for tests that check a page
or a plan costs the same statements however many mirrors there are."""

import contextlib

from storm.tracer import install_tracer, remove_tracer


class StatementLog:
    """A Storm tracer keeping each statement run (its text)."""

    def __init__(self):
        self.statements = []
        self.commits = 0

    def connection_raw_execute(self, connection, raw_cursor, statement,
                               params):
        self.statements.append(statement)
        if statement == "COMMIT":
            # Storm's SQLite connection commits by this statement, never
            # calling connection_commit.
            self.commits += 1

    def connection_raw_execute_error(self, *args):
        pass

    def connection_raw_execute_success(self, *args):
        pass

    def connection_commit(self, *args):
        self.commits += 1

    def connection_rollback(self, *args):
        pass

    def reading(self, *tables):
        """The SELECT statements that name one of `tables`."""
        return [statement for statement in self.statements
                if statement.lstrip().upper().startswith("SELECT")
                and any(table in statement for table in tables)]


@contextlib.contextmanager
def recorded_statements():
    """A StatementLog of what runs inside the block."""
    log = StatementLog()
    install_tracer(log)
    try:
        yield log
    finally:
        remove_tracer(log)
