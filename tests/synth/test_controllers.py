"""Pitch bend, MPE, live retuning (payload / MTS), glide, vibrato, pressure, NaN-reset recovery."""

import numpy as np
import pytest
from scipy.signal import hilbert

from livehost.engine.drivers.offline import render
from tests.synth.util import CLEAN, SR, cents, fit_freq, synth_engine

EDO12 = 440.0 * 2.0 ** ((np.arange(128) - 69) / 12.0)
A30 = 10 ** (-30 / 20)


def bend_bytes(value):
    """14-bit pitch bend (0..16383, 8192 = centre) as (lsb, msb)."""
    return value & 0x7F, value >> 7


def levels(y, freqs):
    t = np.arange(len(y)) / SR
    cols = []
    for f in freqs:
        cols += [np.cos(2 * np.pi * f * t), np.sin(2 * np.pi * f * t)]
    c, *_ = np.linalg.lstsq(np.stack(cols, 1), np.asarray(y, float), rcond=None)
    return np.hypot(c[0::2], c[1::2])


@pytest.mark.parametrize("value, semis", [(16383, 2.0), (0, -2.0), (8192, 0.0), (8192 + 4096, 4096 / 8191 * 2)])
def test_pitch_bend_is_a_frequency_ratio_of_bend_range_semitones(value, semis):
    eng = synth_engine({**CLEAN, "bend_range": 2.0}, EDO12)
    eng.send_midi(0x90, 69, 100, frame=0)
    eng.send_midi(0xE3, *bend_bytes(value), frame=1000)  # any channel without MPE
    y = render(eng, 12000)[:, 0]
    assert cents(fit_freq(y[2400:]), 440.0) == pytest.approx(100 * semis, abs=0.01)


def test_mpe_bend_moves_only_its_channels_note():
    eng = synth_engine({**CLEAN, "mpe": True, "mpe_bend_range": 48.0, "bend_range": 2.0, "output_db": -30.0},
                       EDO12)
    eng.send_midi(0x91, 60, 100, frame=0)  # member channel 2
    eng.send_midi(0x92, 67, 100, frame=0)  # member channel 3
    up = 8192 + int(round(8191 / 48))  # one semitone of a 48-semitone range (within 1/8191 of it)
    eng.send_midi(0xE1, *bend_bytes(up), frame=1000)
    y = render(eng, 24000)[2400:, 0]
    f60, f61, f67 = EDO12[60], EDO12[60] * 2 ** ((up - 8192) / 8191 * 48 / 12), EDO12[67]
    lv = levels(y, [f60, f61, f67]) / A30
    assert lv[0] < 1e-3 and lv[1] == pytest.approx(1.0, abs=1e-3) and lv[2] == pytest.approx(1.0, abs=1e-3)
    # the master channel (1) bends every note by bend_range
    eng.send_midi(0xE0, *bend_bytes(16383))
    y = render(eng, 24000)[2400:, 0]
    lv = levels(y, [f61 * 2 ** (2 / 12), f67 * 2 ** (2 / 12)]) / A30
    np.testing.assert_allclose(lv, 1.0, atol=1e-3)


def test_without_mpe_any_channel_bends_every_note():
    eng = synth_engine({**CLEAN, "output_db": -30.0}, EDO12)
    eng.send_midi(0x91, 60, 100, frame=0)
    eng.send_midi(0x92, 67, 100, frame=0)
    eng.send_midi(0xE1, *bend_bytes(16383), frame=100)
    y = render(eng, 24000)[2400:, 0]
    lv = levels(y, [EDO12[62], EDO12[69]]) / A30
    np.testing.assert_allclose(lv, 1.0, atol=1e-3)


def test_mpe_same_key_on_two_channels_is_two_voices():
    eng = synth_engine({**CLEAN, "mpe": True, "mpe_bend_range": 12.0, "output_db": -30.0}, EDO12)
    eng.send_midi(0x91, 60, 100, frame=0)
    eng.send_midi(0x92, 60, 100, frame=0)
    eng.send_midi(0xE2, *bend_bytes(16383), frame=100)  # channel 3's note up an octave
    y = render(eng, 24000)[2400:, 0]
    np.testing.assert_allclose(levels(y, [EDO12[60], EDO12[72]]) / A30, 1.0, atol=1e-3)
    eng.send_midi(0x82, 60, 0)  # note-off on channel 3 releases only that one
    y = render(eng, 24000)[4800:, 0]
    lv = levels(y, [EDO12[60], EDO12[72]]) / A30
    assert lv[0] == pytest.approx(1.0, abs=1e-3) and lv[1] < 1e-3


def test_retuning_the_payload_moves_a_sounding_note():
    eng = synth_engine(CLEAN, EDO12)
    eng.send_midi(0x90, 69, 100, frame=0)
    y = render(eng, 9600)[:, 0]
    assert fit_freq(y[2400:]) == pytest.approx(440.0, rel=1e-7)
    eng.payload("synth")[69] = 452.5
    y = render(eng, 9600)[:, 0]
    assert fit_freq(y[256:]) == pytest.approx(452.5, rel=1e-7)


