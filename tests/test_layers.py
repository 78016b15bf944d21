"""Which packages the archive scanner and the prober load: the timestamp
file's format, never the planter nor its SFTP client (Twisted Conch)."""

import json
import subprocess
import sys

import pytest

READERS = [
    "mirrorkeeper.archive.scanner",
    "mirrorkeeper.archive.trace",
    "mirrorkeeper.prober.detectors",
    "mirrorkeeper.prober.plan",
    "mirrorkeeper.prober.run",
    "mirrorkeeper.prober.job",
    "mirrorkeeper.scripts.archive",
    "mirrorkeeper.scripts.prober",
]

# A fresh interpreter: this one has loaded whatever other tests needed.
PROGRAM = """\
import importlib, json, sys
importlib.import_module(sys.argv[1])
print(json.dumps(sorted(sys.modules)))
"""


def modules_loaded_by(name):
    """The names in sys.modules of a new interpreter once it has imported
    the module `name`."""
    output = subprocess.run([sys.executable, "-c", PROGRAM, name],
                            check=True, capture_output=True, text=True)
    return set(json.loads(output.stdout))


@pytest.mark.parametrize("reader", READERS)
def test_readers_of_timestamps_leave_the_planter_alone(reader):
    """Importing the scanner or the prober loads the timestamp file format
    and neither the planter, its SFTP target, nor Twisted Conch."""
    loaded = modules_loaded_by(reader)
    assert reader in loaded
    assert "mirrorkeeper.timestampfile" in loaded
    assert not {"mirrorkeeper.timestamps", "mirrorkeeper.timestamps.sftp",
                "twisted.conch"} & loaded
    assert not [name for name in loaded if name.startswith("twisted.conch.")]


def test_the_planter_loads_its_sftp_client_when_asked():
    """The check above can fail: the planter's SFTP target does load
    Conch."""
    loaded = modules_loaded_by("mirrorkeeper.timestamps.sftp")
    assert {"mirrorkeeper.timestamps", "twisted.conch"} <= loaded
