"""Writing a file so that a crash or a full disk never leaves it half written: the text goes to a temp
file in the same folder, is flushed to the disk, and only then renamed over the old file."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Callable, TextIO


def _plain(f: TextIO, text: str) -> None:
    f.write(text)


def write_text_atomic(path: str | os.PathLike, text: str,
                      write: Callable[[TextIO, str], None] = _plain) -> Path:
    """Write ``text`` (UTF-8) to ``path`` atomically (its folder is made if missing); on any failure
    the old file is untouched and no temp file is left. ``write(f, text)`` puts the text into the open
    temp file (a seam for tests that interrupt a save midway). Returns the path."""
    def fill(tmp: Path) -> None:
        with open(tmp, "w", encoding="utf-8") as f:
            write(f, text)

    return replace_atomic(path, fill)


def replace_atomic(path: str | os.PathLike, write: Callable[[Path], None]) -> Path:
    """Make ``path`` atomically with ``write(tmp)``, which writes the whole file at the temp path ``tmp``
    (a binary file, an audio file written by a library that wants a name): the temp file is flushed to
    the disk and renamed over ``path`` (its folder is made if missing); on any failure the old file is
    untouched and no temp file is left. Returns the path."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    try:
        write(Path(tmp))
        fd = os.open(tmp, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
    return path
