"""The walls between churnsurv's layers, read from the import graph (``ast``; nothing is imported).

Data flow one way: records -> tenure table (``data``) -> life table (``lifetable``) -> estimators
(``nonparametric``, ``competing``, ``models`` and later ``value``, ``effects``, ``states``) -> figures
(``plotting``) -> notebooks and the report (``report``) -> the command line (``cli``). A module may import
its own layer and the layers before it, never one after it. ``exceptions``, ``_validation`` and ``_base`` are
the shared core every layer may use; they import nothing else of churnsurv. lifelines is imported only by the
models layer.

:func:`check_walls` returns one message per offending import (empty when the tree is clean); it is used by
``tests/test_layout.py`` on the package and by ``tests/test_layout_checker.py`` on planted trees.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path

CORE = {"exceptions", "_validation", "_base"}
ESTIMATORS = {"nonparametric", "competing", "models", "value", "effects", "states"}
#: The rank of each layer: a module may import layers of equal or lower rank.
RANK = {"core": 0, "data": 1, "lifetable": 2, **dict.fromkeys(ESTIMATORS, 3), "plotting": 4, "report": 5,
        "cli": 6, "package": 7}
#: Top-level modules that only re-export (the package's __init__ and the import-path shims).
PACKAGE_MODULES = {"__init__", "datasets", "simulate", "reporting"}
#: The layer an old import path stands for (``churnsurv.datasets`` is ``churnsurv.data.datasets``).
SHIMS = {"datasets": "data", "simulate": "data", "reporting": "report"}
#: ``import churnsurv`` loads every layer but the CLI: allowed from the report layer on.
WHOLE_PACKAGE = "report"
#: Third-party packages confined to one layer, and the layers allowed to import them.
CONFINED = {"lifelines": {"models"}}


@dataclass(frozen=True)
class Violation:
    module: str
    line: int
    imported: str
    reason: str

    def __str__(self) -> str:
        return f"{self.module}:{self.line} imports {self.imported}: {self.reason}"


def layer_of(parts: tuple[str, ...]) -> str:
    """The layer of a module given its dotted path below the package (``("data", "tenures")``)."""
    head = parts[0] if parts else "__init__"
    if head in CORE:
        return "core"
    if head in PACKAGE_MODULES:
        return "package"
    if head == "cli":
        return "cli"
    if head in RANK:
        return head
    raise ValueError(f"module churnsurv.{'.'.join(parts)} belongs to no known layer; add its layer to RANK")


def _module_parts(path: Path, root: Path) -> tuple[str, ...]:
    rel = path.relative_to(root).with_suffix("")
    parts = rel.parts
    return parts[:-1] if parts[-1] == "__init__" and len(parts) > 1 else parts


def _imports(tree: ast.AST, parts: tuple[str, ...], is_package: bool, pkg: str):
    """Yield (line, dotted name) for every import anywhere in the module (top level or inside functions)."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name
        elif isinstance(node, ast.ImportFrom):
            if node.level:  # relative: resolve against this module's package
                base = [pkg, *parts] if is_package else [pkg, *parts[:-1]]
                base = base[: len(base) - (node.level - 1)]
                module = ".".join(base + ([node.module] if node.module else []))
            else:
                module = node.module or ""
            if module == pkg:  # from churnsurv import X: X may be a subpackage or a name of the package
                for alias in node.names:
                    yield node.lineno, f"{pkg}.{alias.name}"
            else:
                yield node.lineno, module


def check_walls(package_dir: Path) -> list[Violation]:
    """Every import in the package at ``package_dir`` that crosses a wall."""
    package_dir = Path(package_dir)
    pkg = package_dir.name
    out = []
    for path in sorted(package_dir.rglob("*.py")):
        parts = _module_parts(path, package_dir)
        module = ".".join((pkg, *parts)) if parts != ("__init__",) else pkg
        layer = layer_of(parts)
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        for line, name in _imports(tree, parts, path.name == "__init__.py", pkg):
            top = name.split(".")[0]
            if top in CONFINED and layer not in CONFINED[top]:
                allowed = ", ".join(sorted(CONFINED[top]))
                out.append(Violation(module, line, name, f"{top} may be imported only in the {allowed} layer"))
                continue
            if top != pkg:
                continue
            target = tuple(name.split(".")[1:])
            if not target:
                target_layer = WHOLE_PACKAGE  # import churnsurv: the whole package
            elif target[0] in SHIMS:
                target_layer = SHIMS[target[0]]
            else:
                try:
                    target_layer = layer_of(target)
                except ValueError:  # from churnsurv import Name: a name re-exported by the whole package
                    target_layer = WHOLE_PACKAGE
            if RANK[target_layer] > RANK[layer]:
                what = "the whole package" if not target or target_layer == WHOLE_PACKAGE and target[0] not in RANK \
                    else f"the {target_layer} layer"
                out.append(Violation(module, line, name, f"the {layer} layer may not import {what}"))
    return out


def public_signatures_mention(package_dir: Path, word: str) -> list[str]:
    """Public functions and methods whose annotations name ``word`` (e.g. lifelines types in a signature)."""
    out = []
    for path in sorted(Path(package_dir).rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and not node.name.startswith("_"):
                annotations = [a.annotation for a in (*node.args.args, *node.args.kwonlyargs) if a.annotation]
                if node.returns is not None:
                    annotations.append(node.returns)
                if any(word in ast.unparse(a) for a in annotations):
                    out.append(f"{path.name}:{node.lineno} {node.name}")
    return out
