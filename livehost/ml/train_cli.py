"""``livehost train classifier``: train a genre classifier, cross-validate it, export ONNX + card.

Needs the training extras (``pip install 'livehost[train]'``: torch, onnx, onnxscript); torch is
imported only when the command runs.
"""

from __future__ import annotations

import argparse
import json
import shlex
import sys

from livehost.errors import LivehostError


def reproduce_command(args: argparse.Namespace) -> str:
    """The canonical command line that reproduces a run (every option that changes the result)."""
    parts = ["livehost", "train", "classifier"]
    if args.features:
        parts += ["--features", args.features]
    else:
        parts += ["--audio", args.audio]
    parts += ["--arch", args.arch, "--cv", str(args.cv), "--seed", str(args.seed)]
    if args.tune:
        parts.append("--tune")
    if args.out:
        parts += ["--out", str(args.out)]
    return " ".join(shlex.quote(p) for p in parts)


def run(args: argparse.Namespace) -> int:
    """Handler of ``train classifier``; prints the summary (JSON with ``--json``); exit code 0."""
    from livehost.ml.train_classifier import default_out, run_training

    if args.features and args.audio:
        raise LivehostError("give either --features CSV or --audio DIR, not both")
    if not args.features and not args.audio:
        raise LivehostError("give --features CSV (a GTZAN feature table) or --audio DIR (genre folders)")
    out = args.out or (None if args.no_export else str(default_out(args.arch)))
    args.out = out
    summary = run_training(features=args.features, audio=args.audio, arch=args.arch, cv=args.cv, seed=args.seed,
                           out=out, tune=args.tune, export=not args.no_export, command=reproduce_command(args),
                           quiet=args.quiet, threads=args.threads)
    stdout = getattr(args, "stdout", None) or sys.stdout
    if args.json:
        stdout.write(json.dumps(summary) + "\n")
    else:
        stdout.write(f"cv accuracy {100 * summary['cv_accuracy_mean']:.1f}% ± {100 * summary['cv_accuracy_std']:.1f}% "
                     f"({summary['cv_folds']} folds by track: "
                     + ", ".join(f"{100 * a:.1f}" for a in summary["cv_fold_accuracies"]) + ")\n")
        if "model" in summary:
            stdout.write(f"model {summary['model']}  card {summary['card']}\n")
    return 0


def add_parser(subparsers) -> argparse.ArgumentParser:
    """Register ``train`` (with its ``classifier`` subcommand) on an argparse subparsers object."""
    p = subparsers.add_parser("train", help="train models (genre classifier, audio generator)",
                              description="Train livehost's models. Needs torch (pip install 'livehost[train]').")
    sub = p.add_subparsers(dest="train_command", metavar="MODEL")
    sub.required = True
    c = sub.add_parser(
        "classifier", help="train a genre classifier and export ONNX + model card",
        description=("Train a genre classifier with track-level stratified k-fold cross-validation, print "
                     "the mean ± std accuracy and the confusion matrix, then train on all tracks, export "
                     "ONNX (preprocessing inside the graph), check it against torch and write the card."))
    src = c.add_mutually_exclusive_group()
    src.add_argument("--features", metavar="CSV", help="a GTZAN-style feature table (features_30_sec.csv)")
    src.add_argument("--audio", metavar="DIR", help="a folder of genre sub-folders of audio files (GTZAN layout)")
    c.add_argument("--arch", choices=("mlp", "lstm", "cnn"), default="mlp",
                   help="mlp: 57 clip features (CSV or audio); lstm: MFCC frames, cnn: log-mel patches (audio only)")
    c.add_argument("--cv", type=int, default=5, help="cross-validation folds, by track (default 5)")
    c.add_argument("--seed", type=int, default=0, help="seed of folds, initialisation and batch order (default 0)")
    c.add_argument("--out", default=None, help="output model (default models/genre_<arch>.onnx; card beside it)")
    c.add_argument("--tune", action="store_true",
                   help="mlp: choose the recipe by nested CV (inner folds only; slow: ~13x the training)")
    c.add_argument("--no-export", action="store_true", help="cross-validate only; write no files")
    c.add_argument("--threads", type=int, default=1, help="torch CPU threads (default 1: deterministic, polite)")
    c.add_argument("--json", action="store_true", help="print the summary as one JSON object on stdout")
    c.add_argument("--quiet", action="store_true", help="no progress bar or report on stderr")
    c.set_defaults(func=run)
    from livehost.ml.generator.cli import add_train_parser

    add_train_parser(sub)  # ``train generator``
    return c
