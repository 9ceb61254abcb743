"""Where things live in the engine's float64 arena (header slots, program rows, op codes).

The whole engine state is one float64 array: a header, two program regions (double-buffered graph
programs swapped by generation counter), audio buffers, meters, rings, parameter blocks and node
state. Integers are stored as floats (exact below 2**53). The compiled callback reads these module
constants as compile-time constants.
"""

from livehost.dsp.midi_events import MAX_BLOCK_EVENTS, MIDI_HEAD, MIDI_W, PANIC_STATUS  # noqa: F401 (re-exported)

# ---- header slots -------------------------------------------------------------------------
H_SIZE = 128
H_LEN = 0  # arena length in slots (the cfunc views the arena through it)
H_SR = 1  # sample rate, Hz
H_MAXBLOCK = 2  # largest block, frames
H_ACTIVE = 3  # unused: the live program region is H_GEN's parity (see livehost.engine.protocol)
H_GEN = 4  # program generation published by the control side
H_ACK = 5  # generation the audio thread last picked up
H_PROG0 = 6  # offset of program region 0
H_PROG1 = 7  # offset of program region 1
H_NOPS0 = 8  # rows in program region 0
H_NOPS1 = 9  # rows in program region 1
H_BUF = 10  # offset of the audio buffers: NBUF x 2 x maxblock
H_NBUF = 11
H_MASTER_P = 12  # master parameter block offset
H_MASTER_S = 13  # master state offset
H_MASTER_NP = 14  # master parameter count
H_METER = 15  # meter region offset: MAX_SLOTS x METER_W
H_MAX_SLOTS = 16
H_FRAMES = 17  # frames processed since start
H_CALLBACKS = 18  # callbacks run
H_XRUNS = 19  # callbacks with PortAudio under/overflow status flags
H_NAN_RESETS = 20  # node resets by the NaN/Inf guard
H_NONFINITE_OUT = 21  # non-finite samples stopped at the output
H_LIM_MIN = 22  # smallest limiter gain since the control side last reset it (linear)
H_LOAD = 23  # DSP-load ring offset (callback time / block period)
H_LOAD_CAP = 24
H_LOAD_COUNT = 25  # loads written in total
H_LOAD_MAX = 26
H_TAP = 27  # analysis tap ring offset: TAP_CH x cap (input mono, output L, output R)
H_TAP_CAP = 28
H_TAP_W = 29  # frames written in total
H_REC = 30  # record ring offset: 4 x cap (output L, R; dry input L, R)
H_REC_CAP = 31
H_REC_W = 32  # frames written in total
H_REC_ON = 33  # 1 = record the output, 2 = the output and the dry input
H_REC_R = 34  # frames read by the writer thread (for overrun detection)
H_REC_DROPS = 35  # frames lost because the writer fell behind
H_LAST_FLAGS = 36
H_JACK_XRUNS = 37  # xruns reported by JACK itself (written by a GIL-free JACK callback)
H_PANIC = 38  # panic counter: the control side bumps it, the callback silences
H_MIDI = 39  # MIDI event ring offset (later issues)
H_MIDI_CAP = 40
H_MIDI_W = 41
H_MIDI_R = 42
H_IN_CH = 43  # device input channels of the running stream
H_OUT_CH = 44  # device output channels
H_LAST_NS = 45  # duration of the last callback, ns
H_SILENT_IN = 46  # 1 = ignore device input (file/none sources)
H_MASTER_SS = 47  # master state size
H_BEV = 48  # this block's MIDI events, popped from the ring: count, then MIDI_W per event
H_DEV = 49  # device MIDI events of this block (JACK driver): count, then MIDI_W per event (offset, ...)
H_DEV_DROPPED = 50  # device events that did not fit in a block's event list
H_SERVER_DOWN = 51  # set to 1 by the audio server's shutdown callback (JACK); the driver's watchdog polls it
H_SERVER_CODE = 52  # the server's status code at shutdown
H_SERVER_MSG = 53  # offset of the shutdown reason: SERVER_MSG_CAP slots, one byte each, 0-terminated
# device MIDI ring (livehost's own JACK MIDI client -> the PortAudio callback; see livehost.engine.devmidi)
H_DRING = 54  # offset: DRING_CAP x MIDI_W (JACK frame stamp, status, data1, data2)
H_DRING_W = 55  # events written (by the MIDI client's process callback)
H_DRING_R = 56  # events read (by the audio callback)
H_DRING_DROPPED = 57  # events the full ring refused
H_DRING_LATE = 58  # events that arrived after their slot had been played (placed at the block's start)
H_DCLOCK_FN = 59  # address of jack_last_frame_time (0: no MIDI client; written last, read first)
H_DCLOCK_CLIENT = 60  # the MIDI client's handle (the argument of H_DCLOCK_FN)
H_DCLOCK_PERIOD = 61  # the JACK period, frames: the fixed delay from a stamp to the engine frame
H_DCLOCK_LAST = 62  # the JACK cycle start the audio callback last saw
H_DCLOCK_SUB = 63  # frames the audio callback rendered since that cycle start
H_DCLOCK_SHIFT = 64  # engine frame - JACK frame of the latest block (the MIDI client stamps the tap with it)
# device MIDI tap (real-time MIDI readers -> the control side's router; see livehost.engine.devmidi)
H_MTAP = 65  # offset: MTAP_CAP x MIDI_W
H_MTAP_W = 66  # entries written
H_MTAP_R = 67  # entries read
H_MTAP_DROPPED = 68  # messages the full tap refused
# MIDI clock out (JACK driver's midi_out): written by the control side, read whole by the callback
H_CLOCK_OUT = 69  # frames per MIDI clock (sr x 60 / (24 x bpm)); 0 = no clock out
H_CLOCK_PHASE = 70  # frames from the start of the cycle at H_CLOCK_LAST to the next clock (the callback's)
H_CLOCK_SENT = 71  # clocks sent
H_CLOCK_LAST = 72  # JACK frame time of the last cycle the callback sent clock in (-1: none)
# input routing: which device input channels feed the graph's left and right (one word, so the
# callback never sees half a change): 0 = the default (channels 1, 2; a mono device feeds both),
# else left + IN_SEL_BASE * right, 1-based device channel numbers (written by the control side)
H_IN_SEL = 73
IN_SEL_BASE = 256
H_CLOCK_RUN = 74  # 1 while clock out runs to a connected port (the callback sent Start, 0xFA; Stop, 0xFC, ends it)


