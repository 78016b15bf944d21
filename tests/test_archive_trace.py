"""Trace files: the time on their first line, in the formats ftpsync and
older tools write."""

from datetime import datetime

import pytest

from mirrorkeeper.archive.files import ArchiveFileError
from mirrorkeeper.archive.trace import find_trace_files, parse_trace


@pytest.mark.parametrize("first_line", [
    "Sat Jan 20 21:29:35 UTC 2024",
    "Sat, 20 Jan 2024 21:29:35 +0000",
    "Sat, 20 Jan 2024 22:29:35 +0100",
    "1705786175",
])
def test_trace_time_formats(first_line):
    """`date -u`, RFC 2822 with any zone and Unix times read as UTC."""
    data = ("%s\nDate: ignored\nCreator: ftpsync\n" % first_line).encode()
    assert parse_trace(data, "project/trace/master") == datetime(
        2024, 1, 20, 21, 29, 35)


@pytest.mark.parametrize("data", [b"", b"\nSat Jan 20 21:29:35 UTC 2024\n",
                                  b"not a date\n"])
def test_a_first_line_that_is_no_date_is_an_error(data):
    """A trace file whose first line is not a date is an error naming it."""
    with pytest.raises(ArchiveFileError, match="^project/trace/master: "):
        parse_trace(data, "project/trace/master")


def test_trace_files_are_found(tmp_path):
    """Every plain file of project/trace is a trace file; none without the
    directory."""
    assert find_trace_files(str(tmp_path)) == []
    trace = tmp_path / "project" / "trace"
    (trace / "sub").mkdir(parents=True)
    for name in ("master", "ftp.example.org", ".hidden"):
        (trace / name).write_text("1705786175\n")
    assert find_trace_files(str(tmp_path)) == [
        "project/trace/ftp.example.org", "project/trace/master"]
