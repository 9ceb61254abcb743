"""The ``generator`` source node in an offline engine, fed by its worker (synchronous or threaded)."""

import time

import numpy as np
import pytest

from livehost.engine.drivers.offline import render
from livehost.errors import LivehostError

SR = 48000
BLOCK = 128


def make(model, values=None, input_mode="none"):
    from livehost.engine.engine import Engine
    from livehost.ml.generator.worker import GeneratorWorker
    from livehost.nodes.generator import generator_source

    eng = Engine(SR, BLOCK, 2, 2, heap_slots=1 << 21)
    src = generator_source(str(model), SR, "gen", values)
    eng.build(input_mode, [src], [], {})
    return eng, GeneratorWorker(eng, "gen", model, seed=0)


def second_diff_peak(x):
    return float(np.max(np.abs(np.diff(x, 2)))) if len(x) > 2 else 0.0


def test_payload_and_source_tuple(tiny_model):
    from livehost.dsp.generator import G_CAP, G_HEAD
    from livehost.nodes.generator import generator_source

    t, i, v, p, o = generator_source(str(tiny_model[0]), SR)
    assert t == "generator" and i == "generator" and o["model"] == str(tiny_model[0])
    assert p[G_CAP] == 2 * SR and len(p) == G_HEAD + 2 * SR


def test_render_from_ring_without_underruns(tiny_model):
    eng, wk = make(tiny_model[0])
    out = render(eng, SR * 2, on_block=lambda k: wk.pump())
    assert np.all(np.isfinite(out))
    assert np.sqrt(np.mean(out[SR // 2:, 0] ** 2)) > 1e-4
    assert wk.underruns == 0 and wk.underrun_frames == 0
    assert np.array_equal(out[:, 0], out[:, 1])


def test_offline_render_is_deterministic(tiny_model):
    outs = []
    for _ in range(2):
        eng, wk = make(tiny_model[0])
        outs.append(render(eng, SR, on_block=lambda k, wk=wk: wk.pump()))
    assert np.array_equal(outs[0], outs[1])


def test_worker_stopped_underruns_are_counted_and_faded(tiny_model):
    eng, wk = make(tiny_model[0])
    stop_at = int(1.0 * SR / BLOCK)
    out = render(eng, SR * 2, on_block=lambda k: wk.pump() if k < stop_at else None)
    y = out[:, 0].astype(np.float64)
    assert wk.underruns == 1 and wk.underrun_frames > 0
    # the tail is silent, reached through a fade: no click
    assert np.all(y[-SR // 2:] == 0.0)
    last = np.nonzero(y)[0][-1]
    steady = second_diff_peak(y[SR // 4:stop_at * BLOCK - 2000])
    edge = second_diff_peak(y[last - 2000:last + 64])
    assert edge <= 1.05 * steady
    # a hard cut at the same point would have been a click
    cut = y[:last - 480].copy()
    assert second_diff_peak(np.concatenate([cut, np.zeros(64)])[-2100:]) > edge


def test_recovers_with_a_fade_in_after_underrun(tiny_model):
    eng, wk = make(tiny_model[0])
    nb = int(0.5 * SR / BLOCK)
    out = render(eng, SR * 2, on_block=lambda k: wk.pump() if (k < nb or k > 2 * nb) else None)
    y = out[:, 0].astype(np.float64)
    assert wk.underruns == 1
    back = 2 * nb * BLOCK
    seg = y[back:back + SR // 2]
    assert np.sqrt(np.mean(seg ** 2)) > 1e-4
    first = back + np.nonzero(seg)[0][0]
    steady = second_diff_peak(y[SR // 8:nb * BLOCK - 2000])
    assert second_diff_peak(y[first - 4:first + 480]) <= 1.05 * steady


def test_threaded_worker_keeps_up(tiny_model):
    eng, wk = make(tiny_model[0])
    wk.start()
    try:
        def pace(k):  # a live callback would wait for the clock; wait for the worker instead
            end = time.monotonic() + 2.0
            while wk.frames_ahead < wk.ahead // 2 and time.monotonic() < end:
                time.sleep(0.001)
        out = render(eng, SR, on_block=pace)
    finally:
        wk.stop()
    assert wk.underruns == 0
    assert np.sqrt(np.mean(out[SR // 4:, 0] ** 2)) > 1e-4
    out2 = render(eng, SR // 2)  # the worker is stopped: the ring drains and fades out
    assert wk.underruns == 1 and np.all(out2[-1000:] == 0.0)


def test_params_gain_temperature_freeze(tiny_model):
    eng, wk = make(tiny_model[0], {"gain_db": -6.0, "temperature": 0.0})
    render(eng, SR // 2, on_block=lambda k: wk.pump())
    assert wk.gen.temperature == 0.0
    eng.set_param("gen", "freeze", True)
    render(eng, SR // 2, on_block=lambda k: wk.pump())
    assert wk.gen.freeze and wk.gen._loop is not None
    with pytest.raises(LivehostError):
        eng.set_param("gen", "temperature", 5.0)


def test_prime_from_input_reads_the_tap(tiny_model):
    from tests.generator.conftest import synthetic

    eng, wk = make(tiny_model[0], input_mode="mic")
    x = synthetic(2.0, SR).astype(np.float32)
    render(eng, len(x), inp=np.stack([x, x], axis=1))
    h0 = wk.gen.h.copy()
    n = wk.prime_from_input(1.5)
    assert n >= 90 and not np.allclose(wk.gen.h, h0)
    out = render(eng, SR // 2, on_block=lambda k: wk.pump())
    assert np.all(np.isfinite(out))
