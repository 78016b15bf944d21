"""Which Python a cronscript of a checkout runs with.

cron runs `cronscripts/*.py` with whatever `python3` its PATH finds first,
which is seldom the one mirrorkeeper was installed into.  Before it imports
anything of ours but this module (which needs the standard library only), a
cronscript calls `use_installed_interpreter`: in a checkout where `make`
made the virtualenv `.venv/`, the script runs again under that virtualenv's
Python; without one, a Python lacking our dependencies stops with a message
saying what to run instead of a traceback about `zope`.

An installed copy (`pip install`, the wheel) needs none of this: pip wrote
the interpreter's path into the script's first line, and the console
scripts (`mirrorkeeper-prober` ...) are the same programs.
"""

import importlib.util
import os
import sys

# Set in the environment of the second run, so that a virtualenv that is
# there but broken cannot make a script run itself again and again.
_REEXECUTED = "MIRRORKEEPER_REEXECUTED"


def _virtualenv_python(checkout):
    return os.path.join(checkout, ".venv", "bin", "python")


def use_installed_interpreter(script_path, console_script):
    """Run `script_path` (a cronscript's __file__) again under the
    checkout's virtualenv Python when that is not the Python running it;
    return when this Python is the right one.  `console_script` is the
    installed name of the same program, for the message."""
    checkout = os.path.dirname(os.path.dirname(os.path.abspath(script_path)))
    python = _virtualenv_python(checkout)
    running_it = os.path.realpath(sys.prefix) == os.path.realpath(
        os.path.join(checkout, ".venv"))
    if (os.access(python, os.X_OK) and not running_it
            and not os.environ.get(_REEXECUTED)):
        os.environ[_REEXECUTED] = "1"
        os.execv(python, [python, os.path.abspath(script_path)]
                 + sys.argv[1:])
    if importlib.util.find_spec("zope") is None:
        name = os.path.basename(script_path)
        sys.stderr.write(
            "%s: error: %s has not got mirrorkeeper's dependencies: run "
            "`make venv` in %s first, or run the installed `%s`\n"
            % (name, sys.executable, checkout, console_script))
        sys.exit(1)
