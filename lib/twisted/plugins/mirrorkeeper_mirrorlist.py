"""twistd's entry to the mirror list daemon: ``twistd -n mirrorlist-server
--listen tcp:8080:interface=127.0.0.1 --snapshot PATH``."""

from twisted.application.service import ServiceMaker

mirrorlist_server = ServiceMaker(
    "mirrorkeeper mirror list server",
    "mirrorkeeper.publish.server",
    "Serve apt mirror lists, dnf mirrorlists, metalinks and redirects "
    "from the mirror list snapshot.",
    "mirrorlist-server")
