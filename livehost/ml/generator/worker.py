"""Running a generator model live: one frame per ONNX step, rebuilt to audio, resampled, streamed.

- :func:`load_model`: the ONNX session (one thread) and its card, with one-line errors naming the file.
- :class:`FrameGenerator`: the model at its own rate, ``step()`` -> ``hop`` samples (spectral frames
  through RTPGHI refined by RTISI-LA, :mod:`livehost.ml.generator.rtpghi`); temperature
  (noise on the LSTM input), freeze (loop the last half second, model paused), priming from audio.
- :class:`StreamResampler`: windowed-sinc sample-rate conversion with state (any rate pair).
- :class:`GeneratorWorker`: a thread that keeps a ``generator`` node's payload ring ~100 ms ahead of
  the audio callback, reading the node's ``temperature`` and ``freeze`` parameters as it goes.
"""

from __future__ import annotations

import json
import math
import os
import threading
from fractions import Fraction
from pathlib import Path

import numpy as np
from numba import njit

from livehost.dsp.atomics import acquire, release
from livehost.dsp.generator import G_CAP, G_EVENTS, G_HEAD, G_R, G_UNDER, G_W
from livehost.engine import layout as L
from livehost.errors import LivehostError
from livehost.ml.generator.model import FeatureSetup
from livehost.ml.generator.rtpghi import DEFAULT_RTISI_ITERS, DEFAULT_RTISI_LOOKAHEAD, StreamingReconstructor

CARD_FORMAT = "livehost-generator-card/1"
FREEZE_S = 0.5  #: loop length of ``freeze`` (s)
XFADE_S = 0.03  #: loop seam crossfade (s)


def card_path(model_path: str | os.PathLike) -> Path:
    """``models/generator-x.onnx`` -> ``models/generator-x.card.json``."""
    p = Path(model_path)
    return p.with_name(p.stem + ".card.json")


def ort_session(path: str | os.PathLike, threads: int = 1):
    """An onnxruntime CPU session with ``threads`` intra-op threads (LivehostError naming the file)."""
    import onnxruntime as ort

    path = Path(path)
    if not path.is_file():
        raise LivehostError(f"{path}: generator model not found")
    so = ort.SessionOptions()
    so.intra_op_num_threads = int(threads)
    so.inter_op_num_threads = 1
    so.log_severity_level = 3
    try:
        return ort.InferenceSession(str(path), so, providers=["CPUExecutionProvider"])
    except Exception as e:  # noqa: BLE001  (onnxruntime raises several types for a bad file)
        msg = " ".join(str(e).split())[:160]
        raise LivehostError(f"{path}: not a loadable ONNX model ({msg})") from None


def load_card(model_path: str | os.PathLike) -> dict:
    """The generator card beside ``model_path``, checked (LivehostError naming the file)."""
    cp = card_path(model_path)
    if not Path(model_path).is_file():
        raise LivehostError(f"{model_path}: generator model not found")
    if not cp.is_file():
        raise LivehostError(f"{cp}: generator model card not found (expected beside {model_path})")
    try:
        card = json.loads(cp.read_text())
    except (OSError, UnicodeDecodeError, ValueError) as e:
        raise LivehostError(f"{cp}: model card is not valid JSON ({' '.join(str(e).split())})") from None
    if not isinstance(card, dict) or card.get("format") != CARD_FORMAT:
        raise LivehostError(f"{cp}: not a generator model card (format {CARD_FORMAT} expected)")
    for k in ("features", "model", "normalization", "init"):
        if k not in card:
            raise LivehostError(f"{cp}: model card lacks '{k}'")
    return card


def load_model(model_path: str | os.PathLike, threads: int = 1):
    """``(session, card)`` for a generator model; the input/output names and sizes are checked."""
    card = load_card(model_path)
    sess = ort_session(model_path, threads)
    names = [i.name for i in sess.get_inputs()]
    if names != ["x", "h0", "c0"] or [o.name for o in sess.get_outputs()] != ["y", "h", "c"]:
        raise LivehostError(f"{model_path}: not a streaming generator (inputs x, h0, c0 expected, got {names})")
    return sess, card


# --------------------------------------------------------------------------------------------------
# the model at its own rate
# --------------------------------------------------------------------------------------------------


