"""The shape of the code base: no import circles among keras_gan/, export/
and demo/ (a circle makes import order matter and modules impossible to
read, test or move alone)."""

import ast
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
PACKAGES = ("keras_gan", "export", "demo")


def modules() -> dict[str, Path]:
    found = {}
    for package in PACKAGES:
        for path in (REPO / package).rglob("*.py"):
            parts = path.relative_to(REPO).with_suffix("").parts
            found[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return found


def import_graph(found: dict[str, Path]) -> dict[str, set[str]]:
    """module -> the project modules it imports, at the top or inside a
    function (a lazy import still ties the two modules together)."""

    def owner(name: str) -> str | None:  # `keras_gan.models.gans.wgan.WGAN` -> its module
        while name and name not in found:
            name = name.rpartition(".")[0]
        return name or None

    graph = {}
    for module, path in found.items():
        package = module if path.name == "__init__.py" else module.rpartition(".")[0]
        edges = set()
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:  # relative: from package, one level up per extra dot
                    up = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
                    base = f"{up}.{base}".rstrip(".")
                names = [base, *(f"{base}.{a.name}" for a in node.names)]
            else:
                continue
            edges |= {o for n in names if (o := owner(n)) and o != module}
        graph[module] = edges
    return graph


def circles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan)."""
    index, low, stack, on, out = {}, {}, [], set(), []

    def visit(v):
        index[v] = low[v] = len(index)
        stack.append(v)
        on.add(v)
        for w in graph[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                out.append(sorted(component))

    for v in graph:
        if v not in index:
            visit(v)
    return out


def test_the_circle_finder_finds_a_circle():
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert circles(graph) == [["a", "b", "c"]]
    assert circles({"a": {"b"}, "b": set()}) == []


def test_no_import_circles():
    found = modules()
    graph = import_graph(found)
    assert "export.latents" in graph["export.projection"]  # the graph sees real imports
    assert "export.projection" in graph["export.runtime"]  # lazy ones too
    assert circles(graph) == []


def test_no_submodule_shadows_an_exported_name():
    """`keras_gan.train` is the function even after the module that defines
    it was imported (a submodule named `train` would win once imported)."""
    import importlib

    import keras_gan

    importlib.import_module("keras_gan.training.trainer")
    from keras_gan import train
    from keras_gan.training.trainer import train as defined

    assert callable(train) and train is defined
    assert not set(keras_gan._EXPORTS) & {p.stem for p in (REPO / "keras_gan").iterdir()}
    for name, module in keras_gan._EXPORTS.items():
        assert getattr(keras_gan, name) is getattr(importlib.import_module(module), name)
