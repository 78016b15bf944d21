"""mirrorkeeper's configuration: an INI file, overridden by the environment
and the command line.

The file is named by --config, else MIRRORKEEPER_CONFIG, else
``mirrorkeeper.conf`` in the current directory if there is one; without a
file every setting has its default.  MIRRORKEEPER_DATABASE overrides
``[database] uri``, and --database overrides both.  A section or key that
is not a setting, or a value that is not of the setting's kind, is an
error naming the file.  ``mirrorkeeper config show`` prints the effective
configuration and where each value came from.

Every setting is declared in mirrorkeeper.settings; the reference below is
written from those declarations.

"""

import configparser
import difflib
import os

from mirrorkeeper import settings
from mirrorkeeper.errors import ConfigurationError
from mirrorkeeper.freshness import DETECTORS

# The text of every default, by section and key (a configparser can
# read_dict it).
DEFAULTS = {
    section.name: {key: setting.default_text
                   for key, setting in section.settings.items()}
    for section in settings.SECTIONS.values()}


class Source:
    """Where a value came from: `kind` is "default", "file",
    "environment" or "command line"; `where` the file's path, the
    variable's name or the option (None for a default)."""

    def __init__(self, kind, where=None):
        self.kind = kind
        self.where = where

    def __str__(self):
        return self.kind if self.where is None else \
            "%s %s" % (self.kind, self.where)

    def __repr__(self):
        return "<Source %s>" % (self,)

    def __eq__(self, other):
        return isinstance(other, Source) and \
            (self.kind, self.where) == (other.kind, other.where)

    def __hash__(self):
        return hash((self.kind, self.where))


DEFAULT = Source("default")


class Value:
    """A setting's effective value: its text, the value of its kind, and
    the Source it came from."""

    def __init__(self, setting, text, source):
        self.setting = setting
        self.text = text
        self.source = source
        try:
            self.value = setting.kind.parse(text)
        except ValueError:
            raise ConfigurationError(
                "%s: %s must be %s, not %r"
                % (_from(source), setting.name, setting.kind.description,
                   text)) from None


def _from(source):
    if source.kind == "file":
        return "the configuration %s" % (source.where,)
    return "the %s" % (source,)


