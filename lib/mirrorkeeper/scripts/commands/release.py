"""`mirrorkeeper release ...`: a series' life, from its development
location to its release location and, at end of life, to the archive
(MirrorManager's move-devel-to-release and move-to-archive), and which
mirrors are expected to carry a new series."""

from mirrorkeeper.enums import MirrorContent, SeriesStatus
from mirrorkeeper.errors import InvalidValueError
from mirrorkeeper.scripts.commands.common import (
    add_actions, add_command, enum_label, find_distribution, find_mirror,
    format_date, print_table)


def register(subparsers, common):
    release = add_actions(
        subparsers, "release",
        "move series through their life; who carries a new one",
        "A series lives at its development location until it is released, "
        "then at its\nrelease location, and at end of life at the archive "
        "location; the mirrors are\nasked for it where it is.  A series "
        "the master scan finds is expected of the\nmirrors that pick up "
        "new series by themselves, and of those that take it on.")

    def series_command(name, help, description, run):
        parser = add_command(release, name, help, description,
                             parents=[common], run=run)
        parser.add_argument("series", metavar="SERIES",
                            help="the series, e.g. 'trixie'")
        parser.add_argument(
            "--distribution", metavar="NAME",
            help="the series' distribution (default: the only one, or "
                 "the first by name)")
        return parser

    parser = add_command(
        release, "list", "the series, where each lives, who carries it",
        parents=[common], run=release_list)
    parser.add_argument("--distribution", metavar="NAME",
                        help="the distribution (default: the only one, or "
                             "the first by name)")

    parser = series_command(
        "move-to-release", "a released series moves to its release location",
        "Once enough mirrors carry the files at the release location: the "
        "series becomes\nthe current release (the one that was becomes "
        "supported) and mirrors are asked\nfor it at ROOT.",
        move_to_release)
    parser.add_argument(
        "--root", metavar="DIR",
        help="the release location: the directory under the archive's "
             "root and each mirror's base URL holding the series' dists/ "
             "and pool/, e.g. 'releases/40/' (default: where it is)")

    parser = series_command(
        "move-to-archive", "an obsolete series moves to the archive location",
        "Once the files of the series at its end of life are in the "
        "archive tree: the\nseries becomes obsolete.  Mirrors are no longer "
        "expected to carry it; one that\nhas it is asked for it at ROOT "
        "only, and dropping it counts against nobody.",
        move_to_archive)
    parser.add_argument(
        "--root", metavar="DIR", required=True,
        help="the archive location, e.g. 'archive/' ('' for the archive's "
             "own root)")

    parser = series_command(
        "take-on", "mirrors carry a new series from now on",
        "The named mirrors, which do not pick up new series by themselves, "
        "are expected\nto carry SERIES from now on.",
        take_on)
    parser.add_argument("mirrors", metavar="MIRROR", nargs="+",
                        help="a mirror, by name")

    parser = add_command(
        release, "development-root",
        "where the master scan finds new series in development",
        "A series the master scan finds under ROOT (in ROOT/dists/) that "
        "the registry\ndoes not know is a new series in development, "
        "recorded at its development\nlocation with that root.",
        parents=[common], run=development_root)
    parser.add_argument(
        "root", metavar="ROOT", nargs="?",
        help="the directory under the archive's root, e.g. 'development/' "
             "(none given: say where it is)")
    parser.add_argument("--none", action="store_true",
                        help="the distribution has no development root")
    parser.add_argument("--distribution", metavar="NAME",
                        help="the distribution (default: the only one, or "
                             "the first by name)")

    parser = add_command(
        release, "auto-pickup",
        "say whether a mirror picks up new series by itself",
        "A mirror that picks up new series by itself is expected to carry "
        "each new series\nthe master scan finds at once; the owners of the "
        "others are told by mail.",
        parents=[common], run=auto_pickup)
    parser.add_argument("mirror", metavar="MIRROR",
                        help="the mirror, by name")
    parser.add_argument("--off", action="store_true",
                        help="it does not (the default for a new mirror)")


def _series(options):
    return find_distribution(options.distribution).getSeries(options.series)


def _expected_of(series):
    """Who is expected to carry `series`, in words."""
    if series.status is SeriesStatus.OBSOLETE:
        return "none (obsolete)"
    if series.every_mirror:
        return "every mirror"
    mirrors = [mirror for mirror in series.distribution.mirrors
               if mirror.content is MirrorContent.ARCHIVE]
    return "%d of %d mirrors" % (
        sum(1 for mirror in mirrors if series.isExpectedOf(mirror)),
        len(mirrors))


def release_list(script):
    distribution = find_distribution(script.options.distribution)
    print_table(
        ["SERIES", "VERSION", "STATUS", "LOCATION", "ROOT", "EXPECTED OF",
         "TOLD"],
        [[series.name, series.version, enum_label(series.status),
          enum_label(series.location), series.root or "(root)",
          _expected_of(series), format_date(series.date_announced)]
         for series in distribution.series])


def move_to_release(script):
    series = _series(script.options)
    series.moveToRelease(script.options.root)
    print("%s %s is released: mirrors are asked for it at %s."
          % (series.distribution.name, series.name,
             series.root or "the archive's root"))


def move_to_archive(script):
    series = _series(script.options)
    series.moveToArchive(script.options.root)
    print("%s %s is obsolete: mirrors that have it are asked for it at %s "
          "only." % (series.distribution.name, series.name,
                     series.root or "the archive's root"))


def development_root(script):
    options = script.options
    distribution = find_distribution(options.distribution)
    if options.none and options.root is not None:
        raise InvalidValueError("give a ROOT or --none, not both")
    if options.none or options.root is not None:
        distribution.setDevelopmentRoot(
            None if options.none else options.root)
    root = distribution.development_root
    print("%s finds new series in development %s." % (
        distribution.name, "under %s" % (root,) if root
        else "nowhere (no development root)"))


def take_on(script):
    series = _series(script.options)
    mirrors = [find_mirror(name) for name in script.options.mirrors]
    for mirror in mirrors:
        if mirror.content is not MirrorContent.ARCHIVE:
            raise InvalidValueError("the mirror %s carries CD images, not "
                                    "the archive" % (mirror.name,))
        series.takeOn(mirror)
    print("%s is expected to carry %s." % (
        ", ".join(mirror.name for mirror in mirrors), series.name))


def auto_pickup(script):
    mirror = find_mirror(script.options.mirror)
    mirror.picks_up_new_series = not script.options.off
    print("%s %s new series by itself." % (
        mirror.name, "picks up" if mirror.picks_up_new_series
        else "does not pick up"))
