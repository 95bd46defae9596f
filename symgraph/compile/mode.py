"""Modes: which backend runs a compiled function and which rewrites run
first."""
from dataclasses import dataclass, field, replace

from ..config import config


@dataclass(frozen=True)
class Mode:
    """``linker``: the backend's name. ``optimize``: run the rewrite phases.
    ``including``/``excluding``: phases or rules turned on/off by name."""

    linker: str = "python"
    optimize: bool = True
    including: tuple = field(default=())
    excluding: tuple = field(default=())

    def __post_init__(self):  # one name may be given as a string; unknown names fail when compiling
        for attr in ("including", "excluding"):
            names = getattr(self, attr)
            object.__setattr__(self, attr, (names,) if isinstance(names, str) else tuple(names))

    def including_(self, *names):
        return replace(self, including=self.including + names)

    def excluding_(self, *names):
        return replace(self, excluding=self.excluding + names)


PREDEFINED = {
    "python": Mode("python"),
    "python_unopt": Mode("python", optimize=False),
    "FAST_COMPILE": Mode("python", optimize=False),
    "numba": Mode("numba"),
    "FAST_RUN": Mode("numba"),
    "debug": Mode("debug"),
    "DebugMode": Mode("debug"),
    "cuda": Mode("cuda"),
}


def get_mode(mode):
    """A Mode from a name, a Mode, or None (``config.mode``)."""
    if mode is None:
        mode = config.mode
    if isinstance(mode, Mode):
        return mode
    if mode not in PREDEFINED:
        raise ValueError(f"unknown mode {mode!r}; choose one of {sorted(PREDEFINED)} or pass a Mode")
    return PREDEFINED[mode]
