# The mirror list daemon (apt lists, dnf mirrorlists and metalinks,
# redirects) for twistd:
#
#     twistd -n -y daemons/mirrorlist.tac
#
# Settings come from the configuration ([publication]), as for
# `mirrorkeeper mirrorlist-server`; MIRRORKEEPER_CONFIG names the file.
import os
import sys

sys.path.insert(0, os.path.join(os.getcwd(), "lib"))

from twisted.application.service import Application  # noqa: E402

from mirrorkeeper.publish.server import Options, makeService  # noqa: E402

options = Options()
options.parseOptions([])
application = Application("mirrorkeeper-mirrorlist")
makeService(options).setServiceParent(application)
