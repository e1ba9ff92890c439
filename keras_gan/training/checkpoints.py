"""Crash-safe checkpoints of a training run: the `Checkpoint` callback that
writes them, and the reading side: listing the complete ones and restoring
the last good one, falling back past unreadable files."""

from __future__ import annotations

import json
import os
import re
import sys
import time
import warnings
from pathlib import Path

import keras

from keras_gan.errors import UserError
from keras_gan.training import run_folder

STATE_FILE = "state.json"
CHECKPOINT_FILE = "ckpt.weights.h5"  # the weights of state files that name none (older runs)
TMP_WEIGHTS = "ckpt-tmp.weights.h5"  # Keras insists on the .weights.h5 suffix
WEIGHTS_PATTERN = re.compile(r"ckpt-(\d+)\.weights\.h5")  # `weights_name`'s, step in it


class CheckpointError(UserError, RuntimeError):
    """A checkpoint cannot be read or written; the message names the file."""


class CorruptState(CheckpointError):
    """state.json does not parse; `path` and `reason` say which and why."""

    def __init__(self, path: Path, reason: str):
        super().__init__(f"checkpoint state {path} is corrupt ({reason}); "
                         "delete the checkpoints folder to start over")
        self.path, self.reason = path, reason


def weights_name(step: int) -> str:
    """The weights file of the checkpoint at `step`: each checkpoint gets its
    own name, so the file state.json names is never overwritten in place."""
    return f"ckpt-{step:09d}.weights.h5"


# The atomic writers live with the run folder's layout; the old names stay
# importable from here.
_fsync = run_folder.fsync
_write_atomic = run_folder.write_atomic
_atomic_write_text = run_folder.write_text_atomic


def save_model_atomic(model: keras.Model, path) -> None:
    """`model.save(path)` through a temporary name, so that a crash or a full
    disk never leaves a half-written .keras file under the real name."""
    path = Path(path)
    # Keras wants the .keras suffix on the temporary name too.
    _write_atomic(path, path.with_name(f"{path.stem}-tmp{path.suffix}"), model.save)


def _reason(e: OSError) -> str:
    """An OSError in one line: h5py puts the errno in a long multi-line text."""
    if e.strerror:
        return e.strerror
    text = str(e).splitlines()[0] if str(e) else type(e).__name__
    return text[:200]


