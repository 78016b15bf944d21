"""Opening a Storm store on either of the two backends.

A database is named by a URI:

- ``sqlite:var/mirrorkeeper.db`` (the embedded default; a relative path is
  relative to the current directory, and its folder is created on first use);
- ``postgres://user:password@host:port/dbname`` (the production backend).

Both backends run the same schema, so nothing above this module knows which
one it is talking to.
"""

import os
from urllib.parse import urlsplit

from storm.database import create_database
from storm.store import Store

from mirrorkeeper.errors import ConfigurationError

# SQLite enforces foreign keys only when asked to, on every connection; WAL
# lets the web daemon read while the prober writes; a busy timeout makes a
# writer wait for another instead of failing at once.
_SQLITE_OPTIONS = {"foreign_keys": "1", "journal_mode": "WAL",
                   "timeout": "30"}


def backend_of(uri):
    """'sqlite' or 'postgres' for a database URI, or ConfigurationError."""
    scheme = uri.split(":", 1)[0]
    if scheme in ("postgres", "postgresql"):
        return "postgres"
    if scheme == "sqlite":
        return "sqlite"
    raise ConfigurationError(
        "unsupported database URI %r: use sqlite:PATH or "
        "postgres://user@host/dbname" % (uri,))


def _storm_uri(uri):
    backend = backend_of(uri)
    if backend == "postgres":
        if uri.startswith("postgresql:"):
            uri = "postgres:" + uri[len("postgresql:"):]
        return uri
    path, _, query = uri[len("sqlite:"):].partition("?")
    if path and path != ":memory:":
        folder = os.path.dirname(path)
        if folder:
            os.makedirs(folder, exist_ok=True)
    options = dict(_SQLITE_OPTIONS)
    for pair in filter(None, query.split("&")):
        key, _, value = pair.partition("=")
        options[key] = value
    if path == ":memory:" or not path:
        options.pop("journal_mode")
    return "sqlite:%s?%s" % (path, "&".join(
        "%s=%s" % item for item in sorted(options.items())))


def open_store(uri):
    """A new Store on the database named by `uri` (the configuration's
    [database] uri, which MIRRORKEEPER_DATABASE overrides, is the caller's
    to find: see mirrorkeeper.config).

    The store is yours: commit or roll back and close it when done.
    """
    if not uri:
        raise ConfigurationError("no database URI given")
    try:
        return Store(create_database(_storm_uri(uri)))
    except ConfigurationError:
        raise
    except Exception as error:
        raise ConfigurationError(
            "cannot open database %s: %s" % (_redact(uri), error)) from error


def _redact(uri):
    """The URI with any password replaced, for messages and logs."""
    parts = urlsplit(uri)
    if parts.password:
        return uri.replace(":%s@" % parts.password, ":***@", 1)
    return uri
