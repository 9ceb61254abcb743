"""Shared helpers for the tuning tests."""

from __future__ import annotations

import pytest

from livehost.tuning import TuningError


def write(tmp_path, name: str, text: str, newline: str = "\n"):
    """Write ``text`` (with LF line ends turned into ``newline``) to ``tmp_path/name``; return the path."""
    path = tmp_path / name
    path.write_bytes(text.replace("\n", newline).encode("latin-1"))
    return path


def raises_at(path, line: int | None, *fragments: str):
    """Context manager: a TuningError whose one-line message starts ``path:line: `` and contains
    every fragment."""

    class _Check:
        def __enter__(self):
            self._ctx = pytest.raises(TuningError)
            self.info = self._ctx.__enter__()
            return self.info

        def __exit__(self, *exc):
            handled = self._ctx.__exit__(*exc)
            text = str(self.info.value)
            assert "\n" not in text
            where = f"{path}:{line}: " if line is not None else f"{path}: "
            assert text.startswith(where), (text, where)
            for fragment in fragments:
                assert fragment in text, (fragment, text)
            return handled

    return _Check()
