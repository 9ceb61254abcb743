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


def test_json_31edo():
    code, out, err = _run(["tuning", "show", "31edo", "--json"])
    assert code == 0 and err == ""
    rows = json.loads(out)
    assert [r["note"] for r in rows] == list(range(128))
    for r in rows:
        assert r["hz"] == pytest.approx(440.0 * 2 ** ((r["note"] - 69) / 31), rel=1e-12)
    assert rows[69]["hz"] == 440.0
    assert rows[100]["hz"] == pytest.approx(880.0, rel=1e-12)


def test_json_scl_and_kbm_with_unmapped_keys(tmp_path):
    scl = write(tmp_path, "major.scl", "! m\nJust major\n 7\n9/8\n5/4\n4/3\n3/2\n5/3\n15/8\n2/1\n", "\r\n")
    kbm = write(tmp_path, "white.kbm", "12\n0\n127\n60\n69\n440.0\n7\n0\nx\n1\nx\n2\n3\nx\n4\nx\n5\nx\n6\n")
    code, out, _ = _run(["tuning", "show", str(scl), "--kbm", str(kbm), "--notes", "59-72", "--json"])
    assert code == 0
    rows = json.loads(out)
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
    body = lines[1:]
    assert len(body) == 6 and len({len(line) for line in body}) == 1  # header + 5 rows, same width
    cols = [line.split() for line in body[1:]]
    assert cols[2] == ["69", "A4", "+0.0", "440.0000"]
    assert cols[3][1:3] == ["A#4", "-50.0"]  # exactly halfway names the upper note
    assert float(cols[3][3]) == pytest.approx(440 * 2 ** (1 / 24), abs=1e-4)


def test_plain_table_shows_unmapped(tmp_path):
    kbm = write(tmp_path, "k.kbm", "2\n0\n127\n60\n60\n261.6255653005986\n12\n0\nx\n")
    code, out, _ = _run(["tuning", "show", "12edo", "--kbm", str(kbm), "--notes", "60-61"])
    assert code == 0
    rows = [line.split() for line in out.splitlines()[2:]]
    assert rows[0] == ["60", "C4", "+0.0", "261.6256"]
    assert rows[1] == ["61", "-", "unmapped"]


def test_errors_are_one_line_and_exit_1(tmp_path):
    bad = write(tmp_path, "bad.scl", "desc\n3\n100.0\nfoo\n2/1\n")
    code, out, err = _run(["tuning", "show", str(bad)])
    assert code == 1 and out == ""
    assert err == f"error: {bad}:4: pitch 'foo' is not a ratio a/b, an integer or cents with a '.'\n"
    code, _, err = _run(["tuning", "show", "zz"])
    assert code == 1 and err.count("\n") == 1 and "unknown tuning 'zz'" in err


def test_parse_notes():
    assert parse_notes("0-127") == list(range(128))
    assert parse_notes("60") == [60]
    assert parse_notes("72,48-50,49") == [48, 49, 50, 72]
    for bad in ("0-128", "10-5", "a-b", "", "-1"):
        with pytest.raises(argparse.ArgumentTypeError):
            parse_notes(bad)
    with pytest.raises(SystemExit):
        _run(["tuning", "show", "12edo", "--notes", "0-200"])
