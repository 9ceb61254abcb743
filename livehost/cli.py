"""The ``livehost`` command: run a patch live, render it offline, check it, list devices.

Every user-facing failure is one line on stderr (``livehost: error: ...``) and exit code 1 — never a
traceback.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import threading
import time
from pathlib import Path

from livehost.engine.layout import JT_MAX_PORTS
from livehost.errors import LivehostError

DEFAULT_PATCH = "patches/default.toml"


def _optional_parsers(sub) -> None:
    """Subcommands contributed by other rooms of the package, when present."""
    from livehost.ml.generator.cli import add_generate_parser

    for modname in ("livehost.tuning.cli", "livehost.ml.features_cli", "livehost.ml.classify_cli",
                    "livehost.ml.train_cli", "livehost.tools.cli"):
        mod = __import__(modname, fromlist=["add_parser"])
        mod.add_parser(sub)
    add_generate_parser(sub)


def build_parser() -> argparse.ArgumentParser:
    """The argument parser for every subcommand."""
    ap = argparse.ArgumentParser(prog="livehost", description="A real-time audio host for live performers.")
    sub = ap.add_subparsers(dest="command", metavar="COMMAND")

    p = sub.add_parser("devices", help="list audio devices and MIDI ports")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(func=cmd_devices)

    p = sub.add_parser("run", help="run a patch live (sound card, JACK, or the null driver)")
    p.add_argument("patch", nargs="?", default=DEFAULT_PATCH, help="patch file (TOML)")
    _driver_args(p, reconnect_default=False)
    p.add_argument("--input", default=None, help="'mic', 'none' or an audio file (overrides [input])")
    p.add_argument("--loop", action="store_true", help="loop the input file")
    p.add_argument("--output", default=None, help="also record the output to this file (.wav/.flac)")
    p.add_argument("--duration", type=float, default=None, help="stop after this many seconds")
    p.add_argument("--blocksize", type=int, default=None, help="frames per block (32..1024)")
    p.add_argument("--samplerate", type=int, default=None, help="sample rate in Hz")
    p.add_argument("--stats-json", default=None, help="write run statistics as JSON here on exit")
    p.add_argument("--stress-gil", action="store_true",
                   help="run a busy pure-Python thread beside the audio (a real-time self-test)")
    p.add_argument("--quiet", action="store_true", help="no status line")
    _midi_args(p)
    _osc_args(p)
    p.set_defaults(func=cmd_run)

    p = sub.add_parser("render", help="render a patch over an audio file, offline")
    p.add_argument("patch")
    p.add_argument("--input", required=False, default=None, help="input audio file")
    p.add_argument("--midi", default=None, metavar="FILE.mid",
                   help="play a MIDI file through the patch (its synth); lasts until the last release decays")
    p.add_argument("--output", required=True, help="output audio file (.wav/.flac/.ogg)")
    p.add_argument("--tail", type=float, default=2.0, help="seconds rendered after the input ends")
    p.add_argument("--blocksize", type=int, default=None, help="frames per block")
    p.add_argument("--samplerate", type=int, default=None, help="sample rate in Hz")
    p.add_argument("--stats-json", default=None, help="write render statistics as JSON here")
    p.set_defaults(func=cmd_render)

    p = sub.add_parser("ui", help="open the patching UI on a patch (the default with no command)")
    p.add_argument("patch", nargs="?", default=None, help="patch file (default: the last one used, or "
                   f"{DEFAULT_PATCH})")
    _ui_args(p)
    p.set_defaults(func=cmd_ui)

    p = sub.add_parser("check", help="validate a patch file")
    p.add_argument("patch")
    p.set_defaults(func=cmd_check)

    p = sub.add_parser("latency", help="the latency of each node of a patch, the graph's and (with a driver) the round trip")
    p.add_argument("patch")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_latency)

    p = sub.add_parser("warm", help="compile the audio engine and the models' kernels into the cache "
                       "(setup runs it)")
    p.add_argument("--quiet", action="store_true", help="print nothing but errors")
    p.set_defaults(func=cmd_warm)

    p = sub.add_parser("nodes", help="node types and their parameters (units, ranges, defaults, smoothing)")
    p.add_argument("type", nargs="?", default=None, help="one node type (default: all)")
    fmt = p.add_mutually_exclusive_group()
    fmt.add_argument("--json", action="store_true", help="print JSON")
    fmt.add_argument("--markdown", action="store_true", help="print docs/nodes.md")
    p.set_defaults(func=cmd_nodes)

    p = sub.add_parser("plugins", help="installed LV2 plugins: ports, ranges, latency port, whether livehost runs them")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.add_argument("--search", default=None, metavar="TEXT", help="only plugins whose URI, name or class contains TEXT")
    p.set_defaults(func=cmd_plugins)

    _optional_parsers(sub)
    return ap


def _jack_channels(text: str) -> int:
    """``--channels N``: JACK audio ports each way, 1..JT_MAX_PORTS (argparse type)."""
    try:
        n = int(text)
    except ValueError:
        n = 0
    if not 1 <= n <= JT_MAX_PORTS:
        raise argparse.ArgumentTypeError(f"{text!r} is not a channel count (1..{JT_MAX_PORTS})")
    return n


def _driver_args(p, reconnect_default: bool) -> None:
    p.add_argument("--driver", choices=("auto", "jack", "portaudio", "null"), default="auto",
                   help="audio driver (auto: JACK if a server is running, else PortAudio if a device exists, "
                        "else null)")
    p.add_argument("--device", default=None, help="audio device name fragment or index (PortAudio)")
    p.add_argument("--input-device", default=None, metavar="DEVICE",
                   help="input device name fragment or index, when it is not --device (PortAudio)")
    p.add_argument("--output-device", default=None, metavar="DEVICE",
                   help="output device name fragment or index, when it is not --device (PortAudio)")
    p.add_argument("--channels", type=_jack_channels, default=2, metavar="N",
                   help=f"JACK: audio ports each way, in_1..N and out_1..N (1..{JT_MAX_PORTS}, default 2; "
                        "the output is on out_1, out_2, the others silent; [input] channels picks the inputs)")
    p.add_argument("--client-name", default="livehost", help="JACK client name (default livehost)")
    p.add_argument("--no-connect", action="store_true",
                   help="JACK: do not connect the ports to the system ports")
    p.add_argument("--reconnect", action=argparse.BooleanOptionalAction, default=reconnect_default,
                   help="when the audio server (JACK, or PortAudio's device) goes away, carry on with the null "
                        "driver and reconnect when it "
                        "is back (default: " + ("on" if reconnect_default else "off: stop with status 1") + ")")


def _ui_args(p) -> None:
    _driver_args(p, reconnect_default=True)
    p.add_argument("--input", default=None, help="'mic', 'none' or an audio file (overrides [input])")
    p.add_argument("--blocksize", type=int, default=None, help="frames per block (32..1024)")
    p.add_argument("--samplerate", type=int, default=None, help="sample rate in Hz")
    _midi_args(p)
    _osc_args(p)


def _osc_args(p) -> None:
    p.add_argument("--osc", type=int, default=None, metavar="PORT",
                   help="listen for OSC on this UDP port (0: any free port; overrides [osc] port)")
    p.add_argument("--osc-host", default=None, metavar="ADDR",
                   help="the address OSC listens on (default 127.0.0.1: this machine only; "
                        "0.0.0.0 opens it to the network)")


def _start_osc(args, session):
    """The OSC server ``--osc`` / ``--osc-host`` or the patch's ``[osc]`` ask for (started), or None."""
    from livehost.osc.server import OscServer, osc_settings

    port, host = osc_settings(session.patch, args.osc, args.osc_host)
    if port is None:
        return None
    if not 0 <= port <= 65535:
        raise LivehostError(f"--osc {port}: a UDP port is 0..65535")
    return OscServer(session, port, host).start()


