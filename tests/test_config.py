"""The configuration read against the declared settings: what a file may
set, what it is told when it sets something wrong, where each value came
from, and `mirrorkeeper config show`."""

import os
import re

import pytest
from twisted.python import usage

from mirrorkeeper import config as config_module
from mirrorkeeper import settings
from mirrorkeeper.config import DEFAULTS, Source, load_config
from mirrorkeeper.errors import ConfigurationError

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
LIB = os.path.join(ROOT, "lib", "mirrorkeeper")


def write(tmp_path, text):
    path = tmp_path / "mirrorkeeper.conf"
    path.write_text(text)
    return str(path)


def every_setting():
    for section in settings.SECTIONS.values():
        yield from section.settings.values()


# What a file may set, and what it is told.

def test_a_misspelt_key_is_an_error_naming_file_key_and_the_likely_one(
        tmp_path):
    """A key that is not a setting is refused, naming the file, the section
    and key, and the setting it most looks like."""
    path = write(tmp_path, "[prober]\ntimout = 10\n")
    with pytest.raises(ConfigurationError) as raised:
        load_config(path)
    message = str(raised.value)
    assert path in message
    assert "[prober] timout" in message
    assert "did you mean timeout?" in message


def test_an_unknown_section_is_an_error_naming_file_and_section(tmp_path):
    """A section that is not one of the configuration's is refused, naming
    the file and listing the sections."""
    path = write(tmp_path, "[probe]\ntimeout = 10\n")
    with pytest.raises(ConfigurationError) as raised:
        load_config(path)
    message = str(raised.value)
    assert path in message and "[probe]" in message
    assert "did you mean prober?" in message
    for name in settings.SECTIONS:
        assert name in message


def test_a_default_section_is_refused(tmp_path):
    """configparser's [DEFAULT] would give every section its keys: it is
    refused rather than read."""
    path = write(tmp_path, "[DEFAULT]\ntimeout = 10\n")
    with pytest.raises(ConfigurationError, match=r"\[DEFAULT\]"):
        load_config(path)


@pytest.mark.parametrize("section, key, text, kind", [
    ("prober", "timeout", "ten", "a number"),
    ("prober", "max_parallel", "1.5", "a whole number"),
    ("publication", "include_unofficial", "maybe", "true or false"),
    ("publication", "request_log_rotation", "weekly", "one of daily"),
    ("publication", "freshness_threshold", "fresh", "one of up"),
    ("web", "secure_cookies", "sometimes", "one of auto"),
    ("timestamps", "timeout", "nan", "a number"),
])
def test_a_value_of_the_wrong_kind_names_file_key_and_value(
        tmp_path, section, key, text, kind):
    """A value that is not of its setting's kind is refused when the file
    is read, naming the file, the key, what it must be and the value."""
    path = write(tmp_path, "[%s]\n%s = %s\n" % (section, key, text))
    with pytest.raises(ConfigurationError) as raised:
        load_config(path)
    message = str(raised.value)
    assert path in message
    assert "[%s] %s must be %s" % (section, key, kind) in message
    assert repr(text) in message


def test_values_of_each_kind_are_read(tmp_path):
    """What a file sets is read as its setting's kind; the text stays as
    written for the callers that split it."""
    path = write(tmp_path, "[prober]\ntimeout = 2.5\nmax_parallel = 7\n"
                 "[publication]\ninclude_unofficial = yes\n"
                 "request_log_rotation = Size\n"
                 "fallback_urls = http://a.example/ http://b.example/\n")
    config = load_config(path)
    assert config.value("prober", "timeout") == 2.5
    assert config.value("prober", "max_parallel") == 7
    assert config.getint("prober", "max_parallel") == 7
    assert config.value("publication", "include_unofficial") is True
    assert config.value("publication", "request_log_rotation") == "size"
    assert config.get("publication", "fallback_urls").split() == [
        "http://a.example/", "http://b.example/"]
    assert config.source("prober", "timeout") == Source("file", path)
    assert config.source("prober", "canary_url") == Source("default")


def test_freshness_takes_any_distribution_name(tmp_path):
    """[freshness] takes a key for any distribution besides its
    default."""
    path = write(tmp_path, "[freshness]\ndebian = publishing, trace\n")
    assert load_config(path).freshness_detectors() == {
        "*": ("publishing",), "debian": ("publishing", "trace")}


def test_an_unknown_detector_names_the_file(tmp_path):
    path = write(tmp_path, "[freshness]\ndebian = psychic\n")
    with pytest.raises(ConfigurationError) as raised:
        load_config(path).freshness_detectors()
    assert path in str(raised.value) and "psychic" in str(raised.value)


def test_a_replaced_setting_is_refused_saying_what_replaced_it(tmp_path):
    path = write(tmp_path, "[prober]\nallow_private_addresses = true\n")
    with pytest.raises(ConfigurationError, match="allowed_networks"):
        load_config(path)


# The environment and the command line.

def test_the_environment_overrides_the_file(tmp_path):
    """MIRRORKEEPER_DATABASE stands in for [database] uri, over the
    file's; an empty one is no override."""
    path = write(tmp_path, "[database]\nuri = sqlite:from-file.db\n")
    config = load_config(path, environ={
        "MIRRORKEEPER_DATABASE": "sqlite:from-env.db"})
    assert config.database_uri == "sqlite:from-env.db"
    assert config.source("database", "uri") == Source(
        "environment", "MIRRORKEEPER_DATABASE")
    config = load_config(path, environ={"MIRRORKEEPER_DATABASE": ""})
    assert config.database_uri == "sqlite:from-file.db"


