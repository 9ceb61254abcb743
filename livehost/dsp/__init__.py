"""DSP kernels: numba functions over (params, state, buffer), one small module per family."""