def _midi_args(p) -> None:
    p.add_argument("--midi", default=None, metavar="PORT",
                   help="MIDI input port to follow: a name fragment or pattern (overrides [midi] port)")
    p.add_argument("--midi-virtual", default=None, metavar="NAME",
                   help="also open a virtual MIDI input port with this name")
    p.add_argument("--midi-api", choices=("auto", "jack", "alsa"), default="auto",
                   help="MIDI API (auto: ALSA if the sequencer exists, else JACK)")
    p.add_argument("--clock-in", action="store_true",
                   help="follow incoming MIDI clock (24 ppqn) as the session tempo (as [tempo] source = \"clock\")")
    p.add_argument("--clock-out", action="store_true",
                   help="send MIDI clock at the session tempo from the JACK driver's midi_out (sample-accurate)")


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``livehost`` console script; returns the exit code."""
    ap = build_parser()
    argv = sys.argv[1:] if argv is None else list(argv)
    if not argv or argv[0].startswith("--") and argv[0] not in ("--help", "-h"):
        argv = ["ui", *argv]  # plain `livehost [--driver ...]` opens the UI
    args = ap.parse_args(argv)
    if not getattr(args, "command", None):
        ap.print_help()
        return 0
    try:
        return int(args.func(args) or 0)
    except LivehostError as e:
        print(f"livehost: error: {e}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


# ---- compile progress -------------------------------------------------------------------------
COMPILE_MSG = "compiling the audio engine (once, ~1 min)"


class CompileNotice:
    """While the audio engine loads: a progress line on ``stream`` with the seconds elapsed.

    expected: a compile is known to be needed (:func:`livehost.engine.codegen.compile_needed`): the line
    shows at once; otherwise only if loading takes longer than ``grace_s`` seconds (a cache that did not
    match).  On a terminal the line counts up in place; elsewhere (logs) it is written once, then every
    ``log_every_s`` seconds, then once more when done.  ``shown``: whether the line appeared; ``elapsed_s``:
    how long the block took (s).  Use as a context manager around the code that compiles.
    """

    def __init__(self, expected: bool, quiet: bool = False, grace_s: float = 2.0, stream=None,
                 log_every_s: float = 15.0):
        self.expected = expected
        self.quiet = quiet
        self.grace_s = grace_s
        self.stream = stream if stream is not None else sys.stderr
        self.log_every_s = log_every_s
        self.shown = False
        self.elapsed_s = 0.0
        self._t0 = 0.0
        self._done = threading.Event()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None

    def __enter__(self) -> "CompileNotice":
        self._t0 = time.monotonic()
        if not self.quiet:
            self._thread = threading.Thread(target=self._tick, name="livehost-compile-notice", daemon=True)
            self._thread.start()
        return self

    def _write(self, text: str) -> None:
        try:
            self.stream.write(text)
            self.stream.flush()
        except (OSError, ValueError):  # a closed or broken stream must not break the start-up
            pass

    def _tick(self) -> None:
        tty = bool(getattr(self.stream, "isatty", lambda: False)())
        if not self.expected and self._done.wait(self.grace_s):
            return
        last_log = 0.0
        while True:
            dt = time.monotonic() - self._t0
            with self._lock:
                if self._done.is_set():
                    return
                if tty:
                    self._write(f"\rlivehost: {COMPILE_MSG} ... {dt:.0f} s")
                elif not self.shown or dt - last_log >= self.log_every_s:
                    self._write(f"livehost: {COMPILE_MSG} ... {dt:.0f} s\n")
                    last_log = dt
                self.shown = True
            if self._done.wait(1.0):
                return

    def __exit__(self, *exc) -> None:
        self.elapsed_s = time.monotonic() - self._t0
        with self._lock:
            self._done.set()
        if self._thread is not None:
            self._thread.join()
        if self.shown:
            tty = bool(getattr(self.stream, "isatty", lambda: False)())
            self._write(("\r" if tty else "") + f"livehost: audio engine compiled in {self.elapsed_s:.0f} s "
                        "(cached: later starts take about a second)" + ("   \n" if tty else "\n"))


def _load_audio_engine(quiet: bool = False, offline: bool = False, python_calls: bool = False) -> CompileNotice:
    """Load the compiled audio path now, with a progress line if it has to be compiled first.

    Always the live callback (``pa_callback``, which compiles ``process_block`` with it); ``offline``:
    also ``process_blocks`` (renders compile it on first use); ``python_calls``: also ``process_block``
    as the null driver calls it from Python (one block of silence on a throwaway engine; process_blocks for
    zero frames).
    """
    import numpy as np

    from livehost.engine import codegen

    fns = ("pa_callback", "process_block") + (("process_blocks",) if offline else ())
    with CompileNotice(codegen.compile_needed(fns), quiet=quiet) as notice:
        codegen.compiled()
        if offline or python_calls:
            from livehost.engine.engine import Engine

            eng = Engine(48000.0, 128, 2, 2, heap_slots=1 << 16)
            out = np.zeros((eng.max_block, eng.out_ch), np.float32)
            if python_calls:
                eng.process(None, out)
            if offline:
                eng.process_many(None, out, 0, 0, eng.max_block)
    return notice


# ---- commands ---------------------------------------------------------------------------------
def cmd_ui(args) -> int:
    """``livehost [ui PATCH]``: the patching UI with the engine running in this process."""
    from livehost.session import Session, recall
    from livehost.ui.app import LivehostApp

    path = args.patch or recall(DEFAULT_PATCH)
    notice = _load_audio_engine()
    session = Session(path, driver=args.driver, device=_out_device(args), in_device=_in_device(args),
                      jack_channels=args.channels, input_override=args.input,
                      blocksize=args.blocksize, samplerate=args.samplerate, midi_port=args.midi,
                      midi_virtual=args.midi_virtual, midi_api=args.midi_api, jack_client=args.client_name,
                      jack_connect=not args.no_connect, reconnect=args.reconnect, clock_in=args.clock_in,
                      clock_out=args.clock_out)
    if notice.shown:
        done = f"audio engine compiled in {notice.elapsed_s:.0f} s (once: cached for later starts)"
        session.notice = f"{done}; {session.notice}" if session.notice else done
    osc = None
    try:
        osc = _start_osc(args, session)
        if osc is not None:
            session.notice = f"{session.notice}; {osc.describe()}" if session.notice else osc.describe()
        LivehostApp(session).run()
    finally:
        if osc is not None:
            osc.close()
        session.close()
    return 0


def cmd_check(args) -> int:
    """``livehost check PATCH``: validate and summarise."""
    from livehost.patch import load

    p = load(args.patch)
    kinds = _kinds(p.chain)
    print(f"ok: {args.patch}: '{p.name}', {len(kinds)} nodes ({', '.join(kinds) or 'empty chain'}), "
          f"input {p.input['source']}, {p.samplerate} Hz, {p.blocksize} frames")
    return 0


def cmd_latency(args) -> int:
    """``livehost latency PATCH``: per-node latency table (samples, ms), graph total; offline (no device)."""
    from livehost.engine.patching import engine_for
    from livehost.patch import load

    p = load(args.patch)
    eng = engine_for(p, input_override="none")
    rows, total = eng.latency_table(), eng.latency_report()
    if args.json:
        print(json.dumps({"nodes": rows, **total}, indent=1))
        return 0
    print(f"{'node':28}{'type':14}{'samples':>9}{'ms':>9}")
    for r in rows:
        name = "  " * r["depth"] + r["id"] + (" (bypassed)" if r["bypass"] else "")
        note = ""
        if r.get("effect_delay_samples"):
            note = f"  (its {1000 * r['effect_delay_samples'] / eng.sr:.1f} ms delay is the effect: not compensated)"
        print(f"{name:28}{r['type']:14}{r['latency_samples']:>9}{r['latency_ms']:>9.2f}{note}")
        if "branch_compensation_samples" in r:
            print(f"{'':28}{'':14}branches delayed by {r['branch_compensation_samples']} samples to align")
    print(f"{'graph':42}{total['graph_latency_samples']:>9}{total['graph_latency_ms']:>9.2f}")
    print(f"at {eng.sr:g} Hz; a live run adds the device's input and output latency (livehost run prints the round trip)")
    return 0


def cmd_nodes(args) -> int:
    """``livehost nodes [TYPE]``: every node type (or one) with its parameters, from the declarations."""
    from livehost.nodes import load_all
    from livehost.nodes import reference as ref

    types = ref.pick(load_all(), args.type)
    if args.json:
        info = [ref.node_info(nt) for nt in types]
        print(json.dumps(info[0] if args.type else info, indent=1))
    elif args.markdown:
        sys.stdout.write(ref.markdown(types))
    else:
        sys.stdout.write(ref.text(types))
    return 0


def cmd_plugins(args) -> int:
    """``livehost plugins [--json] [--search TEXT]``: the installed LV2 plugins, read through liblilv."""
    from livehost.lv2 import world

    found = world.search(args.search)
    if args.json:
        print(json.dumps([{**p.to_json(), "presets": list(world.presets(p.uri))} for p in found], indent=1))
        return 0
    for p in found:
        ports = f"audio {len(p.audio_in)} in / {len(p.audio_out)} out"
        if p.midi_in or p.midi_out:
            ports += f", MIDI {len(p.midi_in)} in / {len(p.midi_out)} out"
        if p.latency_port is not None:
            ports += f", latency port {p.latency_port}"
        print(f"{p.uri}\n  {p.name} [{p.plugin_class}]; {ports}; "
              + ("runs in livehost" if p.runnable else f"cannot run: {p.why_not}"))
        for c in p.controls:
            lo = "?" if c.min is None else f"{c.min:g}"
            hi = "?" if c.max is None else f"{c.max:g}"
            d = "" if c.default is None else f" default {c.default:g}"
            kind = "out" if c.output else ("toggle" if c.toggled else "enum" if c.enumeration
                                           else "int" if c.integer else "in")
            print(f"    {c.symbol:<16} {kind:<6} {lo}..{hi}{d} {c.unit}".rstrip())
        for f in p.files:
            print(f"    {f.key:<16} file   (a path in the patch; F in the UI loads another)")
        names = list(world.presets(p.uri))
        if names:
            more = f", ... ({len(names)} in all)" if len(names) > 6 else ""
            print(f"  presets: {', '.join(names[:6])}{more}")
    print(f"{len(found)} plugins" + (f" matching '{args.search}'" if args.search else ""), file=sys.stderr)
    return 0


def _kinds(items) -> list[str]:
    from livehost.patch import NodeSpec

    out = []
    for it in items:
        if isinstance(it, NodeSpec):
            out.append(it.type)
        else:
            out.append("layer")
            for _, ch in it.branches:
                out += _kinds(ch)
    return out


def cmd_devices(args) -> int:
    """``livehost devices``: audio devices and MIDI input ports."""
    from livehost.engine.drivers.portaudio import list_devices

    try:
        audio = list_devices()
        audio_err = None
    except LivehostError as e:
        audio, audio_err = [], str(e)
    midi, midi_err = _midi_ports()
    if args.json:
        print(json.dumps({"audio": audio, "audio_error": audio_err, "midi_inputs": midi, "midi_error": midi_err}))
        return 0
    print("Audio devices:")
    if audio_err:
        print(f"  ({audio_err})")
    elif not audio:
        print("  none found (start JACK or use --driver null)")
    for d in audio:
        print(f"  [{d['index']}] {d['name']}  ({d['hostapi']}, in {d['inputs']}, out {d['outputs']}, "
              f"{d['samplerate']:g} Hz)")
    print("MIDI inputs:")
    if midi_err:
        print(f"  ({midi_err})")
    elif not midi:
        print("  none found")
    for api, name in midi:
        print(f"  {name}  ({api})")
    return 0


def _midi_ports() -> tuple[list, str | None]:
    try:
        import rtmidi
    except ImportError as e:
        return [], f"python-rtmidi unavailable: {e}"
    ports = []
    for api in rtmidi.get_compiled_api():
        if api not in (rtmidi.API_LINUX_ALSA, rtmidi.API_UNIX_JACK):
            continue
        label = rtmidi.get_api_display_name(api)
        try:
            mi = rtmidi.MidiIn(api)
            ports += [(label, n) for n in mi.get_ports()]
            mi.delete()
        except Exception:  # noqa: BLE001 — an API without its server (no ALSA seq, no JACK) lists nothing
            continue
    return ports, None


def _busy_thread(stop: threading.Event) -> threading.Thread:
    def busy():
        d: dict = {}
        while not stop.is_set():
            for i in range(1000):
                d[i] = [i] * 3

    t = threading.Thread(target=busy, name="livehost-gil-stress", daemon=True)
    t.start()
    return t


def cmd_run(args) -> int:
    """``livehost run PATCH``: play live until --duration or Ctrl-C."""
    from livehost.session import Session, choose_driver

    t_start = time.monotonic()
    _load_audio_engine(quiet=args.quiet)
    kind = choose_driver(args.driver)
    session = Session(args.patch, driver="none", input_override=args.input, blocksize=args.blocksize,
                      samplerate=args.samplerate, loop=True if args.loop else None, midi_port=args.midi,
                      midi_virtual=args.midi_virtual, midi_api=args.midi_api, midi_by_driver=kind == "jack",
                      clock_in=args.clock_in, clock_out=args.clock_out)
    osc = None
    try:
        osc = _start_osc(args, session)
        if osc is not None and not args.quiet:
            print(f"livehost: {osc.describe()}", file=sys.stderr, flush=True)
        return _run_session(args, session, t_start, kind)
    finally:
        if osc is not None:
            osc.close()
        session.close()


def _out_device(args):
    """The PortAudio output device the flags ask for: --output-device, else --device (None: default)."""
    return args.output_device if args.output_device is not None else args.device


def _in_device(args):
    """The PortAudio input device the flags ask for: --input-device, else --device (None: default)."""
    return args.input_device if args.input_device is not None else args.device


def _run_session(args, session, t_start: float, driver_name: str) -> int:
    from livehost.engine.drivers.null import NullDriver
    from livehost.engine.drivers.recorder import Recorder
    from livehost.paths import recording_path
    from livehost.session import jack_driver

    patch, eng = session.patch, session.engine
    for problem in session.workers.problems:
        print(f"livehost: {problem}; carrying on without it", file=sys.stderr)
    pa_driver = None
    if driver_name == "jack":
        try:
            pa_driver = jack_driver(session, client_name=args.client_name, connect=not args.no_connect,
                                    reconnect=args.reconnect, midi_port=args.midi, channels=args.channels)
        except LivehostError as e:
            if args.driver == "jack":
                raise
            print(f"livehost: {e}; trying PortAudio instead", file=sys.stderr)
            driver_name = "auto"
    if driver_name in ("auto", "portaudio"):
        from livehost.engine.drivers.portaudio import PortAudioDriver

        try:
            pa_driver = PortAudioDriver(eng, device=_out_device(args), in_device=_in_device(args),
                                        use_input=eng.input_mode == "mic",
                                        reconnect=args.reconnect)
        except LivehostError as e:
            if driver_name == "portaudio":
                raise
            print(f"livehost: {e}; using the null driver instead", file=sys.stderr)
    if args.clock_out and driver_name != "jack":
        print("livehost: no MIDI clock out: it needs the JACK driver", file=sys.stderr)
    output = args.output
    if pa_driver is None:
        driver = NullDriver(eng)
        if output is None:  # a new file per run, never over an earlier take
            try:
                output = str(recording_path(session.path))
            except OSError as e:
                raise LivehostError(f"cannot make the recordings folder: {e}") from None
            print(f"livehost: null driver: recording what you would hear to {output}", file=sys.stderr,
                  flush=True)
    else:
        driver = pa_driver
    rec = Recorder(eng, output, channels=eng.out_ch) if output else None
    stop_busy = threading.Event()
    if args.stress_gil:
        _busy_thread(stop_busy)
    if rec:
        rec.start()
    driver.start()
    session.driver = driver
    first_audio_s = _wait_first_block(eng, t_start)
    if not args.quiet:
        where = f", recording to {output}" if output else ""
        lat = eng.latency_report()
        print(f"livehost: '{patch.name}' on {eng.device_name or driver.name} at {eng.sr:g} Hz, "
              f"{eng.max_block} frames{where}; latency: graph {lat['graph_latency_ms']:.1f} ms "
              f"({lat['graph_latency_samples']} samples), round trip {lat['roundtrip_ms']:.1f} ms "
              f"({lat['roundtrip_samples']} samples); Ctrl-C stops", file=sys.stderr)
    status = 0
    try:
        end = None if args.duration is None else time.monotonic() + args.duration
        last = 0.0
        while end is None or time.monotonic() < end:
            msg = session.service()
            if msg:  # the audio server stopping is said even with --quiet
                print(f"\rlivehost: {msg}", file=sys.stderr, flush=True)
            if getattr(driver, "failed", False):
                status = 1  # the audio server went away and --reconnect is off
                break
            time.sleep(0.005)
            now = time.monotonic()
            if not args.quiet and sys.stderr.isatty() and now - last > 0.5:
                s = eng.stats()
                m = eng.meter()
                print(f"\r  out {max(m['peak_db']):6.1f} dBFS  load p50 {100 * s['dsp_load_p50']:4.1f}% "
                      f"max {100 * s['dsp_load_max']:5.1f}%  xruns {s['xruns']}  nan {s['nan_resets']}   ",
                      end="", file=sys.stderr)
                last = now
    except KeyboardInterrupt:
        pass
    finally:
        driver.stop()
        session.driver = None
        stop_busy.set()
        if rec:
            rec.stop()
            if rec.error:
                print(f"livehost: the recording stopped early: {rec.error}", file=sys.stderr)
    if not args.quiet and sys.stderr.isatty():
        print(file=sys.stderr)
    stats = eng.stats()
    stats["duration_s"] = stats["frames"] / eng.sr
    stats["startup_to_first_audio_s"] = first_audio_s
    stats["stress_gil"] = bool(args.stress_gil)
    stats.update(session.workers.stats())
    if isinstance(driver, NullDriver):
        stats["late_blocks"] = driver.late_blocks
    if hasattr(driver, "stats"):
        stats.update(driver.stats())
    if output:
        stats["output"] = output
    if args.stats_json:
        _write_json(args.stats_json, stats)
    if not args.quiet:
        print(f"livehost: {stats['callbacks']} callbacks, {stats['xruns']} xruns, DSP load p50 "
              f"{100 * stats['dsp_load_p50']:.1f}% p99 {100 * stats['dsp_load_p99']:.1f}% max "
              f"{100 * stats['dsp_load_max']:.1f}%, {stats['nan_resets']} NaN resets", file=sys.stderr)
    return status


def _wait_first_block(eng, t_start: float, timeout: float = 5.0) -> float | None:
    from livehost.engine import layout as L

    end = time.monotonic() + timeout
    while eng.a[L.H_CALLBACKS] == 0 and time.monotonic() < end:
        time.sleep(0.001)
    return time.monotonic() - t_start if eng.a[L.H_CALLBACKS] > 0 else None


def cmd_warm(args) -> int:
    """``livehost warm``: compile the audio path (live and offline) and the models' numba kernels into the
    caches, so the first ``livehost run`` on this machine sounds within seconds (``.ci/setup`` runs it)."""
    from livehost.engine.codegen import cache_dir
    from livehost.ml import warm as ml_warm

    t0 = time.monotonic()
    _load_audio_engine(quiet=args.quiet, offline=True, python_calls=True)
    problems = []
    try:
        import livehost.engine.drivers.portaudio  # noqa: F401  (its JACK xrun counter is a cached cfunc)
    except (LivehostError, OSError) as e:
        problems.append(f"PortAudio driver: {e}")
    for what, step in (("genre classifier", ml_warm.warm_classifier), ("generator", ml_warm.warm_generator)):
        try:
            step()
        except (LivehostError, ImportError, OSError) as e:
            problems.append(f"{what}: {e}")
    for p in problems:
        print(f"livehost: warm: {p} (skipped)", file=sys.stderr)
    if not args.quiet:
        print(f"livehost: audio engine and model kernels compiled and cached in {cache_dir()} "
              f"({time.monotonic() - t0:.0f} s)", file=sys.stderr)
    return 0


def cmd_render(args) -> int:
    """``livehost render PATCH --input IN --output OUT``: offline, as fast as possible."""
    from livehost import audiofile
    from livehost.engine.drivers.offline import render
    from livehost.engine.patching import engine_for
    from livehost.patch import load

    if args.midi:
        return _render_midi(args)
    patch = load(args.patch)
    if args.input is None and patch.input.get("source") != "file":
        raise LivehostError(f"{args.patch}: nothing to render: give --input FILE")
    t0 = time.monotonic()
    _load_audio_engine(offline=True)
    eng = engine_for(patch, args.samplerate, args.blocksize, in_ch=0, input_override=args.input, loop=False)
    src = eng.sources[0] if eng.sources else None
    frames = (src.payload.size // 2 if src is not None else 0) + int(round(args.tail * eng.sr))
    t1 = time.monotonic()
    y = render(eng, frames)
    t2 = time.monotonic()
    audiofile.write(args.output, y, eng.sr)
    stats = eng.stats()
    stats.update({"duration_s": frames / eng.sr, "render_s": t2 - t1, "setup_s": t1 - t0,
                  "realtime_factor": (frames / eng.sr) / max(t2 - t1, 1e-9), "output": args.output})
    if args.stats_json:
        _write_json(args.stats_json, stats)
    print(f"livehost: rendered {frames / eng.sr:.2f} s to {args.output} in {t2 - t1:.2f} s "
          f"({stats['realtime_factor']:.0f}x real time)", file=sys.stderr)
    return 0


def _render_midi(args) -> int:
    """``livehost render PATCH --midi FILE.mid --output OUT``."""
    from livehost.midi.render import render_midi

    if args.input:
        raise LivehostError("give --midi or --input, not both")
    t0 = time.monotonic()
    stats = render_midi(args.patch, args.midi, args.output)
    stats.update({"render_s": time.monotonic() - t0, "output": args.output})
    if args.stats_json:
        _write_json(args.stats_json, stats)
    print(f"livehost: rendered {stats['seconds']:.2f} s ({stats['events']} MIDI events) to {args.output}, "
          f"peak {stats['peak_db']:.1f} dBFS", file=sys.stderr)
    return 0


def _write_json(path: str, obj: dict) -> None:
    p = Path(path)
    tmp = p.with_name(f".{p.name}.tmp{os.getpid()}")
    tmp.write_text(json.dumps(obj, indent=2) + "\n")
    os.replace(tmp, p)


if __name__ == "__main__":
    sys.exit(main())
