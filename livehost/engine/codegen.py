"""Build the compiled audio path from the node registry.

The node kinds are numbered by sorted name; ``dispatch(kind, ...)`` is an if-chain generated from the
registry and spliced into :mod:`livehost.engine.process_src`. The result is written to livehost's
cache folder under a name holding a hash of every source it depends on, so numba's on-disk cache is
reused while nothing changed and can never serve code compiled from older kernels.
"""

from __future__ import annotations

import hashlib
import importlib.util
import inspect
import os
import sys
from pathlib import Path
from types import ModuleType

from livehost.nodes import load_all
from livehost.nodes.declare import NodeType

MARKER = "# @@DISPATCH@@  (replaced by the generated `dispatch(kind, pp, pc, st, buf, n, sr)`)"
_MODULE: ModuleType | None = None
_GENERATED: tuple | None = None  # (node set, source, path) of the generated module


def cache_dir() -> Path:
    """Folder for generated modules and numba's cache (``$LIVEHOST_CACHE`` or ``~/.cache/livehost``)."""
    base = os.environ.get("LIVEHOST_CACHE") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"), "livehost"
    )
    p = Path(base)
    p.mkdir(parents=True, exist_ok=True)
    return p


def kinds() -> list[NodeType]:
    """Node types in kind-number order (kind = index in this list)."""
    reg = load_all()
    return [reg[name] for name in sorted(reg)]


def kind_of(name: str) -> int:
    """The kind number of node type ``name``."""
    return [nt.name for nt in kinds()].index(name)


def _dispatch_source(types: list[NodeType]) -> str:
    lines = []
    for i, nt in enumerate(types):
        f = nt.kernel.py_func
        lines.append(f"from {f.__module__} import {f.__name__} as _k{i}")
    lines += ["", "", "@rt_jit", "def dispatch(kind, pp, pc, st, buf, n, sr):"]
    for i, _nt in enumerate(types):
        kw = "if" if i == 0 else "elif"
        lines += [f"    {kw} kind == {i}:", f"        _k{i}(pp, pc, st, buf, n, sr)"]
    return "\n".join(lines) + "\n"


def generated_source() -> tuple[str, str]:
    """The spliced module source and its hash (over the template and every kernel's module)."""
    types = kinds()
    here = Path(__file__).with_name("process_src.py")
    template = here.read_text()
    if MARKER not in template:
        raise RuntimeError("process_src.py lost its dispatch marker")
    src = template.replace(MARKER, _dispatch_source(types))
    h = hashlib.sha256(src.encode())
    pkg_root = Path(__file__).resolve().parents[1]
    for path in sorted(pkg_root.glob("dsp/*.py")) + sorted(pkg_root.glob("engine/*.py")):
        h.update(path.read_bytes())
    for nt in types:
        mod = sys.modules[nt.kernel.py_func.__module__]
        h.update(inspect.getsource(mod).encode())
    return src, h.hexdigest()[:16]


def _generated() -> tuple[str, Path]:
    """The spliced source and the path it lives at in the cache folder (computed once per node set)."""
    global _GENERATED
    key = tuple((nt.name, id(nt.kernel)) for nt in kinds())
    if _GENERATED is None or _GENERATED[0] != key:
        src, digest = generated_source()
        _GENERATED = (key, src, cache_dir() / f"livehost_audio_{digest}.py")
    return _GENERATED[1], _GENERATED[2]


def compile_needed(functions: tuple[str, ...] = ("pa_callback",)) -> bool:
    """Whether loading the audio path will compile ``functions`` of it rather than read them from numba's
    cache: True when the cache holds no index for one of them (a fresh cache folder, or a source of the
    audio path changed since the last compile).  ``pa_callback`` compiles everything the live drivers
    run; ``process_blocks`` (offline renders) is compiled separately, on its first call.

    An index can exist and still not match (another CPU, another numba): then the compile comes as a
    surprise, which callers that show progress allow for with a grace time.
    """
    _src, path = _generated()
    folder = numba_cache_folder(path)
    tag = f"py{sys.version_info[0]}{sys.version_info[1]}"
    return not all(any(folder.glob(f"{path.stem}.{fn}-*.{tag}*.nbi")) for fn in functions)


def numba_cache_folder(py_file: Path) -> Path:
    """Where numba caches the functions of ``py_file``: ``__pycache__`` beside it, or, when
    ``NUMBA_CACHE_DIR`` moves the cache, numba's per-folder subfolder there (``<dirname>_<sha1 of the
    folder's absolute path>``, as numba names it)."""
    base = os.environ.get("NUMBA_CACHE_DIR")
    if not base:
        return py_file.parent / "__pycache__"
    parent = os.path.dirname(os.path.abspath(py_file))
    return Path(base) / f"{os.path.basename(parent)}_{hashlib.sha1(parent.encode()).hexdigest()}"


def compiled() -> ModuleType:
    """Import (generating if needed) the compiled audio path: ``process_block``, ``pa_callback``."""
    global _MODULE
    if _MODULE is not None:
        return _MODULE
    src, path = _generated()
    d = path.parent
    name = path.stem
    if not path.exists() or path.read_text() != src:
        tmp = path.with_suffix(f".tmp{os.getpid()}")
        tmp.write_text(src)
        os.replace(tmp, path)
    for old in d.glob("livehost_audio_*.py"):
        if old != path and old.stat().st_mtime < path.stat().st_mtime - 86400 * 7:
            old.unlink(missing_ok=True)
    spec = importlib.util.spec_from_file_location(name, path)
    mod = importlib.util.module_from_spec(spec)
    sys.modules[name] = mod
    spec.loader.exec_module(mod)
    _MODULE = mod
    return mod
