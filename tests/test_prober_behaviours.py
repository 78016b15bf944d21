"""The prober cronscript against the fake mirror farm: one mirror of each
behaviour a real mirror shows, and what the run makes of each one."""

import pytest

from mirrorkeeper.enums import MirrorFreshness
from mirrorkeeper.model.distributionmirror import DistributionMirrorSet
from tests.farm.testing import prober_world  # noqa: F401
from tests.mirror_servers import write_archive

# Farm kind -> (URL scheme, what the first run makes of it: "up",
# "disabled" at once, or "unreachable" (left out of the lists, disabled by
# the second run), what its log must say).
BEHAVIOURS = {
    "serve": ("http", "up", "HTTP/1.1 200"),
    "redirect:m-serve": ("http", "up", "302"),
    "notfound": ("http", "disabled", "HTTP/1.1 404"),
    "error500": ("http", "disabled", "HTTP/1.1 500"),
    "hang": ("http", "unreachable", "No complete answer before the timeout."),
    "refuse": ("http", "unreachable", "The connection was refused."),
    "loop": ("http", "disabled", "lead back to a URL already visited"),
    "otherfile": ("http", "disabled", "pointed to a different file name"),
    "gopher": ("http", "disabled", "a URL scheme the prober does not speak"),
    "https": ("https", "up", "HTTP/1.1 200"),
    "https-self-signed": ("https", "disabled",
                          "certificate verification failed"),
    "ftp": ("ftp", "up", "213"),
}


def mirror_name(kind):
    return "m-" + kind.split(":")[0]


@pytest.fixture
def farm_world(prober_world, tmp_path):
    world = prober_world
    store = world.store()
    ubuntu = world.load_sample(store)
    tree = str(tmp_path / "archive")
    write_archive(tree, store)
    ca_file = str(tmp_path / "farm-ca.pem")
    urls = world.start_farm(tree, {mirror_name(kind): kind
                                   for kind in BEHAVIOURS}, ca_file)
    for kind, (scheme, _, _) in BEHAVIOURS.items():
        url = urls[mirror_name(kind)]
        if kind == "refuse":
            url = url.replace("https:", "http:")
        world.add_mirror(store, ubuntu, mirror_name(kind), **{scheme: url})
    store.commit()
    store.close()
    # Short enough that the hanging mirror costs little, long enough that
    # a loaded machine does not make a healthy mirror miss it (0.5 s did,
    # for the FTP mirror, with the suite running on every core).
    world.config = world.write_config(
        prober={"timeout": 2, "ca_file": ca_file})
    prober = world.run()
    store = world.store()
    yield prober, DistributionMirrorSet(store), world.smtp_server, world.run
    store.close()


def test_each_behaviour(farm_world):
    """Mirrors that serve the archive (directly, through a valid redirect,
    over HTTPS or FTP) stay enabled and fresh; a mirror that answers but
    lacks the archive is disabled at once, with its cause in the probe log
    and a message to its owner; one that cannot be reached keeps its state
    and is only marked unreachable, and a host that keeps timing out is
    skipped."""
    prober, mirrors, smtp_server, _ = farm_world
    assert prober.returncode == 0, prober.stderr
    assert "Probed %d mirrors." % len(BEHAVIOURS) in prober.stderr
    disabled = []
    for kind, (_, verdict, evidence) in BEHAVIOURS.items():
        mirror = mirrors[mirror_name(kind)]
        log = mirror.last_probe_record.log
        assert evidence.lower() in log.lower(), (kind, log[:2000])
        assert mirror.enabled is (verdict != "disabled"), (kind, log[:2000])
        assert mirror.unreachable is (verdict == "unreachable"), kind
        if verdict == "up":
            assert mirror.arch_series.count() == len(
                mirror.guessPackagesPaths()), kind
            assert mirror.getOverallFreshness() is MirrorFreshness.UP, kind
        else:
            assert mirror.arch_series.is_empty(), kind
            assert mirror.source_series.is_empty(), kind
        if verdict == "disabled":
            disabled.append(mirror.name)
    # The owner (Mark Shuttleworth) is also a mirror admin: one message to
    # him and one to the other admin, for each disabled mirror.
    messages = smtp_server.wait_for(2 * len(disabled), timeout=30)
    subjects = {m.message["Subject"].split()[-4] for m in messages}
    assert subjects == set(disabled)
    # After enough timeouts the hanging mirror's host is skipped for the
    # rest of the run, and the run says so.
    assert "Skipped http://127.0.0.1:" in prober.stderr
    assert "skipped" in mirrors[mirror_name("hang")].last_probe_record.log


def test_unreachable_twice_is_disabled(farm_world):
    """A mirror that cannot be reached in two runs in a row is disabled by
    the second, and its owner told once, saying it could not be reached;
    the mirrors disabled by the first run are not told again."""
    _, mirrors, smtp_server, run_prober = farm_world
    first = len(smtp_server.wait_for(2 * sum(
        1 for _, verdict, _ in BEHAVIOURS.values() if verdict == "disabled"),
        timeout=30))
    smtp_server.clear()
    second = run_prober()
    assert second.returncode == 0, second.stderr
    mirrors.store.rollback()
    unreachable = [mirror_name(kind) for kind, (_, verdict, _)
                   in BEHAVIOURS.items() if verdict == "unreachable"]
    for name in unreachable:
        mirror = mirrors[name]
        assert not mirror.enabled, name
        assert mirror.failed_runs == 2, name
    messages = smtp_server.wait_for(2 * len(unreachable), timeout=30)
    assert first and len(messages) == 2 * len(unreachable)
    assert {m.message["Subject"].split()[-4] for m in messages} == set(
        unreachable)
    body = messages[0].message.get_body().get_content()
    assert "could not be reached in 2 consecutive" in " ".join(body.split())
