"""The base of every mirrorkeeper script, in the spirit of Launchpad's
scripts/base.py.

What you define, in a subclass:

- ``main()``: the work.  Return None (or 0) for success, or an exit status;
  a non-zero status rolls back what main() did not commit itself.
- ``add_my_options(parser)``: add your options to the argparse parser.
- optionally ``setting_options``: options that stand in for a setting
  (mirrorkeeper.settings.SettingOption), added to the parser and, when
  given, put in the configuration in the setting's place.
- optionally ``name`` (the program name in messages), ``description``,
  ``schema_must_be_current`` (False for scripts that create or upgrade the
  schema themselves) and ``uses_database`` (False for a script that needs
  no store).

What you get:

- ``self.options``: the parsed command line.
- ``self.logger``: a logger writing ``INFO    Message`` lines to stderr, at
  INFO by default; -v/--verbose and -q/--quiet move the level one step.
- ``self.config``: the configuration (--config PATH, else MIRRORKEEPER_CONFIG,
  else ./mirrorkeeper.conf, else the defaults), with --database as its
  [database] uri when given.
- ``self.store``: a Storm store on the database named by --database, else
  MIRRORKEEPER_DATABASE, else the configuration; opened before main() runs,
  with the set utilities (``getUtility(IDistributionSet)``...) registered
  on it.  Unless ``schema_must_be_current`` is False, a database that lacks
  schema patches is refused with an error telling to run
  ``mirrorkeeper db upgrade``.
- ``self.lock(path)``: an exclusive lock on a lock file, held until the run
  ends; a second concurrent run that asks for it exits with an error naming
  the file.
- ``self.mail_delivery()``: SMTP delivery to the server of the [mail]
  section, for mail waiting in the outbox once the transaction committed.
- ``run_reactor(function)``: for entry points only, run the reactor until
  the Deferred ``function()`` returns has fired, and return its result.
- ``run(argv)`` returns the exit status: 0 ok, 1 error, 2 usage.

Transactions: when ``main()`` succeeds, the store is committed.  A
MirrorKeeperError raised anywhere rolls it back (so nothing is changed) and
becomes one line on stderr, ``<name>: error: <message>``, and exit status 1.
Any other exception is rolled back too, and logged with its traceback.
"""

import argparse
import fcntl
import logging
import os
import sys

from mirrorkeeper.config import load_config
from mirrorkeeper.database.migrate import available_patches
from mirrorkeeper.database.store import _redact, backend_of, open_store
from mirrorkeeper.errors import MirrorKeeperError, SchemaError
from mirrorkeeper.model import register_utilities
from mirrorkeeper.settings import DATABASE, add_arguments

EXIT_OK = 0
EXIT_ERROR = 1
EXIT_USAGE = 2

LOG_FORMAT = "%(levelname)-7s %(message)s"

PACKAGE_LOGGER = logging.getLogger("mirrorkeeper")

# Whether the database records schema patches at all, asked without
# creating anything.
_HAS_PATCH_TABLE = {
    "sqlite": "SELECT 1 FROM sqlite_master WHERE type = 'table' "
              "AND name = 'schema_patch'",
    "postgres": "SELECT 1 FROM information_schema.tables "
                "WHERE table_name = 'schema_patch' "
                "AND table_schema = current_schema()",
}


class LockContention(MirrorKeeperError):
    """Another run holds the lock this run needs."""


