"""Remote control over OSC (UDP): :mod:`livehost.osc.server` (the address space is in its docstring)."""
