"""The genre classifiers as torch modules (training side only: importing this module imports torch).

Three architectures, after the article this project grew from:

* :class:`EnsembleMLP` (``--arch mlp``): the 57 GTZAN clip features -> class probabilities.  ``S``
  independently initialised members are stored as batched weight tensors ``(S, in, out)`` so they
  train in one pass and export as one ONNX graph that averages their softmax outputs.  The input
  preprocessing is part of the module (and so of the exported graph): ``log(x + eps)`` on the
  variance columns, then standardisation ``(x - mean) / std`` with statistics fitted on the training
  rows only.  The runtime therefore feeds raw feature values in ``FEATURE_NAMES`` order.
* :class:`PatchLSTM` (``--arch lstm``): a sequence of per-frame MFCC vectors (one ~3 s patch,
  ``(frames, n_mfcc)``) -> probabilities, via a one-layer LSTM over time.
* :class:`PatchCNN` (``--arch cnn``): a log-mel patch ``(n_mels, frames)`` (dB) -> probabilities, via a
  small 2-D convolutional network.

Every module's ``forward`` returns **probabilities** (rows summing to 1); ``logits`` gives the
per-member logits the training loss uses.  Inputs are float32, batch first.
"""

from __future__ import annotations

import math

import numpy as np
import torch
from torch import nn

__all__ = ["Preprocess", "EnsembleMLP", "PatchLSTM", "PatchCNN"]


class Preprocess(nn.Module):
    """Fixed input transform baked into the graph: ``log(x + eps)`` on masked columns, then standardise.

    Parameters
    ----------
    mean, std : array (n,)
        Per-column statistics of the (log-transformed) training rows; ``std`` is floored at 1e-12.
    log_mask : array of bool (n,), optional
        Columns to log-transform (the non-negative ``*_var`` columns); ``None`` for none.
    log_eps : array (n,), optional
        Per-column offset added before the log (same units as the column), keeping silence finite.
    """

    def __init__(self, mean, std, log_mask=None, log_eps=None):
        super().__init__()
        n = len(mean)
        mask = np.zeros(n, bool) if log_mask is None else np.asarray(log_mask, bool)
        eps = np.ones(n) if log_eps is None else np.asarray(log_eps, np.float64)
        self.register_buffer("mean", torch.tensor(np.asarray(mean, np.float64), dtype=torch.float32))
        self.register_buffer("inv_std", torch.tensor(1.0 / np.maximum(np.asarray(std, np.float64), 1e-12),
                                                     dtype=torch.float32))
        self.register_buffer("log_mask", torch.tensor(mask.astype(np.float32)))
        self.register_buffer("log_eps", torch.tensor(np.where(mask, eps, 1.0), dtype=torch.float32))
        self.any_log = bool(mask.any())

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.any_log:
            # log only where masked; clamp keeps negative garbage in a var column finite
            logged = torch.log(torch.clamp(x, min=0.0) + self.log_eps)
            x = self.log_mask * logged + (1.0 - self.log_mask) * x
        return (x - self.mean) * self.inv_std


def fit_preprocess(X: np.ndarray, log_mask=None, eps_rel: float = 1e-2) -> Preprocess:
    """A :class:`Preprocess` fitted on training rows ``X`` (n_rows, n_cols), raw feature units.

    ``log_eps`` of a logged column is ``eps_rel`` times the column's median (a scale-free floor).
    """
    X = np.asarray(X, np.float64)
    mask = np.zeros(X.shape[1], bool) if log_mask is None else np.asarray(log_mask, bool)
    med = np.median(np.clip(X, 0.0, None), axis=0)
    eps = np.where(mask, np.maximum(eps_rel * med, 1e-12), 1.0)
    Z = X.copy()
    Z[:, mask] = np.log(np.clip(X[:, mask], 0.0, None) + eps[mask])
    return Preprocess(Z.mean(axis=0), Z.std(axis=0), mask, eps)


