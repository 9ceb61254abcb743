"""The one-line chain language: good strings give the right patch items, bad ones one-line errors."""

import pytest

from livehost.patch import LayerSpec, NodeSpec
from livehost.tools.chainspec import ChainError, chain_patch, format_chain, parse_chain, resolve_key, tokenize


def test_article_chain():
    items = parse_chain("reverse | delay ms=1000 repeats=3 fade=0.5 | stretch factor=2 | layer(reverse, delay ms=250)")
    assert [type(i) for i in items] == [NodeSpec, NodeSpec, NodeSpec, LayerSpec]
    assert items[0].type == "reverse" and items[0].values == {}
    assert items[1].type == "delay"
    assert items[1].values == {"time_ms": 1000.0, "repeats": 3.0, "fade": 0.5, "mode": "repeats"}
    assert items[2].values == {"factor": 2.0}
    lay = items[3]
    assert len(lay.branches) == 2
    assert [b[1][0].type for b in lay.branches] == ["reverse", "delay"]
    assert lay.branches[1][1][0].values == {"time_ms": 250.0}
    ids = [items[0].id, items[1].id, items[2].id, lay.id] + [b[1][0].id for b in lay.branches]
    assert len(set(ids)) == len(ids)


def test_branches_semicolon_subchains_gain_dry_and_layer_settings():
    items = parse_chain("layer(dry; -6dB: reverse ms=100 | delay ms=250 mode=pingpong, +3dB: gain db=-3) wet=0.5 id=par")
    lay = items[0]
    assert lay.id == "par" and lay.values == {"wet": 0.5}
    assert lay.branches[0] == (0.0, [])
    g, ch = lay.branches[1]
    assert g == -6.0 and [n.type for n in ch] == ["reverse", "delay"]
    assert ch[0].values == {"window_ms": 100.0}
    assert ch[1].values == {"time_ms": 250.0, "mode": "pingpong"}
    assert lay.branches[2][0] == 3.0 and lay.branches[2][1][0].values == {"gain_db": -3.0}


def test_nested_layers_and_empty_branch():
    items = parse_chain("layer(, layer(dry, pitch st=12) | reverb decay=3)")
    inner = items[0].branches[1][1]
    assert items[0].branches[0] == (0.0, [])
    assert isinstance(inner[0], LayerSpec) and inner[0].branches[1][1][0].type == "pitch_shift"
    assert inner[1].values == {"decay_s": 3.0}


@pytest.mark.parametrize("node,key,param", [
    ("delay", "ms", "time_ms"), ("delay", "time", "time_ms"), ("delay", "fb", "feedback"),
    ("delay", "rep", "repeats"), ("reverse", "ms", "window_ms"), ("freq_shift", "hz", "shift_hz"),
    ("pitch_shift", "st", "semitones"), ("filter", "hz", "freq_hz"), ("gain", "db", "gain_db"),
    ("reverb", "s", "decay_s"), ("delay", "mix", "wet"), ("delay", "time_ms", "time_ms"),
])
def test_aliases(node, key, param):
    from livehost.nodes import all_params, load_all

    assert resolve_key(key, list(all_params(load_all()[node]))) == param


def test_values_bool_choice_quoted():
    items = parse_chain('stretch freeze=on mode=tape speed=0.5 | delay division="1/8d" sync=yes bypass=false')
    assert items[0].values == {"freeze": True, "mode": "tape", "speed": 0.5}
    assert items[1].values == {"division": "1/8d", "sync": True, "bypass": False}
    assert parse_chain("stretch speed=0.5")[0].values["mode"] == "tape"  # implied


def test_format_roundtrip():
    text = "reverse | delay ms=1000 repeats=3 | layer(dry, -6dB: reverse | delay ms=250) wet=0.5"
    items = parse_chain(text)
    again = parse_chain(format_chain(items))
    assert format_chain(again) == format_chain(items)


def test_chain_patch_is_a_valid_patch():
    p = chain_patch("delay ms=300 | layer(reverse, dry)", samplerate=44100, blocksize=256)
    assert p.samplerate == 44100 and p.blocksize == 256 and p.input == {"source": "mic"}
    assert p.chain[0].values["time_ms"] == 300.0


@pytest.mark.parametrize("text,needle", [
    ("", "the chain is empty"),
    ("dleay ms=3", "column 1: 'dleay' is not a node type (did you mean 'delay'?)"),
    ("reverse | delay feedbak=0.3", "column 17: delay has no parameter 'feedbak' (did you mean 'feedback'?)"),
    ("delay fb=1.5", "delay.feedback = 1.5 is outside 0..0.99"),
    ("delay mode=rep", "delay.mode = 'rep' is not one of feedback, repeats, pingpong"),
    ("delay ms=abc", "delay.time_ms = 'abc' must be a number"),
    ("stretch freeze=maybe", "stretch.freeze = 'maybe' must be true or false"),
    ("reverse, delay", "',' separates branches only inside layer"),
    ("reverse delay", "expected key=value after reverse, found 'delay' (nodes are separated by '|')"),
    ("layer(reverse", "expected ')' to close layer(, found the end of the chain"),
    ("layer reverse", "expected '(' after layer"),
    ("delay ms", "expected key=value after delay"),
    ("delay ms=", "needs a value"),
    ("reverse |", "expected a node type, found the end of the chain"),
    ("| reverse", "column 1: expected a node type, found '|'"),
    ('delay division="1/8d', "a quoted value is not closed"),
    ("delay ms=10 ms=20", "delay.time_ms is set twice"),
    ("delay id=a | reverse id=a", "id 'a' is used twice"),
    ("layer(-99dB: reverse)", "branch gain_db = -99.0 is outside -60..24"),
    ("layer(a)", "'a' is not a node type"),
    ("reverse)", "unexpected ')'"),
    ("layer(layer(layer(layer(layer(reverse)))))", "layers nest more than 4 deep"),
])
def test_bad_strings_one_line_errors(text, needle):
    with pytest.raises(ChainError) as e:
        parse_chain(text)
    msg = str(e.value)
    assert needle in msg
    assert "\n" not in msg and msg.startswith("chain: ")


def test_tokenizer_columns():
    toks = tokenize('a | b(c=1, "x y")')
    assert [(t.kind, t.text, t.col) for t in toks[:4]] == [("word", "a", 1), ("sym", "|", 3), ("word", "b", 5),
                                                           ("sym", "(", 6)]
    assert toks[-2].kind == "sym" and toks[-3] .kind == "quoted" and toks[-3].text == "x y"
