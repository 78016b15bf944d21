"""`mirrorkeeper mirrorlist-server`: the mirror list daemon in the
foreground (twistd -n mirrorlist-server runs the same service)."""

import sys

from mirrorkeeper.errors import ConfigurationError
from mirrorkeeper.scripts.commands.common import add_command
from mirrorkeeper.settings import (
    MIRRORLIST_DAEMON, add_arguments, daemon_argv)


def register(subparsers, common):
    parser = add_command(
        subparsers, "mirrorlist-server",
        "serve mirror lists, metalinks and redirects from the snapshot",
        "Serve apt mirror lists, dnf mirrorlists and metalinks, and "
        "redirects to\nmirrors, from the snapshot that "
        "cronscripts/generate-mirrorlist-snapshot.py\nwrites; a new "
        "snapshot (or SIGHUP) is picked up without a restart.\nRuns until "
        "interrupted.",
        parents=[common], run=run_server, needs_current_schema=False,
        uses_database=False)
    add_arguments(parser, MIRRORLIST_DAEMON)
    parser.add_argument("--reuse-port", action="store_true",
                        help="listen with SO_REUSEPORT, so that other "
                        "daemons may share the port")


def run_server(script):
    """Run the daemon until SIGINT or SIGTERM; returns 0."""
    from twisted.internet import reactor
    from twisted.logger import globalLogBeginner, textFileLogObserver

    from mirrorkeeper.publish.server import Options, makeService
    given = script.options
    options = Options()
    argv = ["--config", given.config] if given.config else []
    argv += daemon_argv(given, MIRRORLIST_DAEMON)
    if given.reuse_port:
        argv.append("--reuse-port")
    try:
        options.parseOptions(argv)
    except Exception as error:
        raise ConfigurationError(str(error)) from None
    service = makeService(options, reactor)
    service.startService()
    globalLogBeginner.beginLoggingTo([textFileLogObserver(sys.stderr)],
                                     redirectStandardIO=False)
    reactor.addSystemEventTrigger("before", "shutdown", service.stopService)
    reactor.run()
    return 0
