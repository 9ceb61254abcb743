"""Interval systems: equal divisions (12-EDO, 24-EDO, any N-EDO, Bohlen-Pierce), just ratio lists,
nested systems, and :func:`make_system` (a frequency table from a base frequency).

A *step system* is periodic: ``size`` steps make up one *period* (the interval of equivalence,
``period_cents`` cents; 1200 for an octave, 1901.955 for the Bohlen-Pierce tritave 3/1).  Step ``k``
(any integer, negative allowed) lies ``cents(k)`` cents above step 0::

    q, r = divmod(k, size);  cents(k) = q * period_cents + degree_cents(r)

Played as a tuning, a system's step 0 (its 1/1) sounds at C4 = 261.6256 Hz (:data:`MIDDLE_C_HZ`, on
MIDI note 60: Scala's default mapping) unless a keyboard map or a reference moves it; :func:`steps_hz`,
:func:`step_to_hz` and :func:`hz_to_step` place steps there, so the synth (:mod:`livehost.tuning.tuning`)
and the offline tools name the same frequencies.

Units: cents (1200 per 2/1), frequency ratios (floats or Fractions), Hz.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from fractions import Fraction
from typing import Sequence

import numpy as np

from livehost.tuning.errors import TuningError
from livehost.tuning.intervals import INTERVALS, cents_to_ratio, parse_ratio, ratio_to_cents
from livehost.tuning.names import MIDDLE_C_HZ, name_to_hz


class StepSystem:
    """Base class of periodic step systems (see the module doc).  Subclasses set ``name``,
    ``size`` (steps per period, >= 1) and ``period_cents``, and define :meth:`degree_cents`."""

    name: str
    size: int
    period_cents: float

    def degree_cents(self, degree: int) -> float:
        """Cents of degree ``degree`` (0 <= degree < size) above degree 0; degree 0 is 0 cents."""
        raise NotImplementedError

    def cents(self, step: int) -> float:
        """Cents of step ``step`` (any integer) above step 0."""
        q, r = divmod(int(step), self.size)
        return q * self.period_cents + self.degree_cents(r)

    def ratio(self, step: int) -> float:
        """Frequency ratio of step ``step`` (any integer) to step 0."""
        return cents_to_ratio(self.cents(step))

    def cents_range(self, start: int, count: int) -> np.ndarray:
        """Cents of steps ``start .. start+count-1`` as a float64 array of length ``count``."""
        return np.array([self.cents(k) for k in range(start, start + count)], dtype=np.float64)

    def period_degrees_cents(self) -> list[float]:
        """Cents of degrees 1 .. size (the last one is the period), as a Scala file lists them."""
        return [self.cents(k) for k in range(1, self.size + 1)]

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.name}: {self.size} steps per {self.period_cents:.3f} cents>"


class EqualDivision(StepSystem):
    """``divisions`` equal steps of the interval ``interval`` (a ratio > 0, not 1).

    ``EqualDivision(12)`` is 12-EDO (semitones, 2^(1/12)); ``EqualDivision(13, 3)`` is Bohlen-Pierce.
    """

    def __init__(self, divisions: int, interval: float | Fraction | str = 2, name: str | None = None):
        if isinstance(divisions, bool) or not isinstance(divisions, int) or divisions < 1:
            raise TuningError(f"an equal division needs a whole number of steps >= 1, not {divisions!r}")
        ratio = parse_ratio(interval) if isinstance(interval, str) else interval
        period = ratio_to_cents(ratio)
        if period == 0:
            raise TuningError("cannot divide the unison 1/1 into steps")
        self.divisions = divisions
        self.interval = ratio
        self.size = divisions
        self.period_cents = period
        self.step_cents = period / divisions
        """Size of one step, in cents."""
        if name is None:
            name = f"{divisions}edo" if float(ratio) == 2 else f"{divisions}ed{ratio}"
        self.name = name

    def degree_cents(self, degree: int) -> float:
        """Cents of degree ``degree`` above degree 0 (``degree * step_cents``)."""
        return degree * self.step_cents

    def cents(self, step: int) -> float:
        """Cents of step ``step`` (any integer) above step 0 (``step * step_cents``)."""
        return int(step) * self.step_cents

    @property
    def step_ratio(self) -> float:
        """Frequency ratio of one step (``interval ** (1 / divisions)``)."""
        return cents_to_ratio(self.step_cents)


class PeriodicScale(StepSystem):
    """A scale given by the cents of its degrees inside one period plus the period itself.

    ``degrees_cents``: cents of degrees 1 .. size-1 above degree 0 (degree 0, 0 cents, is implicit);
    ``period_cents``: the interval of equivalence.  This is exactly what a Scala ``.scl`` file holds.
    """

    def __init__(self, degrees_cents: Sequence[float], period_cents: float, name: str = "scale",
                 ratios: Sequence[Fraction] | None = None):
        self._degrees = (0.0, *(float(c) for c in degrees_cents))
        if not all(math.isfinite(c) for c in self._degrees) or not math.isfinite(period_cents):
            raise TuningError(f"scale {name!r} has a pitch that is not a finite number of cents")
        self.size = len(self._degrees)
        self.period_cents = float(period_cents)
        self.name = name
        self.ratios = None if ratios is None else tuple(ratios)
        """The exact ratios (degree 0 .. size-1, then the period) when the scale was given by ratios."""

    def degree_cents(self, degree: int) -> float:
        """Cents of degree ``degree`` (0 <= degree < size) above degree 0."""
        return self._degrees[degree]


class NestedSystem(StepSystem):
    """Every step of ``outer`` divided again by ``inner``: ``inner``'s whole period is mirrored
    (scaled in cents, i.e. logarithmically) inside each step of ``outer``.

    Step ``k`` of the nested system is inner degree ``r`` inside outer step ``q``
    (``q, r = divmod(k, inner.size)``)::

        cents(k) = outer.cents(q) + (outer.cents(q + 1) - outer.cents(q)) * inner.cents(r) / inner.period_cents

    So 12-EDO nested with 3-EDO splits each semitone into 3 equal parts of 33.33 cents (= 36-EDO), and
    12-EDO nested with the just list 1/1 5/4 3/2 (period 2/1) splits each semitone at 38.6% and
    58.5% of its width.  Nesting nests: ``NestedSystem(NestedSystem(a, b), c)`` works.
    """

    def __init__(self, outer: StepSystem, inner: StepSystem, name: str | None = None):
        if inner.period_cents == 0:
            raise TuningError(f"cannot nest {inner.name!r}: its period is 0 cents")
        self.outer = outer
        self.inner = inner
        self.size = outer.size * inner.size
        self.period_cents = outer.period_cents
        self.name = name or f"{outer.name}/{inner.name}"

    def degree_cents(self, degree: int) -> float:
        """Cents of degree ``degree`` (0 <= degree < size) above degree 0."""
        return self.cents(degree)

    def cents(self, step: int) -> float:
        """Cents of step ``step`` (any integer) above step 0 (see the class doc)."""
        q, r = divmod(int(step), self.inner.size)
        lo = self.outer.cents(q)
        width = self.outer.cents(q + 1) - lo
        return lo + width * (self.inner.cents(r) / self.inner.period_cents)


def edo(divisions: int) -> EqualDivision:
    """``divisions``-tone equal division of the octave (N-EDO), named ``"<N>edo"``."""
    return EqualDivision(divisions, 2)


def equal_division(divisions: int, interval: float | Fraction | str, name: str | None = None) -> EqualDivision:
    """``divisions`` equal steps of any interval (a ratio such as ``3``, ``"3/2"`` or ``Fraction(3)``)."""
    return EqualDivision(divisions, interval, name)


def bohlen_pierce() -> EqualDivision:
    """Bohlen-Pierce: 13 equal steps of the tritave 3/1 (146.3 cents each), named ``"bp"``."""
    return EqualDivision(13, Fraction(3), "bp")


SEMITONE = EqualDivision(12, 2, "12edo")
"""12-EDO: steps of a semitone, ratio 2^(1/12), 100 cents."""

QUARTER_TONE = EqualDivision(24, 2, "24edo")
"""24-EDO: steps of a quarter tone, ratio 2^(1/24), 50 cents."""


def just_system(ratios: Sequence[float | Fraction | str], period: float | Fraction | str = 2,
                name: str = "just") -> PeriodicScale:
    """A just-intonation system from a ratio list.

    ``ratios``: the pitches of one period as frequency ratios to the first degree (``"5/4"``,
    ``Fraction(3, 2)``, ``1.5``); a leading 1/1 is optional (it is always degree 0).  ``period``:
    the interval of equivalence (default 2/1), not listed in ``ratios``.
    """
    parsed = [parse_ratio(r) if isinstance(r, str) else r for r in ratios]
    for r in parsed:
        if not float(r) > 0:
            raise TuningError(f"ratio {r} in {name!r} must be greater than 0")
    if parsed and parsed[0] == 1:
        parsed = parsed[1:]
    per = parse_ratio(period) if isinstance(period, str) else period
    exact = [Fraction(1)] + [r if isinstance(r, Fraction) else Fraction(r).limit_denominator(10**9)
                             for r in parsed] + [per if isinstance(per, Fraction) else Fraction(per)]
    return PeriodicScale([ratio_to_cents(r) for r in parsed], ratio_to_cents(per), name, ratios=exact)


JUST_12 = just_system([i.ratio for i in INTERVALS[:-1]], 2, "ji12")
"""The 12-note 5-limit just scale of the interval table (1/1 16/15 9/8 ... 15/8, period 2/1)."""

_NAMED = {
    "semitone": SEMITONE, "quartertone": QUARTER_TONE, "quarter-tone": QUARTER_TONE,
    "bp": bohlen_pierce(), "bohlen-pierce": bohlen_pierce(), "ji12": JUST_12,
}
_EDO_RE = re.compile(r"^(\d+)\s*-?\s*(?:edo|tet|et)$", re.IGNORECASE)
_ED_RE = re.compile(r"^(\d+)\s*ed\s*(\d+(?:/\d+)?)$", re.IGNORECASE)


def system_from_name(name: str) -> StepSystem:
    """A step system from its name.

    ``"12edo"``, ``"19edo"``, ``"31edo"``, any ``"<N>edo"`` (N-EDO; ``"<N>tet"``, ``"<N>-et"`` too); ``"<N>ed<R>"`` (N equal steps of
    the ratio R, e.g. ``"13ed3"``, ``"7ed3/2"``); ``"bp"`` (Bohlen-Pierce, 13ed3); ``"semitone"``
    (12-EDO); ``"quartertone"`` (24-EDO); ``"ji12"`` (12-note 5-limit just scale).  Raises
    :class:`TuningError` for an unknown name.
    """
    key = name.strip().lower() if isinstance(name, str) else ""
    if key in _NAMED:
        return _NAMED[key]
    m = _EDO_RE.match(key)
    if m:
        return edo(int(m.group(1)))
    m = _ED_RE.match(key)
    if m:
        return EqualDivision(int(m.group(1)), parse_ratio(m.group(2)), f"{int(m.group(1))}ed{m.group(2)}")
    raise TuningError(
        f"unknown interval system {name!r} (expected e.g. 12edo, 31edo, 13ed3, bp, quartertone, ji12)")


def as_system(system: StepSystem | str | float | Fraction) -> StepSystem:
    """Coerce a step system given as an object, a name (``"31edo"``) or a single step ratio
    (``2 ** (1 / 12)``; a step system of one equal step repeating forever)."""
    if isinstance(system, StepSystem):
        return system
    if isinstance(system, str):
        return system_from_name(system)
    if isinstance(system, (int, float, Fraction)) and not isinstance(system, bool):
        return EqualDivision(1, system, f"step {float(system):g}")
    raise TuningError(f"{system!r} is not a step system, a system name or a step ratio")


def make_system(base_hz: float | str, step_system: StepSystem | str | float | Fraction, size: int) -> np.ndarray:
    """Frequency table: ``size`` frequencies in Hz, step 0 at ``base_hz``, each following step by
    ``step_system`` (a :class:`StepSystem`, a system name such as ``"12edo"``, or one step ratio).

    ``base_hz`` may be a pitch name (``"C-1"`` = 8.1758 Hz at A4 = 440).
    ``make_system("C-1", "12edo", 128)`` is the 128 MIDI note frequencies 8.18, 8.66, 9.18, ... with
    ``[69]`` = 440.0 Hz.  Returns a float64 array of shape ``(size,)``.
    """
    hz = name_to_hz(base_hz) if isinstance(base_hz, str) else float(base_hz)
    if not (math.isfinite(hz) and hz > 0):
        raise TuningError(f"base frequency {base_hz!r} Hz must be a positive finite number")
    if isinstance(size, bool) or not isinstance(size, (int, np.integer)) or size < 0:
        raise TuningError(f"table size {size!r} must be a whole number >= 0")
    system = as_system(step_system)
    return hz * np.exp2(system.cents_range(0, int(size)) / 1200.0)


def steps_hz(system: StepSystem, start: int, count: int, base_hz: float = MIDDLE_C_HZ) -> np.ndarray:
    """Frequencies in Hz of steps ``start .. start+count-1`` of ``system`` with step 0 (1/1) at
    ``base_hz`` Hz (default C4 = 261.6256 Hz, where the synth plays 1/1 without a keyboard map)."""
    return float(base_hz) * np.exp2(system.cents_range(int(start), int(count)) / 1200.0)


def step_to_hz(system: StepSystem, step: int, base_hz: float = MIDDLE_C_HZ) -> float:
    """Frequency in Hz of step ``step`` of ``system`` with step 0 (1/1) at ``base_hz`` Hz."""
    return float(base_hz) * cents_to_ratio(system.cents(step))


def hz_to_step(system: StepSystem, hz: float, base_hz: float = MIDDLE_C_HZ) -> int:
    """The step of ``system`` (step 0 at ``base_hz`` Hz) nearest to ``hz`` Hz, measured in cents; of two
    equally near steps, the lower.  Raises :class:`TuningError` for a frequency that is not > 0."""
    if not (isinstance(hz, (int, float)) and math.isfinite(hz) and hz > 0):
        raise TuningError(f"frequency {hz!r} Hz is not a positive finite number")
    cents = 1200.0 * math.log2(float(hz) / float(base_hz))
    q = math.floor(cents / system.period_cents) if system.period_cents > 0 else 0
    # every step within one period either side: enough for any scale whose degrees lie in its period
    candidates = range((q - 1) * system.size, (q + 2) * system.size + 1)
    return min(candidates, key=lambda k: (abs(system.cents(k) - cents), k))
