"""How the control side and the audio thread share the arena: ownership and ordering, in one place.

The audio thread (the compiled callback, :mod:`livehost.engine.process_src`) and every other thread
(UI, MIDI, OSC, workers, the CLI) share one float64 arena (:mod:`livehost.engine.arena`). No lock is
ever taken on the audio thread, so the rules below are all that keeps them apart.

Ownership (who may free what, and when)
---------------------------------------
1. Only the control side allocates and frees arena memory, under ``Engine.lock``.
2. **Memory reachable from the published program is never freed or reused until the audio thread has
   acknowledged a program that no longer reaches it.** An edit that drops items (a patch load, a
   removal) publishes the new program first and *retires* the dropped items with that program's
   generation; :meth:`Engine.reclaim` frees them once ``H_ACK`` (written by the callback after it ran
   a block of that generation) has reached it. Nothing is freed early if the acknowledgement never
   comes (a stalled stream): it stays retired.
3. A new graph is built in fresh memory while the old one plays on; a build that fails part-way is
   rolled back (:meth:`Arena.mark` / :meth:`Arena.rollback`) and the old graph keeps playing.
4. A worker that keeps a view into a node's memory (the generator's ring) holds it
   (:meth:`Engine.hold_payload`); held items are not freed even when retired, until the worker gives
   them back (:meth:`Engine.release_hold`, done by the worker's ``stop``). Occasional writers
   (an MTS retune) write through :meth:`Engine.write_payload` under the lock instead of keeping views.
5. The fixed regions (header, program regions, buffers, meters, rings) live for the engine's life.

Ordering (single writer per word, release/acquire)
--------------------------------------------------
Each shared word has exactly one writer. A writer fills the data first and then publishes the word
with a release store; a reader loads the word with an acquire load before it touches the data
(:mod:`livehost.dsp.atomics`: LLVM atomic loads/stores of the slot's 64 bits, so this holds on ARM64
as well as x86, and the compiler cannot reorder around them either).

=====================  =====================  ==============================================
word                   writer (release)       reader (acquire), then
=====================  =====================  ==============================================
``H_GEN``              control (``publish``)  callback: reads the program region ``H_GEN & 1``
                                              and its row count, written before ``H_GEN``
``H_ACK``              callback (block end)   control: frees memory retired at that generation
``H_MIDI_W``           control (``send_midi``) callback: reads the events below it
``H_MIDI_R``           callback               control: reuses ring slots below it
``H_TAP_W``            callback               tap readers (classifier, UI scope, generator prime)
``H_REC_W``            callback               recorder thread: copies frames below it
``H_REC_R``            recorder thread        callback: overwrites record frames below it
generator ``G_W``      generator worker       generator kernel: plays frames below it
generator ``G_R``      generator kernel       generator worker: overwrites frames below it
``H_SERVER_DOWN``      JACK shutdown callback JACK driver's watchdog: reads the reason
                                              (``H_SERVER_MSG`` region) and ``H_SERVER_CODE``
=====================  =====================  ==============================================

The device-event region ``H_DEV`` (this block's MIDI events from the JACK MIDI port, with their
frame offsets) is written by the JACK process callback just before ``process_block`` and read and
emptied by ``pop_midi`` inside it, on the same thread: it needs no ordering. ``H_JACK_XRUNS`` is
counted by JACK's xrun callback and only compared by the process callback (an independent word).

Program swaps are double-buffered: ``publish`` writes the region the callback is *not* running,
and before writing it waits until the previous generation has been acknowledged, so the callback can
never be running the region being written. Parameter targets, bypass flags, the panic counter,
payload entries and the input routing word ``H_IN_SEL`` (both sides' device channels packed in one
word, so a block never sees half a change) are independent single words (an aligned 8-byte store is
atomic on every target):
they need no ordering with anything else.
"""