# ---- program rows -------------------------------------------------------------------------
ROW_W = 13
R_OP = 0
R_KIND = 1
R_BUF = 2  # buffer the op works on
R_BUF2 = 3  # second buffer (dry copy, source scratch, mix target)
R_BUF3 = 4  # third buffer (layer dry)
R_PBASE = 5  # parameter block offset
R_NP = 6  # parameter count (including wet, bypass)
R_SBASE = 7  # state offset
R_SSIZE = 8  # state size
R_SLOT = 9  # meter slot
R_RESET = 10  # NaN guard zeroes state from here
R_AUX = 11  # op-specific (branch parameter index)
R_COMP = 12  # latency compensation delay state offset (0 = none), see livehost.dsp.compdelay

OP_INPUT = 1  # buf <- device input
OP_ZERO = 2  # buf <- 0
OP_COPY = 3  # buf2 <- buf
OP_NODE = 4  # effect node in place on buf (buf2 = dry scratch)
OP_SOURCE = 5  # source node into buf2, added to buf with its level
OP_MIXADD = 6  # buf2 += buf * dB gain param AUX of block PBASE (ramped)
OP_DRYWET = 7  # buf <- buf3 + w * (buf2 - buf3), w from block PBASE (layer wet/bypass)
OP_METER = 8  # meter buf into slot
OP_LAYER = 9  # smooth a layer's parameter block (layer header)
OP_DELAY = 10  # buf delayed in place by the compensation delay at COMP (layer dry path, branch alignment)

