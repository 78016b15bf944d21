"""Every setting of mirrorkeeper's configuration, declared once.

A section of the configuration file is a class here, and each of its keys a
Setting: the kind of value it takes, its default and one line saying what
it does (and, for a few, the environment variable that overrides it).
Everything else is derived from these declarations:

- mirrorkeeper.config reads a file against them: a section or key not
  declared here, or a value not of its kind, is an error naming the file;
- the reference in mirrorkeeper.config's docstring (``reference()``) and
  ``mirrorkeeper config show``;
- the defaults of the dataclasses that carry settings into each part
  (``Web.cache_seconds.default``...);
- the command-line options that stand in for a setting
  (``SettingOption``), for twistd and for argparse alike.
"""

import configparser
import textwrap

from mirrorkeeper.enums import MirrorFreshness


# The kinds of value.

class Kind:
    """How a setting's text becomes its value, and back."""

    # What a value must be, for messages: "must be <description>".
    description = "text"

    def parse(self, text):
        """The value of `text`, or ValueError."""
        return text

    def text(self, value):
        """The text that parses to `value`."""
        return str(value)


class _Whole(Kind):

    def __init__(self, minimum=None):
        self.minimum = minimum
        self.description = "a whole number"
        if minimum is not None:
            self.description += " of at least %d" % (minimum,)

    def parse(self, text):
        value = int(text)
        if self.minimum is not None and value < self.minimum:
            raise ValueError(text)
        return value


class _Number(Kind):
    description = "a number"

    def parse(self, text):
        value = float(text)
        if value != value or value in (float("inf"), float("-inf")):
            raise ValueError(text)
        return value

    def text(self, value):
        return str(int(value)) if value == int(value) else repr(value)


class _Flag(Kind):
    description = "true or false"
    _STATES = configparser.ConfigParser.BOOLEAN_STATES

    def parse(self, text):
        try:
            return self._STATES[text.strip().lower()]
        except KeyError:
            raise ValueError(text) from None

    def text(self, value):
        return "true" if value else "false"


class Choice(Kind):
    """One of a few words, case-insensitive."""

    def __init__(self, *words):
        self.words = words
        self.description = "one of " + ", ".join(words)

    def parse(self, text):
        word = text.strip().lower()
        if word not in self.words:
            raise ValueError(text)
        return word


TEXT = Kind()
WHOLE = _Whole()
POSITIVE = _Whole(minimum=1)
NUMBER = _Number()
FLAG = _Flag()


class Setting:
    """One key of a section: its kind, its default (a value of that kind)
    and one line of documentation; `environment` names the variable that
    overrides it, `secret` that `config show` hides its value."""

    def __init__(self, kind, default, doc, environment=None, secret=False):
        self.kind = kind
        self.default = default
        self.doc = doc
        self.environment = environment
        self.secret = secret
        self.section = self.key = None

    def __set_name__(self, owner, name):
        self.key = name

    @property
    def default_text(self):
        return self.kind.text(self.default)

    @property
    def name(self):
        """How messages name it: ``[web] cache_seconds``."""
        return "[%s] %s" % (self.section.name, self.key)

    def __repr__(self):
        return "<Setting %s>" % (self.name,)


class Section:
    """A section of the configuration: subclass it with a `name` and a
    docstring, and Setting attributes in the order they are documented.
    `any_key`, when set, is the Setting every key not declared stands for
    (the [freshness] section's distribution names)."""

    name = None
    any_key = None

    def __init_subclass__(cls, name, **kwargs):
        super().__init_subclass__(**kwargs)
        cls.name = name
        cls.settings = {}
        for value in list(vars(cls).values()):
            if isinstance(value, Setting) and value is not cls.any_key:
                value.section = cls
                cls.settings[value.key] = value
        if cls.any_key is not None:
            cls.any_key.section = cls

    @classmethod
    def setting(cls, key):
        """The Setting `key` stands for, or None."""
        return cls.settings.get(key) or cls.any_key


# The sections.

class Database(Section, name="database"):
    """The database: sqlite:PATH (embedded) or postgres://user@host/dbname."""

    uri = Setting(TEXT, "sqlite:var/mirrorkeeper.db",
                  "where the registry is; a relative path is relative to "
                  "the current directory", environment="MIRRORKEEPER_DATABASE")


class Mail(Section, name="mail"):
    """The mail sent to mirror owners and admins (mirrorkeeper.mail)."""

    smtp_host = Setting(TEXT, "localhost", "the SMTP server mail goes to")
    smtp_port = Setting(WHOLE, 25, "its port")
    from_address = Setting(TEXT, "mirrorkeeper <noreply@localhost>",
                           "the sender of every message")
    site_name = Setting(TEXT, "mirrorkeeper",
                        "what messages and pages call the site")