class FrameGenerator:
    """A generator model stepped one frame at a time (not thread-safe by itself).

    model_path: ``.onnx`` with its card beside it; seed: noise and random-phase seed (a fixed seed
    gives the same audio); threads: onnxruntime intra-op threads; rtisi_iters, rtisi_lookahead: the
    RTISI-LA refinement of the RTPGHI phase (passes per frame, frames of look-ahead; ``rtisi_iters=0``
    is RTPGHI alone), see :class:`~livehost.ml.generator.rtpghi.StreamingReconstructor`.
    Attributes: ``sr`` (model rate, Hz), ``hop`` (samples per step), ``temperature`` (noise std on the
    LSTM input in feature standard deviations), ``freeze`` (bool), ``latency`` (samples at ``sr``,
    spectral models: the frame made by step ``k`` is heard centred on output sample ``k * hop +
    latency``, ``latency`` samples after the first sample that step returns; 0 for waveform models).
    """

    def __init__(self, model_path: str | os.PathLike, seed: int = 0, threads: int = 1,
                 rtisi_iters: int = DEFAULT_RTISI_ITERS, rtisi_lookahead: int = DEFAULT_RTISI_LOOKAHEAD):
        self.path = str(model_path)
        self.sess, self.card = load_model(model_path, threads)
        self.setup = FeatureSetup.from_dict(self.card["features"])
        self.sr = int(self.setup.sr)
        self.hop = int(self.setup.hop)
        m = self.card["model"]
        self.layers, self.hidden = int(m["layers"]), int(m["hidden"])
        self.std = np.asarray(self.card["normalization"]["std"], np.float32)
        self.seed = int(seed)
        self.temperature = float(self.card.get("default_temperature", 0.3))
        self.freeze = False
        self.rtisi_iters, self.rtisi_lookahead = int(rtisi_iters), int(rtisi_lookahead)
        self._freeze_n = int(FREEZE_S * self.sr)
        self._xf = int(XFADE_S * self.sr)
        self._ramp = np.linspace(0.0, 1.0, self.hop, endpoint=False) + 0.5 / self.hop  # freeze crossfade
        self.reset()

    def reset(self) -> None:
        """Back to the card's initial state (LSTM state, first frame, noise seed, phase history)."""
        init = self.card["init"]
        shape = (self.layers, 1, self.hidden)
        self.h = np.asarray(init["h"], np.float32).reshape(shape).copy()
        self.c = np.asarray(init["c"], np.float32).reshape(shape).copy()
        self.x = np.asarray(init["x"], np.float32).reshape(1, 1, -1).copy()
        self.rng = np.random.default_rng(self.seed)
        self.recon = (StreamingReconstructor(self.setup.n_fft, self.hop, seed=self.seed,
                                             rtisi_iters=self.rtisi_iters, rtisi_lookahead=self.rtisi_lookahead)
                      if self.setup.kind == "spectral" else None)
        self.latency = self.recon.latency if self.recon is not None else 0
        self._hist = np.zeros(self._freeze_n + self._xf)
        self._loop = None
        self._loop_pos = 0
        self.steps = 0

    def _model_frame(self) -> np.ndarray:
        x = self.x
        if self.temperature > 0.0:
            x = x + (self.temperature * self.std * self.rng.standard_normal(self.std.shape)).astype(np.float32)
        y, self.h, self.c = self.sess.run(None, {"x": x, "h0": self.h, "c0": self.c})
        if not np.all(np.isfinite(y)):  # a diverging model restarts rather than emitting garbage
            self.reset()
            return np.zeros(self.hop)
        self.x = y
        self.steps += 1
        f = y[0, 0]
        if self.recon is None:
            return np.clip(f.astype(np.float64), -1.0, 1.0)
        return self.recon.push(self.setup.magnitude(f))

    def _loop_take(self, n: int) -> np.ndarray:
        out = np.empty(n)
        k = 0
        while k < n:
            m = min(n - k, len(self._loop) - self._loop_pos)
            out[k:k + m] = self._loop[self._loop_pos:self._loop_pos + m]
            k += m
            self._loop_pos = (self._loop_pos + m) % len(self._loop)
        return out

    def step(self) -> np.ndarray:
        """The next ``hop`` samples (float64, linear amplitude, model rate)."""
        ramp = self._ramp
        if self.freeze:
            if self._loop is None:
                seg = self._hist.copy()
                xf = self._xf
                body = seg[xf:].copy()
                w = np.linspace(0.0, 1.0, xf)
                body[-xf:] = body[-xf:] * (1.0 - w) + seg[:xf] * w
                self._loop, self._loop_pos = body, 0
                out = self._model_frame() * (1.0 - ramp) + self._loop_take(self.hop) * ramp
            else:
                out = self._loop_take(self.hop)
        elif self._loop is not None:
            out = self._loop_take(self.hop) * (1.0 - ramp) + self._model_frame() * ramp
            self._loop = None
        else:
            out = self._model_frame()
        self._hist = np.concatenate([self._hist[self.hop:], out])
        return out

    def generate(self, seconds: float) -> np.ndarray:
        """``seconds`` of audio (float64, model rate) from the current state."""
        n = int(math.ceil(seconds * self.sr / self.hop))
        out = np.concatenate([self.step() for _ in range(n)]) if n else np.zeros(0)
        return out[:int(round(seconds * self.sr))]

    def prime(self, y: np.ndarray, sr: float | None = None) -> int:
        """Run audio ``y`` (mono, linear, at ``sr`` Hz, default the model rate) through the model so
        the generation continues from it; returns the model steps (frames of ``hop`` samples) used."""
        from livehost.ml.resample import resample_to

        y = np.asarray(y, np.float64)
        if sr is not None and int(sr) != self.sr:
            y = resample_to(y, sr, self.sr)
        frames = self.setup.analyze(y)
        if len(frames) < 2:
            return 0
        h, c = self.h, self.c
        for f in frames[:-1]:
            _, h, c = self.sess.run(None, {"x": f[None, None, :], "h0": h, "c0": c})
        self.h, self.c = h, c
        self.x = frames[-1][None, None, :].copy()
        return len(frames)


