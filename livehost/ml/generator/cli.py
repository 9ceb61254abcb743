"""Command line of the generator: ``livehost train generator ...`` and ``livehost generate ...``.

The main CLI wires these with :func:`add_train_parser` (on the ``train`` subcommand's subparsers) and
:func:`add_generate_parser`; :func:`add_parser` registers both as top-level ``train-generator`` and
``generate`` for a CLI without a ``train`` group.
"""

from __future__ import annotations

import argparse
import shlex
import sys

import numpy as np

from livehost.errors import LivehostError


def _train_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--kind", choices=("spectral", "waveform"), default="spectral",
                   help="spectral: log-mel frames + RTPGHI phase; waveform: frames of samples")
    p.add_argument("--audio", required=True, help="training audio: a file or a folder of .wav/.flac/.ogg")
    p.add_argument("--out", required=True, help="model to write (models/generator-NAME.onnx); card beside it")
    p.add_argument("--stages", type=int, default=4, help="checkpoints (export + clip + PNG) during training")
    p.add_argument("--epochs", type=int, default=100, help="passes over the training frames")
    p.add_argument("--seed", type=int, default=0, help="random seed (torch, batches, generation)")
    p.add_argument("--hidden", type=int, default=160, help="LSTM units per layer")
    p.add_argument("--layers", type=int, default=2, help="LSTM layers")
    p.add_argument("--seq", type=int, default=96, help="frames per training window")
    p.add_argument("--batch", type=int, default=16, help="windows per batch")
    p.add_argument("--lr", type=float, default=3e-3, help="Adam learning rate (cosine-decayed)")
    p.add_argument("--input-noise", type=float, default=0.3, help="training input noise (feature std units)")
    p.add_argument("--temperature", type=float, default=0.3, help="default generation temperature for the card")
    p.add_argument("--samplerate", type=int, default=16000, help="model sample rate (Hz)")
    p.add_argument("--hop", type=int, default=256, help="samples per model step")
    p.add_argument("--n-fft", type=int, default=1024, help="STFT size (spectral)")
    p.add_argument("--n-mels", type=int, default=80, help="mel bands (spectral; 0 = linear STFT bins)")
    p.add_argument("--clip", type=float, default=4.0, help="seconds of audio generated at each stage")
    p.add_argument("--stage-dir", default=None, help="folder for stage files (default OUT.stages/)")
    p.add_argument("--describe", default="", help="training data description for the card")
    p.add_argument("--threads", type=int, default=1, help="torch CPU threads")
    p.set_defaults(func=cmd_train)


def _canonical(args) -> str:
    """The full command (every option explicit) that repeats this training run."""
    parts = ["livehost", "train", "generator", "--kind", args.kind, "--audio", args.audio, "--out", args.out,
             "--stages", args.stages, "--epochs", args.epochs, "--seed", args.seed, "--hidden", args.hidden,
             "--layers", args.layers, "--seq", args.seq, "--batch", args.batch, "--lr", args.lr,
             "--input-noise", args.input_noise, "--temperature", args.temperature,
             "--samplerate", args.samplerate, "--hop", args.hop, "--n-fft", args.n_fft, "--n-mels", args.n_mels,
             "--clip", args.clip, "--threads", args.threads]
    if args.describe:
        parts += ["--describe", args.describe]
    if args.stage_dir:
        parts += ["--stage-dir", args.stage_dir]
    return " ".join(shlex.quote(str(x)) for x in parts)


def cmd_train(args) -> int:
    """Run a training (progress on stderr), print a summary line."""
    try:
        import torch  # noqa: F401
    except ImportError:
        raise LivehostError("training needs torch: pip install 'livehost[train]'") from None
    from livehost.ml.generator.train import train

    card = train(args.audio, args.out, kind=args.kind, stages=args.stages, epochs=args.epochs, seed=args.seed,
                 hidden=args.hidden, layers=args.layers, seq=args.seq, batch=args.batch, lr=args.lr,
                 input_noise=args.input_noise, sr=args.samplerate, hop=args.hop, n_fft=args.n_fft,
                 n_mels=args.n_mels, clip_s=args.clip, stage_dir=args.stage_dir, threads=args.threads,
                 describe=args.describe, command=_canonical(args), temperature=args.temperature)
    st = card["stages"][-1]
    print(f"wrote {args.out} ({card['onnx_bytes'] / 1e6:.2f} MB, {card['model']['params']} params): "
          f"train loss {st['train_loss']:.4f}, val loss {st['val_loss']:.4f}, "
          f"onnx stream diff {card['onnx_stream_max_abs_diff']:.2g}")
    return 0


def _generate_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--model", required=True, help="generator model (.onnx with its .card.json)")
    p.add_argument("--seconds", type=float, default=10.0, help="length to render (s)")
    p.add_argument("--output", required=True, help="audio file to write (.wav/.flac)")
    p.add_argument("--prime", default=None, help="audio file to continue from (its end primes the model)")
    p.add_argument("--prime-seconds", type=float, default=4.0, help="seconds of --prime used (its end)")
    p.add_argument("--seed", type=int, default=0, help="noise seed (same seed, same audio)")
    p.add_argument("--temperature", type=float, default=None, help="input noise (default: the card's)")
    p.add_argument("--samplerate", type=int, default=None, help="resample the output to this rate (Hz)")
    p.set_defaults(func=cmd_generate)


def cmd_generate(args) -> int:
    """Render ``--seconds`` of generated audio offline."""
    from livehost import audiofile
    from livehost.ml.generator.worker import FrameGenerator, StreamResampler

    if not args.seconds > 0:
        raise LivehostError("--seconds must be positive")
    gen = FrameGenerator(args.model, seed=args.seed)
    if args.temperature is not None:
        gen.temperature = float(args.temperature)
    if args.prime:
        x, _ = audiofile.read(args.prime, sr=gen.sr, stereo=False)
        y = x.mean(axis=1)[-int(args.prime_seconds * gen.sr):]
        gen.prime(y)
    out = gen.generate(args.seconds)
    sr = gen.sr
    if args.samplerate and int(args.samplerate) != sr:
        out = StreamResampler(sr, args.samplerate).process(np.concatenate([out, np.zeros(64)]))
        out = out[:int(round(args.seconds * args.samplerate))]
        sr = int(args.samplerate)
    audiofile.write(args.output, out[:, None].astype(np.float32), sr)
    peak = float(np.max(np.abs(out))) if out.size else 0.0
    print(f"wrote {args.output}: {len(out) / sr:.2f} s at {sr} Hz, peak {peak:.3f}", file=sys.stderr)
    return 0


def add_train_parser(train_subparsers) -> argparse.ArgumentParser:
    """Register ``generator`` on the ``train`` subcommand's subparsers; returns its parser."""
    p = train_subparsers.add_parser("generator", help="train an LSTM audio generator and export it to ONNX")
    _train_args(p)
    return p


def add_generate_parser(subparsers) -> argparse.ArgumentParser:
    """Register the top-level ``generate`` subcommand; returns its parser."""
    p = subparsers.add_parser("generate", help="render audio from a generator model, offline")
    _generate_args(p)
    return p


def add_parser(subparsers) -> None:
    """Register ``train-generator`` and ``generate`` as top-level subcommands."""
    p = subparsers.add_parser("train-generator", help="train an LSTM audio generator and export it to ONNX")
    _train_args(p)
    add_generate_parser(subparsers)