class Prober(Section, name="prober"):
    """The daily probe of the mirrors (mirrorkeeper.prober)."""

    timeout = Setting(NUMBER, 30.0, "seconds a request may take")
    max_parallel = Setting(POSITIVE, 100,
                           "requests in flight across all mirrors")
    max_parallel_per_host = Setting(POSITIVE, 2,
                                    "requests in flight to one host")
    allowed_networks = Setting(
        TEXT, "", "networks probed, and accepted in mirror URLs, although "
        "not global, e.g. 127.0.0.0/8 ::1/128 (CIDRs, separated by spaces "
        "or commas); empty: global addresses only")
    cdimage_manifest_url = Setting(
        TEXT, "", "the list of CD images the release mirrors should carry")
    canary_url = Setting(
        TEXT, "", "a URL that must answer for a run to be trusted; empty: "
        "no canary")
    lock_file = Setting(TEXT, "var/distributionmirror-prober.lock",
                        "held while a run lasts")
    keep_probe_records_days = Setting(
        WHOLE, 30, "probe records older than this are deleted (each mirror "
        "keeps its newest); 0 keeps them all")
    disable_after_failed_runs = Setting(
        WHOLE, 2, "consecutive runs that cannot reach a mirror before it is "
        "disabled and its owner told; until then it is only left out of "
        "the mirror lists")
    ca_file = Setting(TEXT, "", "PEM certificates of a private CA that "
                      "signs mirrors' certificates; empty: the system's")
    # Sharing a run between processes (mirrorkeeper.prober.claims).
    workers = Setting(
        WHOLE, 0, "processes a run is probed by, each with its own reactor "
        "and its share of max_parallel, a host's mirrors all in one; 0 for "
        "one per core")
    claim_lease_seconds = Setting(
        POSITIVE, 120, "seconds a worker holds the mirrors it claimed "
        "unless it renews them: a worker that dies loses them after this "
        "long, and another probes them")
    max_control_file_bytes = Setting(
        POSITIVE, 16777216, "the largest Release, InRelease or repomd.xml "
        "a mirror may answer with; a larger answer is refused as not the "
        "master's")


class Publication(Section, name="publication"):
    """The mirror list snapshot and its daemon (mirrorkeeper.publish)."""

    snapshot_path = Setting(TEXT, "var/mirrorlist-snapshot.json",
                            "the snapshot the daemon serves")
    lock_file = Setting(TEXT, "var/generate-mirrorlist-snapshot.lock",
                        "held while a snapshot is written")
    include_unofficial = Setting(
        FLAG, False, "publish reviewed unofficial mirrors too (pending and "
        "broken ones never are)")
    include_mirrors = Setting(
        TEXT, "", "mirrors published whatever their status, by name "
        "(space-separated)")
    listen = Setting(TEXT, "tcp:8080:interface=127.0.0.1",
                     "the daemon's endpoint string")
    freshness_threshold = Setting(
        Choice(*(item.name.lower() for item in MirrorFreshness)),
        "onedaybehind", "the stalest content a list may offer")
    minimum_mirrors = Setting(
        WHOLE, 5, "fewer mirrors than this near the client and the world "
        "is added")
    continent_overrides = Setting(
        TEXT, "", "country-to-continent overrides, e.g. IL:EU "
        "(space-separated)")
    geoip_database = Setting(
        TEXT, "", "a MaxMind-format country database (GeoLite2-Country)")
    asn_database = Setting(
        TEXT, "", "a MaxMind-format ASN database (GeoLite2-ASN); one file "
        "may carry both")
    trusted_proxies = Setting(
        TEXT, "", "addresses (or networks) whose X-Forwarded-For and "
        "X-Forwarded-Proto are believed (space-separated)")
    allow_ip_parameter = Setting(
        FLAG, False, "whether ?ip= may name the client (for debugging "
        "lists)")
    fallback_urls = Setting(
        TEXT, "", "base URLs offered when no mirror qualifies "
        "(space-separated)")
    reload_interval = Setting(
        NUMBER, 5.0, "seconds between looks at the snapshot file's "
        "modification time")
    statistics_dir = Setting(TEXT, "var/mirrorlist-statistics",
                             "where the daemon counts requests")
    request_log_rotation = Setting(
        Choice("daily", "size", "none"), "daily",
        "when requests.log is rotated: daily (at the first flush of a UTC "
        "day), size (before it passes request_log_max_bytes) or none "
        "(logrotate's business)")
    request_log_max_bytes = Setting(WHOLE, 104857600,
                                    "the size that rotates requests.log")
    request_log_keep = Setting(
        WHOLE, 14, "rotated logs kept: requests.log.1 to requests.log.N")
    workers = Setting(
        _Whole(minimum=0), 1, "the daemon's processes answering on its "
        "port (SO_REUSEPORT), each holding the whole snapshot; 0 for one "
        "per core")