# --------------------------------------------------------------------------------------------------
# streaming resampler
# --------------------------------------------------------------------------------------------------


@njit(cache=True, nogil=True)
def _resample(buf, nbuf, off, k0, up, down, hw, table, os_, gain, out):
    """Outputs ``k0, k0+1, ...`` at input times ``k * down / up`` (input samples) whose taps are all in
    ``buf[:nbuf]`` (``buf[0]`` is input sample ``off``); returns how many were written."""
    n = 0
    k = k0
    while n < out.shape[0]:
        num = k * down  # t = num / up
        t = num / up
        lo = int(math.floor(t - hw)) + 1
        hi = int(math.floor(t + hw))
        if hi - off >= nbuf:
            break
        acc = 0.0
        for j in range(lo, hi + 1):
            d = abs(t - j) * os_
            i = int(d)
            f = d - i
            if i + 1 < table.shape[0]:
                acc += buf[j - off] * (table[i] + f * (table[i + 1] - table[i]))
        out[n] = acc * gain
        n += 1
        k += 1
    return n


class StreamResampler:
    """Windowed-sinc (Kaiser) resampler with state: ``process(x)`` returns what ``x`` completes.

    sr_in, sr_out: rates in Hz (their exact ratio is used); zeros: sinc zero crossings each side at the
    lower of the two rates; beta: Kaiser window shape.  Delay: about ``zeros`` samples at the lower rate.
    """

    OS = 512  # table points per input sample

    def __init__(self, sr_in: float, sr_out: float, zeros: int = 16, beta: float = 8.6):
        r = Fraction(int(round(sr_out)), int(round(sr_in)))
        self.up, self.down = r.numerator, r.denominator
        self.cut = min(1.0, self.up / self.down)  # cutoff relative to the input Nyquist
        self.hw = zeros / self.cut  # half width in input samples
        t = np.arange(int(math.ceil(self.hw * self.OS)) + 2) / self.OS
        win = np.where(t <= self.hw, np.i0(beta * np.sqrt(np.clip(1 - (t / self.hw) ** 2, 0, 1))) / np.i0(beta), 0.0)
        self.table = np.sinc(self.cut * t) * win
        self.gain = self.cut
        self.reset()

    def reset(self) -> None:
        """Forget the input history (the next input starts at time 0)."""
        pad = int(math.ceil(self.hw)) + 1
        self.buf = np.zeros(pad)
        self.off = -pad
        self.k = 0

    def process(self, x: np.ndarray) -> np.ndarray:
        """Feed input samples (float64); returns the output samples now computable."""
        self.buf = np.concatenate([self.buf, np.asarray(x, np.float64)])
        end_t = (self.off + len(self.buf) - self.hw) * self.up / self.down
        cap = max(0, int(end_t) - self.k + 2)
        out = np.empty(cap)
        n = _resample(self.buf, len(self.buf), self.off, self.k, self.up, self.down, self.hw, self.table,
                      float(self.OS), self.gain, out)
        self.k += n
        keep_from = int(math.floor(self.k * self.down / self.up - self.hw)) - self.off
        if keep_from > 0:
            self.buf = self.buf[keep_from:]
            self.off += keep_from
        return out[:n]


# --------------------------------------------------------------------------------------------------
# the worker thread
# --------------------------------------------------------------------------------------------------


