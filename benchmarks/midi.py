"""MIDI under load on the JACK driver: xruns and lost messages, against an empty-patch control.

Cases, each with and without a busy pure-Python thread in the process: an empty patch with no MIDI
(the control), the synth with 1 000 CC/s plus a note every 50 ms, and the synth under a
40 000 msg/s flood. A second JACK client (``tests/jackclient.py``, compiled like livehost's own
callback) sends the messages at chosen frames; a third logs what comes out of livehost's
``midi_out`` (MIDI thru, written by the same callback that hands the events to the engine), so a
message is lost if it was sent and never came out, or if the engine had no room for it in its block
(``midi_device_dropped``). A cycle JACK itself flags as an xrun can take that cycle's messages with
it (JACK does not run the late client's cycle): at 40 000 msg/s that is ~107 messages per xrun. Then note-on to onset latency and jitter (samples) over 50 notes at
random offsets.

``--driver portaudio`` (or ``both``, the default) runs the same cases on the PortAudio driver (on the
same JACK server), with MIDI read by livehost's own JACK MIDI client (``livehost.midi.jackport``,
a compiled process callback feeding the audio callback through the device ring, stamped with JACK's
frame clock). There a message is lost if a ring on its way to the audio thread had no room for it
(``dring``/``dev`` dropped counts); ``control_lost`` counts those that never reached the control side
(the tap, read by a Python thread: the monitor, CC maps and learn; not the sound).

Needs a JACK server (jackd -R -d dummy -r 48000 -p 128). Prints a table; --json prints one object.

    python benchmarks/midi.py [--seconds 20] [--driver both|jack|portaudio] [--json]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import threading
import time

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)
PERIOD = 128
RATE = 48000
WARMUP_CYCLES = 200  # the sender's first message comes this many cycles after it starts (~0.5 s)

EMPTY = """
[patch]
name = "Empty"
format = 1
samplerate = 48000
blocksize = 128
[input]
source = "none"
"""


def _engine(text: str):
    from livehost.engine.patching import engine_for
    from livehost.patch import load

    with tempfile.NamedTemporaryFile("w", suffix=".toml", delete=False) as f:
        f.write(text)
    try:
        return engine_for(load(f.name), in_ch=0)
    finally:
        os.unlink(f.name)


def schedule(kind: str, seconds: float, rng) -> list:
    """(cycle, offset, message) for a load: "cc" (1 000 CC/s + a note every 50 ms) or "flood"."""
    cycles = int(seconds * RATE / PERIOD)
    total = cycles * PERIOD
    out = []
    if kind == "cc":
        frames = np.arange(0, total, RATE // 1000)
        for k, f in enumerate(frames):
            out.append((int(f), (0xB0, 74, k % 128)))
        for k, f in enumerate(np.arange(0, total, RATE // 20)):
            out.append((int(f) + 7, (0x90 if k % 2 == 0 else 0x80, 60 + k % 24, 90 if k % 2 == 0 else 0)))
    elif kind == "flood":
        frames = np.sort(rng.integers(0, total, int(40000 * seconds)))
        for k, f in enumerate(frames):
            out.append((int(f), (0xB0, 1 + k % 100, k % 128)))
    out.sort(key=lambda e: e[0])
    return [(WARMUP_CYCLES + f // PERIOD, f % PERIOD, m) for f, m in out]


def busy(stop: threading.Event) -> None:
    d: dict = {}
    while not stop.is_set():
        for i in range(1000):
            d[i] = [i] * 3


def measure(patch_text: str, kind: str, seconds: float, stress: bool, seed: int, driver: str = "jack") -> dict:
    """One run: livehost on JACK, the sender, the thru sink; its stats and message counts."""
    if driver == "portaudio":
        return measure_portaudio(patch_text, kind, seconds, stress, seed)
    from livehost.engine import layout as L
    from livehost.engine.drivers.jack import JackDriver
    from tests.jackclient import TestJackClient

    eng = _engine(patch_text)
    sched = schedule(kind, seconds, np.random.default_rng(seed))
    drv = JackDriver(eng, client_name="lh-bench", connect=False)
    sender = TestJackClient("lh-bench-send", schedule=sched) if sched else None
    sink = TestJackClient("lh-bench-sink", midi_log=max(1, len(sched)))
    stop = threading.Event()
    th = threading.Thread(target=busy, args=(stop,), daemon=True) if stress else None
    try:
        drv.start()
        sink.start()
        sink.connect(drv.port_name("midi_out"), f"{sink.name}:midi_in")
        if sender:
            sender.start()
            sink.connect(f"{sender.name}:midi_out", drv.port_name("midi_in"))
        if th:
            th.start()
        time.sleep(WARMUP_CYCLES * PERIOD / RATE + seconds + 0.3)
    finally:
        stop.set()
        if sender:
            sender.close()
        sink.close()
        drv.stop()
    s = eng.stats()
    got = len(sink.midi_received())
    sent = int((sender.sent >= 0).sum()) if sender else 0
    dropped = int(eng.a[L.H_DEV_DROPPED])
    return {"driver": "jack", "patch": "synth" if "synth" in patch_text else "empty", "load": kind,
            "busy_thread": stress,
            "scheduled": len(sched), "sent": sent, "lost": sent - got + dropped, "callbacks": s["callbacks"],
            "xruns": s["xruns"], "jack_xruns": s["jack_xruns"], "dsp_load_p99": s["dsp_load_p99"],
            "dsp_load_max": s["dsp_load_max"]}


def measure_portaudio(patch_text: str, kind: str, seconds: float, stress: bool, seed: int) -> dict:
    """One run on the PortAudio driver with livehost's JACK MIDI client; stats and message counts."""
    from livehost.engine import layout as L
    from livehost.engine.drivers.portaudio import PortAudioDriver
    from livehost.midi.jackport import JackMidiPort
    from livehost.midi.tap import MidiTapReader
    from tests.jackclient import TestJackClient

    eng = _engine(patch_text)
    sched = schedule(kind, seconds, np.random.default_rng(seed))
    drv = PortAudioDriver(eng, use_input=False)
    port = JackMidiPort(eng, client_name="lh-bench-pa-midi")
    got = [0]

    def count(msg, frame):
        got[0] += 1

    tap = MidiTapReader(eng, count).start()
    sender = TestJackClient("lh-bench-pa-send", schedule=sched) if sched else None
    stop = threading.Event()
    th = threading.Thread(target=busy, args=(stop,), daemon=True) if stress else None
    try:
        drv.start()
        if sender:
            sender.start()
            sender.connect(f"{sender.name}:midi_out", port.port_name)
        if th:
            th.start()
        time.sleep(WARMUP_CYCLES * PERIOD / RATE + seconds + 0.3)
    finally:
        stop.set()
        if sender:
            sender.close()
        time.sleep(0.05)
        tap.stop()
        port.close()
        drv.stop()
    s = eng.stats()
    sent = int((sender.sent >= 0).sum()) if sender else 0
    dropped = int(eng.a[L.H_DRING_DROPPED] + eng.a[L.H_DEV_DROPPED])
    return {"driver": "portaudio", "patch": "synth" if "synth" in patch_text else "empty", "load": kind,
            "busy_thread": stress, "scheduled": len(sched), "sent": sent, "lost": dropped,
            "control_lost": sent - got[0],
            "late": int(eng.a[L.H_DRING_LATE]), "callbacks": s["callbacks"], "xruns": s["xruns"],
            "jack_xruns": s["jack_xruns"], "dsp_load_p99": s["dsp_load_p99"], "dsp_load_max": s["dsp_load_max"]}


