#!/usr/bin/env python3
"""Scan the master archive into the database; run from cron after each
master update.  See --help."""

import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                os.pardir, "lib"))

from mirrorkeeper.interpreter import use_installed_interpreter  # noqa: E402

use_installed_interpreter(__file__, "mirrorkeeper-update-master-archive")

from mirrorkeeper.scripts.archive import main  # noqa: E402

if __name__ == "__main__":
    sys.exit(main())
