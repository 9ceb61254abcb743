"""The synth and ``tools chords/scale/system`` play the same frequencies for the same tuning.

The synth's table comes from a patch with ``[synth] tuning = "..."`` (no reference keys: Scala's default,
1/1 on MIDI note 60 at 261.6256 Hz); the tools name pitches by 12-EDO names and read them in the tuning.
Expected values are also checked against the analytic formula, so both sides cannot drift together.
"""

import json

import numpy as np
import pytest

from livehost.cli import main
from livehost.engine.patching import synth_source
from livehost.patch import load
from livehost.tools.harmony import parse_progression, tuning_pitch
from livehost.tools.synthesis import scale_notes, system_table

C4_HZ = 440.0 * 2.0 ** (-9 / 12)  # 261.6256 Hz
KEYS = np.arange(128)


def synth_table(tmp_path, tuning: str) -> np.ndarray:
    path = tmp_path / f"{tuning}.toml"
    path.write_text(f'[patch]\nname = "t"\nformat = 1\n\n[synth]\ntuning = "{tuning}"\n')
    return synth_source(load(path))[3]


def keys_of(table: np.ndarray, freqs) -> list[int]:
    """The MIDI key of the synth playing each frequency (asserts there is one, within 1e-9 relative)."""
    out = []
    for f in freqs:
        k = int(np.nanargmin(np.abs(np.log(table / f))))
        assert table[k] == pytest.approx(f, rel=1e-9), f"{f} Hz is on no key of the synth"
        out.append(k)
    return out


def test_31edo_synth_table_equals_the_tools(tmp_path):
    table = synth_table(tmp_path, "31edo")
    np.testing.assert_allclose(table, C4_HZ * 2.0 ** ((KEYS - 60) / 31), rtol=1e-12)  # the analytic formula
    # tools system: 68 steps from C4 are keys 60..127
    rows = system_table("C4", "31edo", 68)
    np.testing.assert_allclose([r["hz"] for r in rows], table[60:], rtol=1e-12)
    # tools system with the default base C-1 (5 octaves = 155 steps below C4): key 0 is its row 95
    rows = system_table("C-1", "31edo", 223)
    np.testing.assert_allclose([r["hz"] for r in rows][95:], table, rtol=1e-12)
    # tools scale: C4 to C5 is keys 60..91; A4 to A5 is 31-EDO's A (23 steps up) to its octave
    np.testing.assert_allclose([r["hz"] for r in scale_notes("31edo", "C4", "C5")], table[60:92], rtol=1e-12)
    np.testing.assert_allclose([r["hz"] for r in scale_notes("31edo", "A4", "A5")], table[83:115], rtol=1e-12)
    # tools chords: C4 = key 60, the meantone major triad 0 10 18, the key D4 is 31-EDO's D (5 steps)
    (i_chord,) = parse_progression("I", "31edo", "C4")
    assert keys_of(table, i_chord.hz) == [60, 70, 78]
    assert i_chord.hz[0] == pytest.approx(261.6256, abs=5e-5)
    chords = parse_progression("I IV V6 [0,1,2]", "31edo", "D4")
    assert [keys_of(table, c.hz) for c in chords] == [[65, 75, 83], [78, 88, 96], [93, 101, 114], [65, 66, 67]]


@pytest.mark.parametrize("tuning", ["12edo", "19edo", "24edo", "ji12", "bp"])
def test_other_tunings_agree(tmp_path, tuning):
    table = synth_table(tmp_path, tuning)
    rows = system_table("C4", tuning, 68)
    np.testing.assert_allclose([r["hz"] for r in rows], table[60:], rtol=1e-12)
    lo, hi = ("C4", "C6") if tuning != "bp" else ("C4", "G5")
    notes = scale_notes(tuning, lo, hi)
    assert keys_of(table, [r["hz"] for r in notes]) == list(range(60, 60 + len(notes)))
    progression = "I ii V7 I" if tuning != "bp" else "[0,4,7] [0,6,10]"
    for key in ("C4", "E4", "A3"):
        for chord in parse_progression(progression, tuning, key):
            keys_of(table, chord.hz)  # every chord tone is a key of the synth


def test_12edo_tools_are_standard_tuning(tmp_path):
    table = synth_table(tmp_path, "12edo")
    np.testing.assert_allclose(table, 440.0 * 2.0 ** ((KEYS - 69) / 12), rtol=1e-12)
    rows = system_table("C-1", "semitone", 128)  # the README's example: index = MIDI note
    np.testing.assert_allclose([r["hz"] for r in rows], table, rtol=1e-12)
    assert rows[69]["name"] == "A4" and rows[69]["hz"] == pytest.approx(440.0, rel=1e-13)
    assert [r["hz"] for r in scale_notes("12edo", "A4", "A5")] == pytest.approx(table[69:82], rel=1e-12)


def test_hz_is_used_as_given_and_step_ratios_have_no_tuning():
    assert tuning_pitch("31edo", 440.0) == (440.0, None)
    assert tuning_pitch("31edo", "440") == (440.0, None)
    hz, step = tuning_pitch("31edo", "A4")
    assert step == 23 and hz == pytest.approx(C4_HZ * 2 ** (23 / 31), rel=1e-12)
    assert tuning_pitch(1.5, "A4") == (pytest.approx(440.0, rel=1e-12), None)
    rows = scale_notes("31edo", 440.0, 880.0)  # from 440 Hz: the system transposed there
    assert rows[0]["hz"] == 440.0 and rows[-1]["hz"] == pytest.approx(880.0, rel=1e-12) and len(rows) == 32
    (chord,) = parse_progression("I", "12edo", 300.0)
    assert chord.hz == pytest.approx([300.0, 300.0 * 2 ** (4 / 12), 300.0 * 2 ** (7 / 12)], rel=1e-12)
    rows = system_table("C-1", "3/2", 3)
    assert [r["hz"] for r in rows] == pytest.approx([8.1757989, 8.1757989 * 1.5, 8.1757989 * 2.25], rel=1e-7)


def test_cli_chords_json_puts_c4_where_the_synth_does(tmp_path, capsys):
    out = tmp_path / "c.wav"
    assert main(["tools", "chords", "I", str(out), "--system", "31edo", "--key", "C4", "--json",
                 "--chord-seconds", "0.1", "--method", "additive"]) == 0
    doc = json.loads(capsys.readouterr().out)
    table = synth_table(tmp_path, "31edo")
    assert keys_of(table, doc["chords"][0]["hz"]) == [60, 70, 78]
