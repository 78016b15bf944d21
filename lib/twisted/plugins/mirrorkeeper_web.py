"""twistd's entry to the web site: ``twistd -n mirrorkeeper-web --listen
tcp:8000:interface=127.0.0.1 [--database URI] [--config PATH]``."""

from twisted.application.service import ServiceMaker

mirrorkeeper_web = ServiceMaker(
    "mirrorkeeper web",
    "mirrorkeeper.web.service",
    "Serve the mirror pages, registration and review, RSS feeds, the JSON "
    "API and /metrics.",
    "mirrorkeeper-web")
