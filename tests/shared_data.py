"""Where the tests find the project's shared data: ``../shared`` beside the repository root.

Found relative to this file, never through an absolute machine path, so a fresh clone with its
``shared/`` folder beside it (a developer's checkout, a worktree, CI) finds the same files.
"""

from __future__ import annotations

from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
"""The repository root (the folder holding ``livehost/`` and ``tests/``)."""

SHARED = REPO.parent / "shared"
"""The project's shared data folder, beside the repository."""

GTZAN_CSV = SHARED / "data" / "gtzan" / "features_30_sec.csv"
"""The GTZAN 30 s feature table (57 librosa features per clip, with ``filename``, ``length``, ``label``)."""
