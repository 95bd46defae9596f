"""Backends: each turns a FunctionGraph into a callable. They register
under a name that modes refer to, and implement ops by single dispatch on
the op class; the ops themselves know nothing of them."""

LINKERS = {}


def register_linker(name):
    """Class decorator: make a linker available to modes under ``name``."""
    def deco(cls):
        LINKERS[name] = cls
        return cls
    return deco


def get_linker(name):
    if name not in LINKERS:
        _load(name)
    if name not in LINKERS:
        raise ValueError(f"unknown backend {name!r}; known: {sorted(LINKERS)}")
    return LINKERS[name]


_MODULES = {"numba": "numba_cpu"}  # backend names whose module is named differently


def _load(name):
    import importlib
    module = _MODULES.get(name, name)
    try:
        importlib.import_module(f"{__name__}.{module}")
    except ModuleNotFoundError as exc:
        if exc.name != f"{__name__}.{module}":
            raise
