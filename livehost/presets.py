"""Node presets: one node's parameter values saved under a name, ``presets/<type>/<name>.toml``.

A preset is data (TOML, read with :mod:`tomllib`, checked against the node type's declaration)::

    [preset]
    type = "delay"

    [values]
    time_ms = 1000.0
    feedback = 0.5

The user's presets live in ``presets/`` beside the ``patches/`` folder (where saving writes them, atomically);
livehost's own ship in ``presets/`` at its root and are listed after them (a user preset of the same name
wins).  Every value is in the parameter's declared unit (ms, Hz, dB...).
"""

from __future__ import annotations

import re
import sys
from dataclasses import dataclass
from pathlib import Path

import tomli_w

if sys.version_info >= (3, 11):
    import tomllib
else:  # Python 3.10: the same parser as the tomli package (a dependency there)
    import tomli as tomllib

from livehost.atomic import write_text_atomic
from livehost.errors import LivehostError, PatchError
from livehost.nodes.declare import Param, suggest
from livehost.patch import locate
from livehost.paths import package_root, recordings_dir

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9 _.+-]{0,63}$")


@dataclass(frozen=True)
class Preset:
    """A preset found on disk: its name, node type, file and whether livehost ships it."""

    name: str
    type: str
    path: Path
    shipped: bool


def user_presets_dir(patch_path) -> Path:
    """The user's presets folder: ``presets/`` beside the ``patches/`` folder of ``patch_path``."""
    return recordings_dir(patch_path).parent / "presets"


def shipped_presets_dir() -> Path:
    """livehost's own presets: ``presets/`` at its root."""
    return package_root() / "presets"


def list_presets(type_name: str, folders: list[Path]) -> list[Preset]:
    """The presets for node type ``type_name`` in ``folders`` (the first is the user's), sorted by name; a
    name found in an earlier folder hides the same name in a later one."""
    seen: dict[str, Preset] = {}
    for k, folder in enumerate(folders):
        d = Path(folder) / type_name
        if not d.is_dir():
            continue
        for p in sorted(d.glob("*.toml")):
            if p.stem not in seen and not p.name.startswith("."):
                seen[p.stem] = Preset(p.stem, type_name, p, shipped=k > 0)
    return sorted(seen.values(), key=lambda pr: pr.name.lower())


def check_name(name: str) -> str:
    """``name`` stripped, if it can be a preset file name (letters, digits, space, ``_ . + -``, up to 64
    characters, no leading dot); LivehostError otherwise."""
    n = name.strip()
    if not _NAME.match(n):
        raise LivehostError(f"preset name '{name}': use letters, digits, spaces and _ . + - (up to 64)")
    return n


def save_preset(folder: Path, type_name: str, name: str, values: dict) -> Path:
    """Write ``values`` (parameter name -> value, declared units) as ``folder/<type>/<name>.toml``,
    atomically (temp file, fsync, rename); returns the file."""
    path = Path(folder) / type_name / f"{check_name(name)}.toml"
    text = tomli_w.dumps({"preset": {"type": type_name}, "values": dict(values)})
    return write_text_atomic(path, text)


def load_preset(path, type_name: str, params: list[Param]) -> dict:
    """The values of the preset at ``path`` for a node of type ``type_name`` with parameters ``params``,
    each checked against its declaration; PatchError (``file:line: field what``) on any fault."""
    path = str(path)
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as e:
        raise LivehostError(f"{path}: cannot be read: {getattr(e, 'strerror', None) or e}") from None
    try:
        doc = tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        raise PatchError(path, getattr(e, "lineno", None), None, f"is not valid TOML: {e}") from None
    where = locate(text)
    kind = (doc.get("preset") or {}).get("type") if isinstance(doc.get("preset"), dict) else None
    if kind != type_name:
        raise PatchError(path, where.get(("preset", "type")), "preset.type",
                         f"is {kind!r}, not {type_name!r}: a preset fits one node type")
    values = doc.get("values")
    if not isinstance(values, dict):
        raise PatchError(path, where.get(("values",)), "values", "is missing (a [values] table)")
    names = [p.name for p in params]
    out = {}
    for k, v in values.items():
        line = where.get(("values", k))
        if k not in names:
            raise PatchError(path, line, f"values.{k}", f"is not a parameter of {type_name}{suggest(k, names)}")
        why = params[names.index(k)].check(v)
        if why:
            raise PatchError(path, line, f"values.{k}", why)
        out[k] = v
    return out