def onsets_portaudio(seed: int, notes: int = 50) -> dict:
    """The PortAudio driver with livehost's JACK MIDI client: note-on frame (JACK's clock) to onset
    (the engine's own recording) over ``notes`` notes at random offsets; the constant part is
    unknown (two clocks), so the minimum is reported as 0 and the spread is the jitter."""
    from livehost.engine.drivers.portaudio import PortAudioDriver
    from livehost.engine.drivers.recorder import Recorder
    from livehost.midi.jackport import JackMidiPort
    from tests.engine.test_jack_driver import SHARP_SYNTH
    from tests.jackclient import TestJackClient
    import soundfile as sf

    eng = _engine(SHARP_SYNTH)
    offs = np.random.default_rng(seed).integers(0, PERIOD, notes)
    sched = []
    for k, o in enumerate(offs):
        c = WARMUP_CYCLES + 4 * k
        sched += [(c, int(o), (0x90, 69, 100)), (c + 2, 0, (0x80, 69, 0))]
    with tempfile.TemporaryDirectory() as tmp:
        wav = os.path.join(tmp, "pa.wav")
        drv = PortAudioDriver(eng, use_input=False)
        rec = Recorder(eng, wav, channels=eng.out_ch)
        rec.start()
        drv.start()
        port = JackMidiPort(eng, client_name="lh-bench-pa-on")
        sender = TestJackClient("lh-bench-pa-on-send", schedule=sched)
        try:
            sender.start()
            sender.connect(f"{sender.name}:midi_out", port.port_name)
            while not sender.sent_all:
                time.sleep(0.05)
            time.sleep(0.3)
        finally:
            sender.close()
            port.close()
            drv.stop()
            rec.stop()
        y, _ = sf.read(wav, dtype="float32", always_2d=True)
    loud = np.flatnonzero(np.abs(y[:, 0]) > 1e-4)
    on = loud[np.r_[True, np.diff(loud) > 64]] if loud.size else loud
    sent = np.asarray(sender.sent[0::2], np.int64)
    d = pair_onsets(on, sent)
    heard = d[d != LOST]
    return {"notes": notes, "heard": int(heard.size), "latency_samples_min": 0,
            "latency_samples_max": int(np.ptp(heard)) if heard.size else -1,
            "jitter_samples": int(np.ptp(heard)) if heard.size else -1,
            "at_the_usual_delay": int((heard == np.bincount(heard - heard.min()).argmax() + heard.min()).sum())
            if heard.size else 0,
            "graph_latency_samples": eng.latency_samples(), "xruns": eng.stats()["xruns"]}