MAX_OPS = 1024
NBUF = 24  # audio buffers (nesting depth of layers is bounded by this)
BUF_MAIN = 0  # the chain's buffer
BUF_DRY = NBUF - 1  # dry copy scratch for OP_NODE
BUF_TAP = NBUF - 2  # the summed sources, for the input tap
BUF_SRC = NBUF - 3  # source scratch for OP_SOURCE
BUF_FREE = NBUF - 3  # layers use buffers 1 .. BUF_FREE-1
METER_W = 4  # peak L, peak R, mean square L, mean square R
MAX_SLOTS = 512
SLOT_INPUT = 0
SLOT_MASTER = 1
TAP_CH = 3
LOAD_CAP = 1 << 17
TAP_CAP = 1 << 18
REC_CAP = 1 << 20
MIDI_CAP = 4096  # events in the control -> audio MIDI ring, MIDI_W slots each: frame stamp (absolute
# frame, or -1 = as soon as possible), status, data1, data2; a block's events go to each MIDI node's
# state head (MIDI_HEAD slots: count, then offset in block, status, d1, d2 per event)
MAX_DEV_EVENTS = MAX_BLOCK_EVENTS  # device events a block takes (more are counted in H_DEV_DROPPED)
DEV_HEAD = 1 + MAX_DEV_EVENTS * MIDI_W  # count, then (offset in block, status, d1, d2) per event
SERVER_MSG_CAP = 256
DRING_CAP = 1024  # device MIDI ring events
MTAP_CAP = 8192  # device MIDI tap entries: (engine frame, b0, b1, b2) for a message of up to 3 bytes
# (missing bytes -1); a longer one (sysex) is (engine frame, 0xF0, length, -2) then ceil(length / 3)
# entries (-1, three bytes) holding all its bytes

# ---- parameter blocks -----------------------------------------------------------------------
# A node with np parameters owns 4*np slots: target | current | previous | smoothing time (ms).
P_ROWS = 4
P_WET = 0
P_BYPASS = 1
P_OWN = 2  # first node-specific parameter

# ---- JACK driver table ----------------------------------------------------------------------
# The JACK process callback's argument: an int64 array of addresses and handles (filled by the
# driver at run time, so the compiled callback holds no address and stays cacheable).
JT_ARENA = 0  # address of the arena (float64)
JT_GET_BUFFER = 1  # jack_port_get_buffer
JT_MIDI_COUNT = 2  # jack_midi_get_event_count
JT_MIDI_GET = 3  # jack_midi_event_get
JT_MIDI_CLEAR = 4  # jack_midi_clear_buffer
JT_MIDI_WRITE = 5  # jack_midi_event_write
JT_EVENT = 6  # address of a jack_midi_event_t scratch (3 int64 words: time, size, data pointer)
JT_IN = 7  # address of the interleaved float32 input scratch (max_block x JT_NIN)
JT_OUT = 8  # address of the interleaved float32 output scratch (max_block x JT_NOUT)
JT_NIN = 9  # audio input ports
JT_NOUT = 10  # audio output ports
JT_MIDI_IN = 11  # MIDI input port handle (0: none)
JT_MIDI_OUT = 12  # MIDI output port handle (0: none)
JT_XRUNS_SEEN = 13  # H_JACK_XRUNS when the callback last looked (a change flags the next block)
JT_CLOCK_BYTE = 14  # address of the bytes 0xF8, 0xFA, 0xFC (MIDI clock, start, stop: what clock out writes)
JT_PORT_CONNECTED = 15  # jack_port_connected (clock out starts when its port gets a connection)
JT_MAX_PORTS = 8
JT_PORTS = 16  # JT_MAX_PORTS input port handles, then JT_MAX_PORTS output port handles
JT_FRAME_TIME = JT_PORTS + 2 * JT_MAX_PORTS  # jack_last_frame_time (clock out stays on JACK's frame grid)
JT_CLIENT = JT_FRAME_TIME + 1  # the client handle (its argument)
JT_SIZE = JT_CLIENT + 1
