"""The code and the tests find files relative to the repository, never through a machine's absolute path."""

from __future__ import annotations

import re

from tests.shared_data import GTZAN_CSV, REPO, SHARED

# a string literal starting with a home, work or mount folder: /work/..., /home/..., /root/..., /Users/..., /mnt/...
ABSOLUTE = re.compile(r"""["'](?:/work|/home|/root|/Users|/mnt)/""")


def test_no_absolute_machine_paths_in_code_or_tests():
    hits = []
    for folder in ("livehost", "tests", "benchmarks"):
        for path in sorted((REPO / folder).rglob("*.py")):
            for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
                if ABSOLUTE.search(line) and path.name != "test_repo_paths.py":
                    hits.append(f"{path.relative_to(REPO)}:{n}: {line.strip()}")
    assert not hits, "absolute machine paths (use tests.shared_data / a path relative to the repo):\n" + \
        "\n".join(hits)


def test_shared_data_sits_beside_the_repository():
    assert (REPO / "livehost" / "__init__.py").is_file() and (REPO / "tests" / "shared_data.py").is_file()
    assert SHARED == REPO.parent / "shared"
    assert GTZAN_CSV.relative_to(SHARED).as_posix() == "data/gtzan/features_30_sec.csv"