class Timestamps(Section, name="timestamps"):
    """The timestamp files the planter writes into the master, whose
    copies on the mirrors tell their lag (mirrorkeeper.timestamps)."""

    targets = Setting(
        TEXT, "", "one a line: a distribution's name and its master's "
        "tree, as local:/path or sftp://user@host[:port]/path")
    file_name = Setting(
        TEXT, "mirrorkeeper-timestamp", "the file planted in each target, "
        "fetched from the same place under each mirror's URL")
    private_key = Setting(
        TEXT, "", "for SFTP targets: the private key logged in with (no "
        "passphrase)")
    known_hosts = Setting(
        TEXT, "", "for SFTP targets: the OpenSSH known_hosts file the "
        "servers' host keys must be in")
    interval = Setting(
        WHOLE, 300, "seconds between plantings, as cron runs the planter: "
        "a copy younger than this may still be up to date")
    timeout = Setting(NUMBER, 30.0,
                      "seconds a target may take, connecting included")
    keep_history_days = Setting(WHOLE, 30,
                                "days of planted timestamps remembered")
    lock_file = Setting(TEXT, "var/plant-timestamps.lock",
                        "held while the planter runs")


class Freshness(Section, name="freshness"):
    """Which detectors tell a mirror's freshness, by distribution name:
    publishing, trace, timestamp, checksum (mirrorkeeper.freshness)."""

    default = Setting(TEXT, "publishing",
                      "the detectors of the distributions not named here")
    any_key = Setting(TEXT, None, "the detectors of the distribution of "
                      "that name, e.g. debian = publishing, trace, checksum")


class Web(Section, name="web"):
    """The web site, its feeds and JSON API (mirrorkeeper.web)."""

    listen = Setting(
        TEXT, "tcp:8000:interface=127.0.0.1", "endpoint strings, "
        "space-separated, e.g. tcp:PORT:interface=ADDRESS or "
        "ssl:PORT:privateKey=KEY")
    base_url = Setting(
        TEXT, "", "the site's public URL, from which feeds, mails and "
        "redirects make their links; required unless listening on loopback "
        "only")
    secret = Setting(TEXT, "", "signs session cookies; empty: the one in "
                     "secret_file, created on first run", secret=True)
    secret_file = Setting(TEXT, "var/web-secret",
                          "where the session secret is kept")
    secure_cookies = Setting(
        Choice("auto", "true", "false"), "auto", "whether cookies are "
        "Secure: auto (when the request came over TLS), true or false")
    session_days = Setting(WHOLE, 14, "days a login lasts")
    admins_team = Setting(
        TEXT, "mirrorkeeper-admins", "the team whose members are site "
        "admins: every mirror, every action")
    db_threads = Setting(POSITIVE, 4, "threads the daemon queries the "
                         "database in")
    propagation_days = Setting(WHOLE, 7,
                               "days of history on the propagation page")
    cache_seconds = Setting(
        NUMBER, 5.0, "seconds shared HTTP caches may keep an answer of the "
        "API or a feed (Cache-Control: max-age)")



class Checkin(Section, name="checkin"):
    """What mirror hosts report themselves (mirrorkeeper-report-mirror)
    and their requests to be probed now (mirrorkeeper.model.checkin)."""

    max_age_hours = Setting(
        WHOLE, 48, "hours a check-in counts for a private mirror (the "
        "prober cannot reach one); an older one counts for nothing")
    probe_interval_minutes = Setting(
        WHOLE, 15, "minutes a mirror waits between two requests to be "
        "probed now")
    queue_run_minutes = Setting(
        WHOLE, 1, "minutes between two queued prober runs (its cron entry "
        "or timer): when a queued mirror is told it will be probed")
    snapshot_after_queued_run = Setting(
        FLAG, True, "write the mirror list snapshot after a queued prober "
        "run that took effect, as the daily run's cron entry does, so that "
        "what it found reaches the lists at once")

class Archive(Section, name="archive"):
    """The master archive's scan (mirrorkeeper.archive.scanner)."""

    release_versions = Setting(
        POSITIVE, 8, "versions of each suite's Release and InRelease whose "
        "index files are kept: a mirror still serving one of them is sent "
        "clients asking for those indexes by hash; older ones no longer "
        "count")


SECTIONS = {section.name: section for section in (
    Database, Mail, Prober, Publication, Timestamps, Freshness, Web,
    Checkin, Archive)}


def declared(section, key):
    """The Setting of [section] key, or None."""
    declaration = SECTIONS.get(section)
    return declaration.setting(key) if declaration else None


