"""Patch <-> engine: build an engine's graph from a validated patch, and a patch from the engine."""

from __future__ import annotations

import os
from pathlib import Path

from livehost import audiofile
from livehost.engine.engine import Engine
from livehost.engine.graph import Layer, Node
from livehost.patch import LayerSpec, NodeSpec, Patch
from livehost.paths import patch_model_path


def resolve_input(patch: Patch, override: str | None) -> dict:
    """The effective ``[input]`` table: the patch's, or ``override`` (``"mic"``, ``"none"`` or a file)."""
    inp = dict(patch.input)
    if override is None:
        if inp.get("source") == "file" and patch.path:
            f = inp["file"]
            if not os.path.isabs(f):
                inp["file"] = str(Path(patch.path).parent / f)
        return inp
    if override in ("mic", "none"):
        return {"source": override}
    keep = {k: v for k, v in inp.items() if k in ("gain_db", "loop", "start_s")}
    return {"source": "file", "file": override, **keep}


def apply_patch(engine: Engine, patch: Patch, input_override: str | None = None,
                loop: bool | None = None) -> dict:
    """Load ``patch`` into ``engine`` (file sources are read and resampled here); returns the input used.

    All or nothing: if anything fails (a missing file, no engine memory), the engine keeps the graph
    it had and the error (a LivehostError) says why in one line."""
    mode, sources, inp = patch_sources(engine, patch, input_override, loop)
    engine.build(mode, sources, patch.engine_chain(), dict(patch.master))
    engine.set_input_channels(patch.input.get("channels"))
    return inp


def patch_sources(engine: Engine, patch: Patch, input_override: str | None = None,
                  loop: bool | None = None, bpm: float | None = None) -> tuple[str, list, dict]:
    """Everything :meth:`Engine.build` needs for ``patch`` besides its chain, prepared off the engine
    (files read and resampled to the engine's rate): ``(input mode, source tuples, input table)``;
    note divisions at ``bpm`` (default the patch's tempo)."""
    inp = resolve_input(patch, input_override)
    sources = []
    if inp["source"] == "file":
        audio, _ = audiofile.read(inp["file"], sr=engine.sr)
        values = {k: inp[k] for k in ("gain_db", "loop", "start_s") if k in inp}
        if loop is not None:
            values["loop"] = bool(loop)
        sources.append(("file", "input", values, audio.ravel(), {"file": inp["file"]}))
    if patch.synth is not None:
        sources.append(synth_source(patch, bpm))
    gen = generator_model(patch)
    if gen is not None:
        from livehost.nodes.generator import generator_source

        sources.append(generator_source(str(gen), engine.sr))
    mode = "mic" if inp["source"] == "mic" else "none"
    return mode, sources, inp


def generator_model(patch: Patch):
    """The generator model (a Path) the patch names in ``[models] generator``, or None.

    The model and its card are checked first (a :class:`~livehost.errors.LivehostError` naming the file
    when either is missing or unreadable).
    """
    path = patch_model_path(patch.extra.get("models"), "generator", patch.path)
    if path is not None:
        # imported here so that the generator's code (numba, scipy.fft) loads only for patches that have one
        from livehost.ml.generator.worker import load_model

        load_model(path)
    return path


def synth_source(patch: Patch, bpm: float | None = None) -> tuple:
    """The ``[synth]`` section as an engine source: the tuning's 128-note table (Hz) is its payload.

    The tuning keys (``tuning``, ``kbm``, ``middle_note``, ``ref_note``, ``ref_hz``) mean what
    :func:`livehost.tuning.tuning_from_keys` says: without a ``.kbm`` or a reference, Scala's default
    (1/1 on MIDI note 60 at 261.6256 Hz); file names are relative to the patch's folder. Note
    divisions among its values are taken at ``bpm`` (default the patch's tempo)."""
    from livehost.tuning import tuning_from_keys

    sy = patch.synth
    base = Path(patch.path).parent if patch.path else Path(".")
    tuning = tuning_from_keys(sy, base)
    options = {k: v for k, v in sy.items() if k != "values"}
    return ("synth", sy.get("id", "synth"), patch.synth_values(bpm), tuning.table().astype(float), options)


def heap_for(patch: Patch, input_override: str | None, sr: float) -> int:
    """Extra arena slots a patch's file source needs (its samples, stereo, at ``sr``)."""
    inp = resolve_input(patch, input_override)
    if inp["source"] != "file":
        return 0
    import soundfile as sf

    try:
        info = sf.info(inp["file"])
    except Exception:  # the real read reports the error with the file name
        return 0
    return int(info.frames * sr / info.samplerate * 2) + 4096


def engine_for(patch: Patch, sr: float | None = None, blocksize: int | None = None, in_ch: int = 2,
               out_ch: int = 2, input_override: str | None = None, loop: bool | None = None) -> Engine:
    """A new engine at the patch's (or the given) rate and block size, with the patch loaded."""
    sr = float(sr or patch.samplerate)
    eng = Engine(sr, int(blocksize or patch.blocksize), in_ch, out_ch,
                 extra_slots=heap_for(patch, input_override, sr))
    apply_patch(eng, patch, input_override, loop)
    return eng


def patch_from_engine(engine: Engine, base: Patch) -> Patch:
    """The engine's current graph and values as a patch (keeping ``base``'s header and sections)."""
    p = Patch(name=base.name, samplerate=base.samplerate, blocksize=base.blocksize, input=dict(base.input),
              master={}, extra=dict(base.extra), path=base.path)
    p.chain = _specs(engine.chain, engine.a)
    for q in engine.master.params:
        if q.name in ("wet", "bypass"):
            continue
        v = engine.master.values[q.name]
        if v != q.default:
            p.master[q.name] = v
    return p


def _specs(items: list, a) -> list:
    """Specs of the engine's ``items`` (``a``: the engine's arena); a node type's own state (an LV2
    plugin's) is read from the live node into its ``state`` option."""
    out = []
    for it in items:
        if isinstance(it, Node):
            vals = {q.name: it.values[q.name] for q in it.params if it.values[q.name] != q.default}
            options = {k: it.options[k] for k in it.type.options if k in it.options}
            if it.type.save_state is not None:
                text = it.type.save_state(a[it.sbase:it.sbase + it.ssize])
                options.pop("state", None)
                if text:
                    options["state"] = text
            out.append(NodeSpec(it.type.name, it.id, vals, options))
        elif isinstance(it, Layer):
            vals = {k: v for k, v in it.values.items() if v != {"wet": 1.0, "bypass": False}[k]}
            out.append(LayerSpec(it.id, vals, [(b.gain_db, _specs(b.chain, a)) for b in it.branches]))
    return out
