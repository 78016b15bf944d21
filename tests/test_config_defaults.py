"""The dataclasses that carry settings into each part agree with the
declared settings: each, built from a configuration of defaults, is the
one its own defaults make."""

import os

import attrs
import pytest

from mirrorkeeper import settings
from mirrorkeeper.config import load_config
from mirrorkeeper.mail.notifications import MailSettings
from mirrorkeeper.prober.client import ProbeClient
from mirrorkeeper.prober.job import ProberOptions
from mirrorkeeper.prober.record import ApplySettings
from mirrorkeeper.publish.server import ServerSettings
from mirrorkeeper.publish.snapshot import PublicationPolicy
from mirrorkeeper.publish.statistics import LogRotation
from mirrorkeeper.scripts.prober import ProberScript
from mirrorkeeper.web.app import WebSettings


@pytest.fixture
def defaults():
    return load_config(os.devnull, environ={})


@pytest.mark.parametrize("settings_class", [
    WebSettings, ServerSettings, MailSettings, LogRotation,
    PublicationPolicy])
def test_built_from_the_defaults_it_is_its_own_defaults(
        settings_class, defaults):
    """X.from_config(a configuration of defaults) == X(), for every
    field."""
    assert settings_class.from_config(defaults) == settings_class()


def test_the_prober_options_defaults_are_the_settings(defaults):
    """What the prober script makes of a configuration of defaults and no
    options is ProberOptions' defaults, field by field (but for what is
    not a setting)."""
    script = ProberScript()
    script.options = script.build_parser().parse_args([])
    script.config = defaults
    made = attrs.asdict(script.prober_options(), recurse=False)
    own = attrs.asdict(ProberOptions(), recurse=False)
    for name in ("config", "progress_interval", "trust_root"):
        made.pop(name), own.pop(name)
    assert made == own


def test_apply_settings_disable_after_the_declared_runs():
    assert ApplySettings().disable_after_failed_runs == \
        settings.Prober.disable_after_failed_runs.default


def test_the_probe_client_limits_are_the_settings():
    """ProbeClient's class defaults, for callers that give none, are the
    [prober] settings'."""
    assert (ProbeClient.timeout, ProbeClient.max_parallel,
            ProbeClient.max_parallel_per_host) == (
        settings.Prober.timeout.default,
        settings.Prober.max_parallel.default,
        settings.Prober.max_parallel_per_host.default)


def test_a_changed_setting_reaches_the_dataclass(tmp_path):
    """The comparison above could fail: a value that is not the default
    makes another dataclass."""
    path = tmp_path / "mirrorkeeper.conf"
    path.write_text("[web]\ncache_seconds = 0\n")
    assert WebSettings.from_config(load_config(str(path))) != WebSettings()
