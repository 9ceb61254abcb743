"""Training a generator model on a performer's audio (torch, CPU), stage by stage.

    livehost train generator --kind spectral --audio FILE_OR_DIR --out models/generator-NAME.onnx \
        --stages 4 --epochs 200 [--seed 0]

Audio is mixed to mono and resampled to the model rate; its frames (see :mod:`.model`) are split in
time: the first 90 % train, the last 10 % validate.  Each batch is ``--batch`` random windows of
``--seq`` frames; the LSTM predicts frame t+1 from frames ..t (teacher forcing) with Gaussian noise of
``--input-noise`` standard deviations added to its inputs, which keeps free-running generation stable.
Loss: mean squared error of standardised frames.  One epoch = enough windows to cover the training
frames once.

At ``--stages`` evenly spaced points the model is exported (``<stage dir>/stageK.onnx`` + card) and a
short clip is generated from it (``stageK.wav``) with its spectrogram (``stageK.png``); at the end the
last stage becomes ``--out`` with its card (``.card.json``) and a stage-by-stage comparison image
(``.stages.png``).
"""

from __future__ import annotations

import math
import os
import shlex
import shutil
import sys
import time
from pathlib import Path

import numpy as np

from livehost import audiofile
from livehost.errors import LivehostError
from livehost.ml.card import write_card
from livehost.ml.generator.closeness import CARD_SECONDS, measure_model
from livehost.ml.generator.model import FeatureSetup, make_net, n_params
from livehost.ml.generator.trainaudio import load_audio
from livehost.ml.generator.worker import CARD_FORMAT, card_path

class Progress:
    """A one-line progress bar on stderr (``\\r`` updates; a newline at :meth:`close`)."""

    def __init__(self, total: int, stream=None, width: int = 28):
        self.total, self.width = max(1, total), width
        self.stream = stream or sys.stderr
        self.t0 = time.monotonic()

    def update(self, done: int, text: str) -> None:
        """Show ``done`` of ``total`` and a status text."""
        f = min(1.0, done / self.total)
        k = int(f * self.width)
        el = time.monotonic() - self.t0
        eta = el / f - el if f > 0 else 0.0
        self.stream.write(f"\r[{'#' * k}{'.' * (self.width - k)}] {100 * f:5.1f}% {text}  eta {eta:4.0f}s ")
        self.stream.flush()

    def close(self) -> None:
        """End the line."""
        self.stream.write("\n")
        self.stream.flush()


# --------------------------------------------------------------------------------------------------
# spectrogram images
# --------------------------------------------------------------------------------------------------

_CMAP = np.array([[0, 0, 4], [40, 11, 84], [101, 21, 110], [159, 42, 99], [212, 72, 66], [245, 125, 21],
                  [250, 193, 39], [252, 255, 164]], np.float64)


def spectrogram_rgb(y: np.ndarray, sr: int, height: int = 160, top_db: float = 70.0) -> np.ndarray:
    """An RGB image (height, frames, 3) of the log-magnitude STFT of ``y`` (low frequencies at the
    bottom; n_fft 1024, hop 256 at 16 kHz, scaled with the rate)."""
    from livehost.ml.generator.rtpghi import stft

    n_fft = int(2 ** round(math.log2(1024 * sr / 16000)))
    hop = n_fft // 4
    S = np.abs(stft(np.asarray(y, np.float64), n_fft, hop)).T  # bins x frames
    db = 20 * np.log10(S + 1e-9)
    db = np.clip((db - (db.max() - top_db)) / top_db, 0.0, 1.0)
    # rows: bins resampled to ``height`` rows
    idx = np.linspace(0, S.shape[0] - 1, height).round().astype(int)
    v = db[idx][::-1]
    pos = v * (len(_CMAP) - 1)
    i = np.minimum(pos.astype(int), len(_CMAP) - 2)
    f = (pos - i)[..., None]
    return (_CMAP[i] * (1 - f) + _CMAP[i + 1] * f).astype(np.uint8)


def labelled_png(path: str | os.PathLike, panels: list[tuple[str, np.ndarray]]) -> Path:
    """Stack spectrogram panels vertically, each under a text label; write a PNG."""
    from livehost.ml.card import _draw_text, write_png

    w = max(p.shape[1] for _, p in panels) + 16
    rows = []
    for label, img in panels:
        strip = np.full((22, w, 3), 255, np.uint8)
        _draw_text(strip, 8, 6, label, 2)
        body = np.full((img.shape[0] + 6, w, 3), 255, np.uint8)
        body[0:img.shape[0], 8:8 + img.shape[1]] = img
        rows += [strip, body]
    return write_png(path, np.concatenate(rows))


