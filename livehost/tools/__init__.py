"""Offline tools: the article's constructions and manipulations as ``livehost tools ...`` commands.

Every tool reuses the engine's nodes (``livehost.nodes``: their kernels, or the engine itself through a
:class:`~livehost.patch.Patch`) and the tuning code (``livehost.tuning``); none re-implements an effect
or a tuning.  Modules, one per tool family:

- :mod:`~livehost.tools.info`: ``info`` (rate, subtype, channels, duration, peak/RMS dBFS)
- :mod:`~livehost.tools.split`: ``split`` (equal parts, ``name.part001.wav`` ...)
- :mod:`~livehost.tools.effects`: ``reverse``, ``stretch``, ``pitch``, ``delay``, ``chain``
- :mod:`~livehost.tools.chainspec`: the one-line chain language (``"reverse | delay ms=250"``)
- :mod:`~livehost.tools.synthesis`: ``tone``, ``scale``, ``chords``, ``system``
- :mod:`~livehost.tools.harmony`: Roman numerals and microtonal chords -> steps of a system
- :mod:`~livehost.tools.bitdepth`: ``bitdepth`` (quantise, theoretical vs measured SNR)
- :mod:`~livehost.tools.pictures`: ``spectrogram`` and ``waveform`` PNGs (matplotlib)
- :mod:`~livehost.tools.sonify`: ``sonify-image`` (a picture becomes a sound whose spectrogram shows it)
- :mod:`~livehost.tools.images`: reading PNG/JPEG (Pillow, else a small PNG reader of our own)
- :mod:`~livehost.tools.measure`: measurements shared by the tools and their tests (dBFS, SNR, Hz)
- :mod:`~livehost.tools.cli`: ``add_parser(subparsers)`` registering ``tools``
"""