class MirrorKeeperScript:
    """A command-line script: options, logging, configuration, a store and
    a lock, with errors turned into exit statuses.  See the module
    docstring for the contract."""

    name = "mirrorkeeper"
    description = None
    schema_must_be_current = True
    uses_database = True
    setting_options = ()

    def __init__(self):
        self.options = None
        # Under the package's logger, so that what the model logs shows too.
        self.logger = PACKAGE_LOGGER.getChild(self.name)
        self.config = None
        self._store = None
        self._lock_files = []

    # What subclasses define.

    def add_my_options(self, parser):
        """Add the script's own options and arguments to `parser`."""

    def main(self):
        raise NotImplementedError

    # What subclasses get.

    @property
    def database_uri(self):
        return self.config.database_uri

    @property
    def store(self):
        if self._store is None:
            store = open_store(self.database_uri)
            self._store = store
            register_utilities(store)
            if self.schema_must_be_current:
                self.check_schema()
        return self._store

    def check_schema(self):
        """SchemaError unless the database has every schema patch.  Only
        reads: a database that is not ours is left as it was."""
        store = self.store
        applied = set()
        if store.execute(_HAS_PATCH_TABLE[backend_of(self.database_uri)]
                         ).get_one():
            applied = {number for (number,) in store.execute(
                "SELECT number FROM schema_patch")}
        pending = [(number, name) for number, name in available_patches()
                   if number not in applied]
        if pending:
            raise SchemaError(
                "the database %s lacks %d schema patch(es) (%s): run "
                "`mirrorkeeper db upgrade`" % (
                    _redact(self.database_uri), len(pending),
                    ", ".join(name for _, name in pending)))

    def lock(self, path):
        """Hold an exclusive lock on the file `path` until the run ends, or
        LockContention if another process holds it."""
        folder = os.path.dirname(path)
        if folder:
            os.makedirs(folder, exist_ok=True)
        lock_file = open(path, "a")
        try:
            fcntl.flock(lock_file, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            lock_file.close()
            raise LockContention(
                "another run holds the lock %s; wait for it to finish"
                % (path,)) from None
        self._lock_files.append(lock_file)
        self.logger.debug("Acquired lock %s", path)

    def mail_delivery(self):
        """An IMailDelivery to the configured SMTP server."""
        from mirrorkeeper.mail.delivery import delivery_from_config
        return delivery_from_config(self.config)

    def common_options(self, suppress_defaults=False):
        """A parser holding the options every run takes, to be given as a
        parent to subcommand parsers (with `suppress_defaults`, so that an
        option given before the subcommand is not reset by it)."""
        parser = argparse.ArgumentParser(add_help=False)

        def default(value):
            return argparse.SUPPRESS if suppress_defaults else value

        group = parser.add_argument_group("common options")
        group.add_argument(
            DATABASE.flag, metavar=DATABASE.metavar, default=default(None),
            help="the database, e.g. sqlite:var/mirrorkeeper.db or "
                 "postgres://user@host/dbname (default: %s, else %s)"
                 % (DATABASE.setting.environment, DATABASE.setting.name))
        group.add_argument(
            "--config", metavar="PATH", default=default(None),
            help="the configuration file (default: MIRRORKEEPER_CONFIG, "
                 "else ./mirrorkeeper.conf)")
        group.add_argument(
            "-v", "--verbose", action="count", default=default(0),
            help="log more (repeat for more still)")
        group.add_argument(
            "-q", "--quiet", action="count", default=default(0),
            help="log less (repeat for less still)")
        return parser

    # Running.

    def build_parser(self):
        parser = argparse.ArgumentParser(
            prog=self.name, description=self.description,
            parents=[self.common_options()],
            formatter_class=argparse.RawDescriptionHelpFormatter)
        parser.add_argument("--version", action="version",
                            version="%(prog)s " + installed_version())
        add_arguments(parser, self.setting_options)
        self.add_my_options(parser)
        return parser

    def run(self, argv=None):
        """Parse `argv` (default: sys.argv[1:]), run main() and return the
        exit status."""
        try:
            self.options = self.build_parser().parse_args(argv)
        except SystemExit as exit:
            return exit.code if isinstance(exit.code, int) else EXIT_USAGE
        handler = self._start_logging()
        try:
            return self._run_main()
        finally:
            self._finish(handler)

    def _run_main(self):
        try:
            self.config = load_config(self.options.config).with_options(
                vars(self.options), (DATABASE,) + tuple(self.setting_options))
            if self.uses_database:
                self.store  # Opened now, so that getUtility works in main().
            status = self.main() or EXIT_OK
            if self._store is not None:
                if status == EXIT_OK:
                    self._store.commit()
                else:
                    self._store.rollback()
            return status
        except MirrorKeeperError as error:
            self._rollback()
            # One line, even when a driver's message has several.
            message = " ".join(str(error).split())
            print("%s: error: %s" % (self.name, message), file=sys.stderr)
            return EXIT_ERROR
        except BrokenPipeError:
            # Whoever read our output (`| head`) has gone: stop quietly.
            self._rollback()
            sys.stdout = open(os.devnull, "w")
            return EXIT_ERROR
        except KeyboardInterrupt:
            self._rollback()
            print("%s: error: interrupted; nothing was changed"
                  % (self.name,), file=sys.stderr)
            return EXIT_ERROR
        except Exception as error:
            self._rollback()
            self.logger.exception("Unexpected error; nothing was changed")
            print("%s: error: unexpected %s: %s"
                  % (self.name, type(error).__name__,
                     " ".join(str(error).split())), file=sys.stderr)
            return EXIT_ERROR

    def _rollback(self):
        if self._store is not None:
            try:
                self._store.rollback()
            except Exception:
                self.logger.exception("Rolling back failed")

    def _start_logging(self):
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter(LOG_FORMAT))
        steps = (self.options.verbose or 0) - (self.options.quiet or 0)
        level = min(logging.CRITICAL,
                    max(logging.DEBUG, logging.INFO - 10 * steps))
        PACKAGE_LOGGER.addHandler(handler)
        PACKAGE_LOGGER.setLevel(level)
        PACKAGE_LOGGER.propagate = False
        return handler

    def _finish(self, handler):
        if self._store is not None:
            self._store.close()
            self._store = None
        for lock_file in self._lock_files:
            lock_file.close()
        self._lock_files = []
        PACKAGE_LOGGER.removeHandler(handler)


def add_json_option(parser):
    """--json: a cronscript's summary as one JSON object on stdout."""
    parser.add_argument(
        "--json", action="store_true",
        help="print the run's summary as one JSON object on stdout (the "
             "log stays on stderr)")


def print_json(options, summary):
    """Print `summary` (a dict) as one line of JSON on stdout if --json
    was given."""
    if getattr(options, "json", False):
        import json
        sys.stdout.write(json.dumps(summary, sort_keys=True,
                                    default=str) + "\n")
        sys.stdout.flush()


def installed_version():
    """mirrorkeeper's version, as installed (pip wrote it from
    pyproject.toml), or 'unknown' when run from a checkout never
    installed."""
    from importlib.metadata import PackageNotFoundError, version
    try:
        return version("mirrorkeeper")
    except PackageNotFoundError:
        return "unknown"


def run_reactor(function):
    """Run the reactor until the Deferred `function()` returns has fired;
    return its result or raise its failure.  Only an entry point calls
    this, once per process: library code never runs the reactor."""
    from twisted.internet import defer, reactor
    from twisted.internet.error import ReactorNotRunning
    outcome = []

    def finish(result):
        outcome.append(result)
        try:
            reactor.stop()
        except ReactorNotRunning:
            pass

    reactor.callWhenRunning(
        lambda: defer.maybeDeferred(function).addBoth(finish))
    reactor.run()
    if not outcome:
        raise MirrorKeeperError("the run was interrupted before it ended")
    result = outcome[0]
    if hasattr(result, "raiseException"):
        result.raiseException()
    return result
