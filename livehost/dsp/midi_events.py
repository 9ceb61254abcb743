"""The MIDI events a block hands to a MIDI-consuming node, at the head of the node's state.

``st[MIDI_COUNT]`` = count, then per event ``(offset in block (frames), status, data1, data2)`` at
``st[MIDI_EV + MIDI_W*k : MIDI_EV + MIDI_W*(k+1)]``, in time order; the node's own state follows at
``MIDI_HEAD``.
The engine (:mod:`livehost.engine.layout`) fills it from its MIDI ring, whose entries have the same width.
"""

MIDI_COUNT = 0  #: events this block delivers, count
MIDI_EV = 1  #: the first event's slots start here
MIDI_W = 4  #: slots per event: time (frames), status, data1, data2
MAX_BLOCK_EVENTS = 256  #: events one block delivers to each MIDI-consuming node
MIDI_HEAD = MIDI_EV + MAX_BLOCK_EVENTS * MIDI_W  #: slots of the head: count, then MIDI_W per event
PANIC_STATUS = 0xFF  #: internal event status: all notes off and voices silenced now
