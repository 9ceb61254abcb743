"""Scala files: ``.scl`` scales and ``.kbm`` keyboard maps (Huygens-Fokker specification).

``.scl``: lines starting with ``!`` are comments.  The first other line is the description (may be
empty); the next is the note count; then one pitch per line, ``count`` of them.  A pitch containing
``.`` is in cents (negative allowed), otherwise it is a ratio ``a/b`` or an integer ``a`` (= a/1);
text after the value (after whitespace) is ignored.  Degree 0 (1/1) is implicit; the last pitch is
the period (interval of equivalence, not necessarily 2/1).

``.kbm``: ``!`` comment lines, then the fields in order: map size, first MIDI note to retune, last
MIDI note to retune, middle note (where mapping entry 0 is mapped), reference note, its frequency in
Hz, the scale degree to consider as formal octave, then ``map size`` entries, each a scale degree or
``x`` (unmapped key).  Map size 0 means a linear mapping.  The key -> degree arithmetic lives in
:mod:`livehost.tuning.keymap`.

Every parse error is a :class:`TuningError` ``path:line: what is wrong``.  Files may use LF, CRLF or
CR line ends, and UTF-8 or 8-bit (Latin-1) text.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

from livehost.tuning.errors import TuningError
from livehost.tuning.intervals import ratio_to_cents
from livehost.tuning.names import MIDDLE_C_HZ, MIDDLE_NOTE, note_to_hz
from livehost.tuning.systems import PeriodicScale

_LINE_SPLIT = re.compile(r"\r\n|\r|\n")
_CENTS_RE = re.compile(r"^[+-]?(?:\d+\.\d*|\.\d+)$")
_RATIO_RE = re.compile(r"^([+-]?\d+)(?:/([+-]?\d+))?$")
_INT_RE = re.compile(r"^[+-]?\d+$")


def read_text(path: str | Path) -> str:
    """Read a text file (UTF-8, else Latin-1) as a string; raise :class:`TuningError` if unreadable."""
    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        raise TuningError(f"cannot read: {exc.strerror or exc}", str(path)) from None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("latin-1")


def _lines(text: str) -> list[str]:
    lines = _LINE_SPLIT.split(text)
    if lines and lines[-1] == "":
        lines.pop()
    return lines


def _is_comment(line: str) -> bool:
    return line.lstrip().startswith("!")


@dataclass(frozen=True)
class ScalaPitch:
    """One pitch line of a ``.scl`` file: ``cents`` above 1/1, the exact ``ratio`` when it was
    written as a ratio (else None), the value ``text`` as written and its 1-based ``line``."""

    cents: float
    ratio: Fraction | None
    text: str
    line: int


@dataclass(frozen=True)
class ScalaScale:
    """A parsed ``.scl`` file: ``description``, ``pitches`` (degrees 1 .. count; the last one is the
    period) and the ``path`` it came from."""

    description: str
    pitches: tuple[ScalaPitch, ...]
    path: str = "<scl>"

    @property
    def count(self) -> int:
        """Number of pitches listed (notes per period; 1/1 is not listed)."""
        return len(self.pitches)

    @property
    def period_cents(self) -> float:
        """The interval of equivalence in cents (the last pitch; 0 for an empty scale)."""
        return self.pitches[-1].cents if self.pitches else 0.0

    @property
    def cents(self) -> list[float]:
        """Cents of degrees 0 .. count (degree 0 is 0.0, degree count is the period)."""
        return [0.0] + [p.cents for p in self.pitches]

    def to_system(self, name: str | None = None) -> PeriodicScale:
        """This scale as a step system: ``count`` steps per period of ``period_cents``."""
        ratios = None
        if all(p.ratio is not None for p in self.pitches):
            ratios = [Fraction(1)] + [p.ratio for p in self.pitches]
        return PeriodicScale([p.cents for p in self.pitches[:-1]], self.period_cents,
                             name or Path(self.path).stem, ratios=ratios)


def parse_pitch(text: str, path: str = "<scl>", line: int | None = None) -> ScalaPitch:
    """One ``.scl`` pitch value -> :class:`ScalaPitch`: ``"701.955"`` (cents), ``"3/2"`` or ``"2"``
    (ratios); anything after the first whitespace is ignored.  Raises :class:`TuningError`."""
    stripped = text.strip()
    if not stripped:
        raise TuningError("missing pitch value", path, line)
    parts = stripped.split(None, 1)
    token, rest = parts[0], (parts[1] if len(parts) > 1 else "")
    if "." in token:
        if not _CENTS_RE.match(token):
            raise TuningError(f"pitch {token!r} is not a number of cents", path, line)
        return ScalaPitch(float(token), None, token, line or 0)
    m = _RATIO_RE.match(token)
    if not m:
        raise TuningError(f"pitch {token!r} is not a ratio a/b, an integer or cents with a '.'", path, line)
    if rest.lstrip().startswith("/") or token.endswith("/"):
        raise TuningError(f"pitch {stripped!r}: no spaces allowed inside a ratio", path, line)
    num = int(m.group(1))
    den = int(m.group(2)) if m.group(2) is not None else 1
    if den == 0:
        raise TuningError(f"pitch {token!r} has a zero denominator", path, line)
    if num <= 0 or den < 0:
        raise TuningError(f"pitch {token!r}: a ratio must be greater than 0", path, line)
    ratio = Fraction(num, den)
    return ScalaPitch(ratio_to_cents(ratio), ratio, token, line or 0)


def parse_scl(text: str, path: str = "<scl>") -> ScalaScale:
    """Parse ``.scl`` text (see the module doc).  ``path`` names the source in error messages."""
    path = str(path)
    lines = _lines(text)
    description: str | None = None
    count: int | None = None
    count_line = 0
    pitches: list[ScalaPitch] = []
    for number, raw in enumerate(lines, 1):
        if _is_comment(raw):
            continue
        if description is None:
            description = raw.strip()
            continue
        if not raw.strip():
            continue  # blank lines after the description carry nothing
        if count is None:
            token = raw.split()[0]
            if not _INT_RE.match(token) or int(token) < 0:
                raise TuningError(f"note count {token!r} is not a whole number >= 0", path, number)
            count, count_line = int(token), number
            if count == 0:
                break
            continue
        pitches.append(parse_pitch(raw, path, number))
        if len(pitches) == count:
            break
    last = max(1, len(lines))
    if description is None:
        raise TuningError("missing the description line (the file has no non-comment line)", path, last)
    if count is None:
        raise TuningError("missing the note count line", path, last)
    if len(pitches) < count:
        raise TuningError(
            f"note count is {count} but the file ends after {len(pitches)} pitch line"
            f"{'' if len(pitches) == 1 else 's'}", path, count_line)
    return ScalaScale(description, tuple(pitches), path)


def read_scl(path: str | Path) -> ScalaScale:
    """Read and parse a ``.scl`` file (see :func:`parse_scl`)."""
    return parse_scl(read_text(path), str(path))


@dataclass(frozen=True)
class KeyboardMap:
    """A ``.kbm`` keyboard map.

    size: map size (keys per repeating pattern; 0 = linear); first_note, last_note: MIDI note range
    retuned (inclusive); middle_note: MIDI note where mapping entry 0 sits; reference_note: MIDI note
    whose frequency is given; reference_hz: that frequency in Hz; octave_degree: scale degree reached
    by moving ``size`` keys up (0 = the scale's own size, its period); mapping: ``size`` scale degrees,
    None for an unmapped (``x``) key.  path, reference_line: where it came from, for messages
    (``"<linear>"`` for the maps :meth:`linear` makes).

    ``KeyboardMap()`` is Scala's default mapping, the one used when a scale comes without a ``.kbm``:
    linear, all 128 keys, the scale's 1/1 on MIDI note 60 sounding 261.6256 Hz (C4 at A4 = 440 Hz).
    """

    size: int = 0
    first_note: int = 0
    last_note: int = 127
    middle_note: int = MIDDLE_NOTE
    reference_note: int = MIDDLE_NOTE
    reference_hz: float = MIDDLE_C_HZ
    octave_degree: int = 0
    mapping: tuple[int | None, ...] = ()
    path: str = "<kbm>"
    reference_line: int | None = None

    def __post_init__(self):
        if len(self.mapping) != self.size:
            raise TuningError(f"map size is {self.size} but {len(self.mapping)} mapping entries are given",
                              self.path)

    @classmethod
    def linear(cls, middle_note: int | None = None, reference_note: int | None = None,
               reference_hz: float | None = None) -> "KeyboardMap":
        """A linear map (one key per scale degree, all 128 keys), Scala's default unless told otherwise.

        middle_note: MIDI note of scale degree 0 (default 60); reference_note: the MIDI note whose
        frequency is fixed (default: the middle note); reference_hz: its frequency in Hz (default: its
        standard pitch, 12-EDO at A4 = 440 Hz, so note 60 = 261.6256 Hz and note 69 = 440 Hz).  With no
        argument this equals Scala's default, ``KeyboardMap()``; ``linear(reference_note=69,
        reference_hz=440.0)`` keeps 1/1 on note 60 and tunes A4 to 440 Hz, like Surge XT's ``tuneA69To``.
        """
        middle = MIDDLE_NOTE if middle_note is None else middle_note
        ref = middle if reference_note is None else reference_note
        for what, n in (("middle note", middle), ("reference note", ref)):
            if isinstance(n, bool) or not isinstance(n, int) or not 0 <= n <= 127:
                raise TuningError(f"{what} {n!r} is not a MIDI note number 0..127")
        hz = note_to_hz(ref) if reference_hz is None else reference_hz
        if isinstance(hz, bool) or not isinstance(hz, (int, float)) or not (math.isfinite(hz) and hz > 0):
            raise TuningError(f"reference frequency {hz!r} Hz must be a positive finite number")
        return cls(0, 0, 127, middle, ref, float(hz), 0, (), "<linear>")

    @property
    def is_default(self) -> bool:
        """True when this map plays like Scala's default (linear over all 128 keys, 1/1 on MIDI note 60
        at 261.6256 Hz), wherever it came from."""
        return (self.size == 0 and (self.first_note, self.last_note) == (0, 127)
                and self.middle_note == MIDDLE_NOTE == self.reference_note
                and math.isclose(self.reference_hz, MIDDLE_C_HZ, rel_tol=1e-9))


_KBM_FIELDS = (
    ("map size", "size"),
    ("first MIDI note to retune", "note"),
    ("last MIDI note to retune", "note"),
    ("middle note", "note"),
    ("reference note", "note"),
    ("reference frequency", "hz"),
    ("formal octave degree", "size"),
)


def _kbm_field(label: str, kind: str, token: str, path: str, line: int) -> int | float:
    if kind == "hz":
        try:
            value = float(token)
        except ValueError:
            raise TuningError(f"{label}: {token!r} is not a frequency in Hz", path, line) from None
        if not (math.isfinite(value) and value > 0):
            raise TuningError(f"{label}: {token!r} Hz must be a positive finite number", path, line)
        return value
    if not _INT_RE.match(token):
        raise TuningError(f"{label}: {token!r} is not a whole number", path, line)
    value = int(token)
    if kind == "note" and not 0 <= value <= 127:
        raise TuningError(f"{label}: {value} is not a MIDI note number 0..127", path, line)
    if kind == "size" and value < 0:
        raise TuningError(f"{label}: {value} must be >= 0", path, line)
    return value


def parse_kbm(text: str, path: str = "<kbm>") -> KeyboardMap:
    """Parse ``.kbm`` text (see the module doc).  ``path`` names the source in error messages."""
    path = str(path)
    lines = _lines(text)
    values: list[int | float] = []
    field_lines: list[int] = []
    mapping: list[int | None] = []
    for number, raw in enumerate(lines, 1):
        if _is_comment(raw) or not raw.strip():
            continue
        token = raw.split()[0]
        if len(values) < len(_KBM_FIELDS):
            label, kind = _KBM_FIELDS[len(values)]
            values.append(_kbm_field(label, kind, token, path, number))
            field_lines.append(number)
            continue
        if len(mapping) == values[0]:
            break  # anything after the last mapping entry is ignored
        if token.lower() == "x":
            mapping.append(None)
        elif _INT_RE.match(token):
            mapping.append(int(token))
        else:
            raise TuningError(
                f"mapping entry {len(mapping)}: {token!r} is not a scale degree or 'x'", path, number)
    last = max(1, len(lines))
    if len(values) < len(_KBM_FIELDS):
        missing = _KBM_FIELDS[len(values)][0]
        raise TuningError(f"file ends before the {missing} field", path, last)
    size, first, last_note, middle, ref, ref_hz, octave = values
    if first > last_note:
        raise TuningError(
            f"last MIDI note to retune ({last_note}) is below the first ({first})", path, field_lines[2])
    if len(mapping) < size:
        raise TuningError(
            f"map size is {size} but the file ends after {len(mapping)} mapping entr"
            f"{'y' if len(mapping) == 1 else 'ies'}", path, field_lines[0])
    return KeyboardMap(int(size), int(first), int(last_note), int(middle), int(ref), float(ref_hz),
                       int(octave), tuple(mapping), path, field_lines[4])


def read_kbm(path: str | Path) -> KeyboardMap:
    """Read and parse a ``.kbm`` file (see :func:`parse_kbm`)."""
    return parse_kbm(read_text(path), str(path))


def format_scl(description: str, pitches: list[str | float | Fraction]) -> str:
    """Write ``.scl`` text: floats become cents (``"%.6f"``), Fractions/ints/strings ratios as given.

    ``pitches`` lists degrees 1 .. count, the last one being the period.
    """
    out = ["! written by livehost", description.replace("\n", " "), f" {len(pitches)}", "!"]
    for p in pitches:
        out.append(f" {p:.6f}" if isinstance(p, float) else f" {p}")
    return "\n".join(out) + "\n"


def format_kbm(kbm: KeyboardMap) -> str:
    """Write a :class:`KeyboardMap` as ``.kbm`` text (inverse of :func:`parse_kbm`)."""
    out = ["! written by livehost", "! Size of map:", str(kbm.size),
           "! First MIDI note number to retune:", str(kbm.first_note),
           "! Last MIDI note number to retune:", str(kbm.last_note),
           "! Middle note where the first entry of the mapping is mapped to:", str(kbm.middle_note),
           "! Reference note for which frequency is given:", str(kbm.reference_note),
           "! Frequency to tune the above note to:", repr(float(kbm.reference_hz)),
           "! Scale degree to consider as formal octave:", str(kbm.octave_degree),
           "! Mapping:"]
    out += ["x" if d is None else str(d) for d in kbm.mapping]
    return "\n".join(out) + "\n"