# --------------------------------------------------------------------------------------------------
# training
# --------------------------------------------------------------------------------------------------


def _windows(rng, n_frames: int, seq: int, batch: int) -> np.ndarray:
    return rng.integers(0, n_frames - seq - 1, size=batch)


def train(audio: str, out: str, kind: str = "spectral", stages: int = 4, epochs: int = 100, seed: int = 0,
          hidden: int = 160, layers: int = 2, seq: int = 96, batch: int = 16, lr: float = 3e-3,
          input_noise: float = 0.3, sr: int = 16000, hop: int = 256, n_fft: int = 1024, n_mels: int = 80,
          clip_s: float = 4.0, stage_dir: str | None = None, threads: int = 1, describe: str = "",
          command: str | None = None, quiet: bool = False, temperature: float = 0.3,
          closeness_s: float = CARD_SECONDS) -> dict:
    """Train, export stage by stage, write the model and its card; returns the card (dict).

    Units: sr and hop in Hz / samples, clip_s in seconds, lr per Adam step, input_noise and
    temperature in feature standard deviations.  The card's ``closeness`` is the final model's
    log-mel distance (dB) to the held-out audio over ``closeness_s`` seconds of generation
    (:func:`livehost.ml.generator.closeness.measure_model`).
    """
    import torch

    from livehost.ml.generator.export import check_stream, export_stream_onnx
    from livehost.ml.generator.worker import FrameGenerator

    if stages < 1 or epochs < stages:
        raise LivehostError(f"--stages {stages} must be >= 1 and <= --epochs {epochs}")
    torch.manual_seed(seed)
    torch.set_num_threads(max(1, threads))
    rng = np.random.default_rng(seed)
    setup = FeatureSetup(kind=kind, sr=sr, hop=hop, n_fft=n_fft, n_mels=n_mels if kind == "spectral" else 0,
                         fmax=sr / 2.0)
    y, files = load_audio(audio, sr)
    frames = setup.analyze(y)
    n_val = max(seq + 2, len(frames) // 10)
    if len(frames) - n_val < seq + 2:
        need = (2 * seq + 4) * hop / sr
        raise LivehostError(f"{audio}: too little audio ({len(y) / sr:.2f} s; at least {need:.1f} s needed)")
    tr, va = frames[:-n_val], frames[-n_val:]
    if kind == "waveform":
        mean = np.zeros(setup.dim, np.float32)
        std = np.full(setup.dim, max(1e-4, float(tr.std())), np.float32)
    else:
        mean = tr.mean(axis=0).astype(np.float32)
        std = np.maximum(tr.std(axis=0), 1e-2).astype(np.float32)
    net = make_net(setup.dim, hidden, layers, mean, std)
    opt = torch.optim.Adam(net.parameters(), lr=lr)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=epochs, eta_min=lr * 0.05)
    ztr = torch.as_tensor((tr - mean) / std)
    zva = torch.as_tensor((va - mean) / std)
    per_epoch = max(1, math.ceil(len(tr) / (seq * batch)))
    stage_epochs = sorted({max(1, round(epochs * (k + 1) / stages)) for k in range(stages)})
    outp = Path(out)
    sdir = Path(stage_dir) if stage_dir else outp.with_name(outp.stem + ".stages")
    sdir.mkdir(parents=True, exist_ok=True)
    outp.parent.mkdir(parents=True, exist_ok=True)
    card = {
        "format": CARD_FORMAT,
        "kind": kind,
        "sample_rate": sr,
        "frame": hop if kind == "waveform" else n_fft,
        "hop": hop,
        "features": setup.to_dict(),
        "model": {"arch": "lstm", "dim": setup.dim, "hidden": hidden, "layers": layers,
                  "params": n_params(net), "inputs": ["x", "h0", "c0"], "outputs": ["y", "h", "c"],
                  "step_samples": hop, "step_ms": 1000.0 * hop / sr},
        "normalization": {"mean": [float(v) for v in mean], "std": [float(v) for v in std]},
        "training_data": {"description": describe or f"{len(files)} file(s), {len(y) / sr:.1f} s",
                          "files": files, "seconds": round(len(y) / sr, 3),
                          "train_frames": len(tr), "val_frames": len(va)},
        "training": {"epochs": epochs, "stages": stages, "batch": batch, "seq_frames": seq, "lr": lr,
                     "optimizer": "adam + cosine", "input_noise": input_noise, "loss": "mse (standardised)",
                     "batches_per_epoch": per_epoch},
        "default_temperature": temperature,
        "seed": seed,
        "torch_version": torch.__version__,
        "command": command or "",
        "stages": [],
    }
    bar = None if quiet else Progress(epochs)
    t0 = time.monotonic()
    panels = []
    train_loss = float("nan")
    for ep in range(1, epochs + 1):
        net.train()
        tot = 0.0
        for _ in range(per_epoch):
            st = _windows(rng, len(tr), seq, batch)
            idx = st[:, None] + np.arange(seq + 1)[None, :]
            zb = ztr[torch.as_tensor(idx)]
            zin = zb[:, :-1] + input_noise * torch.randn(zb[:, :-1].shape)
            h, c = net.zero_state(batch)
            pred, _, _ = net.forward_norm(zin, h, c)
            loss = torch.mean((pred - zb[:, 1:]) ** 2)
            opt.zero_grad()
            loss.backward()
            torch.nn.utils.clip_grad_norm_(net.parameters(), 1.0)
            opt.step()
            tot += float(loss.detach())
        sched.step()
        train_loss = tot / per_epoch
        val_loss = _val_loss(net, zva)
        if bar:
            bar.update(ep, f"epoch {ep}/{epochs} loss {train_loss:.4f} val {val_loss:.4f}")
        if ep in stage_epochs:
            k = stage_epochs.index(ep) + 1
            init = _init_state(net, tr, seq * 2)
            card_k = dict(card, init=init)
            sp = sdir / f"stage{k}.onnx"
            export_stream_onnx(net, sp)
            write_card(card_path(sp), dict(card_k, stages=list(card["stages"])), indent=1)
            gen = FrameGenerator(sp, seed=seed)
            gen.temperature = temperature
            clip = gen.generate(clip_s)
            audiofile.write(sdir / f"stage{k}.wav", clip[:, None].astype(np.float32), sr)
            label = f"stage {k} - epoch {ep} - val {val_loss:.3f}"
            img = spectrogram_rgb(clip, sr)
            labelled_png(sdir / f"stage{k}.png", [(label, img)])
            panels.append((label, img))
            card["stages"].append({"stage": k, "epoch": ep, "train_loss": round(train_loss, 6),
                                   "val_loss": round(val_loss, 6), "seconds": round(time.monotonic() - t0, 1),
                                   "onnx": str(sp), "clip": str(sdir / f"stage{k}.wav"),
                                   "png": str(sdir / f"stage{k}.png"),
                                   "clip_rms_db": round(20 * math.log10(float(np.sqrt(np.mean(clip ** 2))) + 1e-12), 2)})
    if bar:
        bar.close()
    # the final model: the last stage
    final_onnx = sdir / f"stage{len(stage_epochs)}.onnx"
    shutil.copyfile(final_onnx, outp)
    check_frames = va[: min(len(va), 200)]
    diff = check_stream(net, outp, check_frames, tol=1e-5)
    panels.insert(0, ("training audio", spectrogram_rgb(y[: int(clip_s * sr)], sr)))
    png = labelled_png(outp.with_name(outp.stem + ".stages.png"), panels)
    card.update(init=_init_state(net, tr, seq * 2), onnx_stream_max_abs_diff=diff,
                train_seconds=round(time.monotonic() - t0, 1), stages_png=str(png),
                onnx_bytes=os.path.getsize(outp), final_val_loss=card["stages"][-1]["val_loss"],
                final_train_loss=card["stages"][-1]["train_loss"])
    write_card(card_path(outp), card, indent=1)
    # the finished model (its card beside it) measured against the held-out audio, into its card
    card["closeness"] = measure_model(outp, y, len(va), seconds=closeness_s, seed=seed)
    write_card(card_path(outp), card, indent=1)
    return card


def _val_loss(net, zva) -> float:
    import torch

    net.eval()
    with torch.no_grad():
        h, c = net.zero_state(1)
        pred, _, _ = net.forward_norm(zva[None, :-1], h, c)
        return float(torch.mean((pred[0] - zva[1:]) ** 2))


def _init_state(net, frames: np.ndarray, n: int) -> dict:
    """LSTM state after the first ``n`` training frames, and the frame to feed next (raw units)."""
    import torch

    n = max(2, min(n, len(frames)))
    net.eval()
    with torch.no_grad():
        h, c = net.zero_state(1)
        _, h, c = net(torch.as_tensor(frames[None, :n - 1]), h, c)
    return {"x": [float(v) for v in frames[n - 1]], "h": [float(v) for v in h.numpy().ravel()],
            "c": [float(v) for v in c.numpy().ravel()], "frames": int(n)}


def command_line(argv: list[str] | None) -> str:
    """The exact command that reproduces a run (``livehost train generator ...``)."""
    return "livehost train generator " + " ".join(shlex.quote(a) for a in (argv or []))
