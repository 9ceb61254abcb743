"""The PortAudio driver: the compiled ``cfunc`` callback handed straight to ``Pa_OpenStream``.

PortAudio calls a numba ``cfunc`` with the arena as ``userData``; no Python runs per block, so the GIL
(and whatever the UI, MIDI or ML threads do with it) cannot delay the audio. On JACK, a second
GIL-free client registered with libjack counts JACK's own xruns into the arena and flags the server's
shutdown.

A watchdog thread notices a stream that stopped (JACK's shutdown flag, PortAudio saying the stream is
no longer active, or no callback for ``stall_s``) within ``poll_s``: it says ``audio server stopped:
...`` and either stops (``failed``) or, with ``reconnect``, keeps the engine running on the null
driver and reopens the stream on the same device once PortAudio sees it again. A JACK server that
died cannot be reopened by PortAudio in the same process (its JACK host API asserts when terminated
without a server), so on JACK the session carries on with livehost's own JACK driver once the server
is back, and PortAudio is never terminated again.
"""

from __future__ import annotations

import threading
import time
from typing import Callable

from livehost.dsp.atomics import acquire
from livehost.engine import layout as L
from livehost.engine.drivers import libjack
from livehost.engine.drivers.jack import JackDriver
from livehost.engine.drivers.serverwatch import ServerWatch
from livehost.engine.engine import Engine
from livehost.errors import AudioError

PA_ERRORS = {
    -9985: "the audio device is busy (another program has it open); close it or pick another with --device",
    -9997: "the device does not support sample rate {sr:g} Hz; try --samplerate 48000 or 44100",
    -9998: "the device does not support {ch} channels",
    -9993: "input and output devices cannot be combined; pick one device with --device",
    -9996: "the device does not exist; list them with 'livehost devices'",
    -9986: "the audio device is not ready (is JACK running?)",
}


def load_portaudio():
    """Import sounddevice (which loads libportaudio); AudioError saying how to install it if missing."""
    try:
        import sounddevice as sd
    except OSError as e:
        raise AudioError(
            f"PortAudio library not found ({e}): install it with 'apt-get install libportaudio2', "
            "or run without a sound card with --driver null") from None
    return sd


def list_devices() -> list[dict]:
    """Audio devices PortAudio sees: index, name, host API, input/output channels, default rate (Hz)."""
    sd = load_portaudio()
    apis = sd.query_hostapis()
    out = []
    for i, d in enumerate(sd.query_devices()):
        out.append({"index": i, "name": d["name"], "hostapi": apis[d["hostapi"]]["name"],
                    "inputs": d["max_input_channels"], "outputs": d["max_output_channels"],
                    "samplerate": d["default_samplerate"]})
    return out


def find_device(spec: str | int | None, kind: str) -> int:
    """Device index for a name fragment, an index or None (the default); ``kind`` is input/output."""
    sd = load_portaudio()
    devs = list_devices()
    if not devs:
        raise AudioError(
            "no audio device found: start JACK (e.g. 'jackd -d dummy -r 48000 -p 128') or the sound "
            "server, or run without a sound card with --driver null")
    key = "outputs" if kind == "output" else "inputs"
    if spec is None or spec == "":
        idx = sd.default.device[1 if kind == "output" else 0]
        if idx is None or idx < 0:
            cands = [d for d in devs if d[key] > 0]
            if not cands:
                raise AudioError(f"no audio {kind} device found; run without a sound card with --driver null")
            idx = cands[0]["index"]
        return int(idx)
    if isinstance(spec, int) or str(spec).isdigit():
        idx = int(spec)
        if not 0 <= idx < len(devs):
            raise AudioError(f"no audio device {idx}; list them with 'livehost devices'")
        return idx
    hits = [d for d in devs if str(spec).lower() in d["name"].lower() and d[key] > 0]
    if not hits:
        raise AudioError(f"no audio {kind} device matches '{spec}'; list them with 'livehost devices'")
    return hits[0]["index"]


class JackXrunCounter:
    """A libjack client whose xrun callback (the GIL-free :func:`libjack.count_xrun`) counts into the
    engine's arena."""

    def __init__(self, engine: Engine):
        self.client = None
        try:
            self.jack = libjack.load()
        except AudioError:
            return
        client = libjack.open_client("livehost-xruns")
        if not client:
            return
        self.jack.jack_set_xrun_callback(client, libjack.count_xrun.address, engine.a.ctypes.data)
        self.jack.jack_on_info_shutdown(client, libjack.on_shutdown.address, engine.a.ctypes.data)
        self.jack.jack_activate(client)
        self.client = client

    def close(self, dead: bool = False) -> None:
        """Disconnect from JACK (``dead``: its server went away; closed on a helper thread so a dead
        server cannot hang the caller)."""
        if self.client:
            c, self.client = self.client, None
            if dead:
                t = threading.Thread(target=self.jack.jack_client_close, args=(c,), daemon=True)
                t.start()
                t.join(2.0)
            else:
                self.jack.jack_client_close(c)


