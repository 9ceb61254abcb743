"""Node types. Each module in this package declares node types with :func:`declare.register`
(but :mod:`~livehost.nodes.declare` itself and :mod:`~livehost.nodes.reference`, which prints them).

Importing this package imports every module in it, so the registry holds every built-in node.
"""

from __future__ import annotations

import importlib
import os
import pkgutil

from livehost.nodes.declare import NodeType, Param, all_params, register, registry, suggest

__all__ = ["NodeType", "Param", "all_params", "register", "registry", "suggest", "load_all"]


def load_all() -> dict[str, NodeType]:
    """Import every node module of this package and return the registry (name -> NodeType)."""
    only = os.environ.get("LIVEHOST_DEV_ONLY_NODES")  # development: compile a subset of node modules
    keep = None if not only else set(only.split(",")) | {"master", "file"}
    for mod in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
        if keep is not None and mod.name not in keep:
            continue
        if mod.name not in ("declare", "reference") and not mod.name.startswith("_"):
            importlib.import_module(f"{__name__}.{mod.name}")
    return registry()
