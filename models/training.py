"""What the CNN and SDA experiments share: the report's mini-batch loop,
checkpoints that make a run resumable, output folders, progress bars."""
from __future__ import annotations

import csv
import io
import json
import os
import tempfile
from pathlib import Path

import numpy as np
from tqdm.auto import tqdm

CHECKPOINT = "checkpoint.npz"


class UsageError(Exception):
    """Bad input from the user (the command line reports it and exits with 2)."""


def full_batches(n: int, batch_size: int) -> list[tuple[int, int]]:
    """The report's ``zip(range(0, n, bs), range(bs, n, bs))``: full batches
    only; the last partial batch is dropped (and, when ``bs`` divides ``n``,
    the last full one too, exactly as in the report's loop)."""
    return list(zip(range(0, n, batch_size), range(batch_size, n, batch_size)))


def check_sizes(n_train, n_test, batch_size, available_train, available_test, what):
    """Raise :class:`UsageError` unless the subsets exist and give one batch."""
    if batch_size < 1:
        raise UsageError(f"{what}: batch size must be >= 1, got {batch_size}")
    if not batch_size < n_train <= available_train:
        raise UsageError(f"{what}: training subset size must be in ({batch_size}, {available_train}] "
                         f"(more than one batch of {batch_size}, as the report's loop drops the last "
                         f"batch), got {n_train}")
    if not 1 <= n_test <= available_test:
        raise UsageError(f"{what}: test subset size must be in [1, {available_test}], got {n_test}")


def check_positive(**values):
    for name, v in values.items():
        if not isinstance(v, (int, np.integer)) or v < 1:
            raise UsageError(f"{name} must be a positive integer, got {v!r}")


def check_mode(mode):
    """Raise :class:`UsageError` unless symgraph knows compile mode ``mode``
    (None: symgraph's default); return the backend's name."""
    from symgraph.backend import get_linker
    from symgraph.compile.mode import get_mode
    try:
        linker = get_mode(mode).linker
        get_linker(linker)
    except ValueError as e:
        raise UsageError(f"mode {mode!r}: {e}") from None
    return linker


def prepare_outdir(path) -> Path:
    """Create folder ``path`` and check that files can be written there."""
    path = Path(path)
    try:
        path.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=path, prefix=".probe"):
            pass
    except OSError as e:
        raise UsageError(f"cannot write to the output folder {path}: {e.strerror or e}") from None
    return path


def remove_outputs(folder: Path, names) -> None:
    """Delete the named files (and ``figures/*.png``) left by an earlier run."""
    for name in names:
        (folder / name).unlink(missing_ok=True)
    for png in (folder / "figures").glob("*.png") if (folder / "figures").is_dir() else ():
        png.unlink()


