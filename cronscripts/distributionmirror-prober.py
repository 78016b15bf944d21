#!/usr/bin/env python3
"""Probe the distribution mirrors; run daily from cron.  See --help."""

import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                os.pardir, "lib"))

from mirrorkeeper.interpreter import use_installed_interpreter  # noqa: E402

use_installed_interpreter(__file__, "mirrorkeeper-prober")

from mirrorkeeper.scripts.prober import main  # noqa: E402

if __name__ == "__main__":
    sys.exit(main())
