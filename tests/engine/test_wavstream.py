"""The streaming WAV writer: the file is a valid WAV, read back by libsndfile (soundfile), at every moment."""

import os
import struct

import numpy as np
import pytest
import soundfile as sf

from livehost.engine.drivers import wavstream as ws
from livehost.engine.drivers.wavstream import WavFull, WavStream, wav_header


def test_the_header_is_what_libsndfile_reads(tmp_path):
    x = np.random.default_rng(1).uniform(-1, 1, (4800, 3)).astype(np.float32)
    w = WavStream(tmp_path / "a.wav", 44100, 3)
    w.write(x[:1000])
    w.write(x[1000:])
    w.close()
    info = sf.info(str(tmp_path / "a.wav"))
    assert (info.samplerate, info.channels, info.frames, info.subtype) == (44100, 3, 4800, "FLOAT")
    y, _ = sf.read(tmp_path / "a.wav", dtype="float32", always_2d=True)
    np.testing.assert_array_equal(y, x)  # float32 in, the same bits out
    assert os.path.getsize(tmp_path / "a.wav") == 58 + 4800 * 3 * 4


def test_header_fields_follow_the_riff_rules():
    h = wav_header(2, 48000, 10)
    assert len(h) == 58 and h[:4] == b"RIFF" and h[8:12] == b"WAVE"
    assert struct.unpack("<I", h[4:8])[0] == 58 - 8 + 80  # file size minus 8
    tag, ch, sr, byterate, align, bits = struct.unpack("<HHIIHH", h[20:36])
    assert (tag, ch, sr, byterate, align, bits) == (3, 2, 48000, 48000 * 8, 8, 32)


def test_an_open_file_declares_what_was_written_within_the_update_period(tmp_path):
    """A process killed now leaves a WAV with every frame up to the last header update."""
    p = tmp_path / "live.wav"
    x = np.linspace(-1, 1, 9600, dtype=np.float32)[:, None].repeat(2, axis=1)
    w = WavStream(p, 48000, 2, header_every_s=0.0)  # update at every write
    w.write(x[:4800])
    y, _ = sf.read(p, dtype="float32", always_2d=True)  # still open: never closed
    np.testing.assert_array_equal(y, x[:4800])
    w.header_every_s = 3600.0  # no update now: the reader sees the first 4800 frames, the rest is tail
    w.write(x[4800:])
    assert w.frames == 9600 and w.declared == 4800
    y, _ = sf.read(p, dtype="float32", always_2d=True)
    np.testing.assert_array_equal(y, x[:4800])
    w.close()
    y, _ = sf.read(p, dtype="float32", always_2d=True)
    np.testing.assert_array_equal(y, x)


def test_an_empty_take_is_a_valid_file(tmp_path):
    w = WavStream(tmp_path / "e.wav", 48000, 2)
    assert sf.info(str(tmp_path / "e.wav")).frames == 0
    w.close()
    w.close()
    assert sf.info(str(tmp_path / "e.wav")).frames == 0


def test_4_gib_is_refused_not_wrapped(tmp_path, monkeypatch):
    monkeypatch.setattr(ws, "MAX_DATA_BYTES", 800)  # 100 stereo frames
    w = WavStream(tmp_path / "f.wav", 48000, 2)
    w.write(np.zeros((100, 2), np.float32))
    with pytest.raises(WavFull, match="4 GiB"):
        w.write(np.zeros((1, 2), np.float32))
    w.close()
    assert sf.info(str(tmp_path / "f.wav")).frames == 100


def test_wrong_shape_is_refused(tmp_path):
    w = WavStream(tmp_path / "g.wav", 48000, 2)
    with pytest.raises(ValueError, match="expected"):
        w.write(np.zeros((10, 3), np.float32))
    w.close()
