"""The LV2 worker extension (eg-sampler): ``schedule_work`` is a compiled cfunc filling a lock-free ring,
``work`` runs on the LV2 service thread, responses reach ``work_response`` from the kernel before
``run``. Also: the engine's guard resets a faulted plugin off the audio thread, and the kernel runs
plugins with denormals flushed to zero."""

from __future__ import annotations

import ctypes

import numpy as np
import pytest
import soundfile as sf

from livehost.dsp.fpenv import FTZ_DAZ, X86, fp_word
from livehost.dsp.lv2_worker import R_CAP, R_R, R_W, schedule_work
from livehost.engine.drivers.offline import render
from livehost.lv2 import world
from livehost.lv2.host import new_ring, ring_read, ring_write
from livehost.nodes.lv2 import instances
from tests.lv2.lv2util import need, notes_file, onsets, render_cli, wait_for

SAMPLER = "http://lv2plug.in/plugins/eg-sampler"
AMP = "http://lv2plug.in/plugins/eg-amp"
DELAY = "http://drobilla.net/plugins/mda/Delay"


def test_rings_carry_messages_whole_and_refuse_when_full():
    """The compiled ``schedule_work`` and the Python reader agree on the ring format, across the wrap;
    a full ring refuses (LV2_WORKER_ERR_NO_SPACE) and loses nothing already in it."""
    ring = new_ring(64)
    call = ctypes.CFUNCTYPE(ctypes.c_int32, ctypes.c_int64, ctypes.c_uint32, ctypes.c_int64)(schedule_work.address)
    got = []
    for k in range(20):  # 8 + 16 bytes per message of 13: the 64-byte ring wraps many times
        body = bytes([k]) * 13
        buf = ctypes.create_string_buffer(body, 13)
        assert call(ring.ctypes.data, 13, ctypes.addressof(buf)) == 0
        got += ring_read(ring)
        assert got[-1] == body
    bufs = [ctypes.create_string_buffer(bytes([k]) * 20, 20) for k in range(3)]
    status = [call(ring.ctypes.data, 20, ctypes.addressof(b)) for b in bufs]
    assert status == [0, 0, 2]  # 32 bytes each: the third does not fit
    assert ring_read(ring) == [bytes([0]) * 20, bytes([1]) * 20]
    assert ring_write(ring, b"xyz") == 0 and ring_read(ring) == [b"xyz"]
    assert ring[R_W] == ring[R_R] and ring[R_CAP] == 64


def test_eg_sampler_plays_its_default_sample_where_the_notes_are(tmp_path):
    """eg-sampler needs worker:schedule and state:loadDefaultState: it is runnable now, loads its default
    sample (click.wav) from its own description, and ``livehost render --midi`` plays it at the notes."""
    need(SAMPLER)
    assert world.plugin(SAMPLER).runnable
    notes = [0.5, 1.0, 1.5]
    notes_file(tmp_path / "n.mid", notes)
    patch = tmp_path / "s.toml"
    patch.write_text(f'[patch]\nname = "s"\n[input]\nsource = "none"\n'
                     f'[[chain]]\ntype = "lv2"\nid = "smp"\nuri = "{SAMPLER}"\n')
    y, sr = render_cli(patch, tmp_path / "out.wav", "--midi", tmp_path / "n.mid")
    for t0, onset in zip(notes, onsets(y, sr, notes)):
        assert abs(onset - t0) < 0.0005, (t0, onset)


