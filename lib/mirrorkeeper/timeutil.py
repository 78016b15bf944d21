"""Time as mirrorkeeper keeps it: UTC, without a zone attached.

Every time in the database is UTC and stored without a zone, so that both
backends read back exactly what was written.  Times given to the model with a
zone are converted to UTC first; times given without one are taken as UTC.
"""

from datetime import datetime, timezone


def utcnow():
    """The current time in UTC, without a zone."""
    return datetime.now(timezone.utc).replace(tzinfo=None)


def as_utc(when):
    """`when` as a zoneless UTC datetime (None stays None)."""
    if when is None or when.tzinfo is None:
        return when
    return when.astimezone(timezone.utc).replace(tzinfo=None)
