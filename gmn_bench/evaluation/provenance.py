"""Which code made a result: the fingerprint of the source that defines a metanet's behaviour.

:func:`code_fingerprint` hashes (sha256) the source files that decide what a metanet predicts once
the zoo is fixed (the zoo itself has its own fingerprint, :func:`gmn_bench.tasks.zoo_fingerprint`):

* the file that defines the metanet class;
* every module of :mod:`gmn_bench.metanets` and :mod:`gmn_bench.graphs` it imports, directly or
  through one another (import statements read from the source, in functions too; the
  ``gmn_bench.metanets`` package file, which only gathers the registry, is not followed);
* the protocol that trains and reads every metanet: :data:`PROTOCOL_FILES` (training loop, losses,
  predictors, learning-rate tuning, the task datasets that carry the targets).

A results file records it (``metanet.code``), and the leaderboard marks a reference entry *stale*
when the fingerprint of its metanet's code today differs from the one recorded
(:func:`gmn_bench.leaderboard.staleness.stale_reason`). The network definitions and zoo loading
(:mod:`gmn_bench.nets`, :mod:`gmn_bench.zoo`) are not included: a change there that changes the rows
changes the zoo fingerprint instead.
"""
from __future__ import annotations

import ast
import hashlib
import inspect
from pathlib import Path

_PACKAGE = Path(__file__).resolve().parents[1]
_ROOT = _PACKAGE.parent
_FOLLOWED = ("gmn_bench.metanets.", "gmn_bench.graphs")
_NOT_FOLLOWED = ("gmn_bench.metanets",)
PROTOCOL_FILES = ("gmn_bench/evaluation/protocol.py", "gmn_bench/evaluation/objective.py",
                  "gmn_bench/evaluation/predictors.py", "gmn_bench/evaluation/run.py", "gmn_bench/tasks/datasets.py")
"""Source files of the protocol, part of every metanet's fingerprint (paths from the repository root)."""


def _module_file(module: str) -> Path | None:
    path = _ROOT / module.replace(".", "/")
    for candidate in (path / "__init__.py", path.with_suffix(".py")):
        if candidate.is_file():
            return candidate
    return None


def _module_name(path: Path) -> str:
    parts = path.relative_to(_ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imported(path: Path, module: str) -> set[str]:
    """The gmn_bench modules the source at ``path`` (module ``module``, or None outside gmn_bench) imports."""
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[:len(package.split(".")) - node.level + 1]
                name = ".".join(base + ([node.module] if node.module else []))
            else:
                name = node.module or ""
            found.add(name)
            found.update(f"{name}.{alias.name}" for alias in node.names)  # "from package import module"
    return {name for name in found if name.startswith("gmn_bench") and _module_file(name) is not None}


def code_files(metanet_cls: type) -> list[Path] | None:
    """The source files of :func:`code_fingerprint` for ``metanet_cls`` (see the module docstring),
    or ``None`` if the class has no source file (defined interactively)."""
    try:
        source = Path(inspect.getsourcefile(metanet_cls) or "").resolve()
    except TypeError:
        return None
    if not source.is_file():
        return None
    inside = source.is_relative_to(_PACKAGE)
    files, todo = {source}, [(source, _module_name(source) if inside else "")]
    while todo:
        path, module = todo.pop()
        for name in _imported(path, module):
            target = _module_file(name)
            if name.startswith(_FOLLOWED) and name not in _NOT_FOLLOWED and target not in files:
                files.add(target)
                todo.append((target, name))
    files.update(_ROOT / f for f in PROTOCOL_FILES)
    return sorted(files)


def _label(path: Path) -> str:
    return path.relative_to(_ROOT).as_posix() if path.is_relative_to(_ROOT) else path.name


def code_fingerprint(metanet_cls: type) -> dict | None:
    """``{"fingerprint": "sha256:<hex>", "files": [...]}`` of the code that defines ``metanet_cls``'s
    behaviour (:func:`code_files`; files named from the repository root, or by their name outside
    it); ``None`` for a class without a source file."""
    files = code_files(metanet_cls)
    if files is None:
        return None
    digest = hashlib.sha256()
    for path in files:
        digest.update(_label(path).encode() + b"\0" + hashlib.sha256(path.read_bytes()).digest())
    return {"fingerprint": f"sha256:{digest.hexdigest()}", "files": [_label(p) for p in files]}