def test_the_worker_loads_a_new_sample_off_the_audio_thread(make_engine, tmp_path):
    """A state naming another sample, restored into the running plugin: eg-sampler schedules the load
    (the compiled ``schedule_work``), the service thread runs ``work`` (it reads the file), the kernel
    hands the loaded sample to ``work_response`` before ``run``; the plugin then schedules freeing the
    old sample from the kernel, and the service thread does it. The notes now play the new sample (a
    1 kHz tone) where they played the click."""
    need(SAMPLER)
    sr = 48000
    tone = (0.5 * np.sin(2 * np.pi * 1000.0 * np.arange(sr // 5) / sr)).astype(np.float32)
    sf.write(tmp_path / "tone.wav", tone, sr, subtype="FLOAT")
    eng = make_engine([("node", "lv2", "smp", {}, {"uri": SAMPLER})])
    (inst,) = instances(eng.a[eng.item("smp").sbase:])

    def play():
        assert eng.send_midi(0x90, 60, 100, frame=64) and eng.send_midi(0x80, 60, 0, frame=6000)
        y = render(eng, 9600, inp=np.zeros((9600, 2), np.float32))
        seg = y[1000:5800, 0].astype(np.float64)
        spec = np.abs(np.fft.rfft(seg * np.hanning(len(seg))))
        return np.fft.rfftfreq(len(seg), 1 / sr)[np.argmax(spec)], np.abs(seg).max()

    f_click, _ = play()
    assert inst.worker.done == 0  # the default sample was loaded at instantiation, not by the worker
    text = inst.save_state().replace("file:///usr/lib/lv2/eg-sampler.lv2/click.wav",
                                     (tmp_path / "tone.wav").as_uri())
    inst.restore_state(text)  # no run() meanwhile: the engine is not running
    wait_for(lambda: inst.worker.done >= 1 and inst.worker.responses[R_W] > 0)
    assert inst.worker.responses[R_R] == 0  # delivered by the kernel only
    f_tone, peak = play()
    assert inst.worker.responses[R_R] == inst.worker.responses[R_W]  # the kernel took the response
    assert f_tone == pytest.approx(1000.0, abs=10.0) and peak > 0.2, (f_tone, peak)
    assert abs(f_click - 1000.0) > 10.0  # the click before: the test can tell them apart
    wait_for(lambda: inst.worker.done >= 2)  # freeing the old sample, scheduled from the audio kernel


def test_a_faulted_plugin_is_reset_off_the_audio_thread(make_engine):
    """mda Delay fed an impulse far above the guard's limit: the engine resets the node, the kernel
    stops calling the plugin until the service thread has deactivated and activated it, and the
    reset emptied its delay line (no echo), where a run without the fault echoes the impulse."""
    need(DELAY)
    vals = {"l_delay": 0.1, "r_delay": 0.1, "feedback": 0.5, "fx_mix": 1.0}

    def run(height):
        eng = make_engine([("node", "lv2", "dl", vals, {"uri": DELAY})])
        (inst,) = instances(eng.a[eng.item("dl").sbase:])
        x = np.zeros((4 * 128, 2), np.float32)
        x[10] = height
        render(eng, len(x), inp=x)
        resets = eng.stats()["nan_resets"]
        wait_for(lambda: inst.resets > 0 or height < 1e4, 5.0)
        y = render(eng, 48000, inp=np.zeros((48000, 2), np.float32))
        return y, inst.resets, resets

    calm, calm_resets, calm_guard = run(0.5)
    assert calm_resets == 0 and calm_guard == 0 and np.abs(calm).max() > 0.05  # its echo
    loud, loud_resets, loud_guard = run(5e4)
    assert loud_resets == 1 and loud_guard == 1
    assert not np.any(loud)  # the delay line was emptied: silence, no echo


def test_plugins_run_with_denormals_flushed_and_the_caller_keeps_its_setting(make_engine):
    need(AMP)
    if not X86:
        pytest.skip("the denormal guard sets the x86 MXCSR only")
    before = fp_word() & ~0x3F  # control bits (the low six are sticky exception flags)
    assert before & FTZ_DAZ == 0
    tiny = np.full((1024, 2), 1e-39, np.float32)  # float32 subnormals
    plain = render(make_engine([]), 1024, inp=tiny)
    assert np.all(plain[600:] != 0.0)  # the engine alone passes them (a control)
    eng = make_engine([("node", "lv2", "amp", {"gain": 0.0}, {"uri": AMP})])
    y = render(eng, 1024, inp=tiny)
    assert not np.any(y)  # the plugin read them as zero
    assert fp_word() & ~0x3F == before  # the offline render ran the kernel on this thread: restored
    big = np.full((1024, 2), 0.25, np.float32)
    np.testing.assert_array_equal(render(eng, 1024, inp=big)[600:], big[600:])


@pytest.mark.jack
def test_on_jack_the_audio_thread_takes_the_response_and_schedules_work_itself(tmp_path):
    """eg-sampler playing on JACK (its callback thread is the real-time one): a state naming another
    sample, restored while it runs (the plugin declares ``state:threadSafeRestore``), is loaded by
    ``work`` on the service thread; the JACK thread hands the answer to ``work_response``, in which the
    plugin calls the compiled ``schedule_work`` to have the old sample freed: a second request that
    only the audio thread can have made."""
    from livehost.engine.drivers.jack import JackDriver
    from livehost.engine.patching import engine_for
    from livehost.lv2.host import has_state
    from livehost.patch import load
    from tests.jackutil import need_jack

    need_jack()
    need(SAMPLER)
    lib = world.library()
    if not lib.lilv_plugin_has_feature(world.lilv_plugin(SAMPLER),
                                       world.uri_node("http://lv2plug.in/ns/ext/state#threadSafeRestore")):
        pytest.skip("this eg-sampler does not declare a thread-safe restore")
    assert has_state(SAMPLER)
    sr = 48000
    tone = (0.5 * np.sin(2 * np.pi * 440.0 * np.arange(sr // 10) / sr)).astype(np.float32)
    sf.write(tmp_path / "tone.wav", tone, sr, subtype="FLOAT")
    patch = tmp_path / "s.toml"
    patch.write_text(f'[patch]\nname = "s"\nblocksize = 128\n[input]\nsource = "none"\n'
                     f'[[chain]]\ntype = "lv2"\nid = "smp"\nuri = "{SAMPLER}"\n')
    eng = engine_for(load(patch))
    (inst,) = instances(eng.a[eng.item("smp").sbase:])
    drv = JackDriver(eng, client_name="lh-lv2-worker", connect=False)
    try:
        drv.start()
        wait_for(lambda: eng.stats()["callbacks"] > 50)
        text = inst.save_state().replace("file:///usr/lib/lv2/eg-sampler.lv2/click.wav",
                                         (tmp_path / "tone.wav").as_uri())
        inst.restore_state(text)
        wait_for(lambda: inst.worker.done >= 2)  # the load, then the free the JACK thread scheduled
        assert inst.worker.responses[R_R] == inst.worker.responses[R_W] > 0
        assert inst.worker.requests[R_R] == inst.worker.requests[R_W]
        assert eng.stats()["nan_resets"] == 0
    finally:
        drv.stop()
    assert "tone.wav" in inst.save_state()
