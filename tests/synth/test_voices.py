"""Envelopes, velocity, voice allocation and stealing, sustain pedal, panic."""

import numpy as np
import pytest

from livehost.engine.drivers.offline import render
from livehost.engine.layout import H_FRAMES
from tests.synth.util import CLEAN, SR, envelope, fit_freq, max_click, synth_engine

EK = np.exp(-4.0)
A_6DB = 10 ** (-6 / 20)  # CLEAN output level
A_30DB = 10 ** (-30 / 20)  # output level for chords (the master limiter never acts)


def exp_seg(u, start, target):
    """The documented decay/release shape, ``u`` = time / segment time."""
    return target + (start - target) * (np.exp(-4 * u) - EK) / (1 - EK)


def test_adsr_timings():
    eng = synth_engine({**CLEAN, "attack_ms": 50.0, "decay_ms": 100.0, "sustain": 0.5, "release_ms": 200.0},
                       np.full(128, 2000.0))
    eng.send_midi(0x90, 60, 127, frame=0)
    off = SR // 2
    eng.send_midi(0x80, 60, 0, frame=off)
    y = render(eng, SR)[:, 0]
    lat = eng.latency_samples()
    e = envelope(y)[lat:] / A_6DB
    ms = SR // 1000

    def at(t_ms):
        return e[int(round(t_ms * ms))]

    # attack: linear, 0 -> 1 in 50 ms
    for t in (12.5, 25.0, 37.5):
        assert at(t) == pytest.approx(t / 50.0, abs=0.005)
    assert int(np.argmax(e[:200 * ms])) == pytest.approx(50 * ms, abs=ms // 2)
    # decay: the exponential segment reaches 0.5 exactly at 50 + 100 ms
    for u in (0.1, 0.25, 0.5, 0.75):
        assert at(50 + 100 * u) == pytest.approx(exp_seg(u, 1.0, 0.5), abs=0.005)
    assert at(200) == pytest.approx(0.5, abs=0.003)
    assert at(450) == pytest.approx(0.5, abs=0.003)
    # release: from 0.5 to 0 in exactly 200 ms after the note-off
    for u in (0.1, 0.25, 0.5, 0.75):
        assert at(500 + 200 * u) == pytest.approx(exp_seg(u, 0.5, 0.0), abs=0.005)
    raw = np.abs(y[lat:])
    last = int(np.flatnonzero(raw)[-1])
    assert last == pytest.approx(off + 200 * ms, abs=2)


def test_attack_from_zero_is_short_when_asked():
    eng = synth_engine({**CLEAN, "attack_ms": 2.0}, np.full(128, 1000.0))
    eng.send_midi(0x90, 60, 127, frame=0)
    y = np.abs(render(eng, 4800)[:, 0])[eng.latency_samples():] / A_6DB
    assert y[96:144].max() == pytest.approx(1.0, abs=1e-3)  # full level 2 ms after the note-on
    ramp = np.arange(1, 97) / 96  # linear: the first frame is already one step up
    sine = np.abs(np.sin(2 * np.pi * 1000 * np.arange(96) / SR))
    np.testing.assert_allclose(y[:96], ramp * sine, atol=1e-6)


@pytest.mark.parametrize("vel_sens, vel, want", [(1.0, 64, (64 / 127) ** 2), (0.0, 10, 1.0), (0.5, 127, 1.0),
                                                 (0.5, 1, 0.5 + 0.5 / 127 ** 2)])
def test_velocity_sensitivity(vel_sens, vel, want):
    eng = synth_engine({**CLEAN, "vel_sens": vel_sens}, np.full(128, 1000.0))
    eng.send_midi(0x90, 60, vel, frame=0)
    y = render(eng, 9600)[4800:, 0]
    assert np.abs(y).max() / A_6DB == pytest.approx(want, rel=0.01)


def spectrum_levels(y, freqs, sr=SR):
    """Least-squares amplitude of each of ``freqs`` (Hz) in ``y``."""
    t = np.arange(len(y)) / sr
    cols = []
    for f in freqs:
        cols += [np.cos(2 * np.pi * f * t), np.sin(2 * np.pi * f * t)]
    c, *_ = np.linalg.lstsq(np.stack(cols, 1), np.asarray(y, float), rcond=None)
    return np.hypot(c[0::2], c[1::2])


def steal_setup(voices=8):
    freqs = 400.0 + 37.0 * np.arange(12)  # distinct, none a harmonic of another
    table = np.full(128, np.nan)
    table[60:72] = freqs
    eng = synth_engine({**CLEAN, "voices": voices, "attack_ms": 5.0, "release_ms": 300.0, "output_db": -30.0},
                       table)
    return eng, freqs


def test_stealing_takes_the_oldest_note_without_a_click():
    eng, freqs = steal_setup(8)
    gap = 960
    for k in range(12):  # 8 fill the synth, 4 more steal
        eng.send_midi(0x90, 60 + k, 127, frame=k * gap)
    y = render(eng, 12 * gap + SR // 2)[:, 0].astype(float)
    lat = eng.latency_samples()
    tail = y[lat + 12 * gap + 4800:]
    lv = spectrum_levels(tail[:9600], freqs) / A_30DB
    np.testing.assert_allclose(lv[4:], 1.0, atol=0.01)  # the 8 newest notes sound
    assert lv[:4].max() < 1e-3  # the 4 oldest were stolen
    # the clean mix of <= 8 sines of amplitude A has |d2| <= 8 * A * w**2 at the highest frequency
    bound = 8 * A_30DB * (2 * np.pi * freqs.max() / SR) ** 2
    assert max_click(y, bound) < 1.0
    # a hard cut (what a naive steal does) of one voice would be caught by this metric
    cut = y.copy()
    t = np.arange(len(y)) / SR
    cut[20000:] += A_30DB * np.sin(2 * np.pi * 777.0 * t[20000:] + 1.0)
    assert max_click(cut, bound) > 3.0


def test_stealing_prefers_a_releasing_voice():
    eng, freqs = steal_setup(4)
    for k in range(4):
        eng.send_midi(0x90, 60 + k, 127, frame=k * 480)
    eng.send_midi(0x80, 62, 0, frame=4000)  # note 62 is releasing (300 ms)
    eng.send_midi(0x90, 64, 127, frame=4800)
    y = render(eng, SR // 2)[:, 0]
    lv = spectrum_levels(y[9600:19200], freqs[:5]) / A_30DB
    np.testing.assert_allclose(lv[[0, 1, 3, 4]], 1.0, atol=0.01)
    assert lv[2] < 1e-3


def test_full_polyphony_of_128_voices():
    table = 100.0 * 2 ** (np.arange(128) / 24)
    eng = synth_engine({**CLEAN, "voices": 128, "output_db": -48.0}, table)
    for k in range(128):
        eng.send_midi(0x90, k, 127, frame=0)
    y = render(eng, SR + 4800)[4800:, 0]
    lv = spectrum_levels(y, table) / 10 ** (-48 / 20)
    np.testing.assert_allclose(lv, 1.0, atol=0.01)  # all 128 sound
    # 129th note steals one
    eng.send_midi(0x90, 0, 127)  # retrigger of the same key does not steal: still 128 distinct keys
    assert np.isfinite(render(eng, 1280)).all()


def test_lowering_voices_fades_out_the_extra_ones():
    eng, freqs = steal_setup(8)
    for k in range(8):
        eng.send_midi(0x90, 60 + k, 127, frame=0)
    render(eng, 2400)
    eng.set_param("synth", "voices", 3.0)
    y = render(eng, 9600)[:, 0]
    lv = spectrum_levels(y[4800:], freqs[:8]) / A_30DB
    np.testing.assert_allclose(lv[:3], 1.0, atol=0.01)
    assert lv[3:].max() < 1e-3


def test_sustain_pedal_holds_released_notes():
    eng = synth_engine({**CLEAN, "release_ms": 50.0}, np.full(128, 1000.0))
    eng.send_midi(0x90, 60, 127, frame=0)
    eng.send_midi(0xB0, 64, 127, frame=1000)
    eng.send_midi(0x80, 60, 0, frame=2000)
    eng.send_midi(0xB0, 64, 0, frame=SR)  # pedal up after 1 s
    y = render(eng, 2 * SR)[:, 0]
    lat = eng.latency_samples()
    held = np.abs(y[lat + SR // 2:lat + SR - 10]).max()
    assert held == pytest.approx(A_6DB, rel=0.01)  # still sounding 0.5 s after its note-off
    assert np.abs(y[lat + SR + 50 * 48 + 2:]).max() == 0.0  # gone 50 ms after the pedal


def test_note_off_without_pedal_releases():
    eng = synth_engine({**CLEAN, "release_ms": 50.0}, np.full(128, 1000.0))
    eng.send_midi(0x90, 60, 127, frame=0)
    eng.send_midi(0x80, 60, 0, frame=2000)
    y = render(eng, SR // 2)[:, 0]
    assert np.abs(y[eng.latency_samples() + 2000 + 50 * 48 + 2:]).max() == 0.0


def test_pedal_retrigger_keeps_one_voice_per_key():
    eng = synth_engine({**CLEAN, "voices": 2, "output_db": -30.0}, 1000.0 * 2 ** ((np.arange(128) - 60) / 12))
    eng.send_midi(0xB0, 64, 127, frame=0)
    for k in range(5):  # the same key struck 5 times under the pedal
        eng.send_midi(0x90, 60, 127, frame=k * 500)
        eng.send_midi(0x80, 60, 0, frame=k * 500 + 250)
    eng.send_midi(0x90, 62, 127, frame=3000)  # a second key still finds a free voice
    y = render(eng, 9600)[:, 0]
    lv = spectrum_levels(y[4800:], [1000.0, 1000.0 * 2 ** (2 / 12)]) / A_30DB
    np.testing.assert_allclose(lv, 1.0, atol=0.01)


@pytest.mark.parametrize("how", ["panic", "cc120", "cc123"])
def test_panic_silences_within_one_block(how):
    eng = synth_engine({**CLEAN, "voices": 32, "release_ms": 2000.0}, 200.0 * 2 ** (np.arange(128) / 24))
    eng.send_midi(0xB0, 64, 127, frame=0)
    for k in range(32):
        eng.send_midi(0x90, 40 + k, 100, frame=0)
    render(eng, 128 * 20)
    if how == "panic":
        eng.panic()
    else:
        eng.send_midi(0xB0, 120 if how == "cc120" else 123, 0)
    lat = eng.latency_samples()
    y = render(eng, 128 * 10)[:, 0]
    assert np.abs(y[:lat]).max() > 0.01  # it was playing
    assert np.abs(y[lat + 128:]).max() == 0.0  # silent one block after the event
    # the pedal was cleared too: a new note is released normally
    eng.send_midi(0x90, 60, 100)
    eng.send_midi(0x80, 60, 0, frame=int(eng.a[H_FRAMES]) + 200)
    eng.set_param("synth", "release_ms", 10.0)
    y = render(eng, 4800)[:, 0]
    assert np.abs(y[:lat + 700]).max() > 0.01
    assert np.abs(y[lat + 200 + 480 + 128:]).max() == 0.0


def test_frequency_of_a_stolen_then_restarted_voice_is_right():
    eng, freqs = steal_setup(1)
    eng.send_midi(0x90, 60, 127, frame=0)
    eng.send_midi(0x90, 65, 127, frame=2000)
    y = render(eng, SR // 2)[:, 0]
    assert fit_freq(y[9600:20000]) == pytest.approx(freqs[5], rel=1e-7)
