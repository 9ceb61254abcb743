"""The PortAudio driver: the compiled ``cfunc`` callback handed straight to ``Pa_OpenStream``.

PortAudio calls a numba ``cfunc`` with the arena as ``userData``; no Python runs per block, so the GIL
(and whatever the UI, MIDI or ML threads do with it) cannot delay the audio. On JACK, a second
GIL-free callback registered with libjack counts JACK's own xruns into the arena.
"""

from __future__ import annotations

from livehost.engine.drivers import libjack
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
        self.jack.jack_activate(client)
        self.client = client

    def close(self) -> None:
        """Disconnect from JACK."""
        if self.client:
            self.jack.jack_client_close(self.client)
            self.client = None


class PortAudioDriver:
    """Run ``engine`` on a PortAudio device (JACK, ALSA, ...) through the compiled callback.

    device / in_device: name fragment or index (None = default); use_input: open the input too.
    """

    name = "portaudio"

    def __init__(self, engine: Engine, device=None, in_device=None, use_input: bool = True):
        self.engine = engine
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
        in_ch = min(2, devs[self.in_dev]["inputs"]) if self.in_dev is not None else 0
        if out_ch < 1:
            raise AudioError(f"device '{devs[self.out_dev]['name']}' has no outputs")
        engine.set_channels(in_ch, out_ch)
        self.devices = devs
        self._stream = None
        self._jack = None

    def start(self) -> None:
        """Open and start the stream (raises AudioError with a clear reason)."""
        sd = self.sd
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

    def stop(self) -> None:
        """Stop and close the stream, and the JACK xrun client."""
        if self._stream is not None:
            self.sd._lib.Pa_StopStream(self._stream)
            self.sd._lib.Pa_CloseStream(self._stream)
            self._stream = None
        if self._jack is not None:
            self._jack.close()
            self._jack = None
        self.engine.running = False
