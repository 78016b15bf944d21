"""The web's cached answers and the writers in other processes: a prober
run, the command line.  The web (this test's process) keeps every answer
until the database says its mirrors changed; each change another process
commits is in the next answer, on both backends."""

import os
import subprocess
import sys

import pytest

from tests.farm.testing import prober_world  # noqa: F401
from tests.mirror_servers import write_archive
from tests.web_harness import InProcessClient

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


@pytest.fixture
def web_world(prober_world, tmp_path):
    """Two official mirrors on a farm: m-serve carries the archive,
    m-notfound nothing; and the web on a store of its own."""
    world = prober_world
    store = world.store()
    ubuntu = world.load_sample(store)
    tree = str(tmp_path / "archive")
    write_archive(tree, store)
    urls = world.start_farm(tree, {"m-serve": "serve",
                                   "m-notfound": "notfound"})
    for name, url in urls.items():
        world.add_mirror(store, ubuntu, name, http=url)
    store.commit()
    store.close()
    world.config = world.write_config(prober={"timeout": 5})
    web_store = world.store()
    yield world, InProcessClient(web_store)
    web_store.close()


def status(client):
    """{mirror name: its entry} of /api/1/status, for the farm's mirrors."""
    response = client.get("/api/1/status")
    assert response.status == 200
    return {entry["name"]: entry for entry in response.json()["mirrors"]
            if entry["name"].startswith("m-")}


def listed(client):
    """The farm's mirrors the archive listing shows."""
    text = client.get("/ubuntu/+archivemirrors").text
    return {name for name in ("m-serve", "m-notfound") if name in text}


def mirrorkeeper(world, *args):
    done = subprocess.run(
        [os.path.join(os.path.dirname(sys.executable), "mirrorkeeper"),
         "--config", world.config] + list(args), cwd=ROOT,
        capture_output=True, text=True, timeout=120,
        stdin=subprocess.DEVNULL)
    assert done.returncode == 0, done.stderr
    return done


def test_changes_by_other_processes_are_in_the_next_answer(web_world):
    """A prober run's applied records, the mirror it disables, an admin's
    review and a disable from the command line each show in the next
    status and listing after they are committed, though the answers
    before them were served from the cache."""
    world, client = web_world
    before = status(client)
    assert {name: (entry["freshness"], entry["last_probe"], entry["listed"])
            for name, entry in before.items()} == {
        "m-serve": ("unknown", None, True),
        "m-notfound": ("unknown", None, True)}
    assert listed(client) == {"m-serve", "m-notfound"}
    hits = client.app.answers.hits
    assert status(client) == before
    assert listed(client) == {"m-serve", "m-notfound"}
    assert client.app.answers.hits == hits + 2

    prober = world.run()
    assert prober.returncode == 0, prober.stderr
    after_run = status(client)
    assert after_run["m-serve"]["freshness"] != "unknown"
    assert after_run["m-serve"]["last_probe"] is not None
    assert after_run["m-serve"]["listed"] is True
    assert (after_run["m-notfound"]["enabled"],
            after_run["m-notfound"]["listed"]) == (False, False)
    assert listed(client) == {"m-serve"}

    mirrorkeeper(world, "mirror", "review", "m-serve", "--status",
                 "unofficial", "--reviewer", "mark")
    reviewed = status(client)["m-serve"]
    assert (reviewed["status"], reviewed["listed"]) == ("unofficial", False)
    assert listed(client) == set()

    mirrorkeeper(world, "mirror", "review", "m-serve", "--status",
                 "official", "--reviewer", "mark")
    assert status(client)["m-serve"]["listed"] is True
    assert listed(client) == {"m-serve"}
    mirrorkeeper(world, "mirror", "disable", "m-serve")
    disabled = status(client)["m-serve"]
    assert (disabled["enabled"], disabled["listed"]) == (False, False)
    assert listed(client) == set()
