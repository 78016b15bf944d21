#!/usr/bin/env python3
"""Write the mirror list snapshot the mirror list daemons serve; run from
cron after each prober run and master scan.  See --help."""

import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                os.pardir, "lib"))

from mirrorkeeper.interpreter import use_installed_interpreter  # noqa: E402

use_installed_interpreter(__file__,
                          "mirrorkeeper-generate-mirrorlist-snapshot")

from mirrorkeeper.scripts.mirrorlist import main  # noqa: E402

if __name__ == "__main__":
    sys.exit(main())