class GeneratorWorker:
    """Keeps a ``generator`` node's ring ``ahead_ms`` ahead of the audio callback.

    engine: the :class:`~livehost.engine.engine.Engine` holding the node; node_id: its id;
    model_path: the ``.onnx`` (card beside it); seed: noise seed (a fixed seed and a synchronous
    :meth:`pump` per block give the same render every time); ahead_ms: latency budget (ms).

    Use :meth:`start` / :meth:`stop` for a live thread, or call :meth:`pump` yourself (offline).
    """

    def __init__(self, engine, node_id: str, model_path: str | os.PathLike, seed: int = 0,
                 ahead_ms: float = 100.0, threads: int = 1, frames: FrameGenerator | None = None):
        self.engine = engine
        self.node_id = node_id
        self.gen = frames if frames is not None else FrameGenerator(model_path, seed, threads)
        # the node's memory stays ours (not freed by a patch load) until stop() gives it back
        self.node, self.p = engine.hold_payload(node_id)
        self.cap = int(self.p[G_CAP])
        if self.cap <= 0 or G_HEAD + self.cap > len(self.p):
            self.engine.release_hold(self.node)
            raise LivehostError(f"{node_id}: not a generator node payload")
        self.sr = float(engine.sr)
        self.ahead = int(ahead_ms * self.sr / 1000.0)
        if self.ahead + 4 * engine.max_block > self.cap:
            raise LivehostError(f"{node_id}: ring of {self.cap} frames is too short for {ahead_ms:g} ms ahead")
        self.rs = StreamResampler(self.gen.sr, self.sr)
        self._pending = np.zeros(0)
        self._lock = threading.RLock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.steps_time = 0.0

    # ---- control ------------------------------------------------------------------------------
    def _params(self) -> None:
        try:
            self.gen.temperature = float(self.engine.get_param(self.node_id, "temperature"))
            self.gen.freeze = bool(self.engine.get_param(self.node_id, "freeze"))
        except LivehostError:
            pass

    def reset(self) -> None:
        """Restart the model from its card's initial state (what is already in the ring still plays)."""
        with self._lock:
            self.gen.reset()

    def prime_from_input(self, seconds: float = 3.0) -> int:
        """Run the last ``seconds`` of the engine's input tap (channel 0: input mono mid, summed
        sources included) through the model, so it continues what was played; returns the model steps
        (frames of ``gen.hop`` samples at ``gen.sr`` Hz) used."""
        a = self.engine.a
        base, cap, w = int(a[L.H_TAP]), int(a[L.H_TAP_CAP]), int(a[L.H_TAP_W])
        n = min(int(seconds * self.sr), w, cap - 2 * self.engine.max_block)
        if n <= 0:
            return 0
        start = w - n
        ring = a[base:base + cap]
        idx = (np.arange(start, w)) % cap
        y = ring[idx].copy()
        with self._lock:
            return self.gen.prime(y, self.sr)

    @property
    def underruns(self) -> int:
        """Times the ring ran low and playback faded out."""
        return int(self.p[G_EVENTS])

    @property
    def underrun_frames(self) -> int:
        """Frames of silence played because the ring was dry."""
        return int(self.p[G_UNDER])

    @property
    def frames_ahead(self) -> int:
        """Frames written but not yet played."""
        return int(self.p[G_W]) - int(self.p[G_R])

    # ---- production ---------------------------------------------------------------------------
    def pump(self) -> int:
        """Generate until the ring is ``ahead_ms`` ahead of the reader; returns frames written."""
        written = 0
        with self._lock:
            if self.node is None:  # stopped: the node's memory is no longer ours to write
                return 0
            self._params()
            while True:
                w = int(self.p[G_W])
                r = int(acquire(self.p, G_R))  # the kernel is done with the frames before it
                if w - r >= self.ahead:
                    break
                if len(self._pending) == 0:
                    self._pending = self.rs.process(self.gen.step())
                    continue
                k = min(len(self._pending), self.cap - (w - r) - 1)
                if k <= 0:
                    break
                pos = w % self.cap
                first = min(k, self.cap - pos)
                self.p[G_HEAD + pos:G_HEAD + pos + first] = self._pending[:first]
                if k > first:
                    self.p[G_HEAD:G_HEAD + k - first] = self._pending[first:k]
                release(self.p, G_W, w + k)  # publish after the samples are in place
                self._pending = self._pending[k:]
                written += k
        return written

    def _run(self) -> None:
        while not self._stop.is_set():
            if self.pump() == 0:
                self._stop.wait(0.003)

    def start(self) -> "GeneratorWorker":
        """Start the background thread (idempotent); returns self."""
        if self._thread is None or not self._thread.is_alive():
            self._stop.clear()
            self._thread = threading.Thread(target=self._run, name=f"generator-{self.node_id}", daemon=True)
            self._thread.start()
        return self

    def stop(self, timeout: float = 2.0) -> None:
        """Stop the background thread (the ring then drains, fades out and counts underruns) and give
        the node's memory back to the engine."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None
        if self.node is not None:
            self.engine.release_hold(self.node)
            self.node = None
