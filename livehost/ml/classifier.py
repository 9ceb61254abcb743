"""Live genre classification: the ONNX model (:class:`GenreModel`) and its worker thread.

:class:`GenreModel` loads ``<name>.onnx`` and its card ``<name>.card.json`` with onnxruntime (one
thread) and turns features (or a 22050 Hz clip) into class probabilities.

:class:`ClassifierWorker` is a daemon thread beside a running engine.  It only *reads* the engine's
analysis tap (:class:`~livehost.ml.tap.TapReader`), so the audio thread never waits for it.  It keeps
the last ``window_s`` seconds (engine rate) and, every ``interval_s`` seconds of new audio, resamples
the window to 22050 Hz and recomputes the 57 features over it from scratch, then runs the model.
That is the simplest honest "incremental" scheme: each classification equals the offline classifier
on the same 30 s of audio (the whole window is resampled each time, so there is no resampler state to
drift; the extractor takes a few hundred ms per 30 s, well inside a 1.5 s interval).  Before the window
is full, from ``warmup_s`` on, it classifies the shorter window and flags the result low-confidence.
Results are published as an immutable :class:`ClassifierSnapshot` swapped in one assignment, so any
thread can read :attr:`ClassifierWorker.snapshot` without a lock.
"""

from __future__ import annotations

import math
import threading
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from livehost.errors import LivehostError
from livehost.ml.card import card_path, load_card
from livehost.paths import package_root, patch_model_path

#: RMS (linear amplitude, full scale 1.0) under which a window counts as silence: -80 dBFS.
SILENCE_RMS = 1e-4


def default_model_path() -> Path:
    """The shipped model, ``<root>/models/genre_mlp.onnx``."""
    return package_root() / "models" / "genre_mlp.onnx"


def classifier_path(patch_extra_models: dict | None, patch_path) -> Path | None:
    """The classifier a patch names in ``[models] classifier = "models/genre_mlp.onnx"``, or ``None``
    (see :func:`livehost.paths.patch_model_path`)."""
    return patch_model_path(patch_extra_models, "classifier", patch_path)


def ort_session(path):
    """An onnxruntime CPU session with one intra-op and one inter-op thread (no oversubscription)."""
    import onnxruntime as ort

    so = ort.SessionOptions()
    so.intra_op_num_threads = 1
    so.inter_op_num_threads = 1
    so.log_severity_level = 3
    return ort.InferenceSession(str(path), so, providers=["CPUExecutionProvider"])


def _one_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    return text[:300] if text else type(exc).__name__


