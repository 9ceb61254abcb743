"""livehost's own JACK MIDI client, for audio drivers that cannot read JACK ports (PortAudio, null).

One MIDI input port, read by a compiled process callback
(:func:`livehost.engine.devmidi.midi_client_process`): no Python on JACK's thread, so a busy Python
thread cannot make JACK late or lose messages (python-rtmidi's JACK backend calls a Python callback
there). The callback hands channel messages to the audio callback through the device ring with
JACK's frame stamps (they sound one JACK period later, at their exact offset) and copies every
message to the tap for the control side (:mod:`livehost.midi.tap`).
"""

from __future__ import annotations

import ctypes
import time

import numpy as np

from livehost.dsp.atomics import release
from livehost.engine import devmidi as D
from livehost.engine import layout as L
from livehost.engine.drivers import libjack as J
from livehost.errors import MidiError


class JackMidiPort:
    """A JACK client ``client_name`` with one MIDI input port ``port_name`` feeding ``engine``.

    Only one may feed an engine at a time (the device ring has one writer). Call :meth:`close`."""

    def __init__(self, engine, client_name: str = "livehost-midi", port_name: str = "in"):
        self.engine = engine
        self.lib = J.load()
        a = engine.a
        if a[L.H_DCLOCK_FN] != 0:
            raise MidiError("another JACK MIDI client already feeds this engine")
        c = J.open_client(client_name)
        if c is None:
            raise MidiError("no JACK server is running (JACK MIDI needs one)")
        self.client = c
        self.full_name = self.lib.jack_get_client_name(c).decode()
        self.port = self.lib.jack_port_register(c, port_name.encode(), J.MIDI_TYPE, J.PORT_IS_INPUT, 0)
        if not self.port:
            self.lib.jack_client_close(c)
            raise MidiError(f"JACK refused to register MIDI port {self.full_name}:{port_name}")
        self.port_name = f"{self.full_name}:{port_name}"
        self.event = np.zeros(3, np.int64)
        t = self.table = np.zeros(D.MT_SIZE, np.int64)
        t[D.MT_ARENA] = a.ctypes.data
        t[D.MT_GET_BUFFER] = J.address(self.lib, "jack_port_get_buffer")
        t[D.MT_COUNT] = J.address(self.lib, "jack_midi_get_event_count")
        t[D.MT_GET] = J.address(self.lib, "jack_midi_event_get")
        t[D.MT_EVENT] = self.event.ctypes.data
        t[D.MT_PORT] = self.port
        t[D.MT_FRAME_TIME] = J.address(self.lib, "jack_last_frame_time")
        t[D.MT_CLIENT] = c
        self.lib.jack_set_process_callback(c, D.midi_client_process.address, t.ctypes.data)
        self.lib.jack_on_info_shutdown(c, D.midi_client_shutdown.address, a.ctypes.data)
        # the clock the audio callback reads: everything it needs first, the function address last
        a[L.H_DCLOCK_CLIENT] = c
        a[L.H_DCLOCK_PERIOD] = self.lib.jack_get_buffer_size(c)
        a[L.H_DCLOCK_LAST] = -1.0
        a[L.H_DCLOCK_SUB] = 0.0
        if self.lib.jack_activate(c) != 0:
            self.lib.jack_client_close(c)
            raise MidiError("JACK refused to activate the MIDI client")
        release(a, L.H_DCLOCK_FN, float(t[D.MT_FRAME_TIME]))

    @property
    def server_gone(self) -> bool:
        """True once the JACK server shut this client down."""
        return self.client is not None and self.engine.a[L.H_DCLOCK_FN] == 0

    def sources(self) -> list[str]:
        """Full names of the MIDI output ports of other clients (candidates to connect from)."""
        if self.client is None or self.server_gone:
            return []
        own = self.full_name + ":"
        return [n for n in J.port_list(self.lib, self.client, J.MIDI_TYPE, J.PORT_IS_OUTPUT)
                if not n.startswith(own)]

    def connections(self) -> list[str]:
        """Full names of the ports connected to the input port."""
        if self.client is None or self.server_gone:
            return []
        return J.connections(self.lib, self.client, self.port)

    def connect_from(self, source: str) -> bool:
        """Connect MIDI output port ``source`` to the input port; True if connected (or already)."""
        if self.client is None:
            return False
        rc = self.lib.jack_connect(self.client, source.encode(), self.port_name.encode())
        return rc in (0, 17)  # 17 = EEXIST

    def close(self, wait_s: float = 0.5) -> None:
        """Withdraw the clock, wait until the audio callback ran a block without it (at most
        ``wait_s`` s, and only while the engine runs), then close the client."""
        if self.client is None:
            return
        a = self.engine.a
        release(a, L.H_DCLOCK_FN, 0.0)
        if getattr(self.engine, "running", False):
            seen = a[L.H_CALLBACKS]
            end = time.monotonic() + wait_s
            while a[L.H_CALLBACKS] < seen + 2 and time.monotonic() < end:
                time.sleep(0.002)
        try:
            self.lib.jack_deactivate(self.client)
            self.lib.jack_client_close(self.client)
        except (OSError, ctypes.ArgumentError):  # the server is gone already
            pass
        self.client = None