class PortAudioDriver(ServerWatch):
    """Run ``engine`` on a PortAudio device (JACK, ALSA, ...) through the compiled callback.

    device / in_device: name fragment or index (None = default); use_input: open the input too;
    reconnect: survive the stream stopping (null driver meanwhile, reopened when the device is back);
    poll_s: watchdog period (s); stall_s: seconds without a callback that mean the stream stopped;
    retry_s: reopen attempts period (s); on_message(text): called on the watchdog thread for each
    message, which :meth:`messages` also returns.
    """

    name = "portaudio"

    def __init__(self, engine: Engine, device=None, in_device=None, use_input: bool = True,
                 reconnect: bool = False, poll_s: float = 0.05, stall_s: float = 1.0, retry_s: float = 1.0,
                 on_message: Callable[[str], None] | None = None):
        self._init_watch(engine, on_message)
        self.reconnect = reconnect
        self.poll_s = poll_s
        self.stall_s = stall_s
        self.retry_s = retry_s
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._jackd: JackDriver | None = None  # took over after the JACK server came back
        self._dead_jack = False  # PortAudio's JACK host API lost its server: never call into it again
        self.failed = False  # the stream stopped and reconnect is off: the audio has stopped
        self.sd = load_portaudio()
        self.out_dev = find_device(device, "output")
        self.in_dev = None
        devs = list_devices()
        if use_input:
            try:
                self.in_dev = find_device(in_device if in_device is not None else device, "input")
            except AudioError:
                self.in_dev = None
        out_ch = min(2, devs[self.out_dev]["outputs"])
        # the input opens the channels [input] channels names (at least 2, as far as the device has them)
        want = max([2] + list(getattr(engine, "input_channels", None) or []))
        in_ch = min(want, devs[self.in_dev]["inputs"]) if self.in_dev is not None else 0
        if out_ch < 1:
            raise AudioError(f"device '{devs[self.out_dev]['name']}' has no outputs")
        engine.set_channels(in_ch, out_ch)
        self.devices = devs
        self.out_name = devs[self.out_dev]["name"]
        self.in_name = devs[self.in_dev]["name"] if self.in_dev is not None else None
        self._stream = None
        self._jack = None

    def start(self) -> None:
        """Open and start the stream (raises AudioError with a clear reason) and the watchdog."""
        self._open()
        self._thread = threading.Thread(target=self._watch, name="livehost-portaudio-watchdog", daemon=True)
        self._thread.start()

    def _open(self) -> None:
        sd = self.sd
        self.engine.a[L.H_SERVER_DOWN] = 0.0
        ffi, lib = sd._ffi, sd._lib
        eng = self.engine
        audio = eng.audio
        out_info = self.devices[self.out_dev]
        op = ffi.new("PaStreamParameters *", dict(
            device=self.out_dev, channelCount=eng.out_ch, sampleFormat=lib.paFloat32,
            suggestedLatency=lib.Pa_GetDeviceInfo(self.out_dev).defaultLowOutputLatency,
            hostApiSpecificStreamInfo=ffi.NULL))
        ip = ffi.NULL
        if eng.in_ch > 0:
            ip = ffi.new("PaStreamParameters *", dict(
                device=self.in_dev, channelCount=eng.in_ch, sampleFormat=lib.paFloat32,
                suggestedLatency=lib.Pa_GetDeviceInfo(self.in_dev).defaultLowInputLatency,
                hostApiSpecificStreamInfo=ffi.NULL))
        stream_p = ffi.new("PaStream **")
        cb = ffi.cast("PaStreamCallback *", audio.pa_callback.address)
        user = ffi.cast("void *", eng.a.ctypes.data)
        err = lib.Pa_OpenStream(stream_p, ip, op, eng.sr, eng.max_block, 0, cb, user)
        if err != 0:
            raise AudioError(self._explain(err))
        self._stream = stream_p[0]
        self._keep = (op, ip, cb, user)  # keep cffi objects alive while the stream exists
        eng.running = True
        eng.driver_name = "portaudio"
        eng.device_name = f"{out_info['name']} ({out_info['hostapi']})"
        if out_info["hostapi"].upper().startswith("JACK"):
            self._jack = JackXrunCounter(eng)
        err = lib.Pa_StartStream(self._stream)
        if err != 0:
            lib.Pa_CloseStream(self._stream)
            self._stream = None
            eng.running = False
            raise AudioError(self._explain(err))
        eng.device_latency = self.latency()

    def _explain(self, err: int) -> str:
        lib, ffi = self.sd._lib, self.sd._ffi
        text = ffi.string(lib.Pa_GetErrorText(err)).decode(errors="replace")
        hint = PA_ERRORS.get(err, "")
        hint = hint.format(sr=self.engine.sr, ch=max(self.engine.in_ch, self.engine.out_ch))
        if err == -9999:  # unanticipated host error
            hint = (f"block size {self.engine.max_block} or rate {self.engine.sr:g} Hz may be unsupported "
                    "by this device")
        return f"cannot open the audio stream: {text}" + (f": {hint}" if hint else "")

    def latency(self) -> tuple[float, float]:
        """Input and output latency of the open stream, seconds."""
        if self._stream is None:
            return (0.0, 0.0)
        info = self.sd._lib.Pa_GetStreamInfo(self._stream)
        return (info.inputLatency, info.outputLatency)

    # ---- watchdog ----------------------------------------------------------------------------------
    def messages(self) -> list[str]:
        """Messages since the last call (the stream stopped, came back, ...), oldest first."""
        return (self._jackd.messages() if self._jackd is not None else []) + super().messages()

    @property
    def state(self) -> str | None:
        """What is wrong with the audio now, in words (None: the stream runs)."""
        if self.failed:
            return "audio stopped: the audio server went away"
        if self._jackd is not None:
            return self._jackd.state
        if self._null is not None:
            return "audio server gone: running on the null driver, reconnecting"
        return None

    def _watch(self) -> None:
        a = self.engine.a
        seen, since = a[L.H_CALLBACKS], time.monotonic()
        next_retry = 0.0
        while not self._stop.wait(self.poll_s):
            now = time.monotonic()
            if self._jackd is not None:
                return  # the JACK driver watches itself
            if self._stream is None:
                if self.reconnect and now >= next_retry:
                    next_retry = now + self.retry_s
                    self._try_reopen()
                    seen, since = a[L.H_CALLBACKS], time.monotonic()
                continue
            reason = None
            if acquire(a, L.H_SERVER_DOWN) != 0.0:
                reason = libjack.shutdown_reason(a) or "the JACK server went away"
            elif self.sd._lib.Pa_IsStreamActive(self._stream) != 1:
                reason = "the audio stream stopped"
            elif a[L.H_CALLBACKS] != seen:
                seen, since = a[L.H_CALLBACKS], now
            elif seen > 0 and now - since > self.stall_s:
                reason = f"no audio callback for {now - since:.1f} s"
            if reason is not None:
                self._lost(reason)
                if self.failed:
                    return
                next_retry = time.monotonic() + self.retry_s

    def _lost(self, reason: str) -> None:
        eng = self.engine
        self._noted_loss(reason, self.reconnect)
        stream, self._stream = self._stream, None
        lib = self.sd._lib
        self._wait_callbacks_stopped()  # it stops with its server
        if self.reconnect:
            self._stand_in()
        else:
            self.failed = True
            eng.running = False

        def close():
            lib.Pa_AbortStream(stream)
            lib.Pa_CloseStream(stream)

        closer = threading.Thread(target=close, daemon=True)  # a dead server must not hang the watchdog
        closer.start()
        closer.join(2.0)
        if self._jack is not None or self.devices[self.out_dev]["hostapi"].upper().startswith("JACK"):
            self._dead_jack = True
            self.sd._initialized = 0  # no Pa_Terminate at exit either: it asserts without a server
        if self._jack is not None:
            self._jack.close(dead=True)
            self._jack = None

    def _try_reopen(self) -> None:
        """Restart PortAudio (it lists devices only when initialised) and reopen the stream on the
        same device, if it is back."""
        if self._dead_jack:
            self._take_over_with_jack()
            return
        sd = self.sd
        done = threading.Event()

        def reinit():
            try:
                sd._terminate()
                sd._initialize()
            finally:
                done.set()

        threading.Thread(target=reinit, daemon=True).start()
        if not done.wait(3.0):
            return
        try:
            devs = list_devices()
            self.out_dev = find_device(self.out_name, "output")
            if self.in_name is not None:
                self.in_dev = find_device(self.in_name, "input")
            self.devices = devs
        except AudioError:
            return  # not back yet
        took = self._hand_back(self._open)
        if took is not None:
            self._say(f"audio server back: {self.engine.device_name} reopened {took:.1f} s after it stopped")

    def _take_over_with_jack(self) -> None:
        """The JACK server is back: carry on with livehost's own JACK driver (ports connected to the
        system ports, reconnecting by itself from now on)."""
        if not libjack.server_running():
            return
        eng = self.engine
        try:
            jd = JackDriver(eng, channels=max(eng.out_ch, 1), use_input=eng.in_ch > 0, reconnect=True)
        except AudioError as e:
            self._say(str(e))
            return
        took = self._hand_back(jd.start)
        if took is None:
            return
        self._jackd = jd
        self._say(f"audio server back: {eng.device_name} {took:.1f} s after it stopped (on livehost's JACK "
                  "driver: PortAudio cannot reopen a stream on a JACK server that died)")

    def stats(self) -> dict:
        """Stream losses, reopenings (and how long each took, s)."""
        return self.watch_stats()

    def stop(self) -> None:
        """Stop the watchdog, stop and close the stream (or the null driver standing in for it) and the
        JACK xrun client."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
            self._thread = None
        if self._jackd is not None:
            self._jackd.stop()
            self._jackd = None
        if self._stream is not None:
            self.sd._lib.Pa_StopStream(self._stream)
            self.sd._lib.Pa_CloseStream(self._stream)
            self._stream = None
        if self._jack is not None:
            self._jack.close()
            self._jack = None
        self._stand_down()
        self.engine.running = False
