"""`mirrorkeeper archive scan`: the master archive scan of
cronscripts/update-master-archive.py, from the command line."""

from mirrorkeeper.scripts.archive import add_scan_options, run_scan
from mirrorkeeper.scripts.commands.common import add_actions, add_command


def register(subparsers, common):
    archive = add_actions(subparsers, "archive",
                          "scan the master archive into the database")
    parser = add_command(
        archive, "scan", "bring the database up to date with the master",
        "Read the master archive's tree and bring the database up to date: "
        "series,\npublishing history, RPM repositories, control file and "
        "trace file history,\nand the CD image manifest.  Exit status 1 if "
        "some part could not be read.",
        parents=[common], run=run_scan)
    add_scan_options(parser)