LOST = np.iinfo(np.int64).min


def pair_onsets(on: np.ndarray, sent: np.ndarray, window: int = 192) -> np.ndarray:
    """Onset minus send frame for each sent note, ``LOST`` where no onset is near: the two clocks
    differ by an unknown constant, taken as the one (among the first onsets less the first sends) that most sends have an
    onset within ``window`` samples of; each send is then matched to the onset nearest ``send + c``,
    so a lost note cannot shift the pairs after it (samples)."""
    out = np.full(sent.size, LOST, np.int64)
    if not on.size or not sent.size:
        return out

    def matches(c):
        j = np.clip(np.searchsorted(on, sent + c), 1, on.size - 1) if on.size > 1 else np.zeros(sent.size, int)
        near = np.where(np.abs(on[j - 1] - sent - c) < np.abs(on[j] - sent - c), j - 1, j) if on.size > 1 else j
        return near, np.abs(on[near] - sent - c) <= window

    c = max((int(o - t) for o in on[:3] for t in sent[:3]), key=lambda c: int(matches(c)[1].sum()))
    near, ok = matches(c)
    out[ok] = on[near[ok]] - sent[ok]
    return out


def onsets(seed: int, notes: int = 50) -> dict:
    """Note-on frame to onset sample over ``notes`` notes at random offsets: latency and jitter."""
    from livehost.engine.drivers.jack import JackDriver
    from tests.engine.test_jack_driver import SHARP_SYNTH, _onsets
    from tests.jackclient import TestJackClient

    eng = _engine(SHARP_SYNTH)
    offs = np.random.default_rng(seed).integers(0, PERIOD, notes)
    sched = []
    for k, o in enumerate(offs):
        c = WARMUP_CYCLES + 4 * k
        sched += [(c, int(o), (0x90, 69, 100)), (c + 2, 0, (0x80, 69, 0))]
    frames = (WARMUP_CYCLES + 4 * notes + 40) * PERIOD
    drv = JackDriver(eng, client_name="lh-bench-on", connect=False)
    sender = TestJackClient("lh-bench-on-send", schedule=sched)
    rec = TestJackClient("lh-bench-on-rec", record_frames=frames)
    try:
        drv.start()
        rec.start()
        sender.start()
        sender.connect(drv.port_name("out_1"), f"{rec.name}:in")
        sender.connect(f"{sender.name}:midi_out", drv.port_name("midi_in"))
        while rec.recording()[1].size < frames:
            time.sleep(0.05)
        start, y = rec.recording()
    finally:
        sender.close()
        rec.close()
        drv.stop()
    sent = sender.sent[0::2]
    d = _onsets(y, start, sent) - sent
    return {"notes": notes, "latency_samples_min": int(d.min()), "latency_samples_max": int(d.max()),
            "jitter_samples": int(np.ptp(d)), "graph_latency_samples": eng.latency_samples(),
            "xruns": eng.stats()["xruns"]}


def main() -> int:
    from tests.engine.test_jack_driver import SHARP_SYNTH

    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--seconds", type=float, default=20.0, help="seconds of each load")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--driver", choices=("both", "jack", "portaudio"), default="both")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    drivers = ("jack", "portaudio") if args.driver == "both" else (args.driver,)
    rows = []
    ons = {}
    for drv in drivers:
        for stress in (False, True):
            rows.append(measure(EMPTY, "none", args.seconds, stress, args.seed, drv))
            rows.append(measure(SHARP_SYNTH, "cc", args.seconds, stress, args.seed, drv))
            rows.append(measure(SHARP_SYNTH, "flood", args.seconds, stress, args.seed, drv))
        ons[drv] = onsets(args.seed) if drv == "jack" else onsets_portaudio(args.seed)
    result = {"seconds": args.seconds, "runs": rows, "onsets": ons}
    if args.json:
        print(json.dumps(result, indent=2))
        return 0
    print(f"{'driver':9} {'patch':6} {'load':6} {'busy':5} {'sent':>7} {'lost':>5} {'callbacks':>9} {'xruns':>5} "
          f"{'jack':>5} {'p99':>6} {'max':>6}")
    for r in rows:
        print(f"{r['driver']:9} {r['patch']:6} {r['load']:6} {str(r['busy_thread']):5} {r['sent']:7d} "
              f"{r['lost']:5d} {r['callbacks']:9d} {r['xruns']:5d} {r['jack_xruns']:5d} "
              f"{100 * r['dsp_load_p99']:5.1f}% {100 * r['dsp_load_max']:5.1f}%"
              + (f"  (control side lost {r['control_lost']})" if r.get("control_lost") else ""))
    for drv, o in ons.items():
        print(f"{drv}: note-on to onset over {o['notes']} notes: {o['latency_samples_min']}.."
              f"{o['latency_samples_max']} samples (jitter {o['jitter_samples']}; graph latency "
              f"{o['graph_latency_samples']}; {o['xruns']} xruns in that run)"
              + (f"; heard {o['heard']}, {o['at_the_usual_delay']} at the usual delay" if "heard" in o else ""))
    return 0


if __name__ == "__main__":
    sys.exit(main())