class GenreModel:
    """A genre classifier: ONNX graph + model card.

    Parameters
    ----------
    path : str or Path
        The ``.onnx`` file; its card is ``<stem>.card.json`` beside it.

    Raises :class:`LivehostError` (one line, naming the file) when the model or card is missing,
    unreadable, corrupt or inconsistent (labels vs. output width, feature names vs. livehost's).

    Attributes: ``path``, ``card`` (dict), ``labels`` (list of genre names), ``kind`` (input kind:
    ``gtzan57`` = the 57 clip features in :data:`~livehost.ml.features.FEATURE_NAMES` order).
    """

    def __init__(self, path):
        self.path = Path(path)
        if not self.path.is_file():
            raise LivehostError(f"{self.path}: genre model not found")
        self.card = load_card(card_path(self.path))
        self.labels: list[str] = list(self.card["labels"])
        self.kind: str = self.card["input"]["kind"]
        try:
            self.session = ort_session(self.path)
        except Exception as exc:  # noqa: BLE001  (onnxruntime raises its own exception types)
            raise LivehostError(f"{self.path}: cannot load the genre model: {_one_line(exc)}") from None
        ins, outs = self.session.get_inputs(), self.session.get_outputs()
        if len(ins) != 1 or len(outs) < 1:
            raise LivehostError(f"{self.path}: expected one input and one output, found {len(ins)} and {len(outs)}")
        self.input_name = ins[0].name
        self.output_name = outs[0].name
        width = outs[0].shape[-1] if outs[0].shape else None
        if isinstance(width, int) and width != len(self.labels):
            raise LivehostError(f"{self.path}: the model outputs {width} classes but its card lists "
                                f"{len(self.labels)} labels")
        if self.kind == "gtzan57":
            from livehost.ml.features import FEATURE_NAMES

            self.feature_names = tuple(FEATURE_NAMES)
            n_in = ins[0].shape[-1] if ins[0].shape else None
            if isinstance(n_in, int) and n_in != len(FEATURE_NAMES):
                raise LivehostError(f"{self.path}: the model takes {n_in} features, not {len(FEATURE_NAMES)}")

    def _vector(self, features) -> np.ndarray:
        if isinstance(features, dict):
            if self.kind != "gtzan57":
                raise LivehostError(f"{self.path}: this {self.kind} model takes audio, not a feature dict")
            try:
                return np.array([float(features[n]) for n in self.feature_names])
            except KeyError as exc:
                raise LivehostError(f"feature {exc.args[0]!r} missing for {self.path.name}") from None
        return np.asarray(features, np.float64)

    def predict(self, features) -> np.ndarray:
        """Class probabilities (float64, in :attr:`labels` order, each row summing to 1).

        features: ``{name: value}`` with the 57 :data:`FEATURE_NAMES` (raw units, as
        :func:`~livehost.ml.features.gtzan_features` returns), a vector ``(57,)`` -> ``(n_labels,)``,
        or a batch ``(n, 57)`` -> ``(n, n_labels)``; for patch models, a batch of model inputs.
        """
        x = self._vector(features)
        single = x.ndim == 1 and self.kind == "gtzan57"
        xb = np.ascontiguousarray(x[None] if single else x, np.float32)
        p = self.session.run([self.output_name], {self.input_name: xb})[0].astype(np.float64)
        p /= np.maximum(p.sum(axis=-1, keepdims=True), 1e-30)  # float32 rounding: exact sum 1 in float64
        return p[0] if single else p

    def predict_audio(self, y22050: np.ndarray) -> np.ndarray:
        """Probabilities ``(n_labels,)`` of a mono 22050 Hz clip (up to 30 s is used).

        ``gtzan57`` models get the clip's 57 features; patch models the mean over its ~3 s patches.
        """
        y = np.asarray(y22050, np.float64)[: int(30.0 * 22050)]
        if self.kind == "gtzan57":
            from livehost.ml.features import clip_features

            return self.predict(clip_features(y))
        from livehost.ml.inputs import patch_inputs

        arch = "lstm" if self.kind == "mfcc_patch" else "cnn"
        return self.predict(patch_inputs(y, arch)).mean(axis=0)

    def top(self, probabilities, k: int = 3) -> list[tuple[str, float]]:
        """The ``k`` most probable ``(label, probability)`` pairs, most probable first."""
        p = np.asarray(probabilities, np.float64)
        order = np.argsort(-p, kind="stable")[:k]
        return [(self.labels[i], float(p[i])) for i in order]


@dataclass(frozen=True)
class ClassifierSnapshot:
    """One published state of a :class:`ClassifierWorker` (immutable; swapped whole).

    labels / probabilities: the last classification (empty before the first); top3: ``(label, p)``
    pairs; fill: window fill 0..1 (seconds held / window_s); window_s: seconds of audio the last
    classification used; low_confidence: the window was not full (warm-up) or was silent; silent:
    the window's RMS was below :data:`SILENCE_RMS`; features_ms / model_ms / inference_ms: time spent
    on resampling + features, on the model, and in total (ms) for the last classification; count:
    classifications so far; error: one-line message of the last failure (a model-load failure stays;
    a failed classification step is cleared by the next successful one; ``None`` if none);
    lost_frames: tap frames lost so far; updated: ``time.monotonic()`` of the last classification
    (0 = never).
    """

    labels: tuple[str, ...] = ()
    probabilities: tuple[float, ...] = ()
    top3: tuple[tuple[str, float], ...] = ()
    fill: float = 0.0
    window_s: float = 0.0
    low_confidence: bool = True
    silent: bool = False
    features_ms: float = 0.0
    model_ms: float = 0.0
    inference_ms: float = 0.0
    count: int = 0
    error: str | None = None
    lost_frames: int = 0
    updated: float = 0.0

    def as_dict(self) -> dict:
        """A JSON-ready dict (probabilities keyed by label)."""
        d = asdict(self)
        d["probabilities"] = dict(zip(self.labels, self.probabilities))
        d["top3"] = [list(t) for t in self.top3]
        d["labels"] = list(self.labels)
        return d


