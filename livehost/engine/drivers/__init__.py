"""Drivers run the same compiled ``process_block``: PortAudio (real device), null (clock thread), offline."""
