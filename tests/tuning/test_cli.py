import argparse
import io
import json

import pytest

from livehost.tuning.cli import add_parser, parse_notes

from .helpers import write


def _run(argv):
    parser = argparse.ArgumentParser(prog="livehost")
    add_parser(parser.add_subparsers(dest="command"))
    args = parser.parse_args(argv)
    out, err = io.StringIO(), io.StringIO()
    code = args.func(args, out, err)
    return code, out.getvalue(), err.getvalue()


C4_HZ = 440.0 * 2 ** (-9 / 12)  # 261.6256 Hz: Scala's default frequency of 1/1 (on MIDI note 60)


def test_json_31edo_follows_scalas_default_mapping():
    code, out, err = _run(["tuning", "show", "31edo", "--json"])
    assert code == 0 and err == ""
    doc = json.loads(out)
    rows = doc["notes"]
    assert doc["tuning"] == "31edo"
    assert [r["note"] for r in rows] == list(range(128))
    for r in rows:
        assert r["hz"] == pytest.approx(C4_HZ * 2 ** ((r["note"] - 60) / 31), rel=1e-12)
    assert rows[60]["hz"] == pytest.approx(261.6255653, rel=1e-9)
    assert rows[91]["hz"] == pytest.approx(2 * 261.6255653, rel=1e-9)
    m = doc["mapping"]
    assert m["default"] is True and m["kbm"] is None and m["text"] == "default (1/1 = MIDI 60 = 261.6256 Hz)"
    assert (m["size"], m["middle_note"], m["reference_note"]) == (0, 60, 60)
    assert m["reference_hz"] == pytest.approx(261.6255653, rel=1e-9)


def test_reference_options_move_the_default_mapping():
    code, out, _ = _run(["tuning", "show", "31edo", "--ref-note", "69", "--ref-hz", "440", "--json"])
    doc = json.loads(out)
    assert code == 0 and doc["mapping"]["default"] is False
    assert doc["mapping"]["text"] == "linear (1/1 on MIDI 60, MIDI 69 = 440 Hz)"
    assert doc["notes"][69]["hz"] == 440.0
    assert doc["notes"][60]["hz"] == pytest.approx(440 * 2 ** (-9 / 31), rel=1e-12)  # the old offset, asked for
    code, out, _ = _run(["tuning", "show", "ji12", "--middle-note", "57", "--notes", "57,64", "--json"])
    rows = json.loads(out)["notes"]
    assert rows[0]["hz"] == pytest.approx(220.0, rel=1e-12)  # 1/1 on A3 at its standard pitch
    assert rows[1]["hz"] == pytest.approx(330.0, rel=1e-12)  # 3/2 above it
    code, _, err = _run(["tuning", "show", "12edo", "--ref-note", "128"])
    assert code == 1 and err == "error: --ref-note 128 is not a MIDI note number 0..127\n"


def test_json_scl_and_kbm_with_unmapped_keys(tmp_path):
    scl = write(tmp_path, "major.scl", "! m\nJust major\n 7\n9/8\n5/4\n4/3\n3/2\n5/3\n15/8\n2/1\n", "\r\n")
    kbm = write(tmp_path, "white.kbm", "12\n0\n127\n60\n69\n440.0\n7\n0\nx\n1\nx\n2\n3\nx\n4\nx\n5\nx\n6\n")
    code, out, _ = _run(["tuning", "show", str(scl), "--kbm", str(kbm), "--notes", "59-72", "--json"])
    assert code == 0
    doc = json.loads(out)
    assert doc["mapping"]["kbm"] == str(kbm) and doc["mapping"]["default"] is False
    assert doc["mapping"]["text"] == ("white.kbm (reference note 69 = 440 Hz, middle note 60, 12 keys per "
                                      "pattern, keys 0-127)")
    assert doc["mapping"]["mapping"] == [0, None, 1, None, 2, 3, None, 4, None, 5, None, 6]
    rows = doc["notes"]
    assert [r["note"] for r in rows] == list(range(59, 73))
    got = {r["note"]: r["hz"] for r in rows}
    expected = {59: 247.5, 60: 264.0, 61: None, 62: 297.0, 63: None, 64: 330.0, 65: 352.0, 66: None,
                67: 396.0, 68: None, 69: 440.0, 70: None, 71: 495.0, 72: 528.0}
    for note, hz in expected.items():
        if hz is None:
            assert got[note] is None
        else:
            assert got[note] == pytest.approx(hz, rel=1e-12)
    assert '"hz": null' in out


def test_plain_table_is_aligned():
    code, out, _ = _run(["tuning", "show", "24edo", "--notes", "67-71"])
    assert code == 0
    lines = out.splitlines()
    assert lines[0].startswith("# 24edo")
    assert lines[1] == "# mapping: default (1/1 = MIDI 60 = 261.6256 Hz)"
    body = lines[2:]
    assert len(body) == 6 and len({len(line) for line in body}) == 1  # header + 5 rows, same width
    cols = [line.split() for line in body[1:]]
    # 24-EDO from C4 = 261.6256 Hz: key 60 + k is k quarter tones above C4 (68 = E4, 70 = F4)
    assert cols[1] == ["68", "E4", "+0.0", "329.6276"]
    assert cols[3] == ["70", "F4", "+0.0", "349.2282"]
    assert cols[2][0] == "69" and float(cols[2][3]) == pytest.approx(261.6255653 * 2 ** (9 / 24), abs=1e-4)


def test_plain_table_shows_unmapped(tmp_path):
    kbm = write(tmp_path, "k.kbm", "2\n0\n127\n60\n60\n261.6255653005986\n12\n0\nx\n")
    code, out, _ = _run(["tuning", "show", "12edo", "--kbm", str(kbm), "--notes", "60-61"])
    assert code == 0
    assert out.splitlines()[1].startswith("# mapping: k.kbm (reference note 60 = 261.626 Hz, middle note 60")
    rows = [line.split() for line in out.splitlines()[3:]]
    assert rows[0] == ["60", "C4", "+0.0", "261.6256"]
    assert rows[1] == ["61", "-", "unmapped"]


def test_errors_are_one_line_and_exit_1(tmp_path):
    bad = write(tmp_path, "bad.scl", "desc\n3\n100.0\nfoo\n2/1\n")
    code, out, err = _run(["tuning", "show", str(bad)])
    assert code == 1 and out == ""
    assert err == f"error: {bad}:4: pitch 'foo' is not a ratio a/b, an integer or cents with a '.'\n"
    code, _, err = _run(["tuning", "show", "zz"])
    assert code == 1 and err.count("\n") == 1 and "unknown tuning 'zz'" in err
    kbm = write(tmp_path, "k.kbm", "0\n0\n127\n60\n69\n440\n0\n")
    code, out, err = _run(["tuning", "show", "12edo", "--kbm", str(kbm), "--ref-hz", "432"])
    assert code == 1 and out == "" and err.count("\n") == 1 and "--kbm sets the middle note" in err


def test_parse_notes():
    assert parse_notes("0-127") == list(range(128))
    assert parse_notes("60") == [60]
    assert parse_notes("72,48-50,49") == [48, 49, 50, 72]
    for bad in ("0-128", "10-5", "a-b", "", "-1"):
        with pytest.raises(argparse.ArgumentTypeError):
            parse_notes(bad)
    with pytest.raises(SystemExit):
        _run(["tuning", "show", "12edo", "--notes", "0-200"])
