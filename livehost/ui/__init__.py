"""The Textual patching UI (runs in the engine's process; the audio never waits for it)."""
