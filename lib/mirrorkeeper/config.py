"""mirrorkeeper's configuration: an INI file, overridden by the environment.

The file is named by MIRRORKEEPER_CONFIG, else ``mirrorkeeper.conf`` in the
current directory if there is one; without a file every setting has its
default.  MIRRORKEEPER_DATABASE overrides ``[database] uri``.

    [database]
    uri = sqlite:var/mirrorkeeper.db

    [mail]
    smtp_host = localhost
    smtp_port = 25
    from_address = mirrorkeeper <noreply@localhost>
    site_name = mirrorkeeper

    [prober]
    timeout = 30
    max_parallel = 100
    max_parallel_per_host = 2
    # Networks probed although not global, e.g. 127.0.0.0/8 ::1/128
    # (CIDRs, separated by spaces or commas); empty: global addresses only.
    allowed_networks =
    cdimage_manifest_url =
    canary_url =
    lock_file = var/distributionmirror-prober.lock
    keep_probe_records_days = 30
    disable_after_failed_runs = 2
    ca_file =

    [publication]
    snapshot_path = var/mirrorlist-snapshot.json
    lock_file = var/generate-mirrorlist-snapshot.lock
    include_unofficial = false
    include_mirrors =
    listen = tcp:8080:interface=127.0.0.1
    freshness_threshold = onedaybehind
    minimum_mirrors = 5
    continent_overrides =
    geoip_database =
    asn_database =
    trusted_proxies =
    allow_ip_parameter = false
    fallback_urls =
    reload_interval = 5
    statistics_dir = var/mirrorlist-statistics
    request_log_rotation = daily
    request_log_max_bytes = 104857600
    request_log_keep = 14

    [timestamps]
    targets =
    file_name = mirrorkeeper-timestamp
    private_key =
    known_hosts =
    interval = 300
    timeout = 30
    keep_history_days = 30
    lock_file = var/plant-timestamps.lock

    [freshness]
    # Which detectors tell a mirror's freshness, by distribution name;
    # "default" for the others: publishing, trace, timestamp, checksum.
    default = publishing
    debian = publishing, trace, checksum

    [web]
    listen = tcp:8000:interface=127.0.0.1
    base_url =
    secret =
    secret_file = var/web-secret
    secure_cookies = auto
    session_days = 14
    admins_team = mirrorkeeper-admins
    db_threads = 4
    propagation_days = 7
    cache_seconds = 5
"""

import configparser
import os

from mirrorkeeper.database.store import DEFAULT_DATABASE_URI
from mirrorkeeper.errors import ConfigurationError

DEFAULTS = {
    "database": {"uri": DEFAULT_DATABASE_URI},
    "mail": {
        "smtp_host": "localhost",
        "smtp_port": "25",
        "from_address": "mirrorkeeper <noreply@localhost>",
        "site_name": "mirrorkeeper",
    },
    "prober": {
        "timeout": "30",
        "max_parallel": "100",
        "max_parallel_per_host": "2",
        # Networks probed, and accepted in mirror URLs, although not
        # global (mirrorkeeper.addresspolicy); empty: global ones only.
        "allowed_networks": "",
        "cdimage_manifest_url": "",
        "canary_url": "",
        "lock_file": "var/distributionmirror-prober.lock",
        "keep_probe_records_days": "30",
        # Consecutive runs that cannot reach a mirror (every request failed
        # at the network level) before it is disabled and its owner told;
        # until then it is only left out of the mirror lists.
        "disable_after_failed_runs": "2",
        "ca_file": "",
    },
    "freshness": {"default": "publishing"},
    # The mirror list snapshot and its daemon (mirrorkeeper.publish).
    "publication": {
        "snapshot_path": "var/mirrorlist-snapshot.json",
        "lock_file": "var/generate-mirrorlist-snapshot.lock",
        # Beyond official mirrors: reviewed unofficial ones, and mirrors
        # named one by one (space-separated).
        "include_unofficial": "false",
        "include_mirrors": "",
        "listen": "tcp:8080:interface=127.0.0.1",
        # The stalest content a list may offer.
        "freshness_threshold": "onedaybehind",
        # Fewer mirrors than this near the client and the world is added.
        "minimum_mirrors": "5",
        # Country-to-continent overrides, e.g. "IL:EU" (space-separated).
        "continent_overrides": "",
        # MaxMind-format databases (GeoLite2-Country, GeoLite2-ASN); one
        # file may carry both.
        "geoip_database": "",
        "asn_database": "",
        # Addresses (or networks) whose X-Forwarded-For is believed.
        "trusted_proxies": "",
        # Whether ?ip= may name the client (for debugging lists).
        "allow_ip_parameter": "false",
        # Base URLs offered when no mirror qualifies (space-separated).
        "fallback_urls": "",
        # Seconds between looks at the snapshot file's modification time.
        "reload_interval": "5",
        "statistics_dir": "var/mirrorlist-statistics",
        # When the daemon's requests.log (in statistics_dir) is rotated to
        # requests.log.1 (.1 becoming .2 ...): "daily" (at the first flush
        # of a new UTC day), "size" (before it would pass
        # request_log_max_bytes) or "none" (logrotate's business).
        "request_log_rotation": "daily",
        "request_log_max_bytes": "104857600",
        # Rotated logs kept: requests.log.1 to requests.log.N.
        "request_log_keep": "14",
    },
    # The timestamp files cronscripts/plant-timestamps.py writes into the
    # master, and whose copies on the mirrors tell their lag
    # (mirrorkeeper.timestamps).
    "timestamps": {
        # One target a line: a distribution's name and where its master's
        # tree is, as local:/path or sftp://user@host[:port]/path, e.g.
        #     ubuntu sftp://mirror@master.example.org/srv/ubuntu
        "targets": "",
        # The file planted in each target's directory; the prober fetches
        # it from the same place under each mirror's URL.
        "file_name": "mirrorkeeper-timestamp",
        # For SFTP targets: the private key logged in with (no
        # passphrase), and OpenSSH's known_hosts file the servers' host
        # keys must be in.
        "private_key": "",
        "known_hosts": "",
        # Seconds between plantings, as cron runs the planter: a mirror
        # whose copy is younger than this may still be up to date.
        "interval": "300",
        # Seconds a target may take, connecting included.
        "timeout": "30",
        "keep_history_days": "30",
        "lock_file": "var/plant-timestamps.lock",
    },
    # The web site, its feeds and JSON API (mirrorkeeper.web).
    "web": {
        # Endpoint strings, space-separated: tcp:PORT:interface=ADDRESS,
        # ssl:PORT:privateKey=...
        "listen": "tcp:8000:interface=127.0.0.1",
        # The site's public URL, from which feeds, mails and redirects make
        # their links (never from a request's Host).  Required unless the
        # daemon listens on loopback only.
        "base_url": "",
        # Signs session cookies; default: secret_file, created on first run.
        "secret": "",
        "secret_file": "var/web-secret",
        # auto: Secure cookies when the request came over TLS; true; false.
        "secure_cookies": "auto",
        "session_days": "14",
        # Members of this team are site admins: every mirror, every action.
        "admins_team": "mirrorkeeper-admins",
        "db_threads": "4",
        # Days of history on the propagation page.
        "propagation_days": "7",
        # Seconds the mirror listings and /api/1/status keep an answer
        # while no probe was recorded and no mirror added or removed
        # (mirrorkeeper.web.answers); 0 computes every answer afresh.
        "cache_seconds": "5",
    },
}


