"""Named intervals (P1 .. P8) with their 5-limit just ratios and 12-EDO sizes, plus cents math.

Cents: 1200 cents per octave (ratio 2/1), 100 cents per 12-EDO semitone.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from fractions import Fraction

from livehost.tuning.errors import TuningError


def ratio_to_cents(ratio: float | Fraction) -> float:
    """Frequency ratio (> 0) -> size in cents (``3/2`` -> 701.955...).  Raises :class:`TuningError`."""
    r = float(ratio)
    if not (math.isfinite(r) and r > 0):
        raise TuningError(f"ratio {ratio} is not a positive finite number")
    return 1200.0 * math.log2(r)


def cents_to_ratio(cents: float) -> float:
    """Size in cents -> frequency ratio (``1200`` -> 2.0, ``-1200`` -> 0.5)."""
    return 2.0 ** (cents / 1200.0)


@dataclass(frozen=True)
class Interval:
    """One named interval.

    name: short name (``"P5"``); long_name: English name; semitones: size in 12-EDO semitones;
    ratio: the just (5-limit) frequency ratio as a Fraction.
    """

    name: str
    long_name: str
    semitones: int
    ratio: Fraction

    @property
    def cents_12edo(self) -> float:
        """Size in 12-EDO, in cents (``semitones * 100``)."""
        return 100.0 * self.semitones

    @property
    def just_cents(self) -> float:
        """Size of the just ratio, in cents."""
        return ratio_to_cents(self.ratio)

    @property
    def ratio_12edo(self) -> float:
        """Frequency ratio of the 12-EDO interval (``2 ** (semitones / 12)``)."""
        return 2.0 ** (self.semitones / 12.0)

    @property
    def deviation_cents(self) -> float:
        """How far 12-EDO is from the just ratio, in cents (12-EDO minus just)."""
        return self.cents_12edo - self.just_cents


INTERVALS: tuple[Interval, ...] = (
    Interval("P1", "perfect unison", 0, Fraction(1, 1)),
    Interval("m2", "minor second", 1, Fraction(16, 15)),
    Interval("M2", "major second", 2, Fraction(9, 8)),
    Interval("m3", "minor third", 3, Fraction(6, 5)),
    Interval("M3", "major third", 4, Fraction(5, 4)),
    Interval("P4", "perfect fourth", 5, Fraction(4, 3)),
    Interval("TT", "tritone (augmented fourth)", 6, Fraction(45, 32)),
    Interval("P5", "perfect fifth", 7, Fraction(3, 2)),
    Interval("m6", "minor sixth", 8, Fraction(8, 5)),
    Interval("M6", "major sixth", 9, Fraction(5, 3)),
    Interval("m7", "minor seventh", 10, Fraction(16, 9)),
    Interval("M7", "major seventh", 11, Fraction(15, 8)),
    Interval("P8", "perfect octave", 12, Fraction(2, 1)),
)
"""The interval table, P1 .. P8 in ascending order."""

_ALIASES = {
    "A4": Interval("A4", "augmented fourth", 6, Fraction(45, 32)),
    "d5": Interval("d5", "diminished fifth", 6, Fraction(64, 45)),
}
_BY_NAME = {i.name: i for i in INTERVALS} | _ALIASES


def interval(name: str) -> Interval:
    """Look an interval up by short name: ``P1 m2 M2 m3 M3 P4 TT A4 d5 P5 m6 M6 m7 M7 P8``.

    Names are case-sensitive (``m3`` is a minor third, ``M3`` a major third).  ``TT`` and ``A4`` are
    the augmented fourth 45/32, ``d5`` the diminished fifth 64/45; all three are 600 cents in 12-EDO.
    Raises :class:`TuningError` for an unknown name.
    """
    try:
        return _BY_NAME[name]
    except (KeyError, TypeError):
        known = " ".join(_BY_NAME)
        raise TuningError(f"unknown interval {name!r} (known: {known})") from None


def parse_ratio(text: str) -> Fraction:
    """``"3/2"``, ``"5"`` or ``"1.5"`` -> a positive Fraction (a frequency ratio).

    Raises :class:`TuningError` for anything else, including zero and negative ratios.
    """
    try:
        value = Fraction(text.strip())
    except (ValueError, ZeroDivisionError, AttributeError):
        raise TuningError(f"{text!r} is not a ratio (expected a/b or a number)") from None
    if value <= 0:
        raise TuningError(f"ratio {text!r} must be greater than 0")
    return value
