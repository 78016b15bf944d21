"""Transactions that lose to a concurrent one, and running them again.

On PostgreSQL every store runs at repeatable read: a transaction that
writes a row another committed since it began is refused (a
serialization failure), and two that wait for each other's rows end in a
deadlock, one of them refused.  On SQLite a writer can find the database
locked for longer than its busy timeout.  Nothing was wrong with the
refused work itself: run again, it sees the winner's work and decides
afresh.  Every writer that can meet another (the web's requests, the
prober's records and claims, an admin's command) commits through
`committed()`, so that such a loss is never an error.

The work must touch nothing but the store: mail goes through the outbox,
in the same transaction, so a transaction run twice never sends twice.
"""

import random
import time

from storm.exceptions import OperationalError

# How many times a transaction that lost to a concurrent one is run, and
# the longest pause (seconds) before running it again: a random part of
# it, so that the losers of one race do not meet again in the next.
ATTEMPTS = 5
PAUSE = 0.05

# PostgreSQL's SQLSTATEs for a transaction that lost to another:
# serialization failure and deadlock.
_LOST_TO_ANOTHER = {"40001", "40P01"}


def lost_to_another(error):
    """Whether `error` ended a transaction only because a concurrent one
    won (PostgreSQL's serialization failures and deadlocks, SQLite's
    "database is locked")."""
    if not isinstance(error, OperationalError):
        return False
    # Storm raises its own copy of the driver's exception, from it: the
    # SQLSTATE is on the driver's (the copy's pgcode is not a string).
    pgcode = getattr(error.__cause__, "pgcode", None)
    return pgcode in _LOST_TO_ANOTHER or "database is locked" in str(error)


def committed(store, function, *args, **kwargs):
    """function(store, *args, **kwargs), committed, and its result; run
    again (at most ATTEMPTS times in all) when it lost to a concurrent
    transaction.  Any other error is raised at once, rolled back."""
    for attempt in range(1, ATTEMPTS + 1):
        try:
            result = function(store, *args, **kwargs)
            store.commit()
            return result
        except BaseException as error:
            store.rollback()
            if attempt == ATTEMPTS or not lost_to_another(error):
                raise
        time.sleep(random.uniform(0, PAUSE * attempt))