def test_mirrorkeeper_database_is_read_in_one_place():
    """Only the declaration of [database] uri names MIRRORKEEPER_DATABASE
    in the code: nothing else reads the variable behind the
    configuration's back."""
    readers = []
    for folder, _, names in os.walk(LIB):
        for name in names:
            if name.endswith(".py"):
                path = os.path.join(folder, name)
                with open(path, encoding="utf-8") as f:
                    text = f.read()
                if re.search(r"environ[^\n]*MIRRORKEEPER_DATABASE", text) \
                        or re.search(r'"MIRRORKEEPER_DATABASE"', text):
                    readers.append(os.path.relpath(path, LIB))
    assert readers == ["settings.py"]


@pytest.mark.parametrize("module, declared", [
    ("mirrorkeeper.web.service", settings.WEB_DAEMON + (settings.DATABASE,)),
    ("mirrorkeeper.publish.server", settings.MIRRORLIST_DAEMON),
])
def test_daemon_options_stand_in_for_their_settings(module, declared):
    """Each daemon has an option for every SettingOption declared for it,
    whose help names the setting, and whose value takes the setting's
    place, coming from the command line."""
    options_class = __import__(module, fromlist=["Options"]).Options
    help = str(options_class())
    argv = []
    for option in declared:
        assert option.setting.name in " ".join(help.split())
        kind = option.setting.kind
        text = "given-" + option.name if kind is settings.TEXT else \
            kind.text(option.setting.default * 3)
        argv += [option.flag, text]
    options = options_class()
    options.parseOptions(argv)
    config = load_config(os.devnull).with_options(options, declared)
    for option in declared:
        section, key = option.setting.section.name, option.setting.key
        assert config.source(section, key) == Source(
            "command line", option.flag)
        assert config.value(section, key) == option.setting.kind.parse(
            argv[argv.index(option.flag) + 1])


def test_a_daemon_option_of_the_wrong_kind_is_a_usage_error():
    from mirrorkeeper.publish.server import Options
    with pytest.raises(usage.UsageError):
        Options().parseOptions(["--reload-interval", "soon"])


def test_the_probers_options_stand_in_for_their_settings(capsys):
    """--max-parallel is [prober] max_parallel for the run, from the
    command line; 0 is refused as the file's 0 would be."""
    from mirrorkeeper.scripts.prober import ProberScript
    script = ProberScript()
    script.options = script.build_parser().parse_args(["--max-parallel", "7"])
    script.config = load_config(os.devnull).with_options(
        vars(script.options), script.setting_options)
    assert script.prober_options().max_parallel == 7
    assert script.config.source("prober", "max_parallel") == Source(
        "command line", "--max-parallel")
    assert script.prober_options().max_parallel_per_host == \
        settings.Prober.max_parallel_per_host.default
    assert ProberScript().run(["--max-parallel", "0"]) == 2
    assert "--max-parallel: must be a whole number of at least 1, not '0'" \
        in capsys.readouterr().err


def test_repeated_listen_options_are_the_space_separated_setting():
    from mirrorkeeper.web.service import Options
    options = Options()
    options.parseOptions(["--listen", "tcp:1:interface=127.0.0.1",
                          "-l", "tcp:2:interface=::1"])
    config = load_config(os.devnull).with_options(
        options, settings.WEB_DAEMON)
    assert config.get("web", "listen").split() == [
        "tcp:1:interface=127.0.0.1", "tcp:2:interface=::1"]
    assert config.source("web", "db_threads") == Source("default")


# The declarations themselves, and what is derived from them.

def test_every_default_is_of_its_settings_kind():
    """Each declared default reads back as itself from its text, so the
    defaults and the file's values are of one kind."""
    for setting in every_setting():
        assert setting.kind.parse(setting.default_text) == setting.default, \
            setting.name
        assert DEFAULTS[setting.section.name][setting.key] == \
            setting.default_text


def test_the_reference_tells_every_setting():
    """The config module's docstring tells every key with its default and
    its documentation."""
    text = " ".join(config_module.__doc__.replace("\n# ", "\n").split())
    for setting in every_setting():
        assert ("%s = %s" % (setting.key, setting.default_text)).strip() \
            in text, setting.name
        assert " ".join(setting.doc.split())[1:] in text, setting.name


def test_every_setting_the_code_reads_is_declared():
    """Every literal (section, key) the code asks a configuration for is a
    declared setting: a misspelt key in the code is caught here, not in
    production."""
    pattern = re.compile(
        r'\bget(?:int|float|boolean)?\(\s*"(\w+)",\s*"(\w+)"\)')
    asked = set()
    for folder, _, names in os.walk(LIB):
        for name in names:
            if name.endswith(".py"):
                with open(os.path.join(folder, name), encoding="utf-8") as f:
                    asked.update(pattern.findall(f.read()))
    assert len(asked) > 20
    undeclared = sorted(pair for pair in asked
                        if settings.declared(*pair) is None
                        and pair[0] in settings.SECTIONS)
    assert undeclared == []
