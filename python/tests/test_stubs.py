"""The type stubs cover the API: every public name of the package, every method of Array and
every function of chunkwise.ndimage is declared in a .pyi file, so editors complete it."""

import ast
from pathlib import Path

import chunkwise as cw
import chunkwise.ndimage

STUBS = Path(cw.__file__).parent


def declared(path, cls=None):
    """Names a stub declares at top level (functions, classes, imported names), or in `cls`."""
    tree = ast.parse(path.read_text())
    body = tree.body
    if cls is not None:
        body = next(n for n in body if isinstance(n, ast.ClassDef) and n.name == cls).body
    names = set()
    for node in body:
        if isinstance(node, (ast.FunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, ast.ImportFrom):
            names.update(a.asname or a.name for a in node.names)
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            names.add(node.target.id)
    return names


def test_every_public_name_of_the_package_is_in_its_stub():
    missing = set(cw.__all__) - declared(STUBS / "__init__.pyi")
    assert not missing, f"add to python/pysrc/chunkwise/__init__.pyi: {sorted(missing)}"


def test_every_method_of_array_is_in_the_extension_stub():
    public = {n for n in vars(cw.Array) if not n.startswith("__") or n == "__getitem__"}
    public -= {"__module__", "__doc__"}
    missing = public - declared(STUBS / "_chunkwise.pyi", cls="Array")
    assert not missing, f"add to class Array in _chunkwise.pyi: {sorted(missing)}"


def test_every_ndimage_function_is_in_the_extension_stub():
    missing = set(chunkwise.ndimage.__all__) - declared(STUBS / "_chunkwise.pyi")
    assert not missing, f"add to _chunkwise.pyi: {sorted(missing)}"