class Checkpoint(keras.callbacks.Callback):
    """Writes the whole training state every `every_steps` steps and at each
    epoch's end: both networks, both optimizers (moments and iteration
    counts) and the model's RNG state, via `model.save_weights`.

    The step is `model.optimizer.iterations` (generator updates), so the
    state file needs no bookkeeping of its own. A checkpoint is committed in
    three moves, each of which a crash (kill -9, full disk) may interrupt:
    1. the weights go to a temporary file, flushed, then renamed to a name
       of their own (`weights_name(step)`): a file under such a name is
       always whole;
    2. state.json, naming that file and its step, is written the same way:
       its rename is the commit, so the step it says is the step the named
       weights hold;
    3. only then are older weights files removed: the last `keep`
       checkpoints stay (the one committed and the `keep` - 1 before it),
       so that `restore_checkpoint` can fall back past a newest one that
       turns out unreadable (a disk fault after the commit).
    A crash before 2 leaves the previous checkpoint in force, and stray
    files that this callback removes when training (re)starts:
    `restore_checkpoint` only reads, so that under multiworker only the
    chief, which alone has this callback, writes the folder. While a
    checkpoint is written the folder holds `keep` + 1 of them.
    """

    def __init__(self, directory, every_steps: int, keep: int = 2):
        super().__init__()
        if keep < 1:
            raise ValueError(f"keep must be >= 1, got {keep}")
        self.directory = Path(directory)
        self.every_steps = every_steps
        self.keep = keep
        self._saved = None  # the step last committed by this callback

    def _step(self) -> int:
        return int(keras.ops.convert_to_numpy(self.model.optimizer.iterations))

    def save(self) -> int:
        step = self._step()
        name = weights_name(step)
        tmp = self.directory / TMP_WEIGHTS
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
            self.model.save_weights(tmp, overwrite=True)
            _fsync(tmp)
            os.replace(tmp, self.directory / name)
            _atomic_write_text(self.directory / STATE_FILE, json.dumps(
                {"step": step, "weights": name, "time": time.time()}))
            if os.name == "posix":  # a folder opens for fsync there only
                _fsync(self.directory)  # the renames themselves
        except OSError as e:  # ENOSPC, EIO, a folder gone read-only
            tmp.unlink(missing_ok=True)
            try:
                kept = _read_state(self.directory)
            except CorruptState:
                kept = None
            if kept is None or kept[1].name != name:
                (self.directory / name).unlink(missing_ok=True)  # written, never committed
            last = (f"the last complete checkpoint (step {kept[0]}) is kept"
                    if kept else "no checkpoint was written before")
            raise CheckpointError(f"cannot write the checkpoint of step {step} to "
                                  f"{self.directory}: {_reason(e)}; {last}") from None
        self._saved = step
        _remove_stale(self.directory, _kept(self.directory, (step, self.directory / name),
                                            self.keep))
        return step

    def on_train_begin(self, logs=None):
        self._last = self._step()
        if self.directory.is_dir():  # what a crash mid-save left behind
            try:
                state = _read_state(self.directory)
            except CorruptState:  # resumed from the files (restore_checkpoint said so)
                keep = {path.name for _, path in checkpoint_files(self.directory)}
            else:
                keep = _kept(self.directory, state, self.keep) if state else set()
            _remove_stale(self.directory, keep)

    def on_train_batch_end(self, batch, logs=None):
        # With steps_per_execution > 1 this runs every Nth step: save when a
        # multiple of every_steps was passed since the last save. stop_training
        # is set by StopOnNonFinite: never overwrite the last good checkpoint
        # with diverged weights.
        step = self._step()
        if step // self.every_steps > self._last // self.every_steps \
                and not self.model.stop_training:
            self.save()
            self._last = step

    def on_epoch_end(self, epoch, logs=None):
        # An epoch that ends on a multiple of every_steps was just saved.
        if not self.model.stop_training and self._step() != self._saved:
            self.save()


def _read_state(directory) -> tuple[int, Path] | None:
    """(step, weights path) of the committed checkpoint in `directory`, or None."""
    state = Path(directory) / STATE_FILE
    if not state.exists():
        return None
    try:
        values = json.loads(state.read_text())
        return int(values["step"]), Path(directory) / values.get("weights", CHECKPOINT_FILE)
    except (ValueError, KeyError, TypeError, AttributeError) as e:
        raise CorruptState(state, str(e)) from None


def checkpoint_files(directory) -> list[tuple[int, Path]]:
    """(step, path) of the weights files under a name of their own
    (`weights_name`), newest first. Each is whole: it was written, flushed,
    then renamed; state.json says which of them are committed."""
    found = []
    for path in Path(directory).glob("ckpt-*.weights.h5"):
        match = WEIGHTS_PATTERN.fullmatch(path.name)
        if match:
            found.append((int(match.group(1)), path))
    return sorted(found, reverse=True)


def _kept(directory, state: tuple[int, Path], keep: int) -> set[str]:
    """The names of the checkpoints to keep: the committed one (`state`) and
    the `keep` - 1 newest before it. A file newer than the commit was never
    committed (a crash between the weights' rename and state.json's)."""
    step, path = state
    older = [p.name for s, p in checkpoint_files(directory) if s < step]
    return {path.name, *older[:keep - 1]}


def _remove_stale(directory: Path, keep) -> None:
    """Removes what a crash mid-save can leave (temporary files, weights no
    state.json commits) and checkpoints older than those to keep. Never
    touches the names in `keep`."""
    keep = {keep} if isinstance(keep, str) else set(keep)
    for f in list(directory.glob("ckpt*.weights.h5")) + list(directory.glob("*.tmp")):
        if f.name not in keep:
            f.unlink(missing_ok=True)


def read_checkpoint_step(directory) -> int | None:
    """The step of the last complete checkpoint in `directory`, or None."""
    for _ in range(2):  # a save may commit and remove the file between the reads
        state = _read_state(directory)
        if state is None or state[1].exists():
            return state and state[0]
    raise CheckpointError(f"{Path(directory) / STATE_FILE} names {state[1].name}, which "
                          "is missing; delete the checkpoints folder to start over")


