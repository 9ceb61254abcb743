"""``audiofile.find``: the audio files a node could load (the UI's ``F`` list)."""

from __future__ import annotations

import os

from livehost.audiofile import find


def touch(path):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"")
    return str(path.resolve())


def test_it_lists_audio_by_suffix_down_to_the_depth_once_each_skipping_hidden_folders(tmp_path):
    a = touch(tmp_path / "a.wav")
    b = touch(tmp_path / "samples" / "B.FLAC")
    deep = touch(tmp_path / "1" / "2" / "3" / "c.ogg")  # three levels down: listed
    touch(tmp_path / "1" / "2" / "3" / "4" / "d.wav")  # four: not
    touch(tmp_path / ".venv" / "e.wav")  # hidden folder: not
    touch(tmp_path / "notes.txt")
    os.symlink(tmp_path / "samples", tmp_path / "again")  # a link to a folder is not followed
    got = find([tmp_path, tmp_path / "samples"])
    assert got == [deep, a, b]
    assert find([tmp_path], depth=0) == [a]
    assert len(find([tmp_path], limit=2)) == 2
    assert find([tmp_path / "missing"]) == []
