"""`mirrors`: the distribution's mirrors as its users are offered them,
grouped by country, for a person to read."""

from itertools import groupby

from mirrorkeeper.model.base import store_of
from mirrorkeeper.model.mirrorstate import states_of

from mirrorkeeper.scripts.commands.common import (
    add_command, find_distribution)


def register(subparsers, common):
    parser = add_command(
        subparsers, "mirrors",
        "print a distribution's official and enabled mirrors by country",
        "Print the official mirrors of DIST, then every enabled mirror, "
        "grouped by\ncountry, with what each carries, how fresh it is and "
        "its URL.  Mirrors paused\nby their owners are left out, as they "
        "are from the lists users get.",
        parents=[common], run=mirrors)
    parser.add_argument(
        "distribution", metavar="DIST", nargs="?",
        help="the distribution (default: the only one, or the first by name)")


def mirrors(script):
    print_mirrors(script, script.options.distribution)


def print_mirrors(script, distribution_name=None):
    distribution = find_distribution(distribution_name)
    official = distribution.enabled_official_mirrors
    enabled = distribution.enabled_mirrors
    print("Mirrors of %s" % (distribution.title,))
    if not distribution.supports_mirrors:
        print("\n%s has no mirrors." % (distribution.display_name,))
        return
    _print_section("Official mirrors", official)
    _print_section("Enabled mirrors", enabled)


def _print_section(heading, mirrors):
    title = "%s (%d)" % (heading, len(mirrors))
    print()
    print(title)
    print("=" * len(title))
    if not mirrors:
        print("  (none)")
        return
    width = max(len(mirror.name) for mirror in mirrors)
    states = states_of(store_of(mirrors[0]), [m.id for m in mirrors])
    # The model lists mirrors ordered by country name already.
    for _, in_country in groupby((states[m.id] for m in mirrors),
                                 lambda s: s.country_code):
        in_country = list(in_country)
        print("%s (%s)" % (in_country[0].country_name,
                           in_country[0].continent_name))
        for state in in_country:
            print("  %s  %-8s  %-19s  %s" % (
                state.name.ljust(width), state.content.title,
                state.freshness.title, state.base_url))
