"""Runs doc/*.rst, the executable specification, on both backends."""

import doctest
import glob
import os

import pytest

DOC_DIR = os.path.join(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))), "doc")
DOCTESTS = sorted(glob.glob(os.path.join(DOC_DIR, "*.rst")))
FLAGS = doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE | \
    doctest.REPORT_NDIFF


@pytest.mark.parametrize("path", DOCTESTS, ids=os.path.basename)
def test_doctest(path, store, database_uri, smtp_server, tmp_path, capsys):
    """Every example of the document gives the output it shows."""
    smtp_server.clear()
    globs = {"store": store, "smtp_server": smtp_server,
             "database_uri": database_uri, "tmp_dir": str(tmp_path),
             "project_root": os.path.dirname(DOC_DIR)}
    result = doctest.testfile(path, module_relative=False, globs=globs,
                              optionflags=FLAGS, report=True)
    output = capsys.readouterr().out
    assert result.failed == 0, output
    assert result.attempted > 0