class EnsembleMLP(nn.Module):
    """``members`` MLPs ``in -> hidden... -> n_classes`` (ReLU, dropout), averaged in probability.

    Weights are batched ``(members, fan_in, fan_out)`` so all members run as one ``matmul``; each member
    has its own initialisation (PyTorch's default ``Linear`` init, drawn member by member).
    """

    def __init__(self, n_in: int, n_classes: int, hidden=(512, 256), dropout: float = 0.4,
                 members: int = 5, pre: Preprocess | None = None):
        super().__init__()
        self.pre = pre if pre is not None else Preprocess(np.zeros(n_in), np.ones(n_in))
        self.members = int(members)
        self.dropout = float(dropout)
        dims = [n_in, *hidden, n_classes]
        self.weights = nn.ParameterList()
        self.biases = nn.ParameterList()
        for fan_in, fan_out in zip(dims[:-1], dims[1:]):
            bound = 1.0 / math.sqrt(fan_in)
            w = torch.empty(self.members, fan_in, fan_out).uniform_(-bound, bound)
            b = torch.empty(self.members, 1, fan_out).uniform_(-bound, bound)
            self.weights.append(nn.Parameter(w))
            self.biases.append(nn.Parameter(b))

    def member_logits(self, z: torch.Tensor) -> torch.Tensor:
        """Logits ``(members, batch, classes)`` from standardised input ``z``: ``(batch, in)`` (shared by
        all members) or ``(members, batch, in)`` (a different minibatch per member, training)."""
        h = z if z.dim() == 3 else z.unsqueeze(0).expand(self.members, -1, -1)
        last = len(self.weights) - 1
        for i, (w, b) in enumerate(zip(self.weights, self.biases)):
            h = torch.matmul(h, w) + b
            if i < last:
                h = torch.relu(h)
                if self.training and self.dropout > 0:
                    h = nn.functional.dropout(h, self.dropout, training=True)
        return h

    def logits(self, x: torch.Tensor) -> torch.Tensor:
        """Per-member logits ``(members, batch, classes)`` of raw features ``x``: ``(batch, in)`` or
        ``(members, batch, in)``."""
        return self.member_logits(self.pre(x))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Probabilities ``(batch, classes)``: the mean of the members' softmax outputs."""
        return torch.softmax(self.logits(x), dim=-1).mean(dim=0)


class PatchLSTM(nn.Module):
    """MFCC sequence ``(batch, frames, n_mfcc)`` -> probabilities ``(batch, classes)``.

    Per-coefficient standardisation (``mean``/``std`` fitted on training frames) is the first step;
    then a one-layer LSTM; the mean of its hidden outputs over time feeds a linear classifier.
    """

    def __init__(self, n_in: int, n_classes: int, hidden: int = 64, mean=None, std=None):
        super().__init__()
        self.pre = Preprocess(np.zeros(n_in) if mean is None else mean, np.ones(n_in) if std is None else std)
        self.lstm = nn.LSTM(n_in, hidden, num_layers=1, batch_first=True)
        self.drop = nn.Dropout(0.3)
        self.out = nn.Linear(hidden, n_classes)

    def logits(self, x: torch.Tensor) -> torch.Tensor:
        """Logits ``(1, batch, classes)`` (a one-member ensemble, same shape as :class:`EnsembleMLP`)."""
        y, _ = self.lstm(self.pre(x))
        return self.out(self.drop(y.mean(dim=1))).unsqueeze(0)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.softmax(self.logits(x)[0], dim=-1)


class PatchCNN(nn.Module):
    """Log-mel patch ``(batch, n_mels, frames)`` in dB -> probabilities ``(batch, classes)``.

    A global standardisation (one mean/std over all training values) is the first step, then three
    conv (3x3) + batch-norm + ReLU + 2x2 max-pool stages, global average pooling and a linear layer.
    """

    def __init__(self, n_classes: int, channels=(16, 32, 64), mean: float = 0.0, std: float = 1.0):
        super().__init__()
        self.register_buffer("mean", torch.tensor(float(mean)))
        self.register_buffer("inv_std", torch.tensor(1.0 / max(float(std), 1e-12)))
        layers = []
        c_in = 1
        for c in channels:
            layers += [nn.Conv2d(c_in, c, 3, padding=1), nn.BatchNorm2d(c), nn.ReLU(), nn.MaxPool2d(2)]
            c_in = c
        self.features = nn.Sequential(*layers)
        self.drop = nn.Dropout(0.3)
        self.out = nn.Linear(c_in, n_classes)

    def logits(self, x: torch.Tensor) -> torch.Tensor:
        z = ((x - self.mean) * self.inv_std).unsqueeze(1)
        h = self.features(z).mean(dim=(2, 3))
        return self.out(self.drop(h)).unsqueeze(0)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.softmax(self.logits(x)[0], dim=-1)
