"""The `mirrorkeeper` command line for admins.

    mirrorkeeper [--database URI] [--config PATH] [-v|-q] COMMAND ...

Each subcommand is a function given the running script (see
mirrorkeeper.scripts.base for what it offers: options, logger, config,
store, lock); its changes are committed when it returns, and rolled back
when it raises.
"""

import sys

from mirrorkeeper.scripts.base import MirrorKeeperScript
from mirrorkeeper.scripts.commands import (
    archive, config, database, listing, mirror, publication, registry,
    release, site, web)

COMMAND_MODULES = [database, registry, mirror, site, listing, archive,
                   release, publication, web, config]

DESCRIPTION = """\
Manage a distribution's mirror registry: the database schema, people,
distributions and their series, the mirrors themselves and the sites
(organisations) that run them.

Common options may be given before or after the command.  Exit status: 0 ok,
1 error (nothing changed), 2 usage.

first use:
  mirrorkeeper db upgrade && mirrorkeeper sample-data && mirrorkeeper mirrors
"""


class MirrorKeeperCommandLine(MirrorKeeperScript):
    name = "mirrorkeeper"
    description = DESCRIPTION

    @property
    def schema_must_be_current(self):
        # The commands that upgrade the schema say so when they register.
        return getattr(self.options, "needs_current_schema", True)

    @property
    def uses_database(self):
        # The mirror list daemon reads a snapshot, never the database.
        return getattr(self.options, "uses_database", True)

    def add_my_options(self, parser):
        common = self.common_options(suppress_defaults=True)
        subparsers = parser.add_subparsers(
            dest="command", metavar="COMMAND", required=True)
        for module in COMMAND_MODULES:
            module.register(subparsers, common)

    def main(self):
        return self.options.run(self)


def main(argv=None):
    """The console script: run the command line and return its exit
    status."""
    return MirrorKeeperCommandLine().run(argv)


if __name__ == "__main__":
    sys.exit(main())