def reference(width=72):
    """Every section and key as a configuration file of defaults, each key
    under a comment saying what it does."""
    wrap = textwrap.TextWrapper(width=width, initial_indent="# ",
                                subsequent_indent="# ")
    parts = []
    for section in SECTIONS.values():
        lines = wrap.wrap(" ".join(section.__doc__.split()))
        lines.append("[%s]" % (section.name,))
        for setting in section.settings.values():
            lines += wrap.wrap(setting.doc[0].upper() + setting.doc[1:] + ".")
            lines.append(("%s = %s" % (setting.key,
                                       setting.default_text)).rstrip())
        if section.any_key is not None:
            lines += wrap.wrap("Any other key: "
                               + section.any_key.doc + ".")
        parts.append("\n".join(lines))
    return "\n\n".join(parts) + "\n"


# The command-line options that stand in for a setting.

class SettingOption:
    """A program's --name option, whose value replaces `setting`'s for the
    run; `repeat`: the option may be given more than once, its values
    joined by spaces (the setting is a space-separated list)."""

    def __init__(self, name, setting, metavar, short=None, repeat=False):
        self.name = name
        self.setting = setting
        self.metavar = metavar
        self.short = short
        self.repeat = repeat

    @property
    def flag(self):
        return "--" + self.name

    @property
    def help(self):
        default = self.setting.name
        if self.setting.environment:
            default = "%s, else %s" % (self.setting.environment, default)
        return "%s (default: %s)" % (self.setting.doc, default)


# Every program's --database, the mirrorkeeper command line's and the web
# daemon's.
DATABASE = SettingOption("database", Database.uri, "URI", short="d")


WEB_DAEMON = (
    SettingOption("listen", Web.listen, "ENDPOINT", short="l", repeat=True),
    SettingOption("threads", Web.db_threads, "N", short="t"),
)

PROBER_SCRIPT = (
    SettingOption("max-parallel", Prober.max_parallel, "N"),
    SettingOption("max-parallel-per-host", Prober.max_parallel_per_host,
                  "N"),
    SettingOption("workers", Prober.workers, "N"),
)

MIRRORLIST_DAEMON = (
    SettingOption("listen", Publication.listen, "ENDPOINT", short="l"),
    SettingOption("snapshot", Publication.snapshot_path, "PATH", short="s"),
    SettingOption("geoip", Publication.geoip_database, "PATH"),
    SettingOption("asn-database", Publication.asn_database, "PATH"),
    SettingOption("statistics", Publication.statistics_dir, "DIR"),
    SettingOption("reload-interval", Publication.reload_interval, "SECONDS"),
    SettingOption("workers", Publication.workers, "N", short="w"),
)


def twistd_options(declared):
    """A twisted.python.usage.Options class with an option for each
    SettingOption of `declared`, for a daemon's Options to subclass; a
    repeated option's value is a list, the others' None when not given.
    Config.with_options() then puts the values given in their settings'
    place."""
    from twisted.python import usage

    parameters, methods = [], {}
    for option in declared:
        if option.repeat:
            methods["opt_" + option.name.replace("-", "_")] = \
                _appender(option)
            if option.short:
                methods["opt_" + option.short] = methods[
                    "opt_" + option.name.replace("-", "_")]
        else:
            kind = option.setting.kind
            parameters.append([option.name, option.short, None, option.help,
                               None if kind is TEXT else kind.parse])

    def __init__(self):
        usage.Options.__init__(self)
        for option in declared:
            if option.repeat:
                self[option.name] = []

    methods.update(optParameters=parameters, __init__=__init__)
    return type("SettingOptions", (usage.Options,), methods)


def _appender(option):
    def append(self, value):
        self[option.name].append(value)
    append.__doc__ = "%s (repeat for more)" % (option.help,)
    return append


def add_arguments(parser, declared):
    """Add an argparse option to `parser` for each SettingOption of
    `declared`."""
    for option in declared:
        if option.repeat:
            parser.add_argument(option.flag, metavar=option.metavar,
                                action="append", default=[],
                                help=option.help + " (repeat for more)")
        else:
            kind = option.setting.kind
            parser.add_argument(
                option.flag, metavar=option.metavar, help=option.help,
                type=None if kind is TEXT else _argparse_type(kind))


def _argparse_type(kind):
    import argparse

    def parse(text):
        try:
            return kind.parse(text)
        except ValueError:
            raise argparse.ArgumentTypeError(
                "must be %s, not %r" % (kind.description, text)) from None
    return parse


def daemon_argv(namespace, declared):
    """The twistd command line giving the daemon the SettingOptions of
    `declared` that the argparse `namespace` holds."""
    argv = []
    for option in declared:
        given = getattr(namespace, option.name.replace("-", "_"))
        for value in (given if option.repeat else [given]):
            if value is not None:
                argv += [option.flag, str(value)]
    return argv
