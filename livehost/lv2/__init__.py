"""LV2 plugins: discovery through liblilv (:mod:`~livehost.lv2.world`) and live instances whose ``run``
the compiled audio callback calls through a function pointer (:mod:`~livehost.lv2.host`)."""