def list_checkpoints(directory) -> list[tuple[int, Path]]:
    """(step, weights path) of the complete checkpoints in `directory`, newest
    first: the one state.json commits, then the older ones kept. Raises
    `CorruptState` if state.json does not parse."""
    state = _read_state(directory)
    if state is None:
        return []
    return [state, *[(s, p) for s, p in checkpoint_files(directory) if s < state[0]]]


def _first_line(e: BaseException) -> str:
    """h5py's and Keras's texts span lines; the first says what went wrong
    (with the next when it ends in a colon, as Keras's "... for object
    <Adam object at 0x...>:" does), without memory addresses."""
    lines = [line.strip() for line in str(e).splitlines() if line.strip()] or [""]
    text = f"{lines[0]} {lines[1]}" if lines[0].endswith(":") and len(lines) > 1 else lines[0]
    return re.sub(r" at 0x[0-9a-fA-F]+", "", text)[:300]


def _load(model: keras.Model, path: Path, step: int) -> str | None:
    """Loads checkpoint `path` of `step` into `model`: None if it loaded whole
    and holds that step, else why not, in one line."""
    if not path.exists():
        return "the file is missing"
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            model.load_weights(path)
        except Exception as e:  # h5py / Keras raise many types for a bad file
            return f"{type(e).__name__}: {_first_line(e)}"
    # Keras skips an optimizer whose variables do not match, with a warning
    # only: the run would go on with fresh moments.
    skipped = [str(w.message) for w in caught if str(w.message).startswith("Skipping variable")]
    if skipped:
        return f"Keras: {_first_line(Exception(skipped[0]))}"
    held = int(keras.ops.convert_to_numpy(model.optimizer.iterations))
    if held != step:
        return f"it holds step {held}, not {step}"
    return None


def _warn(message: str) -> None:
    print(f"warning: {message}", file=sys.stderr, flush=True)


def restore_checkpoint(model: keras.Model, directory) -> int:
    """Loads the last good checkpoint into a compiled model; returns its step
    (0 if there is none).

    Tries the committed checkpoint (the weights file state.json names, never
    a temporary or uncommitted one), then the older ones kept, newest first;
    each must load whole and hold the step it was saved at. Each one passed
    over is reported in one line on stderr, naming the one used; if none
    loads, `CheckpointError` says why. A state.json that does not parse is
    reported the same way, and the newest weights file that loads is used
    (`CorruptState` if none does). Reads only: `Checkpoint` tidies the folder.
    """
    directory = Path(directory)
    corrupt = None
    try:
        candidates = list_checkpoints(directory)
    except CorruptState as e:
        candidates, corrupt = checkpoint_files(directory), e
        if not candidates:
            raise
    failed = []
    for step, path in candidates:
        reason = _load(model, path, step)
        if reason is None:
            if corrupt is not None:
                _warn(f"checkpoint state {corrupt.path} is corrupt ({corrupt.reason}); "
                      f"resuming from the newest checkpoint that loads, {path.name} "
                      f"(step {step})")
            for bad_step, bad_path, why in failed:
                _warn(f"cannot load checkpoint {bad_path} (step {bad_step}): {why}; "
                      f"resuming from the previous good one, {path.name} (step {step})")
            return step
        failed.append((step, path, reason))
    if corrupt is not None:  # and no weights file loads either
        raise corrupt
    if not failed:
        return 0
    step, path, reason = failed[0]
    if len(failed) == 1:
        raise CheckpointError(
            f"cannot load checkpoint {path}: {reason.rstrip('.')}. It does not match this model "
            "(different config?) or is corrupt; move it away to start over.")
    older = "; ".join(f"{p.name}: {why}" for _, p, why in failed[1:])
    which = "the older one" if len(failed) == 2 else f"any of the {len(failed) - 1} older ones"
    raise CheckpointError(
        f"cannot load checkpoint {path}: {reason}, nor {which} kept ({older}). They do not "
        f"match this model (different config?) or are corrupt; move {directory} away to "
        "start over.")
