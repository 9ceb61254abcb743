"""Each package depends only on those below it: every ``livehost`` import in ``livehost/`` (module-level and
function-local, parsed with :mod:`ast`) goes to a module at or below the importer's level, and the imports
form no cycle.

The order, lowest first (a module takes the level of the longest name below that matches it)::

    0  livehost (the package), livehost.errors, livehost.paths,  errors, where files live, atomic
       livehost.atomic                                           writes
    1  livehost.dsp, livehost.tuning, livehost.audiofile,        kernels, pitch maths, audio files,
       livehost.tempo, livehost.lv2                              the session tempo and tap tempo, LV2
                                                                 plugins (liblilv discovery, instances)
    2  livehost.nodes                                            node declarations (read dsp)
    3  livehost.engine                                           arena, graph, compiled callback, drivers
    4  livehost.patch, livehost.patch_midi, livehost.ml,         the patch format (its [midi] section);
       livehost.presets                                          machine listening and generation (read
                                                                 the engine's arena: tap and rings); node
                                                                 presets (checked like patch fields)
    5  livehost.engine.patching                                  patch -> engine (checks [models] with ml)
    6  livehost.midi                                             ports, routing, learn, MIDI-file render
    7  livehost.workers, livehost.session, livehost.osc,         threads, the session a UI drives, OSC,
       livehost.history                                          the session's undo/redo steps
    8  livehost.ui, livehost.tools                               the Textual UI; offline tools
    9  livehost.cli, livehost.__main__                           the command

``KNOWN`` lists the imports that still break the order, in files owned elsewhere, each with why; the test
fails when one of them is gone too, so the list cannot go stale.
"""

from __future__ import annotations

import ast
from pathlib import Path

PKG = Path(__file__).resolve().parents[1] / "livehost"

LEVELS = (
    ("livehost", "livehost.errors", "livehost.paths", "livehost.atomic"),
    ("livehost.dsp", "livehost.tuning", "livehost.audiofile", "livehost.tempo", "livehost.lv2"),
    ("livehost.nodes",),
    ("livehost.engine",),
    ("livehost.patch", "livehost.patch_midi", "livehost.ml", "livehost.presets"),
    ("livehost.engine.patching",),
    ("livehost.midi",),
    ("livehost.workers", "livehost.session", "livehost.history", "livehost.osc"),
    ("livehost.ui", "livehost.tools"),
    ("livehost.cli", "livehost.__main__"),
)

#: (importer, imported) pairs that break the order today, with the reason; remove one when it is fixed.
KNOWN: dict[tuple[str, str], str] = {
    ("livehost.dsp.run", "livehost.nodes.declare"):
        "the kernel test harness takes a NodeType (annotation only); it belongs in livehost.nodes",
}


def module_name(path: Path) -> str:
    """``livehost/engine/engine.py`` -> ``livehost.engine.engine``; a package's ``__init__`` -> the package."""
    parts = list(path.relative_to(PKG.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def is_module(name: str) -> bool:
    """Whether ``name`` is a module or package of ``livehost``."""
    p = PKG.parent.joinpath(*name.split("."))
    return p.with_suffix(".py").is_file() or (p / "__init__.py").is_file()


def imports(path: Path) -> list[tuple[str, int]]:
    """``(imported livehost module, line)`` for every import in a file, function-local ones included."""
    mod = module_name(path)
    package = mod if path.name == "__init__.py" else mod.rpartition(".")[0]
    out = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            out += [(a.name, node.lineno) for a in node.names if a.name.split(".")[0] == "livehost"]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:  # relative: `from . import x` in package a.b is a.b.x
                up = package.split(".")[: package.count(".") + 2 - node.level]
                base = ".".join(up + ([base] if base else []))
            if base.split(".")[0] != "livehost":
                continue
            for a in node.names:  # `from livehost.engine import layout`: the submodule is what is imported
                sub = f"{base}.{a.name}"
                out.append((sub if is_module(sub) else base, node.lineno))
    return out


def level(name: str) -> int:
    """The level of a module: that of the longest prefix named in :data:`LEVELS`."""
    best, best_len = None, -1
    for i, names in enumerate(LEVELS):
        for prefix in names:
            if (name == prefix or name.startswith(prefix + ".")) and len(prefix) > best_len:
                best, best_len = i, len(prefix)
    assert best is not None, f"{name} has no level: add it to LEVELS"
    return best


def graph() -> dict[str, list[tuple[str, int]]]:
    """Importer module -> its livehost imports (module, line)."""
    return {module_name(p): imports(p) for p in sorted(PKG.rglob("*.py"))}


def test_every_import_goes_down_or_across():
    bad, used = [], set()
    for mod, deps in graph().items():
        for dep, line in deps:
            if level(dep) > level(mod):
                if (mod, dep) in KNOWN:
                    used.add((mod, dep))
                else:
                    bad.append(f"{mod}:{line} imports {dep} (level {level(mod)} -> {level(dep)})")
    assert not bad, "imports that go up the layering:\n" + "\n".join(sorted(set(bad)))
    assert used == set(KNOWN), f"fixed already, remove from KNOWN: {sorted(set(KNOWN) - used)}"


def with_packages(mod: str, deps) -> set[str]:
    """The modules importing ``deps`` runs: each one and the packages above it (their ``__init__`` runs
    first), except the importer's own packages (already being imported)."""
    own = {".".join(mod.split(".")[:k]) for k in range(1, mod.count(".") + 2)}
    out = set()
    for dep, _ in deps:
        parts = dep.split(".")
        out |= {".".join(parts[:k]) for k in range(1, len(parts) + 1)} - own
    return out


def test_no_import_cycles():
    g = {m: sorted(with_packages(m, deps)) for m, deps in graph().items()}
    state: dict[str, int] = {}
    stack: list[str] = []
    cycles = []

    def visit(m):
        state[m] = 1
        stack.append(m)
        for d in g.get(m, ()):
            if state.get(d) == 1:
                cycles.append(" -> ".join(stack[stack.index(d):] + [d]))
            elif d not in state:
                visit(d)
        stack.pop()
        state[m] = 2

    for m in sorted(g):
        if m not in state:
            visit(m)
    assert not cycles, "import cycles (function-local imports included):\n" + "\n".join(cycles)


def test_the_checker_sees_local_and_relative_imports(tmp_path):
    """The parser finds a function-local import and resolves ``from livehost.engine import layout``."""
    found = dict(imports(PKG / "engine" / "process_src.py"))
    assert "livehost.engine.layout" in found and "livehost.dsp.rt" in found
    assert "livehost.session" in dict(imports(PKG / "cli.py"))  # imported inside cmd_run
    assert level("livehost.engine.patching") > level("livehost.patch") > level("livehost.engine.graph")
    assert level("livehost.cli") == len(LEVELS) - 1