class Config:
    """Settings by section and key, with their defaults filled in."""

    def __init__(self, parser, path=None):
        self._parser = parser
        self.path = path

    def get(self, section, key):
        return self._parser.get(section, key)

    def getint(self, section, key):
        try:
            return self._parser.getint(section, key)
        except ValueError:
            raise ConfigurationError(
                "[%s] %s must be a whole number, not %r"
                % (section, key, self._parser.get(section, key))) from None

    def getfloat(self, section, key):
        try:
            return self._parser.getfloat(section, key)
        except ValueError:
            raise ConfigurationError(
                "[%s] %s must be a number, not %r"
                % (section, key, self._parser.get(section, key))) from None

    def getboolean(self, section, key):
        try:
            return self._parser.getboolean(section, key)
        except ValueError:
            raise ConfigurationError(
                "[%s] %s must be true or false, not %r"
                % (section, key, self._parser.get(section, key))) from None

    def freshness_detectors(self):
        """{distribution name or "*": (detector, ...)} from [freshness], or
        ConfigurationError naming an unknown detector."""
        from mirrorkeeper.prober.detectors import DETECTORS
        chosen = {}
        for name, value in self._parser.items("freshness"):
            detectors = tuple(part.strip() for part in
                              value.replace(",", " ").split())
            unknown = [d for d in detectors if d not in DETECTORS]
            if unknown or not detectors:
                raise ConfigurationError(
                    "[freshness] %s: unknown detector(s) %s; choose from %s"
                    % (name, ", ".join(unknown) or "(none given)",
                       ", ".join(DETECTORS)))
            chosen["*" if name == "default" else name] = detectors
        return chosen

    def allowed_networks(self):
        """The networks of [prober] allowed_networks, a tuple of CIDR str,
        or ConfigurationError naming the part that is not a network."""
        from mirrorkeeper.addresspolicy import parse_networks
        try:
            return parse_networks(self.get("prober", "allowed_networks"))
        except ValueError as error:
            raise ConfigurationError(
                "[prober] allowed_networks: %s" % (error,)) from None

    @property
    def database_uri(self):
        return os.environ.get("MIRRORKEEPER_DATABASE") or \
            self.get("database", "uri")


def load_config(path=None):
    """The configuration from `path`, MIRRORKEEPER_CONFIG, or
    ./mirrorkeeper.conf, in that order; defaults where none exists."""
    parser = configparser.ConfigParser(interpolation=None)
    parser.read_dict(DEFAULTS)
    path = path or os.environ.get("MIRRORKEEPER_CONFIG")
    if path is None and os.path.exists("mirrorkeeper.conf"):
        path = "mirrorkeeper.conf"
    if path is not None:
        try:
            with open(path, encoding="utf-8") as f:
                parser.read_file(f)
        except OSError as error:
            raise ConfigurationError("cannot read the configuration %s: %s"
                                     % (path, error.strerror)) from None
        except configparser.Error as error:
            raise ConfigurationError("the configuration %s is malformed: %s"
                                     % (path, error)) from None
        _refuse_replaced_settings(parser, path)
    return Config(parser, path)


# Settings that no longer exist, and what to write instead: ignoring them
# would quietly change what the site does.
_REPLACED = {
    ("prober", "allow_private_addresses"):
        "it was replaced by [prober] allowed_networks, which names the "
        "networks that may be probed although not global, e.g. "
        "allowed_networks = 127.0.0.0/8 ::1/128",
}


def _refuse_replaced_settings(parser, path):
    for (section, key), instead in _REPLACED.items():
        if parser.has_option(section, key):
            raise ConfigurationError(
                "the configuration %s sets [%s] %s: %s"
                % (path, section, key, instead))
