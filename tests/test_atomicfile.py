"""Files replaced whole (mirrorkeeper.atomicfile)."""

import os
import stat

import pytest

from mirrorkeeper.atomicfile import replacing, write_atomically


def test_the_new_content_replaces_the_old_with_its_mode(tmp_path):
    path = tmp_path / "snapshot.json"
    path.write_bytes(b"old")
    write_atomically(str(path), b"new", mode=0o640)
    assert path.read_bytes() == b"new"
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o640
    assert os.listdir(tmp_path) == ["snapshot.json"]


def test_a_missing_folder_is_made(tmp_path):
    path = tmp_path / "var" / "lists" / "CA.txt"
    write_atomically(str(path), b"http://mirror.example.ca/\n")
    assert path.read_bytes() == b"http://mirror.example.ca/\n"


def test_an_error_while_writing_keeps_the_old_file_and_no_temporary(
        tmp_path):
    path = tmp_path / "facts.sqlite"
    path.write_bytes(b"old")
    with pytest.raises(RuntimeError):
        with replacing(str(path)) as temporary:
            with open(temporary, "wb") as f:
                f.write(b"half of it")
            raise RuntimeError("the writer failed")
    assert path.read_bytes() == b"old"
    assert os.listdir(tmp_path) == ["facts.sqlite"]


def test_the_temporary_file_is_hidden_beside_the_target(tmp_path):
    path = tmp_path / "snapshot.json"
    with replacing(str(path), prefix=".snapshot-") as temporary:
        assert os.path.dirname(temporary) == str(tmp_path)
        assert os.path.basename(temporary).startswith(".snapshot-")
        assert not path.exists()
        with open(temporary, "wb") as f:
            f.write(b"{}")
    assert path.read_bytes() == b"{}"
