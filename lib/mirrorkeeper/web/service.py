"""The web daemon: usage.Options and makeService, for twistd (see
daemons/web.tac) and for `mirrorkeeper web`.

    makeService(options) -> MultiService
        a TransactorService (the database threads), a PasswordPoolService
        (the password-hashing threads, see throttle) and one StreamServer
        for each --listen endpoint string (tcp:8000:interface=127.0.0.1,
        ssl:8443:privateKey=...: whatever twisted.internet.endpoints
        takes).  It refuses (ConfigurationError) to listen anywhere but on
        loopback without [web] base_url, from which every absolute link
        is made.
"""

import ipaddress

from twisted.application import service
from twisted.internet import reactor as default_reactor
from twisted.logger import Logger
from twisted.web.server import Site

from mirrorkeeper.config import load_config
from mirrorkeeper.errors import ConfigurationError
from mirrorkeeper.mail.delivery import delivery_from_config
from mirrorkeeper.settings import DATABASE, WEB_DAEMON, twistd_options
from mirrorkeeper.web.app import MirrorKeeperWeb, WebSettings
from mirrorkeeper.web.sessions import SessionSigner, load_secret
from mirrorkeeper.web.site import WebResource
from mirrorkeeper.web.throttle import PasswordPool
from mirrorkeeper.web.transactor import Transactor

log = Logger()


# The options that stand in for a setting.
SETTING_OPTIONS = WEB_DAEMON + (DATABASE,)


class Options(twistd_options(SETTING_OPTIONS)):
    """The daemon's command line: --listen, --threads and --database stand
    in for their settings."""

    synopsis = "[--listen ENDPOINT]... [--database URI] [--config PATH]"
    optParameters = [["config", "c", None, "the configuration file"]]


class TransactorService(service.Service):
    """Starts the transactor's threads with the daemon, stops them with
    it."""

    def __init__(self, transactor):
        self.transactor = transactor

    def startService(self):
        service.Service.startService(self)
        self.transactor.start()

    def stopService(self):
        service.Service.stopService(self)
        return self.transactor.stop()


class PasswordPoolService(service.Service):
    """Starts the password threads with the daemon, stops them with it."""

    def __init__(self, pool):
        self.pool = pool

    def startService(self):
        service.Service.startService(self)
        self.pool.start()

    def stopService(self):
        service.Service.stopService(self)
        self.pool.stop()


class WebSiteService(service.Service):
    """Serves a site on an endpoint and says where, once listening (the
    port may have been 0)."""

    def __init__(self, endpoint, site, reactor):
        self.description = endpoint
        self.site = site
        self.reactor = reactor
        self.port = None

    def startService(self):
        service.Service.startService(self)
        from twisted.internet.endpoints import serverFromString
        d = serverFromString(self.reactor, self.description).listen(
            self.site)

        def listening(port):
            self.port = port
            address = port.getHost()
            log.info("mirrorkeeper web serving on http://{host}:{port}/",
                     host=address.host, port=address.port)
        d.addCallbacks(listening, lambda f: log.failure(
            "Cannot listen on {endpoint}", f, endpoint=self.description))
        return d

    def stopService(self):
        service.Service.stopService(self)
        if self.port is not None:
            return self.port.stopListening()


def loopback_only(endpoint):
    """Whether the endpoint string `endpoint` listens on a loopback
    address only (tcp:PORT:interface=127.0.0.1 or ::1); a unix socket or
    TLS endpoint is taken to be behind a public proxy."""
    parts = endpoint.split(":")
    if parts[0] not in ("tcp", "tcp6"):
        return False
    interface = None
    for part in endpoint.replace("\\:", "\0").split(":")[1:]:
        if part.startswith("interface="):
            interface = part[len("interface="):].replace("\0", ":")
    if interface is None:
        return False
    try:
        return ipaddress.ip_address(interface).is_loopback
    except ValueError:
        return interface == "localhost"


def check_base_url(base_url, endpoints):
    """ConfigurationError if [web] base_url is unset and the daemon would
    listen anywhere but on loopback: links in feeds, mails and redirects
    are made from base_url, never from the Host a client sends."""
    if base_url.strip():
        return
    public = [endpoint for endpoint in endpoints
              if not loopback_only(endpoint)]
    if public:
        raise ConfigurationError(
            "[web] base_url is not set, and the web daemon would listen on "
            "%s: set base_url to the site's public URL (e.g. "
            "https://mirrors.example.org), or listen on 127.0.0.1 or ::1 "
            "only" % (", ".join(public),))


def make_site(config, reactor=None):
    """(twisted.web Site, Transactor, PasswordPool) for the
    configuration."""
    reactor = reactor or default_reactor
    transactor = Transactor(config.database_uri, reactor,
                            threads=config.value("web", "db_threads"))
    signer = SessionSigner(load_secret(config),
                           max_age=config.getint("web", "session_days")
                           * 86400)
    passwords = PasswordPool(reactor)
    app = MirrorKeeperWeb(transactor, signer,
                          WebSettings.from_config(config),
                          passwords=passwords, clock=reactor,
                          mail_delivery=delivery_from_config(config))
    resource = WebResource(app, config.get("web", "secure_cookies"))
    return Site(resource), transactor, passwords


def makeService(options, reactor=None):
    reactor = reactor or default_reactor
    config = load_config(options["config"]).with_options(
        options, SETTING_OPTIONS)
    endpoints = config.get("web", "listen").split()
    check_base_url(config.get("web", "base_url"), endpoints)
    site, transactor, passwords = make_site(config, reactor)
    top = service.MultiService()
    TransactorService(transactor).setServiceParent(top)
    PasswordPoolService(passwords).setServiceParent(top)
    for endpoint in endpoints:
        WebSiteService(endpoint, site, reactor).setServiceParent(top)
    return top


__all__ = ["Options", "makeService"]
