"""The import graph between packages, read from the source: the web layer
never imports the command line, the model imports no reader of it, and
each step of the pipeline imports none after it."""

import ast
import os

import pytest

LIB = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(
    __file__))), "lib")

# {package: packages it must not import, at the top or in a function}.
# Data flows one way: archive scan -> registry (model) -> prober ->
# snapshot (publish) -> publication; the command line and the web read
# and drive them, and nothing below imports them.
FORBIDDEN = {
    "mirrorkeeper.web": ("mirrorkeeper.scripts",),
    "mirrorkeeper.model": ("mirrorkeeper.web", "mirrorkeeper.scripts",
                           "mirrorkeeper.publish", "mirrorkeeper.prober"),
    "mirrorkeeper.archive": ("mirrorkeeper.web", "mirrorkeeper.scripts",
                             "mirrorkeeper.publish", "mirrorkeeper.prober"),
    "mirrorkeeper.prober": ("mirrorkeeper.web", "mirrorkeeper.scripts",
                            "mirrorkeeper.publish"),
    "mirrorkeeper.publish": ("mirrorkeeper.web", "mirrorkeeper.scripts",
                             "mirrorkeeper.prober"),
}


def modules_of(package):
    """{module name: path} of the modules of `package`, sub-packages
    included."""
    root = os.path.join(LIB, *package.split("."))
    found = {}
    for folder, _, files in os.walk(root):
        for name in files:
            if name.endswith(".py"):
                path = os.path.join(folder, name)
                parts = os.path.relpath(path, LIB)[:-3].split(os.sep)
                if parts[-1] == "__init__":
                    parts.pop()
                found[".".join(parts)] = path
    return found


def imports_of(module, path):
    """The names of the modules `path` (module `module`) imports anywhere
    in it, relative imports resolved."""
    with open(path, encoding="utf-8") as f:
        tree = ast.parse(f.read(), path)
    package = module.split(".")
    if not path.endswith("__init__.py"):
        package.pop()
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = package[:len(package) - node.level + 1] \
                if node.level else []
            stem = ".".join(base + ([node.module] if node.module else []))
            names.add(stem)
            # `from mirrorkeeper import scripts` imports a module too.
            names.update("%s.%s" % (stem, alias.name)
                         for alias in node.names)
    return names


def reaches(name, forbidden):
    return name == forbidden or name.startswith(forbidden + ".")


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_a_layer_does_not_import_what_it_must_not(package):
    """No module of the package imports a package it must not."""
    modules = modules_of(package)
    assert len(modules) > 3
    wrong = sorted(
        (module, name) for module, path in modules.items()
        for name in imports_of(module, path)
        for forbidden in FORBIDDEN[package] if reaches(name, forbidden))
    assert wrong == []


def test_the_check_sees_imports_inside_functions(tmp_path):
    """An import inside a function, or a relative one, is found: the check
    above can fail."""
    path = tmp_path / "page.py"
    path.write_text("def page():\n"
                    "    from mirrorkeeper.scripts.commands import common\n"
                    "    from ..scripts import cli\n")
    names = imports_of("mirrorkeeper.web.page", str(path))
    assert "mirrorkeeper.scripts.commands.common" in names
    assert "mirrorkeeper.scripts.cli" in names