def test_payload_survives_a_nan_reset():
    """The engine's NaN guard zeroes the state from reset_from, payload included: the synth restores it."""
    eng = synth_engine(CLEAN, EDO12)
    render(eng, 256)
    eng.payload("synth")[:] = 0.0
    eng.send_midi(0x90, 69, 100)
    y = render(eng, 9600)[:, 0]
    assert fit_freq(y[2400:]) == pytest.approx(440.0, rel=1e-7)
    assert eng.payload("synth")[69] == 440.0


def inst_cents(y, ref):
    ph = np.unwrap(np.angle(hilbert(np.asarray(y, float))))
    f = np.gradient(ph) * SR / (2 * np.pi)
    return 1200 * np.log2(np.maximum(f, 1.0) / ref)


def test_glide_time_constant():
    eng = synth_engine({**CLEAN, "glide_ms": 50.0}, EDO12)
    eng.send_midi(0x90, 57, 100, frame=0)
    eng.send_midi(0x80, 57, 0, frame=4800)
    eng.send_midi(0x90, 69, 100, frame=4800)
    y = render(eng, 4800 + SR // 2)[:, 0]
    lat = eng.latency_samples()
    c = inst_cents(y, 440.0)[lat + 4800:]
    # exponential approach in pitch: -1200 cents * exp(-t / 50 ms) (control rate 16 frames: 1/3 ms)
    for t_ms in (10, 25, 50, 100):
        i = t_ms * 48
        want = -1200 * np.exp(-t_ms / 50)
        assert c[i] == pytest.approx(want, abs=12), t_ms
    assert abs(np.median(c[-4800:-1000])) < 0.5


def test_mod_wheel_vibrato_depth():
    eng = synth_engine({**CLEAN, "vib_depth_cents": 40.0, "vib_rate_hz": 5.0}, EDO12)
    eng.send_midi(0x90, 81, 100, frame=0)
    y = render(eng, SR)[:, 0]
    assert np.ptp(inst_cents(y, 880.0)[4800:-4800]) < 2.0  # no wheel: no vibrato (40 with it)
    eng.send_midi(0xB0, 1, 127)
    y = render(eng, SR)[:, 0]
    c = inst_cents(y, 880.0)[4800:-4800]
    assert c.max() == pytest.approx(40.0, abs=1.5)
    assert c.min() == pytest.approx(-40.0, abs=1.5)
    eng.send_midi(0xB0, 1, 64)
    c = inst_cents(render(eng, SR)[:, 0], 880.0)[4800:-4800]
    assert c.max() == pytest.approx(40.0 * 64 / 127, abs=1.5)


def test_channel_and_poly_pressure_raise_the_level():
    eng = synth_engine({**CLEAN, "pressure_amp_db": 6.0, "output_db": -30.0}, EDO12)
    eng.send_midi(0x90, 60, 127, frame=0)
    eng.send_midi(0x90, 67, 127, frame=0)
    eng.send_midi(0xA0, 67, 127, frame=100)  # poly pressure on 67 only
    y = render(eng, 24000)[4800:, 0]
    lv = levels(y, [EDO12[60], EDO12[67]]) / A30
    np.testing.assert_allclose(lv, [1.0, 10 ** (6 / 20)], rtol=1e-3)
    eng.send_midi(0xD0, 64)  # channel pressure: both at least half way
    y = render(eng, 24000)[4800:, 0]
    lv = levels(y, [EDO12[60], EDO12[67]]) / A30
    np.testing.assert_allclose(lv, [10 ** (6 * 64 / 127 / 20), 10 ** (6 / 20)], rtol=1e-3)


def test_cc74_and_filter_envelope_open_the_filter():
    def brightness(values, msgs=()):
        eng = synth_engine({**CLEAN, "wave": "saw", "filter": "lowpass", "cutoff_hz": 500.0, "resonance": 0.0,
                            **values}, EDO12)
        for m in msgs:
            eng.send_midi(*m, frame=0)
        eng.send_midi(0x90, 45, 127, frame=0)
        y = render(eng, 12000)[2400:, 0]
        lv = levels(y, [110.0, 110.0 * 20])
        return lv[1] / lv[0]

    base = brightness({})
    assert brightness({}, [(0xB0, 74, 127)]) > 8 * base  # +2 octaves of cutoff
    assert brightness({}, [(0xB0, 74, 0)]) < base / 8
    assert brightness({"fenv_oct": 3.0, "fsustain": 1.0}) > 10 * base


def test_unknown_status_and_garbage_are_ignored():
    eng = synth_engine(CLEAN, EDO12)
    for st in (0xF8, 0xFE, 0xC0, 0xB0, 0xF0):
        eng.send_midi(st, 127, 127)
    eng.send_midi(0x90, 69, 100)
    y = render(eng, 9600)[:, 0]
    assert fit_freq(y[2400:]) == pytest.approx(440.0, rel=1e-7)
