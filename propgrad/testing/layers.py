"""The package's shape, measured: its import graph, each module's layer, and the way an input travels.

A module's *layer* is its place in the import graph: a module that imports no other propgrad module is on
layer 0, any other one stands one above the highest module it imports (imports inside functions count: a lazy
import is still an import). With no import cycle (``tests/test_architecture.py``) no module can import one on
its own layer or higher.

The *way* of an input is the chain of calls that hand it, or what is made from it, on: images, arrays,
tensors, and the package's result records holding them. :func:`trace_way` records, while a function runs,
every call into a propgrad function whose caller is on the way and which receives such data, and its return
to that caller (in the calling thread only: what worker threads do, such as drawing figures side by side, is
not seen); :class:`Way`
counts what the issue about the way out asked to keep short: the modules visited, the distinct steps back up
to a higher layer and the distinct steps back into a module already left.
"""
from __future__ import annotations

import ast
import dataclasses
import sys
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1]


def module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def modules() -> dict[str, Path]:
    """Every module of the package by dotted name."""
    return {module_name(path): path for path in PACKAGE.rglob("*.py")}


def imports(name: str, path: Path, known: dict[str, Path]) -> set[str]:
    """The propgrad modules ``name`` imports anywhere in its body, each as the deepest module the statement
    names."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join(anchor + ([base] if base else []))
            targets = [f"{base}.{alias.name}" if f"{base}.{alias.name}" in known else base for alias in node.names]
        else:
            continue
        for target in targets:
            while target and target not in known:
                target = target.rpartition(".")[0]
            if target.startswith("propgrad") and target != name:
                found.add(target)
    return found


def import_graph() -> dict[str, set[str]]:
    known = modules()
    return {name: imports(name, path, known) for name, path in known.items()}


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    result = []

    def visit(node):
        index[node] = low[node] = len(index)
        stack.append(node)
        for other in graph[node]:
            if other not in index:
                visit(other)
                low[node] = min(low[node], low[other])
            elif other in stack:
                low[node] = min(low[node], index[other])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                result.append(sorted(component))

    for node in graph:
        if node not in index:
            visit(node)
    return result


def layers(graph: dict[str, set[str]]) -> dict[str, int]:
    """Each module's layer (see the module's docstring); the graph must have no cycle."""
    found: dict[str, int] = {}

    def layer(name: str) -> int:
        if name not in found:
            found[name] = 1 + max((layer(other) for other in graph[name]), default=-1)
        return found[name]

    for name in graph:
        layer(name)
    return found


@dataclass(frozen=True)
class Way:
    """The modules an input's way visits, in call order (consecutive calls in one module taken as one visit),
    with each module's layer and, per visit, whether a return led into it (``by_return``; a call otherwise).

    Calls and returns are told apart because a call may go up a layer without any import: a network's
    ``forward``, defined above the classifier that runs it, is called through ``torch.nn.Module.__call__``. Such a
    call is not a return to a higher layer. Without ``by_return`` every step to a higher layer counts as a return.
    """

    visits: tuple[str, ...]
    layer: dict[str, int]
    by_return: tuple[bool, ...] | None = None

    def _kinds(self) -> tuple[bool, ...]:
        if self.by_return is None:
            return (False,) + tuple(self.layer[b] > self.layer[a] for a, b in zip(self.visits, self.visits[1:]))
        return self.by_return

    @property
    def modules(self) -> list[str]:
        return list(dict.fromkeys(self.visits))

    def _distinct(self, returns: bool) -> list[tuple[str, str]]:
        kinds = self._kinds()
        return list(dict.fromkeys((a, b) for a, b, by_return in zip(self.visits, self.visits[1:], kinds[1:])
                                  if by_return == returns))

    @property
    def steps(self) -> list[tuple[str, str]]:
        """The distinct steps from one module to the next (a loop over models walks its steps once)."""
        return list(dict.fromkeys(zip(self.visits, self.visits[1:])))

    @property
    def returns_up(self) -> list[tuple[str, str]]:
        """Distinct returns to a module on a higher layer."""
        return [(a, b) for a, b in self._distinct(returns=True) if self.layer[b] > self.layer[a]]

    @property
    def calls_up(self) -> list[tuple[str, str]]:
        """Distinct calls into a module on a higher layer (a method the lower module runs without importing it)."""
        return [(a, b) for a, b in self._distinct(returns=False) if self.layer[b] > self.layer[a]]

    @property
    def steps_into_left(self) -> list[tuple[str, str]]:
        """Distinct steps, calls or returns, into a module the way had already visited and left."""
        seen: set[str] = set()
        found = []
        for a, b in zip(self.visits, self.visits[1:]):
            seen.add(a)
            if b in seen and (a, b) not in found:
                found.append((a, b))
        return found

    def summary(self) -> str:
        return (f"{len(self.modules)} modules, {len(self.returns_up)} returns to a higher layer, "
                f"{len(self.steps_into_left)} steps into a module it had left")

    def drawn(self) -> str:
        short = [f"{name.removeprefix('propgrad.')}({self.layer[name]})" for name in self.visits]
        return " -> ".join(short)


def _carries_data(value, depth: int = 0) -> bool:
    """Whether ``value`` is an image, an array or a tensor, or a container or a propgrad record holding one."""
    kind = type(value)
    if kind.__module__.startswith(("PIL.", "numpy", "torch")) and kind.__name__ in ("Image", "ndarray", "Tensor"):
        return True
    if depth > 4:
        return False
    if isinstance(value, (list, tuple)):
        return any(_carries_data(item, depth + 1) for item in list(value)[:64])
    if isinstance(value, dict):
        return any(_carries_data(item, depth + 1) for item in list(value.values())[:64])
    if dataclasses.is_dataclass(value) and not isinstance(value, type) and kind.__module__.startswith("propgrad"):
        return any(_carries_data(getattr(value, field.name, None), depth + 1) for field in dataclasses.fields(value))
    return False


@cache
def _module_of_file() -> dict[str, str]:
    return {str(path.resolve()): name for name, path in modules().items()}


def trace_way(run: Callable[[], object], start: Callable) -> Way:
    """Run ``run()`` and return the way that starts when ``start`` (a propgrad function) is called.

    ``self`` does not put a call on the way: a method is on it when it is handed data, as a function is (a
    record's constructor, a property of a result, are not steps of the way; the functions they call with the
    data are).
    """
    of_file = _module_of_file()
    start_code = getattr(start, "__wrapped__", start).__code__
    on_way: set[int] = set()
    visits: list[str] = []
    by_return: list[bool] = []

    def visit(module: str, returning: bool = False) -> None:
        if not visits or visits[-1] != module:
            visits.append(module)
            by_return.append(returning)

    def caller_of(frame):
        caller = frame.f_back
        # Comprehensions and lambdas are frames of their own: the function around them is the caller.
        while caller is not None and (caller.f_code.co_filename not in of_file or caller.f_code.co_name[0] == "<"):
            caller = caller.f_back
        return caller

    def profile(frame, event, _arg):
        if event == "return":
            if id(frame) in on_way:
                on_way.discard(id(frame))  # a finished frame's id may be reused by a frame off the way
                caller = caller_of(frame)
                if caller is not None and id(caller) in on_way:
                    visit(of_file[caller.f_code.co_filename], returning=True)  # what it made goes back
            return
        if event != "call":
            return
        module = of_file.get(frame.f_code.co_filename)
        if module is None:
            return
        if frame.f_code is start_code:
            on_way.add(id(frame))
            visit(module)
            return
        caller = caller_of(frame)
        if caller is None or id(caller) not in on_way:
            return
        code = frame.f_code
        names = code.co_varnames[: code.co_argcount + code.co_kwonlyargcount]
        if any(_carries_data(frame.f_locals.get(name)) for name in names if name != "self"):
            on_way.add(id(frame))
            visit(module)

    previous = sys.getprofile()
    sys.setprofile(profile)
    try:
        run()
    finally:
        sys.setprofile(previous)
    return Way(tuple(visits), layers(import_graph()), tuple(by_return))
