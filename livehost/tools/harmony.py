"""Chords for ``livehost tools chords``: Roman numerals (with inversions) and explicit microtonal chords,
as steps of any interval system from :mod:`livehost.tuning`.

Roman numerals
    ``[accidental] NUMERAL [quality] [figure]``, e.g. ``I ii V6 I``, ``IV64``, ``V7``, ``V65``, ``viio``,
    ``viiø7``, ``bVII``, ``#iv°``, ``IM7``, ``III+``.

    - NUMERAL ``I``..``VII`` (upper case = major triad) or ``i``..``vii`` (lower case = minor triad);
      its root is that degree of the major scale on the key (``--key``): 0 2 4 5 7 9 11 semitones.
    - accidental ``b`` (or ``♭``) / ``#`` (or ``♯``): the root one semitone lower / higher.
    - quality ``o``/``°`` diminished, ``+`` augmented, ``ø`` half-diminished (seventh chords).
    - figure: none or ``5``/``53`` root position, ``6`` first inversion, ``64`` second inversion;
      seventh chords ``7`` (root position), ``65``, ``43``, ``42``/``2`` (first to third inversion);
      ``M7``/``maj7`` a major seventh.  Sevenths: upper case + ``7`` = dominant seventh (M3 P5 m7),
      lower case + ``7`` = minor seventh, ``°7`` = diminished seventh (m3 d5 d7), ``ø7`` = m3 d5 m7.
    - Voicing: root position is built upward on the degree at or above the key (key C4: ``V`` is
      G4 B4 D5); an inversion moves its lowest tones up one period (octave), so ``V6`` is B4 D5 G5.

Mapping to a system (any EDO, or any octave-based system)
    Chords are first spelled in 12-EDO semitones above the key (root degree + chord intervals).  Each
    semitone count ``s`` maps to the step ``k`` of the system whose pitch is nearest to ``100 * s``
    cents (with whole periods kept: ``s = 12 q + r`` maps to ``q * size + nearest(r)``).  In N-EDO that
    is ``round(s * N / 12)``: the EDO's major scale is the nearest steps to 12-EDO's, e.g. 19-EDO
    0 3 6 8 11 14 17, 31-EDO 0 5 10 13 18 23 28 (meantone), 24-EDO 0 4 8 10 14 18 22.  The root and each
    chord interval are mapped separately and added (``step(root) + step(interval)``), so every major
    triad of an EDO has the same shape.  Systems whose period is not the octave (``bp``, ``13ed3``) take
    explicit chords only.

Explicit chords (any system)
    ``[a,b,c]`` lists pitches above the key: integers are steps of the system (``[0,8,14]`` in 24-EDO),
    ``5/4`` style ratios are just intervals, ``386c`` are cents.  ``[0,10,18]`` in 31-EDO is a just-ish
    major triad; ``[0,4,7]`` in ``bp`` is a Bohlen-Pierce triad.

The key and the tuning
    A key given by name (``--key D4``) is the tuning's pitch nearest to that name, with the tuning laid
    out as the synth plays it: step 0 (1/1) = C4 = 261.6256 Hz on MIDI note 60 (Scala's default
    mapping).  Chord steps count from the key's step, so every pitch is one the synth plays on some
    key: ``--key C4 --system 31edo`` starts on 261.63 Hz, ``--key A4`` on 31-EDO's A (23 steps,
    437.5 Hz).  A key in Hz (``--key 300``) is used as given: the system transposed to start there.

Results are :class:`Chord` s with frequencies in Hz (the key's frequency times each pitch's ratio).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from numbers import Real

from livehost.errors import LivehostError
from livehost.tuning import (StepSystem, as_system, cents_to_ratio, hz_to_step, name_to_hz, parse_ratio,
                              ratio_to_cents, step_to_hz)

MAJOR_SCALE = (0, 2, 4, 5, 7, 9, 11)
"""Semitones of the major scale degrees 1..7 above the key."""

_NUMERALS = {"i": 1, "ii": 2, "iii": 3, "iv": 4, "v": 5, "vi": 6, "vii": 7}
_ROMAN_RE = re.compile(
    r"^(?P<acc>[b#\u266d\u266f]*)(?P<num>VII|VI|IV|V|III|II|I|vii|vi|iv|v|iii|ii|i)"
    r"(?P<qual>o|\u00b0|\+|\u00f8|h)?(?P<fig>M7|maj7|7|65|43|42|2|64|6|53|5)?$")
_FIG_INV = {None: 0, "5": 0, "53": 0, "6": 1, "64": 2, "7": 0, "M7": 0, "maj7": 0, "65": 1, "43": 2, "42": 3,
            "2": 3}


class ChordError(LivehostError):
    """A chord symbol that cannot be read: names the symbol and what is wrong."""


@dataclass
class Chord:
    """One chord: its ``symbol``, pitches as ``cents`` above the key (bass first) and ``hz`` (Hz);
    ``steps`` are the system steps above the key (None for explicit ratio/cents pitches)."""

    symbol: str
    cents: list[float]
    hz: list[float]
    steps: list[int | None]


def roman_semitones(symbol: str) -> list[int]:
    """A Roman numeral (see the module doc) -> its tones in 12-EDO semitones above the key, bass first.

    ``"V6"`` -> ``[11, 14, 19]`` (B, D, G above C); ``"I"`` -> ``[0, 4, 7]``. Raises ChordError.
    """
    root, ivals, inv = _roman(symbol)
    tones = [root + i for i in ivals]
    for _ in range(inv):
        tones = tones[1:] + [tones[0] + 12]
    return tones


def _roman(symbol: str) -> tuple[int, list[int], int]:
    m = _ROMAN_RE.match(symbol)
    if m is None:
        raise ChordError(f"chord {symbol!r} is not a Roman numeral (e.g. I ii V6 IV64 V7 viio bVII) "
                         "or an explicit chord [0,4,7]")
    acc = sum(1 if a in "#\u266f" else -1 for a in m.group("acc"))
    num = m.group("num")
    upper = num.isupper()
    root = MAJOR_SCALE[_NUMERALS[num.lower()] - 1] + acc
    qual = m.group("qual")
    fig = m.group("fig")
    seventh = fig in ("7", "M7", "maj7", "65", "43", "42", "2")
    if qual in ("o", "\u00b0"):
        ivals = [0, 3, 6] + ([9] if seventh else [])
    elif qual in ("\u00f8", "h"):
        ivals = [0, 3, 6, 10]
        seventh = True
    elif qual == "+":
        ivals = [0, 4, 8] + ([10] if seventh else [])
    elif upper:
        ivals = [0, 4, 7] + ([11 if fig in ("M7", "maj7") else 10] if seventh else [])
    else:
        ivals = [0, 3, 7] + ([11 if fig in ("M7", "maj7") else 10] if seventh else [])
    if len(ivals) == 4 and not seventh:
        ivals = ivals[:3]
    inv = _FIG_INV[fig]
    if len(ivals) == 3 and fig in ("65", "43", "42", "2"):
        raise ChordError(f"chord {symbol!r}: figure {fig} needs a seventh chord")
    return root, ivals, inv


def nearest_step(system: StepSystem, semitones: int) -> int:
    """The system step nearest to ``semitones`` 12-EDO semitones (100 cents each), whole periods kept.

    Needs an octave-period system (1200 cents). Raises ChordError otherwise.
    """
    if abs(system.period_cents - 1200.0) > 1e-6:
        raise ChordError(f"Roman numerals need an octave-based system; {system.name} repeats every "
                         f"{system.period_cents:.1f} cents: write explicit chords like [0,4,7]")
    q, r = divmod(int(semitones), 12)
    best = min(range(system.size + 1), key=lambda k: (abs(system.cents(k) - 100.0 * r), k))
    return q * system.size + best


def tuning_pitch(system: StepSystem | str | float, pitch: str | float) -> tuple[float, int | None]:
    """Where ``pitch`` falls in a tuning: ``(hz, step)``.

    A pitch name (``"A4"``) with a tuning (a :class:`StepSystem` or a system name such as ``"31edo"``)
    is the tuning's pitch nearest to the name's 12-EDO frequency: its step counted from the 1/1 at
    C4 = 261.6256 Hz (MIDI note 60, Scala's default) and its frequency in Hz.  A frequency (a number, or
    a string such as ``"300"``) is taken as given, step None; so is a name when ``system`` is a bare
    step ratio (a number: no tuning, nothing to snap to).
    """
    if isinstance(pitch, str) and re.fullmatch(r"\s*(\d+(\.\d*)?|\.\d+)\s*", pitch):
        pitch = float(pitch)
    if not isinstance(pitch, str):
        return float(pitch), None
    hz = name_to_hz(pitch)
    if isinstance(system, Real):
        return hz, None
    sysm = as_system(system)
    step = hz_to_step(sysm, hz)
    return step_to_hz(sysm, step), step


def _explicit(symbol: str, system: StepSystem) -> tuple[list[float], list[int | None]]:
    body = symbol[1:-1].strip()
    if not body:
        raise ChordError(f"chord {symbol!r} is empty")
    cents, steps = [], []
    for tok in re.split(r"[,\s]+", body):
        if not tok:
            continue
        try:
            if re.fullmatch(r"[+-]?\d+", tok):
                steps.append(int(tok))
                cents.append(system.cents(int(tok)))
            elif tok.lower().endswith("c"):
                steps.append(None)
                cents.append(float(tok[:-1]))
            else:
                steps.append(None)
                cents.append(ratio_to_cents(parse_ratio(tok)))
        except (ValueError, LivehostError):
            raise ChordError(f"chord {symbol!r}: {tok!r} is not a step number, a ratio (5/4) or cents (386c)") \
                from None
    return cents, steps


def parse_progression(text: str, system: StepSystem | str = "12edo", key: str | float = "C4") -> list[Chord]:
    """A progression (chord symbols separated by spaces; see the module doc) -> :class:`Chord` list.

    system: a step system, its name (``"24edo"``) or one step ratio; key: pitch name (the tuning's
    nearest pitch, see the module doc) or Hz of the key's tonic.
    Raises ChordError for a symbol that cannot be read.
    """
    sysm = as_system(system)
    key_hz, key_step = tuning_pitch(system, key)
    k0 = key_step or 0

    def above_key(step: int) -> float:  # cents of the tuning's step ``k0 + step`` above the key
        return sysm.cents(k0 + step) - sysm.cents(k0)

    symbols = re.findall(r"\[[^\]]*\]|[^\s\[\]]+", text)
    if not symbols or "[" in "".join(s for s in symbols if not s.startswith("[")):
        raise ChordError(f"progression {text!r} holds no chords (e.g. \"I ii V6 I\")")
    out = []
    for sym in symbols:
        if sym.startswith("["):
            if not sym.endswith("]"):
                raise ChordError(f"chord {sym!r} is not closed with ]")
            cents, steps = _explicit(sym, sysm)
            cents = [above_key(k) if k is not None else c for c, k in zip(cents, steps)]
        else:
            root, ivals, inv = _roman(sym)
            base = nearest_step(sysm, root)
            steps = [base + nearest_step(sysm, i) for i in ivals]
            for _ in range(inv):
                steps = steps[1:] + [steps[0] + sysm.size]
            cents = [above_key(k) for k in steps]
        out.append(Chord(sym, cents, [key_hz * cents_to_ratio(c) for c in cents], steps))
    return out
