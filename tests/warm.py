"""CI set-up: compile the test suite's audio modules while ``livehost warm`` compiles the application's,
so the suite does not spend its first minutes compiling. From the repository root:

    python -m tests.warm                # the suite's module (the registry with the test-only nodes
                                        # of tests.faultnode: a module of its own)
    python -m tests.warm --boundscheck  # the same, bounds-checked, into the cache that
                                        # tests/engine/test_boundscheck.py uses
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path


def boundscheck_env() -> dict[str, str]:
    """Environment of the bounds-checked run: numba's checks on, numba's and livehost's caches in a
    ``boundscheck`` folder beside livehost's own cache (``$LIVEHOST_CACHE`` or ~/.cache/livehost)."""
    base = os.environ.get("LIVEHOST_CACHE") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"), "livehost")
    root = Path(base) / "boundscheck"
    return {"NUMBA_BOUNDSCHECK": "1", "NUMBA_CACHE_DIR": str(root / "numba"), "LIVEHOST_CACHE": str(root / "livehost")}


def main() -> int:
    if "--boundscheck" in sys.argv[1:]:
        return subprocess.run([sys.executable, "-m", "tests.warm"], env={**os.environ, **boundscheck_env()}).returncode
    import tests.faultnode  # noqa: F401  (registers the test-only nodes first, as tests/conftest.py does)
    from livehost.cli import _load_audio_engine

    _load_audio_engine(quiet=True, offline=True, python_calls=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
