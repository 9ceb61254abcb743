"""``livehost tools bitdepth IN OUT --bits N``: quantise to N bits with the ``bitcrush`` node and compare
the measured signal-to-noise ratio with the theory.

Theory: an N-bit quantiser has a dynamic range of ``6.02 N`` dB (full scale over one step); a full-scale
sine quantised to N bits has an SNR of ``6.02 N + 1.76`` dB (quantisation noise of power ``q^2 / 12``
against a sine of power ``A^2 / 2`` with step ``q = 2 A / 2^N``).  Measured: ``10 log10(sum x^2 /
sum (y - x)^2)`` over all samples, ``x`` the input and ``y`` the quantised output; a signal below full
scale loses about as many dB of SNR as its peak lies below 0 dBFS.
"""

from __future__ import annotations

import argparse

import numpy as np

from livehost.errors import LivehostError
from livehost.tools.common import check_output, print_json, read_audio, write_audio
from livehost.tools.measure import peak_dbfs, snr_db


def theory_db(bits: float) -> dict:
    """``{"dynamic_range_db": 6.02 N, "sine_snr_db": 6.02 N + 1.76}`` for ``bits`` = N (dB)."""
    return {"dynamic_range_db": 6.02 * bits, "sine_snr_db": 6.02 * bits + 1.76}


def quantise(x: np.ndarray, sr: float, bits: float) -> np.ndarray:
    """``x`` (frames, 2) (or mono) quantised to ``bits`` (1..24) by the ``bitcrush`` node's kernel (no rate
    reduction); ``sr`` in Hz. Returns float64 (frames, 2)."""
    from livehost.dsp.run import run_kernel
    from livehost.nodes import load_all

    if not 1.0 <= bits <= 24.0:
        raise LivehostError(f"--bits {bits:g} is outside 1..24")
    nt = load_all()["bitcrush"]
    return run_kernel(nt, x, sr, block=1024, bits=float(bits), downsample=1.0)


def bitdepth_report(x: np.ndarray, y: np.ndarray, bits: float) -> dict:
    """Theory next to measurement: ``bits``, the theoretical figures (dB), ``measured_snr_db`` (dB) and
    the input's ``peak_dbfs``."""
    return {"bits": bits, **theory_db(bits), "measured_snr_db": snr_db(x, y), "peak_dbfs": peak_dbfs(x)}


def add_parser(sub) -> None:
    """Register ``bitdepth`` on the ``tools`` subparsers."""
    p = sub.add_parser("bitdepth", help="quantise to N bits; theoretical vs measured SNR",
                       formatter_class=argparse.RawDescriptionHelpFormatter, description=__doc__)
    p.add_argument("input", metavar="IN", help="input audio file")
    p.add_argument("output", metavar="OUT", help="output audio file")
    p.add_argument("--bits", type=float, required=True, metavar="N", help="bits per sample (1..24)")
    p.add_argument("--json", action="store_true", help="print the figures as JSON")
    p.set_defaults(func=cmd_bitdepth)


def cmd_bitdepth(args) -> int:
    """``tools bitdepth``: quantise, write, print theory and measurement."""
    check_output(args.output)
    x, sr = read_audio(args.input)
    y = quantise(x, sr, args.bits)
    write_audio(args.output, y, sr)
    r = bitdepth_report(x, y, args.bits)
    if args.json:
        print_json({"output": args.output, **r})
        return 0
    print(f"wrote {args.output}: {args.bits:g} bits")
    print(f"  theory: dynamic range {r['dynamic_range_db']:.2f} dB, full-scale sine SNR {r['sine_snr_db']:.2f} dB")
    print(f"  measured SNR {r['measured_snr_db']:.2f} dB (input peak {r['peak_dbfs']:.2f} dBFS)")
    return 0
