"""`mirrorkeeper web`: the web site in the foreground (twistd -n
mirrorkeeper-web runs the same service); `mirrorkeeper admin create` and
`mirrorkeeper person set-password`: the local accounts people log in
with."""

import getpass
import sys

from zope.component import getUtility

from mirrorkeeper.errors import ConfigurationError, InvalidValueError
from mirrorkeeper.interfaces.person import IPersonSet
from mirrorkeeper.scripts.commands.common import (
    add_actions, add_command, find_person)
from mirrorkeeper.settings import WEB_DAEMON, add_arguments, daemon_argv


def register(subparsers, common):
    parser = add_command(
        subparsers, "web", "serve the web site, its feeds and JSON API",
        "Serve the mirror pages, registration and review, the RSS feeds, "
        "the JSON API\n(/api/1/) and /metrics.  Runs until interrupted.",
        parents=[common], run=run_web)
    add_arguments(parser, WEB_DAEMON)

    admin = add_actions(subparsers, "admin", "site admins of the web site")
    parser = add_command(
        admin, "create", "make a person a site admin, with a password",
        "Make NAME a site admin: a member of the [web] admins_team team "
        "(created if\nneeded), who may review and edit every mirror.  The "
        "person is registered first\nif new (give --display-name and "
        "--email); the password is read from the\nterminal, or from the "
        "first line of standard input.",
        parents=[common], run=admin_create)
    parser.add_argument("name", metavar="NAME", help="the person's name")
    parser.add_argument("--display-name", help="for a new person")
    parser.add_argument("--email", help="for a new person")


def add_person_actions(person, common):
    """`person set-password`, added to the `person` command's actions."""
    parser = add_command(
        person, "set-password", "set the password a person logs in with",
        "Set NAME's password, read from the terminal, or from the first "
        "line of standard\ninput.  Every session of the old password "
        "ends.",
        parents=[common], run=person_set_password)
    parser.add_argument("name", metavar="NAME", help="the person's name")


def read_password(prompt="Password: "):
    if sys.stdin.isatty():
        first = getpass.getpass(prompt)
        if getpass.getpass("Again: ") != first:
            raise InvalidValueError("the two passwords differ")
        return first
    return sys.stdin.readline().rstrip("\r\n")


def person_set_password(script):
    from mirrorkeeper.web.passwords import set_password
    person = find_person(script.options.name)
    set_password(person, read_password())
    print("Set the password of %s." % (person.name,))


def admin_create(script):
    from mirrorkeeper.web.passwords import set_password
    options = script.options
    people = getUtility(IPersonSet)
    person = people.getByName(options.name)
    if person is None:
        if not options.display_name:
            raise InvalidValueError("%s is new: give --display-name (and "
                                    "--email)" % (options.name,))
        person = people.new(options.name, options.display_name,
                            email=options.email)
    set_password(person, read_password())
    team_name = script.config.get("web", "admins_team")
    team = people.getByName(team_name)
    if team is None:
        team = people.newTeam(team_name, "Site admins")
    elif not team.is_team:
        raise ConfigurationError("[web] admins_team names %s, a person, not "
                                 "a team" % (team_name,))
    team.addMember(person)
    print("%s is a site admin (a member of %s)." % (person.name, team.name))


def run_web(script):
    """Run the daemon until SIGINT or SIGTERM; returns 0."""
    from twisted.internet import reactor
    from twisted.logger import globalLogBeginner, textFileLogObserver

    from mirrorkeeper.web.service import Options, makeService
    given = script.options
    # The schema was checked when the script opened its store; the daemon
    # has stores of its own, one per thread.
    script.store.rollback()
    argv = ["--database", script.database_uri]
    if given.config:
        argv += ["--config", given.config]
    argv += daemon_argv(given, WEB_DAEMON)
    options = Options()
    try:
        options.parseOptions(argv)
    except Exception as error:
        raise ConfigurationError(str(error)) from None
    service = makeService(options, reactor)
    globalLogBeginner.beginLoggingTo([textFileLogObserver(sys.stderr)],
                                     redirectStandardIO=False)
    service.startService()
    reactor.addSystemEventTrigger("before", "shutdown", service.stopService)
    reactor.run()
    return 0