def atomic_write(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` through a temporary file and a rename, so
    that ``path`` is never seen half-written."""
    path = Path(path)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def save_npz(path: Path, arrays: dict) -> None:
    buf = io.BytesIO()
    np.savez(buf, **arrays)
    atomic_write(path, buf.getvalue())


def write_json(path: Path, obj) -> None:
    atomic_write(path, (json.dumps(obj, indent=2) + "\n").encode())


def write_csv(path: Path, header, rows) -> None:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(header)
    w.writerows(rows)
    atomic_write(path, buf.getvalue().encode())


def save_checkpoint(folder: Path, variables: dict, meta: dict, arrays: dict | None = None) -> None:
    """Save the values of the shared ``variables`` (name -> variable), extra
    ``arrays`` and the JSON-able ``meta`` to ``folder/checkpoint.npz``."""
    out = {f"var/{k}": v.get_value(borrow=True) for k, v in variables.items()}
    out.update({f"arr/{k}": np.asarray(v) for k, v in (arrays or {}).items()})
    out["meta"] = np.array(json.dumps(meta))
    save_npz(folder / CHECKPOINT, out)


def load_checkpoint(folder: Path, variables: dict):
    """Restore ``variables`` from ``folder/checkpoint.npz``; return ``(meta,
    arrays)``, or None when there is no checkpoint. Raises :class:`UsageError`
    when it does not hold exactly these variables with these shapes."""
    path = folder / CHECKPOINT
    if not path.is_file():
        return None
    try:
        with np.load(path, allow_pickle=False) as z:
            stored = {k: z[k] for k in z.files}
        meta = json.loads(str(stored.pop("meta")))
    except Exception as e:  # zipfile, json or numpy errors: the file is damaged
        raise UsageError(f"cannot read checkpoint {path}: {e}; delete it to start over") from None
    values = {k[4:]: v for k, v in stored.items() if k.startswith("var/")}
    if set(values) != set(variables):
        raise UsageError(f"checkpoint {path} holds variables {sorted(values)}, this model has "
                         f"{sorted(variables)}; delete it to start over")
    for k, var in variables.items():
        old = var.get_value(borrow=True)
        if values[k].shape != old.shape or values[k].dtype != old.dtype:
            raise UsageError(f"checkpoint {path}: {k} is {values[k].dtype}{values[k].shape}, "
                             f"the model needs {old.dtype}{old.shape}; delete it to start over")
    for k, var in variables.items():
        var.set_value(values[k])
    arrays = {k[4:]: v for k, v in stored.items() if k.startswith("arr/")}
    return meta, arrays


def check_resumable(meta: dict, config: dict, may_change: tuple, folder: Path) -> None:
    """Raise :class:`UsageError` if the checkpoint was made with another
    configuration (keys in ``may_change`` may differ)."""
    old = meta["config"]
    diff = [k for k in set(old) | set(config) if k not in may_change and old.get(k) != config.get(k)]
    if diff:
        parts = ", ".join(f"{k}: saved {old.get(k)!r}, now {config.get(k)!r}" for k in sorted(diff))
        raise UsageError(f"cannot resume the run in {folder}: its settings differ ({parts}); "
                         f"use the same settings or start over without --resume")


def unique_variables(updates) -> dict:
    """Name -> shared variable for every variable that ``updates`` changes
    (parameters and optimizer state), in order; names must be unique."""
    out = {}
    for var, _ in updates:
        if var.name in out or var.name is None:
            raise ValueError(f"shared variables to checkpoint need unique names, got {var.name!r} twice")
        out[var.name] = var
    return out


def rng_state(rng: np.random.Generator) -> dict:
    return rng.bit_generator.state


def set_rng_state(rng: np.random.Generator, state: dict) -> None:
    rng.bit_generator.state = state


def resume_or_start(folder: Path, variables: dict, config: dict, rng: np.random.Generator, resume: bool,
                    outputs, epochs_key: str, history_key: str, what: str):
    """Start a run: with ``resume``, restore ``variables`` and ``rng`` from
    the checkpoint in ``folder`` and return its ``(meta, arrays)`` after
    checking it was made with ``config`` (only ``epochs_key`` may differ)
    and has no more than ``config[epochs_key]`` epochs of ``history_key``;
    else delete the earlier run's ``outputs`` and return None."""
    loaded = load_checkpoint(folder, variables) if resume else None
    if not loaded:
        remove_outputs(folder, outputs)
        return None
    meta, arrays = loaded
    check_resumable(meta, config, (epochs_key,), folder)
    done, limit = len(meta["history"][history_key]), config[epochs_key]
    if done > limit:
        raise UsageError(f"the checkpoint in {folder} has {done} {what}, more than the {limit} asked for")
    set_rng_state(rng, meta["rng"])
    return meta, arrays


def batch_bar(batches, desc: str, enabled: bool):
    """A tqdm bar over ``batches``; call ``.set_postfix(cost=...)`` on it."""
    return tqdm(batches, desc=desc, leave=False, disable=not enabled, dynamic_ncols=True, mininterval=0.5)


def note_mode(history: dict, backend: str) -> None:
    """Record in ``history["modes"]`` that an epoch ran on ``backend``."""
    modes = history.setdefault("modes", [])
    if not modes or modes[-1] != backend:
        modes.append(backend)


def modes_used(history: dict, backend: str) -> str:
    """The backends that ran the epochs, e.g. 'python' or 'python, numba'."""
    return ", ".join(history.get("modes") or [backend])


def log(enabled: bool, line: str) -> None:
    """Print ``line`` without breaking a progress bar."""
    if enabled:
        tqdm.write(line)


def predict_in_chunks(fn, x, chunk: int = 1000) -> np.ndarray:
    """``fn`` applied to ``x`` in slices of ``chunk`` rows, concatenated."""
    return np.concatenate([fn(x[i:i + chunk]) for i in range(0, len(x), chunk)])
