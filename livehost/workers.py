"""The threads beside the audio: MIDI input, the genre classifier and the generator, started from a patch.

A patch asks for them in its sections (``[midi]`` port/virtual port and CC maps, ``[models] classifier``
and ``[models] generator``); the command line can add a MIDI port. Each worker touches the audio only
through the engine's shared arrays (MIDI ring, analysis tap, generator ring), so none of them can make
the callback wait. A worker that cannot start (no MIDI API, a missing model) is reported in
:attr:`Workers.problems` and the audio carries on without it.
"""

from __future__ import annotations

import logging
import threading

from livehost.errors import LivehostError
from livehost.midi.input import MidiInput, MidiMonitor, MidiRouter, uses_jack
from livehost.midi.tap import MidiTapReader
from livehost.midi.mapping import MidiConfig, MidiMap, parse_midi_section

log = logging.getLogger("livehost.workers")


def midi_config(patch) -> MidiConfig:
    """The patch's ``[midi]`` section as a :class:`MidiConfig` (already validated when it was loaded)."""
    table = patch.extra.get("midi")
    return parse_midi_section(table) if table else MidiConfig()


class Workers:
    """MIDI router (always), MIDI ports, classifier and generator workers for one engine and patch.

    engine: the running (or about to run) engine; patch: the loaded patch; midi_port: a port name
    substring or pattern to follow (overrides the patch's ``[midi] port``); midi_virtual: also open a
    virtual input port with this name; midi_api: "auto", "jack" or "alsa"; on_program(n): called for a
    program change (on the MIDI thread); start_models: start the classifier/generator threads (False
    for tests that pump them by hand); port_by_driver: the audio driver (JACK) connects the MIDI port
    itself and reads it in its real-time callback, so no rtmidi port is opened for it here.
    ``on_clock(status, frame)``: set it to receive MIDI clock, start, continue and stop (with the engine
    frame they arrived at, or None) from whichever port is open.
    """

    def __init__(self, engine, patch, midi_port: str | None = None, midi_virtual: str | None = None,
                 midi_api: str = "auto", on_program=None, start_models: bool = True, port_by_driver: bool = False):
        self.engine = engine
        self.problems: list[str] = []
        self.monitor = MidiMonitor()
        self.learned: list[MidiMap] = []  # binds made by MIDI learn since the last poll
        self._lock = threading.Lock()
        self.on_program = on_program
        self.midi: MidiInput | None = None
        self.on_clock = None  # (status, engine frame or None): MIDI clock, start, continue, stop
        self.on_tap = None  # (engine frame or None): a press of the patch's tap-tempo switch
        self.router: MidiRouter = MidiRouter(engine, MidiConfig(), monitor=self.monitor,
                                             on_program=self._program, on_clock=self._clock)
        self.router.on_tap = self._tap_tempo
        self.classifier = None
        self.generator = None
        self._midi_args = (midi_port, midi_virtual, midi_api)
        self._start_models = start_models
        self.port_by_driver = port_by_driver
        # the JACK driver plays its MIDI port's notes itself; the rest (monitor, maps, learn, programs,
        # MTS) comes here through the tap
        self.tap: MidiTapReader | None = MidiTapReader(engine, self._from_tap).start() if port_by_driver else None
        self.retarget(patch)

    # ---- MIDI -------------------------------------------------------------------------------------
    def _program(self, n: int) -> None:
        if self.on_program is not None:
            self.on_program(n)

    def _clock(self, status: int, frame: int | None) -> None:
        if self.on_clock is not None:
            self.on_clock(status, frame)

    def _tap_tempo(self, frame: int | None) -> None:
        if self.on_tap is not None:
            self.on_tap(frame)

    def _from_tap(self, msg: list[int], frame: int) -> None:
        self.router.handle(msg, delivered=True, frame=frame)

    def _on_learned(self, m: MidiMap) -> None:
        with self._lock:
            self.learned.append(m)

    def poll_learned(self) -> list[MidiMap]:
        """Maps MIDI learn made since the last call (for the UI to announce and mark unsaved)."""
        with self._lock:
            out, self.learned = self.learned, []
        return out

    def _open_midi(self, cfg: MidiConfig) -> None:
        port, virtual, api = self._midi_args
        port = None if self.port_by_driver else port or cfg.port
        virtual = virtual or cfg.virtual
        api = api if api != "auto" else cfg.api
        if self.midi is not None and (self.midi.port_pattern, self.midi.virtual_name) == (port, virtual):
            return  # the same ports: its router (self.router) already follows cfg, set by retarget
        self._close_midi()
        if not port and not virtual:
            return
        if self.port_by_driver and virtual and uses_jack(api):
            # the JACK driver's own midi_in is the port to connect to; a second JACK MIDI client
            # would need a second reader of the device ring
            log.info("MIDI: on the JACK driver, connect to its midi_in port (no virtual port '%s')", virtual)
            return
        try:
            mi = MidiInput(self.engine, port=port, api=api, virtual=virtual, config=cfg, synth_id=self.synth_id,
                           on_program=self._program, monitor=self.monitor)
            mi.open()
        except Exception as e:  # no MIDI API in this machine, JACK not running...: audio goes on
            self.problems.append(f"MIDI input: {e}")
            log.warning("MIDI input: %s", e)
            return
        self.midi = mi
        self.router = mi.router
        self.router.learn.on_learned = self._on_learned
        self.router.on_clock = self._clock
        self.router.on_tap = self._tap_tempo

    def _close_midi(self) -> None:
        if self.midi is not None:
            self.midi.close()
            self.midi = None

    # ---- models -----------------------------------------------------------------------------------
    def prepare(self, patch) -> dict:
        """Load the models ``patch`` names before it replaces the playing patch, so that a model that
        cannot load stops the switch (LivehostError, one line) while the old patch plays on. The result
        goes to :meth:`retarget`."""
        from livehost.engine.patching import generator_model
        from livehost.ml.classifier import ClassifierWorker, classifier_path
        from livehost.ml.generator.worker import FrameGenerator

        ready: dict = {}
        path = classifier_path(patch.extra.get("models"), patch.path)
        if path is not None and (self.classifier is None or self.classifier.model_path != path):
            w = ClassifierWorker(self.engine, path)
            if not w.load():
                raise LivehostError(f"genre classifier: {w.snapshot.error}")
            ready["classifier"] = w
        gen = generator_model(patch)
        if gen is not None:
            try:
                ready["generator"] = FrameGenerator(gen)
            except LivehostError as e:
                raise LivehostError(f"generator: {e}") from None
            except Exception as e:  # onnxruntime's own errors: one line, the old patch plays on
                raise LivehostError(f"generator: {gen}: cannot load the model: {str(e).splitlines()[0]}") from None
        return ready

    def _start_classifier(self, patch, ready=None) -> None:
        from livehost.ml.classifier import ClassifierWorker, classifier_path

        path = classifier_path(patch.extra.get("models"), patch.path)
        if self.classifier is not None and (path is None or self.classifier.model_path != path):
            self.classifier.stop()
            self.classifier = None
        if path is None or self.classifier is not None:
            return
        w = ready if ready is not None else ClassifierWorker(self.engine, path)
        if not w.load():
            self.problems.append(f"genre classifier: {w.snapshot.error}")
        self.classifier = w.start() if self._start_models else w

    def _start_generator(self, frames=None) -> None:
        from livehost.ml.generator.worker import GeneratorWorker

        if self.generator is not None:
            self.generator.stop()  # gives the old node's memory back to the engine
            self.generator = None
        src = next((s for s in self.engine.sources if s.type.name == "generator"), None)
        if src is None:
            return
        try:
            w = GeneratorWorker(self.engine, src.id, src.options["model"], frames=frames)
        except LivehostError as e:
            self.problems.append(f"generator: {e}")
            return
        w.pump()  # the ring is ahead before the first block asks for it
        self.generator = w.start() if self._start_models else w

    # ---- lifecycle --------------------------------------------------------------------------------
    def retarget(self, patch, ready: dict | None = None) -> None:
        """Follow a (newly loaded) patch: its CC maps, MIDI ports and models (``ready``: what
        :meth:`prepare` loaded for it)."""
        ready = ready or {}
        cfg = midi_config(patch)
        self.synth_id = patch.synth.get("id", "synth") if patch.synth else "synth"
        self.router.config = cfg
        self.router.learn.maps = cfg.maps
        self.router.learn.on_learned = self._on_learned
        self.router.synth_id = self.synth_id
        self.router.tuning = None  # rebuilt from the synth's table at the next MTS message
        self._open_midi(cfg)
        self._start_classifier(patch, ready.get("classifier"))
        self._start_generator(ready.get("generator"))

    @property
    def maps(self) -> list[MidiMap]:
        """The live CC maps (the patch's plus what MIDI learn bound)."""
        return self.router.config.maps

    def stats(self) -> dict:
        """Worker figures for ``--stats-json``: MIDI events, classifications, generator underruns."""
        out = {"midi_events": self.monitor.received, "midi_dropped": self.monitor.dropped,
               "midi_port": self.midi.connected_port if self.midi else None, "worker_problems": list(self.problems)}
        if self.classifier is not None:
            snap = self.classifier.snapshot
            out["classifications"] = snap.count
            out["classifier"] = snap.as_dict()
        if self.generator is not None:
            out["generator_underruns"] = self.generator.underruns
            out["generator_underrun_frames"] = self.generator.underrun_frames
        return out

    def stop(self) -> None:
        """Stop every worker thread and close the MIDI ports."""
        for w in (self.classifier, self.generator):
            if w is not None:
                w.stop()
        self.classifier = self.generator = None
        self._close_midi()
        if self.tap is not None:
            self.tap.stop()
            self.tap = None
