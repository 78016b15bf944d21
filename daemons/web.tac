# The web site (pages, feeds, JSON API, /metrics) for twistd:
#
#     twistd -n -y daemons/web.tac
#
# Settings come from the configuration ([web] listen, [database] uri), as
# for `mirrorkeeper web`; MIRRORKEEPER_CONFIG names the file.
import os
import sys

sys.path.insert(0, os.path.join(os.getcwd(), "lib"))

from twisted.application.service import Application  # noqa: E402

from mirrorkeeper.web.service import Options, makeService  # noqa: E402

options = Options()
options.parseOptions([])
application = Application("mirrorkeeper-web")
makeService(options).setServiceParent(application)
