"""`mirrorkeeper config show`: the effective configuration, and where
each value came from."""

import json

from mirrorkeeper.database.store import _redact
from mirrorkeeper.scripts.commands.common import add_actions, add_command

# Values this far right of the key have their source beside them; longer
# ones push it along.
SOURCE_COLUMN = 40


def register(subparsers, common):
    config = add_actions(subparsers, "config",
                         "the configuration mirrorkeeper runs with")
    parser = add_command(
        config, "show", "print the effective configuration",
        "Print every setting with its value and, after #, where the value "
        "came from:\nthe default, the configuration file, an environment "
        "variable or the command\nline (--database).  Secrets are "
        "hidden.  mirrorkeeper.settings declares them all.",
        parents=[common], run=show, uses_database=False,
        needs_current_schema=False)
    parser.add_argument("--json", action="store_true",
                        help="print one JSON object: section, key, value, "
                        "source and where")


def shown(value):
    """The text of a Value as `config show` prints it."""
    if value.setting.secret and value.text:
        return "***"
    if value.setting.section.name == "database":
        return _redact(value.text)
    return value.text


def show(script):
    config = script.config
    if script.options.json:
        print(json.dumps(as_json(config), indent=2))
        return
    print("# The configuration file: %s"
          % (config.path or "none (the defaults)",))
    for section in config.sections():
        print("\n[%s]" % (section,))
        for key, value in config.items(section):
            lines = shown(value).split("\n")
            first = ("%s = %s" % (key, lines[0])).rstrip()
            print("%-*s # %s" % (SOURCE_COLUMN - 1, first, value.source))
            for line in lines[1:]:
                print("    " + line)


def as_json(config):
    settings = {}
    for section in config.sections():
        settings[section] = {}
        for key, value in config.items(section):
            typed = value.value
            if shown(value) != value.text:
                typed = shown(value)
            settings[section][key] = {
                "value": typed, "source": value.source.kind,
                "where": value.source.where}
    return {"file": config.path, "settings": settings}