class Config:
    """The effective settings by section and key, each a Value; `path` is
    the file read, or None."""

    def __init__(self, values, path=None):
        self._values = values
        self.path = path

    def _value(self, section, key):
        try:
            return self._values[section][key]
        except KeyError:
            raise KeyError("[%s] %s is not a setting (declare it in "
                           "mirrorkeeper.settings)" % (section, key)) from None

    def get(self, section, key):
        """The text of [section] key."""
        return self._value(section, key).text

    def value(self, section, key):
        """The value of [section] key, of the kind it is declared with."""
        return self._value(section, key).value

    def source(self, section, key):
        """The Source of the value of [section] key."""
        return self._value(section, key).source

    def getint(self, section, key):
        return int(self.value(section, key))

    def getfloat(self, section, key):
        return float(self.value(section, key))

    def getboolean(self, section, key):
        return bool(self.value(section, key))

    def items(self, section):
        """[(key, Value)] of a section, declared keys first."""
        return list(self._values[section].items())

    def sections(self):
        return list(self._values)

    def overridden(self, texts, source):
        """A copy where `texts` ({(section, key): text}) replace the values
        they name, coming from `source`; None texts are left out."""
        values = {name: dict(section)
                  for name, section in self._values.items()}
        for (section, key), text in texts.items():
            setting = settings.declared(section, key)
            if setting is None:
                raise KeyError("[%s] %s is not a setting" % (section, key))
            if text is not None:
                values[section][key] = Value(setting, text, source)
        return Config(values, self.path)

    def with_options(self, options, declared):
        """A copy where the options of `declared` (SettingOptions)
        given in `options` (a usage.Options, or the vars() of an argparse
        namespace) replace the settings they stand for."""
        config = self
        for option in declared:
            name = option.name
            given = options[name if name in options
                            else name.replace("-", "_")]
            if option.repeat:
                given = " ".join(given) if given else None
            if given is not None:
                setting = option.setting
                config = config.overridden(
                    {(setting.section.name, setting.key): str(given)},
                    Source("command line", option.flag))
        return config

    def freshness_detectors(self):
        """{distribution name or "*": (detector, ...)} from [freshness], or
        ConfigurationError naming an unknown detector."""
        chosen = {}
        for name, value in self.items("freshness"):
            detectors = tuple(part.strip() for part in
                              value.text.replace(",", " ").split())
            unknown = [d for d in detectors if d not in DETECTORS]
            if unknown or not detectors:
                raise ConfigurationError(
                    "%s: [freshness] %s: unknown detector(s) %s; choose "
                    "from %s" % (_from(value.source), name,
                                 ", ".join(unknown) or "(none given)",
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
        return self.get("database", "uri")


def load_config(path=None, environ=None):
    """The configuration from `path`, MIRRORKEEPER_CONFIG, or
    ./mirrorkeeper.conf, in that order, then the environment (`environ`,
    default os.environ); defaults where none sets a value."""
    environ = os.environ if environ is None else environ
    values = {name: {key: Value(setting, setting.default_text, DEFAULT)
                     for key, setting in section.settings.items()}
              for name, section in settings.SECTIONS.items()}
    path = path or environ.get("MIRRORKEEPER_CONFIG")
    if path is None and os.path.exists("mirrorkeeper.conf"):
        path = "mirrorkeeper.conf"
    if path is not None:
        _read_file(path, values)
    for section in settings.SECTIONS.values():
        for key, setting in section.settings.items():
            if setting.environment and environ.get(setting.environment):
                values[section.name][key] = Value(
                    setting, environ[setting.environment],
                    Source("environment", setting.environment))
    return Config(values, path)


def _read_file(path, values):
    parser = configparser.ConfigParser(interpolation=None)
    try:
        with open(path, encoding="utf-8") as f:
            parser.read_file(f)
    except OSError as error:
        raise ConfigurationError("cannot read the configuration %s: %s"
                                 % (path, error.strerror)) from None
    except (configparser.Error, UnicodeDecodeError) as error:
        raise ConfigurationError("the configuration %s is malformed: %s"
                                 % (path, error)) from None
    source = Source("file", path)
    if parser.defaults():
        raise ConfigurationError(
            "the configuration %s has a [%s] section: name the section of "
            "each setting (%s)" % (path, parser.default_section,
                                   ", ".join(settings.SECTIONS)))
    for name in parser.sections():
        if name not in settings.SECTIONS:
            raise ConfigurationError(
                "the configuration %s has an unknown section [%s]%s; the "
                "sections are %s" % (path, name, _guess(name,
                                                        settings.SECTIONS),
                                     ", ".join(settings.SECTIONS)))
        section = settings.SECTIONS[name]
        for key, text in parser.items(name):
            if (name, key) in _REPLACED:
                raise ConfigurationError(
                    "the configuration %s sets [%s] %s: %s"
                    % (path, name, key, _REPLACED[name, key]))
            setting = section.setting(key)
            if setting is None:
                raise ConfigurationError(
                    "the configuration %s sets [%s] %s, which is not a "
                    "setting%s; [%s] has %s" % (
                        path, name, key, _guess(key, section.settings),
                        name, ", ".join(section.settings)))
            values[name][key] = Value(setting, text, source)


def _guess(word, names):
    close = difflib.get_close_matches(word, list(names), n=1)
    return " (did you mean %s?)" % (close[0],) if close else ""


# Settings that no longer exist, and what to write instead: ignoring them
# would quietly change what the site does.
_REPLACED = {
    ("prober", "allow_private_addresses"):
        "it was replaced by [prober] allowed_networks, which names the "
        "networks that may be probed although not global, e.g. "
        "allowed_networks = 127.0.0.0/8 ::1/128",
}


if __doc__:  # Not under python -OO.
    __doc__ += settings.reference()
