"""Registering what mirrors are about: people and teams, distributions,
their series, architectures and components."""

from zope.component import getUtility

from mirrorkeeper.enums import SeriesStatus
from mirrorkeeper.errors import InvalidValueError, NotFoundError
from mirrorkeeper.interfaces.distribution import (
    IComponentSet, IDistributionSet)
from mirrorkeeper.interfaces.person import IPersonSet
from mirrorkeeper.scripts.commands import web
from mirrorkeeper.scripts.commands.common import (
    add_actions, add_command, enum_choices, enum_label, find_distribution,
    find_person, parse_enum)


def register(subparsers, common):
    person = add_actions(subparsers, "person", "register people")
    parser = add_command(
        person, "add", "register a person (a mirror owner or reviewer)",
        parents=[common], run=person_add)
    parser.add_argument("name", metavar="NAME",
                        help="the unique short name, e.g. 'mark'")
    parser.add_argument("display_name", metavar="DISPLAY_NAME",
                        help="the name people read, e.g. 'Mark Shuttleworth'")
    parser.add_argument("--email", metavar="E",
                        help="the person's (preferred) email address")
    web.add_person_actions(person, common)

    team = add_actions(subparsers, "team", "register teams")
    parser = add_command(
        team, "add", "register a team, e.g. a distribution's mirror admins",
        "Register a team.  Mail to a team goes to its own address if it has "
        "one, else to\neach member.",
        parents=[common], run=team_add)
    parser.add_argument("name", metavar="NAME", help="the unique short name")
    parser.add_argument("display_name", metavar="DISPLAY_NAME",
                        help="the name people read")
    parser.add_argument("--member", metavar="N", action="append", default=[],
                        help="a member, by name (repeat for more)")
    parser.add_argument("--email", metavar="E",
                        help="the team's own email address")

    distribution = add_actions(subparsers, "distribution",
                               "register distributions")
    parser = add_command(
        distribution, "add", "register a distribution",
        parents=[common], run=distribution_add)
    parser.add_argument("name", metavar="NAME",
                        help="the unique short name, e.g. 'ubuntu'")
    parser.add_argument("--display-name", required=True,
                        help="e.g. 'Ubuntu'")
    parser.add_argument("--title", required=True, help="e.g. 'Ubuntu Linux'")
    parser.add_argument("--owner", metavar="PERSON", required=True,
                        help="the person who owns the distribution")
    parser.add_argument(
        "--mirror-admin", metavar="TEAM",
        help="the team (or person) who reviews the mirrors and is told "
             "when one is disabled (default: the site admins, the [web] "
             "admins_team that `mirrorkeeper admin create` fills)")
    parser.add_argument("--no-mirrors", action="store_true",
                        help="the distribution has no mirrors")

    series = add_actions(subparsers, "series", "register series")
    parser = add_command(
        series, "add", "add a series (a release) to a distribution",
        parents=[common], run=series_add)
    parser.add_argument("distribution", metavar="DIST",
                        help="the distribution, e.g. 'ubuntu'")
    parser.add_argument("name", metavar="NAME", help="e.g. 'warty'")
    parser.add_argument("version", metavar="VERSION", help="e.g. '4.10'")
    parser.add_argument(
        "--status", default="development",
        help="one of %s (default: development); mirrors drop obsolete "
             "series" % (enum_choices(SeriesStatus),))
    parser.add_argument(
        "--component", metavar="NAME", action="append", default=[],
        help="a component of the series, e.g. main (repeat for more)")
    parser.add_argument(
        "--root", metavar="DIR", default="",
        help="the directory under the archive's root and each mirror's "
             "base URL holding the series' dists/ and pool/, e.g. "
             "'development/' (default: the archive's root)")

    arch = add_actions(subparsers, "arch", "register architectures")
    parser = add_command(
        arch, "add", "add an architecture to a series",
        parents=[common], run=arch_add)
    parser.add_argument("distribution", metavar="DIST",
                        help="the distribution, e.g. 'ubuntu'")
    parser.add_argument("series", metavar="SERIES",
                        help="the series, e.g. 'warty'")
    parser.add_argument("tag", metavar="TAG", help="e.g. 'i386'")
    parser.add_argument(
        "--unofficial", action="store_true",
        help="a port mirrors are not expected to carry")

    component = add_actions(subparsers, "component", "register components")
    parser = add_command(
        component, "add", "add a component to a series",
        parents=[common], run=component_add)
    parser.add_argument("distribution", metavar="DIST",
                        help="the distribution, e.g. 'ubuntu'")
    parser.add_argument("series", metavar="SERIES",
                        help="the series, e.g. 'warty'")
    parser.add_argument("name", metavar="NAME", help="e.g. 'universe'")


def person_add(script):
    options = script.options
    person = getUtility(IPersonSet).new(
        options.name, options.display_name, email=options.email)
    print("Registered the person %s (%s)." % (person.name,
                                              person.display_name))


def team_add(script):
    options = script.options
    members = [find_person(name) for name in options.member]
    team = getUtility(IPersonSet).newTeam(
        options.name, options.display_name, members=members,
        email=options.email)
    print("Registered the team %s (%s) with %d member(s)."
          % (team.name, team.display_name, len(members)))


def distribution_add(script):
    options = script.options
    owner = _registered(options.owner, "--owner")
    if options.mirror_admin:
        mirror_admin = find_person(options.mirror_admin)
    else:
        mirror_admin = _registered(script.config.get("web", "admins_team"),
                                   "--mirror-admin")
    distribution = getUtility(IDistributionSet).new(
        options.name, options.display_name, options.title,
        owner=owner, mirror_admin=mirror_admin,
        supports_mirrors=not options.no_mirrors)
    print("Registered the distribution %s (%s)."
          % (distribution.name, distribution.title))


def _registered(name, option):
    """The person or team `name`, or an error saying how an admin who
    follows the README gets one: `admin create` registers the first person
    and the site admins' team."""
    person = getUtility(IPersonSet).getByName(name)
    if person is None:
        raise NotFoundError(
            "no person or team is called %r: run `mirrorkeeper admin create "
            "NAME --display-name ... --email ...` first (it registers NAME "
            "and the site admins' team), or `mirrorkeeper person add`, or "
            "give another %s" % (name, option))
    return person


def series_add(script):
    options = script.options
    distribution = find_distribution(options.distribution)
    status = parse_enum(SeriesStatus, options.status, "--status")
    if not options.version.strip():
        raise InvalidValueError("a series needs a version, e.g. '4.10'")
    components = [getUtility(IComponentSet).ensure(name)
                  for name in options.component]
    series = distribution.newSeries(options.name, options.version.strip(),
                                    status, components, root=options.root)
    print("Added the series %s %s (%s) to %s%s, with the components: %s."
          % (series.name, series.version, enum_label(status),
             distribution.name, " at %s" % (series.root,)
             if series.root else "",
             ", ".join(c.name for c in components) or "none yet"))


def arch_add(script):
    options = script.options
    series = find_distribution(options.distribution).getSeries(
        options.series)
    arch = series.newArch(options.tag, official=not options.unofficial)
    print("Added the %s architecture %s to %s."
          % ("official" if arch.official else "unofficial",
             arch.architecture_tag, series.name))


def component_add(script):
    options = script.options
    series = find_distribution(options.distribution).getSeries(
        options.series)
    component = getUtility(IComponentSet).ensure(options.name)
    series.addComponent(component)
    print("%s has the component %s." % (series.name, component.name))
