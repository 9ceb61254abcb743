"""Where livehost's own files are: the repository root, and the model files a patch names.

Below every other package (it needs only :mod:`livehost.errors`), so the patch loader, the engine's
patching and the ML workers resolve ``[models]`` paths the same way.
"""

from __future__ import annotations

import time
from pathlib import Path

from livehost.errors import LivehostError


def package_root() -> Path:
    """The folder holding the ``livehost`` package (the repository root in a checkout)."""
    return Path(__file__).resolve().parents[1]


def patch_model_path(patch_extra_models: dict | None, key: str, patch_path) -> Path | None:
    """The model a patch names in ``[models] KEY = "models/x.onnx"`` (``key``: classifier or generator).

    ``None`` when the slot is empty.  A relative path is looked up beside the patch file first, then
    under the livehost root (where ``models/`` ships); if it exists in neither place the patch-relative
    path is returned (loading it then reports the missing file).  A non-string value raises
    :class:`LivehostError`.
    """
    if not patch_extra_models or patch_extra_models.get(key) in (None, ""):
        return None
    value = patch_extra_models[key]
    if not isinstance(value, (str, Path)):
        raise LivehostError(f"{patch_path}: [models] {key} must be a file path string")
    p = Path(value).expanduser()
    if p.is_absolute():
        return p
    beside = Path(patch_path).resolve().parent / p if patch_path else p
    if beside.exists():
        return beside
    root = package_root() / p
    return root if root.exists() else beside


def recordings_dir(patch_path) -> Path:
    """Where takes of the patch at ``patch_path`` go: ``recordings/`` beside its ``patches/`` folder (the
    patch file's folder's parent when that folder is called ``patches``, else the patch file's folder)."""
    folder = Path(patch_path).resolve().parent
    return (folder.parent if folder.name == "patches" else folder) / "recordings"


def recording_path(patch_path, when: float | None = None) -> Path:
    """A new file for a take of the patch at ``patch_path``: ``recordings/<patch>-<YYYYmmdd-HHMMSS>.wav``
    (local time ``when``, seconds since the epoch, default now), with ``-2``, ``-3``... added if that name is
    taken; the folder is created.  Never an existing file (OSError if the folder cannot be made)."""
    return _new_file(patch_path, "", when)


def loop_path(patch_path, node_id: str, when: float | None = None) -> Path:
    """A new file for a looper's loop: ``recordings/<patch>-loop-<node>-<YYYYmmdd-HHMMSS>.wav``, named
    and placed as :func:`recording_path` names and places takes."""
    return _new_file(patch_path, f"-loop-{node_id}", when)


def _new_file(patch_path, what: str, when: float | None) -> Path:
    folder = recordings_dir(patch_path)
    folder.mkdir(parents=True, exist_ok=True)
    stamp = time.strftime("%Y%m%d-%H%M%S", time.localtime(when))
    stem = f"{Path(patch_path).stem}{what}-{stamp}"
    p = folder / f"{stem}.wav"
    k = 2
    while p.exists():
        p = folder / f"{stem}-{k}.wav"
        k += 1
    return p
