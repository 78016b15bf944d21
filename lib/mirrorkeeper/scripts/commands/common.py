"""What the subcommands share: parsing what admins type, finding what they
name, and writing dates and enum items the way the command line shows
them."""

import argparse
import os
import re
import tempfile
from urllib.parse import urlsplit

from zope.component import getUtility

from mirrorkeeper.database.store import backend_of
from mirrorkeeper.enums import MirrorSpeed
from mirrorkeeper.errors import InvalidValueError
from mirrorkeeper.interfaces.distribution import IDistributionSet
from mirrorkeeper.interfaces.distributionmirror import IDistributionMirrorSet
from mirrorkeeper.interfaces.person import IPersonSet
# How values are spelt is shared with the web layer; the subcommands
# import it from here.
from mirrorkeeper.mirrorjson import (  # noqa: F401
    enum_label, json_date, speed_label)


def add_command(subparsers, name, help, description=None, parents=(),
                **defaults):
    """A subcommand parser; `defaults` are set on the parsed options (e.g.
    run=the function that does the work)."""
    parser = subparsers.add_parser(
        name, help=help, description=description or help,
        parents=list(parents),
        formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.set_defaults(**defaults)
    return parser


def add_actions(subparsers, name, help, description=None):
    """A subcommand that has actions of its own (`mirror register`...)."""
    parser = add_command(subparsers, name, help, description)
    return parser.add_subparsers(dest="action", metavar="ACTION",
                                 required=True)


# Enum items, as typed and as shown (enum_label: see mirrorjson).

def enum_choices(enum_class):
    return ", ".join(enum_label(item) for item in enum_class)


def parse_enum(enum_class, text, option):
    """The item of `enum_class` named by `text`, or InvalidValueError
    naming `option` and the choices."""
    try:
        return enum_class.by_name(text.strip())
    except ValueError:
        raise InvalidValueError("invalid %s %r: choose one of %s" % (
            option, text, enum_choices(enum_class))) from None


_SPEED = re.compile(r"^S?(\d+(?:\.\d+)?)([KMG])(?:BPS|BIT/S|B)?$")


def parse_speed(text):
    """The MirrorSpeed of 'S100M', '100M', '100 Mbps' or '1000M' (= 1G)."""
    match = _SPEED.match(re.sub(r"\s+", "", text or "").upper())
    if match:
        unit = {"K": 0.001, "M": 1, "G": 1000}[match.group(2)]
        mbps = float(match.group(1)) * unit
        for speed in MirrorSpeed:
            if abs(speed.mbps - mbps) < 1e-9:
                return speed
    raise InvalidValueError("invalid speed %r: choose one of %s" % (
        text, ", ".join(speed_label(speed) for speed in MirrorSpeed)))


def parse_int(text, option):
    """`text` as a whole number, or InvalidValueError naming `option`."""
    if text is None:
        return None
    try:
        return int(text.strip())
    except ValueError:
        raise InvalidValueError("invalid %s %r: give a whole number"
                                % (option, text)) from None


# Finding what admins name; each raises NotFoundError naming the thing.

def find_person(name):
    return getUtility(IPersonSet)[name]


def find_distribution(name=None):
    """The distribution called `name`; without a name, the only one, or
    the first by name."""
    distributions = getUtility(IDistributionSet)
    if name is not None:
        return distributions[name]
    for distribution in distributions:
        return distribution
    raise InvalidValueError(
        "no distribution is registered yet: run `mirrorkeeper sample-data` "
        "or `mirrorkeeper distribution add`")


def find_mirror(name):
    return getUtility(IDistributionMirrorSet)[name]


# Dates and files.

def format_date(when):
    """A UTC time as people read it, or '-'."""
    if when is None:
        return "-"
    return when.strftime("%Y-%m-%d %H:%M:%S UTC")


def maintenance_lock_path(uri):
    """The lock file that keeps two maintenance runs (schema upgrade,
    sample data, demo) off the same database at once: beside an SQLite
    file, else in the temporary directory, named after the server and
    database."""
    if backend_of(uri) == "sqlite":
        path = uri[len("sqlite:"):].partition("?")[0]
        if path and path != ":memory:":
            return path + ".lock"
    parts = urlsplit(uri)
    name = "%s-%s-%s" % (parts.hostname or "local", parts.port or "default",
                         parts.path.strip("/") or "default")
    name = re.sub(r"[^A-Za-z0-9.-]+", "_", name)
    return os.path.join(tempfile.gettempdir(), "mirrorkeeper-%s.lock" % name)


def print_table(headers, rows):
    """Rows of strings in columns as wide as their widest cell."""
    widths = [max(len(str(cell)) for cell in column)
              for column in zip(headers, *rows)]
    for row in [headers] + list(rows):
        print("  ".join(str(cell).ljust(width)
                        for cell, width in zip(row, widths)).rstrip())
