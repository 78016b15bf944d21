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
    allow_private_addresses = false
    cdimage_manifest_url =
    canary_url =
    lock_file = var/distributionmirror-prober.lock
    keep_probe_records_days = 30
    ca_file =
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
        "allow_private_addresses": "false",
        "cdimage_manifest_url": "",
        "canary_url": "",
        "lock_file": "var/distributionmirror-prober.lock",
        "keep_probe_records_days": "30",
        "ca_file": "",
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
    return Config(parser, path)