class ClassifierWorker:
    """Classifies what an engine plays, on its own daemon thread.

    Parameters
    ----------
    engine : Engine
        The engine to listen to (only its arena is read).
    model_path : str or Path
        The ONNX model (card beside it).  A load failure is recorded in ``snapshot.error``; the worker
        then keeps reading the tap (fill and lost frames stay current) but does not classify.
    interval_s : float
        Seconds of new audio between classifications (1.5 s).
    window_s : float
        Seconds of audio classified (30 s, as the training clips).
    warmup_s : float
        First classification once this many seconds are held (5 s); results are low-confidence until
        the window is full.
    channel : int or str
        Tap channel (see :class:`~livehost.ml.tap.TapReader`): 0 = input (default), ``"output"``...
    poll_s : float
        How often the thread drains the tap (s); must stay well under the ring's length (~5 s at 48 kHz).
    """

    def __init__(self, engine, model_path, interval_s: float = 1.5, window_s: float = 30.0,
                 warmup_s: float = 5.0, channel: int | str = 0, poll_s: float = 0.1):
        from livehost.ml.tap import TapReader

        if not 0 < warmup_s <= window_s:
            raise ValueError("warmup_s must be in (0, window_s]")
        self.reader = TapReader(engine, channel)
        self.sr = float(engine.sr)
        self.model_path = Path(model_path)
        self.interval_s = float(interval_s)
        self.window_s = float(window_s)
        self.warmup_s = float(warmup_s)
        self.poll_s = float(poll_s)
        # raw window at the engine rate, plus 10 ms so the resampler's start-up edge falls outside it
        self._cap = int(math.ceil((self.window_s + 0.01) * self.sr))
        self._ring = np.zeros(self._cap)
        self._held = 0  # frames in the ring (<= cap)
        self._wpos = 0  # next write index
        self._since = 0  # frames since the last classification
        self._count = 0
        self.model: GenreModel | None = None
        self._load_error: str | None = None
        self._snap = ClassifierSnapshot()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._loaded = False

    # ---- state --------------------------------------------------------------------------------
    @property
    def snapshot(self) -> ClassifierSnapshot:
        """The latest published state (an immutable object; read it without locking)."""
        return self._snap

    @property
    def held_s(self) -> float:
        """Seconds of audio in the window now."""
        return min(self._held, self._cap) / self.sr

    def _publish(self, **changes) -> None:
        base = self._snap
        fields = asdict(base)
        fields.update(fill=min(1.0, self._held / (self.window_s * self.sr)), lost_frames=self.reader.lost)
        fields.update(changes)
        fields["top3"] = tuple(tuple(t) for t in fields["top3"])
        self._snap = ClassifierSnapshot(**fields)  # one reference assignment: atomic for readers

    def load(self) -> bool:
        """Load the model (once); on failure record the error in the snapshot.  True if loaded."""
        if not self._loaded:
            self._loaded = True
            try:
                self.model = GenreModel(self.model_path)
            except LivehostError as exc:
                self._load_error = str(exc)
            except Exception as exc:  # noqa: BLE001  (never let a model problem reach the caller)
                self._load_error = f"{self.model_path}: cannot load the genre model: {_one_line(exc)}"
            if self._load_error:
                self._publish(error=self._load_error)
        return self.model is not None

    # ---- work ---------------------------------------------------------------------------------
    def _append(self, x: np.ndarray) -> None:
        n = len(x)
        if n >= self._cap:
            self._ring[:] = x[-self._cap:]
            self._wpos = 0
            self._held = self._cap
            return
        end = self._wpos + n
        if end <= self._cap:
            self._ring[self._wpos:end] = x
        else:
            k = self._cap - self._wpos
            self._ring[self._wpos:] = x[:k]
            self._ring[:n - k] = x[k:]
        self._wpos = end % self._cap
        self._held = min(self._cap, self._held + n)

    def window(self) -> np.ndarray:
        """The held audio (engine rate, oldest first, at most ``window_s`` + 10 ms)."""
        if self._held < self._cap:
            start = (self._wpos - self._held) % self._cap
            if start + self._held <= self._cap:
                return self._ring[start:start + self._held].copy()
        return np.concatenate([self._ring[self._wpos:], self._ring[:self._wpos]])[-self._held:]

    def poll(self, force: bool = False) -> bool:
        """Drain the tap; classify if due (or ``force`` and at least warm-up held).  True if it classified.

        Called by the thread every ``poll_s``; tests and offline tools may call it directly.
        """
        x = self.reader.read()
        if len(x):
            self._append(x)
            self._since += len(x)
        ok = self.load()
        due = self._count == 0 or self._since >= self.interval_s * self.sr
        if not ok or self.held_s < self.warmup_s or not (due or force):
            if len(x) or self._snap.lost_frames != self.reader.lost:
                self._publish()
            return False
        self.classify()
        return True

    def classify(self) -> ClassifierSnapshot:
        """Classify the held window now (resample to 22050 Hz, 57 features, model) and publish."""
        from livehost.ml.features import SR, resample_to

        assert self.model is not None
        t0 = time.perf_counter()
        raw = self.window()
        y = resample_to(raw, self.sr, SR) if self.sr != SR else raw
        n_keep = int(self.window_s * SR)
        y = y[-n_keep:]
        silent = bool(np.sqrt(np.mean(y * y)) < SILENCE_RMS) if y.size else True
        if self.model.kind == "gtzan57":
            from livehost.ml.features import clip_features

            feats = clip_features(y)
            t1 = time.perf_counter()
            p = self.model.predict(feats)
        else:
            t1 = time.perf_counter()
            p = self.model.predict_audio(y)
        t2 = time.perf_counter()
        self._since = 0
        self._count += 1
        full = self._held / self.sr >= self.window_s
        self._publish(labels=tuple(self.model.labels), probabilities=tuple(float(v) for v in p),
                      top3=tuple(self.model.top(p, 3)), window_s=len(y) / SR,
                      low_confidence=(not full) or silent, silent=silent,
                      features_ms=1000 * (t1 - t0), model_ms=1000 * (t2 - t1), inference_ms=1000 * (t2 - t0),
                      count=self._count, error=self._load_error, updated=time.monotonic())
        return self._snap

    # ---- thread -------------------------------------------------------------------------------
    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self.poll()
            except Exception as exc:  # noqa: BLE001  (record, keep listening)
                self._publish(error=f"classification failed: {_one_line(exc)}")
            self._stop.wait(self.poll_s)

    def start(self) -> "ClassifierWorker":
        """Start the daemon thread (returns self)."""
        if self._thread is None or not self._thread.is_alive():
            self._stop.clear()
            self._thread = threading.Thread(target=self._run, name="livehost-genre", daemon=True)
            self._thread.start()
        return self

    def stop(self, timeout: float = 5.0) -> None:
        """Ask the thread to stop and wait up to ``timeout`` s for it."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)

    @property
    def alive(self) -> bool:
        """True while the thread runs."""
        return self._thread is not None and self._thread.is_alive()

    def __enter__(self) -> "ClassifierWorker":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()
