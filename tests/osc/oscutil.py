"""A real OSC peer for tests: a python-osc server on 127.0.0.1 that keeps every message it receives."""

from __future__ import annotations

import queue
import threading
import time

from pythonosc.dispatcher import Dispatcher
from pythonosc.osc_message import OscMessage
from pythonosc.osc_server import BlockingOSCUDPServer
from pythonosc.udp_client import SimpleUDPClient


class Listener:
    """A UDP port (``.port``) on 127.0.0.1 collecting ``(address, args)`` as python-osc decodes them."""

    def __init__(self):
        self.q: queue.Queue = queue.Queue()
        disp = Dispatcher(strict_timing=False)
        disp.set_default_handler(lambda address, *args: self.q.put((address, list(args))))
        self.server = BlockingOSCUDPServer(("127.0.0.1", 0), disp)
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05},
                                       daemon=True)
        self.thread.start()

    def wait_for(self, predicate, timeout: float = 3.0):
        """The first message ``predicate(address, args)`` accepts within ``timeout`` s, else None."""
        end = time.monotonic() + timeout
        while True:
            left = end - time.monotonic()
            if left <= 0:
                return None
            try:
                address, args = self.q.get(timeout=left)
            except queue.Empty:
                return None
            if predicate(address, args):
                return address, args

    def drain(self, seconds: float) -> list:
        """Every message that arrives within ``seconds``."""
        out = []
        end = time.monotonic() + seconds
        while (left := end - time.monotonic()) > 0:
            try:
                out.append(self.q.get(timeout=left))
            except queue.Empty:
                break
        return out

    def close(self) -> None:
        self.server.shutdown()
        self.thread.join()
        self.server.server_close()


def replies(client: SimpleUDPClient, timeout: float = 2.0, settle: float = 0.2) -> list:
    """``(address, params)`` of what the server answered to ``client``'s own socket: waits up to
    ``timeout`` s for the first answer, then takes what follows until ``settle`` s pass quietly."""
    out = []
    data = client.receive(timeout)
    while data:
        m = OscMessage(data)
        out.append((m.address, list(m.params)))
        data = client.receive(settle)
    return out
